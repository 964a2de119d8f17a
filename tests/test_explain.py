import numpy as np
import pytest

from utils.data import make_motif_task
from utils.explain import gradient_saliency, weight_on_span
from utils.pooling import build_attention_pooling_classifier


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


def test_saliency_is_a_distribution_over_real_steps(task):
    model = build_attention_pooling_classifier(task, units=4)
    saliency = gradient_saliency(model, task.test.X, task.test.lengths, batch_size=3)
    assert saliency.shape == task.test.X.shape[:2]
    assert np.all(saliency[~task.test.mask] == 0.0)
    assert np.all(saliency >= 0)
    np.testing.assert_allclose(saliency.sum(axis=1), 1.0, atol=1e-5)


def test_saliency_rejects_bad_input(task):
    model = build_attention_pooling_classifier(task, units=4)
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

    per_step = keras.Sequential([keras.Input((5, 2)), keras.layers.Dense(3, activation="softmax")])  # (batch, T, classes)
    X = np.ones((2, 5, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"\(batch, classes\) probabilities"):
        gradient_saliency(per_step, X)
