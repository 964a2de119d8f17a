import shutil

import numpy as np
import pytest

from utils.data import (
    DATA_DIR,
    SequenceSet,
    apply_scaler,
    fit_scaler,
    load_japanese_vowels,
    make_motif_task,
    validate_sequences,
)


@pytest.fixture(scope="module")
def jv():
    return load_japanese_vowels()


def test_japanese_vowels_shapes_lengths_and_padding(jv):
    assert jv.train.X.shape == (270, 29, 12) and jv.test.X.shape == (370, 29, 12)
    assert jv.n_classes == 9 and jv.n_features == 12 and jv.max_len == 29
    for part in (jv.train, jv.test):
        assert part.lengths.min() >= 7 and part.lengths.max() <= 29
        assert np.all(part.X[~part.mask] == 0), "padding must be exactly zero"
        assert np.all(np.any(part.X[part.mask] != 0, axis=-1)), "real steps must not look like padding"
        np.testing.assert_array_equal(validate_sequences(part.X), part.lengths)
    assert np.array_equal(np.bincount(jv.train.y), np.full(9, 30))


def test_normalisation_uses_training_statistics_only(jv):
    steps = jv.train.X[jv.train.mask]
    np.testing.assert_allclose(steps.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(steps.std(axis=0), 1, atol=1e-4)
    raw = load_japanese_vowels(normalise=False)
    mean, std = fit_scaler(raw.train)
    # changing the test set must not change the statistics, nor the normalised training data
    shifted = SequenceSet(X=raw.test.X + 100 * raw.test.mask[..., None], lengths=raw.test.lengths, y=raw.test.y)
    np.testing.assert_allclose(apply_scaler(raw.train, mean, std).X, jv.train.X, atol=1e-6)
    np.testing.assert_allclose(apply_scaler(raw.test, mean, std).X, jv.test.X, atol=1e-6)
    assert not np.allclose(apply_scaler(shifted, mean, std).X, jv.test.X)
    assert abs(jv.test.X[jv.test.mask].mean()) > 1e-3, "test data must not be re-centred on its own mean"


def test_corrupted_data_file_fails_with_clear_error(tmp_path):
    shutil.copy(DATA_DIR / "SHA256SUMS", tmp_path)
    data = bytearray((DATA_DIR / "japanese_vowels.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "japanese_vowels.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        load_japanese_vowels(tmp_path)


def test_missing_data_file_fails_with_clear_error(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        load_japanese_vowels(tmp_path)


def test_motif_task_is_deterministic_and_returns_ground_truth():
    a = make_motif_task(200, 50, min_len=30, max_len=60, seed=7)
    b = make_motif_task(200, 50, min_len=30, max_len=60, seed=7)
    c = make_motif_task(200, 50, min_len=30, max_len=60, seed=8)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.test.motif_start, b.test.motif_start)
    assert not np.array_equal(a.train.X, c.train.X)
    for part in (a.train, a.test):
        assert part.X.shape[1:] == (60, 4)
        assert part.lengths.min() >= 30 and part.lengths.max() <= 60
        assert np.all(part.X[~part.mask] == 0)
        assert np.all(part.motif_start + 8 <= part.lengths), "the motif must lie inside the real steps"
        np.testing.assert_array_equal(validate_sequences(part.X, part.y, 4), part.lengths)


def test_motif_task_places_the_class_motif_at_motif_start():
    clean = make_motif_task(100, 10, min_len=20, max_len=40, snr=5.0, seed=1)
    part = clean.train
    in_motif = np.zeros_like(part.mask)
    for i, start in enumerate(part.motif_start):
        in_motif[i, start:start + 8] = True
    motif_power = (part.X[in_motif] ** 2).mean()
    background_power = (part.X[part.mask & ~in_motif] ** 2).mean()
    assert background_power == pytest.approx(1.0, rel=0.05)
    assert motif_power == pytest.approx(1.0 + 5.0 ** 2, rel=0.1)


def test_label_noise_sets_the_fraction_of_flipped_labels():
    noisy = make_motif_task(4000, 10, min_len=10, max_len=12, motif_len=4, label_noise=0.3, seed=0)
    clean = make_motif_task(4000, 10, min_len=10, max_len=12, motif_len=4, label_noise=0.0, seed=0)
    flipped = np.mean(noisy.train.y != clean.train.y)
    assert 0.27 < flipped < 0.33
    np.testing.assert_array_equal(noisy.train.motif_class, clean.train.y)  # the planted class, before noise
    np.testing.assert_array_equal(clean.train.motif_class, clean.train.y)
    assert np.mean(noisy.train.y == noisy.train.motif_class) == pytest.approx(1 - flipped)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_len": 5, "motif_len": 8}, "motif_len"),
    ({"label_noise": 1.0}, "label_noise"),
    ({"snr": float("nan")}, "snr"),
    ({"n_classes": 1}, "n_classes"),
])
def test_motif_task_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_motif_task(10, 10, **kwargs)


def _batch():
    X = np.zeros((3, 5, 2), dtype=np.float32)
    X[0, :5], X[1, :3], X[2, :1] = 1.0, 2.0, 3.0
    return X, np.array([0, 1, 2])


def test_validate_sequences_returns_lengths():
    X, y = _batch()
    np.testing.assert_array_equal(validate_sequences(X, y, 3), [5, 3, 1])


@pytest.mark.parametrize("mutate, message", [
    (lambda X, y: (X, y[:2]), "disagree in length"),
    (lambda X, y: (X[0], y), "rank 3"),
    (lambda X, y: (np.where(np.arange(5)[None, :, None] == 1, np.nan, X), y), "NaN"),
    (lambda X, y: (X, np.array([0, 1, 3])), "labels must lie in 0..2"),
    (lambda X, y: (X, np.array([0, -1, 2])), "labels must lie in 0..2"),
    (lambda X, y: (X, np.array([0.0, 1.0, 2.0])), "integer"),
    (lambda X, y: (np.concatenate([X, np.zeros((1, 5, 2), np.float32)]), np.array([0, 1, 2, 0])), "all padding"),
    (lambda X, y: (X[:, :0], y), "empty"),
    (lambda X, y: (X[:, ::-1], y), "Pad on the right only"),  # left padding
    (lambda X, y: (np.where(np.arange(5)[None, :, None] == 2, 0.0, X), y), "all-zero step at 2"),  # a gap
    (lambda X, y: (np.where(np.arange(5)[None, :, None] == 1, np.inf, X), y), "NaN or inf"),
    (lambda X, y: (X.astype(str), y), "numeric"),
    (lambda X, y: (X, y[:, None]), "rank 1"),
])
def test_validate_sequences_rejects_bad_input(mutate, message):
    X, y = mutate(*_batch())
    with pytest.raises(ValueError, match=message):
        validate_sequences(X, y, n_classes=3)


def test_validate_sequences_rejects_lengths_that_hide_real_steps():
    X, _ = _batch()
    with pytest.raises(ValueError, match="after its length"):
        validate_sequences(X, lengths=np.array([5, 2, 1]))


@pytest.mark.parametrize("lengths, message", [
    (np.array([5, 3]), "lengths must have shape"),
    (np.array([5, 3, 0]), "lengths must lie in 1..5"),
    (np.array([5, 3, 6]), "lengths must lie in 1..5"),
])
def test_validate_sequences_rejects_bad_lengths(lengths, message):
    X, _ = _batch()
    with pytest.raises(ValueError, match=message):
        validate_sequences(X, lengths=lengths)
