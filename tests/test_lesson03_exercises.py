import numpy as np

from solutions import lesson03 as solution
from utils.exercises.lesson03 import check_parameter_counts, check_q002_ceiling


def test_solutions_pass_their_checks(capsys):
    assert check_q002_ceiling(solution.q002_ceiling)
    assert check_q002_ceiling(7.39)   # e^2 rounded to two decimals
    assert check_parameter_counts(solution.attention_pooling_params, solution.seq_weighted_params)
    assert "✗" not in capsys.readouterr().out


def test_wrong_numbers_fail_with_a_hint(capsys):
    assert not check_q002_ceiling(np.e)
    assert "negative" in capsys.readouterr().out
    assert not check_q002_ceiling(7.245)   # a measured ratio from the lesson's table, not the bound
    assert "bound" in capsys.readouterr().out
    assert not check_q002_ceiling(float("nan"))
    assert not check_q002_ceiling(100)
    assert not check_q002_ceiling("e squared")
    assert not check_q002_ceiling(None)
    assert not check_parameter_counts(32 * 16, 33)
    assert "AttentionPooling" in capsys.readouterr().out
    assert not check_parameter_counts(544, 32)
    assert "SeqWeightedAttention" in capsys.readouterr().out
