import keras
import numpy as np
import pytest

from utils.builder import build_classifier
from utils.data import make_motif_task
from utils.inspection import PADDING_TOLERANCE, cudnn_problems, lstm_layers, padding_gap


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


@pytest.mark.parametrize("readout", ["last", "flatten", "average"])
def test_classifier_shapes_and_cudnn_eligibility(task, readout):
    model = build_classifier(task, pool=readout, units=4)
    probs = np.asarray(model(task.test.X))
    assert probs.shape == (8, task.n_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert len(lstm_layers(model)) == 2
    assert all(cudnn_problems(lstm) == [] for lstm in lstm_layers(model))


@pytest.mark.parametrize("readout", ["last", "average"])
def test_masked_readouts_ignore_padding(task, readout):
    # same real steps, more padding: a masked model must give the same answer
    model = build_classifier(task, pool=readout, units=4)
    assert padding_gap(model, task.test.X, task.test.lengths) < PADDING_TOLERANCE


def test_flatten_readout_depends_on_padding_positions(task):
    model = build_classifier(task, pool="flatten", units=4)
    assert any(isinstance(layer, keras.layers.Flatten) for layer in model.layers)
    assert model.get_layer("classifier").kernel.shape[0] == task.max_len * 2 * 4  # one weight per position


def test_cudnn_problems_names_each_condition():
    assert cudnn_problems(keras.layers.LSTM(4, recurrent_dropout=0.2)) == ["recurrent_dropout must be 0 (it is 0.2)"]
    assert "activation must be 'tanh'" in cudnn_problems(keras.layers.LSTM(4, activation="relu"))
    assert "unroll must be False" in cudnn_problems(keras.layers.LSTM(4, unroll=True))
    assert "use_bias must be True" in cudnn_problems(keras.layers.LSTM(4, use_bias=False))


def test_find_layer_names_the_model_and_the_missing_layer(task):
    from utils.inspection import find_layer

    model = build_classifier(task, units=4)
    assert find_layer(model, "bilstm") is model.get_layer("bilstm")
    with pytest.raises(ValueError, match=f"model '{model.name}' has no layer named 'attention'"):
        find_layer(model, "attention")


def test_per_architecture_builds_once_per_architecture_and_stays_bounded():
    import keras

    from utils.keras_ops import per_architecture

    def dense(units):
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])

    made, cache = [], {}
    make = lambda m: made.append(m) or len(made)          # noqa: E731
    first, again = dense(4), dense(4)                     # Keras names them apart
    assert per_architecture(cache, first, make) == per_architecture(cache, again, make) == 1
    assert per_architecture(cache, dense(8), make) == 2
    for units in range(9, 14):
        per_architecture(cache, dense(units), make, limit=3)
    assert len(cache) == 3 and len(made) == 7
