"""The lesson 00/01 checks accept the solutions and reject the mistakes they are written for."""
import keras
import pytest

from solutions import lesson00, lesson01
from utils.builder import build_classifier
from utils.data import load_japanese_vowels
from utils.exercises.lesson00 import check_padding_fraction  # noqa: E402
from utils.exercises.lesson01 import check_compile, check_cudnn_ready, check_respects_mask  # noqa: E402
from utils.runtime import set_seed


@pytest.fixture(scope="module")
def jv():
    return load_japanese_vowels()


def test_padding_fraction(jv, capsys):
    assert check_padding_fraction(lesson00.padding_fraction(jv.test), jv.test)
    assert not check_padding_fraction(None, jv.test)
    assert not check_padding_fraction(jv.test.mask.mean(), jv.test)
    assert "real" in capsys.readouterr().out
    assert not check_padding_fraction(jv.test.mask.mean(axis=1), jv.test)  # an array, not one number
    assert "give one number" in capsys.readouterr().out


def test_compile_check(jv, capsys):
    model = build_classifier(jv, pool="last", units=4)
    assert not check_compile(model, jv.n_classes)
    model.compile(loss="binary_crossentropy")
    assert not check_compile(model, jv.n_classes)
    assert "yes/no question" in capsys.readouterr().out
    assert check_compile(lesson01.compile_for_integer_labels(model), jv.n_classes)


def test_cudnn_check(jv, capsys):
    bad = keras.Sequential([keras.Input((jv.max_len, jv.n_features)),
                            keras.layers.Bidirectional(keras.layers.LSTM(4, recurrent_dropout=0.2))])
    assert not check_cudnn_ready(bad)
    assert "recurrent_dropout" in capsys.readouterr().out
    no_cudnn = keras.Sequential([keras.Input((jv.max_len, jv.n_features)), keras.layers.LSTM(4, use_cudnn=False)])
    assert not check_cudnn_ready(no_cudnn)
    assert "use_cudnn" in capsys.readouterr().out
    assert check_cudnn_ready(lesson01.cudnn_ready_stack(jv, units=4))


def test_mask_check(jv, capsys):
    assert not check_respects_mask(build_classifier(jv, pool="flatten", units=4), jv)
    unmasked = keras.Sequential([keras.Input((jv.max_len, jv.n_features)), keras.layers.LSTM(4),
                                 keras.layers.Dense(jv.n_classes, activation="softmax")])
    assert not check_respects_mask(unmasked, jv)
    # whether padding's zeros win a max over time depends on the weights (some draws never let them win): these
    # weights, seed 0's, do, whatever the models built above drew
    set_seed(0)
    max_pooled = keras.Sequential([keras.Input((jv.max_len, jv.n_features)), keras.layers.Masking(),
                                   keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)),
                                   keras.layers.GlobalMaxPooling1D(),
                                   keras.layers.Dense(jv.n_classes, activation="softmax")])
    assert not check_respects_mask(max_pooled, jv), "max pooling ignores the mask"
    assert "leak into the prediction" in capsys.readouterr().out
    assert check_respects_mask(lesson01.mask_respecting_classifier(jv, units=4), jv)
