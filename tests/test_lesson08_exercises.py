"""Lesson 08 exercises: the solutions pass their checks, and the typical wrong answers fail them."""

import keras
import numpy as np
import pytest
from keras import layers

from utils.exercises.lesson08 import (
    best_balanced_accuracy,
    check_mask_dropper,
    check_one_per_sentence,
    check_threshold,
    learner_cnn_lstm,
)
from utils.inspection import mask_droppers
from utils.self_attention import MaskedSeqSelfAttention, SeqSelfAttention
from utils.text import load_sentences, stratified_split, vectorize


@pytest.fixture(scope="module")
def text():
    train, rest = stratified_split(load_sentences(), test_size=0.95, seed=0)
    return vectorize(train, rest.take(range(0, len(rest), 100)))


@pytest.fixture(scope="module")
def validation():
    rng = np.random.default_rng(0)
    y = (rng.random(60) < 0.15).astype(int)
    return np.clip(0.1 + 0.3 * y + 0.15 * rng.standard_normal(60), 0, 1), y


def test_solutions_pass(solutions, text, validation, capsys):
    assert check_mask_dropper(solutions.mask_dropper, learner_cnn_lstm(text)) is True
    assert check_one_per_sentence(solutions.build_one_per_sentence, text) is True
    assert check_threshold(solutions.choose_threshold, *validation) is True
    assert "✗" not in capsys.readouterr().out


def test_mask_droppers_finds_the_conv_only(text):
    assert mask_droppers(learner_cnn_lstm(text)) == ["phrases"]


@pytest.mark.parametrize("answer, hint", [
    (None, "Replace None"),
    (3, "as a string"),
    ("cnn", "no layer named"),
    ("average", "reduce the time axis"),
    ("bilstm", "still carries the mask"),
])
def test_mask_dropper_check_rejects_wrong_answers(text, answer, hint, capsys):
    model = learner_cnn_lstm(text)
    capsys.readouterr()
    if answer == "bilstm":   # its input has no mask (the conv dropped it): a model where the BiLSTM keeps it
        inputs = keras.Input((text.max_len,), dtype="int32")
        x = layers.Embedding(text.vocab_size, 4, mask_zero=True)(inputs)
        x = layers.Bidirectional(layers.LSTM(2, return_sequences=True), name="bilstm")(x)
        x = layers.Conv1D(2, 3, padding="same", name="phrases")(x)
        model = keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x)))
    assert check_mask_dropper(answer, model) is False
    assert hint in capsys.readouterr().out


def q003_model(data, mask_zero=False, attention=SeqSelfAttention, pool=False):
    """Q003's model, with the faults switched on or off."""
    inputs = keras.Input((data.max_len,), dtype="int32")
    x = layers.Embedding(data.vocab_size, 8, mask_zero=mask_zero)(inputs)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    x = attention()(x) if attention else x
    if pool:
        x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, layers.Dense(data.n_classes if pool else 1, activation="softmax" if pool else
                                            "sigmoid")(x))


@pytest.mark.parametrize("build, hint", [
    (lambda d: None, "Replace None"),
    (lambda d: "a model", "must return a keras.Model"),
    (lambda d: 1 / 0, "ZeroDivisionError"),
    (lambda d: q003_model(d), "one prediction per sentence is (None, 2)"),
    (lambda d: q003_model(d, mask_zero=False, attention=MaskedSeqSelfAttention, pool=True), "mask_zero=True"),
    (lambda d: q003_model(d, mask_zero=True, attention=SeqSelfAttention, pool=True), "Padding changed"),
    (lambda d: q003_model(d, mask_zero=True, attention=None, pool=True), "Keep the self-attention layer"),
])
def test_one_per_sentence_check_rejects_wrong_answers(text, build, hint, capsys):
    assert check_one_per_sentence(build, text) is False
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("choose, hint", [
    (lambda p, y: 0.5, "some threshold reaches"),
    (lambda p, y: None, "returned None"),
    (lambda p, y: "low", "give a threshold"),
    (lambda p, y: 1 / 0, "ZeroDivisionError"),
])
def test_threshold_check_rejects_wrong_answers(validation, choose, hint, capsys):
    assert check_threshold(choose, *validation) is False
    assert hint in capsys.readouterr().out


def test_best_balanced_accuracy_beats_the_majority_rule(validation):
    from sklearn.metrics import balanced_accuracy_score

    p, y = validation
    assert best_balanced_accuracy(p, y) >= balanced_accuracy_score(y, np.zeros_like(y)) == 0.5
    with pytest.raises(ValueError, match="one probability"):
        check_threshold(lambda p, y: 0.5, p[:3], y)


def test_learner_cnn_lstm_prints_keras_warning_without_a_path(text, capsys):
    learner_cnn_lstm(text)
    err = capsys.readouterr().err
    assert "UserWarning: Layer 'phrases' (of type Conv1D)" in err and "destroy the mask" in err
    assert "site-packages" not in err and ".py:" not in err


def test_validation_view_holds_the_validation_part_and_no_test_item(text):
    """Lesson 08 chooses each model's epochs on this view: its test slot is the cut run_seeds(validation=)
    makes, with the matching sentences, and none of the real test sentences."""
    from utils.data import split_validation
    from utils.text import validation_view

    view = validation_view(text, 0.2)
    fit, held_out = split_validation(text.train, 0.2)
    assert np.array_equal(view.test.X, held_out.X) and np.array_equal(view.test.y, held_out.y)
    assert view.train is text.train and len(fit) + len(view.test) == len(text.train)
    assert len(view.texts_test) == len(view.test) and len(view.sources_test) == len(view.test)
    assert set(view.texts_test) <= set(text.texts_train)
    assert not set(view.texts_test) & (set(text.texts_test) - set(text.texts_train))
    for text_, row in zip(view.texts_test, view.test.X):   # each sentence matches its token ids
        assert np.array_equal(text.train.X[text.texts_train.index(text_)], row)
    with pytest.raises(ValueError, match="TextDataset"):
        validation_view(object())
