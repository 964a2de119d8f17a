"""Tests for utils.blocks: masking, residual wiring, LayerNorm placement and bad input."""
import keras
import numpy as np
import pytest
from keras import layers

from utils.blocks import MaskKeepingMultiHeadAttention, attention_sublayer, encoder_block, residual_sublayer
from utils.builder import ClassifierSpec, build_classifier
from utils.data import make_motif_task
from utils.inspection import PADDING_TOLERANCE, padding_gap
from utils.probe import attention_weights


@pytest.fixture(scope="module")
def task():
    return make_motif_task(n_train=16, n_test=8, min_len=6, max_len=12, motif_len=3, seed=0)


def _layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


def encoder_classifier(data, stem="dense", units=8, depth=1, residual=None, **options):
    """``build_classifier`` with encoder blocks; ``options`` are the blocks' (attention, heads, norm ...)."""
    return build_classifier(data, stem=stem, units=units, mixer="encoder", depth=depth, residual=residual,
                            mixer_options=options)


def test_mha_gives_padded_keys_exactly_zero_weight(task):
    model = encoder_classifier(task, heads=2)
    weights = attention_weights(model, task.test.X)
    assert weights.shape == (8, 2, 12, 12)
    for w, length in zip(weights, task.test.lengths):
        assert np.all(w[:, :length, length:] == 0.0)
        np.testing.assert_allclose(w[:, :length, :length].sum(-1), 1.0, atol=1e-5)


def test_seq_self_attention_block_gives_padded_keys_exactly_zero_weight(task):
    model = encoder_classifier(task, attention="seq_self")
    weights = attention_weights(model, task.test.X)
    assert weights.shape == (8, 1, 12, 12)
    for w, length in zip(weights, task.test.lengths):
        assert np.all(w[:, :length, length:] == 0.0)


@pytest.mark.parametrize("stem, attention, norm", [("bilstm", "mha", "post"), ("dense", "mha", "post"),
                                                   ("dense", "seq_self", "post"), ("dense", "mha", "pre")])
def test_extra_padding_does_not_change_predictions(task, stem, attention, norm):
    model = encoder_classifier(task, stem=stem, depth=2, attention=attention, norm=norm)
    assert padding_gap(model, task.test.X, task.test.lengths) < PADDING_TOLERANCE


def test_residual_sublayer_is_identity_plus_f():
    inputs = keras.Input((5, 3))
    double = layers.Lambda(lambda t: 2.0 * t)
    model = keras.Model(inputs, residual_sublayer(inputs, double, residual=True, norm="none"))
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), 3.0 * x, rtol=1e-6)
    plain = keras.Model(inputs, residual_sublayer(inputs, layers.Lambda(lambda t: 2.0 * t), residual=False,
                                                  norm="none"))
    np.testing.assert_allclose(np.asarray(plain(x)), 2.0 * x, rtol=1e-6)


def test_residual_add_keeps_the_mask_but_plus_operator_drops_it():
    x = layers.Masking()(keras.Input((5, 2)))
    f = layers.Dense(2)(x)
    assert getattr(layers.Add()([x, f]), "_keras_mask", None) is not None
    assert getattr(x + f, "_keras_mask", None) is None


@pytest.mark.parametrize("norm, order", [("post", ["Dense", "Add", "LayerNormalization"]),
                                         ("pre", ["LayerNormalization", "Dense", "Add"]),
                                         ("none", ["Dense", "Add"])])
def test_layer_norm_placement(norm, order):
    inputs = keras.Input((5, 4))
    out = residual_sublayer(inputs, layers.Dense(4), residual=True, norm=norm)
    assert _layer_types(keras.Model(inputs, out))[1:] == order


def test_encoder_block_has_two_residuals_and_two_norms():
    inputs = keras.Input((6, 8))
    model = keras.Model(inputs, encoder_block(inputs, heads=2))
    kinds = _layer_types(model)
    assert kinds.count("Add") == 2 and kinds.count("LayerNormalization") == 2
    assert sum(isinstance(layer, layers.MultiHeadAttention) for layer in model.layers) == 1
    assert kinds.count("Dense") == 2


def test_without_residual_there_is_no_add(task):
    model = encoder_classifier(task, depth=3, residual=False, norm="none")
    assert "Add" not in _layer_types(model)
    assert model.count_params() == encoder_classifier(task, depth=3).count_params() \
        - 3 * 2 * 2 * 8  # post-LN adds gamma and beta (2 x 8) twice per block


# the other bad encoder settings (norm, heads, units, dropout, stem ...) are tested with the spec in test_builder.py
@pytest.mark.parametrize("options, message", [
    ({"attention": "additive"}, r"mixer_options\['attention'\] must be one of"),
    ({"ff_units": -1}, r"mixer_options\['ff_units'\] must be a whole number >= 0"),
    ({"dropout": 1.0}, r"mixer_options\['dropout'\] must be a number in \[0, 1\)"),
])
def test_spec_rejects_bad_encoder_options(options, message):
    with pytest.raises(ValueError, match=message):
        ClassifierSpec(mixer="encoder", mixer_options=options)


def test_spec_rejects_a_negative_depth():
    with pytest.raises(ValueError, match="depth must be a whole number >= 0"):
        ClassifierSpec(mixer="encoder", depth=-1)


def test_heads_must_divide_the_width(task):
    with pytest.raises(ValueError, match="width 6 is not divisible by 4 heads"):
        encoder_classifier(task, units=6, heads=4)


def test_residual_needs_equal_widths():
    inputs = keras.Input((5, 4))
    with pytest.raises(ValueError, match="equal widths"):
        residual_sublayer(inputs, layers.Dense(3))


def test_attention_sublayer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="heads >= 1"):
        attention_sublayer(heads=0)
    with pytest.raises(ValueError, match="attention must be one of"):
        attention_sublayer("luong")


def test_mask_keeping_attention_matches_keras_and_keeps_the_input_mask():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 8)).astype("float32")
    x[0, 4:] = 0.0
    plain, keeping = layers.MultiHeadAttention(2, 4), MaskKeepingMultiHeadAttention(2, 4)
    masked = layers.Masking()(x)
    plain.build((3, 7, 8), (3, 7, 8))
    keeping.build((3, 7, 8), (3, 7, 8))
    keeping.set_weights(plain.get_weights())
    got = keeping(masked, masked)
    assert getattr(masked, "_keras_mask", None) is not None  # still there after the call
    want = plain(masked, masked)  # the same mask, used by the plain layer (which then deletes it)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.abs(np.asarray(got)[0, :4] - np.asarray(keeping(x, x))[0, :4]).max() > 1e-4  # the mask mattered


def test_encoder_classifier_survives_a_keras_round_trip(task, tmp_path):
    model = build_classifier(task, stem="bilstm", units=4, mixer="encoder", mixer_options={"dropout": 0.1},
                             head_dropout=0.1, input_noise=0.1)
    path = tmp_path / "encoder.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(task.test.X)), np.asarray(model(task.test.X)), atol=1e-6)

