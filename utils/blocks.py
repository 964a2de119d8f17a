"""Residual blocks (Lesson 05): residual sub-layers and post-LN / pre-LN Transformer encoder blocks.

Every block keeps the Keras mask, so padded time steps are never attended to and the final
masked pooling ignores them. ``utils.builder.build_classifier(mixer="encoder")`` stacks them.
"""
from __future__ import annotations

import keras
from keras import layers

from .keras_internals import get_keras_mask, set_keras_mask
from .validators import check_choice

NORMS = ("post", "pre", "none")
ATTENTIONS = ("mha", "seq_self")


@keras.saving.register_keras_serializable(package="course")
class MaskKeepingMultiHeadAttention(layers.MultiHeadAttention):
    """``keras.layers.MultiHeadAttention`` that leaves the mask on its input tensors in place.

    Keras 3.15's layer deletes the mask of ``query``/``value``/``key`` while it runs. In
    ``Add()([x, attention(x, x)])`` the residual then sees an unmasked ``x``, ``Add`` drops the mask,
    and every later layer (the next block, the masked average) treats padding as real steps.
    """

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False):
        inputs = [t for t in (query, value, key) if t is not None]
        masks = [get_keras_mask(t) for t in inputs]
        outputs = super().call(query, value, key, query_mask=query_mask, value_mask=value_mask, key_mask=key_mask,
                               attention_mask=attention_mask, return_attention_scores=return_attention_scores,
                               training=training, use_causal_mask=use_causal_mask)
        for tensor, mask in zip(inputs, masks):
            if mask is not None:
                set_keras_mask(tensor, mask)
        return outputs


def residual_sublayer(x, sublayer, residual: bool = True, norm: str = "post", name: str = "sublayer"):
    """Wrap ``sublayer`` (a function tensor -> tensor of the same width) in a residual and a LayerNorm.

    ``norm="post"``: LN(x + f(x)) (Vaswani et al. 2017); ``"pre"``: x + f(LN(x)) (Xiong et al. 2020);
    ``"none"``: x + f(x). With ``residual=False`` the ``x +`` is dropped and the rest is kept.

    Args:
        x: the input tensor, ``(batch, T, d)``.
        sublayer: a function tensor -> tensor that keeps the width ``d`` (e.g. :func:`attention_sublayer`).
        residual: add the input back (``x + f(x)``); ``False`` keeps only the sub-layer and the norm.
        norm: ``"post"``, ``"pre"`` or ``"none"``: where the ``LayerNormalization`` goes.
        name: the prefix of the added layers' names.

    Returns:
        The output tensor, the same shape as ``x``.

    Raises:
        ValueError: ``norm`` is not one of ``"post"``, ``"pre"``, ``"none"``, or ``sublayer`` changes the width.

    Example:
        ::

            h = residual_sublayer(x, feed_forward_sublayer(64), norm="pre", name="block1_ffn")
    """
    check_choice("norm", norm, NORMS)
    h = sublayer(layers.LayerNormalization(name=f"{name}_pre_norm")(x) if norm == "pre" else x)
    if h.shape[-1] != x.shape[-1]:
        raise ValueError(f"{name}: a residual needs equal widths, got input {x.shape[-1]} and output {h.shape[-1]}")
    if residual:
        h = layers.Add(name=f"{name}_residual")([x, h])
    if norm == "post":
        h = layers.LayerNormalization(name=f"{name}_post_norm")(h)
    return h


def attention_sublayer(attention: str = "mha", heads: int = 4, dropout: float = 0.0, name: str = "attention"):
    """Self-attention as a function tensor -> tensor of the same width (padded keys get zero weight).

    ``"mha"``: ``keras.layers.MultiHeadAttention`` (as :class:`MaskKeepingMultiHeadAttention`) with
    ``heads`` heads of width d / heads.
    ``"seq_self"``: lesson 04's ``MaskedSeqSelfAttention`` (one multiplicative head, no value projection).

    Args:
        attention: ``"mha"`` or ``"seq_self"``.
        heads: the number of heads for ``"mha"`` (the width must divide by it); ignored by ``"seq_self"``.
        dropout: the dropout rate on the attention weights (``"mha"``) or on the output (``"seq_self"``).
        name: the attention layer's name.

    Returns:
        A function that maps a ``(batch, T, d)`` tensor to a ``(batch, T, d)`` tensor.

    Raises:
        ValueError: ``attention`` is not one of the two choices, ``heads < 1`` or ``dropout`` is outside
            [0, 1); or, when the function is applied, the width is not divisible by ``heads`` (``"mha"``).
    """
    check_choice("attention", attention, ATTENTIONS)
    if heads < 1 or not 0.0 <= dropout < 1.0:
        raise ValueError(f"need heads >= 1 and 0 <= dropout < 1, got {heads}, {dropout}")

    def apply(x):
        width = x.shape[-1]
        if attention == "mha":
            if width % heads:
                raise ValueError(f"width {width} is not divisible by {heads} heads")
            return MaskKeepingMultiHeadAttention(heads, key_dim=width // heads, dropout=dropout, name=name)(x, x)
        from .self_attention import MaskedSeqSelfAttention  # lesson 04

        out = MaskedSeqSelfAttention(attention_type="multiplicative", name=name)(x)
        return layers.Dropout(dropout, name=f"{name}_dropout")(out) if dropout else out

    return apply


def feed_forward_sublayer(ff_units: int, dropout: float = 0.0, name: str = "ffn"):
    """The position-wise feed-forward network: Dense(ff_units, relu) -> Dense(d), the same on every step.

    Args:
        ff_units: the hidden layer's width.
        dropout: the dropout rate after the hidden layer (0 adds no ``Dropout``).
        name: the prefix of the layers' names.

    Returns:
        A function that maps a ``(batch, T, d)`` tensor to a ``(batch, T, d)`` tensor.

    Raises:
        ValueError: ``ff_units < 1``.
    """
    if ff_units < 1:
        raise ValueError(f"ff_units must be >= 1, got {ff_units}")

    def apply(x):
        h = layers.Dense(ff_units, activation="relu", name=f"{name}_hidden")(x)
        if dropout:
            h = layers.Dropout(dropout, name=f"{name}_dropout")(h)
        return layers.Dense(x.shape[-1], name=f"{name}_out")(h)

    return apply


def encoder_block(x, attention: str = "mha", heads: int = 4, ff_units: int | None = None, dropout: float = 0.0,
                  residual: bool = True, norm: str = "post", name: str = "block1"):
    """A Transformer encoder block: attention + residual + LN, then feed-forward + residual + LN.

    ``ff_units=0`` leaves out the feed-forward half (a residual self-attention block only).

    Args:
        x: the input tensor, ``(batch, T, d)``.
        attention: ``"mha"`` or ``"seq_self"`` (see :func:`attention_sublayer`).
        heads: the number of heads for ``"mha"``.
        ff_units: the feed-forward hidden width; ``None`` means ``2 * d``, ``0`` leaves the feed-forward half out.
        dropout: the dropout rate of both halves.
        residual: add each half's input back (``False`` keeps the norms only).
        norm: ``"post"``, ``"pre"`` or ``"none"`` (see :func:`residual_sublayer`).
        name: the prefix of the block's layer names.

    Returns:
        The output tensor, the same shape as ``x``, with the Keras mask kept.

    Raises:
        ValueError: a choice that is not allowed, ``heads < 1``, ``dropout`` outside [0, 1), ``ff_units < 0``,
            or a width that is not divisible by ``heads``.

    Example:
        ::

            x = encoder_block(x, attention="mha", heads=4, norm="pre", name="block1")
    """
    x = residual_sublayer(x, attention_sublayer(attention, heads, dropout, name=f"{name}_attention"),
                          residual, norm, name=f"{name}_attention")
    ff_units = 2 * x.shape[-1] if ff_units is None else ff_units
    if ff_units:
        x = residual_sublayer(x, feed_forward_sublayer(ff_units, dropout, name=f"{name}_ffn"),
                              residual, norm, name=f"{name}_ffn")
    return x
