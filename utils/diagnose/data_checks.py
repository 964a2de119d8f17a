"""The clinic's data checks, and the one reader of what a learner passes as data.

:func:`as_data` takes a course ``Dataset``, ``(X, y)`` or ``(X_train, y_train, X_test, y_test)`` and keeps the labels
as given (integer or one-hot), because the loss check asks which the model was compiled for. :func:`data_checks`
reads the training split: non-finite values, feature scale, constant features, real steps equal to the mask value,
left padding, class balance, examples per class, and test sequences that also appear in training.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from ..data import Dataset
from ..validators import padded_lengths
from .report import CANNOT, OK, WARNING, Finding

MIN_PER_CLASS = 10       # fewer training sequences than this in a class is a warning
IMBALANCE_RATIO = 3.0    # largest over smallest class count above this is a warning


@dataclass
class LearnerData:
    """A learner's data as the clinic reads it: the splits' arrays, labels as given, and the number of classes."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray          # as given: integer labels (N,), one-hot (N, C), or per-step labels (N, T)
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    n_classes: int
    per_step: bool = False       # one label per time step (sequence labelling, lesson 09), 0 on padded steps

    @property
    def tokens(self) -> bool:
        """True when ``X`` holds token ids ``(N, T)`` rather than features ``(N, T, F)``."""
        return self.X_train.ndim == 2

    def sparse(self, y) -> np.ndarray:
        """Integer labels from integer ``(N,)`` or one-hot ``(N, C)`` labels; per-step labels as they are.

        Args:
            y: the labels.

        Returns:
            ``(N,)`` int64 labels, or ``(N, T)`` for per-step labels.
        """
        return np.argmax(y, axis=1) if y.ndim == 2 and not self.per_step else y.astype(np.int64)


def as_data(data) -> LearnerData:
    """A course ``Dataset``, ``(X, y)`` or ``(X_train, y_train, X_test, y_test)``.

    Args:
        data: a course ``Dataset`` or a tuple of two or four arrays; labels integer ``(N,)`` or one-hot ``(N, C)``.

    Returns:
        A :class:`LearnerData` with the labels kept as given and at least 2 classes (no test split for ``(X, y)``).

    Raises:
        ValueError: ``data`` is none of these forms; an ``X`` that is not ``(batch, time[, features])``, empty or
            not numeric; labels of the wrong shape or type, negative, or not one per sequence; or splits with
            different features.
    """
    if isinstance(data, Dataset):   # a course Dataset holds integer labels: (N,), or (N, T) per step
        return LearnerData(data.name, data.train.X, data.train.y, data.test.X, data.test.y, data.n_classes,
                           per_step=data.train.y.ndim == 2)
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise ValueError("data must be a course Dataset, (X, y) or (X_train, y_train, X_test, y_test), "
                         f"got {type(data).__name__}")
    arrays = [np.asarray(a) for a in data]
    X_train, y_train = arrays[:2]
    X_test, y_test = arrays[2:] if len(arrays) == 4 else (None, None)
    for X, y, part in ((X_train, y_train, "train"), (X_test, y_test, "test")):
        if X is None:
            continue
        if X.ndim not in (2, 3):
            raise ValueError(f"{part} X must be (batch, time, features) or (batch, time) token ids, "
                             f"got shape {X.shape}")
        if len(X) == 0 or X.shape[1] == 0:
            raise ValueError(f"{part} X is empty: shape {X.shape}")
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"{part} X must be numeric, got dtype {X.dtype}")
        if y.ndim not in (1, 2):
            raise ValueError(f"{part} y must be (batch,) labels or (batch, classes) one-hot, got shape {y.shape}")
        if len(y) != len(X):
            raise ValueError(f"unequal {part} split: {len(X)} sequences in X_{part} but {len(y)} labels in "
                             f"y_{part}; give one label per sequence")
        if y.ndim == 1 and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{part} y must hold integer class labels, got dtype {y.dtype}")
        if np.any(y < 0):
            raise ValueError(f"{part} labels must be >= 0")
    if X_test is not None and (X_test.ndim != X_train.ndim or X_test.shape[2:] != X_train.shape[2:]):
        raise ValueError(f"unequal splits: the training sequences have shape {X_train.shape[1:]} per sequence, the "
                         f"test sequences {X_test.shape[1:]}; both splits must come from the same features")
    per_step = y_train.ndim == 2 and y_train.shape[1] == X_train.shape[1] and not _one_hot(y_train)
    learner = LearnerData("your data", X_train, y_train, X_test, y_test, 2, per_step)
    labels = [learner.sparse(y) for y in (y_train, y_test) if y is not None]
    n_classes = y_train.shape[1] if y_train.ndim == 2 and not per_step else int(max(y.max() for y in labels)) + 1
    learner.n_classes = max(n_classes, 2)
    return learner


def _one_hot(y: np.ndarray) -> bool:
    """Rows of 0s and 1s with one 1 each: one-hot labels (per-step labels (N, T) hold class ids, 0 on padding)."""
    return bool(np.isin(y, (0, 1)).all() and np.all(y.sum(axis=1) == 1))


def as_token_ids(data: LearnerData, model) -> LearnerData:
    """Token ids stored as ``(N, T, 1)`` (a course text ``Dataset``) for a model that takes ``(N, T)``.

    Args:
        data: the learner's data; changed in place when it is converted.
        model: the model the data is for.

    Returns:
        ``data``, its ``X`` arrays squeezed to ``(N, T)`` when the model takes token ids and they hold
        integer ``(N, T, 1)`` arrays; unchanged otherwise.
    """
    takes_ids = isinstance(model, keras.Model) and getattr(model, "inputs", None) and len(model.inputs[0].shape) == 2
    if takes_ids and data.X_train.ndim == 3 and data.X_train.shape[2] == 1 and np.issubdtype(data.X_train.dtype,
                                                                                                np.integer):
        data.X_train = data.X_train[..., 0]
        data.X_test = None if data.X_test is None else data.X_test[..., 0]
    return data


def data_checks(data: LearnerData, pad: float | None) -> list[Finding]:
    """The clinic's data checks on the training split (and, for duplicates and non-finite values, the test split).

    Args:
        data: the learner's data (from :func:`as_data`).
        pad: the model's mask value (``None``: the model masks nothing, and 0 is taken as the padding).

    Returns:
        One :class:`~utils.diagnose.report.Finding` per check: non-finite values, feature scale, constant features,
        real steps equal to the mask value, left padding, class balance, examples per class and train/test
        duplicates.
    """
    findings = []
    add = lambda *a, **k: findings.append(Finding("data", *a, **k))  # noqa: E731
    parts = [("train", data.X_train)] + ([("test", data.X_test)] if data.X_test is not None else [])
    bad = {part: int(np.count_nonzero(~np.isfinite(X))) for part, X in parts if np.issubdtype(X.dtype, np.floating)}
    if any(bad.values()):
        add("NaN or inf", WARNING, ", ".join(f"{n} non-finite values in {p}" for p, n in bad.items() if n),
            float(sum(bad.values())), "one NaN turns the loss into NaN and every prediction after it into noise",
            "find where they come from; impute or drop those sequences before padding")
    else:
        add("NaN or inf", OK, "none", 0.0)
    X = np.nan_to_num(data.X_train.astype(np.float64)) if not data.tokens else data.X_train
    pad_value = 0.0 if pad is None else pad
    lengths = padded_lengths(X, pad_value)
    if data.tokens:
        add("feature scale", CANNOT, "token ids: no features to scale", None)
    else:
        real = np.arange(X.shape[1])[None, :] < lengths[:, None]
        steps = X[real]
        std, mean = steps.std(axis=0), steps.mean(axis=0)
        constant = np.flatnonzero(std == 0)
        spread = float(std.max() / max(std[std > 0].min(), 1e-12)) if np.any(std > 0) else math.inf
        off = float(np.max(np.abs(mean) / np.maximum(std, 1e-12)))
        if constant.size:
            add("constant features", WARNING, f"{constant.size} feature(s) never change (e.g. feature "
                f"{constant[0]})", float(constant.size), "a constant carries no information and, at 0, "
                "feeds Masking's all-zero test", "drop the feature")
        if spread > 100 or off > 10:
            add("feature scale", WARNING, f"feature standard deviations differ by a factor of {spread:.3g} and a "
                f"mean lies {off:.3g} standard deviations from 0", spread,
                "unscaled features saturate the LSTM's gates and let one feature drown the others",
                "standardise each feature with the training split's mean and std "
                "(utils.data.dataset_from_sequences does it)")
        else:
            add("feature scale", OK, f"standard deviations within a factor of {spread:.3g}, means within "
                f"{off:.3g} std of 0", spread)
        zero = ~np.any(X != pad_value, axis=2)
        start = np.argmax(~zero, axis=1)   # the first real step (after any left padding)
        interior = zero & real & (np.arange(X.shape[1])[None, :] >= start[:, None])
        leading = zero[:, 0] & ~zero.all(axis=1)
        n_interior = int(interior.sum())
        if n_interior:
            i, t = np.argwhere(interior)[0]
            add("all-zero real steps", WARNING, f"{n_interior} real step(s) equal the mask value {pad_value:g} in "
                f"every feature (first: sequence {i}, step {t})", float(n_interior),
                f"Masking(mask_value={pad_value:g}) silently treats them as padding, mid-sequence",
                "shift the data (utils.data.dataset_from_sequences(shift=...)) or pad with a value the data "
                "never takes, and use that as Masking's mask_value")
        else:
            add("all-zero real steps", OK, "no real step equals the mask value in every feature", 0.0)
        n_left = int(leading.sum())
        if n_left > 0.1 * len(X):
            add("left padding", WARNING, f"{n_left} of {len(X)} sequences start with padding", n_left / len(X),
                "the cuDNN kernel needs right padding, and a last-state read-out then reads padding",
                "pad on the right: keras.utils.pad_sequences(..., padding='post')")
        else:
            add("left padding", OK, f"{n_left} of {len(X)} sequences start with an all-padding step",
                n_left / len(X))
    y = data.sparse(data.y_train)
    unit = "training sequences"
    if data.per_step:   # count the labels of real steps: padded steps carry label 0 and count in nothing
        y, unit = y[np.arange(y.shape[1])[None, :] < lengths[:, None]], "real training steps"
    counts = np.bincount(y, minlength=data.n_classes)
    majority = counts.max() / counts.sum()
    ratio = counts.max() / max(counts.min(), 1)
    baseline = (f"always answering class {int(counts.argmax())} scores {majority:.3f}: every accuracy must beat it "
                "(report balanced accuracy too)")
    if ratio > IMBALANCE_RATIO:
        add("class imbalance", WARNING, f"class counts {counts.tolist()} (largest/smallest {ratio:.1f}); "
            + baseline, majority, "accuracy rewards the majority class; a model can look good by ignoring the rest",
            "report balanced accuracy and per-class recall; try class_weight or resampling")
    else:
        add("class imbalance", OK, f"class counts {counts.tolist()}; " + baseline, majority)
    if counts.min() < MIN_PER_CLASS:
        add("examples per class", WARNING, f"class {int(counts.argmin())} has {counts.min()} {unit}",
            float(counts.min()), "too few examples to learn the class, or to score it reliably",
            "collect more, merge rare classes, or use a simpler model")
    else:
        add("examples per class", OK, f"at least {counts.min()} {unit} per class", float(counts.min()))
    if data.X_test is None:
        add("train/test duplicates", CANNOT, "no test split given", None)
    else:
        seen = {np.ascontiguousarray(row).tobytes() for row in np.nan_to_num(data.X_train)}
        dup = sum(np.ascontiguousarray(row).tobytes() in seen for row in np.nan_to_num(data.X_test))
        if dup:
            add("train/test duplicates", WARNING, f"{dup} of {len(data.X_test)} test sequences also appear in the "
                "training split", dup / len(data.X_test), "duplicated items leak the answer: the test "
                "accuracy overstates what the model does on new data", "deduplicate before splitting")
        else:
            add("train/test duplicates", OK, "no test sequence appears in the training split", 0.0)
    return findings
