"""The clinic's three answers (utils.answers) and models with more inputs (utils.diagnose): attention_fit finds a
planted gap and no gap between copies of one model; three_answers gives one answer per question with its evidence;
a constant extra input is folded in; bad input gets a ValueError that names the problem."""
import warnings

import keras
import numpy as np
import pytest
from keras import layers

from utils.answers import MIN_SEEDS, attention_fit, three_answers
from utils.builder import ClassifierSpec
from utils.data import make_motif_task
from utils.diagnose import diagnose
from utils.inspection import fold_constant_inputs
from utils.registry import MODELS, Recipe

TINY = make_motif_task(60, 30, min_len=8, max_len=12, n_classes=3, n_features=3, motif_len=3, seed=0)
TINY_RECIPE = Recipe(2, 2, batch_size=32)
AVERAGE, POOLED = ClassifierSpec(units=4), ClassifierSpec(units=4, pool="attention")


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="trains 6 models on 100-step sequences: on JAX, the "
                    "course's CPU backend, it fits the test's budget; the same logic runs on TensorFlow below")
def test_attention_fit_finds_the_gap_lesson_03_planted():
    # lesson 03: at up to 100 steps, attention pooling beats the last state by about a third of the accuracy scale
    task = make_motif_task(320, 96, min_len=50, max_len=100, seed=0)
    fit = attention_fit(MODELS["03 motif last state"], MODELS["03 motif attention pooling"], task, seeds=[0, 1, 2],
                        recipe=Recipe(6, 6, batch_size=64, learning_rate=1e-2))
    assert fit.paired.verdict == "B better", fit.sentence()
    assert fit.answer == "attention helps"
    assert fit.paired.a == "without attention" and fit.paired.b == "with attention"
    assert fit.paired.difference > 0.15


@pytest.mark.once   # the verdict's statistics: the backend does not change it
def test_two_copies_of_one_model_show_no_difference():
    fit = attention_fit(AVERAGE, AVERAGE, TINY, seeds=[0, 1], recipe=TINY_RECIPE)
    assert fit.paired.verdict == "no difference detected"
    assert fit.paired.difference == 0 and fit.paired.seeds_needed is None
    assert fit.answer == "not resolved at this floor"
    assert "test-item floor" in fit.evidence() and "not ruled out" in fit.evidence()


@pytest.mark.once   # how a model is named, not trained: the backend does not change it
def test_a_builder_function_a_spec_and_a_registry_entry_train_alike():
    by_spec = attention_fit(AVERAGE, POOLED, TINY, seeds=[0, 1], recipe=TINY_RECIPE)
    from utils.builder import build_classifier

    by_function = attention_fit(lambda d: build_classifier(d, AVERAGE), lambda d: build_classifier(d, POOLED), TINY,
                                seeds=[0, 1], recipe=TINY_RECIPE)
    np.testing.assert_array_equal(by_spec.with_attention.correct, by_function.with_attention.correct)


def test_bad_input_gets_a_clear_value_error(monkeypatch):
    def other_data(data):   # a builder that ignores the data it is given
        inputs = keras.Input((data.max_len + 5, data.n_features))
        return keras.Model(inputs,
                           layers.Dense(data.n_classes, activation="softmax")(layers.GlobalAveragePooling1D()(inputs)))

    def two_classes(data):
        inputs = keras.Input(data.train.X.shape[1:])
        return keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(inputs)))

    with pytest.raises(ValueError, match="made a model for other data"):
        attention_fit(other_data, POOLED, TINY, seeds=[0, 1], recipe=TINY_RECIPE)
    with pytest.raises(ValueError, match="3 classes"):
        attention_fit(AVERAGE, two_classes, TINY, seeds=[0, 1], recipe=TINY_RECIPE)
    with pytest.raises(ValueError, match="at least 2 distinct seeds"):
        attention_fit(AVERAGE, POOLED, TINY, seeds=[0], recipe=TINY_RECIPE)
    with pytest.raises(ValueError, match="distinct"):
        attention_fit(AVERAGE, POOLED, TINY, seeds=[1, 1], recipe=TINY_RECIPE)
    monkeypatch.setenv("COURSE_FAST", "0")   # the course's rule in a full run: ten seeds per verdict
    with pytest.raises(ValueError, match=f"at least {MIN_SEEDS} seeds"):
        attention_fit(AVERAGE, POOLED, TINY, seeds=5, recipe=TINY_RECIPE)
    monkeypatch.setenv("COURSE_FAST", "1")
    X, y, X_test, y_test = TINY.train.X, TINY.train.y, TINY.test.X, TINY.test.y
    with pytest.raises(ValueError, match="unequal train split"):
        attention_fit(AVERAGE, POOLED, (X, y[:-1], X_test, y_test), seeds=[0, 1], recipe=TINY_RECIPE)
    with pytest.raises(ValueError, match="unequal splits"):
        attention_fit(AVERAGE, POOLED, (X, y, X_test[:, :, :2], y_test), seeds=[0, 1], recipe=TINY_RECIPE)
    with pytest.raises(ValueError, match="test split"):
        attention_fit(AVERAGE, POOLED, (X, y), seeds=[0, 1], recipe=TINY_RECIPE)
    with pytest.raises(ValueError, match="Recipe"):
        attention_fit(AVERAGE, POOLED, TINY, seeds=[0, 1], recipe={"epochs": 2})
    with pytest.raises(ValueError, match="a builder must be"):
        attention_fit("bilstm", POOLED, TINY, seeds=[0, 1], recipe=TINY_RECIPE)
    with pytest.raises(ValueError, match="give both builders"):
        three_answers(MODELS["03 motif average"].build(TINY), TINY, without_attention=AVERAGE)


@pytest.mark.once   # how the data is passed, not trained: the backend does not change it
def test_arrays_work_as_well_as_a_dataset():
    arrays = (TINY.train.X, TINY.train.y, TINY.test.X, keras.utils.to_categorical(TINY.test.y, 3))   # one-hot too
    from_arrays = attention_fit(AVERAGE, POOLED, arrays, seeds=[0, 1], recipe=TINY_RECIPE)
    from_dataset = attention_fit(AVERAGE, POOLED, TINY, seeds=[0, 1], recipe=TINY_RECIPE)
    np.testing.assert_array_equal(from_arrays.without.correct, from_dataset.without.correct)


def test_three_answers_give_each_answer_its_evidence_and_one_figure():
    import matplotlib.pyplot as plt

    from utils.builder import build_classifier

    model = build_classifier(TINY, POOLED)
    answers = three_answers(model, TINY, AVERAGE, POOLED, seeds=[0, 1], recipe=TINY_RECIPE, minirocket=False,
                            progress=False)
    assert list(answers.frame.index) == ["Is my code wrong?", "Is there more signal in the data?",
                                         "Does attention fit my problem?"]
    assert answers.answers[0].answer == "no fault found"
    assert all(a.evidence and a.next_step for a in answers.answers)
    assert len(answers.ceiling) == 2 and {p.a for p in answers.ceiling} <= {"majority", "logistic regression"}
    assert all(p.metric == "balanced accuracy" for p in [*answers.ceiling, answers.fit.paired])
    assert "1. Is my code wrong?" in str(answers)
    figure = answers.plot()
    assert len(figure.axes) == 2 and "balanced accuracy" in figure.axes[0].get_xlabel()
    plt.close(figure)


def test_a_broken_model_gets_a_fault_and_data_warnings_are_not_counted_as_bugs():
    inputs = keras.Input(TINY.train.X.shape[1:])
    masked = layers.Masking(0.0)(inputs)
    broken = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(masked)))
    correct = keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(masked)))
    rare = [np.where(np.arange(len(p.y)) % 10 == 0, 1, 0).astype(np.int32) for p in (TINY.train, TINY.test)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # Keras: Flatten drops the mask (the fault found here)
        answers = three_answers(broken, TINY, minirocket=False, progress=False)
    healthy = three_answers(correct, (TINY.train.X, rare[0], TINY.test.X, rare[1]), minirocket=False, progress=False)
    assert answers.answers[0].answer == "yes: 1 fault(s)" and "flatten head" in answers.answers[0].evidence
    assert healthy.answers[0].answer == "no fault found" and "class imbalance" in healthy.answers[0].evidence
    assert answers.answers[2].answer == "not measured" and answers.fit is None and answers.ceiling == []
    assert answers.answers[1].answer == "not measured over seeds"


# ------------------------------------------------------------------------------- models with more inputs

def _two_inputs(units=4):
    """Q002's layout: a constant query input u and a sequence input, an unmasked softmax over every step."""
    feature = keras.Input(TINY.train.X.shape[1:])
    y = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(layers.Masking(0.0)(feature))
    u_input = keras.Input((2 * units,))
    u = layers.Dense(2 * units, activation="softmax")(u_input)
    alpha = layers.Activation("softmax")(layers.Dot(axes=-1)([u, y]))
    return keras.Model([u_input, feature], layers.Dense(3, activation="softmax")(layers.Dot(axes=1)([alpha, y])))


def test_a_constant_input_is_folded_in_and_every_check_runs():
    model = _two_inputs()
    u, u_test = (np.full((len(p.X), 8), 1 / 8, np.float32) for p in (TINY.train, TINY.test))
    view = fold_constant_inputs(model, {0: u[0]})
    np.testing.assert_allclose(view.predict(TINY.test.X, verbose=0),
                               model.predict([u_test, TINY.test.X], verbose=0), atol=1e-6)
    report = diagnose(model, ([u, TINY.train.X], TINY.train.y, [u_test, TINY.test.X], TINY.test.y))
    assert report.get("more inputs").status == "info" and "fold_constant_inputs" in report.get("more inputs").evidence
    leak = report.get("padding leak")
    assert leak.status == "warning" and leak.value > 1e-4   # the softmax over every step reads the padding


def test_inputs_that_vary_or_x_that_is_not_a_list_get_a_value_error():
    model = _two_inputs()
    u = np.random.default_rng(0).normal(size=(len(TINY.train.X), 8)).astype(np.float32)
    with pytest.raises(ValueError, match="vary from sequence to sequence.*fold_constant_inputs"):
        diagnose(model, ([u, TINY.train.X], TINY.train.y))
    with pytest.raises(ValueError, match="give X as a list"):
        diagnose(model, (TINY.train.X, TINY.train.y))
    with pytest.raises(ValueError, match="every input of"):
        fold_constant_inputs(model, {})
    with pytest.raises(ValueError, match="one row of shape"):
        fold_constant_inputs(model, {0: np.zeros(3)})


def test_a_plus_sign_between_keras_tensors_drops_the_mask_and_the_clinic_names_it():
    # Q001's residual: `x + x2` on Keras tensors is an operation that passes no mask on; layers.Add passes it on
    inputs = keras.Input(TINY.train.X.shape[1:])
    x = layers.Masking(0.0)(inputs)
    x2 = layers.Dense(3)(x)
    for residual, leaks in ((x + x2, True), (layers.Add()([x, x2]), False)):
        pooled = layers.GlobalAveragePooling1D()(layers.Bidirectional(layers.LSTM(4, return_sequences=True))(residual))
        report = diagnose(keras.Model(inputs, layers.Dense(3, activation="softmax")(pooled)), TINY)
        assert (report.get("padding leak").status == "warning") == leaks, report
        if leaks:
            assert "'add' receives the mask and passes none on" in report.get("padding leak").evidence


def test_flat_attention_is_evidence_for_the_fit_not_a_bug():
    from utils.answers import _bug_answer, _fit_answer
    from utils.diagnose import Finding, Report

    report = Report([Finding("model", "flat attention", "warning", "normalised entropy 0.999", 0.999),
                     Finding("model", "padding leak", "ok", "at most 1e-8", 1e-8)], "m", "d")
    assert _bug_answer(report).answer == "no fault found"
    fit = _fit_answer(None, report)
    assert "flat attention" in fit.evidence and "0.999" in fit.evidence
