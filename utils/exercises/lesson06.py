"""Self-checks for lesson 06: the label-noise ceiling, a paired verdict, an ablation, and how many seeds."""
from __future__ import annotations

import numpy as np

from ..inspection import lstm_layers
from ..stats import compare_paired, mean_ci
from . import as_number, built_model, padding_problem, report


def check_ceiling(value, label_noise: float) -> bool:
    """Is ``value`` the best expected test accuracy when a fraction ``label_noise`` of labels is random-wrong?"""
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must lie in [0, 1), got {label_noise}")
    if value is None:
        return report(["Replace None with your number."], "")
    value, problem = as_number(value)
    if problem:
        return report([problem], "")
    want = 1.0 - label_noise
    if abs(value - want) <= 1e-6:
        return report([], f"{want:.2f}: even a model that always finds the motif is wrong on the relabelled "
                           f"{label_noise:.0%} of test sequences. No attention layer can beat that.")
    if abs(value - label_noise) <= 1e-6:
        return report(["That is the fraction of wrong labels, not the accuracy."], "")
    return report([f"{value:.3f} is not it. A perfect model predicts the *true* motif; on average over test sets, "
                    "how often does the stored label agree with it? (One test set's own share, such as the one "
                    "section 1 printed, varies around that.)"], "")


def reference_paired_verdict(accuracies_a, accuracies_b) -> str:
    """Exercise 6.2's answer: the 95% t-interval of the per-seed differences B - A decides."""
    _, low, high = mean_ci(np.subtract(accuracies_b, accuracies_a))
    return "B better" if low > 0 else "A better" if high < 0 else "no difference detected"


def check_paired_verdict(fn) -> bool:
    """Does ``fn(accuracies_a, accuracies_b)`` give the paired verdict from the per-seed differences?"""
    cases = [([0.97, 0.98, 0.975, 0.97], [0.95, 0.96, 0.955, 0.95]),   # A clearly better
             ([0.90, 0.95, 0.92, 0.97], [0.91, 0.96, 0.93, 0.98]),     # intervals overlap, B better on every seed
             ([0.97, 0.99, 0.95, 0.96], [0.96, 0.98, 0.97, 0.97]),     # no consistent difference
             ([0.80, 0.81, 0.79, 0.80], [0.80, 0.81, 0.79, 0.80])]     # identical
    problems = []
    for a, b in cases:
        want = reference_paired_verdict(a, b)
        try:
            got = fn(list(a), list(b))
        except Exception as error:  # the learner's code: report, never raise
            return report([f"your function raised {type(error).__name__}: {error}"], "")
        if got is None:
            return report(["your function returned None: return 'B better', 'A better' or "
                           "'no difference detected'"], "")
        if got != want:
            hint = ("the two intervals overlap, yet B is better on every seed: compare the per-seed "
                    "differences, not the two intervals" if a[0] == 0.90 else
                    "take the interval of the differences B - A (mean_ci from utils.stats) and check "
                    "whether it excludes zero")
            problems.append(f"a={a}, b={b}: the answer is {want!r}, you said {got!r}. {hint}")
    return report(problems, "right: a paired difference whose interval excludes zero separates two models, "
                            "even where their own intervals overlap")


def check_block_removed(build, data, model_name: str = "05 BiLSTM + encoder block") -> bool:
    """Is ``build(data)`` the registry's ``model_name`` without its encoder block, all else kept?"""
    from keras import layers

    from ..registry import MODELS

    spec = MODELS[model_name].spec
    units, dropout, input_noise = spec.units, spec.head_dropout, spec.input_noise
    model, problem = built_model(build, data, "Replace None with a model: lesson 05's, without its encoder block.")
    if problem:
        return report([problem], "")
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


def reference_flip_rate(a, b, k: int, draws: int = 20) -> float:
    """Exercise 6.4's answer: the share of ``draws`` random k-seed subsets whose verdict differs from the
    verdict on all seeds (subsets drawn with ``np.random.default_rng(k)``, sorted)."""
    full = compare_paired(a, b).verdict
    rng = np.random.default_rng(k)
    flips = 0
    for _ in range(draws):
        subset = sorted(int(s) for s in rng.choice(a.seeds, size=k, replace=False))
        flips += compare_paired(a.subset(subset), b.subset(subset)).verdict != full
    return flips / draws


def check_flip_rate(fn, a, b) -> bool:
    """Does ``fn(a, b, k)`` return the flip rate of the paired verdict over k-seed subsets?"""
    ks = sorted({2, len(a.seeds)})
    problems = []
    for k in ks:
        want = reference_flip_rate(a, b, k)
        try:
            got = fn(a, b, k)
        except Exception as error:  # the learner's code: report, never raise
            return report([f"fn(a, b, {k}) raised {type(error).__name__}: {error}"], "")
        if got is None:
            return report(["your function returned None: return the share of subsets whose verdict flips"], "")
        got, problem = as_number(got, "a number between 0 and 1")
        if problem:
            return report([problem], "")
        if abs(got - want) > 1e-9:
            hint = ("with every seed there is one subset, the full set: it cannot flip" if k == len(a.seeds)
                    else "draw subsets with rng = np.random.default_rng(k), "
                         "sorted(rng.choice(a.seeds, size=k, replace=False)), 20 times, and compare each "
                         "compare_paired(a.subset(s), b.subset(s)).verdict with the verdict on all seeds")
            problems.append(f"k={k}: the flip rate is {want:.2f}, you returned {got:.2f}. {hint}")
    return report(problems, "right: the flip rate shows how many seeds this comparison needs before its "
                            "verdict stops depending on which seeds you happened to run")
