"""The course's five model builders as they were before the one builder (commit b4579d3), kept verbatim.

``tests/test_builder.py`` builds every registry model with these and with ``utils.builder.build_classifier``
from the same seed and compares weight counts and outputs. Nothing else imports this file.
"""
from __future__ import annotations

import keras
from keras import layers

from utils.blocks import MaskKeepingMultiHeadAttention
from utils.data import Dataset, whole_number
from utils.pooling import AttentionPooling, SeqWeightedAttention
from utils.self_attention import MaskedSeqSelfAttention, is_seq_self_attention

READOUTS = ("last", "flatten", "average")
PLACEMENTS = ("after", "before")
POOLINGS = ("average", "weighted")
NORMS = ("post", "pre", "none")
ATTENTIONS = ("mha", "seq_self")
FRONTS = ("bilstm", "dense")


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _needs_tensorflow(cls) -> bool:
    return cls.__module__.split(".")[0] == "keras_self_attention"


def build_bilstm_classifier(data: Dataset, readout: str = "last", units: int = 64,
                            dropout: float = 0.0) -> keras.Model:
    """``Masking -> BiLSTM -> read-out -> softmax``, with a cuDNN-eligible LSTM.

    read-outs: ``"last"`` (final states), ``"flatten"`` (every step, drops the mask) or
    ``"average"`` (mask-aware mean over real steps).
    """
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    units = whole_number("units", units)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    inputs = keras.Input(shape=(data.max_len, data.n_features), name="sequence")
    x = layers.Masking(mask_value=0.0, name="masking")(inputs)
    sequences = readout != "last"
    x = layers.Bidirectional(layers.LSTM(units, dropout=dropout, return_sequences=sequences), name="bilstm")(x)
    if readout == "flatten":
        x = layers.Flatten(name="flatten")(x)
    elif readout == "average":
        x = layers.GlobalAveragePooling1D(name="masked_average")(x)
    outputs = layers.Dense(data.n_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"bilstm_{readout}")


def _bilstm_states(data: Dataset, units: int, dropout: float):
    """``Input -> Masking -> BiLSTM(return_sequences)``, as in lesson 01's classifier."""
    units = whole_number("units", units)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    inputs = keras.Input(shape=(data.max_len, data.n_features), name="sequence")
    x = layers.Masking(mask_value=0.0, name="masking")(inputs)
    states = layers.Bidirectional(layers.LSTM(units, dropout=dropout, return_sequences=True), name="bilstm")(x)
    return inputs, states


def build_attention_pooling_classifier(data: Dataset, units: int = 64, attention_units: int | None = None,
                                       dropout: float = 0.0) -> keras.Model:
    """``Masking -> BiLSTM -> AttentionPooling -> softmax`` (uncompiled)."""
    inputs, states = _bilstm_states(data, units, dropout)
    pooled = AttentionPooling(attention_units, name="attention_pooling")(states)
    outputs = layers.Dense(data.n_classes, activation="softmax", name="classifier")(pooled)
    return keras.Model(inputs, outputs, name="bilstm_attention_pooling")


def build_seq_weighted_attention_classifier(data: Dataset, units: int = 64, dropout: float = 0.0) -> keras.Model:
    """``Masking -> BiLSTM -> SeqWeightedAttention -> softmax`` (the port above, so any backend; uncompiled).

    The layer is registered with Keras, so ``keras.saving.load_model`` needs no ``custom_objects``.
    """
    inputs, states = _bilstm_states(data, units, dropout)
    pooled = SeqWeightedAttention(name="seq_weighted_attention")(states)
    outputs = layers.Dense(data.n_classes, activation="softmax", name="classifier")(pooled)
    return keras.Model(inputs, outputs, name="bilstm_seq_weighted_attention")


def build_self_attention_classifier(data: Dataset, placement: str = "after", residual: bool = False,
                                    units: int = 64, pooling: str = "average",
                                    attention_cls=MaskedSeqSelfAttention, **attention_kwargs) -> keras.Model:
    """A masked BiLSTM classifier with one self-attention layer, then pooling and a softmax.

    ``placement="after"``: ``Masking -> BiLSTM -> attention -> pool``; ``"before"``:
    ``Masking -> attention -> BiLSTM -> pool``. ``residual=True`` adds the attention's input to its
    output. ``pooling``: ``"average"`` (mask-aware mean) or ``"weighted"`` (``SeqWeightedAttention``,
    a learned-query pooling). ``attention_kwargs`` go to ``attention_cls`` (e.g. ``attention_type``):
    the course's ``SeqSelfAttention`` or ``MaskedSeqSelfAttention`` (any backend) or
    keras-self-attention's ``SeqSelfAttention`` (TensorFlow backend only).
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    units = whole_number("units", units)
    if not is_seq_self_attention(attention_cls):
        raise ValueError(f"attention_cls must be SeqSelfAttention or a subclass, got {attention_cls!r}")
    if _needs_tensorflow(attention_cls) and keras.backend.backend() != "tensorflow":
        raise ValueError(f"attention_cls {attention_cls.__module__}.{attention_cls.__name__} runs on the TensorFlow "
                         f"backend only (this is {keras.backend.backend()}); use utils.self_attention.SeqSelfAttention")
    if attention_kwargs.get("return_attention"):
        raise ValueError("return_attention=True is for inspection; build the classifier without it")

    def attend(x):
        attended = attention_cls(name="self_attention", **attention_kwargs)(x)
        return layers.Add(name="residual")([x, attended]) if residual else attended

    inputs = keras.Input(shape=(None, data.n_features), name="sequence")  # any padded length
    x = layers.Masking(mask_value=0.0, name="masking")(inputs)
    if placement == "before":
        x = attend(x)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    if placement == "after":
        x = attend(x)
    if pooling == "average":
        x = layers.GlobalAveragePooling1D(name="masked_average")(x)
    else:
        x = SeqWeightedAttention(name="weighted_pooling")(x)
    outputs = layers.Dense(data.n_classes, activation="softmax", name="classifier")(x)
    name = f"attention_{placement}{'_residual' if residual else ''}"
    return keras.Model(inputs, outputs, name=name)


def residual_sublayer(x, sublayer, residual: bool = True, norm: str = "post", name: str = "sublayer"):
    """Wrap ``sublayer`` (a function tensor -> tensor of the same width) in a residual and a LayerNorm.

    ``norm="post"``: LN(x + f(x)) (Vaswani et al. 2017); ``"pre"``: x + f(LN(x)) (Xiong et al. 2020);
    ``"none"``: x + f(x). With ``residual=False`` the ``x +`` is dropped and the rest is kept.
    """
    _check_choice("norm", norm, NORMS)
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
    """
    _check_choice("attention", attention, ATTENTIONS)
    if heads < 1 or not 0.0 <= dropout < 1.0:
        raise ValueError(f"need heads >= 1 and 0 <= dropout < 1, got {heads}, {dropout}")

    def apply(x):
        width = x.shape[-1]
        if attention == "mha":
            if width % heads:
                raise ValueError(f"width {width} is not divisible by {heads} heads")
            mha = MaskKeepingMultiHeadAttention(heads, key_dim=width // heads, dropout=dropout, name=name)
            out, _scores = mha(x, x, return_attention_scores=True)
            return out

        out, _weights = MaskedSeqSelfAttention(attention_type="multiplicative", return_attention=True,
                                               name=name)(x)
        return layers.Dropout(dropout, name=f"{name}_dropout")(out) if dropout else out

    return apply


def feed_forward_sublayer(ff_units: int, dropout: float = 0.0, name: str = "ffn"):
    """The position-wise feed-forward network: Dense(ff_units, relu) -> Dense(d), the same on every step."""
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
    """
    x = residual_sublayer(x, attention_sublayer(attention, heads, dropout, name=f"{name}_attention"),
                          residual, norm, name=f"{name}_attention")
    ff_units = 2 * x.shape[-1] if ff_units is None else ff_units
    if ff_units:
        x = residual_sublayer(x, feed_forward_sublayer(ff_units, dropout, name=f"{name}_ffn"),
                              residual, norm, name=f"{name}_ffn")
    return x


def build_encoder_classifier(data: Dataset, front: str = "bilstm", units: int = 32, depth: int = 1,
                             attention: str = "mha", heads: int = 4, ff_units: int | None = None,
                             dropout: float = 0.0, residual: bool = True, norm: str = "post",
                             input_noise: float = 0.0) -> keras.Model:
    """``Masking -> front -> depth x encoder block -> masked average -> softmax``.

    ``front="bilstm"``: a BiLSTM with ``units`` per direction (width 2 * units);
    ``front="dense"``: a per-step Dense projection to width ``units`` (attention only, no recurrence).
    A pre-LN stack ends with one more LayerNorm, as in Xiong et al. 2020. ``dropout`` acts on the
    attention (its weights for ``"mha"``, its output for ``"seq_self"``), the feed-forward hidden layer
    and the pooled vector; ``input_noise`` adds
    Gaussian noise of that standard deviation to the inputs while training (a regulariser).
    """
    _check_choice("front", front, FRONTS)
    _check_choice("norm", norm, NORMS)
    _check_choice("attention", attention, ATTENTIONS)
    units = whole_number("units", units)
    depth = whole_number("depth", depth, minimum=0)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    if input_noise < 0:
        raise ValueError(f"input_noise must be >= 0, got {input_noise}")
    inputs = keras.Input(shape=(data.max_len, data.n_features), name="sequence")
    x = layers.Masking(mask_value=0.0, name="masking")(inputs)
    if input_noise:
        x = layers.GaussianNoise(input_noise, name="input_noise")(x)
    if front == "bilstm":
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    else:
        x = layers.Dense(units, name="projection")(x)
    for i in range(1, depth + 1):
        x = encoder_block(x, attention, heads, ff_units, dropout, residual, norm, name=f"block{i}")
    if norm == "pre" and depth:
        x = layers.LayerNormalization(name="final_norm")(x)
    x = layers.GlobalAveragePooling1D(name="masked_average")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = layers.Dense(data.n_classes, activation="softmax", name="classifier")(x)
    tag = f"{front}_{attention}_x{depth}_{'res' if residual else 'nores'}_{norm}ln"
    return keras.Model(inputs, outputs, name=tag)


# The layers' softmax arithmetic before the one masked softmax (commit b4579d3), for the same comparison.
from keras import ops  # noqa: E402

from utils.pooling import masked_softmax  # noqa: E402  (unchanged since then)


def legacy_window_penalty(layer, e):
    """The old ``SeqSelfAttention._scores`` tail: -10000 on scores outside the local/causal window."""
    if layer.attention_width is None:
        return e
    input_len = ops.shape(e)[-1]
    if layer.history_only:
        lower = ops.arange(0, input_len) - (layer.attention_width - 1)
    else:
        lower = ops.arange(0, input_len) - layer.attention_width // 2
    lower = ops.expand_dims(lower, axis=-1)
    upper = lower + layer.attention_width
    indices = ops.expand_dims(ops.arange(0, input_len), axis=0)
    inside = ops.cast(lower <= indices, e.dtype) * ops.cast(indices < upper, e.dtype)
    return e - 10000.0 * (1.0 - inside)


def legacy_port_weights(layer, e, mask):
    """The old port (the package's arithmetic): penalise (padded, padded) pairs, then a plain softmax."""
    e = legacy_window_penalty(layer, e)
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, e.dtype), axis=-1)
        e = e - 10000.0 * ((1.0 - mask) * (1.0 - ops.transpose(mask, (0, 2, 1))))
    e = ops.exp(e - ops.max(e, axis=-1, keepdims=True))
    return e / ops.sum(e, axis=-1, keepdims=True)


def legacy_masked_weights(layer, e, mask):
    """The old MaskedSeqSelfAttention: the window's -10000 penalty, then the masked softmax over keys."""
    return masked_softmax(legacy_window_penalty(layer, e), None if mask is None else ops.expand_dims(mask, axis=1))


def legacy_seq_weighted_weights(x, W, b, mask):
    """The old SeqWeightedAttention port: -10000 on padded steps and ``sum + epsilon`` in the denominator."""
    logits = ops.squeeze(ops.matmul(x, W), -1) + b
    if mask is not None:
        logits = logits - 10000.0 * (1.0 - ops.cast(mask, logits.dtype))
    ai = ops.exp(logits - ops.max(logits, axis=-1, keepdims=True))
    return ai / (ops.sum(ai, axis=1, keepdims=True) + keras.backend.epsilon())
