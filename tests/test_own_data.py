"""Bring your own data (utils.data): unequal-length arrays, a long-format table or a NumPy file become a course
Dataset, padded on the right, scaled on train only, split stratified and seeded; bad input gets a ValueError."""
import numpy as np
import pandas as pd
import pytest

from utils.data import dataset_from_sequences, dataset_from_table, load_dataset, pad_right

pytestmark = pytest.mark.backend_free


def _own(n=40, F=2, seed=0):
    rng = np.random.default_rng(seed)
    sequences = [rng.normal(3.0, 2.0, size=(int(rng.integers(3, 9)), F)) for _ in range(n)]
    return sequences, np.array(["ham", "spam"] * (n // 2))


def test_pad_right_keeps_the_start_and_returns_lengths():
    X, lengths = pad_right([np.ones((2, 3)), np.full((4, 3), 2.0)])
    assert X.shape == (2, 4, 3) and lengths.tolist() == [2, 4]
    assert np.all(X[0, 2:] == 0) and np.all(X[0, :2] == 1)
    cut, n = pad_right([np.arange(10.0)[:, None]], max_len=3)
    assert cut[0, :, 0].tolist() == [0, 1, 2] and n.tolist() == [3]


def test_unequal_sequences_become_a_right_padded_stratified_seeded_dataset():
    sequences, labels = _own()
    data = dataset_from_sequences(sequences, labels, test_size=0.25, seed=3)
    assert data.class_names == ("ham", "spam") and len(data.train) == 30 and len(data.test) == 10
    assert np.bincount(data.test.y).tolist() == [5, 5]                      # stratified
    again = dataset_from_sequences(sequences, labels, test_size=0.25, seed=3)
    assert np.array_equal(again.test.X, data.test.X)                        # seeded
    other = dataset_from_sequences(sequences, labels, test_size=0.25, seed=4)
    assert not np.array_equal(other.test.X, data.test.X)
    for part in (data.train, data.test):                                    # right padding: real steps first
        assert np.all(part.mask == (np.arange(part.X.shape[1])[None] < part.lengths[:, None]))
        assert np.all(part.X[~part.mask] == 0)


def test_scaling_is_fitted_on_the_training_split_only():
    sequences, labels = _own()
    data = dataset_from_sequences(sequences, labels, seed=0)
    real = data.train.X[data.train.mask]
    assert np.allclose(real.mean(axis=0), 0, atol=1e-5) and np.allclose(real.std(axis=0), 1, atol=1e-3)
    test_real = data.test.X[data.test.mask]
    assert not np.allclose(test_real.mean(axis=0), 0, atol=1e-3)            # the test split was not refitted
    raw = dataset_from_sequences(sequences, labels, seed=0, scale=False)
    mean, std = raw.train.X[raw.train.mask].mean(axis=0), raw.train.X[raw.train.mask].std(axis=0)
    assert np.allclose(test_real, (raw.test.X[raw.test.mask] - mean) / std, atol=1e-4)


def test_a_given_test_split_is_kept():
    sequences, labels = _own()
    data = dataset_from_sequences(sequences[:30], labels[:30], test_sequences=sequences[30:], test_labels=labels[30:])
    assert len(data.train) == 30 and len(data.test) == 10
    assert data.test.lengths.tolist() == [len(s) for s in sequences[30:]]


def test_real_all_zero_steps_warn_and_shift_moves_them_off_zero():
    sequences, labels = _own()
    sequences[0][1] = 0.0
    with pytest.warns(UserWarning, match="all-zero"):
        dataset_from_sequences(sequences, labels, scale=False)
    with pytest.warns(UserWarning, match="shift moved them off zero"):
        shifted = dataset_from_sequences(sequences, labels, scale=False, shift=10.0)
    for part in (shifted.train, shifted.test):
        assert np.all(np.any(part.X != 0, axis=2)[part.mask])


def test_a_long_table_gives_the_same_dataset_as_its_sequences():
    sequences, labels = _own(n=12)
    rows = [{"sequence": f"s{i:02d}", "time": t, "a": step[0], "b": step[1], "label": labels[i]}
            for i, seq in enumerate(sequences) for t, step in enumerate(seq)]
    table = pd.DataFrame(rows).sample(frac=1.0, random_state=0)            # row order must not matter
    assert np.array_equal(dataset_from_table(table, seed=1).train.X,
                          dataset_from_sequences(sequences, labels, seed=1).train.X)


def test_a_numpy_file_and_a_csv_file_load(tmp_path):
    sequences, labels = _own(n=12)
    X, lengths = pad_right([s.astype(np.float32) for s in sequences])
    np.savez(tmp_path / "mine.npz", X=X, y=(labels == "spam").astype(int), lengths=lengths,
             class_names=np.array(["ham", "spam"]))
    data = load_dataset(tmp_path / "mine.npz", seed=1)
    assert data.class_names == ("ham", "spam") and data.name == "mine"
    assert np.array_equal(data.train.X, dataset_from_sequences(sequences, labels, seed=1).train.X)
    rows = [{"sequence": i, "time": t, "f0": step[0], "f1": step[1], "label": labels[i]}
            for i, seq in enumerate(sequences) for t, step in enumerate(seq)]
    pd.DataFrame(rows).to_csv(tmp_path / "mine.csv", index=False)
    assert len(load_dataset(tmp_path / "mine.csv").train) == 9


@pytest.mark.parametrize("mutate, message", [
    (lambda s, y: (s[:3] + [np.ones((4, 3))] + s[4:], y), "ragged features"),
    (lambda s, y: ([np.where(np.arange(len(x))[:, None] == 1, np.nan, x) if i == 2 else x for i, x in enumerate(s)], y),
     "sequence 2 contains NaN"),
    (lambda s, y: (s[:5] + [np.zeros((0, 2))] + s[6:], y), "sequence 5 is empty"),
    (lambda s, y: (s, y[:-1]), "40 sequences but 39 labels"),
    (lambda s, y: (s, np.array(["ham"] * 40)), "at least 2 classes"),
    (lambda s, y: (s, np.array(["ham"] * 39 + ["eggs"])), "at least 2 per class"),
    (lambda s, y: ([np.ones((2, 2, 2))] + s[1:], y), "must be \\(time, features\\)"),
])
def test_bad_own_data_gets_a_clear_value_error(mutate, message):
    with pytest.raises(ValueError, match=message):
        dataset_from_sequences(*mutate(*_own()))


def test_bad_tables_and_files_get_a_clear_value_error(tmp_path):
    table = pd.DataFrame({"sequence": [0, 0, 1, 1], "time": [0, 1, 0, 1], "x": [1.0, 2, 3, 4], "label": [0, 1, 1, 1]})
    with pytest.raises(ValueError, match="label varies within sequence '0'"):
        dataset_from_table(table)
    with pytest.raises(ValueError, match="NaN features"):
        dataset_from_table(table.assign(label=[0, 0, 1, 1], x=[1.0, np.nan, 3, 4]))
    with pytest.raises(ValueError, match="no column"):
        dataset_from_table(table.drop(columns="time"))
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset(tmp_path / "nothing.npz")
    np.savez(tmp_path / "bad.npz", X=np.ones((4, 3, 2)))
    with pytest.raises(ValueError, match="must hold arrays 'X' and 'y'"):
        load_dataset(tmp_path / "bad.npz")
    np.savez(tmp_path / "range.npz", X=np.ones((4, 3, 2)), y=[0, 1, 2, 1], class_names=np.array(["a", "b"]))
    with pytest.raises(ValueError, match="labels must be in 0..1"):
        load_dataset(tmp_path / "range.npz")
