"""The clinic's ceiling estimate: is there more signal in the data than the model finds?

Cheap peers on the same split (the majority class, logistic regression on summary features, MiniRocket where aeon
is installed) and a learning curve of the strongest of them on the clinic's one validation split.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..inspection import is_trained
from ..validators import padded_lengths
from .data_checks import LearnerData
from .report import CANNOT, INFO, WARNING, Finding


def summary_features(X: np.ndarray, pad: float = 0.0) -> np.ndarray:
    """Per sequence: the length, and each feature's mean, std, min, max, first and last real value (or, for
    token ids, the token counts). The input of the logistic-regression peer.

    Args:
        X: right-padded ``(N, T, F)`` features or ``(N, T)`` token ids.
        pad: the padding value.

    Returns:
        ``(N, 6 F + 1)`` summary features for ``X`` of features, ``(N, max id + 2)`` token counts and length for
        token ids; the length is the last column.
    """
    lengths = np.maximum(padded_lengths(X, pad), 1)
    if X.ndim == 2:
        vocab = int(X.max()) + 1
        counts = np.zeros((len(X), vocab), np.float32)
        for i, row in enumerate(X):
            np.add.at(counts[i], row[row != pad].astype(int), 1.0)
        return np.concatenate([counts, lengths[:, None]], axis=1)
    real = (np.arange(X.shape[1])[None, :] < lengths[:, None])[..., None]
    masked = np.where(real, X, np.nan)
    first = X[:, 0]
    last = X[np.arange(len(X)), lengths - 1]
    stats = [np.nanmean(masked, 1), np.nanstd(masked, 1), np.nanmin(masked, 1), np.nanmax(masked, 1), first, last]
    return np.concatenate([*stats, lengths[:, None]], axis=1)


def ceiling_estimate(model, data: LearnerData, pad: float, shares=(0.1, 0.25, 0.5, 0.75, 1.0), minirocket: bool = True,
                     progress: bool = True):
    """Peers on the same split (majority class, logistic regression on summary features, MiniRocket if aeon is
    installed) and a learning curve of the strongest peer that can run (MiniRocket, else logistic regression,
    chosen by design before any score is seen) on a validation split cut from training.

    Args:
        model: the learner's Keras model; it predicts the test split to join the peers' table.
        data: the learner's data (from :func:`~utils.diagnose.data_checks.as_data`).
        pad: the padding value.
        shares: the shares of the fitting part the learning curve trains on.
        minirocket: include MiniRocket where aeon is installed (features of at least 9 steps only).
        progress: show a progress bar.

    Returns:
        ``(findings, peers, curve, predictions)``: the ceiling's findings, the peers' table (accuracy, balanced
        accuracy and seconds; the model last), the learning curve (validation accuracy per training share) and
        each peer's ``(test, train)`` predicted labels. Without a test split: one ``"cannot run"`` finding,
        ``None``, ``None`` and ``{}``.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    from ..training import progress_bar

    if data.X_test is None:
        return [Finding("ceiling", "ceiling", CANNOT, "no test split given", None)], None, None, {}
    if data.per_step:
        return [Finding("ceiling", "ceiling", CANNOT, "per-step labels: these peers classify whole sequences; lesson "
                        "09's windowed peer (utils.labelling.windowed_peer_runs) labels steps", None)], None, None, {}
    peers_run = ["majority", "logistic regression", *(["MiniRocket"] if minirocket and _minirocket_fits(data) else [])]
    y_train, y_test = data.sparse(data.y_train), data.sparse(data.y_test)
    rows, predictions = [], {}
    bar = progress_bar("ceiling estimate", len(peers_run) + 1, unit="step") if progress else None
    for name in peers_run:
        start = time.perf_counter()
        peer = _peer(name, pad).fit(data.X_train, y_train)
        y_pred, train_pred = peer.predict(data.X_test), peer.predict(data.X_train)
        predictions[name] = (np.asarray(y_pred, np.int32), np.asarray(train_pred, np.int32))
        rows.append({"model": name, "accuracy": accuracy_score(y_test, y_pred),
                     "balanced accuracy": balanced_accuracy_score(y_test, y_pred),
                     "seconds": time.perf_counter() - start})
        if bar is not None:
            bar.update()
    curve = _learning_curve(data, pad, shares, peers_run[-1])
    if bar is not None:
        bar.update()
        bar.close()
    y_model = np.asarray(model.predict(data.X_test, verbose=0))
    y_model = (y_model[:, -1] if y_model.ndim == 3 else y_model)
    y_model = (y_model[:, 0] > 0.5).astype(int) if y_model.shape[-1] == 1 else y_model.argmax(-1)
    trained = is_trained(model)
    rows.append({"model": f"your model ({model.name}{'' if trained else ', untrained'})",
                 "accuracy": accuracy_score(y_test, y_model),
                 "balanced accuracy": balanced_accuracy_score(y_test, y_model), "seconds": float("nan")})
    peers = pd.DataFrame(rows).set_index("model")
    best = peers.drop(index=peers.index[-1]).sort_values("balanced accuracy").iloc[-1]
    mine = peers.iloc[-1]
    gap = float(best["balanced accuracy"] - mine["balanced accuracy"])
    findings = []
    if not trained:
        findings.append(Finding("ceiling", "peers", INFO, f"your model has not been trained here, so its score is "
                                f"its initial weights'; the best peer, {best.name}, reaches balanced accuracy "
                                f"{best['balanced accuracy']:.3f}: the bar a trained model must reach",
                                float(best["balanced accuracy"])))
    elif gap > 0.02:
        findings.append(Finding("ceiling", "peers", WARNING, f"{best.name} reaches balanced accuracy "
                                f"{best['balanced accuracy']:.3f}, your model {mine['balanced accuracy']:.3f} "
                                f"({gap:+.3f}), on the same test split (one trained model)", gap,
                                "a cheap peer finds signal your model misses: the model, not the data, is short",
                                "fix the model's warnings above first; then compare recipes on a validation split, "
                                "and compare over ten seeds (utils.answers.three_answers)"))
    else:
        findings.append(Finding("ceiling", "peers", INFO, f"your model's balanced accuracy "
                                f"{mine['balanced accuracy']:.3f} is within 0.02 of (or above) the best peer, "
                                f"{best.name} ({best['balanced accuracy']:.3f}), on the same test split (one trained "
                                "model)", gap))
    findings.append(Finding("ceiling", "learning curve", INFO, curve_evidence(curve),
                            float(curve["validation accuracy"].iloc[-1] - curve["validation accuracy"].iloc[-2])))
    return findings, peers, curve, predictions


#: A learning curve that gains more than this over its last step is still rising.
CURVE_RISING = 0.01


def curve_evidence(curve: pd.DataFrame) -> str:
    """The learning curve's last step in words: which peer, from what to what, rising or flat.

    Args:
        curve: the learning curve from :func:`ceiling_estimate` (at least two rows, the peer's name in
            ``curve.attrs["peer"]``).

    Returns:
        One sentence; "still rising" when the last step gains more than :data:`CURVE_RISING`.
    """
    before, last = curve["validation accuracy"].iloc[-2], curve["validation accuracy"].iloc[-1]
    return (f"the {curve.attrs['peer']} peer's validation accuracy goes from {before:.3f} to {last:.3f} between "
            f"{curve.index[-2]:.0%} and {curve.index[-1]:.0%} of the training data: "
            + ("still rising, more data would likely help" if last - before > CURVE_RISING else
               "flat, more of the same data is unlikely to help much"))


def _minirocket_fits(data: LearnerData) -> bool:
    """MiniRocket runs where aeon is installed, on features (not token ids) of at least 9 steps."""
    import importlib.util

    return importlib.util.find_spec("aeon") is not None and not data.tokens and data.X_train.shape[1] >= 9


def _peer(name: str, pad: float):
    """The peer ``name`` as an unfitted scikit-learn estimator that takes the padded sequences themselves."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if name == "majority":
        return DummyClassifier(strategy="most_frequent")
    if name == "logistic regression":
        return make_pipeline(FunctionTransformer(summary_features, kw_args={"pad": pad}), StandardScaler(),
                             LogisticRegression(max_iter=2000))
    from aeon.classification.convolution_based import MiniRocketClassifier

    return make_pipeline(FunctionTransformer(_filled, kw_args={"pad": pad}),
                         MiniRocketClassifier(n_kernels=2_000, random_state=0, n_jobs=1))


def _filled(X, pad: float):
    """MiniRocket's input: each sequence's padding filled with its last real step (:func:`utils.peers.fill_padding`)."""
    from ..peers import fill_padding

    return fill_padding(X, np.maximum(padded_lengths(X, pad), 1))


def _learning_curve(data: LearnerData, pad: float, shares, peer: str) -> pd.DataFrame:
    """The peer's accuracy on the clinic's one validation split (cut from training), fitted on growing shares of the
    rest: scikit-learn's ``learning_curve`` over that predefined split."""
    from sklearn.model_selection import PredefinedSplit, learning_curve

    from ..data import SequenceSet, validation_indices

    y = data.sparse(data.y_train)
    whole = SequenceSet(data.X_train, np.maximum(padded_lengths(data.X_train, pad), 1), y.astype(np.int32))
    fit, validation = validation_indices(whole)
    rows = np.concatenate([fit[np.random.default_rng(0).permutation(len(fit))], validation])   # fit rows shuffled
    X, y = data.X_train[rows], y[rows]
    test_fold = np.r_[np.full(len(fit), -1), np.zeros(len(validation), int)]   # the one validation split
    smallest = 2 * len(np.unique(y[:len(fit)]))
    size_of = {share: max(int(round(share * len(fit))), smallest) for share in shares}
    usable = sorted({n for n in size_of.values() if len(np.unique(y[:n])) >= 2})   # a classifier needs 2 classes
    sizes, _, scores = learning_curve(_peer(peer, pad), X, y, train_sizes=usable, cv=PredefinedSplit(test_fold),
                                      scoring="accuracy", shuffle=False)   # the first n shuffled fit rows
    by_size = dict(zip(sizes.tolist(), scores[:, 0]))
    rows = [{"training share": share, "sequences": n, "validation accuracy": float(by_size[n])}
            for share, n in size_of.items() if n in by_size]
    curve = pd.DataFrame(rows).set_index("training share")
    curve.attrs["peer"] = peer
    return curve
