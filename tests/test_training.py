import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, precision_score, recall_score

from utils.builder import build_classifier
from utils.data import make_motif_task, split_validation
from utils.stats import mean_ci, seed_interval
from utils.training import (
    classification_metrics,
    compare,
    run_seeds,
    split_fingerprint,
    summary_table,
    train_and_evaluate,
    whole_batches,
)


def test_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    m = classification_metrics(y_true, y_pred, 5)
    assert m["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert m["MAR"] == pytest.approx(recall_score(y_true, y_pred, average="macro"))
    assert m["MAP"] == pytest.approx(precision_score(y_true, y_pred, average="macro"))


def test_metrics_count_a_never_predicted_class_as_zero_precision():
    m = classification_metrics(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1]), 3)
    assert m["MAP"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert m["MAR"] == pytest.approx((1 + 1 + 0) / 3)


@pytest.mark.parametrize("y_true, y_pred, message", [
    ([0, 1], [0], "has 2 labels"),
    ([0, 5], [0, 1], "0..2"),
    ([[0, 1]], [[0, 1]], "rank 1"),
    ([], [], "no labels"),
    ([0.0, 1.0], [0, 1], "integer"),
])
def test_metrics_reject_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        classification_metrics(np.array(y_true), np.array(y_pred), 3)


def test_mean_ci_matches_the_t_interval():
    values = [0.95, 0.97, 0.96, 0.99]
    mean, low, high = mean_ci(values)
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert mean == pytest.approx(0.9675)
    assert (low, high) == pytest.approx((mean - half, mean + half))
    # hand-checked case: n=2, values 0 and 2 -> mean 1, half-width t(0.975, 1) * sqrt(2) / sqrt(2) = 12.706
    assert mean_ci([0.0, 2.0])[2] == pytest.approx(1 + 12.7062, abs=1e-3)


def test_mean_ci_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = [low <= 0 <= high for low, high in (mean_ci(rng.normal(0, 1, 3))[1:] for _ in range(4000))]
    assert 0.94 < np.mean(hits) < 0.96


@pytest.mark.parametrize("values, confidence, message", [
    ([0.9], 0.95, "at least 2 values"),
    ([[0.9, 0.8]], 0.95, "at least 2 values"),
    ([0.9, np.nan], 0.95, "NaN or inf"),
    ([0.9, 0.8], 1.5, "confidence must lie in"),
])
def test_mean_ci_rejects_bad_input(values, confidence, message):
    with pytest.raises(ValueError, match=message):
        mean_ci(values, confidence)


def test_training_rejects_a_bad_budget(tiny_task):
    build = lambda d: build_classifier(d, pool="last", units=4)
    with pytest.raises(ValueError, match="epochs and batch_size must be >= 1"):
        train_and_evaluate(build, tiny_task, epochs=0)


@pytest.fixture(scope="module")
def tiny_task():
    return make_motif_task(96, 48, min_len=12, max_len=20, motif_len=4, snr=3.0, seed=0)


def test_training_is_deterministic_on_cpu(tiny_task):
    build = lambda d: build_classifier(d, pool="average", units=8)
    a = train_and_evaluate(build, tiny_task, seed=3, epochs=2)
    b = train_and_evaluate(build, tiny_task, seed=3, epochs=2)
    np.testing.assert_array_equal(a.y_pred, b.y_pred)
    assert a.history["loss"] == b.history["loss"]


@pytest.mark.once   # the summary table's statistics: the backend does not change it
def test_run_seeds_summarises_with_an_interval(tiny_task):
    result = run_seeds("avg", lambda d: build_classifier(d, pool="average", units=8), tiny_task,
                       seeds=(0, 1), epochs=1)
    assert list(result.table["seed"]) == [0, 1]
    table = compare(result)
    mean, low, high = seed_interval(result.table["accuracy"])
    assert (table.loc["avg", "accuracy"], table.loc["avg", "accuracy low"], table.loc["avg", "accuracy high"]) == \
        pytest.approx((mean, low, high))
    assert table.dtypes.drop("seeds").map(lambda t: t.kind).isin(["f", "i"]).all()   # numbers, not strings
    shown = summary_table(table, metrics=("accuracy", "MAR"), columns=("params",))
    assert list(shown.columns) == ["seeds", "accuracy [95% CI over seeds]", "MAR [95% CI over seeds]", "params"]
    assert shown.loc["avg", "accuracy [95% CI over seeds]"] == f"{mean:.3f} [{low:.3f}, {high:.3f}]"
    assert result.seeds == [0, 1] and result.correct.shape == (2, len(tiny_task.test))
    assert result.test_key == split_fingerprint(tiny_task.test)
    with pytest.raises(ValueError, match="no interval"):
        summary_table(table, metrics=("params",))
    with pytest.raises(ValueError, match="at least 2 distinct seeds"):
        run_seeds("x", None, tiny_task, seeds=(0,))


def test_training_rejects_bad_data(tiny_task):
    from dataclasses import replace
    broken = replace(tiny_task, train=replace(tiny_task.train, y=tiny_task.train.y + 10))
    with pytest.raises(ValueError, match="labels must lie"):
        train_and_evaluate(lambda d: build_classifier(d, pool="last", units=4), broken, epochs=1)


def test_each_seed_in_run_seeds_matches_a_model_trained_alone(tiny_task):
    """run_seeds reuses one compiled model across seeds; that must not change any seed's result."""
    build = lambda d: build_classifier(d, pool="last", units=8)
    together = run_seeds("last", build, tiny_task, seeds=(0, 1, 2), epochs=2)
    for run in together.runs[1:]:
        alone = train_and_evaluate(build, tiny_task, seed=run.seed, epochs=2)
        np.testing.assert_array_equal(alone.y_pred, run.y_pred)
        assert alone.history["loss"] == run.history["loss"]
    assert together.runs[0].history["loss"] != together.runs[1].history["loss"]  # the seeds really differ


@pytest.mark.once   # which models run_seeds returns: the backend does not change it
def test_kept_models_are_separate_and_trained(tiny_task):
    result = run_seeds("avg", lambda d: build_classifier(d, pool="average", units=8), tiny_task,
                       seeds=(0, 1), epochs=2, keep_models=True)
    first, second = (run.model for run in result.runs)
    assert first is not second
    for run in result.runs:
        probabilities = run.model.predict(tiny_task.test.X, verbose=0)
        np.testing.assert_array_equal(np.argmax(probabilities, axis=-1), run.y_pred)


def test_a_builder_that_changes_architecture_between_seeds_is_refused(tiny_task):
    def build(data, calls=[]):   # noqa: B006 - the shared list counts the calls on purpose
        calls.append(1)
        return build_classifier(data, pool="last", units=4 * len(calls))

    with pytest.raises(ValueError, match="same architecture for every seed"):
        run_seeds("changing", build, tiny_task, seeds=(0, 1), epochs=1)


@pytest.mark.once
def test_curves_come_from_a_validation_split_cut_from_training(tiny_task):
    build = lambda d: build_classifier(d, pool="last", units=4)
    assert "val_loss" not in train_and_evaluate(build, tiny_task, epochs=1).history
    assert "val_loss" in train_and_evaluate(build, tiny_task, epochs=1, validation=0.25).history
    fit, validation = split_validation(tiny_task.train, 0.25)
    assert len(fit) + len(validation) == len(tiny_task.train) and len(validation) == 24
    assert np.bincount(validation.y).tolist() == [np.sum(validation.y == c) for c in range(tiny_task.n_classes)]
    assert abs(np.mean(validation.y == 0) - np.mean(tiny_task.train.y == 0)) < 0.05     # stratified
    again = split_validation(tiny_task.train, 0.25)[1]
    np.testing.assert_array_equal(validation.X, again.X)                               # the same every time
    with pytest.raises(ValueError, match="validation fraction"):
        split_validation(tiny_task.train, 1.0)


@pytest.mark.once
def test_no_fit_in_utils_ever_receives_test_data(tiny_task, monkeypatch):
    """The test split is read once per run, for the final score: Model.fit never sees it, not even as
    validation data, in any utils route that trains."""
    import keras

    seen = []
    original = keras.Model.fit

    def spy(self, x=None, y=None, *args, validation_data=None, **kwargs):
        seen.append(x)
        if validation_data is not None:
            seen.append(validation_data[0])
        return original(self, x, y, *args, validation_data=validation_data, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    build = lambda d: build_classifier(d, pool="average", units=4)
    train_and_evaluate(build, tiny_task, epochs=1, validation=0.25)
    run_seeds("x", build, tiny_task, seeds=(0, 1), epochs=1, validation=0.25)
    assert seen
    test_rows = {row.tobytes() for row in tiny_task.test.X}
    for x in seen:
        assert not any(row.tobytes() in test_rows for row in np.asarray(x))


@pytest.mark.once
@pytest.mark.parametrize("fast", ["1", "0"])
def test_fast_mode_trains_on_whole_batches_and_a_full_run_on_every_sequence(tiny_task, monkeypatch, fast):
    """Fast mode drops the last, smaller batch of the training split and of the validation cut (one shape less
    for JAX to compile); a full run trains on every sequence. 96 sequences: 72 to fit and 24 to validate."""
    import keras

    seen = []
    original = keras.Model.fit

    def spy(self, x=None, y=None, *args, validation_data=None, **kwargs):
        seen.append((len(x), None if validation_data is None else len(validation_data[0])))
        return original(self, x, y, *args, validation_data=validation_data, **kwargs)

    monkeypatch.setenv("COURSE_FAST", fast)
    monkeypatch.setattr(keras.Model, "fit", spy)
    run_seeds("x", lambda d: build_classifier(d, pool="average", units=4), tiny_task, seeds=(0, 1), epochs=1,
              batch_size=16, validation=0.25)
    expected = (64, 16) if fast == "1" else (72, 24)
    assert seen[1:] == [expected, expected], seen   # seen[0]: the one-batch warm-up
    assert whole_batches(tiny_task.train, 200) is tiny_task.train and whole_batches(None, 16) is None
    assert len(whole_batches(tiny_task.train, 32)) == 96 and len(whole_batches(tiny_task.train, 40)) == 80
    with pytest.raises(ValueError, match="batch_size"):
        whole_batches(tiny_task.train, 0)


def test_classification_table_matches_scikit_learn():
    from sklearn.metrics import classification_report

    from utils.training import classification_table

    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 3, 60), rng.integers(0, 3, 60)
    table = classification_table(y_true, y_pred, ["a", "b", "c"])
    expected = classification_report(y_true, y_pred, target_names=["a", "b", "c"], output_dict=True)
    assert table.loc["b", "recall"] == pytest.approx(expected["b"]["recall"])
    assert table.loc["macro avg", "precision"] == pytest.approx(expected["macro avg"]["precision"])
    assert table.loc["accuracy", "f1-score"] == pytest.approx(expected["accuracy"])
    assert table.loc["c", "support"] == np.sum(y_true == 2)
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        classification_table(y_true, y_pred, ["a", "b"])


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_the_loss_is_cross_entropy_against_smoothed_labels(tiny_task, smoothing):
    run = train_and_evaluate(lambda d: build_classifier(d, pool="average", units=4), tiny_task, epochs=1,
                             validation=0.25, label_smoothing=smoothing)
    validation = split_validation(tiny_task.train, 0.25)[1]
    probabilities = run.model.predict(validation.X, verbose=0)
    n_classes = tiny_task.n_classes
    targets = np.eye(n_classes)[validation.y] * (1 - smoothing) + smoothing / n_classes
    expected = np.mean(-np.sum(targets * np.log(np.clip(probabilities, 1e-7, 1.0)), axis=-1))
    assert run.history["val_loss"][-1] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("smoothing", [-0.1, 1.0])
def test_label_smoothing_outside_its_range_is_refused(tiny_task, smoothing):
    with pytest.raises(ValueError, match="label_smoothing must lie in"):
        train_and_evaluate(lambda d: build_classifier(d, pool="last", units=4), tiny_task, epochs=1,
                           label_smoothing=smoothing)


@pytest.mark.once
def test_class_weight_and_loss_options_reach_fit():
    from utils.data import one_against_rest
    from utils.training import _class_weight

    weights = _class_weight("balanced", np.array([0] * 10 + [1] * 30), 2)
    assert weights[0] == pytest.approx(40 / 20) and weights[1] == pytest.approx(40 / 60)
    assert _class_weight({0: 1.0, 1: 3.0}, np.array([0, 1]), 2) == {0: 1.0, 1: 3.0}
    for bad in ("heavy", {0: 1.0, 5: 1.0}, {0: -1.0}):
        with pytest.raises(ValueError, match="class_weight"):
            _class_weight(bad, np.array([0, 1]), 2)
    task = make_motif_task(60, 30, min_len=10, max_len=14, n_classes=4, motif_len=3, seed=0)
    binary = one_against_rest(task, 0, [1, 2, 3])
    assert set(np.unique(binary.train.y)) == {0, 1} and len(binary.train) == 60
    assert np.array_equal(binary.train.y, (task.train.y != 0).astype(int))
    build = lambda d: build_classifier(d, units=4)  # noqa: E731
    weighted = run_seeds("w", build, binary, seeds=[0, 1], epochs=1, class_weight="balanced")
    assert weighted.table["accuracy"].between(0, 1).all()
    with pytest.raises(ValueError, match="loss must be one of"):
        run_seeds("l", build, task, seeds=[0, 1], epochs=1, loss="hinge")
    bce = run_seeds("bce", build, task, seeds=[0, 1], epochs=1, loss="binary_crossentropy")
    assert bce.table["accuracy"].between(0, 1).all() and "loss" in bce.runs[0].history
    with pytest.raises(ValueError, match="distinct classes"):
        one_against_rest(task, 0, [0, 1])


@pytest.mark.once   # the per-epoch table's data flow: the backend does not change it
def test_epoch_accuracies_train_as_run_seeds_does_and_score_every_epoch(tiny_task):
    """The appendix's per-epoch table comes from run_seeds itself: its last epoch is run_seeds' final score."""
    from utils.epochs import epoch_accuracies

    build = lambda d: build_classifier(d, pool="average", units=4)
    table = epoch_accuracies(build, tiny_task, seeds=[0, 1], epochs=2, batch_size=16)
    assert list(table.columns) == ["seed", "epoch", "validation", "test"] and len(table) == 4
    assert table[["validation", "test"]].apply(lambda c: c.between(0, 1)).all().all()
    final = run_seeds("same", build, tiny_task, seeds=[0, 1], epochs=2, batch_size=16, validation=0.2)
    last = table[table.epoch == 2].set_index("seed")["test"]
    assert [last[r.seed] for r in final.runs] == [r.metrics["accuracy"] for r in final.runs]
    with pytest.raises(ValueError, match="whole number"):
        epoch_accuracies(build, tiny_task, seeds=[0, 1], epochs=0)
