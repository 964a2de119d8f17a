"""Fake trained models for the statistics tests: predictions with a planted error rate."""
import numpy as np

from utils.training import RunResult, SeedComparison, classification_metrics

N_ITEMS, N_CLASSES = 300, 3


def fake_model(name, error_rate, seeds=range(10), n_items=N_ITEMS, key="test-set", base_seed=0, shared=None):
    """A SeedComparison whose run of seed s gets each item wrong with probability ``error_rate``.

    ``shared`` (a (seeds, items) uniform matrix) makes two models' errors fall on the same items where their
    error rates overlap, as real models trained on one test set do."""
    y_true = np.arange(n_items) % N_CLASSES
    runs = []
    for s in seeds:
        u = shared[s] if shared is not None else np.random.default_rng((base_seed, s)).random(n_items)
        y_pred = np.where(u < error_rate, (y_true + 1) % N_CLASSES, y_true).astype(np.int32)
        runs.append(RunResult(s, classification_metrics(y_true, y_pred, N_CLASSES), 1.0, {}, y_pred, 0.1, 10))
    return SeedComparison(name, runs, y_true, key)


def shared_noise(seeds=10, n_items=N_ITEMS, seed=7):
    return np.random.default_rng(seed).random((seeds, n_items))
