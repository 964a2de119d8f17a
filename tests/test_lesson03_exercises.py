import numpy as np

from solutions import lesson03 as solution
from utils.exercises.lesson03 import check_masked_softmax, check_parameter_counts, check_seed002_ceiling


def test_solutions_pass_their_checks(capsys):
    assert check_masked_softmax(solution.my_masked_softmax)
    assert check_seed002_ceiling(solution.seed002_ceiling)
    assert check_parameter_counts(solution.attention_pooling_params, solution.seq_weighted_params)
    assert "✗" not in capsys.readouterr().out


def _plain_softmax(scores, mask):  # the learner's mistake: ignores the mask
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _naive_masked(scores, mask):  # masks, but overflows on large scores
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(scores.astype(np.float32)) * mask
        return e / e.sum(axis=-1, keepdims=True)


def _crashes(scores, mask):
    raise RuntimeError("oops")


def test_wrong_masked_softmax_answers_fail_without_raising(capsys):
    assert not check_masked_softmax(_plain_softmax)
    assert "exactly 0" in capsys.readouterr().out
    assert not check_masked_softmax(_naive_masked)
    assert "NaN or inf" in capsys.readouterr().out
    assert not check_masked_softmax(lambda s, m: None)
    assert "not done yet" in capsys.readouterr().out
    assert not check_masked_softmax(_crashes)
    assert "RuntimeError" in capsys.readouterr().out
    assert not check_masked_softmax(lambda s, m: s[:, :2])
    assert "shape" in capsys.readouterr().out


def test_wrong_numbers_fail_with_a_hint(capsys):
    assert not check_seed002_ceiling(np.e)
    assert "negative" in capsys.readouterr().out
    assert not check_seed002_ceiling(100)
    assert not check_seed002_ceiling("e squared")
    assert not check_seed002_ceiling(None)
    assert not check_parameter_counts(32 * 16, 33)
    assert "AttentionPooling" in capsys.readouterr().out
    assert not check_parameter_counts(544, 32)
    assert "SeqWeightedAttention" in capsys.readouterr().out
