import keras
import numpy as np
import pytest

from utils.builder import build_classifier
from utils.exercises.lesson09 import check_inflated_accuracy, check_streaming_labeller, check_window_keys
from utils.labelling import make_cue_task


@pytest.fixture(scope="module")
def task():
    return make_cue_task(16, 8, distance=(1, 8), target_len=3, min_len=24, max_len=30, seed=0)


def test_solutions_pass_their_checks(solutions, task, capsys):
    assert check_inflated_accuracy(solutions.inflated_accuracy)
    assert check_window_keys(solutions.window_offsets)
    assert check_streaming_labeller(solutions.build_streaming, task)
    assert "✗" not in capsys.readouterr().out
    keras.backend.clear_session()


def test_wrong_numbers_fail_with_a_hint(capsys):
    assert not check_inflated_accuracy(0.8)
    assert "real steps" in capsys.readouterr().out
    for wrong in (0.5, None, "0.9?", float("nan")):
        assert not check_inflated_accuracy(wrong)
    assert not check_window_keys([-2, -1, 0, 1, 2])            # the window without history_only
    assert "no query sees a later step" in capsys.readouterr().out
    assert not check_window_keys([-5, -4, -3, -2, -1])         # forgot the step itself
    assert "sees itself" in capsys.readouterr().out
    assert not check_window_keys(None)
    assert not check_window_keys([-4.5, 0])


def test_a_labeller_that_reads_the_future_fails(task, capsys):
    assert not check_streaming_labeller(lambda d: None, task)
    bidirectional = lambda d: build_classifier(d, units=4, mixer="self_attention", residual=True,  # noqa: E731
                                               mixer_options={"history_only": True}, pool="none")
    assert not check_streaming_labeller(bidirectional, task)
    assert "Bidirectional" in capsys.readouterr().out
    full_context = lambda d: build_classifier(d, stem="lstm", units=4, mixer="self_attention",  # noqa: E731
                                              residual=True, pool="none")
    assert not check_streaming_labeller(full_context, task)
    assert "history_only" in capsys.readouterr().out
    pooled = lambda d: build_classifier(d, stem="lstm", units=4)   # noqa: E731  (per-step data: refuses to build)
    assert not check_streaming_labeller(pooled, task)
    assert "raised ValueError" in capsys.readouterr().out
    keras.backend.clear_session()


def test_near_a_join_solution_passes_and_mistakes_fail(solutions, capsys):
    from utils.exercises.lesson09 import check_near_a_join
    from utils.labelling import concatenated_vowels

    data = concatenated_vowels(4, 20)
    assert check_near_a_join(solutions.near_a_join, data)
    assert "✗" not in capsys.readouterr().out
    assert not check_near_a_join(lambda y, lengths, k: np.ones(y.shape, bool), data)      # padding and far steps
    assert "padded" in capsys.readouterr().out
    assert not check_near_a_join(lambda y, lengths, k: solutions.near_a_join(y, lengths, k - 1), data)  # too narrow
    assert "not marked" in capsys.readouterr().out
    assert not check_near_a_join(lambda y, lengths, k: np.zeros(3), data)
    assert not check_near_a_join(lambda y, lengths, k: 1 / 0, data)
