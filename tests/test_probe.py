"""utils.probe.attention_weights: one probe for every attention layer the course builds.

For each layer kind: the documented shape, rows that sum to 1 over the real keys, exactly 0 on padded keys
(for the masked layers), and the same numbers the layer itself used. Then layer choice, bad input, and that
probing leaves the model alone.
"""
import keras
import numpy as np
import pytest
from keras import layers

# keras-self-attention is imported inside these tests only: it needs TensorFlow, this module must import on JAX
from utils.builder import build_classifier
from utils.data import make_motif_task
from utils.probe import attention_layers, attention_weights

#: name -> (build_classifier fields, the attention layer's name, heads; None for a pooling layer)
KINDS = {
    "AttentionPooling": (dict(units=4, pool="attention"), "attention_pooling", None),
    "SeqWeightedAttention": (dict(units=4, pool="weighted"), "seq_weighted_attention", None),
    "MaskedSeqSelfAttention": (dict(units=4, mixer="self_attention"), "self_attention", 1),
    "keras Attention": (dict(units=4, mixer="attention"), "self_attention", 1),
    "encoder mha": (dict(stem="dense", units=8, mixer="encoder", mixer_options={"heads": 2}), "block1_attention", 2),
    "encoder seq_self": (dict(stem="dense", units=8, mixer="encoder", mixer_options={"attention": "seq_self"}),
                         "block1_attention", 1),
}


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


def check_pooling_weights(weights, data):
    """(N, T), exactly 0 on padding, rows summing to 1 over the real steps."""
    assert weights.shape == data.X.shape[:2]
    assert np.all(weights[~data.mask] == 0.0), "a padded step got non-zero weight"
    assert np.all(weights[data.mask] >= 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)


def check_self_attention_weights(weights, data, heads, masked=True):
    """(N, heads, T, T); each real query's row sums to 1; with ``masked``, padded keys get exactly 0."""
    T = data.X.shape[1]
    assert weights.shape == (len(data), heads, T, T)
    assert np.all(weights >= 0.0)
    for w, length in zip(weights, data.lengths):
        np.testing.assert_allclose(w[:, :length].sum(axis=-1), 1.0, atol=1e-5)
        if masked:
            assert np.all(w[:, :, length:] == 0.0), "a padded key got non-zero weight"


@pytest.mark.parametrize("kind", KINDS)
def test_every_layer_kind_gives_its_documented_weights(task, kind):
    fields, name, heads = KINDS[kind]
    model = build_classifier(task, **fields)
    assert attention_layers(model) == [name]
    weights = attention_weights(model, task.test.X)  # the model's one attention layer
    assert isinstance(weights, np.ndarray)
    if heads is None:
        check_pooling_weights(weights, task.test)
    else:
        check_self_attention_weights(weights, task.test, heads)
    batched = attention_weights(model, task.test.X, layer=name, batch_size=3)
    np.testing.assert_allclose(batched, weights, rtol=0, atol=1e-6)  # other batches, other float rounding


@pytest.mark.parametrize("fields, states, name", [(KINDS["AttentionPooling"][0], "bilstm", "attention_pooling"),
                                                  (KINDS["SeqWeightedAttention"][0], "bilstm",
                                                   "seq_weighted_attention")])
def test_pooling_weights_are_the_ones_the_layer_pools_with(task, fields, states, name):
    model = build_classifier(task, **fields)
    inner = keras.Model(model.input, [model.get_layer(states).output, model.get_layer(name).output])
    h, pooled = (np.asarray(t) for t in inner(task.test.X))
    weights = attention_weights(model, task.test.X)
    np.testing.assert_allclose(np.einsum("nt,ntf->nf", weights, h), pooled, rtol=1e-5, atol=1e-6)


def test_self_attention_weights_are_the_ones_the_layer_mixes_with(task):
    model = build_classifier(task, **KINDS["MaskedSeqSelfAttention"][0])  # no value projection: output = a @ x
    inner = keras.Model(model.input, [model.get_layer("bilstm").output, model.get_layer("self_attention").output])
    h, mixed = (np.asarray(t) for t in inner(task.test.X))
    weights = attention_weights(model, task.test.X)[:, 0]
    for w, x, out, length in zip(weights, h, mixed, task.test.lengths):
        np.testing.assert_allclose(w[:length] @ x, out[:length], rtol=1e-5, atol=1e-6)


def test_two_attention_layers_need_a_name(task):
    model = build_classifier(task, units=4, mixer="self_attention", pool="attention")
    assert attention_layers(model) == ["self_attention", "attention_pooling"]
    with pytest.raises(ValueError, match=r"2 attention layers \['self_attention', 'attention_pooling'\]"):
        attention_weights(model, task.test.X)
    check_self_attention_weights(attention_weights(model, task.test.X, layer="self_attention"), task.test, 1)
    check_pooling_weights(attention_weights(model, task.test.X, layer="attention_pooling"), task.test)


def test_a_deep_encoder_is_probed_block_by_block(task):
    model = build_classifier(task, stem="dense", units=8, mixer="encoder", depth=2, mixer_options={"heads": 2})
    with pytest.raises(ValueError, match=r"\['block1_attention', 'block2_attention'\]"):
        attention_weights(model, task.test.X)
    first = attention_weights(model, task.test.X, layer="block1_attention")
    second = attention_weights(model, task.test.X, layer="block2_attention")
    for weights in (first, second):
        check_self_attention_weights(weights, task.test, heads=2)
    assert np.abs(first - second).max() > 1e-4  # two blocks, two sets of weights


def test_probing_leaves_the_model_unchanged(task):
    model = build_classifier(task, units=4, mixer="self_attention", pool="weighted")
    before, n_layers = np.asarray(model(task.test.X)), len(model.layers)
    weights_before = [w.copy() for w in model.get_weights()]
    for name in attention_layers(model):
        attention_weights(model, task.test.X, layer=name)
    np.testing.assert_array_equal(np.asarray(model(task.test.X)), before)
    assert len(model.layers) == n_layers
    for a, b in zip(model.get_weights(), weights_before):
        np.testing.assert_array_equal(a, b)


def test_probe_rejects_bad_input(task):
    model = build_classifier(task, **KINDS["AttentionPooling"][0])
    with pytest.raises(ValueError, match="X must have rank 3"):
        attention_weights(model, task.test.X[0])
    with pytest.raises(ValueError, match="X must have rank 3"):
        attention_weights(model, task.test.X[..., None])
    bad = task.test.X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        attention_weights(model, bad)
    with pytest.raises(ValueError, match="no sequences"):
        attention_weights(model, task.test.X[:0])


def test_probe_rejects_bad_layers(task):
    model = build_classifier(task, **KINDS["AttentionPooling"][0])
    with pytest.raises(ValueError, match=f"model '{model.name}' has no layer named 'pooling'"):
        attention_weights(model, task.test.X, layer="pooling")
    with pytest.raises(ValueError, match="'classifier' is a Dense, which has no attention weights"):
        attention_weights(model, task.test.X, layer="classifier")
    plain = build_classifier(task, units=4)
    assert attention_layers(plain) == []
    with pytest.raises(ValueError, match="has no attention layer"):
        attention_weights(plain, task.test.X)


# --- keras-self-attention 0.51.0's layers (TensorFlow only) ---

@pytest.mark.tensorflow_only
def test_probe_reads_the_packages_layers(task):
    from keras_self_attention import SeqSelfAttention, SeqWeightedAttention

    inputs = keras.Input((task.max_len, task.n_features))
    states = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(layers.Masking()(inputs))
    mixed = SeqSelfAttention(name="package_self_attention")(states)
    pooled = SeqWeightedAttention(name="package_pooling")(mixed)
    model = keras.Model(inputs, layers.Dense(task.n_classes, activation="softmax")(pooled))
    assert attention_layers(model) == ["package_self_attention", "package_pooling"]
    before = np.asarray(model(task.test.X))

    pooling = attention_weights(model, task.test.X, layer="package_pooling")
    check_pooling_weights(pooling, task.test)  # exp(-10000) is exactly 0 in float32: padding gets 0 here too
    self_attention = attention_weights(model, task.test.X, layer="package_self_attention")
    check_self_attention_weights(self_attention, task.test, heads=1, masked=False)
    leak = max(w[0, :length, length:].sum() for w, length in zip(self_attention, task.test.lengths))
    assert leak > 0.01, "the package's masking bug: real queries attend to padded keys"
    np.testing.assert_array_equal(np.asarray(model(task.test.X)), before)


def test_models_of_one_architecture_share_a_compiled_probe_and_keep_their_own_weights():
    """Ten seeds are ten models of one architecture; the probe compiles once, and reads each model's weights."""
    import keras

    from utils.builder import build_classifier
    from utils.data import make_motif_task
    from utils.keras_ops import _TWINS

    task = make_motif_task(16, 8, min_len=6, max_len=10, motif_len=3, seed=0)
    models = []
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        models.append(build_classifier(task, units=4, pool="attention"))
    before = [m.get_weights() for m in models]
    _TWINS.clear()
    first, second = (attention_weights(m, task.test.X) for m in models)
    assert len(_TWINS) == 1
    assert not np.allclose(first, second)                       # each model's own weights
    np.testing.assert_array_equal(attention_weights(models[0], task.test.X), first)
    for model, weights in zip(models, before):                  # the models are untouched
        for a, b in zip(model.get_weights(), weights):
            np.testing.assert_array_equal(a, b)
