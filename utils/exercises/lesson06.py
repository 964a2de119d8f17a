"""Self-checks for lesson 06: the label-noise ceiling, reading two 95% intervals, and an ablation."""
from __future__ import annotations

import numpy as np

from ..models import lstm_layers
from ..training import mean_ci
from . import padding_problem, report


def check_ceiling(value, label_noise: float) -> bool:
    """Is ``value`` the best expected test accuracy when a fraction ``label_noise`` of labels is random-wrong?"""
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must lie in [0, 1), got {label_noise}")
    if value is None:
        return report(["Replace None with your number."], "")
    try:
        value = float(value)
    except (TypeError, ValueError):
        return report([f"Expected a number, got {value!r}."], "")
    want = 1.0 - label_noise
    if abs(value - want) <= 1e-6:
        return report([], f"{want:.2f}: even a model that always finds the motif is wrong on the relabelled "
                           f"{label_noise:.0%} of test sequences. No attention layer can beat that.")
    if abs(value - label_noise) <= 1e-6:
        return report(["That is the fraction of wrong labels, not the accuracy."], "")
    return report([f"{value:.3f} is not it. A perfect model predicts the *true* motif; how often does the "
                    "stored label agree with it?"], "")


def check_overlap(fn) -> bool:
    """Is ``fn(accuracies_a, accuracies_b)`` True exactly when the two 95% t-intervals overlap?"""
    cases = [([0.97, 0.98, 0.975], [0.95, 0.96, 0.955]),   # clearly apart
             ([0.97, 0.99, 0.95], [0.96, 0.98, 0.97]),     # overlapping
             ([0.80, 0.81, 0.79], [0.80, 0.80, 0.81]),     # same level
             ([0.30, 0.26, 0.24], [0.97, 0.95, 0.99])]     # lesson 03's kind of gap
    problems = []
    for a, b in cases:
        (_, low_a, high_a), (_, low_b, high_b) = mean_ci(a), mean_ci(b)
        want = bool(low_a <= high_b and low_b <= high_a)
        try:
            got = fn(list(a), list(b))
        except Exception as error:  # the learner's code: report, never raise
            return report([f"your function raised {type(error).__name__}: {error}"], "")
        if got is None:
            return report(["your function returned None: return True or False"], "")
        if bool(got) != want:
            problems.append(f"a={a}, b={b}: the intervals {'overlap' if want else 'do not overlap'} "
                            f"([{low_a:.3f}, {high_a:.3f}] and [{low_b:.3f}, {high_b:.3f}]), you said {bool(got)}. "
                            "Compare intervals from utils.training.mean_ci, not the means")
    return report(problems, "right: only intervals that do not overlap separate two models")


def check_block_removed(build, data, model_name: str = "05 BiLSTM + encoder block") -> bool:
    """Is ``build(data)`` the registry's ``model_name`` without its encoder block, all else kept?"""
    import keras
    from keras import layers

    from ..registry import MODELS

    spec = MODELS[model_name].spec
    units, dropout, input_noise = spec.units, spec.head_dropout, spec.input_noise
    try:
        model = build(data)
    except Exception as error:  # the learner's code: report, never raise
        return report([f"build(data) raised {type(error).__name__}: {error}"], "")
    if model is None:
        return report(["Replace None with a model: lesson 05's, without its encoder block."], "")
    if not isinstance(model, keras.Model):
        return report([f"build(data) must return a keras.Model, got {type(model).__name__}"], "")
    found = model.layers
    problems = []
    attention = [layer.name for layer in found if isinstance(layer, layers.MultiHeadAttention)
                 or "attention" in type(layer).__name__.lower()]
    if attention:
        problems.append(f"the block's attention is still there ({', '.join(attention)}): remove the whole block")
    lstms = lstm_layers(model)
    if not lstms or any(lstm.units != units for lstm in lstms):
        problems.append(f"keep the BiLSTM with {units} units per direction")
    if not any(isinstance(layer, layers.GaussianNoise) and layer.stddev == input_noise for layer in found):
        problems.append(f"keep the input noise ({input_noise}): the point is to remove the block only")
    if not any(isinstance(layer, layers.Dropout) and layer.rate == dropout for layer in found):
        problems.append(f"keep the dropout ({dropout}) before the classifier")
    if not problems:
        problem = padding_problem(model, data,
                                  cannot_run="the model cannot read sequences of other lengths ({error})",
                                  leaks="padded steps change the prediction: keep the mask from end to end")
        if problem:
            problems.append(problem)
    return report(problems, "the same BiLSTM, noise and dropout, and no block: the comparison now isolates "
                            "what the block adds")
