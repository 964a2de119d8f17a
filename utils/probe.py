"""The one probe for attention weights: :func:`attention_weights` reads them from any course model.

A trained model computes no weights it does not need. The probe re-applies the chosen layer, with its trained
variables, to that layer's own input and mask, asking it for its weights this time, and runs the result.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .inspection import find_layer, has_class_named, reapply_layer
from .keras_ops import compiled_twin
from .pooling import AttentionPooling

POOLING_LAYERS = ("AttentionPooling", "SeqWeightedAttention")
SELF_ATTENTION_LAYERS = ("SeqSelfAttention", "Attention", "MultiHeadAttention")


def _kind(layer) -> str | None:
    """"pooling", "self" or None: what kind of attention layer ``layer`` is (by class, or class name for the
    package)."""
    if isinstance(layer, AttentionPooling) or has_class_named(type(layer), "SeqWeightedAttention"):
        return "pooling"
    if isinstance(layer, (layers.Attention, layers.MultiHeadAttention)) or has_class_named(type(layer),
                                                                                            "SeqSelfAttention"):
        return "self"
    return None


def attention_layers(model: keras.Model) -> list[str]:
    """The names of the layers in ``model`` whose attention weights :func:`attention_weights` can read.

    Args:
        model: a Keras model.

    Returns:
        The names of its ``AttentionPooling``, ``SeqWeightedAttention``, ``SeqSelfAttention``, ``Attention`` and
        ``MultiHeadAttention`` layers (top-level layers only), in model order.
    """
    return [layer.name for layer in model.layers if _kind(layer)]


def _choose(model: keras.Model, layer: str | None):
    if layer is not None:
        found = find_layer(model, layer)
        if not _kind(found):
            raise ValueError(f"layer {layer!r} is a {type(found).__name__}, which has no attention weights; "
                             f"the probe reads {POOLING_LAYERS + SELF_ATTENTION_LAYERS}")
        return found
    names = attention_layers(model)
    if not names:
        raise ValueError(f"model {model.name!r} has no attention layer; the probe reads "
                         f"{POOLING_LAYERS + SELF_ATTENTION_LAYERS}")
    if len(names) > 1:
        raise ValueError(f"model {model.name!r} has {len(names)} attention layers {names}; pick one with layer=")
    return model.get_layer(names[0])


def _weights_tensor(layer):
    """The symbolic weights of ``layer`` on its own input in the model: pooling (N, T) or self (N, H, T, T)."""
    if isinstance(layer, AttentionPooling):
        return reapply_layer(layer, return_weights=True)[1]
    if has_class_named(type(layer), "SeqWeightedAttention"):
        return reapply_layer(layer, return_attention=True)[1]
    if has_class_named(type(layer), "SeqSelfAttention"):
        return keras.ops.expand_dims(reapply_layer(layer, return_attention=True)[1], 1)
    _, scores = reapply_layer(layer, call_kwargs={"return_attention_scores": True})
    return scores if isinstance(layer, layers.MultiHeadAttention) else keras.ops.expand_dims(scores, 1)


def attention_weights(model: keras.Model, X, layer: str | None = None, batch_size: int = 256) -> np.ndarray:
    """The attention weights of one layer of ``model`` on inputs ``X``, as a NumPy array.

    Args:
        model: a functional Keras model with at least one attention layer (see :func:`attention_layers`).
        X: the inputs, of the same rank as the model's input.
        layer: the layer's name; it may be left out when the model has exactly one attention layer.
        batch_size: the prediction batch size.

    Returns:
        ``(N, T)`` for a pooling layer (``AttentionPooling``, ``SeqWeightedAttention``: one weight per step) and
        ``(N, heads, T, T)`` for self-attention (query x key; one head except for ``MultiHeadAttention``). Rows
        over keys sum to 1 and padded keys get 0 in a correctly masked layer.

    Raises:
        ValueError: ``X`` has another rank than the model's input, holds no sequences or holds NaN or inf; the
            named layer does not exist or has no attention weights; or no ``layer`` is named and the model has
            no attention layer or more than one.

    Example:
        ::

            weights = attention_weights(model, data.test.X[:8])   # (8, T) for attention pooling
    """
    X = np.asarray(X)
    expected = len(model.inputs[0].shape)
    if X.ndim != expected:
        raise ValueError(f"X must have rank {expected} like the model's input {tuple(model.inputs[0].shape)}, "
                         f"got shape {X.shape}")
    if len(X) == 0:
        raise ValueError("X holds no sequences")
    if np.issubdtype(X.dtype, np.floating) and not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    probe = keras.Model(model.inputs, _weights_tensor(_choose(model, layer)), name="attention_probe")
    return np.asarray(compiled_twin(probe).predict(X, batch_size=batch_size, verbose=0))
