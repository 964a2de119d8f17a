import keras
import numpy as np
import pytest
from keras import layers
from keras_self_attention import SeqSelfAttention

from utils.data import make_motif_task
from utils.self_attention import (MaskedSeqSelfAttention, attention_model, attention_on_padding,
                                  build_self_attention_classifier)

VARIANTS = [
    {},
    {"attention_type": "multiplicative"},
    {"attention_activation": "sigmoid"},
    {"attention_width": 3},
    {"history_only": True},
    {"use_additive_bias": False, "use_attention_bias": False},
    {"use_additive_bias": False},
    {"use_attention_bias": False, "attention_activation": "tanh"},
    {"units": 7},
    {"history_only": True, "attention_width": 3},
    {"attention_type": "multiplicative", "attention_width": 4, "attention_activation": "sigmoid"},
]


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=4, max_len=10, motif_len=3, seed=0)


def padded_batch(seed=0, lengths=(6, 4, 2)):
    x = np.random.default_rng(seed).standard_normal((len(lengths), 6, 5)).astype(np.float32)
    for i, length in enumerate(lengths):
        x[i, length:] = 0.0
    return x


def twin_weights(kwargs, masked_input=True):
    """The original and the fixed layer with shared weights; returns a function x -> (orig, fixed)."""
    inputs = keras.Input((None, 5))
    x = layers.Masking()(inputs) if masked_input else inputs
    original = SeqSelfAttention(return_attention=True, name="original", **kwargs)(x)
    fixed = MaskedSeqSelfAttention(return_attention=True, name="fixed", **kwargs)(x)
    model = keras.Model(inputs, [*original, *fixed])
    model.get_layer("fixed").set_weights(model.get_layer("original").get_weights())
    return lambda batch: model.predict(batch, verbose=0)


@pytest.mark.parametrize("kwargs", VARIANTS)
def test_padded_keys_get_exactly_zero_weight(kwargs):
    x = padded_batch()
    _, original_a, _, fixed_a = twin_weights(kwargs)(x)
    for i, length in enumerate((6, 4, 2)):
        assert np.all(fixed_a[i, :, length:] == 0.0), "a padded key got non-zero weight"
        np.testing.assert_allclose(fixed_a[i].sum(axis=-1), 1.0, atol=1e-6)
    if not kwargs.get("history_only"):  # causal attention never looks ahead, so it cannot see right padding
        assert original_a[1, :4, 4:].sum() > 0.01, "the original layer was expected to attend to padding"


@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("masked_input", [True, False])
def test_matches_original_without_padding(kwargs, masked_input):
    x = padded_batch(seed=1, lengths=(6, 6, 6))
    original_v, original_a, fixed_v, fixed_a = twin_weights(kwargs, masked_input)(x)
    np.testing.assert_allclose(fixed_v, original_v, atol=1e-6)
    np.testing.assert_allclose(fixed_a, original_a, atol=1e-6)


def test_same_constructor_and_weights():
    original = SeqSelfAttention(units=7, attention_type="additive")
    fixed = MaskedSeqSelfAttention(units=7, attention_type="additive")
    original.build((None, 6, 5))
    fixed.build((None, 6, 5))
    assert [w.shape for w in fixed.weights] == [w.shape for w in original.weights]
    config = fixed.get_config()
    config.pop("name")
    assert {k for k in config} == {k for k in original.get_config() if k != "name"}


def test_regularizer_matches_original_without_padding():
    x = padded_batch(seed=2, lengths=(6, 6, 6))
    losses = []
    for cls in (SeqSelfAttention, MaskedSeqSelfAttention):
        layer = cls(attention_regularizer_weight=1e-3, kernel_initializer="ones")
        layer(x)
        losses.append(float(sum(layer.losses)))
    assert losses[0] > 0
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)


def test_regularizer_through_a_mask_matches_original_without_padding():
    x = padded_batch(seed=3, lengths=(6, 6, 6))
    inputs = keras.Input((None, 5))
    masked = layers.Masking()(inputs)
    losses = []
    for cls in (SeqSelfAttention, MaskedSeqSelfAttention):
        layer = cls(attention_regularizer_weight=1e-3, kernel_initializer="ones")
        model = keras.Model(inputs, layer(masked))
        model(x)
        losses.append(float(sum(model.losses)))
    assert losses[0] > 0
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)


def test_serialisation_round_trip(task, tmp_path):
    model = build_self_attention_classifier(task, "after", residual=True, units=4, attention_type="multiplicative")
    before = model.predict(task.test.X, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects=MaskedSeqSelfAttention.get_custom_objects())
    assert isinstance(loaded.get_layer("self_attention"), MaskedSeqSelfAttention)
    np.testing.assert_allclose(loaded.predict(task.test.X, verbose=0), before, atol=1e-6)
    registered = keras.models.load_model(path)  # registered with keras.saving as well
    np.testing.assert_allclose(registered.predict(task.test.X, verbose=0), before, atol=1e-6)


@pytest.mark.parametrize("placement", ["after", "before"])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("pooling", ["average", "weighted"])
def test_classifier_shapes_and_padding_invariance(task, placement, residual, pooling):
    model = build_self_attention_classifier(task, placement, residual, units=4, pooling=pooling)
    probs = model.predict(task.test.X, verbose=0)
    assert probs.shape == (len(task.test), task.n_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # extra padding must not change the answer of a correctly masked model
    flexible = model  # the builder accepts any padded length
    x = task.test.X[:2]
    longer = np.concatenate([x, np.zeros((2, 7, task.n_features), np.float32)], axis=1)
    np.testing.assert_allclose(flexible.predict(longer, verbose=0), flexible.predict(x, verbose=0), atol=1e-5)


def test_attention_model_returns_masked_weights(task):
    model = build_self_attention_classifier(task, "after", units=4)
    weights = attention_model(model).predict(task.test.X, verbose=0)
    assert weights.shape == (len(task.test), task.max_len, task.max_len)
    for w, length in zip(weights, task.test.lengths):
        assert np.all(w[:, length:] == 0.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"placement": "middle"}, "placement"),
    ({"pooling": "max"}, "pooling"),
    ({"units": 0}, "units"),
    ({"attention_cls": layers.Attention}, "attention_cls"),
    ({"return_attention": True}, "return_attention"),
])
def test_builder_rejects_bad_arguments(task, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_self_attention_classifier(task, **kwargs)


def test_attention_model_rejects_bad_layer(task):
    model = build_self_attention_classifier(task, "after", units=4)
    with pytest.raises(ValueError, match="no layer named"):
        attention_model(model, "missing")
    with pytest.raises(ValueError, match="not a SeqSelfAttention"):
        attention_model(model, "bilstm")


def test_layer_rejects_wrong_rank():
    with pytest.raises(ValueError, match="rank-3"):
        MaskedSeqSelfAttention()(np.zeros((2, 5), np.float32))


def test_attention_on_padding():
    w = np.full((2, 4, 4), 0.25)
    np.testing.assert_allclose(attention_on_padding(w, np.array([4, 3])), [0.0, 0.25])


@pytest.mark.parametrize("weights, lengths, message", [
    (np.ones((2, 4)), np.array([4, 4]), "batch, T, T"),
    (np.ones((2, 4, 3)), np.array([4, 4]), "batch, T, T"),
    (np.full((2, 4, 4), np.nan), np.array([4, 4]), "NaN"),
    (np.ones((2, 4, 4)), np.array([4]), "lengths must be"),
    (np.ones((2, 4, 4)), np.array([4.0, 2.0]), "lengths must be"),
    (np.ones((2, 4, 4)), np.array([0, 4]), "all-padding"),
    (np.ones((2, 4, 4)), np.array([5, 4]), "1..4"),
])
def test_attention_on_padding_rejects_bad_input(weights, lengths, message):
    with pytest.raises(ValueError, match=message):
        attention_on_padding(weights, lengths)
