# Solutions for lesson 06. Load into a notebook cell with: %load ../solutions/lesson06.py
from utils.training import mean_ci


def accuracy_ceiling(label_noise):
    """Exercise 6.1: a perfect motif finder is right exactly when the label was not replaced."""
    return 1.0 - label_noise


def intervals_overlap(accuracies_a, accuracies_b):
    """Exercise 6.2: two models are told apart only when their 95% intervals do not overlap."""
    _, low_a, high_a = mean_ci(accuracies_a)
    _, low_b, high_b = mean_ci(accuracies_b)
    return low_a <= high_b and low_b <= high_a


# check_ceiling(accuracy_ceiling(NOISY_LABELS), NOISY_LABELS)
# check_overlap(intervals_overlap)
