"""Self-check helpers for the lessons' exercises, one module per lesson (``lesson01`` ...).

Each ``check_...`` function prints what is right or wrong and returns True or False; it never
raises on a wrong answer, so an unfinished exercise does not stop the notebook.
"""


def report(problems: list[str], success: str) -> bool:
    """Print each problem with ✗ (or the success line with ✓); True when there is no problem."""
    for problem in problems:
        print("✗", problem)
    if not problems:
        print("✓", success)
    return not problems


PADDING_TOLERANCE = 1e-5  # a larger padding_gap means padded steps leak into the prediction


def padding_gap(model, data, n_check: int = 6) -> float:
    """Largest change in a predicted probability between test sequences with and without their padding.

    The model is called on an input of any length, so the same weights see each sequence at its true
    length and padded. Raises what Keras raises for a model tied to one length (e.g. through Flatten).
    """
    import keras
    import numpy as np

    flexible = keras.models.clone_model(model, input_tensors=keras.Input((None, data.n_features)))
    flexible.set_weights(model.get_weights())
    gap = 0.0
    for x, length in zip(data.test.X[:n_check], data.test.lengths[:n_check]):
        padded, unpadded = flexible(x[None]), flexible(x[None, :length])
        gap = max(gap, float(np.abs(np.asarray(padded) - np.asarray(unpadded)).max()))
    return gap


def padding_problem(model, data, cannot_run: str, leaks: str, n_check: int = 6) -> str | None:
    """What is wrong with how ``model`` handles padding, or None when padding leaves its prediction unchanged.

    ``cannot_run`` (formatted with ``error`` and ``max_len``) is for a model tied to one length;
    ``leaks`` (formatted with ``gap``) is for a prediction that padding changes by more than the tolerance.
    """
    try:
        gap = padding_gap(model, data, n_check)
    except Exception as error:  # e.g. Flatten, which ties the model to one length
        return cannot_run.format(error=type(error).__name__, max_len=data.max_len)
    return leaks.format(gap=gap) if gap > PADDING_TOLERANCE else None
