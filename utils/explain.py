"""Explanations to test attention against: gradient saliency and the share of weight on known evidence (lesson 03),
occlusion scores and their rank agreement with attention (lesson 08)."""
from __future__ import annotations

import keras
import numpy as np

from .keras_ops import gradient
from .validators import validate_sequences, whole_number


def gradient_saliency(model, X, lengths=None, batch_size: int = 128) -> np.ndarray:
    """How strongly each time step moves the predicted class: (N, T), each row summing to 1 over real steps.

    Saliency of step t is the L2 norm over features of d log p(predicted class) / d x_t
    (Simonyan et al. 2014, applied to sequences). Padded steps get exactly 0. Runs on the TensorFlow
    backend (``tf.GradientTape``) and on JAX (``jax.grad``); each sequence's gradient is its own,
    since the batch's summed log-probability has no cross-sequence terms at inference.

    Args:
        model: a Keras classifier that outputs ``(batch, classes)`` probabilities and reads ``(N, T, F)`` features.
        X: right-padded ``(N, T, F)`` sequences.
        lengths: the true lengths; ``None`` reads them off the padding.
        batch_size: how many sequences one gradient computation takes.

    Returns:
        ``(N, T)`` saliency, each row summing to 1 over its real steps (all 0 for a row with no gradient).

    Raises:
        ValueError: ``X`` or ``lengths`` fail the course's input check, ``batch_size < 1``, or the model's output is
            not ``(batch, classes)``.

    Example:
        ::

            saliency = gradient_saliency(model, data.test.X, data.test.lengths)
    """
    X = np.asarray(X, dtype=np.float32)
    lengths = validate_sequences(X, lengths=lengths)  # ValueError on rank, NaN, all-padding rows
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rows = []
    for start in range(0, len(X), batch_size):
        grads = gradient(model, _summed_log_prob, X[start:start + batch_size])
        rows.append(np.linalg.norm(grads, axis=-1))
    saliency = np.concatenate(rows)
    saliency *= np.arange(X.shape[1])[None, :] < lengths[:, None]
    total = saliency.sum(axis=1, keepdims=True)
    return np.divide(saliency, total, out=np.zeros_like(saliency), where=total > 0)


def _predicted_log_prob(probs):
    """log p(predicted class) per sequence, in ``keras.ops`` so TensorFlow and JAX can differentiate it."""
    if len(probs.shape) != 2:
        raise ValueError(f"the model must output (batch, classes) probabilities, got shape {tuple(probs.shape)}")
    return keras.ops.log(keras.ops.max(probs, axis=-1) + 1e-12)  # probability of the predicted class


def _summed_log_prob(probs, _=None):
    """The summed log p(predicted class) of a batch: its gradient holds each sequence's own, since no term mixes
    sequences at inference."""
    return keras.ops.sum(_predicted_log_prob(probs))


def weight_on_span(weights, starts, span: int) -> np.ndarray:
    """The share of each row's weight that falls in ``[start, start + span)``: (N,) values in [0, 1].

    ``weights`` (N, T) are non-negative per-step scores (attention or saliency), not necessarily
    normalised; rows are normalised here.

    Args:
        weights: ``(N, T)`` non-negative, finite scores.
        starts: ``(N,)`` integer start of each row's span.
        span: the span's length, a whole number >= 1.

    Returns:
        ``(N,)`` shares in [0, 1].

    Raises:
        ValueError: ``weights`` is not 2-D, finite and non-negative; ``starts`` is not one integer per row; ``span``
            is not a whole number >= 1; a span reaches outside the row; or a row has no weight at all.
    """
    w = np.asarray(weights, dtype=float)
    starts = np.asarray(starts)
    if w.ndim != 2:
        raise ValueError(f"weights must be (sequences, time), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if starts.shape != (w.shape[0],) or not np.issubdtype(starts.dtype, np.integer):
        raise ValueError(f"starts must be {w.shape[0]} integer positions, "
                         f"got shape {starts.shape}, dtype {starts.dtype}")
    span = whole_number("span", span)
    if np.any(starts < 0) or np.any(starts + span > w.shape[1]):
        raise ValueError(f"each span [start, start + {span}) must lie inside 0..{w.shape[1]}")
    total = w.sum(axis=1)
    if np.any(total == 0):
        raise ValueError(f"row {int(np.flatnonzero(total == 0)[0])} has no weight at all")
    inside = np.arange(w.shape[1])[None, :] - starts[:, None]
    return (w * ((inside >= 0) & (inside < span))).sum(axis=1) / total



def occlusion_scores(model, ids, lengths, batch_size: int = 1024) -> np.ndarray:
    """How much each word holds up the prediction: (N, T), 0 on padding.

    The score of word t is p(predicted class | sentence) - p(predicted class | sentence without word t): the
    word is removed, the words after it move up one place and the sentence is padded again (Li, Monroe &
    Jurafsky 2016, "Understanding neural networks through representation erasure"). A positive score: the
    prediction leaned on that word; negative: the word spoke against it. ``ids`` are ``(N, T)`` token ids,
    0 for padding, right-padded (``utils.text.token_ids``); all removals run as one batch of predictions. A
    one-word sentence keeps score 0: without its word it would be all padding, which a masked model cannot read.

    Args:
        model: a Keras classifier whose input is ``(batch, time)`` token ids.
        ids: ``(N, T)`` integer token ids, right-padded with 0.
        lengths: ``(N,)`` sentence lengths.
        batch_size: the prediction batch size.

    Returns:
        ``(N, T)`` scores, 0 on padding and for one-word sentences.

    Raises:
        ValueError: ``ids`` is not ``(N, T)`` integers, ``ids`` and ``lengths`` fail the course's input check
            (right padding, no empty sentence, lengths in range), or the model does not read ``(batch, time)`` ids.

    Example:
        ::

            scores = occlusion_scores(model, ids, lengths)
            agreement = rank_agreement(attention_weights(model, ids), scores, lengths)
    """
    from .keras_ops import compiled_twin

    ids, lengths = np.asarray(ids), np.asarray(lengths)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be (sentences, time) integer token ids, got shape {ids.shape}, dtype {ids.dtype}")
    validate_sequences(ids[..., None], lengths=lengths)   # right padding, no empty sentence, lengths in range
    if len(model.inputs[0].shape) != 2:
        raise ValueError(f"the model must read (batch, time) token ids, its input is {tuple(model.inputs[0].shape)}")
    rows, owners = [], []
    for i, length in enumerate(lengths):
        for t in range(length if length > 1 else 0):
            rows.append(np.concatenate([np.delete(ids[i], t), [0]]))
            owners.append((i, t))
    twin = compiled_twin(model)   # one compiled prediction per architecture (ten seeds compile once on JAX)
    full = np.asarray(twin.predict(ids, batch_size=batch_size, verbose=0))
    reduced = np.asarray(twin.predict(np.stack(rows), batch_size=batch_size, verbose=0)) if rows else []
    predicted = full.argmax(axis=1)
    scores = np.zeros(ids.shape, dtype=float)
    for (i, t), probabilities in zip(owners, reduced):
        scores[i, t] = full[i, predicted[i]] - probabilities[predicted[i]]
    return scores


def rank_agreement(a, b, lengths, min_length: int = 3) -> np.ndarray:
    """Per sequence, Spearman's rank correlation between two per-step scores over its real steps: (N,) values
    in [-1, 1], NaN for sequences shorter than ``min_length`` or where either score is constant (no ranking).

    1: both rank the steps alike; 0: no relation; -1: opposite rankings. Compare attention weights with
    occlusion scores (Jain & Wallace 2019 measured the same agreement with gradients and leave-one-out).

    Args:
        a: ``(N, T)`` finite per-step scores.
        b: ``(N, T)`` finite per-step scores, the same shape as ``a``.
        lengths: ``(N,)`` true lengths, each in 1..T.
        min_length: the shortest sequence that gets a correlation, a whole number >= 2.

    Returns:
        ``(N,)`` correlations in [-1, 1], NaN where there is no ranking to compare.

    Raises:
        ValueError: ``a`` and ``b`` are not 2-D arrays of one shape, hold NaN or inf, ``lengths`` are out of range,
            or ``min_length`` is not a whole number >= 2.
    """
    from scipy.stats import spearmanr

    a, b, lengths = np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(lengths)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"need two (sequences, time) score arrays of one shape, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("scores contain NaN or inf")
    if lengths.shape != (len(a),) or np.any(lengths < 1) or np.any(lengths > a.shape[1]):
        raise ValueError(f"lengths must be {len(a)} values in 1..{a.shape[1]}")
    min_length = whole_number("min_length", min_length, 2)
    rho = np.full(len(a), np.nan)
    for i, length in enumerate(lengths):
        x, y = a[i, :length], b[i, :length]
        if length >= min_length and np.ptp(x) > 0 and np.ptp(y) > 0:
            rho[i] = spearmanr(x, y).statistic
    return rho
