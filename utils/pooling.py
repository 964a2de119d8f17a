"""Attention pooling: a learned query turns a sequence of states into one vector (Lesson 03).

``AttentionPooling`` scores every step with ``v^T tanh(W h_t + b)`` (Bahdanau et al. 2015; the
context vector ``u_w`` of Yang et al. 2016), takes a masked softmax over time and returns the
weighted sum of the states. ``SeqWeightedAttention`` is a ``keras.ops`` port of keras-self-attention's
layer of that name (whose TensorFlow-only code cannot run on JAX). ``MaskedMaxPooling`` takes the
largest value of each feature over the real steps. Their softmax is :func:`utils.keras_ops.masked_softmax`, the
one masked softmax of every course layer. ``utils.builder.build_classifier(pool=...)`` puts any of them on top
of a stem.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .keras_ops import masked_softmax


class _WeightedPooling(layers.Layer):
    """What both attention-pooling layers share: a masked softmax over one score per step, the weighted sum of the
    steps, the output shapes, and no mask out. A subclass computes the scores (``_scores``) and names the flag that
    also returns the weights (``_WEIGHTS_FLAG``: keras-self-attention's layer calls it ``return_attention``)."""

    _WEIGHTS_FLAG = "return_weights"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    @property
    def _returns_weights(self) -> bool:
        return bool(getattr(self, self._WEIGHTS_FLAG))

    def _check_rank(self, shape) -> None:
        if len(shape) != 3:
            raise ValueError(f"{type(self).__name__} expects a rank-3 input (batch, time, features), "
                             f"got shape {tuple(shape)}")

    def _scores(self, inputs):
        raise NotImplementedError

    def call(self, inputs, mask=None):
        self._check_rank(inputs.shape)
        weights = masked_softmax(self._scores(inputs), mask)   # (batch, time)
        pooled = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)
        return [pooled, weights] if self._returns_weights else pooled

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        pooled = (input_shape[0], input_shape[2])
        return [pooled, (input_shape[0], input_shape[1])] if self._returns_weights else pooled

    def compute_mask(self, inputs, mask=None):
        return [None, None] if self._returns_weights else None


@keras.saving.register_keras_serializable(package="course")
class AttentionPooling(_WeightedPooling):
    """Pool (batch, time, features) to (batch, features) with a learned query.

    ``score_t = v^T tanh(W h_t + b)``; ``weights = masked softmax(scores)`` over time;
    output ``sum_t weights_t h_t``. ``units`` is the size of the hidden scoring layer (default: the
    feature size). With ``return_weights=True`` the layer returns ``[pooled, weights]``.

    Args:
        units: the hidden scoring layer's size, a positive integer; ``None`` uses the feature size.
        return_weights: also return the ``(batch, time)`` weights.
        **kwargs: ``keras.layers.Layer`` arguments (``name`` ...).

    Raises:
        ValueError: ``units`` is not a positive integer or ``None``; or, when built or called, an input that is
            not rank 3 or has an unknown feature size.

    Example:
        ::

            pooled = AttentionPooling(name="attention_pool")(states)   # (batch, time, d) -> (batch, d)
    """

    def __init__(self, units: int | None = None, return_weights: bool = False, **kwargs):
        super().__init__(**kwargs)
        if units is not None and (not isinstance(units, (int, np.integer)) or units < 1):
            raise ValueError(f"units must be a positive integer or None, got {units!r}")
        self.units = None if units is None else int(units)
        self.return_weights = bool(return_weights)

    def build(self, input_shape):
        self._check_rank(input_shape)
        if input_shape[-1] is None:
            raise ValueError("AttentionPooling needs a known feature size (last axis)")
        features = int(input_shape[-1])
        units = self.units or features
        self.W = self.add_weight(name="W", shape=(features, units), initializer="glorot_uniform")
        self.b = self.add_weight(name="b", shape=(units,), initializer="zeros")
        self.v = self.add_weight(name="v", shape=(units,), initializer="glorot_uniform")  # the learned query

    def _scores(self, inputs):
        return ops.tensordot(ops.tanh(ops.matmul(inputs, self.W) + self.b), self.v, axes=1)  # (batch, time)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_weights": self.return_weights}


@keras.saving.register_keras_serializable(package="course")
class SeqWeightedAttention(_WeightedPooling):
    r"""A port of keras-self-attention 0.51.0's ``SeqWeightedAttention`` to ``keras.ops`` (any backend).

    ``Y = softmax(XW + b) X`` (the package cites https://arxiv.org/pdf/1708.00524.pdf), with the package's
    arguments and weights (``<name>_W`` (features, 1), uniform; ``<name>_b`` zeros), so saved models carry
    over. Its softmax is :func:`masked_softmax`: the package's -10000 penalty on padded steps also gives
    them exactly 0 (exp(-10000) is 0 in float32), and the package's ``sum + epsilon`` denominator differs
    from ours by at most one float32 rounding step (a test compares the two). With ``return_attention=True`` the layer
    returns ``[pooled, weights]``. A rank other than 3 raises ``ValueError``.

    Args:
        use_bias: add the bias ``b`` to the scores.
        return_attention: also return the ``(batch, time)`` weights.
        **kwargs: ``keras.layers.Layer`` arguments (``name`` ...).

    Raises:
        ValueError: when built on an input that is not rank 3 or has an unknown feature size.
    """

    _WEIGHTS_FLAG = "return_attention"

    def __init__(self, use_bias=True, return_attention=False, **kwargs):
        super().__init__(**kwargs)
        self.use_bias = use_bias
        self.return_attention = return_attention
        self.W, self.b = None, None

    def get_config(self):
        return {**super().get_config(), "use_bias": self.use_bias, "return_attention": self.return_attention}

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[2] is None:
            raise ValueError(f"{self.name} expects rank-3 input (batch, time, features) with a known feature size, "
                             f"got shape {tuple(input_shape)}")
        self.W = self.add_weight(shape=(int(input_shape[2]), 1), name=f"{self.name}_W",
                                 initializer=keras.initializers.get("uniform"))
        if self.use_bias:
            self.b = self.add_weight(shape=(1,), name=f"{self.name}_b", initializer=keras.initializers.get("zeros"))
        super().build(input_shape)

    def _scores(self, inputs):
        logits = ops.matmul(inputs, self.W)
        if self.use_bias:
            logits = logits + self.b
        return ops.squeeze(logits, axis=-1)

    @staticmethod
    def get_custom_objects():
        return {"SeqWeightedAttention": SeqWeightedAttention}


@keras.saving.register_keras_serializable(package="course")
class MaskedMaxPooling(layers.Layer):
    """(batch, time, features) -> (batch, features): each feature's largest value over the real steps.

    ``keras.layers.GlobalMaxPooling1D`` ignores the mask, so a padded step (zeros) wins whenever every
    real value of a feature is negative. An all-padding row pools to zeros.

    Args:
        **kwargs: ``keras.layers.Layer`` arguments (``name`` ...).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.max(inputs, axis=1)
        real = ops.expand_dims(ops.cast(mask, "bool"), -1)
        largest = ops.max(ops.where(real, inputs, ops.full_like(inputs, -np.inf)), axis=1)
        return ops.where(ops.isfinite(largest), largest, ops.zeros_like(largest))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def compute_mask(self, inputs, mask=None):
        return None
