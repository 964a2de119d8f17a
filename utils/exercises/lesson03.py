"""Lesson 03 self-checks: a masked softmax, seed 002's weight ceiling, and pooling parameter counts.

Each check prints what is right or wrong and returns True or False; it never raises on a wrong answer.
"""
from __future__ import annotations

import math

import numpy as np
from . import report

SEED002_CEILING = math.e ** 2  # scores u.h_t lie in (-1, 1), so exp(score) ratios stay below e^2


def check_masked_softmax(masked_softmax) -> bool:
    """Exercise 1: ``masked_softmax(scores, mask)`` on NumPy arrays (N, T), mask True on real steps."""
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(4, 6)).astype(np.float32)
    scores[0] += 1000.0  # large scores: a naive exp() overflows
    mask = np.arange(6)[None, :] < np.array([6, 3, 1, 5])[:, None]
    try:
        weights = masked_softmax(scores.copy(), mask.copy())
        if weights is None:
            print("✗ masked_softmax returned None: the exercise is not done yet")
            return False
        weights = np.asarray(weights, dtype=float)
        shifted = scores.copy()
        shifted[~mask] = 50.0  # what sits on padding must not matter
        weights_shifted = np.asarray(masked_softmax(shifted, mask.copy()), dtype=float)
    except Exception as error:  # a learner's bug must not stop the notebook
        print(f"✗ masked_softmax raised {type(error).__name__}: {error}")
        return False
    if weights.shape != scores.shape:
        return report([f"weights should have shape {scores.shape}, got {weights.shape}"], "")
    problems = []
    if not np.all(np.isfinite(weights)):
        problems.append("some weights are NaN or inf: subtract each row's largest real score before exp()")
    elif not np.all(weights[~mask] == 0.0):
        problems.append(f"padding gets weight (up to {np.abs(weights[~mask]).max():.3g}); it must be exactly 0")
    elif not np.allclose(weights.sum(axis=1), 1.0, atol=1e-5):
        problems.append(f"each row should sum to 1 over its real steps, got sums {np.round(weights.sum(axis=1), 4)}")
    else:
        for i in range(len(scores)):
            real = scores[i, mask[i]].astype(float)
            expected = np.exp(real - real.max()) / np.exp(real - real.max()).sum()
            if not np.allclose(weights[i, mask[i]], expected, atol=1e-5):
                problems.append(f"row {i}: the real steps' weights are not a softmax of their scores")
                break
        if not problems and not np.allclose(weights, weights_shifted, atol=1e-6):
            problems.append("changing the scores on padded steps changed the weights")
    return report(problems, "masked softmax: exact zeros on padding, rows sum to 1, stable for large scores")


def check_seed002_ceiling(ratio) -> bool:
    """Exercise 2: the largest possible ratio between two of seed 002's attention weights."""
    try:
        ratio = float(ratio)
    except (TypeError, ValueError):
        print(f"✗ give one number, got {ratio!r}")
        return False
    if math.isclose(ratio, SEED002_CEILING, rel_tol=0.01):
        return report([], f"the ceiling is e^2 ≈ {SEED002_CEILING:.2f}: no step can get much more weight than another")
    hints = {math.e: "the LSTM outputs h_t can be negative too: what is the lowest score u·h_t can reach?",
             1.0: "softmax weights are exp(score) / sum; the ratio of two weights is exp(score_a - score_b)"}
    for value, hint in hints.items():
        if math.isclose(ratio, value, rel_tol=0.01):
            return report([f"{ratio:.3g} is not it: {hint}"], "")
    return report([f"{ratio:.3g} is not it. Hint: u is a probability vector and every h_t entry lies in (-1, 1), "
                    "so the score u·h_t lies in an interval; a weight ratio is exp(score difference)"], "")


def check_parameter_counts(attention_pooling, seq_weighted, features: int = 32, units: int = 16) -> bool:
    """Exercise 3: trainable parameters of ``AttentionPooling(units)`` and ``SeqWeightedAttention`` on
    ``features``-wide states (defaults: 32 features, e.g. a BiLSTM with 16 units per direction)."""
    expected_ap = features * units + units + units  # W, b and the query v
    expected_swa = features + 1  # one weight vector (the query) and a bias
    problems = []
    if attention_pooling != expected_ap:
        problems.append(f"AttentionPooling: {attention_pooling} is not right. Count W ({features} x {units}), "
                        "b and the query v")
    if seq_weighted != expected_swa:
        problems.append(f"SeqWeightedAttention: {seq_weighted} is not right. It scores with x·W + b, "
                        f"where W is ({features}, 1)")
    return report(problems, f"AttentionPooling has {expected_ap} parameters, SeqWeightedAttention "
                             f"{expected_swa}: one learned query each, with or without a hidden layer")
