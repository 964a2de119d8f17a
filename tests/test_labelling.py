"""Sequence labelling (lesson 09): per-step labels, the per-step head, padding kept out of loss and metrics,
paired verdicts by sequence, and the lesson's data."""
import hashlib
from dataclasses import replace

import keras
import numpy as np
import pytest

from utils.builder import ClassifierSpec, build_classifier
from utils.data import Dataset, SequenceSet, load_japanese_vowels, split_validation
from utils.labelling import (
    CONCATENATED_SHA256,
    arrays_digest,
    concatenated_vowels,
    cue_distances,
    cue_target_steps,
    make_cue_task,
    window_features,
    windowed_peer_runs,
)
from utils.registry import MODELS
from utils.runtime import set_seed
from utils.stats import _bootstrap_means, compare_paired
from utils.training import (
    RunResult,
    SeedComparison,
    labelling_metrics,
    real_steps,
    run_seeds,
    sequence_scores,
    train_and_evaluate,
)
from utils.validators import validate_sequences


@pytest.fixture(scope="module")
def task():
    return make_cue_task(48, 24, distance=(1, 8), target_len=3, min_len=12, max_len=16, seed=0)


def padded_further(data: Dataset, extra: int) -> Dataset:
    """``data`` with ``extra`` more padded steps on every sequence (inputs 0, labels 0)."""
    def pad(part):
        return replace(part, X=np.pad(part.X, ((0, 0), (0, extra), (0, 0))), y=np.pad(part.y, ((0, 0), (0, extra))))

    return Dataset(data.name, pad(data.train), pad(data.test), data.class_names)


# ------------------------------------------------------------------------------------------ data and its checks

def test_the_cue_task_labels_targets_with_their_cue(task):
    for part in (task.train, task.test):
        assert part.y.shape == part.X.shape[:2]
        targets = cue_target_steps(part)
        assert np.all(targets.sum(axis=1) == 3)
        rows = np.flatnonzero(targets.any(axis=1))
        assert np.all(part.y[targets] == np.repeat(part.motif_class[rows], 3))   # the cue's class, on every target
        assert np.all((cue_distances(part) >= 1) & (cue_distances(part) <= 8))
        assert np.all(part.y[~real_steps(part.lengths, part.X.shape[1])] == 0)
    fixed = make_cue_task(8, 8, distance=5, min_len=14, max_len=16)
    assert np.all(cue_distances(fixed.test) == 5) and fixed.name == "cue task (distance 5)"
    with pytest.raises(ValueError, match="distance \\+ target_len"):
        make_cue_task(8, 8, distance=(1, 20), min_len=12, max_len=16)


def test_per_step_labels_of_the_wrong_length_or_on_padding_get_clear_errors(task):
    X, y, lengths = task.train.X, task.train.y, task.train.lengths
    assert np.array_equal(validate_sequences(X, y, 4, lengths), lengths)
    with pytest.raises(ValueError, match="rank 2 with one label per time step: y has 15 steps but X has 16"):
        validate_sequences(X, y[:, :-1], 4, lengths)
    on_padding = y.copy()
    i = int(np.argmin(lengths))
    on_padding[i, lengths[i]] = 2
    message = f"sample {i} has label 2 on padded step {lengths[i]}.*padded steps carry label 0"
    with pytest.raises(ValueError, match=message):
        validate_sequences(X, on_padding, 4, lengths)
    with pytest.raises(ValueError, match="rank 1 .* or rank 2"):
        validate_sequences(X, y[..., None], 4, lengths)
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        validate_sequences(X, y, 3, lengths)


def test_a_validation_cut_of_per_step_labels_is_seeded_and_disjoint(task):
    fit, validation = split_validation(task.train)
    assert len(fit) + len(validation) == len(task.train) and fit.y.ndim == 2
    again, _ = split_validation(task.train)
    assert np.array_equal(fit.X, again.X)


def test_concatenated_vowels_are_the_documented_arrays_and_never_mix_splits():
    raw = concatenated_vowels(normalise=False)
    assert arrays_digest(raw) == CONCATENATED_SHA256
    jv = load_japanese_vowels(normalise=False)

    def frames(part):
        return {hashlib.sha1(row.tobytes()).digest() for row in part.X[real_steps(part.lengths, part.X.shape[1])]}

    train_frames, test_frames = frames(jv.train), frames(jv.test)
    assert frames(raw.train) <= train_frames and not frames(raw.train) & test_frames
    assert frames(raw.test) <= test_frames and not frames(raw.test) & train_frames
    for part in (raw.train, raw.test):
        for labels, n in zip(part.y, part.lengths):
            turns = labels[:n][np.r_[True, np.diff(labels[:n]) != 0]]
            assert len(turns) == 4 and len(set(turns)) == 3   # four utterances, three speakers: one comes back
    normalised = concatenated_vowels()
    steps = normalised.train.X[real_steps(normalised.train.lengths, normalised.max_len)]
    np.testing.assert_allclose(steps.mean(axis=0), 0, atol=1e-4)


# ---------------------------------------------------------------------------------------------- the builder

def test_the_per_step_head_keeps_the_steps_and_reads_per_step(task):
    spec = ClassifierSpec(units=4, pool="none")
    assert spec.describe() == "bilstm(4) -> per-step"
    assert spec.but(mixer="self_attention").describe() == "bilstm(4) -> self_attention -> per-step"
    model = build_classifier(task, spec)
    assert tuple(model.output.shape) == (None, task.max_len, task.n_classes)
    with pytest.raises(ValueError, match="one label per step.*use pool='none'"):
        build_classifier(task, units=4, pool="average")


def test_every_lesson09_registry_model_labels_every_step(task):
    jv = concatenated_vowels(4, 4)
    entries = [e for e in MODELS.values() if e.lesson == "09"]
    assert len(entries) >= 7
    for entry in entries:
        data = task if entry.data == "cue task" else jv
        assert entry.data in ("cue task", "JapaneseVowels, concatenated")
        assert entry.spec.pool == "none" and entry.spec.describe().endswith("-> per-step")
        assert tuple(entry.build(data).output.shape) == (None, data.max_len, data.n_classes)
    keras.backend.clear_session()


def test_the_ports_per_step_outputs_do_not_change_with_extra_padding(task):
    """The masked SeqSelfAttention labeller gives the same output on every real step however much padding follows."""
    longer = padded_further(task, 7)
    set_seed(0)
    model = MODELS["09 BiLSTM + SeqSelfAttention"].build(task)
    twin = MODELS["09 BiLSTM + SeqSelfAttention"].build(longer)
    twin.set_weights(model.get_weights())
    short, long = np.asarray(model(task.test.X)), np.asarray(twin(longer.test.X))
    real = real_steps(task.test.lengths, task.max_len)
    np.testing.assert_allclose(long[:, :task.max_len][real], short[real], atol=1e-5)
    keras.backend.clear_session()


# --------------------------------------------------------------------------------------- loss and metrics

def test_padding_counts_in_no_metric(task):
    rng = np.random.default_rng(0)
    y_true = task.test.y
    y_pred = np.where(rng.random(y_true.shape) < 0.7, y_true, rng.integers(0, 4, y_true.shape))
    padded = ~real_steps(task.test.lengths, task.max_len)
    scrambled = y_pred.copy()
    scrambled[padded] = rng.integers(0, 4, padded.sum())   # other predictions on padded steps only
    assert labelling_metrics(y_true, y_pred, task.test.lengths, 4) == \
        labelling_metrics(y_true, scrambled, task.test.lengths, 4)
    np.testing.assert_array_equal(sequence_scores(y_true, y_pred, task.test.lengths),
                                  sequence_scores(y_true, scrambled, task.test.lengths))
    right = (y_pred == y_true) & ~padded
    real_accuracy = right.sum() / (~padded).sum()
    assert labelling_metrics(y_true, y_pred, task.test.lengths, 4)["accuracy"] == pytest.approx(real_accuracy)
    assert np.mean(y_pred == y_true) != pytest.approx(right.sum() / (~padded).sum())   # the careless metric differs


def test_padding_counts_in_no_loss(task):
    """Trained with 10 more padded steps, a model that cannot mask (a forward LSTM without Masking) predicts the
    same on real steps: the per-step sample weight leaves padded steps out of the loss. Without it, the padded
    steps' labels (0) would pull the training and the predictions would differ."""
    def build(data):
        inputs = keras.Input((data.max_len, data.n_features))
        x = keras.layers.LSTM(8, return_sequences=True)(inputs)   # no mask: real steps come first, so padding after
        return keras.Model(inputs, keras.layers.Dense(data.n_classes, activation="softmax")(x))   # them changes nothing

    longer = padded_further(task, 10)
    runs = [train_and_evaluate(build, data, seed=0, epochs=4, batch_size=16, learning_rate=1e-2)
            for data in (task, longer)]
    short = np.asarray(runs[0].model(task.test.X))
    long = np.asarray(runs[1].model(longer.test.X))[:, :task.max_len]
    real = real_steps(task.test.lengths, task.max_len)
    np.testing.assert_allclose(long[real], short[real], atol=2e-3)
    assert runs[0].metrics == runs[1].metrics
    keras.backend.clear_session()


def test_the_per_step_head_trains_and_scores_real_steps(task):
    comparison = run_seeds("labeller", lambda d: build_classifier(d, units=4, pool="none"), task, seeds=[0, 1],
                           epochs=1, batch_size=16)
    run = comparison.runs[0]
    assert run.y_pred.shape == task.test.y.shape
    assert run.metrics == labelling_metrics(task.test.y, run.y_pred, task.test.lengths, 4)
    assert {"accuracy", "macro F1"} <= set(comparison.summary())
    correct = comparison.correct
    assert correct.shape == (2, len(task.test)) and correct.dtype == float
    np.testing.assert_array_equal(correct[0], sequence_scores(task.test.y, run.y_pred, task.test.lengths))
    with pytest.raises(ValueError, match="per-step labels take no class_weight"):
        run_seeds("x", lambda d: build_classifier(d, units=4, pool="none"), task, seeds=[0, 1], epochs=1,
                  class_weight="balanced")
    keras.backend.clear_session()


# --------------------------------------------------------------------------------- paired verdicts by sequence

def fake_labeller(name, task, accuracy_by_sequence, seeds=(0, 1, 2)):
    """A SeedComparison whose run of every seed gets sequence ``i`` entirely right when ``accuracy_by_sequence[i]``
    is True, else entirely wrong (every real step one class off)."""
    y = task.test.y
    wrong = np.where(real_steps(task.test.lengths, task.max_len), (y + 1) % 4, 0)
    y_pred = np.where(np.asarray(accuracy_by_sequence)[:, None], y, wrong)
    runs = [RunResult(s, labelling_metrics(y, y_pred, task.test.lengths, 4), 1.0, {}, y_pred, 0.0, 1) for s in seeds]
    return SeedComparison.scored_on(name, runs, task.test)


def test_paired_verdicts_on_labellers_resample_sequences_not_steps(task):
    n = len(task.test)
    a = fake_labeller("A", task, np.arange(n) % 2 == 0)
    b = fake_labeller("B", task, np.arange(n) % 3 != 0)
    pair = compare_paired(a, b)
    assert pair.n_items == n   # one item per sequence, not per step
    shares = b.correct.mean() - a.correct.mean()
    assert pair.difference == pytest.approx(shares)
    # each sequence is all right or all wrong, so its steps are perfectly dependent: resampling sequences must give
    # a much wider test-item floor than resampling single steps (which would treat them as independent evidence)
    real = real_steps(task.test.lengths, task.max_len)
    step_difference = np.stack([(rb.y_pred == task.test.y)[real] for rb in b.runs]).astype(float) - \
        np.stack([(ra.y_pred == task.test.y)[real] for ra in a.runs])
    low, high = np.quantile(_bootstrap_means(step_difference, False, True), [0.025, 0.975])
    assert pair.item_floor > 1.5 * (high - low) / 2
    with pytest.raises(ValueError, match="per-step labels have no one class"):
        compare_paired(a, b, balanced=True)


def test_item_scores_may_be_shares_but_not_outside_0_1():
    from utils.stats import item_interval

    assert item_interval(np.array([[0.5, 1.0, 0.25]]))[0] == pytest.approx(0.5833, abs=1e-3)
    for bad in ([[1.5, 0.0]], [[-0.1, 0.5]], [[np.nan, 1.0]]):
        with pytest.raises(ValueError, match="share in \\[0, 1\\]"):
            item_interval(np.array(bad))


def test_a_comparison_on_some_items_pairs_only_with_the_same_items(task):
    a = fake_labeller("A", task, np.ones(len(task.test), bool))
    b = fake_labeller("B", task, np.arange(len(task.test)) % 2 == 0)
    far = cue_distances(task.test) > 4
    pair = compare_paired(a.on_items(far, "far"), b.on_items(far, "far"))
    assert pair.n_items == far.sum()
    with pytest.raises(ValueError, match="same test items"):
        compare_paired(a.on_items(far, "far"), b)


# ------------------------------------------------------------------------------------------------- the peer

def test_windows_hold_real_steps_only_and_the_peer_scores_by_sequence():
    X = np.zeros((2, 5, 1), np.float32)
    X[0, :3, 0], X[1, :5, 0] = [1, 2, 3], [4, 5, 6, 7, 8]
    part = SequenceSet(X, np.array([3, 5]), np.array([[1, 1, 1, 0, 0], [0, 1, 0, 1, 0]]))
    windows = window_features(part, 1)
    assert windows.shape == (8, 3)
    np.testing.assert_array_equal(windows[:3], [[0, 1, 2], [1, 2, 3], [2, 3, 0]])   # zeros past the ends
    data = make_cue_task(40, 20, distance=(1, 3), target_len=2, min_len=8, max_len=10)
    peer = windowed_peer_runs(data, [0, 1], width=3)
    assert peer.correct.shape == (2, 20) and np.ptp(peer.table["accuracy"]) == 0
    assert peer.name == "logistic regression, window ±3"
