"""The one model builder: every course classifier is ``input -> stem -> mixer(s) -> pool -> head``.

A :class:`ClassifierSpec` names the choices and checks them (the one validator); :func:`build_classifier`
turns a spec into an uncompiled Keras model::

    input   Masking(0.0) on feature sequences, or Embedding(mask_zero=True) on token ids; optional GaussianNoise
    stem    "bilstm" | "lstm" | "bigru" | "gru"   a masked recurrent layer (cuDNN-eligible)
            "dense"                               a per-step projection (attention only, no recurrence)
            "conv"                                a masked Conv1D (kernel 3)
            "none"                                the inputs themselves
    mixer   None | "attention" (keras.layers.Attention) | "self_attention" (MaskedSeqSelfAttention)
            | "encoder" (a Transformer encoder block), ``depth`` of them, after the stem or before it
    pool    "last" | "flatten" | "average" | "max" | "attention" (AttentionPooling) | "weighted" (SeqWeightedAttention)
            | "none" (no read-out: the head labels every step, for per-step labels (N, T))
    head    optional Dropout, then Dense(n_classes, softmax)

Every part keeps the Keras mask, so padded steps get zero attention and pool to nothing, except
``pool="flatten"``, which is the course's example of a read-out that does not (lesson 01).
Layer names are fixed (``masking``, ``bilstm``, ``self_attention``, ``block1_attention``, ``attention_pooling``,
``classifier`` ...), so probes and exercises can find them.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace

import keras
import numpy as np
from keras import layers, ops

from .blocks import ATTENTIONS, NORMS, encoder_block
from .pooling import AttentionPooling, MaskedMaxPooling, SeqWeightedAttention
from .self_attention import MaskedSeqSelfAttention, is_seq_self_attention
from .validators import check_choice, whole_number

RECURRENT_STEMS = {"bilstm": (layers.LSTM, True), "lstm": (layers.LSTM, False),
                   "bigru": (layers.GRU, True), "gru": (layers.GRU, False)}
STEMS = (*RECURRENT_STEMS, "dense", "conv", "none")
MIXERS = (None, "attention", "self_attention", "encoder")
PLACEMENTS = ("after", "before")
#: Each read-out and the layer that makes it (None: "last" reads the stem's final state, no layer). POOLS is read
#: off this table, so a read-out cannot be named without saying how it is built.
POOL_LAYERS = {
    "last": lambda spec: None,
    "flatten": lambda spec: layers.Flatten(name="flatten"),
    "average": lambda spec: layers.GlobalAveragePooling1D(name="masked_average"),
    "max": lambda spec: MaskedMaxPooling(name="masked_max"),
    "attention": lambda spec: AttentionPooling(spec.pool_units, name="attention_pooling"),
    "weighted": lambda spec: SeqWeightedAttention(name="seq_weighted_attention"),
    # no read-out: the sequence stays, so the head labels every step (sequence labelling, lesson 09)
    "none": lambda spec: None,
}
POOLS = tuple(POOL_LAYERS)
#: The options each mixer accepts in ``mixer_options`` (``self_attention`` takes SeqSelfAttention's arguments).
MIXER_OPTIONS = {
    "attention": {"use_scale", "score_mode", "dropout"},
    "self_attention": {"units", "attention_width", "attention_type", "history_only", "kernel_initializer",
                       "bias_initializer", "kernel_regularizer", "bias_regularizer", "use_additive_bias",
                       "use_attention_bias", "attention_activation", "attention_regularizer_weight", "layer"},
    "encoder": {"attention", "heads", "ff_units", "dropout", "norm"},
}
#: The encoder mixer's options and their defaults, read off encoder_block's signature (one place to change them).
ENCODER_DEFAULTS = {name: parameter.default for name, parameter in inspect.signature(encoder_block).parameters.items()
                    if name in ("attention", "heads", "ff_units", "dropout", "norm")}


def _fraction(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ClassifierSpec:
    """What :func:`build_classifier` builds. Creating one checks every field and raises ``ValueError``.

    ``units``: the stem's width (per direction for a bidirectional stem). ``dropout``: the recurrent stem's
    input dropout. ``vocab_size``: token ids in ``[0, vocab_size)`` with 0 as padding (an ``Embedding`` of
    ``embedding_dim`` replaces ``Masking``). ``residual`` (default: True for ``"encoder"``, False otherwise)
    adds each mixer's input to its output. ``pool_units``: the scoring width of ``pool="attention"``.
    ``mixer_options``: for ``"attention"`` the arguments of ``keras.layers.Attention``; for
    ``"self_attention"`` those of ``SeqSelfAttention`` (``layer`` picks the class: the course's
    ``MaskedSeqSelfAttention`` by default, or a ``SeqSelfAttention`` such as keras-self-attention's);
    for ``"encoder"`` ``attention`` (``"mha"`` or ``"seq_self"``), ``heads``, ``ff_units``, ``dropout``, ``norm``.
    """

    stem: str = "bilstm"
    units: int = 32
    dropout: float = 0.0
    mixer: str | None = None
    mixer_options: dict = field(default_factory=dict)
    depth: int = 1
    placement: str = "after"
    residual: bool | None = None
    pool: str = "average"
    pool_units: int | None = None
    head_dropout: float = 0.0
    input_noise: float = 0.0
    vocab_size: int | None = None
    embedding_dim: int = 32
    mask_zero: bool = True
    name: str | None = None

    def __post_init__(self):
        check_choice("stem", self.stem, STEMS)
        check_choice("mixer", self.mixer, MIXERS)
        check_choice("placement", self.placement, PLACEMENTS)
        check_choice("pool", self.pool, POOLS)
        whole_number("units", self.units)
        whole_number("depth", self.depth, minimum=0)  # 0: the mixer removed, all else kept
        whole_number("embedding_dim", self.embedding_dim)
        _fraction("dropout", self.dropout)
        _fraction("head_dropout", self.head_dropout)
        if isinstance(self.input_noise, bool) or not isinstance(self.input_noise, (int, float)) \
                or self.input_noise < 0:
            raise ValueError(f"input_noise must be a standard deviation >= 0, got {self.input_noise!r}")
        if self.vocab_size is not None:
            whole_number("vocab_size", self.vocab_size, minimum=2)
        if self.mask_zero not in (True, False):
            raise ValueError(f"mask_zero must be True or False, got {self.mask_zero!r}")
        if not self.mask_zero and self.vocab_size is None:
            raise ValueError("mask_zero=False describes the Embedding of token ids; set vocab_size= too")
        if self.pool_units is not None:
            if self.pool != "attention":
                raise ValueError(f"pool_units sizes pool='attention', not pool={self.pool!r}")
            whole_number("pool_units", self.pool_units)
        if self.dropout and self.stem not in RECURRENT_STEMS:
            raise ValueError(f"dropout is the recurrent stem's input dropout; stem={self.stem!r} has none")
        if self.residual not in (None, True, False):
            raise ValueError(f"residual must be True, False or None (the mixer's default), got {self.residual!r}")
        if not isinstance(self.mixer_options, dict):
            raise ValueError(f"mixer_options must be a dict, got {type(self.mixer_options).__name__}")
        if self.mixer is None:
            if self.mixer_options or self.residual is not None or self.placement != "after":
                raise ValueError("mixer_options, residual and placement describe a mixer; set mixer= too")
        else:
            if self.mixer == "self_attention" and self.mixer_options.get("return_attention"):
                raise ValueError("return_attention is for inspection; use utils.probe.attention_weights")
            unknown = set(self.mixer_options) - MIXER_OPTIONS[self.mixer]
            if unknown:
                raise ValueError(f"mixer {self.mixer!r} takes options {sorted(MIXER_OPTIONS[self.mixer])}, "
                                 f"not {sorted(unknown)}")
            self._check_mixer_options()
        if self.placement == "before" and self.stem not in RECURRENT_STEMS:
            raise ValueError("placement='before' puts an attention layer ahead of a recurrent stem; "
                             f"it does not apply to stem={self.stem!r}")
        if self.pool == "last" and (self.stem not in RECURRENT_STEMS or (self.mixer and self.placement == "after")):
            raise ValueError("pool='last' reads the recurrent stem's final state, so it needs a recurrent stem "
                             "with nothing after it; pool a mixer's output with 'average', 'max' or 'attention'")

    def _check_mixer_options(self):
        options = self.mixer_options
        if self.mixer == "encoder":
            merged = {**ENCODER_DEFAULTS, **options}
            check_choice("mixer_options['attention']", merged["attention"], ATTENTIONS)
            check_choice("mixer_options['norm']", merged["norm"], NORMS)
            whole_number("mixer_options['heads']", merged["heads"])
            _fraction("mixer_options['dropout']", merged["dropout"])
            if merged["ff_units"] is not None:
                whole_number("mixer_options['ff_units']", merged["ff_units"], minimum=0)
        elif self.mixer == "attention":
            if "dropout" in options:
                _fraction("mixer_options['dropout']", options["dropout"])
        elif "layer" in options and not is_seq_self_attention(options["layer"]):
            raise ValueError(f"mixer_options['layer'] must be SeqSelfAttention or a subclass, got {options['layer']!r}")

    @property
    def uses_residual(self) -> bool:
        return self.mixer == "encoder" if self.residual is None else self.residual

    def but(self, **changes) -> ClassifierSpec:
        """A copy with some fields changed (and checked again), e.g. ``spec.but(depth=4)``."""
        return replace(self, **changes)

    def describe(self) -> str:
        """One line, e.g. ``bilstm(32) -> self_attention+residual -> average``."""
        stem = "none" if self.stem == "none" else f"{self.stem}({self.units})"
        if self.vocab_size:
            unmasked = "" if self.mask_zero else ", no mask"
            stem = f"embedding({self.vocab_size}x{self.embedding_dim}{unmasked}) -> {stem}"
        if self.mixer:
            mixer = self.mixer + ("+residual" if self.uses_residual else "")
            mixer = mixer if self.depth == 1 else f"{self.depth} x {mixer}"
            parts = [mixer, stem] if self.placement == "before" else [stem, mixer]
        else:
            parts = [stem]
        return " -> ".join([*parts, "per-step" if self.pool == "none" else self.pool])


@keras.saving.register_keras_serializable(package="course")
class MaskedConv1D(layers.Conv1D):
    """``Conv1D`` that zeroes padded steps before convolving and passes the mask on.

    Zeroing first makes a real step next to the padding see the same zeros however much padding follows
    (an ``Embedding``'s padding vector is not zero); ``padding="same"`` keeps one output per step.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return super().call(inputs)

    def compute_mask(self, inputs, mask=None):
        return mask


def _check_data(data, spec: ClassifierSpec) -> tuple[int, int | None, int]:
    """(max_len, n_features or None for token ids, n_classes), or a ValueError naming what is missing."""
    try:
        max_len, n_classes = data.max_len, data.n_classes
        n_features = None if spec.vocab_size else data.n_features
    except AttributeError as error:
        raise ValueError(f"data must describe its sequences (max_len, n_features, n_classes), like "
                         f"utils.data.Dataset: {error}") from None
    whole_number("data.max_len", max_len)
    if n_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, data has {n_classes}")
    if spec.pool == "flatten" and max_len is None:
        raise ValueError("pool='flatten' needs a fixed sequence length")
    if getattr(data, "labelling", False) and spec.pool != "none":
        raise ValueError(f"data has one label per step (sequence labelling), but pool={spec.pool!r} reads one "
                         "vector per sequence; use pool='none' so the head labels every step")
    return max_len, n_features, n_classes


def _stem(x, spec: ClassifierSpec, return_sequences: bool):
    if spec.stem in RECURRENT_STEMS:
        cell, bidirectional = RECURRENT_STEMS[spec.stem]
        if bidirectional:
            recurrent = cell(spec.units, dropout=spec.dropout, return_sequences=return_sequences)
            return layers.Bidirectional(recurrent, name=spec.stem)(x)
        return cell(spec.units, dropout=spec.dropout, return_sequences=return_sequences, name=spec.stem)(x)
    if spec.stem == "dense":
        return layers.Dense(spec.units, name="projection")(x)
    if spec.stem == "conv":
        return MaskedConv1D(spec.units, 3, padding="same", activation="relu", name="conv")(x)
    return x


def _mixers(x, spec: ClassifierSpec):
    options = dict(spec.mixer_options)
    if spec.mixer == "encoder":
        merged = {**ENCODER_DEFAULTS, **options}
        for i in range(1, spec.depth + 1):
            x = encoder_block(x, merged["attention"], merged["heads"], merged["ff_units"], merged["dropout"],
                              spec.uses_residual, merged["norm"], name=f"block{i}")
        if merged["norm"] == "pre" and spec.depth:
            x = layers.LayerNormalization(name="final_norm")(x)  # Xiong et al. 2020
        return x
    for i in range(1, spec.depth + 1):
        suffix = "" if spec.depth == 1 else f"_{i}"
        if spec.mixer == "attention":
            attended = layers.Attention(**options, name=f"self_attention{suffix}")([x, x])
        else:
            layer = options.pop("layer", MaskedSeqSelfAttention)
            _tensorflow_only(layer)
            attended = layer(**options, name=f"self_attention{suffix}")(x)
            options["layer"] = layer
        x = layers.Add(name=f"residual{suffix}")([x, attended]) if spec.uses_residual else attended
    return x


def _tensorflow_only(layer) -> None:
    if layer.__module__.split(".")[0] == "keras_self_attention" and keras.backend.backend() != "tensorflow":
        raise ValueError(f"{layer.__module__}.{layer.__name__} runs on the TensorFlow backend only (this is "
                         f"{keras.backend.backend()}); use utils.self_attention.SeqSelfAttention")


def _pool(x, spec: ClassifierSpec):
    layer = POOL_LAYERS[spec.pool](spec)
    return x if layer is None else layer(x)


def build_classifier(data, spec: ClassifierSpec | None = None, **fields) -> keras.Model:
    """Build ``input -> stem -> mixer(s) -> pool -> head`` for ``data`` (uncompiled).

    Pass a :class:`ClassifierSpec`, or its fields as keywords (``build_classifier(jv, pool="attention")``),
    or both (the keywords change the spec). ``data`` gives ``max_len``, ``n_features`` (not needed with
    ``vocab_size``) and ``n_classes``, as :class:`utils.data.Dataset` does.
    """
    if spec is None:
        spec = ClassifierSpec(**fields)
    elif not isinstance(spec, ClassifierSpec):
        raise ValueError(f"spec must be a ClassifierSpec, got {type(spec).__name__}")
    elif fields:
        spec = spec.but(**fields)
    max_len, n_features, n_classes = _check_data(data, spec)
    if spec.vocab_size:
        inputs = keras.Input(shape=(max_len,), dtype="int32", name="tokens")
        x = layers.Embedding(spec.vocab_size, spec.embedding_dim, mask_zero=spec.mask_zero, name="embedding")(inputs)
    else:
        inputs = keras.Input(shape=(max_len, n_features), name="sequence")
        x = layers.Masking(mask_value=0.0, name="masking")(inputs)
    if spec.input_noise:
        x = layers.GaussianNoise(spec.input_noise, name="input_noise")(x)
    if spec.mixer and spec.placement == "before":
        x = _mixers(x, spec)
    x = _stem(x, spec, return_sequences=spec.pool != "last")
    if spec.mixer and spec.placement == "after":
        x = _mixers(x, spec)
    x = _pool(x, spec)
    if spec.head_dropout:
        x = layers.Dropout(spec.head_dropout, name="head_dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=spec.name or _model_name(spec))


def _model_name(spec: ClassifierSpec) -> str:
    parts = [spec.stem, spec.mixer or "", "residual" if spec.mixer and spec.uses_residual else "",
             "per_step" if spec.pool == "none" else spec.pool]
    return "_".join(p for p in parts if p)
