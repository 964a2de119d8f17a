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

RECURRENT_STEMS = ("bilstm", "lstm", "bigru", "gru")
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

    Args:
        stem: one of :data:`STEMS`.
        units: the stem's width, a whole number >= 1.
        dropout: the recurrent stem's input dropout, in [0, 1).
        mixer: one of :data:`MIXERS` (None: no mixer).
        mixer_options: the mixer's options (:data:`MIXER_OPTIONS`).
        depth: how many mixers, a whole number >= 0 (0 removes the mixer and keeps all else).
        placement: ``"after"`` or ``"before"`` the stem (``"before"`` needs a recurrent stem).
        residual: add each mixer's input to its output; None takes the mixer's default.
        pool: one of :data:`POOLS`.
        pool_units: the scoring width of ``pool="attention"`` (None: the feature size).
        head_dropout: dropout before the head, in [0, 1).
        input_noise: the standard deviation of ``GaussianNoise`` on the inputs (0: none).
        vocab_size: for token ids, the vocabulary size (an ``Embedding`` replaces ``Masking``).
        embedding_dim: the ``Embedding``'s width.
        mask_zero: the ``Embedding``'s ``mask_zero`` (False only to show an unmasked model; needs ``vocab_size``).
        name: the model's name (default: made from the stem, mixer, residual and pool).

    Raises:
        ValueError: a field outside its choices or range, or fields that do not go together (``mixer_options``,
            ``residual`` or ``placement`` without a mixer, ``pool_units`` without ``pool="attention"``, ``dropout``
            without a recurrent stem, ``pool="last"`` after a mixer, an option the mixer does not take ...).

    Example:
        ::

            spec = ClassifierSpec(units=32, mixer="self_attention", residual=True)
            spec.describe()   # 'bilstm(32) -> self_attention+residual -> average'
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
        """Whether each mixer adds its input to its output: ``residual``, or by default True for ``"encoder"``."""
        return self.mixer == "encoder" if self.residual is None else self.residual

    def but(self, **changes) -> ClassifierSpec:
        """A copy with some fields changed (and checked again), e.g. ``spec.but(depth=4)``.

        Args:
            **changes: new values of fields.

        Returns:
            The new :class:`ClassifierSpec`.

        Raises:
            ValueError: the changed spec fails the checks.
        """
        return replace(self, **changes)

    def describe(self) -> str:
        """One line, e.g. ``bilstm(32) -> self_attention+residual -> average``.

        Returns:
            The chain in course order (the mixer first with ``placement="before"``); ``per-step`` for ``pool="none"``.
        """
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

    Args:
        *args: ``keras.layers.Conv1D`` arguments (``filters``, ``kernel_size`` ...).
        **kwargs: ``keras.layers.Conv1D`` keyword arguments.
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


def _recurrent(cell, bidirectional: bool):
    def make(spec: ClassifierSpec, return_sequences: bool):
        if bidirectional:
            return layers.Bidirectional(cell(spec.units, dropout=spec.dropout, return_sequences=return_sequences),
                                        name=spec.stem)
        return cell(spec.units, dropout=spec.dropout, return_sequences=return_sequences, name=spec.stem)
    return make


#: Each stem and the layer that makes it, from the spec and whether it keeps the steps (None: the inputs as they
#: are). STEMS is read off this table, so a stem cannot be named without saying how it is built.
STEM_LAYERS = {
    "bilstm": _recurrent(layers.LSTM, True),
    "lstm": _recurrent(layers.LSTM, False),
    "bigru": _recurrent(layers.GRU, True),
    "gru": _recurrent(layers.GRU, False),
    "dense": lambda spec, return_sequences: layers.Dense(spec.units, name="projection"),
    "conv": lambda spec, return_sequences: MaskedConv1D(spec.units, 3, padding="same", activation="relu",
                                                        name="conv"),
    "none": lambda spec, return_sequences: None,
}
STEMS = tuple(STEM_LAYERS)


def _suffix(spec: ClassifierSpec, i: int) -> str:
    return "" if spec.depth == 1 else f"_{i}"


def _residual(x, attended, spec: ClassifierSpec, i: int):
    return layers.Add(name=f"residual{_suffix(spec, i)}")([x, attended]) if spec.uses_residual else attended


def _attention_mixer(x, spec: ClassifierSpec, i: int):
    attended = layers.Attention(**spec.mixer_options, name=f"self_attention{_suffix(spec, i)}")([x, x])
    return _residual(x, attended, spec, i)


def _self_attention_mixer(x, spec: ClassifierSpec, i: int):
    options = dict(spec.mixer_options)
    layer = options.pop("layer", MaskedSeqSelfAttention)
    _tensorflow_only(layer)
    return _residual(x, layer(**options, name=f"self_attention{_suffix(spec, i)}")(x), spec, i)


def _encoder_mixer(x, spec: ClassifierSpec, i: int):
    merged = {**ENCODER_DEFAULTS, **spec.mixer_options}
    return encoder_block(x, merged["attention"], merged["heads"], merged["ff_units"], merged["dropout"],
                         spec.uses_residual, merged["norm"], name=f"block{i}")


#: Each mixer and the function that adds its i-th block (with its residual) after ``x``. MIXERS is read off it.
MIXER_LAYERS = {"attention": _attention_mixer, "self_attention": _self_attention_mixer, "encoder": _encoder_mixer}
MIXERS = (None, *MIXER_LAYERS)


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
    layer = STEM_LAYERS[spec.stem](spec, return_sequences)
    return x if layer is None else layer(x)


def _mixers(x, spec: ClassifierSpec):
    for i in range(1, spec.depth + 1):
        x = MIXER_LAYERS[spec.mixer](x, spec, i)
    if spec.mixer == "encoder" and spec.depth and {**ENCODER_DEFAULTS, **spec.mixer_options}["norm"] == "pre":
        x = layers.LayerNormalization(name="final_norm")(x)  # Xiong et al. 2020
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

    Args:
        data: a :class:`utils.data.Dataset`, or anything with ``max_len``, ``n_features`` and ``n_classes``.
        spec: the :class:`ClassifierSpec`; None builds one from ``fields``.
        **fields: :class:`ClassifierSpec` fields, which change ``spec``.

    Returns:
        The uncompiled ``keras.Model``, its output ``(batch, n_classes)`` (``(batch, T, n_classes)`` with
        ``pool="none"``).

    Raises:
        ValueError: ``spec`` is not a ``ClassifierSpec``; the fields fail its checks; ``data`` lacks ``max_len``,
            ``n_features`` or ``n_classes``, has fewer than 2 classes, or has per-step labels while ``pool`` is not
            ``"none"``; ``pool="flatten"`` without a fixed length; or keras-self-attention's own layer on a backend
            other than TensorFlow.

    Example:
        ::

            model = build_classifier(jv, pool="attention")
            model = build_classifier(jv, MODELS["04 after"].spec, residual=True)
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


def any_length(model):
    """The same model, taking batches of any length: its layers (and so its weights) re-wired onto an input of
    shape ``(None, F)``. The builder fixes the input length (``data.max_len``); per-batch padding needs a model that
    takes each batch's own length. Training either trains both.

    Args:
        model: a Keras functional model with one ``(T, F)`` sequence input, e.g. from :func:`build_classifier`.

    Returns:
        A ``keras.Model`` sharing ``model``'s layers, with input shape ``(None, None, F)``.

    Raises:
        ValueError: the model has a ``Flatten`` layer (``pool="flatten"``), whose read-out needs the fixed length.
    """
    fixed = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Flatten)]
    if fixed:
        raise ValueError(f"the model's Flatten layer(s) {fixed} (pool='flatten') read out exactly "
                         f"{model.input_shape[1]} steps, so the model cannot take other lengths; build it with a "
                         "pool that reads any length (e.g. pool='average'), or pad every batch to that length")
    inputs = keras.Input((None, model.input_shape[-1]), name=model.inputs[0].name)
    return keras.models.clone_model(model, input_tensors=inputs, clone_function=lambda layer: layer)


def _model_name(spec: ClassifierSpec) -> str:
    parts = [spec.stem, spec.mixer or "", "residual" if spec.mixer and spec.uses_residual else "",
             "per_step" if spec.pool == "none" else spec.pool]
    return "_".join(p for p in parts if p)
