"""Lesson 02 exercises: the solutions pass their checks, and typical wrong answers fail them."""

import numpy as np
import pytest

from utils.exercises.lesson02 import check_causal_weights, check_masked_softmax


def test_solutions_pass(solutions, capsys):
    assert check_masked_softmax(solutions.my_masked_softmax) is True
    assert check_causal_weights(solutions.my_causal_weights) is True
    assert "✗" not in capsys.readouterr().out


def plain_softmax(scores, mask):
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def unstable_softmax(scores, mask):
    e = np.exp(scores) * mask
    return e / e.sum(-1, keepdims=True)


def zero_after_softmax(scores, mask):
    return plain_softmax(scores, mask) * mask  # masked but no longer sums to 1


def raises(scores, mask):
    raise NotImplementedError("todo")


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, m: None, "returned None"),
    (plain_softmax, "need exactly 0"),
    (unstable_softmax, "NaN or inf"),
    (zero_after_softmax, "rows sum"),
    (raises, "raised NotImplementedError"),
    (lambda s, m: s[..., :2], "shape"),
])
def test_wrong_masked_softmax_fails_with_a_hint(wrong, hint, capsys):
    with np.errstate(all="ignore"):
        assert check_masked_softmax(wrong) is False
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (None, "not filled in"),
    (np.full((4, 4), 0.25), "later key"),
    (np.tril(np.ones((4, 4))), "rows sum"),
    (np.eye(4), "share each row equally"),
    (np.ones((3, 3)) / 3, "shape"),
    ([[1.0], [0.5, 0.5]], "4 x 4 array of numbers"),  # ragged rows
])
def test_wrong_causal_weights_fail_with_a_hint(wrong, hint, capsys):
    assert check_causal_weights(wrong) is False
    assert hint in capsys.readouterr().out
