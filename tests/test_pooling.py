import keras
import numpy as np
import pytest
from keras import layers

# keras-self-attention is imported inside these tests only: it needs TensorFlow, this module must import on JAX
from utils.builder import build_classifier
from utils.data import make_motif_task
from utils.inspection import PADDING_TOLERANCE, cudnn_problems, lstm_layers, padding_gap
from utils.keras_ops import masked_softmax
from utils.pooling import AttentionPooling, SeqWeightedAttention
from utils.probe import attention_weights


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


def _states_and_mask(seed=0, batch=3, time=7, features=5):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, time, features)).astype(np.float32)
    lengths = np.array([7, 4, 1])[:batch]
    mask = np.arange(time)[None, :] < lengths[:, None]
    return x, mask


def test_padding_gets_exactly_zero_weight_and_real_steps_sum_to_one():
    x, mask = _states_and_mask()
    x[~mask] = 1e4  # huge values on padding must not matter
    layer = AttentionPooling(return_weights=True)
    _, weights = layer(x, mask=mask)
    weights = keras.ops.convert_to_numpy(weights)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(weights[mask] > 0)


def test_output_matches_the_formula_and_ignores_padding_values():
    x, mask = _states_and_mask()
    layer = AttentionPooling(units=3, return_weights=True)
    pooled, weights = (keras.ops.convert_to_numpy(t) for t in layer(x, mask=mask))
    W, b, v = (keras.ops.convert_to_numpy(w) for w in (layer.W, layer.b, layer.v))
    scores = np.tanh(x @ W + b) @ v
    for i in range(len(x)):
        real = mask[i]
        expected = np.exp(scores[i, real] - scores[i, real].max())
        expected /= expected.sum()
        np.testing.assert_allclose(weights[i, real], expected, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(pooled[i], expected @ x[i, real], rtol=1e-5, atol=1e-6)
    changed = x.copy()
    changed[~mask] = -7.0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(changed, mask=mask)[0]), pooled, atol=1e-6)


def test_without_mask_every_step_counts():
    x, _ = _states_and_mask()
    _, weights = AttentionPooling(return_weights=True)(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weights).sum(axis=1), 1.0, atol=1e-6)


def test_masked_softmax_is_exact_stable_and_safe_on_empty_rows():
    scores = np.array([[1000.0, 999.0, 5.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    mask = np.array([[True, True, False], [True, False, False], [False, False, False]])
    w = keras.ops.convert_to_numpy(masked_softmax(scores, mask))
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w[0, :2], np.exp([0, -1]) / np.exp([0, -1]).sum(), rtol=1e-6)
    assert w[0, 2] == 0.0 and np.array_equal(w[1], [1.0, 0.0, 0.0]) and np.all(w[2] == 0.0)


@pytest.mark.parametrize("pool, name", [("attention", "attention_pooling"), ("weighted", "seq_weighted_attention")])
def test_model_padding_weight_is_zero_for_both_pooling_layers(task, pool, name):
    model = build_classifier(task, units=4, pool=pool)
    weights = attention_weights(model, task.test.X, layer=name)
    assert weights.shape == task.test.X.shape[:2]
    assert np.all(weights[~task.test.mask] == 0.0), name
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("pool", ["attention", "weighted"])
def test_more_padding_does_not_change_the_prediction(task, pool):
    model = build_classifier(task, units=4, pool=pool)
    assert padding_gap(model, task.test.X, task.test.lengths) < PADDING_TOLERANCE


def test_keras_round_trip_gives_identical_predictions(task, tmp_path):
    model = build_classifier(task, units=4, pool="attention", pool_units=6)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(task.train.X, task.train.y, epochs=1, verbose=0)  # move the weights away from their initial values
    path = tmp_path / "pooling.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: the layer is registered
    assert isinstance(loaded.get_layer("attention_pooling"), AttentionPooling)
    assert loaded.get_layer("attention_pooling").units == 6
    np.testing.assert_array_equal(np.asarray(loaded(task.test.X)), np.asarray(model(task.test.X)))


def test_seq_weighted_attention_round_trip_with_custom_objects(task, tmp_path):
    model = build_classifier(task, units=4, pool="weighted")
    path = tmp_path / "swa.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, custom_objects=SeqWeightedAttention.get_custom_objects())
    np.testing.assert_array_equal(np.asarray(loaded(task.test.X)), np.asarray(model(task.test.X)))


def test_config_round_trip():
    layer = AttentionPooling(units=5, return_weights=True, name="p")
    clone = AttentionPooling.from_config(layer.get_config())
    assert (clone.units, clone.return_weights, clone.name) == (5, True, "p")


@pytest.mark.parametrize("shape", [(4, 8), (2, 3, 4, 5)])
def test_rank_other_than_3_is_rejected(shape):
    with pytest.raises(ValueError, match="rank-3"):
        AttentionPooling()(keras.Input(shape[1:]))
    with pytest.raises(ValueError, match="rank-3"):
        AttentionPooling()(np.zeros(shape, np.float32))


@pytest.mark.parametrize("units", [0, -2, 2.5])
def test_bad_units_are_rejected(units):
    with pytest.raises(ValueError, match="units"):
        AttentionPooling(units=units)


@pytest.mark.parametrize("pool", ["attention", "weighted"])
def test_pooled_classifiers_give_probabilities_and_keep_the_fast_lstm(task, pool):
    model = build_classifier(task, units=4, pool=pool)
    probs = np.asarray(model(task.test.X))
    assert probs.shape == (len(task.test), task.n_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert all(cudnn_problems(lstm) == [] for lstm in lstm_layers(model))


def test_attention_pooling_needs_a_known_feature_size():
    with pytest.raises(ValueError, match="known feature size"):
        AttentionPooling().build((None, 5, None))


# --- SeqWeightedAttention: the port against keras-self-attention 0.51.0 ---

def _package_layer():
    from keras_self_attention import SeqWeightedAttention as PackageSeqWeightedAttention

    return PackageSeqWeightedAttention


def _padded_states(seed=0):
    x, mask = _states_and_mask(seed)
    x[~mask] = 0.0  # right padding, as Masking expects
    return x


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("masked_input", [True, False])
@pytest.mark.parametrize("return_attention", [True, False])
def test_seq_weighted_attention_port_matches_package(use_bias, masked_input, return_attention):
    inputs = keras.Input((None, 5))
    x = layers.Masking()(inputs) if masked_input else inputs
    package = _package_layer()(use_bias=use_bias, return_attention=return_attention, name="package")
    port = SeqWeightedAttention(use_bias=use_bias, return_attention=return_attention, name="port")
    outputs = [package(x), port(x)]
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(1)
    port.set_weights([rng.normal(size=w.shape).astype("float32") for w in package.get_weights()])
    package.set_weights(port.get_weights())  # random weights: the default bias is 0, W is tiny
    package_out, port_out = model(_padded_states())
    if not return_attention:
        package_out, port_out = [package_out], [port_out]
    # not bit for bit: the port's softmax divides by max(sum, epsilon), the package's by sum + epsilon
    # (epsilon = 1e-7 against a sum >= 1), so the two differ by at most one float32 rounding step
    for want, got in zip(package_out, port_out):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-7)
    if return_attention and masked_input:
        # exp(-10000) is exactly 0 in float32: padding gets exactly no weight in both
        assert np.all(np.asarray(port_out[1])[1, 4:] == 0.0) and np.all(np.asarray(package_out[1])[1, 4:] == 0.0)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("use_bias", [True, False])
def test_seq_weighted_attention_port_has_the_packages_weights_and_config(use_bias):
    package, port = _package_layer()(use_bias=use_bias, name="swa"), SeqWeightedAttention(use_bias=use_bias, name="swa")
    for layer in (package, port):
        keras.utils.set_random_seed(3)
        layer.build((None, 7, 5))
    assert [(w.name, w.shape) for w in port.weights] == [(w.name, w.shape) for w in package.weights]
    assert port.get_config() == package.get_config()
    for package_w, port_w in zip(package.get_weights(), port.get_weights()):  # same initialisers
        np.testing.assert_array_equal(port_w, package_w)


@pytest.mark.parametrize("use_bias", [True, False])
def test_seq_weighted_attention_matches_the_formula(use_bias):
    x = _padded_states()
    _, mask = _states_and_mask()
    layer = SeqWeightedAttention(use_bias=use_bias, return_attention=True)
    pooled, weights = (keras.ops.convert_to_numpy(t) for t in layer(x, mask=mask))
    W = keras.ops.convert_to_numpy(layer.W)
    logits = (x @ W)[..., 0] + (keras.ops.convert_to_numpy(layer.b) if use_bias else 0.0) - 1e4 * ~mask
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= np.maximum(expected.sum(axis=1, keepdims=True), keras.backend.epsilon())  # masked_softmax
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pooled, np.einsum("nt,ntf->nf", expected, x), rtol=1e-5, atol=1e-6)
    assert [w.name for w in layer.weights] == [f"{layer.name}_W"] + ([f"{layer.name}_b"] if use_bias else [])


def test_seq_weighted_attention_outputs_and_masks():
    masked = layers.Masking()(keras.Input((None, 5)))
    pooled, weights = SeqWeightedAttention(return_attention=True)(masked)
    assert pooled.shape == (None, 5) and weights.shape == (None, None)
    assert getattr(pooled, "_keras_mask", None) is None and getattr(weights, "_keras_mask", None) is None
    assert SeqWeightedAttention().compute_output_shape((2, 7, 5)) == (2, 5)


def test_seq_weighted_attention_registered_round_trip(task, tmp_path):
    model = build_classifier(task, units=4, pool="weighted")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(task.train.X, task.train.y, epochs=1, verbose=0)
    path = tmp_path / "swa_registered.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: the port is registered
    assert type(loaded.get_layer("seq_weighted_attention")) is SeqWeightedAttention
    np.testing.assert_array_equal(np.asarray(loaded(task.test.X)), np.asarray(model(task.test.X)))


@pytest.mark.parametrize("shape", [(4, 8), (2, 3, 4, 5)])
def test_seq_weighted_attention_rejects_rank_other_than_3(shape):
    with pytest.raises(ValueError, match="rank-3"):
        SeqWeightedAttention()(np.zeros(shape, np.float32))
