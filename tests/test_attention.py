"""The numpy reference attention: maths, masking, input checks, and agreement with Keras."""
import keras
import numpy as np
import pytest
from scipy.special import softmax

from utils.reference_attention import (
    additive_attention,
    additive_scores,
    attend,
    causal_mask,
    dot_product_attention,
    dot_product_scores,
    masked_softmax,
)

layers = keras.layers


@pytest.fixture
def qkv():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 4)).astype(np.float32)
    k = rng.standard_normal((2, 5, 4)).astype(np.float32)
    v = rng.standard_normal((2, 5, 6)).astype(np.float32)
    return q, k, v


KEY_MASK = np.array([[True, True, True, False, False], [True, True, True, True, False]])
QUERY_MASK = np.array([[True, True, False], [True, True, True]])


# --- masked softmax -------------------------------------------------------------------------------

def test_masked_softmax_without_mask_is_softmax():
    s = np.random.default_rng(1).standard_normal((3, 7))
    np.testing.assert_allclose(masked_softmax(s), softmax(s, axis=-1), rtol=1e-12)


def test_masked_entries_get_exactly_zero_and_rows_sum_to_one():
    s = np.random.default_rng(2).standard_normal((2, 5)) * 10
    w = masked_softmax(s, KEY_MASK)
    assert np.all(w[~KEY_MASK] == 0.0)
    np.testing.assert_allclose(w.sum(-1), 1.0)
    np.testing.assert_allclose(w[0, :3], softmax(s[0, :3]))


def test_masked_softmax_is_stable_for_large_scores():
    w = masked_softmax(np.array([1000.0, 999.0, -1000.0]))
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w[:2], softmax([1.0, 0.0]))


@pytest.mark.parametrize("scores, mask, message", [
    (np.zeros((2, 3)), np.zeros((2, 3), dtype=bool), "all False"),
    (np.zeros((2, 3)), np.ones((2, 3)), "boolean"),
    (np.zeros((2, 3)), np.ones((2, 4), dtype=bool), "does not fit"),
    (np.array([0.0, np.nan]), None, "NaN"),
    (np.array([], dtype=float), None, "empty"),
    (np.array(["a", "b"]), None, "numeric"),
])
def test_masked_softmax_rejects_bad_input(scores, mask, message):
    with pytest.raises(ValueError, match=message):
        masked_softmax(scores, mask)


# --- the numpy maths ------------------------------------------------------------------------------

def test_dot_product_attention_by_hand():
    keys = np.eye(3)
    values = np.array([[1.0], [2.0], [3.0]])
    out, w = dot_product_attention(np.array([[0.0, 0.0, 0.0]]), values, keys)
    np.testing.assert_allclose(w, [[1 / 3] * 3])  # equal scores: uniform weights
    np.testing.assert_allclose(out, [[2.0]])
    out, w = dot_product_attention(np.array([[0.0, 50.0, 0.0]]), values, keys)
    np.testing.assert_allclose(out, [[2.0]], atol=1e-12)  # a sharp query retrieves one value


def test_scale_multiplies_scores(qkv):
    q, k, _ = qkv
    np.testing.assert_allclose(dot_product_scores(q, k, 0.5), 0.5 * dot_product_scores(q, k), rtol=1e-12)


def test_additive_scores_match_a_loop():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 3)), rng.standard_normal((4, 5))
    Wq, Wk, v = rng.standard_normal((3, 6)), rng.standard_normal((5, 6)), rng.standard_normal(6)
    expected = np.array([[v @ np.tanh(qi @ Wq + kj @ Wk) for kj in k] for qi in q])
    np.testing.assert_allclose(additive_scores(q, k, v, Wq, Wk), expected, rtol=1e-12)


def test_causal_mask_is_lower_triangular():
    m = causal_mask(4)
    assert m.dtype == bool and m.shape == (4, 4)
    assert np.array_equal(m, np.tril(np.ones((4, 4), dtype=bool)))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3))
    _, w = dot_product_attention(x, x, causal=True)
    assert np.all(w[~m] == 0.0)
    assert w[0, 0] == 1.0


def test_padded_keys_get_exactly_zero_weight(qkv):
    q, k, v = qkv
    for fn in (dot_product_attention, additive_attention):
        _, w = fn(q, v, k, mask=KEY_MASK)
        assert np.all(w[~np.broadcast_to(KEY_MASK[:, None, :], w.shape)] == 0.0)
        np.testing.assert_allclose(w.sum(-1), 1.0)


def test_query_mask_zeroes_output_rows(qkv):
    q, k, v = qkv
    out, _ = dot_product_attention(q, v, k, query_mask=QUERY_MASK)
    assert np.all(out[0, 2] == 0.0) and np.all(out[0, 0] != 0.0)


# --- agreement with Keras -------------------------------------------------------------------------

def _keras(layer, q, v, k, **call):
    out, w = layer([q, v, k], return_attention_scores=True, **call)
    return np.asarray(out), np.asarray(w)


def test_dot_product_matches_keras_attention(qkv):
    q, k, v = qkv
    ours = dot_product_attention(q, v, k)
    theirs = _keras(layers.Attention(), q, v, k)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_use_scale_matches_keras_with_a_changed_scale(qkv):
    q, k, v = qkv
    layer = layers.Attention(use_scale=True)
    layer([q, v, k])
    assert float(layer.scale.numpy()) == 1.0  # initialised to 1, not 1/sqrt(d)
    layer.scale.assign(0.3)
    for a, b in zip(dot_product_attention(q, v, k, scale=0.3), _keras(layer, q, v, k)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_masks_and_causal_match_keras(qkv):
    q, k, v = qkv
    q5 = np.concatenate([q, q[:, :2]], axis=1)  # 5 queries, for a square causal mask
    query_mask = np.concatenate([QUERY_MASK, [[True, False], [True, True]]], axis=1)
    for causal in (False, True):
        ours = dot_product_attention(q5, v, k, mask=KEY_MASK, query_mask=query_mask, causal=causal)
        theirs = _keras(layers.Attention(), q5, v, k, mask=[query_mask, KEY_MASK], use_causal_mask=causal)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_additive_matches_keras_additive_attention(qkv):
    q, k, v = qkv
    layer = layers.AdditiveAttention()
    theirs = _keras(layer, q, v, k, mask=[QUERY_MASK, KEY_MASK])
    ours = additive_attention(q, v, k, v=layer.scale.numpy(), mask=KEY_MASK, query_mask=QUERY_MASK)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_concat_score_mode_is_additive_without_v(qkv):
    q, k, v = qkv
    layer = layers.Attention(score_mode="concat")
    layer([q, v, k])
    layer.concat_score_weight.assign(1.7)
    theirs = _keras(layer, q, v, k)
    ours = attend(1.7 * additive_scores(q, k), v)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_keras_masking_layer_gives_padded_keys_exactly_zero_weight():
    x = np.random.default_rng(5).standard_normal((2, 6, 3)).astype(np.float32)
    x[0, 4:] = 0.0
    x[1, 5:] = 0.0
    inputs = keras.Input((6, 3))
    masked = layers.Masking()(inputs)
    _, weights = layers.Attention()([masked, masked], return_attention_scores=True)
    w = np.asarray(keras.Model(inputs, weights)(x))
    assert np.all(w[0, :, 4:] == 0.0) and np.all(w[1, :, 5:] == 0.0)


# --- input checks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(query=np.zeros(4), value=np.zeros((5, 4))), "rank"),
    (dict(query=np.zeros((2, 3, 4)), value=np.zeros((5, 4))), "same rank"),
    (dict(query=np.zeros((2, 3, 4)), value=np.zeros((3, 5, 4))), "batch shape"),
    (dict(query=np.zeros((3, 4)), value=np.zeros((5, 3))), "feature size"),
    (dict(query=np.full((3, 4), np.nan), value=np.zeros((5, 4))), "NaN"),
    (dict(query=np.zeros((3, 4)), value=np.zeros((6, 2)), key=np.zeros((5, 4))), "value of shape"),
    (dict(query=np.zeros((3, 4)), value=np.zeros((5, 4)), mask=np.zeros(5, dtype=bool)), "all False"),
    (dict(query=np.zeros((3, 4)), value=np.zeros((5, 4)), query_mask=np.ones(4, dtype=bool)), "query_mask"),
    (dict(query=np.zeros((3, 4)), value=np.zeros((5, 4)), scale=np.inf), "scale"),
])
def test_dot_product_attention_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dot_product_attention(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(v=np.ones(3)), "v must have shape"),
    (dict(W_query=np.ones((2, 4))), "W_query must have 4 rows"),
    (dict(W_query=np.ones((4, 3)), W_key=np.ones((4, 2))), "differ in size"),
    (dict(mask=np.ones(5)), "boolean"),
])
def test_additive_attention_rejects_bad_input(kwargs, message):
    q, v = np.zeros((3, 4)), np.zeros((5, 4))
    with pytest.raises(ValueError, match=message):
        additive_attention(q, v, **kwargs)


def test_causal_mask_rejects_empty():
    with pytest.raises(ValueError, match="at least one"):
        causal_mask(0)
