"""Lesson 09's sequence-labelling data and peer: one label per time step instead of one per sequence.

- :func:`make_cue_task`: a seeded synthetic task where a cue decides how steps far away are labelled, with the
  cue-to-target distance as a knob (attention can look the cue up; a recurrent state has to carry it).
- :func:`concatenated_vowels`: JapaneseVowels utterances joined end to end, each step labelled with its speaker,
  some speakers returning later in the sequence; built deterministically from the checksummed
  ``data/japanese_vowels.npz`` (train sequences from its train split only, test sequences from its test split).
- :func:`windowed_peer_runs`: a non-neural peer, scikit-learn's logistic regression on each step's window of
  neighbouring steps.

Per-step labels are ``(N, T)`` integers; padded steps carry label 0 and count in no loss or metric
(:func:`utils.training.labelling_metrics`, the per-step ``sample_weight`` in :func:`utils.training.run_seeds`).
"""
from __future__ import annotations

import hashlib
import time

import numpy as np

from .data import Dataset, SequenceSet, apply_scaler, fit_scaler, load_japanese_vowels
from .validators import validate_sequences, whole_number

#: SHA-256 (:func:`arrays_digest`) of ``concatenated_vowels(normalise=False)`` with its defaults: the built arrays
#: that lesson 09b and data/README.md describe (a test checks it).
CONCATENATED_SHA256 = "16987466c149cd84426e5a8d8e68642f55f0ace3d0a4d96504fda747347f4aee"
#: The cue task's tokens (one-hot features): three cues, one target marker, four distractors.
CUES, DISTRACTORS = 3, 4
CUE_CLASSES = ("other", "cue 1", "cue 2", "cue 3")


def make_cue_task(n_train: int = 600, n_test: int = 300, *, distance=(1, 40), target_len: int = 8,
                  min_len: int = 48, max_len: int = 60, noise: float = 0.0, seed: int = 0) -> Dataset:
    """A seeded labelling task where a cue decides how the steps ``distance`` steps after it are labelled.

    ``distance``: one distance for every sequence, or ``(low, high)``: each sequence draws its own, uniformly
    from ``low`` to ``high`` inclusive (:func:`cue_distances` reads it back), so one trained model can be
    scored at every distance.

    Each sequence is a random run of distractor tokens (label ``other``) of a random length in
    ``[min_len, max_len]``. One step holds one of three cues (label ``other``); the ``target_len`` steps that
    start ``distance`` steps after it hold a target marker and are labelled with that cue (``cue 1`` to
    ``cue 3``). A target step's own token says only *that* it is a target; *which* label it gets sits
    ``distance`` steps back, so without the cue the best guess on a target step is one in three.
    The lengths do not depend on ``distance``, so a sweep over it changes nothing else.

    Features are one-hot tokens (8 channels), plus Gaussian ``noise`` on real steps; ``motif_start`` holds the
    cue's step and ``motif_class`` its class (1 to 3).

    Args:
        n_train: training sequences.
        n_test: test sequences.
        distance: the cue-to-target distance, or ``(low, high)`` to draw one per sequence.
        target_len: target steps per sequence.
        min_len: the shortest sequence.
        max_len: the longest sequence, and the padded length.
        noise: the standard deviation of Gaussian noise on real steps (0: none).
        seed: the random seed.

    Returns:
        A :class:`utils.data.Dataset` with per-step labels ``(N, T)`` and the classes :data:`CUE_CLASSES`.

    Raises:
        ValueError: a count, distance, ``target_len`` or ``min_len`` that is not a whole number >= 1, or unless
            ``low <= high`` and ``high + target_len <= min_len <= max_len``.

    Example:
        ::

            near, far = make_cue_task(distance=2), make_cue_task(distance=30)
    """
    low, high = (distance, distance) if np.ndim(distance) == 0 else tuple(distance)
    for name, value in (("n_train", n_train), ("n_test", n_test), ("distance", low), ("distance", high),
                        ("target_len", target_len), ("min_len", min_len)):
        whole_number(name, value)
    if not (low <= high and high + target_len <= min_len <= max_len):
        raise ValueError(f"need distance + target_len <= min_len <= max_len, got {distance} + {target_len}, "
                         f"{min_len}, {max_len}")
    rng = np.random.default_rng(seed)
    n_tokens = CUES + 1 + DISTRACTORS

    def part(n: int) -> SequenceSet:
        lengths = rng.integers(min_len, max_len + 1, size=n)
        distances = rng.integers(low, high + 1, size=n)
        cue_at = rng.integers(0, lengths - distances - target_len + 1)
        cue = rng.integers(0, CUES, size=n)
        tokens = CUES + 1 + rng.integers(0, DISTRACTORS, size=(n, max_len))
        y = np.zeros((n, max_len), np.int32)
        for i in range(n):
            tokens[i, cue_at[i]] = cue[i]
            span = slice(cue_at[i] + distances[i], cue_at[i] + distances[i] + target_len)
            tokens[i, span] = CUES
            y[i, span] = 1 + cue[i]
        real = np.arange(max_len)[None, :] < lengths[:, None]
        X = np.eye(n_tokens, dtype=np.float32)[tokens]
        if noise:
            X = X + noise * rng.standard_normal(X.shape).astype(np.float32)
        X = X * real[..., None]
        y = y * real
        validate_sequences(X, y, len(CUE_CLASSES), lengths)
        return SequenceSet(X, lengths.astype(np.int32), y, cue_at.astype(np.int32), (1 + cue).astype(np.int32))

    train, test = part(n_train), part(n_test)
    name = f"distance {low}" if low == high else f"distances {low}-{high}"
    return Dataset(f"cue task ({name})", train, test, CUE_CLASSES)


def cue_distances(part: SequenceSet) -> np.ndarray:
    """(N,) each sequence's distance from its cue to its first target step (a :func:`make_cue_task` split).

    Args:
        part: a split of :func:`make_cue_task`.

    Returns:
        ``(N,)`` integer distances.
    """
    return np.argmax(part.y != 0, axis=1) - part.motif_start


def cue_target_steps(part: SequenceSet) -> np.ndarray:
    """(N, T) booleans: the target steps of :func:`make_cue_task`, the ones whose label the cue decides.

    Args:
        part: a split of :func:`make_cue_task`.

    Returns:
        ``(N, T)`` booleans: True where the label is not ``other``.
    """
    return part.y != 0


def concatenated_vowels(n_train: int = 300, n_test: int = 300, *, utterances: int = 4, speakers: int = 3,
                        seed: int = 0, normalise: bool = True) -> Dataset:
    """JapaneseVowels utterances joined end to end; every step is labelled with the speaker of its utterance.

    Each sequence takes ``speakers`` distinct speakers and strings ``utterances`` utterances of theirs together,
    no speaker twice in a row, each speaker at least once, so with more utterances than speakers some speaker
    returns later. Training sequences use the training split's utterances only and test sequences the test
    split's only, so no test recording is ever seen in training. ``normalise`` standardises every channel with the
    mean and standard deviation of the real training steps. Deterministic for a given ``seed``: the raw arrays
    (``normalise=False``) of the defaults have the SHA-256 :data:`CONCATENATED_SHA256` (:func:`arrays_digest`).

    Args:
        n_train: training sequences.
        n_test: test sequences.
        utterances: utterances per sequence.
        speakers: distinct speakers per sequence, at least 2 and at most ``utterances``.
        seed: the random seed.
        normalise: standardise with the real training steps' statistics.

    Returns:
        A :class:`utils.data.Dataset` with per-step labels ``(N, T)`` (the speakers) and JapaneseVowels' class names.

    Raises:
        ValueError: ``utterances`` below 1, ``speakers`` below 2 or above ``utterances``, or
            ``data/japanese_vowels.npz`` missing or failing its checksum.
    """
    whole_number("utterances", utterances)
    whole_number("speakers", speakers, minimum=2)
    if speakers > utterances:
        raise ValueError(f"need speakers <= utterances, got {speakers} > {utterances}")
    jv = load_japanese_vowels(normalise=False)
    rng = np.random.default_rng(seed)

    def speaker_order() -> list[int]:
        while True:
            order = [int(rng.integers(speakers))]
            for _ in range(utterances - 1):
                order.append(int(rng.choice([s for s in range(speakers) if s != order[-1]])))
            if len(set(order)) == speakers:
                return order

    def part(source: SequenceSet, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        pools = {c: np.flatnonzero(source.y == c) for c in range(jv.n_classes)}
        built = []
        for _ in range(n):
            who = rng.choice(jv.n_classes, size=speakers, replace=False)
            steps, labels = [], []
            for s in speaker_order():
                i = int(rng.choice(pools[who[s]]))
                steps.append(source.X[i, :source.lengths[i]])
                labels.append(np.full(source.lengths[i], who[s], np.int32))
            built.append((np.concatenate(steps), np.concatenate(labels)))
        return built

    parts = {"train": part(jv.train, n_train), "test": part(jv.test, n_test)}
    max_len = max(len(x) for built in parts.values() for x, _ in built)
    sets = {}
    for name, built in parts.items():
        X = np.zeros((len(built), max_len, jv.n_features), np.float32)
        y = np.zeros((len(built), max_len), np.int32)
        lengths = np.array([len(x) for x, _ in built], np.int32)
        for i, (x, labels) in enumerate(built):
            X[i, :len(x)], y[i, :len(x)] = x, labels
        validate_sequences(X, y, jv.n_classes, lengths)
        sets[name] = SequenceSet(X, lengths, y)
    if normalise:
        mean, std = fit_scaler(sets["train"])
        sets = {name: apply_scaler(part, mean, std) for name, part in sets.items()}
    return Dataset("JapaneseVowels, concatenated", sets["train"], sets["test"], jv.class_names)


def arrays_digest(data: Dataset) -> str:
    """SHA-256 of a dataset's arrays (X, lengths, y of both splits, in that order): the built data's checksum.

    Args:
        data: a :class:`utils.data.Dataset`.

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256()
    for part in (data.train, data.test):
        for array in (part.X, part.lengths, part.y):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def window_features(part: SequenceSet, width: int) -> np.ndarray:
    """(real steps, (2 * width + 1) * F) features: each real step with ``width`` neighbours on each side, in the
    order of ``part``'s real steps (row by row); steps beyond a sequence's ends are zeros, never its padding's
    neighbours.

    Args:
        part: a :class:`utils.data.SequenceSet`.
        width: neighbours on each side, a whole number >= 0.

    Returns:
        ``(real steps, (2 * width + 1) * F)`` features.

    Raises:
        ValueError: ``width`` is not a whole number >= 0.
    """
    whole_number("width", width, minimum=0)
    N, T, F = part.X.shape
    real = np.arange(T)[None, :] < part.lengths[:, None]
    padded = np.zeros((N, T + 2 * width, F), part.X.dtype)
    padded[:, width:width + T] = part.X * real[..., None]
    windows = np.concatenate([padded[:, k:k + T] for k in range(2 * width + 1)], axis=2)
    return windows[real]


def windowed_peer_runs(data: Dataset, seeds, width: int = 3, C: float = 1.0,
                       name: str | None = None):
    """Logistic regression (scikit-learn) on each step's window of ``2 * width + 1`` steps, as a
    :class:`utils.training.SeedComparison`: it is deterministic, so its one fit is repeated for every seed, and
    :func:`utils.stats.compare_paired` can set it against a model trained on those seeds, sequence by sequence.

    Args:
        data: a :class:`utils.data.Dataset` with per-step labels.
        seeds: at least 2 distinct seeds, those of the model it is compared with.
        width: neighbours on each side of a step.
        C: the logistic regression's inverse regularisation strength.
        name: the name in tables (default: ``"logistic regression, window ±<width>"``).

    Returns:
        A :class:`utils.training.SeedComparison` with one identical run per seed.

    Raises:
        ValueError: fewer than 2 distinct seeds, or ``width`` not a whole number >= 0.

    Example:
        ::

            peer = windowed_peer_runs(cue, seeds=range(10))
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .training import RunResult, SeedComparison, accuracy_on, distinct_seeds, real_steps, score

    seeds = distinct_seeds(seeds)
    start = time.perf_counter()
    train_real = real_steps(data.train.lengths, data.max_len)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    model.fit(window_features(data.train, width), data.train.y[train_real])

    def predict(part: SequenceSet) -> np.ndarray:
        y_pred = np.zeros(part.y.shape, np.int32)
        y_pred[real_steps(part.lengths, part.X.shape[1])] = model.predict(window_features(part, width))
        return y_pred

    y_pred, train_pred = predict(data.test), predict(data.train)
    seconds = time.perf_counter() - start
    n_params = int(model[-1].coef_.size + model[-1].intercept_.size)
    metrics, train_accuracy = score(data.test, y_pred, data.n_classes), accuracy_on(data.train, train_pred)
    runs = [RunResult(seed, dict(metrics), train_accuracy, {}, y_pred, seconds, n_params) for seed in seeds]
    return SeedComparison.scored_on(name or f"logistic regression, window ±{width}", runs, data.test)
