"""Peers that are not neural networks, scored in the same format as the course's models.

MiniRocket (Dempster, Schmidt & Webb, KDD 2021) turns each series into about 10,000 features from fixed
convolution kernels and fits a ridge classifier on them. We use aeon's ``MiniRocketClassifier`` (aeon 1.6)
rather than sktime's: aeon ships JapaneseVowels in its wheel, so a test can check that the course's copy holds
the same items, and its classifier takes the (cases, channels, time) arrays the course already has.
"""
from __future__ import annotations

import time

import numpy as np

from .data import Dataset, SequenceSet
from .training import RunResult, SeedComparison, classification_metrics, distinct_seeds


def fill_padding(part: SequenceSet) -> np.ndarray:
    """MiniRocket's input: (cases, channels, time), each sequence's padding filled with its last real step.

    MiniRocket has no mask. Zeros would be a signal of their own (a sudden drop at the end of short sequences);
    repeating the last real step adds no new values, only a flat tail.
    """
    X = part.X.copy()
    for i, length in enumerate(part.lengths):
        X[i, length:] = X[i, length - 1]
    return np.ascontiguousarray(np.transpose(X, (0, 2, 1)))


def warm_up_minirocket() -> float:
    """Fit MiniRocket once on a tiny random problem: numba compiles its kernels (cached on disk afterwards).
    Returns the seconds it took, so a notebook can report the one-off compile apart from the fit times."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    MiniRocketClassifier(n_kernels=84, random_state=0, n_jobs=1).fit(rng.normal(size=(6, 2, 12)).astype(np.float32),
                                                                       np.arange(6) % 2)
    return time.perf_counter() - start


def minirocket_runs(data: Dataset, seeds, n_kernels: int = 10_000, name: str = "MiniRocket (aeon)") -> SeedComparison:
    """Fit MiniRocket once per seed on ``data.train`` and score it on ``data.test``: a :class:`SeedComparison`
    that :func:`utils.stats.compare_paired` can set against any course model trained on the same seeds.
    ``seconds`` is each fit's time (transform and ridge), after :func:`warm_up_minirocket` has compiled."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    seeds = distinct_seeds(seeds)
    if data.max_len < 9:
        raise ValueError(f"MiniRocket needs series of at least 9 steps, got {data.max_len}")
    X_train, X_test = fill_padding(data.train), fill_padding(data.test)
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        model = MiniRocketClassifier(n_kernels=n_kernels, random_state=seed, n_jobs=1).fit(X_train, data.train.y)
        seconds = time.perf_counter() - start
        y_pred = model.predict(X_test).astype(np.int32)
        train_accuracy = float(np.mean(model.predict(X_train) == data.train.y))
        estimator = model.estimator_
        n_params = int(estimator.coef_.size + estimator.intercept_.size)
        runs.append(RunResult(seed, classification_metrics(data.test.y, y_pred, data.n_classes), train_accuracy,
                              {}, y_pred, seconds, n_params))
    return SeedComparison.scored_on(name, runs, data.test)
