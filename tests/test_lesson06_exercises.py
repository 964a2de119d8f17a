"""Lesson 06 self-checks: the label-noise ceiling and reading two intervals."""

import pytest

from utils.exercises.lesson06 import check_ceiling, check_overlap


def test_solutions_pass(solutions, capsys):
    assert check_ceiling(solutions.accuracy_ceiling(0.2), 0.2) is True
    assert check_overlap(solutions.intervals_overlap) is True
    assert "✗" not in capsys.readouterr().out


def test_ceiling_check(capsys):
    assert check_ceiling(0.8, 0.2) is True
    assert check_ceiling(0.2, 0.2) is False
    assert check_ceiling(None, 0.2) is False
    assert check_ceiling("high", 0.2) is False
    with pytest.raises(ValueError, match="label_noise"):
        check_ceiling(0.5, 1.5)


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, b: abs(sum(a) / len(a) - sum(b) / len(b)) < 0.01, "not the means"),  # compares means
    (lambda a, b: True, "not the means"),
    (lambda a, b: None, "returned None"),
    (lambda a, b: 1 / 0, "ZeroDivisionError"),
])
def test_overlap_check_rejects_wrong_answers(wrong, hint, capsys):
    assert check_overlap(wrong) is False
    assert hint in capsys.readouterr().out
