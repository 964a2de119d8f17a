# Solutions for lesson 06. Load into a notebook cell with: %load ../solutions/lesson06.py
import numpy as np

from utils.builder import build_classifier
from utils.registry import MODELS
from utils.stats import compare_paired, mean_ci


def accuracy_ceiling(label_noise):
    """Exercise 6.1: a perfect motif finder is right exactly when the label was not replaced."""
    return 1.0 - label_noise


def paired_verdict(accuracies_a, accuracies_b):
    """Exercise 6.2: the same seeds, so compare seed by seed: the interval of the differences B - A decides."""
    _, low, high = mean_ci(np.subtract(accuracies_b, accuracies_a))
    if low > 0:
        return "B better"
    if high < 0:
        return "A better"
    return "no difference detected"


def build_block_removed(data):
    """Exercise 6.3: depth=0 keeps the BiLSTM, input noise, average pooling and dropout, and drops the block."""
    return build_classifier(data, MODELS["05 BiLSTM + encoder block"].spec, depth=0)


# check_ceiling(accuracy_ceiling(NOISY_LABELS), NOISY_LABELS)
# check_paired_verdict(paired_verdict)
# check_block_removed(build_block_removed, jv)


def flip_rate(a, b, k, draws=20):
    """Exercise 6.4: how often does the verdict on k seeds differ from the verdict on all of them?"""
    full = compare_paired(a, b).verdict
    rng = np.random.default_rng(k)
    flips = 0
    for _ in range(draws):
        subset = sorted(int(s) for s in rng.choice(a.seeds, size=k, replace=False))
        flips += compare_paired(a.subset(subset), b.subset(subset)).verdict != full
    return flips / draws


# check_flip_rate(flip_rate, a, b)
