"""Lesson 06 self-checks: the label-noise ceiling, a paired verdict, the block ablation, and verdict flips."""

import pytest
from fakes import fake_model, shared_noise

from utils.builder import build_classifier
from utils.data import load_japanese_vowels
from utils.exercises.lesson06 import (
    check_block_removed,
    check_ceiling,
    check_flip_rate,
    check_paired_verdict,
    reference_flip_rate,
)


def test_solutions_pass(solutions, capsys):
    assert check_ceiling(solutions.accuracy_ceiling(0.2), 0.2) is True
    assert check_paired_verdict(solutions.paired_verdict) is True
    a, b = close_pair()
    assert check_flip_rate(solutions.flip_rate, a, b) is True
    assert check_block_removed(solutions.build_block_removed, load_japanese_vowels()) is True
    assert "✗" not in capsys.readouterr().out


def test_ceiling_check(capsys):
    assert check_ceiling(0.8, 0.2) is True
    assert check_ceiling(0.2, 0.2) is False
    assert check_ceiling(None, 0.2) is False
    assert check_ceiling("high", 0.2) is False
    with pytest.raises(ValueError, match="label_noise"):
        check_ceiling(0.5, 1.5)


def intervals_overlap_verdict(a, b):
    """The rule the course used to teach: a verdict only where the two intervals over seeds do not overlap."""
    from utils.stats import mean_ci

    (_, low_a, high_a), (_, low_b, high_b) = mean_ci(a), mean_ci(b)
    return "B better" if low_b > high_a else "A better" if low_a > high_b else "no difference detected"


@pytest.mark.parametrize("wrong, hint", [
    (intervals_overlap_verdict, "compare the per-seed differences"),
    (lambda a, b: "B better" if sum(b) > sum(a) else "A better", "excludes zero"),
    (lambda a, b: None, "returned None"),
    (lambda a, b: 1 / 0, "ZeroDivisionError"),
])
def test_paired_verdict_check_rejects_wrong_answers(wrong, hint, capsys):
    assert check_paired_verdict(wrong) is False
    assert hint in capsys.readouterr().out


def close_pair():
    """Two models 4 points apart on 10 seeds, errors on different items: small subsets of seeds flip."""
    noise = shared_noise()
    return fake_model("A", 0.14, shared=noise), fake_model("B", 0.10, base_seed=3)


def test_flip_rate_falls_to_zero_with_all_seeds():
    a, b = close_pair()
    rates = [reference_flip_rate(a, b, k) for k in (2, 5, 10)]
    assert rates[-1] == 0.0 and rates[0] > 0.0
    assert all(0.0 <= r <= 1.0 for r in rates)


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, b, k: 0.0, "default_rng(k)"),
    (lambda a, b, k: None, "returned None"),
    (lambda a, b, k: "often", "give a number between 0 and 1"),
    (lambda a, b, k: 1 / 0, "ZeroDivisionError"),
])
def test_flip_rate_check_rejects_wrong_answers(wrong, hint, capsys):
    a, b = close_pair()
    assert check_flip_rate(wrong, a, b) is False
    assert hint in capsys.readouterr().out


def encoder_classifier(data, units, depth, dropout=0.0, input_noise=0.0):
    """What lesson 05's encoder builder made: a BiLSTM, ``depth`` encoder blocks, ``dropout`` in them and the head."""
    return build_classifier(data, units=units, mixer="encoder", depth=depth, mixer_options={"dropout": dropout},
                            head_dropout=dropout, input_noise=input_noise)


def unmasked_block_removed(data):
    import keras
    from keras import layers

    inputs = keras.Input((data.max_len, data.n_features))
    x = layers.GaussianNoise(0.2)(inputs)
    x = layers.Bidirectional(layers.LSTM(32, return_sequences=True))(x)
    x = layers.Dropout(0.2)(layers.GlobalAveragePooling1D()(x))
    return keras.Model(inputs, layers.Dense(data.n_classes, activation="softmax")(x))


@pytest.mark.parametrize("wrong, hint", [
    (lambda d: None, "Replace None"),
    (lambda d: "a model", "must return a keras.Model"),
    (lambda d: encoder_classifier(d, units=32, depth=1, dropout=0.2, input_noise=0.2), "attention is still there"),
    (lambda d: build_classifier(d, pool="average", units=32), "keep the input noise"),
    (lambda d: encoder_classifier(d, units=16, depth=0, dropout=0.2, input_noise=0.2), "32 units"),
    (lambda d: encoder_classifier(d, units=32, depth=0, input_noise=0.2), "keep the dropout"),
    (lambda d: 1 / 0, "ZeroDivisionError"),
    (lambda d: unmasked_block_removed(d), "keep the mask"),
])
def test_block_removed_check_rejects_wrong_answers(wrong, hint, capsys):
    assert check_block_removed(wrong, load_japanese_vowels()) is False
    assert hint in capsys.readouterr().out
