"""Streaming from disk (lesson 10a): a sharded corpus of variable-length sequences, a reader that holds one shard
at a time, and length bucketing.

On disk a corpus is a folder of shards and one ``manifest.json``. Each shard is one uncompressed ``.npz`` file with
the steps of its sequences end to end (``X``, ``(total steps, F)``, float16 by default), where each sequence starts
(``offsets``, ``(n + 1,)``: sequence ``i`` is ``X[offsets[i]:offsets[i + 1]]``) and the labels (``y``). Nothing is
padded on disk; padding happens per batch, as late as possible. The manifest names every shard with its counts and
its SHA-256, so a reader finds a changed or truncated file before it trains on it.

:class:`ShardStream` is a ``keras.utils.PyDataset``. Why that and not ``tf.data`` or Grain: PyDataset is plain
Keras, so the same reader feeds ``model.fit`` on JAX and on TensorFlow with no extra dependency; ``tf.data``
would tie the JAX lessons to TensorFlow's runtime, and Grain (Google's data loader for JAX) would be a new
dependency for a job that needs one ``np.load`` per shard. The reader keeps at most one shard in memory and yields
``(X, y)`` batches padded with zeros, so the builder's ``Masking(0.0)`` makes the mask.

Bucketing: :func:`bucket_batches` groups sequences of similar length, and :func:`padded_length` rounds a batch's
padded length up to a few bucket lengths. On JAX every distinct batch shape compiles a new train step, so per-batch
padding without rounding compiles many; rounding keeps that number small.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import keras
import numpy as np

from .checksums import sha256
from .data import draw_motifs
from .validators import whole_number

MANIFEST = "manifest.json"
FORMAT = "attention-lstm-course shards 1"
SHARD_PATTERN = "shard-*.npz"
ROUNDINGS = (None, "pow2")   # or a whole number k: round up to a multiple of k


# --------------------------------------------------------------------------------------------------- writing
def heavy_tailed_lengths(n: int, *, median: float = 40.0, sigma: float = 0.8, min_len: int = 8, max_len: int = 512,
                         rng=None) -> np.ndarray:
    """Sequence lengths from a lognormal distribution, clipped to ``[min_len, max_len]``: most sequences are short,
    a few are many times longer (the shape of text lengths, such as questions on a forum).

    Args:
        n: how many lengths.
        median: the lognormal's median, in steps.
        sigma: the lognormal's shape (the standard deviation of the log length); larger means a heavier tail.
        min_len: the shortest length.
        max_len: the longest length.
        rng: a ``numpy.random.Generator`` (default: seed 0).

    Returns:
        ``(n,)`` int32 lengths.

    Raises:
        ValueError: ``n`` is negative, ``min_len < 1``, ``max_len < min_len``, or ``median``/``sigma`` not > 0.
    """
    whole_number("n", n, minimum=0)
    _check_length_shape(median, sigma, min_len, max_len)
    rng = np.random.default_rng(0) if rng is None else rng
    return np.clip(np.round(rng.lognormal(np.log(median), sigma, size=n)), min_len, max_len).astype(np.int32)


def _check_length_shape(median: float, sigma: float, min_len: int, max_len: int) -> None:
    """A ValueError unless ``1 <= min_len <= max_len`` are whole numbers and ``median`` and ``sigma`` are > 0."""
    whole_number("min_len", min_len)
    whole_number("max_len", max_len, minimum=min_len)
    if not (median > 0 and sigma > 0):
        raise ValueError(f"median and sigma must be > 0, got {median} and {sigma}")


def _check_sequences(sequences, labels) -> tuple[list[np.ndarray], np.ndarray]:
    sequences = [np.asarray(s) for s in sequences]
    labels = np.asarray(labels)
    if not sequences:
        raise ValueError("a shard needs at least one sequence, got none (an empty shard)")
    if len(labels) != len(sequences) or labels.ndim != 1:
        raise ValueError(f"need one label per sequence: {len(sequences)} sequences, labels of shape {labels.shape}")
    if any(s.ndim != 2 or len(s) < 1 for s in sequences):
        raise ValueError("each sequence must be a (steps, features) array with at least one step")
    features = {s.shape[1] for s in sequences}
    if len(features) > 1:
        raise ValueError(f"the sequences have differing feature counts {sorted(features)}; give every step the "
                         "same features")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError("labels must be integers >= 0 (class indices)")
    return sequences, labels


def write_shard(path, sequences, labels, dtype: str = "float16") -> Path:
    """Write one shard: a list of ``(T_i, F)`` sequences and their labels, end to end in one ``.npz``.

    Use it for your own data, one shard at a time, then :func:`write_manifest` for the folder. Padding must not be
    included: the reader pads each batch, and a real step of all zeros would be masked, as in every course model.

    Args:
        path: the shard's file, named ``shard-NNNNN.npz`` so that :func:`write_manifest` finds it.
        sequences: ``(T_i, F)`` arrays, ``T_i >= 1``, one ``F``.
        labels: one integer class per sequence.
        dtype: the steps' storage type (``"float16"`` halves the disk size of ``"float32"``).

    Returns:
        The path written.

    Raises:
        ValueError: no sequences (an empty shard), labels that do not match, a sequence that is not 2-D, or
            differing feature counts.
    """
    sequences, labels = _check_sequences(sequences, labels)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sequences])]).astype(np.int64)
    path = Path(path)
    np.savez(path, X=np.concatenate(sequences).astype(dtype), offsets=offsets, y=labels.astype(np.int32))
    return path


def _shard_summary(path: Path) -> dict:
    with np.load(path) as shard:
        offsets, X, y = shard["offsets"], shard["X"], shard["y"]
    lengths = np.diff(offsets)
    return {"file": path.name, "n_sequences": int(len(y)), "n_steps": int(offsets[-1]), "n_features": int(X.shape[1]),
            "longest": int(lengths.max()) if len(lengths) else 0, "n_classes": int(y.max()) + 1 if len(y) else 0,
            "bytes": path.stat().st_size, "sha256": sha256(path)}


def write_manifest(folder, n_classes: int | None = None, about: dict | None = None) -> dict:
    """Check every ``shard-*.npz`` in ``folder`` and write ``manifest.json``: counts, features, classes, the
    longest sequence and a SHA-256 per shard.

    Args:
        folder: the corpus folder.
        n_classes: the number of classes, at least 1 and above every label (default: the largest label seen + 1).
        about: anything else to record (e.g. how the corpus was generated).

    Returns:
        The manifest, as written.

    Raises:
        ValueError: no shards, an empty shard, shards with differing feature counts, ``n_classes < 1``, or a label
            ``>= n_classes``.
    """
    if n_classes is not None:
        whole_number("n_classes", n_classes)
    folder = Path(folder)
    paths = sorted(folder.glob(SHARD_PATTERN))
    if not paths:
        raise ValueError(f"no {SHARD_PATTERN} files in the folder; write them with write_shard or write_shards")
    shards = [_shard_summary(p) for p in paths]
    _check_shard_entries(shards)
    seen = max(s["n_classes"] for s in shards)
    if n_classes is not None and seen > n_classes:
        raise ValueError(f"n_classes={n_classes}, but the shards hold the label {seen - 1} (labels are class indices "
                         f"0..n_classes - 1); pass n_classes >= {seen}, or fix the labels")
    manifest = {"format": FORMAT, "n_sequences": sum(s["n_sequences"] for s in shards),
                "n_steps": sum(s["n_steps"] for s in shards), "n_features": shards[0]["n_features"],
                "n_classes": int(seen if n_classes is None else n_classes),
                "longest": max(s["longest"] for s in shards), "bytes": sum(s["bytes"] for s in shards),
                "about": about or {}, "shards": shards}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _check_shard_entries(shards: list[dict]) -> None:
    empty = [s["file"] for s in shards if s["n_sequences"] < 1]
    if empty:
        raise ValueError(f"empty shard(s) {empty}: every shard needs at least one sequence; delete them or rewrite "
                         "the corpus")
    features = {s["file"]: s["n_features"] for s in shards}
    if len(set(features.values())) > 1:
        raise ValueError(f"the shards have differing feature counts {features}; every step of a corpus needs the "
                         "same features, so rewrite the odd shards")


def write_shards(folder, n_sequences: int, *, shard_size: int = 10_000, seed: int = 0, n_features: int = 4,
                 n_classes: int = 4, median_len: float = 40.0, sigma: float = 0.8, min_len: int = 8,
                 max_len: int = 512, motif_len: int = 8, snr: float = 2.0, dtype: str = "float16") -> dict:
    """Write a synthetic corpus: variable-length sequences with heavy-tailed lengths, in shards, with a manifest.

    The task is the course's motif task (:func:`utils.data.make_motif_task`): Gaussian noise, and the class's
    motif (:func:`utils.data.draw_motifs`, scaled by ``snr``) added at a random place, so the course's BiLSTM can
    learn it. Lengths come from :func:`heavy_tailed_lengths`. Shard ``k`` draws from its own generator, seeded with
    ``(seed, k)``, so the corpus is the same for a seed whatever the order shards are written in.

    Args:
        folder: the folder to write (created if missing); shards and a manifest already in it are replaced.
        n_sequences: the number of sequences.
        shard_size: sequences per shard (the last shard may hold fewer).
        seed: the random seed.
        n_features: channels per step.
        n_classes: classes, one motif each.
        median_len: the lengths' median.
        sigma: the lengths' lognormal shape.
        min_len: the shortest sequence (at least ``motif_len``).
        max_len: the longest sequence.
        motif_len: the motif's length in steps.
        snr: the motif's scale against noise of std 1.
        dtype: the steps' storage type.

    Returns:
        The manifest (see :func:`write_manifest`).

    Raises:
        ValueError: a count below 1, ``min_len < motif_len``, ``max_len < min_len``, ``median_len`` or ``sigma``
            not > 0, ``n_classes < 2``, or a ``dtype`` that is not a float type. Every argument is checked before
            anything in ``folder`` is deleted.

    Example:
        ::

            manifest = write_shards(folder, 100_000, shard_size=5_000, seed=0)
    """
    whole_number("n_sequences", n_sequences)
    whole_number("shard_size", shard_size)
    whole_number("n_features", n_features)
    whole_number("n_classes", n_classes, minimum=2)
    whole_number("motif_len", motif_len)
    whole_number("min_len", min_len, minimum=motif_len)
    _check_length_shape(median_len, sigma, min_len, max_len)
    try:
        floating = np.issubdtype(np.dtype(dtype), np.floating)
    except TypeError:
        floating = False
    if not floating:
        raise ValueError(f"dtype must be a float type such as 'float16' or 'float32', got {dtype!r}")
    motifs = draw_motifs(np.random.default_rng(seed), n_classes, motif_len, n_features)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob(SHARD_PATTERN), folder / MANIFEST]:
        old.unlink(missing_ok=True)
    for k, first in enumerate(range(0, n_sequences, shard_size)):
        n = min(shard_size, n_sequences - first)
        rng = np.random.default_rng([seed, k])
        lengths = heavy_tailed_lengths(n, median=median_len, sigma=sigma, min_len=min_len, max_len=max_len, rng=rng)
        y = rng.integers(0, n_classes, size=n).astype(np.int32)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        starts = offsets[:-1] + np.floor(rng.random(n) * (lengths - motif_len + 1)).astype(np.int64)
        X = rng.standard_normal((int(offsets[-1]), n_features), dtype=np.float32)
        X[starts[:, None] + np.arange(motif_len)] += (snr * motifs[y]).astype(np.float32)
        np.savez(folder / f"shard-{k:05d}.npz", X=X.astype(dtype), offsets=offsets, y=y)
    about = {"generator": "utils.streaming.write_shards", "seed": seed, "shard_size": shard_size,
             "median_len": median_len, "sigma": sigma, "min_len": min_len, "max_len": max_len,
             "motif_len": motif_len, "snr": snr, "dtype": dtype}
    return write_manifest(folder, n_classes=n_classes, about=about)


def read_manifest(folder) -> dict:
    """The corpus's manifest, checked: its format (:data:`FORMAT`), counts, and every shard file present.

    Args:
        folder: the corpus folder.

    Returns:
        The manifest as a dict.

    Raises:
        ValueError: no manifest, a manifest that is not valid JSON or lacks a field, a manifest of another format
            (or format version), an empty shard, shards with differing feature counts, or a shard file that is
            missing.
    """
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise ValueError(f"no {MANIFEST} in the corpus folder; write the corpus with write_shards (or "
                         "python -m tools.write_shards), or your own shards' manifest with write_manifest")
    try:
        manifest = json.loads(path.read_text())
        shards = manifest["shards"]
        for key in ("n_sequences", "n_features", "n_classes", "longest"):
            int(manifest[key])
        for shard in shards:
            shard["file"], shard["sha256"], int(shard["n_sequences"]), int(shard["n_features"])  # noqa: B018
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{MANIFEST} is corrupt ({type(error).__name__}: {error}); rewrite it with "
                         "write_manifest(folder)") from None
    if manifest.get("format") != FORMAT:
        raise ValueError(f"the corpus in {folder} has manifest format {manifest.get('format')!r}, this reader "
                         f"reads {FORMAT!r}; re-write the corpus with python -m tools.write_shards (or "
                         "write_manifest(folder) for your own shards)")
    if not shards:
        raise ValueError(f"{MANIFEST} lists no shards; rewrite the corpus")
    _check_shard_entries(shards)
    if {s["n_features"] for s in shards} != {manifest["n_features"]}:
        raise ValueError(f"{MANIFEST} says {manifest['n_features']} features, its shards say otherwise; rewrite it "
                         "with write_manifest(folder)")
    missing = [s["file"] for s in shards if not (Path(folder) / s["file"]).exists()]
    if missing:
        raise ValueError(f"shard file(s) {missing[:5]} listed in {MANIFEST} are missing; copy the whole folder")
    return manifest


# -------------------------------------------------------------------------------------------------- batching
def shuffled_batches(n: int, batch_size: int, *, seed: int) -> list[np.ndarray]:
    """The naive batching: the indices ``0..n-1`` in a seeded random order, cut into batches (the last may be
    smaller).

    Args:
        n: how many sequences.
        batch_size: sequences per batch, at least 1.
        seed: the random seed.

    Returns:
        A list of int64 index arrays, each index exactly once.

    Raises:
        ValueError: ``n < 0`` or ``batch_size < 1``.
    """
    whole_number("n", n, minimum=0)
    whole_number("batch_size", batch_size)
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def bucket_batches(lengths, batch_size: int, *, seed: int, window: int | None = None) -> list[np.ndarray]:
    """Batches of similar lengths: shuffle, sort by length within windows of ``window`` sequences, cut each window
    into batches, then shuffle the batches' order.

    Sorting within a large random window (not the whole corpus) keeps some randomness in which sequences share a
    batch from epoch to epoch, and needs only one window of lengths at a time. A window of ``batch_size`` sorts
    nothing across batches: that is :func:`shuffled_batches`.

    Args:
        lengths: ``(n,)`` true lengths.
        batch_size: sequences per batch, at least 1.
        seed: the random seed (the same seed gives the same batches).
        window: sequences sorted together (default ``100 * batch_size``); rounded up to a multiple of ``batch_size``.

    Returns:
        A list of int64 index arrays, each index exactly once; every batch but the last of a window is full.

    Raises:
        ValueError: ``batch_size < 1``, ``window < 1``, or lengths that are not a 1-D array of whole numbers >= 0.
    """
    whole_number("batch_size", batch_size)
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or (lengths.size and (not np.issubdtype(lengths.dtype, np.integer) or lengths.min() < 0)):
        raise ValueError(f"lengths must be a 1-D array of whole numbers >= 0, got shape {lengths.shape}, "
                         f"dtype {lengths.dtype}")
    window = whole_number("window", 100 * batch_size if window is None else window)
    window = math.ceil(window / batch_size) * batch_size
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), window):
        part = order[start:start + window]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def padded_length(longest: int, round_to=None) -> int:
    """The length a batch is padded to: its longest sequence, rounded up to a bucket length.

    Args:
        longest: the batch's longest sequence.
        round_to: None (no rounding: every distinct longest length is its own shape), a whole number ``k`` (the
            next multiple of ``k``) or ``"pow2"`` (the next power of two).

    Returns:
        The padded length, ``>= longest``.

    Raises:
        ValueError: ``longest < 1`` or an unknown ``round_to``.
    """
    longest = whole_number("longest", longest)
    if round_to is None:
        return longest
    if round_to == "pow2":
        return 1 << (longest - 1).bit_length()
    if isinstance(round_to, str):
        raise ValueError(f"round_to must be None, a whole number or 'pow2', got {round_to!r}")
    k = whole_number("round_to", round_to)
    return math.ceil(longest / k) * k


def batch_shapes(lengths, batches, *, pad_to: int | None = None, round_to=None) -> np.ndarray:
    """The padded length of each batch: ``pad_to`` for every batch (the naive way: the corpus's longest), or each
    batch's own longest rounded by :func:`padded_length`.

    Args:
        lengths: ``(n,)`` true lengths.
        batches: index arrays (from :func:`bucket_batches` or :func:`shuffled_batches`).
        pad_to: one length for every batch, or None for per-batch padding.
        round_to: the rounding of per-batch padding (see :func:`padded_length`).

    Returns:
        ``(number of batches,)`` int64 padded lengths.

    Raises:
        ValueError: ``pad_to`` shorter than a sequence in a batch, or an empty batch.
    """
    lengths = np.asarray(lengths)
    if any(len(b) == 0 for b in batches):
        raise ValueError("a batch is empty; every batch needs at least one index")
    longest = np.array([lengths[b].max() for b in batches], np.int64)
    if pad_to is not None:
        pad_to = whole_number("pad_to", pad_to)
        if longest.max() > pad_to:
            raise ValueError(f"pad_to={pad_to} is shorter than the longest sequence ({longest.max()}); pad to at "
                             "least that")
        return np.full(len(batches), pad_to, np.int64)
    return np.array([padded_length(int(m), round_to) for m in longest], np.int64)


def padded_share(lengths, batches, *, pad_to: int | None = None, round_to=None) -> float:
    """The padded share of the compute: padded steps / all steps computed, over a batching.

    A recurrent layer computes every step of the padded array; the mask only decides which results are kept.
    For batches ``b`` padded to ``T_b``: ``sum(|b| * T_b - sum(lengths[b])) / sum(|b| * T_b)``.

    Args:
        lengths: ``(n,)`` true lengths.
        batches: index arrays.
        pad_to: see :func:`batch_shapes`.
        round_to: see :func:`batch_shapes`.

    Returns:
        A share in [0, 1).

    Raises:
        ValueError: as :func:`batch_shapes`.
    """
    lengths = np.asarray(lengths)
    shapes = batch_shapes(lengths, batches, pad_to=pad_to, round_to=round_to)
    computed = sum(len(b) * int(t) for b, t in zip(batches, shapes))
    real = sum(int(lengths[b].sum()) for b in batches)
    return (computed - real) / computed


def pad_batch(X, offsets, ids, length: int, dtype: str = "float32") -> np.ndarray:
    """Sequences ``ids`` of a shard's end-to-end steps, zero-padded on the right to ``length``.

    Args:
        X: ``(total steps, F)`` steps end to end.
        offsets: ``(n + 1,)`` where each sequence starts (and where the last ends).
        ids: the sequences to take, in batch order.
        length: the padded length.
        dtype: the batch's type.

    Returns:
        ``(len(ids), length, F)`` array, zeros after each sequence's end.

    Raises:
        ValueError: a sequence longer than ``length``.
    """
    starts, ends = offsets[ids], offsets[np.asarray(ids) + 1]
    if len(ids) and (ends - starts).max() > length:
        raise ValueError(f"a sequence of {(ends - starts).max()} steps does not fit a batch padded to {length}")
    batch = np.zeros((len(ids), length, X.shape[1]), dtype)
    for row, (a, b) in enumerate(zip(starts, ends)):
        batch[row, :b - a] = X[a:b]
    return batch


# --------------------------------------------------------------------------------------------------- reading
class ShardStream(keras.utils.PyDataset):
    """``(X, y)`` batches from a sharded corpus, one shard in memory at a time, for ``model.fit`` on any backend.

    Each epoch visits the shards in a seeded random order (``seed``, epoch) and, within a shard, batches its
    sequences in a seeded random order, or in buckets of similar length (``bucket=True``). A batch is padded with
    zeros to ``pad`` (``"longest"``: the corpus's longest sequence, the naive way; ``"batch"``: the batch's own
    longest, rounded by ``round_to``). Batches never cross shards, so every sequence comes exactly once per epoch,
    and asking for the batches in order loads each shard once. Asked out of order, it still gives the right batch
    (it loads the batch's shard, dropping the one it held), only slower: train with ``fit(..., shuffle=False)``,
    which leaves the order to this reader.

    Every shard's SHA-256 is checked against the manifest when it is loaded. ``shard_loads`` counts the loads.

    Args:
        folder: the corpus folder (with ``manifest.json``).
        batch_size: sequences per batch, at least 1.
        seed: the seed of the shard order and the batches (epoch ``e`` uses ``(seed, e)``).
        pad: ``"batch"`` or ``"longest"``.
        round_to: with ``pad="batch"``: None, a whole number or ``"pow2"`` (see :func:`padded_length`).
        bucket: batch sequences of similar length together (:func:`bucket_batches`) within each shard.
        window: the bucketing window (see :func:`bucket_batches`).
        shuffle: False keeps the shards and the sequences in file order (for predictions in corpus order). It
            needs ``bucket=False``: bucketing reorders the sequences by length, so it cannot keep file order (with
            ``shuffle=True`` the seed still makes its batches repeatable).
        verify: check each shard's SHA-256 when it is loaded.
        **kwargs: ``keras.utils.PyDataset``'s ``max_queue_size``. Worker threads or processes (``workers > 1``,
            ``use_multiprocessing``) are refused: each would ask for batches of other shards at once, and the
            one-shard bound would no longer hold.

    Raises:
        ValueError: ``batch_size < 1``, an unknown ``pad`` or ``round_to``, ``bucket=True`` with ``shuffle=False``,
            ``workers > 1`` or ``use_multiprocessing``; and as :func:`read_manifest`. Loading a shard raises a
            ValueError when its checksum or its contents differ from the manifest.

    Example:
        ::

            stream = ShardStream(folder, batch_size=64, pad="batch", round_to="pow2", bucket=True)
            model.fit(stream, epochs=1, shuffle=False)
    """

    def __init__(self, folder, batch_size: int = 32, *, seed: int = 0, pad: str = "batch", round_to="pow2",
                 bucket: bool = False, window: int | None = None, shuffle: bool = True, verify: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        if self.workers > 1 or self.use_multiprocessing:
            raise ValueError("ShardStream reads one shard at a time in one thread; leave workers=1 and "
                             "use_multiprocessing=False (more workers would hold several shards at once)")
        self.batch_size = whole_number("batch_size", batch_size)
        if pad not in ("batch", "longest"):
            raise ValueError(f"pad must be 'batch' (each batch's own longest) or 'longest' (the corpus's), got {pad!r}")
        padded_length(1, round_to)   # checks round_to
        if bucket and not shuffle:
            raise ValueError("bucket=True reorders the sequences by length (in a seeded random order), so it cannot "
                             "keep file order as shuffle=False asks; use bucket=False for file order, or keep "
                             "shuffle=True (the seed makes the batches repeatable)")
        self.folder, self.seed, self.pad, self.round_to = Path(folder), seed, pad, round_to
        self.bucket, self.window, self.shuffle, self.verify = bucket, window, shuffle, verify
        self.manifest = read_manifest(self.folder)
        self.shards = self.manifest["shards"]
        self.n_features, self.n_classes = int(self.manifest["n_features"]), int(self.manifest["n_classes"])
        self.longest = int(self.manifest["longest"])
        self.per_shard = np.array([math.ceil(s["n_sequences"] / self.batch_size) for s in self.shards])
        self._first_ids = np.concatenate([[0], np.cumsum([s["n_sequences"] for s in self.shards])])
        self.shard_loads = 0
        self._held = None          # (shard index, arrays, batches): the one shard in memory
        self.epoch = 0
        self._plan_epoch()

    # the data description build_classifier reads
    @property
    def max_len(self) -> int:
        """The corpus's longest sequence: the input length of a model built for the stream (``build_classifier``
        reads it); :func:`utils.builder.any_length` lets that model take shorter batches."""
        return self.longest

    def __len__(self) -> int:
        return int(self.per_shard.sum())

    def _plan_epoch(self) -> None:
        order = np.arange(len(self.shards))
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.shards))
        self._order = order
        self._first = np.concatenate([[0], np.cumsum(self.per_shard[order])])

    def on_epoch_end(self) -> None:
        """Keras calls it after each epoch: the next epoch gets its own shard order and batches."""
        self.epoch += 1
        self._held = None
        self._plan_epoch()

    def _load(self, k: int):
        entry = self.shards[k]
        path = self.folder / entry["file"]
        if self.verify and sha256(path) != entry["sha256"]:
            raise ValueError(f"{entry['file']}'s SHA-256 differs from {MANIFEST}: the file changed or is corrupt; "
                             "copy it again, or rewrite the corpus")
        self._held = None   # drop the shard held before reading the next: never two in memory
        with np.load(path) as shard:
            X, offsets, y = shard["X"], shard["offsets"], shard["y"]
        if X.ndim != 2 or X.shape[1] != self.n_features or len(y) != entry["n_sequences"] or len(y) < 1 \
                or len(offsets) != len(y) + 1:
            raise ValueError(f"{entry['file']} holds {len(y)} sequences of {X.shape[1:]} features, its manifest "
                             f"entry {entry['n_sequences']} of {self.n_features}; rewrite the manifest")
        lengths = np.diff(offsets)
        rng_seed = [self.seed, self.epoch, k]
        if self.bucket:
            batches = bucket_batches(lengths, self.batch_size, seed=rng_seed, window=self.window)
        elif self.shuffle:
            batches = shuffled_batches(len(y), self.batch_size, seed=rng_seed)
        else:
            batches = [np.arange(i, min(i + self.batch_size, len(y))) for i in range(0, len(y), self.batch_size)]
        self.shard_loads += 1
        self._held = (k, (X, offsets, y), batches)
        return self._held

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batch ``index`` of this epoch with the global ids of its sequences (their place in the corpus, shards in
        file order).

        Args:
            index: ``0 <= index < len(self)``.

        Returns:
            ``(ids, X, y)``: ``(b,)`` int64, ``(b, T, F)`` float32 zero-padded, ``(b,)`` int32.

        Raises:
            ValueError: ``index`` out of range, or a shard that fails its checks when it is loaded.
        """
        if not 0 <= index < len(self):
            raise ValueError(f"batch index {index} out of range: this epoch has {len(self)} batches")
        position = int(np.searchsorted(self._first, index, side="right") - 1)
        k = int(self._order[position])
        held = self._held if self._held is not None and self._held[0] == k else self._load(k)
        _, (X, offsets, y), batches = held
        ids = batches[index - self._first[position]]
        longest = int((offsets[ids + 1] - offsets[ids]).max())
        length = self.longest if self.pad == "longest" else padded_length(longest, self.round_to)
        return self._first_ids[k] + ids, pad_batch(X, offsets, ids, length), y[ids]

    def __getitem__(self, index: int):
        _, X, y = self.batch(index)
        return X, y


def predict_in_order(model, stream: ShardStream) -> np.ndarray:
    """The model's predictions for every sequence of the stream's corpus, in corpus order, whatever the batching.

    It walks one epoch of ``stream`` (one shard at a time) and puts each batch's predictions at its sequences'
    places, so two batchings of the same corpus can be compared row by row.

    Args:
        model: a Keras model whose input takes the stream's batches.
        stream: a :class:`ShardStream`.

    Returns:
        ``(n_sequences, n_classes)`` float32 probabilities.
    """
    out = np.zeros((int(stream.manifest["n_sequences"]), stream.n_classes), np.float32)
    for i in range(len(stream)):
        ids, X, _ = stream.batch(i)
        out[ids] = np.asarray(model.predict_on_batch(X))
    return out


def all_lengths(folder) -> np.ndarray:
    """Every sequence's length, in corpus order, read shard by shard (only each shard's ``offsets``).

    Args:
        folder: the corpus folder.

    Returns:
        ``(n_sequences,)`` int64 lengths.

    Raises:
        ValueError: as :func:`read_manifest`.
    """
    manifest = read_manifest(folder)
    parts = []
    for entry in manifest["shards"]:
        with np.load(Path(folder) / entry["file"]) as shard:
            parts.append(np.diff(shard["offsets"]))   # an .npz member is read only when asked for
    return np.concatenate(parts)
