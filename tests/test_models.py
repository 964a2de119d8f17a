import keras
import numpy as np
import pytest

from utils.data import make_motif_task
from utils.models import build_bilstm_classifier, cudnn_problems, lstm_layers


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


@pytest.mark.parametrize("readout", ["last", "flatten", "average"])
def test_classifier_shapes_and_cudnn_eligibility(task, readout):
    model = build_bilstm_classifier(task, readout, units=4)
    probs = model.predict(task.test.X, verbose=0)
    assert probs.shape == (8, task.n_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert len(lstm_layers(model)) == 2
    assert all(cudnn_problems(lstm) == [] for lstm in lstm_layers(model))


@pytest.mark.parametrize("readout", ["last", "average"])
def test_masked_readouts_ignore_padding(task, readout):
    model = build_bilstm_classifier(task, readout, units=4)
    x = task.test.X[:1]
    length = int(task.test.lengths[0])
    short = np.zeros_like(x)
    short[:, :length] = x[:, :length]
    longer = np.concatenate([x, np.zeros((1, 5, task.n_features), np.float32)], axis=1)
    # same real steps, more padding: a masked model must give the same answer
    flexible = keras.models.clone_model(model, input_tensors=keras.Input((None, task.n_features)))
    flexible.set_weights(model.get_weights())  # the same weights on inputs of any length (JAX checks built shapes)
    np.testing.assert_allclose(flexible.predict(short, verbose=0), flexible.predict(longer, verbose=0), atol=1e-6)


def test_flatten_readout_depends_on_padding_positions(task):
    model = build_bilstm_classifier(task, "flatten", units=4)
    assert any(isinstance(layer, keras.layers.Flatten) for layer in model.layers)


def test_cudnn_problems_names_each_condition():
    assert cudnn_problems(keras.layers.LSTM(4, recurrent_dropout=0.2)) == ["recurrent_dropout must be 0 (it is 0.2)"]
    assert "activation must be 'tanh'" in cudnn_problems(keras.layers.LSTM(4, activation="relu"))
    assert "unroll must be False" in cudnn_problems(keras.layers.LSTM(4, unroll=True))
    assert "use_bias must be True" in cudnn_problems(keras.layers.LSTM(4, use_bias=False))


@pytest.mark.parametrize("kwargs, message", [({"readout": "max"}, "readout must be one of"),
                                             ({"units": 0}, "units must be a whole number"),
                                             ({"units": 8.5}, "units must be a whole number"),
                                             ({"dropout": 1.0}, "dropout must lie in")])
def test_builder_rejects_bad_arguments(task, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_bilstm_classifier(task, **kwargs)


def test_find_layer_names_the_model_and_the_missing_layer(task):
    from utils.models import find_layer

    model = build_bilstm_classifier(task, units=4)
    assert find_layer(model, "bilstm") is model.get_layer("bilstm")
    with pytest.raises(ValueError, match=f"model '{model.name}' has no layer named 'attention'"):
        find_layer(model, "attention")
