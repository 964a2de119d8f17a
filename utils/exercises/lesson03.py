"""Lesson 03 self-checks: Q002's weight ceiling and pooling parameter counts.

(The masked softmax is lesson 02's exercise 2.1.)

Each check prints what is right or wrong and returns True or False; it never raises on a wrong answer.
"""
from __future__ import annotations

import math

from . import as_number, report

Q002_CEILING = math.e ** 2  # scores u.h_t lie in (-1, 1), so exp(score) ratios stay below e^2


def check_q002_ceiling(ratio) -> bool:
    """Exercise 1: the bound that the ratio between two of Q002's attention weights always stays below (the
    supremum: scores in the open interval (-1, 1) approach it but never reach it). Within 1% passes."""
    ratio, problem = as_number(ratio)
    if problem:
        return report([problem], "")
    if math.isclose(ratio, Q002_CEILING, rel_tol=0.01):
        return report([], f"the ceiling is e^2 ≈ {Q002_CEILING:.2f}: no step can get much more weight than another")
    hints = {math.e: "the LSTM outputs h_t can be negative too: what is the lowest score u·h_t can reach?",
             1.0: "softmax weights are exp(score) / sum; the ratio of two weights is exp(score_a - score_b)",
             7.245: "that is close to a ratio a trained layer reached; "
                    "the exercise asks for the bound no training can pass"}
    for value, hint in hints.items():
        if math.isclose(ratio, value, rel_tol=0.01):
            return report([f"{ratio:.3g} is not it: {hint}"], "")
    return report([f"{ratio:.3g} is not it. Hint: u is a probability vector and every h_t entry lies in (-1, 1), "
                    "so the score u·h_t lies in an interval; a weight ratio is exp(score difference)"], "")


def check_parameter_counts(attention_pooling, seq_weighted, features: int = 32, units: int = 16) -> bool:
    """Exercise 2: trainable parameters of ``AttentionPooling(units)`` and ``SeqWeightedAttention`` on
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
