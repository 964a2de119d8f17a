"""Lesson 05 exercises: the solutions pass their checks, and the typical wrong answers fail them."""

import keras
import pytest
from keras import layers

from utils.data import make_motif_task
from utils.exercises.lesson05 import check_pre_ln, check_residual_model
from utils.self_attention import MaskedSeqSelfAttention


@pytest.fixture(scope="module")
def task():
    return make_motif_task(n_train=16, n_test=8, min_len=6, max_len=12, motif_len=3, seed=0)


def q001_plus(data):
    """The learner's version: `x + attended` drops the mask."""
    inputs = keras.Input((data.max_len, data.n_features))
    x = layers.Masking(mask_value=0.0)(inputs)
    x = x + MaskedSeqSelfAttention(attention_type="multiplicative")(x)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    outputs = layers.Dense(data.n_classes, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    return keras.Model(inputs, outputs)


def test_solutions_pass(solutions, task, capsys):
    assert check_residual_model(solutions.residual_before_lstm(task, units=4), task) is True
    assert check_pre_ln(solutions.my_pre_ln) is True
    assert "✗" not in capsys.readouterr().out


def test_plus_operator_residual_fails(task, capsys):
    assert check_residual_model(q001_plus(task), task) is False
    assert "layers.Add" in capsys.readouterr().out


def test_model_without_residual_fails(task, capsys):
    inputs = keras.Input((task.max_len, task.n_features))
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(layers.Masking()(inputs))
    model = keras.Model(inputs, layers.Dense(task.n_classes, activation="softmax")(layers.GlobalAveragePooling1D()(x)))
    assert check_residual_model(model, task) is False
    assert check_residual_model("not a model", task) is False


def test_residual_that_loses_the_mask_downstream_fails(task, capsys):
    inputs = keras.Input((task.max_len, task.n_features))
    x = layers.Masking()(inputs)
    x = layers.Add()([x, layers.Dense(task.n_features)(x)])
    x = layers.Flatten()(x)
    model = keras.Model(inputs, layers.Dense(task.n_classes, activation="softmax")(x))
    assert check_residual_model(model, task) is False


@pytest.mark.parametrize("wrong", [
    lambda x, f: layers.LayerNormalization()(layers.Add()([x, f(x)])),   # post-LN
    lambda x, f: layers.Add()([x, f(x)]),                                 # no norm
    lambda x, f: f(layers.LayerNormalization()(x)),                       # no residual
    lambda x, f: 1 / 0,                                                   # raises
])
def test_pre_ln_check_rejects_other_orders(wrong, capsys):
    assert check_pre_ln(wrong) is False
    assert "✗" in capsys.readouterr().out

