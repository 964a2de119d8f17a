"""Self-checks for lesson 00."""
from __future__ import annotations

from ..data import SequenceSet
from . import as_number


def check_padding_fraction(answer, part: SequenceSet) -> bool:
    """Is ``answer`` the fraction of padded time steps in ``part``?"""
    expected = 1.0 - float(part.mask.mean())
    if answer is None:
        print("✗ Not answered yet: set my_fraction to a number between 0 and 1.")
        return False
    value, problem = as_number(answer)
    if problem:
        print(f"✗ {problem}: average the mask over all steps.")
        return False
    if not 0.0 <= value <= 1.0:
        print(f"✗ {value} is not a fraction; it must lie between 0 and 1.")
        return False
    if abs(value - (1.0 - expected)) < 1e-6:
        print("✗ That is the fraction of *real* steps. Padding is where the mask is False.")
        return False
    if abs(value - expected) > 1e-6:
        print(f"✗ {value:.4f} is not it. Count the steps where the mask is False, over all N x T steps.")
        return False
    print(f"✓ Right: {value:.1%} of the test array is padding.")
    return True
