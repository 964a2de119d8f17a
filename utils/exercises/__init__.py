"""Self-check helpers for the lessons' exercises, one module per lesson (``lesson01`` ...).

Each ``check_...`` function prints what is right or wrong and returns True or False; it never
raises on a wrong answer, so an unfinished exercise does not stop the notebook.
"""


def report(problems: list[str], success: str) -> bool:
    """Print each problem with ✗ (or the success line with ✓); True when there is no problem.

    Args:
        problems: what is wrong, one sentence each.
        success: the line printed when nothing is.

    Returns:
        True when ``problems`` is empty.
    """
    for problem in problems:
        print("✗", problem)
    if not problems:
        print("✓", success)
    return not problems


def as_number(answer, what: str = "one number") -> tuple[float | None, str | None]:
    """``(value, None)`` when ``answer`` is one number (a Python or NumPy scalar, a one-element array, a numeric
    string), else ``(None, problem)`` with the problem in words ("give {what}, got ..."). Never raises.

    Args:
        answer: the learner's answer.
        what: what was asked for, in words.

    Returns:
        ``(float value, None)`` or ``(None, problem)``.
    """
    import numpy as np

    try:
        return float(np.asarray(answer)), None
    except (TypeError, ValueError):
        shape = np.shape(answer) if isinstance(answer, (list, tuple, np.ndarray)) else None
        got = f"{type(answer).__name__} of shape {shape}" if shape else f"{type(answer).__name__} {answer!r}"
        return None, f"give {what}, got {got}"


def built_model(build, data, replace_none: str):
    """``(model, None)`` when ``build(data)`` returns a Keras model, else ``(None, problem)``: what went wrong, in
    words (it raised, returned None, whose hint is ``replace_none``, or returned something else). Never raises.

    Args:
        build: the learner's function ``data -> keras.Model``.
        data: the data to build for.
        replace_none: the problem to report when ``build`` returns None (the exercise's hint).

    Returns:
        ``(model, None)`` or ``(None, problem)``.
    """
    import keras

    try:
        model = build(data)
    except Exception as error:  # the learner's code: report, never raise
        return None, f"build(data) raised {type(error).__name__}: {error}"
    if model is None:
        return None, replace_none
    if not isinstance(model, keras.Model):
        return None, f"build(data) must return a keras.Model, got {type(model).__name__}"
    return model, None


def padding_problem(model, data, cannot_run: str, leaks: str, n_check: int = 6) -> str | None:
    """What is wrong with how ``model`` handles padding, or None when padding leaves its prediction unchanged.

    Measured by :func:`utils.inspection.padding_gap` on the first ``n_check`` test sequences.
    ``cannot_run`` (formatted with ``error`` and ``max_len``) is for a model tied to one length;
    ``leaks`` (formatted with ``gap``) is for a prediction that padding changes by more than the tolerance.

    Args:
        model: a Keras model with one sequence input.
        data: a :class:`utils.data.Dataset`; token ids stored ``(N, T, 1)`` are given to a model that reads
            ``(N, T)`` as ``(N, T)``.
        cannot_run: the problem when :func:`utils.inspection.padding_gap` raises.
        leaks: the problem when the gap exceeds :data:`utils.inspection.PADDING_TOLERANCE`.
        n_check: how many test sequences to check.

    Returns:
        The formatted problem, or None. Never raises for the model's sake: any error becomes ``cannot_run``.
    """
    from ..inspection import PADDING_TOLERANCE, padding_gap

    X = data.test.X
    if X.ndim == 3 and X.shape[2] == 1 and len(model.inputs[0].shape) == 2:
        X = X[..., 0]   # token ids, stored (N, T, 1), for a model that reads (N, T) (lesson 08)
    try:
        gap = padding_gap(model, X, data.test.lengths, n_check)
    except Exception as error:  # e.g. Flatten, which ties the model to one length
        return cannot_run.format(error=type(error).__name__, max_len=data.max_len)
    return leaks.format(gap=gap) if gap > PADDING_TOLERANCE else None
