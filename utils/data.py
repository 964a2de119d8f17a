"""Data: validated padded sequences, JapaneseVowels from data/, and a synthetic motif task."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
JV_FILE = "japanese_vowels.npz"


@dataclass(frozen=True)
class SequenceSet:
    """Right-padded sequences ``X`` (N, T, F), their true ``lengths`` (N,) and labels ``y`` (N,)."""

    X: np.ndarray
    lengths: np.ndarray
    y: np.ndarray
    motif_start: np.ndarray | None = None  # synthetic task only: where the evidence starts
    motif_class: np.ndarray | None = None  # synthetic task only: the class whose motif was planted

    def __len__(self) -> int:
        return len(self.y)

    @property
    def mask(self) -> np.ndarray:
        """Boolean (N, T): True on real time steps."""
        return np.arange(self.X.shape[1])[None, :] < self.lengths[:, None]

    def take(self, indices) -> "SequenceSet":
        """The sequences at ``indices``, with their lengths, labels and any motif annotations."""
        pick = lambda a: None if a is None else a[indices]  # noqa: E731
        return SequenceSet(self.X[indices], self.lengths[indices], self.y[indices], pick(self.motif_start),
                           pick(self.motif_class))


#: The validation split is the same for every seed, so models compared on one seed see the same split.
VALIDATION_SEED = 0


def split_validation(part: SequenceSet, fraction: float = 0.2) -> tuple[SequenceSet, SequenceSet]:
    """Cut a stratified, seeded validation split from a *training* split: (fit part, validation part).

    Learning curves and any early stopping read the validation part; the test split stays untouched until
    the final score.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"the validation fraction must lie in (0, 1), got {fraction}")
    counts = np.bincount(part.y)
    if len(part) * fraction < np.count_nonzero(counts) or counts[counts > 0].min() < 2:
        raise ValueError(f"{len(part)} sequences are too few to cut a stratified {fraction:.0%} validation split "
                         f"(every class needs at least 2 sequences; class counts {counts.tolist()})")
    fit, validation = train_test_split(np.arange(len(part)), test_size=fraction, stratify=part.y,
                                       random_state=VALIDATION_SEED)
    return part.take(np.sort(fit)), part.take(np.sort(validation))


@dataclass(frozen=True)
class Dataset:
    """A train/test pair with its class names."""

    name: str
    train: SequenceSet
    test: SequenceSet
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return self.train.X.shape[2]

    @property
    def max_len(self) -> int:
        return self.train.X.shape[1]


def validate_sequences(X, y=None, n_classes: int | None = None, lengths=None) -> np.ndarray:
    """Check a padded batch and return the true lengths; raise ValueError naming any problem.

    Padding is an all-zero time step after the last real one (right padding, as Keras'
    ``Masking(mask_value=0.0)`` and the cuDNN LSTM expect).
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must be rank 3 (batch, time, features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(f"X is empty: shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    if not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"X contains NaN or inf (first at sample {bad[0]}, step {bad[1]})")
    real = np.any(X != 0, axis=2)
    found = np.where(real.any(axis=1), X.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)
    empty = np.flatnonzero(found == 0)
    if empty.size:
        raise ValueError(f"{empty.size} sequence(s) are all padding (e.g. sample {empty[0]})")
    gaps = np.argwhere(~real & (np.arange(X.shape[1])[None, :] < found[:, None]))
    if gaps.size:
        i, t = gaps[0]
        raise ValueError(f"sample {i} has an all-zero step at {t}, before its last real step: Masking would "
                         "treat it as padding. Pad on the right only (and keep real steps non-zero)")
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (X.shape[0],):
            raise ValueError(f"lengths must have shape ({X.shape[0]},), got {lengths.shape}")
        if np.any(lengths < 1) or np.any(lengths > X.shape[1]):
            raise ValueError(f"lengths must lie in 1..{X.shape[1]}")
        if np.any(found > lengths):
            i = int(np.flatnonzero(found > lengths)[0])
            raise ValueError(f"sample {i} has non-zero steps after its length {lengths[i]}")
        found = lengths.astype(np.int32)
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be rank 1 (integer class labels), got shape {y.shape}")
        if len(y) != len(X):
            raise ValueError(f"X and y disagree in length: {len(X)} sequences but {len(y)} labels")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
        if n_classes is not None and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"labels must lie in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
    return found.astype(np.int32)


def whole_number(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int; a ValueError naming ``name`` unless it is a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_choice(name: str, value, choices) -> None:
    """A ValueError naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _expected_checksum(data_dir: Path, filename: str) -> str:
    for line in (data_dir / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name.strip() == filename:
            return digest
    raise ValueError(f"{filename} is not listed in {data_dir / 'SHA256SUMS'}")


def fit_scaler(train: SequenceSet) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over the real (unpadded) training steps."""
    steps = train.X[train.mask]
    std = steps.std(axis=0)
    return steps.mean(axis=0), np.where(std > 0, std, 1.0)


def apply_scaler(part: SequenceSet, mean: np.ndarray, std: np.ndarray) -> SequenceSet:
    """Standardise real steps and keep padding at exactly zero."""
    X = ((part.X - mean) / std) * part.mask[..., None]
    return replace(part, X=X.astype(np.float32))


def load_japanese_vowels(data_dir: Path | str = DATA_DIR, normalise: bool = True) -> Dataset:
    """JapaneseVowels (9 speakers, 12 LPC channels, lengths 7-29), checksum-verified.

    Returns right-padded arrays with true lengths, standardised with training statistics only.
    """
    data_dir = Path(data_dir)
    path = data_dir / JV_FILE
    if not path.exists():
        raise ValueError(f"{path} is missing; restore it with git or tools/convert_japanese_vowels.py")
    expected, actual = _expected_checksum(data_dir, JV_FILE), sha256(path)
    if actual != expected:
        raise ValueError(f"{path} is corrupted: SHA-256 {actual[:12]}... expected {expected[:12]}...; "
                         "restore it with `git checkout data/` or tools/convert_japanese_vowels.py")
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    class_names = tuple(str(c) for c in arrays["class_names"])
    parts = {}
    for split in ("train", "test"):
        X, y, lengths = arrays[f"X_{split}"], arrays[f"y_{split}"], arrays[f"lengths_{split}"]
        validate_sequences(X, y, len(class_names), lengths)
        parts[split] = SequenceSet(X=X, lengths=lengths, y=y)
    if normalise:
        mean, std = fit_scaler(parts["train"])
        parts = {k: apply_scaler(v, mean, std) for k, v in parts.items()}
    return Dataset("JapaneseVowels", parts["train"], parts["test"], class_names)


def make_motif_task(n_train: int = 3000, n_test: int = 1000, *, min_len: int = 100, max_len: int = 200,
                    n_classes: int = 4, n_features: int = 4, motif_len: int = 8, snr: float = 2.0,
                    label_noise: float = 0.0, seed: int = 0) -> Dataset:
    """A seeded synthetic task: the class is a short motif hidden at a random position.

    Each sequence is Gaussian noise (std 1) of random length in [min_len, max_len], zero-padded to
    max_len. The class's motif (unit-RMS pattern, scaled by ``snr``) is added at a random start,
    returned as ``motif_start``. ``label_noise`` is the fraction of labels replaced at random by
    another class, so the best reachable accuracy is ``1 - label_noise`` on average; ``motif_class``
    keeps the planted class, so ``mean(y == motif_class)`` is a split's actual ceiling.
    """
    if not (1 <= motif_len <= min_len <= max_len):
        raise ValueError(f"need 1 <= motif_len <= min_len <= max_len, got {motif_len}, {min_len}, {max_len}")
    if n_classes < 2 or n_features < 1 or n_train < 1 or n_test < 1:
        raise ValueError("need n_classes >= 2, n_features >= 1 and at least one train and test sequence")
    if snr < 0 or not np.isfinite(snr):
        raise ValueError(f"snr must be a finite number >= 0, got {snr}")
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must lie in [0, 1), got {label_noise}")
    rng = np.random.default_rng(seed)
    motifs = rng.standard_normal((n_classes, motif_len, n_features))
    motifs /= np.sqrt((motifs ** 2).mean(axis=(1, 2), keepdims=True))

    def sample(n: int) -> SequenceSet:
        lengths = rng.integers(min_len, max_len + 1, size=n).astype(np.int32)
        y_true = rng.integers(0, n_classes, size=n).astype(np.int32)
        starts = np.array([rng.integers(0, L - motif_len + 1) for L in lengths], dtype=np.int32)
        X = rng.standard_normal((n, max_len, n_features)).astype(np.float32)
        X *= (np.arange(max_len)[None, :] < lengths[:, None])[..., None]
        for i in range(n):
            X[i, starts[i]: starts[i] + motif_len] += snr * motifs[y_true[i]]
        y = y_true.copy()
        flip = rng.random(n) < label_noise
        y[flip] = (y_true[flip] + rng.integers(1, n_classes, size=flip.sum())) % n_classes
        return SequenceSet(X=X, lengths=lengths, y=y.astype(np.int32), motif_start=starts, motif_class=y_true)

    train, test = sample(n_train), sample(n_test)
    name = f"Motif(T={min_len}-{max_len}, snr={snr}, label noise={label_noise})"
    return Dataset(name, train, test, tuple(f"motif {c}" for c in range(n_classes)))
