"""The package's shared input checks: each raises a ``ValueError`` that names the problem and the fix.

:func:`validate_sequences` checks a right-padded batch (and returns its lengths), :func:`padded_lengths` reads
lengths off the padding, :func:`whole_number` and :func:`check_choice` check one argument. NumPy only, so any
module may use them before the Keras backend is chosen.
"""
from __future__ import annotations

import numpy as np


def padded_lengths(X, pad: float = 0.0) -> np.ndarray:
    """True lengths of right-padded sequences: up to the last step that is not all ``pad``.

    Args:
        X: ``(N, T, F)`` features or ``(N, T)`` token ids.
        pad: the padding value (``Masking``'s ``mask_value``; token id 0).

    Returns:
        ``(N,)`` int32 lengths; 0 for a sequence that is all padding.
    """
    X = np.asarray(X)
    real = (X != pad) if X.ndim == 2 else np.any(X != pad, axis=2)
    return np.where(real.any(axis=1), X.shape[1] - np.argmax(real[:, ::-1], axis=1), 0).astype(np.int32)


def validate_sequences(X, y=None, n_classes: int | None = None, lengths=None) -> np.ndarray:
    """Check a padded batch and return the true lengths; raise ValueError naming any problem.

    Padding is an all-zero time step after the last real one (right padding, as Keras'
    ``Masking(mask_value=0.0)`` and the cuDNN LSTM expect).

    Args:
        X: ``(N, T, F)`` numeric sequences.
        y: ``(N,)`` integer labels, or ``(N, T)`` per-step labels with 0 on padded steps; None skips the labels.
        n_classes: the number of classes, to check the label range; None skips that check.
        lengths: ``(N,)`` true lengths, to check against the padding; None reads them off it.

    Returns:
        ``(N,)`` int32 lengths: ``lengths`` when given, else :func:`padded_lengths`.

    Raises:
        ValueError: ``X`` is not a non-empty numeric rank-3 array, holds NaN or inf, has a sequence that is all
            padding or an all-zero step before its last real one; ``lengths`` of the wrong shape, outside 1..T or
            shorter than a sequence's real steps; ``y`` not rank 1 or 2, not one per sequence, not integers, with
            per-step labels of the wrong length or non-zero on padding, or outside ``0..n_classes - 1``.

    Example:
        ::

            lengths = validate_sequences(data.train.X, data.train.y, data.n_classes)
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must be rank 3 (batch, time, features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"X is empty: shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    if not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"X contains NaN or inf (first at sample {bad[0]}, step {bad[1]})")
    real = np.any(X != 0, axis=2)
    found = padded_lengths(X)
    empty = np.flatnonzero(found == 0)
    if empty.size:
        raise ValueError(f"{empty.size} sequence(s) are all padding (e.g. sample {empty[0]})")
    gaps = np.argwhere(~real & (np.arange(X.shape[1])[None, :] < found[:, None]))
    if gaps.size:
        i, t = gaps[0]
        raise ValueError(f"sample {i} has an all-zero step at {t}, before its last real step: Masking would "
                         "treat it as padding. Pad on the right only (and keep real steps non-zero)")
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (X.shape[0],):
            raise ValueError(f"lengths must have shape ({X.shape[0]},), got {lengths.shape}")
        if np.any(lengths < 1) or np.any(lengths > X.shape[1]):
            raise ValueError(f"lengths must lie in 1..{X.shape[1]}")
        if np.any(found > lengths):
            i = int(np.flatnonzero(found > lengths)[0])
            raise ValueError(f"sample {i} has non-zero steps after its length {lengths[i]}")
        found = lengths.astype(np.int32)
    if y is not None:
        y = np.asarray(y)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be rank 1 (integer class labels, one per sequence) or rank 2 (one per "
                             f"step, for sequence labelling), got shape {y.shape}")
        if len(y) != len(X):
            raise ValueError(f"X and y disagree in length: {len(X)} sequences but {len(y)} labels")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
        if y.ndim == 2:
            _check_step_labels(y, X.shape[1], found)
        if n_classes is not None and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"labels must lie in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
    return found.astype(np.int32)


def _check_step_labels(y: np.ndarray, max_len: int, lengths: np.ndarray) -> None:
    """Per-step labels ``y`` (N, T) (sequence labelling, lesson 09): one label per time step, and padded steps
    labelled 0 (the loss and the metrics leave them out, so another label there means misaligned labels)."""
    if y.shape[1] != max_len:
        raise ValueError(f"y must be rank 1 (one label per sequence) or, for sequence labelling, rank 2 with one "
                         f"label per time step: y has {y.shape[1]} steps but X has {max_len}; pad per-step labels "
                         "on the right with 0, as X is padded")
    on_padding = (y != 0) & (np.arange(max_len)[None, :] >= lengths[:, None])
    if on_padding.any():
        i, t = np.argwhere(on_padding)[0]
        raise ValueError(f"sample {i} has label {y[i, t]} on padded step {t} (its length is {lengths[i]}): "
                         "padded steps carry label 0 and count in no loss or metric; check that each sequence's "
                         "labels line up with its steps")


def whole_number(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int; a ValueError naming ``name`` unless it is a whole number >= ``minimum``.

    Args:
        name: the argument's name, for the message.
        value: the value to check (a Python or NumPy integer; not a bool).
        minimum: the smallest allowed value.

    Returns:
        ``int(value)``.

    Raises:
        ValueError: ``value`` is not an integer, is a bool, or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_choice(name: str, value, choices) -> None:
    """A ValueError naming ``name`` unless ``value`` is one of ``choices``.

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        choices: the allowed values.

    Raises:
        ValueError: ``value`` is not in ``choices``.
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
