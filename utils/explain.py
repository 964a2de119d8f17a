"""Explanations to test attention against: gradient saliency and the share of weight on known evidence (Lesson 03)."""
from __future__ import annotations

import keras
import numpy as np

from .data import whole_number, validate_sequences


def gradient_saliency(model, X, lengths=None, batch_size: int = 128) -> np.ndarray:
    """How strongly each time step moves the predicted class: (N, T), each row summing to 1 over real steps.

    Saliency of step t is the L2 norm over features of d log p(predicted class) / d x_t
    (Simonyan et al. 2014, applied to sequences). Padded steps get exactly 0. Runs on the TensorFlow
    backend (``tf.GradientTape``) and on JAX (``jax.grad``); each sequence's gradient is its own,
    since the batch's summed log-probability has no cross-sequence terms at inference.
    """
    X = np.asarray(X, dtype=np.float32)
    lengths = validate_sequences(X, lengths=lengths)  # ValueError on rank, NaN, all-padding rows
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    gradient = _input_gradient(keras.backend.backend())
    rows = []
    for start in range(0, len(X), batch_size):
        grads = gradient(model, X[start:start + batch_size])
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


def _input_gradient(backend: str):
    """A function (model, x) -> d sum(log p(predicted class)) / dx as NumPy, for this Keras backend."""
    if backend == "tensorflow":
        import tensorflow as tf

        def gradient(model, x):
            x = tf.convert_to_tensor(x)
            with tf.GradientTape() as tape:
                tape.watch(x)
                log_p = _predicted_log_prob(model(x, training=False))
            return tape.gradient(log_p, x).numpy()  # a vector target: the gradient of its sum
    elif backend == "jax":
        def gradient(model, x):
            values = [v.value for v in model.trainable_variables]
            non_trainable = [v.value for v in model.non_trainable_variables]
            return np.asarray(_jax_input_gradient(model)(values, non_trainable, x))
    else:
        raise ValueError(f"gradient_saliency supports the tensorflow and jax backends, not {backend!r}")
    return gradient


_JAX_INPUT_GRADIENTS: dict = {}


def _jax_input_gradient(model):
    """A compiled ``jax.grad`` of the summed predicted log-probability with respect to the input, one per
    architecture: ten seeds of one model compile once (the first model serves as the template)."""
    import jax
    import jax.numpy as jnp

    from .models import per_architecture

    def make(template):
        def summed(values, non_trainable, inputs):
            probabilities, _ = template.stateless_call(values, non_trainable, inputs, training=False)
            return jnp.sum(_predicted_log_prob(probabilities))

        return jax.jit(jax.grad(summed, argnums=2))

    return per_architecture(_JAX_INPUT_GRADIENTS, model, make)


def weight_on_span(weights, starts, span: int) -> np.ndarray:
    """The share of each row's weight that falls in ``[start, start + span)``: (N,) values in [0, 1].

    ``weights`` (N, T) are non-negative per-step scores (attention or saliency), not necessarily
    normalised; rows are normalised here.
    """
    w = np.asarray(weights, dtype=float)
    starts = np.asarray(starts)
    if w.ndim != 2:
        raise ValueError(f"weights must be (sequences, time), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if starts.shape != (w.shape[0],) or not np.issubdtype(starts.dtype, np.integer):
        raise ValueError(f"starts must be {w.shape[0]} integer positions, got shape {starts.shape}, dtype {starts.dtype}")
    span = whole_number("span", span)
    if np.any(starts < 0) or np.any(starts + span > w.shape[1]):
        raise ValueError(f"each span [start, start + {span}) must lie inside 0..{w.shape[1]}")
    total = w.sum(axis=1)
    if np.any(total == 0):
        raise ValueError(f"row {int(np.flatnonzero(total == 0)[0])} has no weight at all")
    inside = np.arange(w.shape[1])[None, :] - starts[:, None]
    return (w * ((inside >= 0) & (inside < span))).sum(axis=1) / total

