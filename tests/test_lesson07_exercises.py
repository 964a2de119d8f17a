"""Lesson 07 exercises: the solutions pass their checks, and the typical wrong answers fail them."""

import keras
import numpy as np
import pytest
from keras import layers

from utils.data import Dataset, SequenceSet
from utils.exercises.lesson07 import check_fault_named, check_fixed, learner_model
from utils.pooling import AttentionPooling


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    lengths = rng.integers(4, 13, 24)
    X = (rng.normal(size=(24, 12, 3)) * (np.arange(12)[None, :] < lengths[:, None])[..., None]).astype(np.float32)
    part = SequenceSet(X, lengths.astype(np.int32), (np.arange(24) % 3).astype(np.int32))
    return Dataset("tiny", part, part, ("a", "b", "c"))


def test_solutions_pass(solutions, data, capsys):
    assert check_fault_named(solutions.fault, learner_model(data), data) is True
    assert check_fixed(solutions.build_fixed, data) is True
    assert capsys.readouterr().out.count("✓") == 2


def test_wrong_answers_fail(data, capsys):
    model = learner_model(data)
    assert check_fault_named(None, model, data) is False
    assert check_fault_named("flatten head", model, data) is False
    assert check_fixed(lambda d: None, data) is False
    assert check_fixed(learner_model, data) is False                  # unchanged: still leaks
    out = capsys.readouterr().out
    assert "still warns: ['padding attention', 'padding leak']" in out

    def pooled_differently(d):                                         # the leak gone, but a layer swapped
        inputs = keras.Input(d.train.X.shape[1:])
        x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(layers.Masking(0.0)(inputs))
        return keras.Model(inputs, layers.Dense(d.n_classes, activation="softmax")(layers.GlobalAveragePooling1D()(x)))

    assert check_fixed(pooled_differently, data) is False
    assert "the layers changed" in capsys.readouterr().out


def test_the_learner_model_has_exactly_one_fault(data):
    from utils.diagnose import diagnose

    assert {f.check for f in diagnose(learner_model(data), data).warnings if f.area == "model"} == {"padding leak",
                                                                                             "padding attention"}
    assert isinstance(learner_model(data).get_layer("attention"), AttentionPooling)


def test_exercise_7_3_reads_the_ceiling_verdicts(solutions, capsys):
    from types import SimpleNamespace

    from utils.exercises.lesson07 import check_room

    def answers(*verdicts):
        return SimpleNamespace(ceiling=[SimpleNamespace(a="MiniRocket", b=name, verdict=v)
                                        for name, v in zip(("last state", "attention pooling"), verdicts)])

    room = answers("A better", "no difference detected")
    assert check_room(solutions.room_in(room), room) is True
    assert check_room("both", room) is False and check_room(None, room) is False
    assert check_room("attention pooling", room) is False and check_room("a lot", room) is False
    assert check_room("neither", answers("B better", "no difference detected")) is True
    assert check_room("both", answers("A better", "A better")) is True
    assert capsys.readouterr().out.count("✓") == 3
    with pytest.raises(ValueError, match="two ceiling verdicts"):
        check_room("both", SimpleNamespace(ceiling=[]))
