import keras
import numpy as np
import pytest
from keras import layers, ops

# keras-self-attention is imported inside these tests only: it needs TensorFlow, this module must import on JAX
from utils.builder import ClassifierSpec, build_classifier
from utils.data import make_motif_task
from utils.inspection import PADDING_TOLERANCE, padding_gap
from utils.keras_ops import masked_softmax
from utils.probe import attention_weights
from utils.self_attention import MaskedSeqSelfAttention, SeqSelfAttention, attention_on_padding

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


def self_attention_classifier(data, placement="after", residual=False, units=4, pool="average", **options):
    """``build_classifier`` with one self-attention layer; ``options`` go to the layer (``layer`` picks its class)."""
    return build_classifier(data, units=units, mixer="self_attention", placement=placement, residual=residual,
                            pool=pool, mixer_options=options)


def padded_batch(seed=0, lengths=(6, 4, 2)):
    x = np.random.default_rng(seed).standard_normal((len(lengths), 6, 5)).astype(np.float32)
    for i, length in enumerate(lengths):
        x[i, length:] = 0.0
    return x


def twin_weights(kwargs, masked_input=True, original_cls=SeqSelfAttention, fixed_cls=MaskedSeqSelfAttention):
    """Two layers with shared weights (by default the port and the fix); returns a function x -> (orig, fixed)."""
    inputs = keras.Input((None, 5))
    x = layers.Masking()(inputs) if masked_input else inputs
    original = original_cls(return_attention=True, name="original", **kwargs)(x)
    fixed = fixed_cls(return_attention=True, name="fixed", **kwargs)(x)
    model = keras.Model(inputs, [*original, *fixed])
    model.get_layer("fixed").set_weights(model.get_layer("original").get_weights())
    return lambda batch: [np.asarray(t) for t in model(batch)]


def window_sees_a_real_key(kwargs, length, time=6):
    """Per query: whether its local/causal window (``attention_width``, ``history_only``) holds a real key."""
    width = kwargs.get("attention_width")
    queries = np.arange(time)
    if width is None:
        lower, upper = np.zeros(time, int), np.full(time, time)
    elif kwargs.get("history_only"):
        lower, upper = queries - width + 1, queries + 1
    else:
        lower = queries - width // 2
        upper = lower + width
    return np.maximum(lower, 0) < np.minimum(upper, length)


@pytest.mark.parametrize("kwargs", VARIANTS)
def test_padded_keys_get_exactly_zero_weight(kwargs):
    x = padded_batch()
    _, original_a, _, fixed_a = twin_weights(kwargs)(x)
    for i, length in enumerate((6, 4, 2)):
        assert np.all(fixed_a[i, :, length:] == 0.0), "a padded key got non-zero weight"
        # each row sums to 1, except a padded query whose window holds only padding: it attends to nothing
        expected = window_sees_a_real_key(kwargs, length).astype(np.float32)
        assert np.all(expected[:length] == 1.0)
        np.testing.assert_allclose(fixed_a[i].sum(axis=-1), expected, atol=1e-6)
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
    model = self_attention_classifier(task, residual=True, attention_type="multiplicative")
    before = np.asarray(model(task.test.X))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects=MaskedSeqSelfAttention.get_custom_objects())
    assert isinstance(loaded.get_layer("self_attention"), MaskedSeqSelfAttention)
    np.testing.assert_allclose(np.asarray(loaded(task.test.X)), before, atol=1e-6)
    registered = keras.models.load_model(path)  # registered with keras.saving as well
    np.testing.assert_allclose(np.asarray(registered(task.test.X)), before, atol=1e-6)


@pytest.mark.parametrize("placement", ["after", "before"])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("pool", ["average", "weighted"])
def test_classifier_shapes_and_padding_invariance(task, placement, residual, pool):
    model = self_attention_classifier(task, placement, residual, pool=pool)
    assert ("residual" in {layer.name for layer in model.layers}) == residual
    probs = np.asarray(model(task.test.X))
    assert probs.shape == (len(task.test), task.n_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # extra padding must not change the answer of a correctly masked model
    assert padding_gap(model, task.test.X, task.test.lengths) < PADDING_TOLERANCE


def test_probe_returns_masked_weights(task):
    model = self_attention_classifier(task)
    weights = attention_weights(model, task.test.X)
    assert weights.shape == (len(task.test), 1, task.max_len, task.max_len)
    for w, length in zip(weights, task.test.lengths):
        assert np.all(w[:, :, length:] == 0.0)


# the spec's other checks (pool, units, the layer class ...) are in test_builder.py
@pytest.mark.parametrize("fields, message", [
    ({"placement": "middle"}, "placement must be one of"),
    ({"mixer_options": {"return_attention": True}}, "return_attention is for inspection"),
])
def test_spec_rejects_bad_self_attention_settings(fields, message):
    with pytest.raises(ValueError, match=message):
        ClassifierSpec(mixer="self_attention", **fields)


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


# --- the port against keras-self-attention 0.51.0 (TensorFlow only) ---

def _package_layer():
    from keras_self_attention import SeqSelfAttention as PackageSeqSelfAttention

    return PackageSeqSelfAttention


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("masked_input", [True, False])
def test_port_matches_package_output_for_output(kwargs, masked_input):
    """The package's weights in the port give the package's outputs and weights, padding (and its bug) included."""
    x = padded_batch()
    package_v, package_a, port_v, port_a = twin_weights(kwargs, masked_input, _package_layer(), SeqSelfAttention)(x)
    np.testing.assert_allclose(port_v, package_v, atol=1e-6)
    np.testing.assert_allclose(port_a, package_a, atol=1e-6)
    if masked_input and not kwargs.get("history_only"):
        assert port_a[1, :4, 4:].sum() > 0.01  # the comparison covers the attention on padding


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("masked_input", [True, False])
def test_port_regulariser_matches_package(kwargs, masked_input):
    inputs = keras.Input((None, 5))
    x = layers.Masking()(inputs) if masked_input else inputs
    cls_and_names = ((_package_layer(), "package"), (SeqSelfAttention, "port"))
    outputs = [cls(attention_regularizer_weight=1e-2, name=name, **kwargs)(x) for cls, name in cls_and_names]
    model = keras.Model(inputs, outputs)
    model.get_layer("port").set_weights(model.get_layer("package").get_weights())
    model(padded_batch(seed=4))
    package_loss, port_loss = (float(sum(model.get_layer(name).losses)) for _, name in cls_and_names)
    assert package_loss > 0
    np.testing.assert_allclose(port_loss, package_loss, rtol=1e-6)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("kwargs", [{}, {"attention_type": "multiplicative"},
                                    {"use_additive_bias": False, "use_attention_bias": False},
                                    {"history_only": True, "units": 7, "kernel_regularizer": "l2"}])
def test_port_has_the_packages_weights_and_config(kwargs):
    package, port = _package_layer()(name="attn", **kwargs), SeqSelfAttention(name="attn", **kwargs)
    package.build((None, 6, 5))
    port.build((None, 6, 5))
    assert [(w.name, w.shape) for w in port.weights] == [(w.name, w.shape) for w in package.weights]
    assert all(w.name.startswith("attn_") for w in port.weights)
    assert port.get_config() == package.get_config()


@pytest.mark.tensorflow_only
def test_port_initialises_like_the_package():
    """Same initialisers (glorot_normal kernels, zero biases): same seed, same weights."""
    weights = []
    for cls in (_package_layer(), SeqSelfAttention):
        keras.utils.set_random_seed(7)
        layer = cls(name="attn")
        layer.build((None, 6, 5))
        weights.append(layer.get_weights())
    for package_w, port_w in zip(*weights):
        np.testing.assert_array_equal(port_w, package_w)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("masked_input", [True, False])
def test_fix_matches_package_without_padding(kwargs, masked_input):
    x = padded_batch(seed=1, lengths=(6, 6, 6))
    package_v, package_a, fixed_v, fixed_a = twin_weights(kwargs, masked_input, _package_layer())(x)
    np.testing.assert_allclose(fixed_v, package_v, atol=1e-6)
    np.testing.assert_allclose(fixed_a, package_a, atol=1e-6)


@pytest.mark.tensorflow_only
def test_a_model_saved_with_the_package_loads_into_the_port(task, tmp_path):
    model = self_attention_classifier(task, layer=_package_layer(), attention_type="multiplicative")
    path = tmp_path / "package.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects=MaskedSeqSelfAttention.get_custom_objects())
    assert type(loaded.get_layer("self_attention")) is SeqSelfAttention
    np.testing.assert_allclose(np.asarray(loaded(task.test.X)), np.asarray(model(task.test.X)), atol=1e-6)


# --- the course's layers on any backend ---

@pytest.mark.parametrize("cls, kwargs", [(SeqSelfAttention, {}), (MaskedSeqSelfAttention, {}),
                                         (SeqSelfAttention, {"attention_type": "multiplicative",
                                                             "history_only": True}),
                                         (MaskedSeqSelfAttention, {"attention_width": 3,
                                                                   "attention_activation": "sigmoid",
                                                                   "attention_regularizer_weight": 1e-3})])
def test_course_layer_round_trip_gives_identical_predictions(task, tmp_path, cls, kwargs):
    inputs = keras.Input((None, task.n_features))
    x = cls(name="attention", **kwargs)(layers.Masking()(inputs))
    outputs = layers.Dense(task.n_classes, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    path = tmp_path / "layer.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # registered: no custom_objects
    assert type(loaded.get_layer("attention")) is cls
    assert loaded.get_layer("attention").get_config() == model.get_layer("attention").get_config()
    np.testing.assert_array_equal(np.asarray(loaded(task.test.X)), np.asarray(model(task.test.X)))


def test_port_reproduces_the_masking_bug_and_the_fix_removes_it():
    """Real queries of the port attend to padded keys; the fix gives them exactly 0 (no package needed)."""
    x = padded_batch()
    _, port_a, _, fixed_a = twin_weights({})(x)
    assert port_a[1, :4, 4:].min() > 0 and port_a[2, :2, 2:].min() > 0
    assert np.all(fixed_a[1, :, 4:] == 0.0) and np.all(fixed_a[2, :, 2:] == 0.0)
    # only (padded query, padded key) pairs are penalised in the port: a padded query ignores padded keys
    assert port_a[1, 4:, 4:].max() < 1e-6


@pytest.mark.parametrize("cls", [SeqSelfAttention, MaskedSeqSelfAttention])
def test_outputs_and_masks(cls):
    inputs = keras.Input((None, 5))
    masked = layers.Masking()(inputs)
    values, weights = cls(return_attention=True)(masked)
    assert values.shape == (None, None, 5) and weights.shape == (None, None, None)
    assert getattr(values, "_keras_mask", None) is not None and getattr(weights, "_keras_mask", None) is None
    assert cls().compute_output_shape((2, 6, 5)) == (2, 6, 5)
    assert cls(return_attention=True).compute_output_shape((2, 6, 5)) == [(2, 6, 5), (2, 6, 6)]


def test_history_only_means_an_unbounded_causal_window():
    layer = SeqSelfAttention(history_only=True, return_attention=True)
    assert layer.attention_width == int(1e9)
    _, a = layer(padded_batch(lengths=(6, 6, 6)))
    a = keras.ops.convert_to_numpy(a)
    rows, cols = np.tril_indices(6)
    assert np.all(np.triu(a, k=1) == 0.0) and np.all(a[:, rows, cols] > 0)


def test_builder_accepts_any_seq_self_attention_class(task):
    class Custom(SeqSelfAttention):
        pass

    for cls in (SeqSelfAttention, MaskedSeqSelfAttention, Custom):
        model = self_attention_classifier(task, layer=cls)
        assert type(model.get_layer("self_attention")) is cls


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="the package's layer runs on TensorFlow")
def test_builder_rejects_the_packages_layer_off_tensorflow(task):
    stand_in = type("SeqSelfAttention", (layers.Layer,), {"__module__": "keras_self_attention.seq_self_attention"})
    with pytest.raises(ValueError, match="runs on the TensorFlow backend only"):
        self_attention_classifier(task, layer=stand_in)


@pytest.mark.parametrize("kwargs, message", [({"attention_type": "dot"}, "attention_type"),
                                             ({"return_attention": True}, "rank-3")])
def test_port_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SeqSelfAttention(**kwargs)(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="feature size"):
        SeqSelfAttention().build((None, 5, None))


# ------------------------------------------------- the one masked softmax against the layers' old arithmetic
# Before the one masked softmax (commit b4579d3), each layer penalised padded and out-of-window scores by -10000.

def _padded_batch(seed=0, features=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 9, features)).astype("float32")
    lengths = np.array([9, 5, 2])
    mask = np.arange(9)[None, :] < lengths[:, None]
    x[~mask] = 0.0
    return x, mask


def legacy_window_penalty(layer, e):
    """The old ``SeqSelfAttention._scores`` tail: -10000 on scores outside the local/causal window (the layer's own
    ``_window``, which the window tests pin)."""
    window = layer._window(e)
    return e if window is None else e - 10000.0 * (1.0 - ops.cast(window, e.dtype))


def legacy_port_weights(layer, e, mask):
    """The old port (the package's arithmetic): penalise (padded, padded) pairs, then a plain softmax."""
    e = legacy_window_penalty(layer, e)
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, e.dtype), axis=-1)
        e = e - 10000.0 * ((1.0 - mask) * (1.0 - ops.transpose(mask, (0, 2, 1))))
    e = ops.exp(e - ops.max(e, axis=-1, keepdims=True))
    return e / ops.sum(e, axis=-1, keepdims=True)


def legacy_masked_weights(layer, e, mask):
    """The old MaskedSeqSelfAttention: the window's -10000 penalty, then the masked softmax over keys."""
    return masked_softmax(legacy_window_penalty(layer, e), None if mask is None else ops.expand_dims(mask, axis=1))


def legacy_seq_weighted_weights(x, W, b, mask):
    """The old SeqWeightedAttention port: -10000 on padded steps and ``sum + epsilon`` in the denominator."""
    logits = ops.squeeze(ops.matmul(x, W), -1) + b
    if mask is not None:
        logits = logits - 10000.0 * (1.0 - ops.cast(mask, logits.dtype))
    ai = ops.exp(logits - ops.max(logits, axis=-1, keepdims=True))
    return ai / (ops.sum(ai, axis=1, keepdims=True) + keras.backend.epsilon())


@pytest.mark.parametrize("options", [{}, {"attention_type": "multiplicative"}, {"attention_width": 3},
                                     {"history_only": True}, {"history_only": True, "attention_width": 2},
                                     {"attention_activation": "sigmoid"}])
def test_one_masked_softmax_gives_the_old_weights(options):
    """The layers now share utils.keras_ops.masked_softmax; the old -10000 arithmetic gave the same weights.

    The port agrees on every row. The fix agrees on every row without a local/causal window; with one, on every
    real query: a padded query whose window holds only padding now gets an all-zero row, where the -10000
    arithmetic spread it over keys outside its window. No real output reads those rows.
    """
    from utils.self_attention import MaskedSeqSelfAttention

    x, mask = _padded_batch()
    for cls, legacy in ((SeqSelfAttention, legacy_port_weights),
                        (MaskedSeqSelfAttention, legacy_masked_weights)):
        layer = cls(units=4, return_attention=True, **options)
        _, weights = layer(x, mask=mask)
        before = legacy(layer, layer._scores(x), mask)
        if cls is SeqSelfAttention:
            np.testing.assert_array_equal(np.asarray(weights), np.asarray(before))  # bit for bit
        else:
            rows = mask if layer.attention_width is not None else np.ones_like(mask)
            np.testing.assert_allclose(np.asarray(weights)[rows], np.asarray(before)[rows], rtol=0, atol=1e-7)


def test_seq_weighted_attention_agrees_with_its_old_arithmetic():
    from utils.pooling import SeqWeightedAttention

    x, mask = _padded_batch(1)
    layer = SeqWeightedAttention(return_attention=True)
    _, weights = layer(x, mask=mask)
    before = legacy_seq_weighted_weights(x, layer.W, layer.b, mask)
    # the old denominator added 1e-7 to a sum >= 1: at most one float32 rounding step apart
    np.testing.assert_allclose(np.asarray(weights), np.asarray(before), rtol=2.5e-7, atol=0)
    assert np.all(np.asarray(weights)[~mask] == 0.0)
