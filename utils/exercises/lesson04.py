"""Lesson 04 self-checks: SeqSelfAttention's parameter count and Q003's fix.

Each check prints what is right or wrong and returns True or False; it never raises on a wrong answer.
"""
from __future__ import annotations

import numpy as np

from . import padding_problem, report


def _call(fn, *args):
    """Run the learner's function; report an exception instead of raising it."""
    try:
        return fn(*args), None
    except Exception as error:  # a wrong answer must not stop the notebook
        return None, f"{type(error).__name__}: {error}"


def check_parameter_count(fn) -> bool:
    """``fn(features, units, attention_type, use_additive_bias, use_attention_bias) -> int``."""
    from ..self_attention import SeqSelfAttention  # the port: the package's weights, on any backend

    problems = []
    cases = [(12, 32, "additive", True, True), (128, 16, "additive", True, True), (12, 32, "additive", False, False),
             (12, 32, "multiplicative", True, True), (12, 4, "multiplicative", True, True),
             (128, 32, "multiplicative", True, False)]
    for features, units, kind, add_bias, att_bias in cases:
        layer = SeqSelfAttention(units=units, attention_type=kind, use_additive_bias=add_bias,
                                 use_attention_bias=att_bias)
        layer.build((None, 10, features))
        expected = layer.count_params()
        answer, error = _call(fn, features, units, kind, add_bias, att_bias)
        if error:
            return report([f"your function raised {error}"], "")
        if answer is None:
            return report(["your function returned None: write the formula first"], "")
        if answer != expected:
            problems.append(f"features={features}, units={units}, {kind}, use_additive_bias={add_bias}, "
                            f"use_attention_bias={att_bias}: you said {answer}, the layer has {expected}")
    return report(problems, "your formula matches SeqSelfAttention's parameter count in every case")


def check_sequence_classifier(build, data) -> bool:
    """``build(data) -> keras.Model`` with SeqSelfAttention that outputs ONE class distribution per sequence.

    Any SeqSelfAttention counts: keras-self-attention's, the course's port or ``MaskedSeqSelfAttention``.
    """
    import keras

    from ..self_attention import is_seq_self_attention

    model, error = _call(build, data)
    if error:
        return report([f"your build function raised {error}"], "")
    if not isinstance(model, keras.Model):
        return report([f"build(data) must return a keras.Model, got {type(model).__name__}"], "")
    problems = []
    if not any(is_seq_self_attention(type(layer)) for layer in model.layers):
        problems.append("the model has no SeqSelfAttention layer")
    x = data.test.X[:4]
    probs, error = _call(lambda: model.predict(x, verbose=0))
    if error:
        return report([f"predict raised {error}"], "")
    probs = np.asarray(probs)
    if probs.shape != (len(x), data.n_classes):
        problems.append(f"output shape is {probs.shape}; a sequence classifier needs (batch, {data.n_classes}): "
                        "one class distribution per sequence, so pool over time before the Dense layer")
    elif not np.allclose(probs.sum(axis=1), 1.0, atol=1e-5):
        problems.append("the outputs do not sum to 1: end with a softmax over the classes")
    else:
        keep_the_mask = ("padding changes the prediction: keep the mask (a Masking layer, MaskedSeqSelfAttention "
                         "instead of SeqSelfAttention, mask-aware pooling such as GlobalAveragePooling1D, no Flatten)")
        problem = padding_problem(model, data, cannot_run=keep_the_mask, leaks=keep_the_mask)
        if problem:
            problems.append(problem)
    return report(problems, "one class distribution per sequence, and padding does not change it")
