"""Lesson 01's self-checks hint without handing over the answer (exercises 1.1 and 1.3), and still fail."""
import keras
import pytest

from utils.builder import build_classifier
from utils.data import load_japanese_vowels
from utils.exercises.lesson01 import check_compile, check_respects_mask

# Names of the answer: a hint may point at the problem, never at the layer that fixes it.
ANSWER_WORDS = ("GlobalAveragePooling1D", "average", "Masking(", "mask_value", "pool over time")


@pytest.fixture(scope="module")
def jv():
    return load_japanese_vowels()


def _wrong_models(jv):
    """A model for each way exercise 1.3 can go wrong: tied to one length, no mask, a pool that drops it."""
    flatten = build_classifier(jv, pool="flatten", units=4)
    unmasked = keras.Sequential([keras.Input((jv.max_len, jv.n_features)), keras.layers.LSTM(4),
                                 keras.layers.Dense(jv.n_classes, activation="softmax")])
    max_pooled = keras.Sequential([keras.Input((jv.max_len, jv.n_features)), keras.layers.Masking(),
                                   keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)),
                                   keras.layers.GlobalMaxPooling1D(),
                                   keras.layers.Dense(jv.n_classes, activation="softmax")])
    return {"flatten": flatten, "unmasked": unmasked, "max pooled": max_pooled}


def test_each_wrong_model_fails_with_a_hint_that_names_no_answer(jv, capsys):
    for name, model in _wrong_models(jv).items():
        assert not check_respects_mask(model, jv), f"{name} must fail the check"
        message = capsys.readouterr().out
        assert message.startswith("✗"), message
        for word in ANSWER_WORDS:
            assert word not in message, f"{name}: the hint hands over the answer ({word!r}): {message}"
        assert "?" in message, f"{name}: a hint asks a question the learner answers: {message}"


def test_the_solution_passes(jv, solutions, capsys):
    assert check_respects_mask(solutions.mask_respecting_classifier(jv, units=4), jv)
    assert capsys.readouterr().out.startswith("✓")


def test_the_compile_hint_names_no_loss_to_use(jv, capsys):
    model = build_classifier(jv, pool="last", units=4)
    model.compile(loss="binary_crossentropy")
    assert not check_compile(model, jv.n_classes)
    message = capsys.readouterr().out
    assert "yes/no question" in message and "?" in message
    assert "sparse_categorical_crossentropy" not in message, message
