"""Lesson 06 self-checks: the label-noise ceiling, reading two intervals, and the block ablation."""

import pytest

from utils.builder import build_classifier
from utils.data import load_japanese_vowels
from utils.exercises.lesson06 import check_block_removed, check_ceiling, check_overlap


def test_solutions_pass(solutions, capsys):
    assert check_ceiling(solutions.accuracy_ceiling(0.2), 0.2) is True
    assert check_overlap(solutions.intervals_overlap) is True
    assert check_block_removed(solutions.build_block_removed, load_japanese_vowels()) is True
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
