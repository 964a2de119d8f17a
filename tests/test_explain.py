import numpy as np
import pytest

from utils.builder import build_classifier
from utils.data import make_motif_task
from utils.explain import gradient_saliency, weight_on_span


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


def test_saliency_is_a_distribution_over_real_steps(task):
    model = build_classifier(task, units=4, pool="attention")
    saliency = gradient_saliency(model, task.test.X, task.test.lengths, batch_size=3)
    assert saliency.shape == task.test.X.shape[:2]
    assert np.all(saliency[~task.test.mask] == 0.0)
    assert np.all(saliency >= 0)
    np.testing.assert_allclose(saliency.sum(axis=1), 1.0, atol=1e-5)


def test_saliency_rejects_bad_input(task):
    model = build_classifier(task, units=4, pool="attention")
    with pytest.raises(ValueError, match="rank 3"):
        gradient_saliency(model, task.test.X[0])
    bad = task.test.X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gradient_saliency(model, bad)
    empty = task.test.X.copy()
    empty[1] = 0.0
    with pytest.raises(ValueError, match="all padding"):
        gradient_saliency(model, empty)
    with pytest.raises(ValueError, match="batch_size"):
        gradient_saliency(model, task.test.X, batch_size=0)


def test_weight_on_span_counts_the_share_inside():
    weights = np.array([[0.1, 0.2, 0.3, 0.4], [2.0, 2.0, 0.0, 0.0]])
    np.testing.assert_allclose(weight_on_span(weights, np.array([1, 0]), 2), [0.5, 1.0])


@pytest.mark.parametrize("weights, starts, span, message", [
    (np.ones(4), np.array([0]), 2, "sequences, time"),
    (np.array([[1.0, np.nan]]), np.array([0]), 1, "finite"),
    (np.array([[1.0, -1.0]]), np.array([0]), 1, "non-negative"),
    (np.ones((2, 4)), np.array([0]), 2, "integer positions"),
    (np.ones((1, 4)), np.array([0.5]), 2, "integer positions"),
    (np.ones((1, 4)), np.array([3]), 2, "inside"),
    (np.zeros((1, 4)), np.array([0]), 2, "no weight"),
    (np.ones((1, 4)), np.array([0]), 1.5, "span must be a whole number"),
    (np.ones((1, 4)), np.array([0]), 0, "span must be a whole number"),
])
def test_weight_on_span_rejects_bad_input(weights, starts, span, message):
    with pytest.raises(ValueError, match=message):
        weight_on_span(weights, starts, span)



def test_saliency_needs_a_classifier_output():
    import keras

    # (batch, T, classes)
    per_step = keras.Sequential([keras.Input((5, 2)), keras.layers.Dense(3, activation="softmax")])
    X = np.ones((2, 5, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"\(batch, classes\) probabilities"):
        gradient_saliency(per_step, X)


def test_saliency_matches_the_analytic_gradient():
    """Softmax(W flatten(x) + b): d log p_c / dx = W[:, c] - sum_k p_k W[:, k], on either backend."""
    import keras

    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(), keras.layers.Dense(5, activation="softmax")])
    rng = np.random.default_rng(0)
    W = rng.normal(size=(12, 5)).astype(np.float32)
    b = rng.normal(size=5).astype(np.float32)
    model.layers[-1].set_weights([W, b])
    X = rng.normal(size=(6, 4, 3)).astype(np.float32)
    X[1, 3:] = 0.0  # one padded step
    lengths = np.array([4, 3, 4, 4, 4, 4])
    logits = X.reshape(6, 12) @ W + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    grads = W[:, p.argmax(axis=1)].T - p @ W.T  # (6, 12)
    expected = np.linalg.norm(grads.reshape(6, 4, 3), axis=-1) * (np.arange(4)[None, :] < lengths[:, None])
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(gradient_saliency(model, X, lengths, batch_size=4), expected, rtol=1e-4, atol=1e-6)
