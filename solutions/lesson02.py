# Solutions for lesson 02 (soft vector retrieval). Load into a notebook cell with: %load ../solutions/lesson02.py
import numpy as np


def my_masked_softmax(scores, mask):
    """Softmax over the last axis with exactly zero weight where mask is False."""
    scores = np.where(mask, scores, -np.inf)                # padded keys can never win
    scores = scores - scores.max(axis=-1, keepdims=True)    # stable: the largest exponent is 0
    e = np.exp(scores)                                      # exp(-inf) is exactly 0
    return e / e.sum(axis=-1, keepdims=True)


# Equal scores give equal weights among the keys a query may see: query i sees keys 0..i.
my_causal_weights = np.array([
    [1, 0, 0, 0],
    [1 / 2, 1 / 2, 0, 0],
    [1 / 3, 1 / 3, 1 / 3, 0],
    [1 / 4, 1 / 4, 1 / 4, 1 / 4],
])

# check_masked_softmax(my_masked_softmax)
# check_causal_weights(my_causal_weights)
