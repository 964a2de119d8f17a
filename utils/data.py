"""Data: validated padded sequences, JapaneseVowels from data/, and a synthetic motif task."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .checksums import DATA_DIR, sha256, verified_path  # noqa: F401  (re-exported: utils.data.verified_path)
from .validators import padded_lengths, validate_sequences

JV_FILE = "japanese_vowels.npz"


@dataclass(frozen=True)
class SequenceSet:
    """Right-padded sequences ``X`` (N, T, F), their true ``lengths`` (N,) and labels ``y``: (N,) one per
    sequence, or (N, T) one per step for sequence labelling (lesson 09; padded steps labelled 0).

    Args:
        X: ``(N, T, F)`` right-padded sequences.
        lengths: ``(N,)`` true lengths.
        y: ``(N,)`` or ``(N, T)`` integer labels.
        motif_start: synthetic tasks only: where each sequence's evidence starts.
        motif_class: synthetic tasks only: the class whose evidence was planted.
    """

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

    def take(self, indices) -> SequenceSet:
        """The sequences at ``indices``, with their lengths, labels and any motif annotations.

        Args:
            indices: integer indices or a boolean mask over the sequences.

        Returns:
            A new :class:`SequenceSet`.
        """
        pick = lambda a: None if a is None else a[indices]  # noqa: E731
        return SequenceSet(self.X[indices], self.lengths[indices], self.y[indices], pick(self.motif_start),
                           pick(self.motif_class))


#: The validation split is the same for every seed, so models compared on one seed see the same split.
VALIDATION_SEED = 0


def validation_indices(part: SequenceSet, fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The sorted indices of :func:`split_validation`'s cut: (fit indices, validation indices).

    Args:
        part: a training split.
        fraction: the validation share, in (0, 1).

    Returns:
        ``(fit indices, validation indices)``, each sorted; stratified by class, or for per-step labels a seeded
        random cut (:data:`VALIDATION_SEED` in both cases).

    Raises:
        ValueError: ``fraction`` outside (0, 1), or (one label per sequence) too few sequences to give every class a
            place in the validation part, or a class with fewer than 2 sequences.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"the validation fraction must lie in (0, 1), got {fraction}")
    if part.y.ndim == 2:   # per-step labels: no one class per sequence to stratify by, so a seeded random cut
        fit, validation = train_test_split(np.arange(len(part)), test_size=fraction, random_state=VALIDATION_SEED)
        return np.sort(fit), np.sort(validation)
    counts = np.bincount(part.y)
    if len(part) * fraction < np.count_nonzero(counts) or counts[counts > 0].min() < 2:
        raise ValueError(f"{len(part)} sequences are too few to cut a stratified {fraction:.0%} validation split "
                         f"(every class needs at least 2 sequences; class counts {counts.tolist()})")
    fit, validation = train_test_split(np.arange(len(part)), test_size=fraction, stratify=part.y,
                                       random_state=VALIDATION_SEED)
    return np.sort(fit), np.sort(validation)


def split_validation(part: SequenceSet, fraction: float = 0.2) -> tuple[SequenceSet, SequenceSet]:
    """Cut a seeded validation split from a *training* split: (fit part, validation part), stratified by class
    for one label per sequence (a seeded random cut for per-step labels).

    Learning curves and any early stopping read the validation part; the test split stays untouched until
    the final score.

    Args:
        part: a training split.
        fraction: the validation share, in (0, 1).

    Returns:
        ``(fit part, validation part)`` as :class:`SequenceSet` objects (see :func:`validation_indices`).

    Raises:
        ValueError: as :func:`validation_indices`.
    """
    fit, validation = validation_indices(part, fraction)
    return part.take(fit), part.take(validation)


@dataclass(frozen=True)
class Dataset:
    """A train/test pair with its class names.

    Args:
        name: the data set's name.
        train: the training :class:`SequenceSet`.
        test: the test :class:`SequenceSet`.
        class_names: one name per class, in label order.
    """

    name: str
    train: SequenceSet
    test: SequenceSet
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        """The number of classes (of ``class_names``)."""
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        """Features per time step (the training split's last axis)."""
        return self.train.X.shape[2]

    @property
    def max_len(self) -> int:
        """The padded length ``T`` of the training split."""
        return self.train.X.shape[1]

    @property
    def labelling(self) -> bool:
        """True when every step has a label (y is (N, T)): sequence labelling, not classification."""
        return self.train.y.ndim == 2


def fit_scaler(train: SequenceSet) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over the real (unpadded) training steps.

    Args:
        train: the training split.

    Returns:
        ``(mean, std)``, each ``(F,)``; a channel with std 0 gets 1, so that scaling leaves it finite.
    """
    steps = train.X[train.mask]
    std = steps.std(axis=0)
    return steps.mean(axis=0), np.where(std > 0, std, 1.0)


def apply_scaler(part: SequenceSet, mean: np.ndarray, std: np.ndarray) -> SequenceSet:
    """Standardise real steps and keep padding at exactly zero.

    Args:
        part: a split.
        mean: per-channel means (:func:`fit_scaler` on the training split).
        std: per-channel standard deviations.

    Returns:
        A copy of ``part`` with float32 ``X`` scaled.
    """
    X = ((part.X - mean) / std) * part.mask[..., None]
    return replace(part, X=X.astype(np.float32))


def load_japanese_vowels(data_dir: Path | str = DATA_DIR, normalise: bool = True) -> Dataset:
    """JapaneseVowels (9 speakers, 12 LPC channels, lengths 7-29), checksum-verified.

    Returns right-padded arrays with true lengths, standardised with training statistics only.

    Args:
        data_dir: the folder that holds ``japanese_vowels.npz`` and ``SHA256SUMS``.
        normalise: standardise with the training split's statistics (:func:`fit_scaler`).

    Returns:
        The :class:`Dataset` ``"JapaneseVowels"``, its classes the 9 speakers.

    Raises:
        ValueError: the file is missing or fails its checksum, or its arrays fail
            :func:`utils.validators.validate_sequences`.
    """
    path = verified_path(data_dir, JV_FILE, "`git checkout data/` or tools/convert_japanese_vowels.py")
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


def draw_motifs(rng: np.random.Generator, n_classes: int, motif_len: int, n_features: int) -> np.ndarray:
    """The classes' motifs of the motif task: Gaussian patterns, each scaled to unit RMS. :func:`make_motif_task`
    and lesson 10a's sharded corpus (``utils.streaming.write_shards``) draw them here.

    Args:
        rng: the generator to draw from (it advances by ``n_classes * motif_len * n_features`` normals).
        n_classes: classes, one motif each.
        motif_len: the motif's length in steps.
        n_features: channels per step.

    Returns:
        ``(n_classes, motif_len, n_features)`` float64.
    """
    motifs = rng.standard_normal((n_classes, motif_len, n_features))
    motifs /= np.sqrt((motifs ** 2).mean(axis=(1, 2), keepdims=True))
    return motifs


def make_motif_task(n_train: int = 3000, n_test: int = 1000, *, min_len: int = 100, max_len: int = 200,
                    n_classes: int = 4, n_features: int = 4, motif_len: int = 8, snr: float = 2.0,
                    label_noise: float = 0.0, seed: int = 0) -> Dataset:
    """A seeded synthetic task: the class is a short motif hidden at a random position.

    Each sequence is Gaussian noise (std 1) of random length in [min_len, max_len], zero-padded to
    max_len. The class's motif (unit-RMS pattern, scaled by ``snr``) is added at a random start,
    returned as ``motif_start``. ``label_noise`` is the fraction of labels replaced at random by
    another class, so the best reachable accuracy is ``1 - label_noise`` on average; ``motif_class``
    keeps the planted class, so ``mean(y == motif_class)`` is a split's actual ceiling.

    Args:
        n_train: training sequences.
        n_test: test sequences.
        min_len: the shortest sequence.
        max_len: the longest sequence, and the padded length.
        n_classes: classes, one motif each.
        n_features: channels per step.
        motif_len: the motif's length in steps.
        snr: the motif's scale against noise of std 1.
        label_noise: the share of labels replaced by another class, in [0, 1).
        seed: the random seed.

    Returns:
        A :class:`Dataset` with classes ``"motif 0"``, ``"motif 1"`` ...; its splits carry ``motif_start`` and
        ``motif_class``.

    Raises:
        ValueError: unless ``1 <= motif_len <= min_len <= max_len``, ``n_classes >= 2``, ``n_features >= 1``,
            ``n_train >= 1``, ``n_test >= 1``, ``snr`` finite and >= 0 and ``label_noise`` in [0, 1).

    Example:
        ::

            motif = make_motif_task(min_len=20, max_len=30, snr=1.5, seed=1)
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
    motifs = draw_motifs(rng, n_classes, motif_len, n_features)

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


def one_against_rest(data: Dataset, single: int, pooled, names=None) -> Dataset:
    """A binary task from a multi-class one: class ``single`` becomes class 0 and the ``pooled`` classes class 1
    (Q002's "class 0 against 7 pooled classes"); sequences of other classes are dropped, both splits alike.

    Args:
        data: a classification :class:`Dataset`.
        single: the class that becomes class 0.
        pooled: the classes that become class 1.
        names: the two new class names (default: ``single``'s name and ``"pooled: ..."``).

    Returns:
        The binary :class:`Dataset`.

    Raises:
        ValueError: ``pooled`` is empty, contains ``single``, or a class is outside ``0..n_classes - 1``.
    """
    pooled = sorted(int(c) for c in pooled)
    if single in pooled or not pooled or not set([single, *pooled]) <= set(range(data.n_classes)):
        raise ValueError(f"single ({single}) and pooled ({pooled}) must be distinct classes of 0..{data.n_classes - 1}")

    def part(p: SequenceSet) -> SequenceSet:
        keep = np.flatnonzero(np.isin(p.y, [single, *pooled]))
        kept = p.take(keep)
        return replace(kept, y=(kept.y != single).astype(np.int32))

    names = names or (data.class_names[single], "pooled: " + ", ".join(data.class_names[c] for c in pooled))
    return Dataset(f"{data.name}, {names[0]} vs {len(pooled)} pooled", part(data.train), part(data.test), tuple(names))


# ------------------------------------------------------------------------------- bring your own data

def _sequence(i, seq) -> np.ndarray:
    seq = np.asarray(seq)
    if seq.ndim == 1:
        seq = seq[:, None]
    if seq.ndim != 2:
        raise ValueError(f"sequence {i} must be (time, features), got shape {seq.shape}")
    if seq.shape[0] == 0:
        raise ValueError(f"sequence {i} is empty (0 time steps)")
    if not np.issubdtype(seq.dtype, np.number):
        raise ValueError(f"sequence {i} must be numeric, got dtype {seq.dtype}")
    if not np.all(np.isfinite(seq)):
        t = np.argwhere(~np.isfinite(seq))[0][0]
        raise ValueError(f"sequence {i} contains NaN or inf (first at step {t}); impute or drop it first")
    return seq.astype(np.float32)


def _encode_labels(labels, class_names=None) -> tuple[np.ndarray, tuple[str, ...]]:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one per sequence (rank 1), got shape {labels.shape}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError("labels contain NaN")
    names = tuple(str(c) for c in (class_names if class_names is not None else np.unique(labels)))
    if len(names) < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {list(names)}")
    if class_names is not None and labels.dtype.kind in "iu":   # integer labels index the given class names
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise ValueError(f"labels must be in 0..{len(names) - 1} for the {len(names)} class names {list(names)}, "
                             f"got {labels.min()}..{labels.max()}")
        return labels.astype(np.int32), names
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({str(v) for v in labels} - set(index))
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the class names {list(names)}")
    return np.array([index[str(v)] for v in labels], np.int32), names


def pad_right(sequences, max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pad (T_i, F) arrays with zero steps on the right into (N, T, F) (``keras.utils.pad_sequences``), and
    return the true lengths. Longer sequences are cut to ``max_len`` (keeping their start).

    Args:
        sequences: a list of ``(T_i, F)`` arrays.
        max_len: the padded length (default: the longest sequence).

    Returns:
        ``(X, lengths)``: ``(N, max_len, F)`` float32 and ``(N,)`` int32.
    """
    from keras.utils import pad_sequences

    lengths = np.array([min(len(s), max_len or len(s)) for s in sequences], np.int32)
    X = pad_sequences(list(sequences), maxlen=int(max_len or lengths.max()), dtype="float32", padding="post",
                      truncating="post", value=0.0)
    return X, lengths


def dataset_from_sequences(sequences, labels, *, test_sequences=None, test_labels=None, class_names=None,
                           test_size: float = 0.25, seed: int = 0, scale: bool = True, shift: float | None = None,
                           max_len: int | None = None, name: str = "your data") -> Dataset:
    """A course :class:`Dataset` from your own sequences: a list of (T_i, F) arrays of any lengths, one label each.

    Without ``test_sequences``, a stratified, seeded split (``test_size``, ``seed``) makes the test split.
    Sequences are padded on the right with zero steps; with ``scale`` each feature is standardised with the
    *training* split's mean and std (over real steps only). A real step that is all-zero after that would be
    read as padding by ``Masking(0.0)``: you get a warning, and ``shift`` (a constant added to every real value)
    moves such steps off zero. Raises ValueError for empty sequences, NaN, ragged feature counts, labels that do
    not match the sequences, or a class too small to split.

    Args:
        sequences: a list of ``(T_i, F)`` arrays (a 1-D array is one feature per step).
        labels: one label per sequence: class names, or (with ``class_names``) integers that index them.
        test_sequences: your own test sequences (then no split is cut).
        test_labels: their labels.
        class_names: the classes, in label order (default: the sorted distinct labels).
        test_size: the test share of the stratified split.
        seed: the split's random seed.
        scale: standardise each feature with the training split's statistics.
        shift: a constant added to every real value after scaling.
        max_len: the padded length (default: the longest sequence); longer sequences are cut.
        name: the data set's name.

    Returns:
        The :class:`Dataset`.

    Raises:
        ValueError: no sequences; a sequence that is not ``(time, features)``, is empty, not numeric or holds NaN or
            inf; ragged feature counts; labels that are not one per sequence, hold NaN, name fewer than 2 classes or
            do not match ``class_names``; or a class with fewer than 2 sequences to split.

    Example:
        ::

            data = dataset_from_sequences([np.random.randn(n, 3) for n in (20, 25, 30, 22)], ["a", "b", "a", "b"],
                                          test_size=0.5)
    """
    import warnings

    from sklearn.model_selection import train_test_split

    seqs = [_sequence(i, s) for i, s in enumerate(sequences)]
    if not seqs:
        raise ValueError("no sequences given")
    y, names = _encode_labels(labels, class_names)
    if len(y) != len(seqs):
        raise ValueError(f"{len(seqs)} sequences but {len(y)} labels")
    given_test = [_sequence(i, s) for i, s in enumerate(test_sequences)] if test_sequences is not None else []
    for part, group in (("", seqs), ("test ", given_test)):   # checked before any split, in your own order
        odd = next((i for i, s in enumerate(group) if s.shape[1] != seqs[0].shape[1]), None)
        if odd is not None:
            widths = sorted({s.shape[1] for s in seqs + given_test})
            raise ValueError(f"ragged features: sequences have {widths} features per step (all must have the same; "
                             f"sequence 0 has {seqs[0].shape[1]}, {part}sequence {odd} has {group[odd].shape[1]})")
    if test_sequences is not None:
        test = given_test
        y_test, _ = _encode_labels(test_labels, names)
        if len(y_test) != len(test):
            raise ValueError(f"{len(test)} test sequences but {len(y_test)} test labels")
    else:
        counts = np.bincount(y)
        if counts.min() < 2:
            raise ValueError(f"class {names[int(counts.argmin())]!r} has {counts.min()} sequence(s): a stratified "
                             "split needs at least 2 per class")
        train_i, test_i = train_test_split(np.arange(len(seqs)), test_size=test_size, stratify=y, random_state=seed)
        train_i, test_i = np.sort(train_i), np.sort(test_i)
        test, y_test = [seqs[i] for i in test_i], y[test_i]
        seqs, y = [seqs[i] for i in train_i], y[train_i]
    longest = max(len(s) for s in seqs + test)
    parts = {}
    for split, group, labels_ in (("train", seqs, y), ("test", test, y_test)):
        X, lengths = pad_right(group, max_len or longest)
        parts[split] = SequenceSet(X, lengths, labels_)
    def real_zero_steps() -> int:
        return sum(int((~np.any(p.X != 0, axis=2) & p.mask).sum()) for p in parts.values())

    raw_zero = real_zero_steps()
    if scale:
        mean, std = fit_scaler(parts["train"])
        parts = {k: apply_scaler(v, mean, std) for k, v in parts.items()}
    if shift:
        parts = {k: replace(v, X=((v.X + shift) * v.mask[..., None]).astype(np.float32)) for k, v in parts.items()}
    zero = real_zero_steps()
    if raw_zero or zero:
        warnings.warn(f"{raw_zero} real step(s) are all-zero in your data"
                      + (f"; {zero} still are after scaling and shift" if zero
                         else "; scaling or shift moved them off zero")
                      + ". Masking(mask_value=0.0) treats an all-zero step as padding: pass shift= (a constant added "
                        "to every real value), or pad with a value your data never takes and give Masking that "
                        "mask_value", UserWarning, stacklevel=2)
    return Dataset(name, parts["train"], parts["test"], names)


def dataset_from_table(table, *, sequence: str = "sequence", time: str = "time", label: str = "label",
                       features=None, **options) -> Dataset:
    """A course :class:`Dataset` from a long-format table (a DataFrame or a CSV path): one row per time step,
    with a sequence id column, a time column, feature columns (default: all the others) and a label column that
    must be constant within each sequence. ``options`` go to :func:`dataset_from_sequences`.

    Args:
        table: a DataFrame, or the path of a CSV file.
        sequence: the sequence id column.
        time: the time column (rows are sorted by it within each sequence).
        label: the label column.
        features: the feature columns (default: all the others).
        **options: keywords for :func:`dataset_from_sequences`.

    Returns:
        The :class:`Dataset`.

    Raises:
        ValueError: a missing id, time or label column; no feature columns; a label that varies within a
            sequence; NaN features; or any error of :func:`dataset_from_sequences`.
    """
    import pandas as pd

    df = pd.read_csv(table) if isinstance(table, (str, Path)) else table
    missing = [c for c in (sequence, time, label) if c not in df.columns]
    if missing:
        raise ValueError(f"the table has no column(s) {missing}; it has {list(df.columns)}")
    features = list(features) if features is not None else [c for c in df.columns if c not in (sequence, time, label)]
    if not features:
        raise ValueError("the table has no feature columns")
    df = df.sort_values([sequence, time], kind="stable")
    varying = df.groupby(sequence, sort=False)[label].nunique()
    if (varying > 1).any():
        raise ValueError(f"the label varies within sequence {str(varying[varying > 1].index[0])!r}: one label per "
                         "sequence is expected (label each time step? that is sequence labelling, not this course)")
    if df[features].isna().any().any():
        row = df[features].isna().any(axis=1).to_numpy().argmax()
        raise ValueError(f"the table has NaN features (first in sequence {str(df[sequence].iloc[row])!r})")
    groups = [(key, g) for key, g in df.groupby(sequence, sort=False)]
    return dataset_from_sequences([g[features].to_numpy(np.float32) for _, g in groups],
                                  [g[label].iloc[0] for _, g in groups], **options)


def load_dataset(path, **options) -> Dataset:
    """Your data from a file: a long-format ``.csv`` (see :func:`dataset_from_table`) or a NumPy ``.npz`` holding
    ``X`` (N, T, F) right-padded, ``y`` and optionally ``lengths``, ``X_test``, ``y_test``, ``lengths_test``,
    ``class_names``. Padding is cut off by ``lengths`` (or after the last non-zero step) before
    :func:`dataset_from_sequences` re-pads, scales and splits.

    Args:
        path: a ``.csv`` or ``.npz`` file.
        **options: keywords for :func:`dataset_from_sequences` (for a ``.npz``, ``name`` defaults to the file's
            stem).

    Returns:
        The :class:`Dataset`.

    Raises:
        ValueError: the file does not exist or is neither ``.csv`` nor ``.npz``; the ``.npz`` lacks ``X`` or ``y``
            or its ``X`` is neither ``(N, T)`` nor ``(N, T, F)``; or any error of :func:`dataset_from_table` or
            :func:`dataset_from_sequences`.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if path.suffix == ".csv":
        return dataset_from_table(path, **options)
    if path.suffix != ".npz":
        raise ValueError(f"{path.name}: expected a .npz or .csv file")
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if "X" not in arrays or "y" not in arrays:
        raise ValueError(f"{path.name} must hold arrays 'X' and 'y'; it holds {sorted(arrays)}")

    def unpad(X, lengths):
        X = np.asarray(X)
        if X.ndim == 2:
            X = X[..., None]
        if X.ndim != 3:
            raise ValueError(f"X must be (N, T, F), got shape {X.shape}")
        if lengths is None:
            lengths = padded_lengths(X)
        return [x[:int(n)] for x, n in zip(X, lengths)]

    names = tuple(str(c) for c in arrays["class_names"]) if "class_names" in arrays else None
    if "X_test" in arrays:
        options = {"test_sequences": unpad(arrays["X_test"], arrays.get("lengths_test")),
                   "test_labels": arrays["y_test"], **options}
    return dataset_from_sequences(unpad(arrays["X"], arrays.get("lengths")), arrays["y"], class_names=names,
                                  name=options.pop("name", path.stem), **options)
