"""Peers that are not neural networks, scored in the same format as the course's models.

For text (lesson 08): the majority class, the floor every accuracy must clear, and a bag of words, TF-IDF with
logistic regression, the classic strong baseline for short texts.

MiniRocket (Dempster, Schmidt & Webb, KDD 2021) turns each series into about 10,000 features from fixed
convolution kernels and fits a ridge classifier on them. We use aeon's ``MiniRocketClassifier`` (aeon 1.6)
rather than sktime's: aeon ships JapaneseVowels in its wheel, so a test can check that the course's copy holds
the same items, and its classifier takes the (cases, channels, time) arrays the course already has.
"""
from __future__ import annotations

import time

import numpy as np

from .data import Dataset
from .training import RunResult, SeedComparison, classification_metrics, distinct_seeds
from .validators import whole_number


def fill_padding(X, lengths) -> np.ndarray:
    """MiniRocket's input: (cases, channels, time) from right-padded (cases, time, channels), each sequence's
    padding filled with its last real step (``lengths``: the real steps per sequence, at least 1).

    MiniRocket has no mask. Zeros would be a signal of their own (a sudden drop at the end of short sequences);
    repeating the last real step adds no new values, only a flat tail.

    Args:
        X: right-padded ``(cases, time, channels)`` sequences (not changed: a float32 copy is filled).
        lengths: the real steps per sequence, each at least 1.

    Returns:
        A contiguous float32 ``(cases, channels, time)`` array.
    """
    X = np.array(X, dtype=np.float32)
    for i, length in enumerate(lengths):
        X[i, length:] = X[i, length - 1]
    return np.ascontiguousarray(np.transpose(X, (0, 2, 1)))


def warm_up_minirocket() -> float:
    """Fit MiniRocket once on a tiny random problem: numba compiles its kernels (cached on disk afterwards).

    Returns:
        The seconds it took, so a notebook can report the one-off compile apart from the fit times.
    """
    from aeon.classification.convolution_based import MiniRocketClassifier

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    MiniRocketClassifier(n_kernels=84, random_state=0, n_jobs=1).fit(rng.normal(size=(6, 2, 12)).astype(np.float32),
                                                                       np.arange(6) % 2)
    return time.perf_counter() - start


def minirocket_runs(data: Dataset, seeds, n_kernels: int = 10_000, name: str = "MiniRocket (aeon)") -> SeedComparison:
    """Fit MiniRocket once per seed on ``data.train`` and score it on ``data.test``: a :class:`SeedComparison`
    that :func:`utils.stats.compare_paired` can set against any course model trained on the same seeds.
    ``seconds`` is each fit's time (transform and ridge), after :func:`warm_up_minirocket` has compiled.

    Args:
        data: a course ``Dataset`` of features (not token ids).
        seeds: the seeds (MiniRocket's ``random_state``), at least 2, all distinct.
        n_kernels: MiniRocket's number of kernels.
        name: the name in result tables.

    Returns:
        A :class:`~utils.training.SeedComparison`, one run per seed, scored on ``data.test``.

    Raises:
        ValueError: fewer than 2 or repeated seeds, or sequences shorter than 9 steps.

    Example:
        ::

            warm_up_minirocket()
            rocket = minirocket_runs(load_japanese_vowels(), seeds=range(10))
    """
    from aeon.classification.convolution_based import MiniRocketClassifier

    seeds = distinct_seeds(seeds)
    if data.max_len < 9:
        raise ValueError(f"MiniRocket needs series of at least 9 steps, got {data.max_len}")
    X_train, X_test = (fill_padding(part.X, part.lengths) for part in (data.train, data.test))
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        model = MiniRocketClassifier(n_kernels=n_kernels, random_state=seed, n_jobs=1).fit(X_train, data.train.y)
        seconds = time.perf_counter() - start
        y_pred = model.predict(X_test).astype(np.int32)
        train_accuracy = float(np.mean(model.predict(X_train) == data.train.y))
        estimator = model.estimator_
        n_params = int(estimator.coef_.size + estimator.intercept_.size)
        runs.append(RunResult(seed, classification_metrics(data.test.y, y_pred, data.n_classes), train_accuracy,
                              {}, y_pred, seconds, n_params))
    return SeedComparison.scored_on(name, runs, data.test)


def deterministic_runs(name: str, data: Dataset, seeds, y_pred, train_pred, seconds: float,
                       n_params: int) -> SeedComparison:
    """A deterministic model's predictions, repeated for each seed, so that :func:`utils.stats.compare_paired`
    can set it against a course model trained on those seeds. Its interval over seeds has no width.

    Args:
        name: the name in result tables.
        data: the ``Dataset`` the predictions are for.
        seeds: the seeds of the course model it will be compared with, at least 2, all distinct.
        y_pred: one predicted label per test item.
        train_pred: one predicted label per training item.
        seconds: the model's fit time, reported for every seed.
        n_params: the model's number of parameters.

    Returns:
        A :class:`~utils.training.SeedComparison` with the same run for every seed.

    Raises:
        ValueError: fewer than 2 or repeated seeds, or predictions that are not one per test and training item.
    """
    seeds = distinct_seeds(seeds)
    y_pred, train_pred = np.asarray(y_pred, dtype=np.int32), np.asarray(train_pred, dtype=np.int32)
    if y_pred.shape != data.test.y.shape or train_pred.shape != data.train.y.shape:
        raise ValueError(f"need one prediction per test and training item ({len(data.test)}, {len(data.train)}), "
                         f"got {y_pred.shape} and {train_pred.shape}")
    metrics = classification_metrics(data.test.y, y_pred, data.n_classes)
    train_accuracy = float(np.mean(train_pred == data.train.y))
    runs = [RunResult(seed, dict(metrics), train_accuracy, {}, y_pred, seconds, n_params) for seed in seeds]
    return SeedComparison.scored_on(name, runs, data.test)


def majority_runs(data: Dataset, seeds, name: str = "majority class") -> SeedComparison:
    """Always the training split's most frequent class: the accuracy any classifier must beat.

    Args:
        data: a course ``Dataset``.
        seeds: the seeds of the course model it will be compared with, at least 2, all distinct.
        name: the name in result tables.

    Returns:
        A :class:`~utils.training.SeedComparison` (see :func:`deterministic_runs`).

    Raises:
        ValueError: fewer than 2 or repeated seeds.
    """
    from sklearn.dummy import DummyClassifier

    peer = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(data.train), 1)), data.train.y)
    return deterministic_runs(name, data, seeds, peer.predict(np.zeros((len(data.test), 1))),
                              peer.predict(np.zeros((len(data.train), 1))), 0.0, 1)


def tfidf_features():
    """TF-IDF of word 1-2-grams and of character 2-5-grams inside word boundaries (scikit-learn), side by side.

    Character n-grams catch spelling variants and word pieces ("disappoint" in "disappointing") that a word
    vocabulary of a few thousand sentences misses.

    Returns:
        An unfitted scikit-learn ``FeatureUnion`` of the two ``TfidfVectorizer`` objects.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                      TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2))


def _logistic_regression(C: float):
    """L2 logistic regression, solved in its dual by liblinear: the same model as the default solver, and
    fast when there are far more features than sentences."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="liblinear", dual=True, max_iter=5000)


def tfidf_runs(data, seeds, Cs=(0.3, 1.0, 3.0, 10.0, 30.0), folds: int = 5,
               name: str = "TF-IDF + logistic regression") -> tuple[SeedComparison, dict]:
    """The bag-of-words peer on a text data set's own sentences and split (``data.texts_train`` and
    ``data.texts_test``, from :func:`utils.text.vectorize`), scored like a course model.

    ``C`` (the inverse regularisation strength) is chosen by ``folds``-fold stratified cross-validation on the
    training sentences only, the features fitted on each fold's own part; ties go to the smaller ``C``. The
    features and the model are then fitted once on the whole training split and scored once on the test split.

    Args:
        data: a ``TextDataset`` from :func:`utils.text.vectorize`, which keeps its sentences.
        seeds: the seeds of the course model it will be compared with, at least 2, all distinct.
        Cs: the candidate values of ``C``, positive numbers.
        folds: the number of cross-validation folds, a whole number >= 2.
        name: the name in result tables.

    Returns:
        ``(comparison, details)``: the :class:`~utils.training.SeedComparison` (the same predictions for each
        seed) and a dict with the chosen ``"C"``, each ``C``'s ``"cv accuracy"``, the final fit's
        ``"fit seconds"`` and the number of ``"features"``.

    Raises:
        ValueError: ``data`` does not keep one sentence per item, ``Cs`` is empty or not all positive numbers,
            ``folds`` is not a whole number >= 2, or fewer than 2 or repeated seeds.

    Example:
        ::

            tfidf, details = tfidf_runs(load_text_dataset(), seeds=range(10))
            print(details["C"], details["cv accuracy"])
    """
    import tempfile

    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    texts_train, texts_test = getattr(data, "texts_train", ()), getattr(data, "texts_test", ())
    if len(texts_train) != len(data.train) or len(texts_test) != len(data.test) or not texts_train:
        raise ValueError("data must keep its sentences, one per item: a TextDataset from utils.text.vectorize")
    Cs = sorted(Cs)
    if not Cs or any(not isinstance(C, (int, float)) or isinstance(C, bool) or C <= 0 for C in Cs):
        raise ValueError(f"Cs must be positive numbers, got {Cs}")
    texts_train, texts_test, y = np.asarray(texts_train, dtype=object), list(texts_test), data.train.y
    folds = StratifiedKFold(whole_number("folds", folds, 2), shuffle=True, random_state=0)
    with tempfile.TemporaryDirectory() as cache:   # each fold's features are fitted once, not once per C
        pipeline = Pipeline([("features", tfidf_features()), ("model", _logistic_regression(Cs[0]))], memory=cache)
        search = GridSearchCV(pipeline, {"model__C": Cs}, scoring="accuracy", cv=folds, refit=False).fit(
            texts_train, y)
    cv_accuracy = {C: float(score) for C, score in zip(Cs, search.cv_results_["mean_test_score"])}
    best = search.best_params_["model__C"]   # the best rank; among ties, the first (smallest) C
    start = time.perf_counter()
    features = tfidf_features().fit(list(texts_train))
    A = features.transform(list(texts_train))
    model = _logistic_regression(best).fit(A, y)
    seconds = time.perf_counter() - start
    comparison = deterministic_runs(name, data, seeds, model.predict(features.transform(texts_test)),
                                    model.predict(A), seconds, int(model.coef_.size + model.intercept_.size))
    return comparison, {"C": best, "cv accuracy": cv_accuracy, "fit seconds": seconds,
                        "features": int(model.coef_.size)}
