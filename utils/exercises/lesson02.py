"""Self-checks for lesson 02 (soft vector retrieval). Each prints what is right or wrong and returns a bool."""
from __future__ import annotations

import numpy as np

from ..reference_attention import causal_mask, masked_softmax
from . import report


def check_masked_softmax(fn) -> bool:
    """Test ``fn(scores, mask) -> weights`` on several cases: values, exact zeros, large scores."""
    rng = np.random.default_rng(0)
    cases = {
        "a 2 x 5 batch with padding": (rng.standard_normal((2, 5)),
                                       np.array([[True, True, True, False, False], [True] * 5])),
        "large scores (1000)": (np.array([[1000.0, 999.0, 0.0]]), np.array([[True, True, True]])),
        "a padded key with the highest score": (np.array([[0.0, 1.0, 50.0]]), np.array([[True, True, False]])),
    }
    problems = []
    for name, (scores, mask) in cases.items():
        try:
            got = fn(scores.copy(), mask.copy())
        except Exception as error:  # the learner's code: report, never raise
            problems.append(f"{name}: your function raised {type(error).__name__}: {error}")
            continue
        if got is None:
            problems.append(f"{name}: your function returned None; return the weights array")
            break
        got = np.asarray(got, dtype=float)
        if got.shape != scores.shape:
            problems.append(f"{name}: shape {got.shape}, expected {scores.shape} (one weight per score)")
            continue
        if not np.all(np.isfinite(got)):
            problems.append(f"{name}: NaN or inf in the weights; subtract the row maximum before exp")
            continue
        if np.any(got[~mask] != 0.0):
            problems.append(f"{name}: padded positions got weight {got[~mask].max():.3g}; they need exactly 0")
        if not np.allclose(got.sum(-1), 1.0):
            problems.append(f"{name}: rows sum to {np.round(got.sum(-1), 3)}, not 1")
        elif not np.allclose(got, masked_softmax(scores, mask), atol=1e-6):
            problems.append(f"{name}: the weights differ from a masked softmax")
    return report(problems, "masked softmax: exact zeros on padding, rows sum to 1, stable for large scores")


def check_causal_weights(weights) -> bool:
    """The predicted weights of causal self-attention over 4 steps whose scores are all equal."""
    expected = masked_softmax(np.zeros((4, 4)), causal_mask(4))
    if weights is None:
        return report(["you have not filled in the matrix yet"], "")
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        return report(["give a 4 x 4 array of numbers, one row per query"], "")
    problems = []
    if w.shape != (4, 4):
        problems.append(f"shape {w.shape}: expected (4, 4), one row per query and one column per key")
    else:
        future = ~causal_mask(4)
        if np.any(w[future] != 0):
            problems.append("some query gives weight to a later key; the causal mask forbids keys after the query")
        if not np.allclose(w.sum(-1), 1.0, atol=1e-2):
            problems.append(f"rows sum to {np.round(w.sum(-1), 3)}; softmax weights of each query sum to 1")
        elif not np.allclose(w, expected, atol=1e-2):
            problems.append("the allowed keys should share each row equally: equal scores give equal weights")
    return report(problems, "right: query i spreads its weight equally over keys 0..i")
