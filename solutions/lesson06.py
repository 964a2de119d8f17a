# Solutions for lesson 06. Load into a notebook cell with: %load ../solutions/lesson06.py
from utils.builder import build_classifier
from utils.registry import MODELS
from utils.training import mean_ci


def accuracy_ceiling(label_noise):
    """Exercise 6.1: a perfect motif finder is right exactly when the label was not replaced."""
    return 1.0 - label_noise


def intervals_overlap(accuracies_a, accuracies_b):
    """Exercise 6.2: two models are told apart only when their 95% intervals do not overlap."""
    _, low_a, high_a = mean_ci(accuracies_a)
    _, low_b, high_b = mean_ci(accuracies_b)
    return low_a <= high_b and low_b <= high_a


def build_block_removed(data):
    """Exercise 6.3: depth=0 keeps the BiLSTM, input noise, average pooling and dropout, and drops the block."""
    return build_classifier(data, MODELS["05 BiLSTM + encoder block"].spec, depth=0)


# check_ceiling(accuracy_ceiling(NOISY_LABELS), NOISY_LABELS)
# check_overlap(intervals_overlap)
# check_block_removed(build_block_removed, jv)
