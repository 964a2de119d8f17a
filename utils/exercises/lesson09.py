"""Lesson 09 self-checks: the padding mistake by hand, what a causal window sees, and a streaming labeller.

Each check prints what is right or wrong and returns True or False; it never raises on a wrong answer.
"""
from __future__ import annotations

import math

import numpy as np

from . import as_number, built_model, report

#: Exercise 1's numbers: 80% of real steps right, sequences 30 steps long on average, padded to 60.
REAL_ACCURACY, MEAN_LENGTH, PADDED_TO = 0.8, 30, 60


def check_inflated_accuracy(value) -> bool:
    """Exercise 1: the accuracy ``np.mean(y_pred == y)`` reports over the padded array when every padded step
    counts as right. Within 0.005 passes."""
    real_share = MEAN_LENGTH / PADDED_TO
    expected = real_share * REAL_ACCURACY + (1 - real_share)
    value, problem = as_number(value, "one number between 0 and 1")
    if problem:
        return report([problem], "")
    if math.isclose(value, expected, abs_tol=0.005):
        return report([], f"{expected:.2f}: half the array is padding, all of it 'right', so 0.80 becomes "
                          f"{expected:.2f}")
    if math.isclose(value, REAL_ACCURACY, abs_tol=0.005):
        return report(["0.80 is the accuracy over real steps; the careless metric also counts every padded step, "
                       "and each of those is right"], "")
    return report([f"{value:.3g} is not it. Hint: what share of the array's steps are real? Those are right 80% of "
                   "the time, the rest always"], "")


def _expected_offsets(width: int = 5) -> list[int]:
    """The key offsets :class:`utils.self_attention.SeqSelfAttention` allows a query with ``history_only=True``,
    read off the layer's own window (so the check follows the layer, not a copy of its rule)."""
    from keras import ops

    from ..self_attention import MaskedSeqSelfAttention

    T, t = 2 * width + 3, width + 1
    window = np.asarray(ops.convert_to_numpy(
        MaskedSeqSelfAttention(attention_width=width, history_only=True)._window(ops.zeros((1, T, T)))))[0]
    return [int(k) - t for k in np.flatnonzero(window[t])]


def check_window_keys(offsets) -> bool:
    """Exercise 2: the offsets from ``t`` of the keys that ``attention_width=5, history_only=True`` lets query
    ``t`` attend to (away from the sequence's ends)."""
    try:
        given = sorted(int(k) for k in offsets)
        if any(float(k) != int(k) for k in offsets):
            raise ValueError
    except (TypeError, ValueError):
        print(f"✗ give a list of whole numbers, e.g. [-1, 0, 1]; got {offsets!r}")
        return False
    expected = _expected_offsets(5)
    if given == expected:
        return report([], f"{expected}: the step itself and the 4 before it, 5 keys in all")
    problems = []
    if any(k > 0 for k in given):
        problems.append("history_only=True: no query sees a later step")
    if 0 not in given:
        problems.append("a step always sees itself")
    if len(given) != 5:
        problems.append(f"attention_width=5 allows 5 keys, you gave {len(given)}")
    return report(problems or [f"{given} is not it"], "")


def check_streaming_labeller(build, data, t: int = 20, n_check: int = 4, tolerance: float = 1e-5) -> bool:
    """Exercise 3: ``build(data)`` returns a labeller whose outputs at steps ``0..t`` do not change when the
    steps after ``t`` change (and it must label every step)."""
    model, problem = built_model(build, data, "build_streaming returns None: build the model with build_classifier")
    if problem:
        return report([problem], "")
    X = np.array(data.test.X[:n_check])
    lengths = data.test.lengths[:n_check]
    if lengths.min() <= t + 1:
        return report([f"the check needs test sequences longer than {t + 1} steps"], "")
    try:
        before = np.asarray(model(X))
    except Exception as error:  # the learner's model: report, never raise
        return report([f"the model does not run on the data: {type(error).__name__}: {error}"], "")
    if before.shape[:2] != X.shape[:2]:
        return report([f"the output has shape {before.shape}: a labeller outputs (sequences, steps, classes); "
                       "use pool='none'"], "")
    changed = X.copy()
    rng = np.random.default_rng(0)
    future = (np.arange(X.shape[1])[None, :] > t) & (np.arange(X.shape[1])[None, :] < lengths[:, None])
    changed[future] = np.eye(X.shape[2], dtype=X.dtype)[rng.integers(0, X.shape[2], future.sum())]  # other real tokens
    after = np.asarray(model(changed))
    gap = float(np.abs(after[:, :t + 1] - before[:, :t + 1]).max())
    if gap > tolerance:
        layers = {layer.name for layer in model.layers}
        hint = ("a Bidirectional stem reads the sequence backwards, from the future: use stem='lstm'"
                if "bilstm" in layers or "bigru" in layers else
                "attention without history_only=True looks at later steps")
        return report([f"changing steps after {t} moved the outputs at steps 0..{t} by up to {gap:.2g}: {hint}"], "")
    return report([], f"changing steps after {t} leaves every output up to step {t} unchanged (largest change "
                      f"{gap:.1g}): this labeller could label a stream as it arrives")


def _near_a_join(y, lengths, k: int) -> np.ndarray:
    """(N, T) booleans: real steps within ``k`` steps of a join (a real step whose label differs from the step
    before it), on either side of it."""
    y, lengths = np.asarray(y), np.asarray(lengths)
    T = y.shape[1]
    real = np.arange(T)[None, :] < lengths[:, None]
    joins = np.zeros_like(real)
    joins[:, 1:] = (y[:, 1:] != y[:, :-1]) & real[:, 1:]
    near = np.zeros_like(real)
    for i, t in zip(*np.nonzero(joins)):
        near[i, max(0, t - k):t + k] = True   # the k steps before the join and the join's first k steps
    return near & real


def check_near_a_join(near_a_join, data, k: int = 3) -> bool:
    """Lesson 09b, exercise 2: ``near_a_join(y, lengths, k)`` returns (N, T) booleans, True on the real steps within
    ``k`` frames of a join between two utterances (``k`` before it and ``k`` from it on), False elsewhere."""
    y, lengths = data.test.y[:20], data.test.lengths[:20]
    expected = _near_a_join(y, lengths, k)
    try:
        given = np.asarray(near_a_join(y, lengths, k))
    except Exception as error:  # the learner's code: report, never raise
        return report([f"near_a_join raised {type(error).__name__}: {error}"], "")
    if given.ndim == 0 and given.item() is None:
        return report(["near_a_join returns None: return the (sequences, steps) booleans"], "")
    if given.shape != expected.shape:
        return report([f"the result has shape {given.shape}; it must be (sequences, steps) {expected.shape}"], "")
    given = given.astype(bool)
    problems = []
    padded = ~(np.arange(y.shape[1])[None, :] < lengths[:, None])
    if np.any(given & padded):
        problems.append("some padded steps are marked: a join is between two real utterances, so keep padding out")
    if np.any(given[:, 0] & ~expected[:, 0]) or np.any(given & ~expected & ~padded):
        problems.append(f"{int((given & ~expected & ~padded).sum())} steps are marked that lie more than {k} frames "
                        "from every join (the first step of a sequence is no join)")
    if np.any(expected & ~given):
        problems.append(f"{int((expected & ~given).sum())} steps within {k} frames of a join are not marked (count "
                        f"the {k} frames before each join and the join's first {k})")
    return report(problems, f"near_a_join marks the {int(expected.sum())} real steps within {k} frames of a join "
                            f"in these 20 test sequences ({expected.sum() / lengths.sum():.1%} of their real steps)")
