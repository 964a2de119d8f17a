"""Text: the Sentiment Labelled Sentences, their splits, and token ids with a vocabulary from the training split.

The data (Kotzias et al., KDD 2015; UCI, CC BY 4.0) are 3 x 1,000 one-line reviews from Amazon, Yelp and IMDb,
500 positive and 500 negative per source, stored verbatim in ``data/sentiment_labelled_sentences/`` and checked
against ``data/SHA256SUMS`` before they are read.

The pipeline, one step per function::

    load_sentences()                 -> Sentences (texts, labels, sources), checksum-verified
                                        (per_source=n: a balanced sample of n per source, for fast mode)
    stratified_split / cross_source_split / keep_one_in
                                     -> (train, test) Sentences
    vectorize(train, test)           -> TextDataset: a course Dataset of token ids, vocabulary and length cap
                                        chosen on the training split only
    validation_view(data)            -> the same TextDataset with its validation part in the test slot:
                                        a recipe (lesson 08: each model's epochs) chosen without the test split

The bag-of-words peer (TF-IDF and logistic regression) and the majority-class baseline are in
:mod:`utils.peers`; occlusion scores in :mod:`utils.explain`.

Token ids travel in the course's :class:`~utils.data.SequenceSet` as ``X`` of shape ``(N, T, 1)``: one integer
feature per step, 0 for padding, right-padded. So ``run_seeds``, its input checks and the validation split take
them unchanged, and a model built with ``ClassifierSpec(vocab_size=...)`` (input ``(T,)``) reads them: Keras'
functional model drops a trailing axis of size 1. :func:`token_ids` gives the ``(N, T)`` matrix that
``utils.probe.attention_weights`` and ``utils.inspection.padding_gap`` take.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .data import DATA_DIR, Dataset, SequenceSet, verified_path
from .validators import validate_sequences

TEXT_DIR = "sentiment_labelled_sentences"
#: The three sources and their files, in the order the loader reads them.
SOURCE_FILES = {"amazon": "amazon_cells_labelled.txt", "yelp": "yelp_labelled.txt", "imdb": "imdb_labelled.txt"}
SOURCES = tuple(SOURCE_FILES)
CLASS_NAMES = ("negative", "positive")
#: TextVectorization's reserved ids: 0 is padding (the mask), 1 the out-of-vocabulary token.
PAD, OOV = 0, 1
#: The most token ids :func:`vectorize` gives out (padding and OOV included): the registry's text models size
#: their ``Embedding`` with it, so every vocabulary adapted on a training split fits.
VOCAB_LIMIT = 5000


@dataclass(frozen=True)
class Sentences:
    """Raw sentences with their labels (0 negative, 1 positive) and the source each came from.

    Made by :func:`load_sentences` or :func:`sentences`; creating one checks it (:func:`check_sentences`) and
    raises a ValueError when ``sources`` is not one per sentence.
    """

    texts: tuple[str, ...]
    labels: np.ndarray
    sources: np.ndarray

    def __post_init__(self):
        check_sentences(self.texts, self.labels)
        if len(self.sources) != len(self.texts):
            raise ValueError(f"{len(self.texts)} sentences but {len(self.sources)} sources")

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, indices) -> Sentences:
        """The sentences at ``indices``, in that order.

        Args:
            indices: integer positions.

        Returns:
            A new :class:`Sentences` with their texts, labels and sources.
        """
        indices = np.asarray(indices, dtype=int)
        return Sentences(tuple(self.texts[i] for i in indices), self.labels[indices], self.sources[indices])

    def counts(self):
        """Sentences per source and label, as a table.

        Returns:
            A ``DataFrame`` with one row per source and the columns ``negative`` and ``positive``.
        """
        import pandas as pd

        table = pd.crosstab(pd.Series(self.sources, name="source"),
                            pd.Series(np.asarray(CLASS_NAMES)[self.labels], name="label"))
        return table.reindex(columns=list(CLASS_NAMES), fill_value=0)


def check_sentences(texts, labels) -> None:
    """A ValueError naming the first problem: a non-string item, an empty sentence, labels outside {0, 1},
    or texts and labels of different lengths.

    Args:
        texts: a sequence of sentences (not one string).
        labels: one label per sentence, the integers 0 (negative) or 1 (positive).

    Raises:
        ValueError: no sentences, one string instead of a sequence, a non-string or empty sentence, not one label
            per sentence, or labels that are not integers 0 and 1.
    """
    if isinstance(texts, str):
        raise ValueError("texts must be a sequence of sentences, not one string")
    texts = list(texts)
    labels = np.asarray(labels)
    if not texts:
        raise ValueError("no sentences given")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"sentence {i} is a {type(text).__name__}, not a string: {text!r}")
        if not text.strip():
            raise ValueError(f"sentence {i} is empty")
    if labels.shape != (len(texts),):
        raise ValueError(f"need one label per sentence: {len(texts)} sentences, labels of shape {labels.shape}")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise ValueError(f"labels must be the integers 0 (negative) and 1 (positive), got dtype {labels.dtype} "
                         f"({labels[:3].tolist()} ...)")
    bad = ~np.isin(labels, (0, 1))
    if bad.any():
        raise ValueError(f"labels must be 0 (negative) or 1 (positive); label {labels[bad][0].item()!r} at sentence "
                         f"{int(np.flatnonzero(bad)[0])}")


def sentences(texts, labels, source: str = "own") -> Sentences:
    """Your own sentences as :class:`Sentences` (checked: strings, not empty, labels 0/1).

    Args:
        texts: the sentences.
        labels: one label per sentence, 0 (negative) or 1 (positive).
        source: the source name every sentence gets.

    Returns:
        The :class:`Sentences`, ready for a split and :func:`vectorize`.

    Raises:
        ValueError: anything :func:`check_sentences` rejects.

    Example:
        ::

            mine = sentences(["Great battery.", "Broke in a week."], [1, 0])
    """
    check_sentences(texts, labels)
    texts = tuple(texts)
    return Sentences(texts, np.asarray(labels).astype(np.int32), np.array([source] * len(texts)))


def load_sentences(data_dir: Path | str = DATA_DIR, sources=SOURCES, per_source: int | None = None,
                   seed: int = 0) -> Sentences:
    """The Sentiment Labelled Sentences of ``sources`` (default: all three), each file checksum-verified.

    Each line is ``sentence<TAB>label``; a line of any other shape raises a ValueError naming it.
    ``per_source`` (default ``None``: every sentence) keeps that many sentences of each source, half of them
    negative and half positive, a seeded random sample kept in file order: fast mode (``COURSE_FAST=1``) runs
    lesson 08 on fewer sentences through the same pipeline.

    Args:
        data_dir: the data folder (default: the course's ``data/``).
        sources: some of ``"amazon"``, ``"yelp"`` and ``"imdb"``.
        per_source: an even number of sentences to keep per source, or ``None`` for all.
        seed: the seed of the ``per_source`` sample.

    Returns:
        The :class:`Sentences`, in file order, sources in the order given.

    Raises:
        ValueError: an unknown or empty ``sources``; ``per_source`` that is not ``None`` or an even whole number
            >= 2, or more than a source has of a label; a missing or corrupted file; or a malformed line.
    """
    data_dir = Path(data_dir)
    sources = tuple(sources)
    if not sources or any(s not in SOURCE_FILES for s in sources):
        raise ValueError(f"sources must be some of {SOURCES}, got {sources}")
    if per_source is not None and (isinstance(per_source, bool) or not isinstance(per_source, (int, np.integer))
                                   or per_source < 2 or per_source % 2):
        raise ValueError(f"per_source must be None or an even whole number >= 2 (half of each label), "
                         f"got {per_source!r}")
    texts, labels, origin = [], [], []
    for source in sources:
        name = f"{TEXT_DIR}/{SOURCE_FILES[source]}"
        path = verified_path(data_dir, name)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            text, tab, label = line.rpartition("\t")
            if not tab or label not in ("0", "1"):
                raise ValueError(f"{name}, line {number}: expected 'sentence<TAB>0 or 1', got {line[:60]!r}")
            texts.append(text)
            labels.append(int(label))
            origin.append(source)
    data = Sentences(tuple(texts), np.array(labels, dtype=np.int32), np.array(origin))
    return data if per_source is None else _per_source(data, per_source, seed)


def _per_source(data: Sentences, per_source: int, seed: int) -> Sentences:
    """``per_source // 2`` sentences of each (source, label) group, a seeded random sample, in file order."""
    rng = np.random.default_rng(seed)
    keep = []
    for source in dict.fromkeys(data.sources):
        for label in (0, 1):
            members = np.flatnonzero((data.sources == source) & (data.labels == label))
            if len(members) < per_source // 2:
                raise ValueError(f"per_source={per_source} needs {per_source // 2} sentences of each label, but "
                                 f"{source} has {len(members)} labelled {label}")
            keep.append(rng.choice(members, size=per_source // 2, replace=False))
    return data.take(np.sort(np.concatenate(keep)))


def stratified_split(data: Sentences, test_size: float = 0.2, seed: int = 0) -> tuple[Sentences, Sentences]:
    """A seeded train/test split that keeps each (source, label) group's share in both parts.

    Args:
        data: the sentences.
        test_size: the test split's share, in (0, 1).
        seed: the split's seed.

    Returns:
        ``(train, test)`` :class:`Sentences`, each in the original order.

    Raises:
        ValueError: ``test_size`` outside (0, 1), or a group too small for scikit-learn to stratify.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    groups = np.char.add(data.sources.astype(str), data.labels.astype(str))
    train, test = train_test_split(np.arange(len(data)), test_size=test_size, stratify=groups, random_state=seed)
    return data.take(np.sort(train)), data.take(np.sort(test))


def cross_source_split(data: Sentences, test_source: str = "imdb") -> tuple[Sentences, Sentences]:
    """Train on every other source, test on ``test_source``: how much survives a change of domain.

    Args:
        data: the sentences.
        test_source: the source held out as the test split.

    Returns:
        ``(train, test)`` :class:`Sentences`.

    Raises:
        ValueError: ``test_source`` is not a source of ``data``.
    """
    if test_source not in set(data.sources):
        raise ValueError(f"test_source must be one of {sorted(set(data.sources))}, got {test_source!r}")
    held_out = data.sources == test_source
    return data.take(np.flatnonzero(~held_out)), data.take(np.flatnonzero(held_out))


def keep_one_in(data: Sentences, n: int = 10, label: int = 1, seed: int = 0) -> Sentences:
    """An imbalanced variant: keep every sentence of the other class and one in ``n`` of class ``label``
    (chosen at random, seeded, within each source).

    Args:
        data: the sentences.
        n: keep one in ``n`` sentences of ``label`` (at least one per source), a whole number >= 1.
        label: the class to thin out, 0 or 1.
        seed: the sample's seed.

    Returns:
        The kept :class:`Sentences`, in the original order.

    Raises:
        ValueError: ``n`` is not a whole number >= 1, or ``label`` is not 0 or 1.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    if label not in (0, 1):
        raise ValueError(f"label must be 0 or 1, got {label!r}")
    rng = np.random.default_rng(seed)
    keep = data.labels != label
    for source in np.unique(data.sources):
        members = np.flatnonzero((data.labels == label) & (data.sources == source))
        keep[rng.choice(members, size=max(1, len(members) // n), replace=False)] = True
    return data.take(np.flatnonzero(keep))


@dataclass(frozen=True)
class TextDataset(Dataset):
    """A course :class:`~utils.data.Dataset` of token ids ``(N, T, 1)``, with what it was made from.

    ``vocabulary[i]`` is the word of id ``i`` (``""`` padding, ``"[UNK]"`` out of vocabulary); ``length_cap``
    is ``T``, chosen on the training split; ``cut`` counts the training tokens the cap removed.
    """

    texts_train: tuple[str, ...] = ()
    texts_test: tuple[str, ...] = ()
    sources_train: np.ndarray | None = None
    sources_test: np.ndarray | None = None
    vocabulary: tuple[str, ...] = ()
    length_cap: int = 0
    percentile: float = 100.0
    cut: dict | None = None

    @property
    def vocab_size(self) -> int:
        """``ClassifierSpec(vocab_size=...)``: the number of ids, padding and OOV included."""
        return len(self.vocabulary)

    def words(self, ids) -> list[str]:
        """The words of a row of token ids, padding dropped.

        Args:
            ids: one row of token ids, ``(T,)`` or ``(T, 1)``.

        Returns:
            The words, ``"[UNK]"`` for an out-of-vocabulary id.
        """
        return [self.vocabulary[i] for i in np.asarray(ids).ravel() if i != PAD]


def token_ids(part: SequenceSet) -> np.ndarray:
    """The ``(N, T)`` token-id matrix of a text split (for the probe, ``padding_gap`` and plots).

    Args:
        part: a split of a :class:`TextDataset`, ``X`` of shape ``(N, T, 1)``.

    Returns:
        ``part.X`` without its last axis.

    Raises:
        ValueError: ``X`` is not integer token ids of shape ``(N, T, 1)``.
    """
    X = np.asarray(part.X)
    if X.ndim != 3 or X.shape[2] != 1 or not np.issubdtype(X.dtype, np.integer):
        raise ValueError(f"expected token ids of shape (N, T, 1), got {X.shape} {X.dtype}")
    return X[..., 0]


def _vectorizer(texts, max_tokens):
    import keras

    layer = keras.layers.TextVectorization(max_tokens=max_tokens, standardize="lower_and_strip_punctuation",
                                           split="whitespace", output_mode="int")
    layer.adapt(list(texts))
    return layer


def _ids(layer, texts) -> list[np.ndarray]:
    """Each sentence's token ids, uncapped (a ragged list)."""
    import keras

    dense = keras.ops.convert_to_numpy(layer(list(texts))).astype(np.int32)
    return [row[row != PAD] for row in dense]


def _pad(rows: list[np.ndarray], cap: int) -> np.ndarray:
    """Token-id rows, right-padded with 0 and cut to ``cap``, as (N, cap, 1) (``keras.utils.pad_sequences``)."""
    import keras

    return keras.utils.pad_sequences(rows, maxlen=cap, dtype="int32", padding="post", truncating="post")[..., None]


def vectorize(train: Sentences, test: Sentences, percentile: float = 95, max_tokens: int = VOCAB_LIMIT,
              name: str = "Sentiment Labelled Sentences") -> TextDataset:
    """Token ids for ``train`` and ``test`` with a vocabulary and a length cap chosen on ``train`` only.

    ``keras.layers.TextVectorization`` is adapted on the training sentences (lower case, punctuation stripped,
    split on whitespace; ``max_tokens`` keeps the most frequent words, padding and OOV included), so a word that
    occurs only in the test split maps to the out-of-vocabulary id 1. Sentences are cut to ``length_cap``, the
    ``percentile`` of the training split's lengths (rounded up), and right-padded with 0.

    Args:
        train: the training sentences.
        test: the test sentences.
        percentile: the percentile of the training lengths that sets the length cap, in (0, 100].
        max_tokens: the vocabulary's size limit, padding and OOV included, a whole number >= 3.
        name: the data set's name.

    Returns:
        A :class:`TextDataset`.

    Raises:
        ValueError: ``train`` or ``test`` is not :class:`Sentences`, ``percentile`` or ``max_tokens`` is out of
            range, the training split lacks a class, or a sentence has no words left after standardisation.

    Example:
        ::

            train, test = cross_source_split(load_sentences(), "imdb")
            data = vectorize(train, test)
    """
    for part_name, part in (("train", train), ("test", test)):
        if not isinstance(part, Sentences):
            raise ValueError(f"{part_name} must be Sentences (from load_sentences or sentences()), got "
                             f"{type(part).__name__}")
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float)) or not 0 < percentile <= 100:
        raise ValueError(f"percentile must lie in (0, 100], got {percentile!r}")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer)) or max_tokens < 3:
        raise ValueError(f"max_tokens must be a whole number >= 3 (padding, OOV and one word), got {max_tokens!r}")
    if len(np.unique(train.labels)) < 2:
        raise ValueError("the training split must hold both classes")
    layer = _vectorizer(train.texts, max_tokens)
    vocabulary = tuple(layer.get_vocabulary())
    rows = {"train": _ids(layer, train.texts), "test": _ids(layer, test.texts)}
    for part_name, part in (("train", train), ("test", test)):
        empty = [i for i, row in enumerate(rows[part_name]) if len(row) == 0]
        if empty:
            raise ValueError(f"{part_name} sentence {empty[0]} ({part.texts[empty[0]]!r}) has no words left after "
                             "lower-casing and stripping punctuation")
    lengths = np.array([len(r) for r in rows["train"]])
    cap = int(np.ceil(np.percentile(lengths, percentile)))
    cut = {"sentences": int(np.sum(lengths > cap)), "tokens": int(np.sum(np.maximum(lengths - cap, 0))),
           "of tokens": int(lengths.sum())}
    parts = {}
    for part_name, part in (("train", train), ("test", test)):
        X = _pad(rows[part_name], cap)
        n_real = np.minimum([len(r) for r in rows[part_name]], cap).astype(np.int32)
        validate_sequences(X, part.labels, 2, n_real)
        parts[part_name] = SequenceSet(X=X, lengths=n_real, y=part.labels.astype(np.int32))
    return TextDataset(name, parts["train"], parts["test"], CLASS_NAMES, texts_train=train.texts,
                       texts_test=test.texts, sources_train=train.sources, sources_test=test.sources,
                       vocabulary=vocabulary, length_cap=cap, percentile=float(percentile), cut=cut)


def validation_view(data: TextDataset, fraction: float = 0.2) -> TextDataset:
    """``data`` with its test split swapped for the validation part that ``run_seeds(..., validation=fraction)``
    cuts from its training split (:func:`utils.data.split_validation`: stratified, the same cut for every seed
    and every model): for choosing a recipe, such as the number of epochs, with the test split left unread.

    Train on the view with ``validation=fraction``: each model fits on the rest of the training split, records
    its accuracy on the validation part after every epoch (``history["val_accuracy"]``), and is finally scored
    on those same validation items. The view holds no test sentence.

    Args:
        data: a :class:`TextDataset`.
        fraction: the validation share, in (0, 1); pass the same ``validation=fraction`` to ``run_seeds``.

    Returns:
        A copy of ``data`` whose test split, ``texts_test`` and ``sources_test`` are the validation part's.

    Raises:
        ValueError: ``data`` is not a ``TextDataset``, ``fraction`` is outside (0, 1), or the training split is
            too small to cut a stratified validation part.

    Example:
        ::

            view = validation_view(data)
            runs = MODELS["08 attention pooling"].train(view, seeds=range(3), validation=0.2)
    """
    from .data import validation_indices

    if not isinstance(data, TextDataset):
        raise ValueError(f"data must be a TextDataset (from vectorize), got {type(data).__name__}")
    _, indices = validation_indices(data.train, fraction)   # split_validation's cut; checks fraction and counts
    held_out = data.train.take(indices)
    sources = None if data.sources_train is None else data.sources_train[indices]
    return replace(data, test=held_out, texts_test=tuple(data.texts_train[i] for i in indices) if data.texts_train
                   else (), sources_test=sources)


def load_text_dataset(percentile: float = 95, test_size: float = 0.2, seed: int = 0,
                      max_tokens: int = VOCAB_LIMIT) -> TextDataset:
    """All three sources, a seeded stratified split, and :func:`vectorize`: the lesson's balanced data set.

    Args:
        percentile: as in :func:`vectorize`.
        test_size: as in :func:`stratified_split`.
        seed: as in :func:`stratified_split`.
        max_tokens: as in :func:`vectorize`.

    Returns:
        A :class:`TextDataset` of all 3,000 sentences.

    Raises:
        ValueError: an argument out of range, or a missing or corrupted data file.
    """
    train, test = stratified_split(load_sentences(), test_size, seed)
    return vectorize(train, test, percentile, max_tokens)
