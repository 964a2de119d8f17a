"""Self-attention for any Keras backend: a port of keras-self-attention's SeqSelfAttention, its masking fix,
and classifiers using them (Lesson 04).

keras-self-attention 0.51.0 calls ``tensorflow.keras.backend`` (``K.dot``, ``K.batch_dot``), so its layers
only run on the TensorFlow backend. ``SeqSelfAttention`` here is the same layer written in ``keras.ops``;
``MaskedSeqSelfAttention`` is the course's fix of its masking. Importing this module imports neither
TensorFlow nor the package.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .data import Dataset, whole_number
from .models import find_layer, has_class_named, reapply_layer
from .pooling import SeqWeightedAttention, masked_softmax

PLACEMENTS = ("after", "before")
POOLINGS = ("average", "weighted")


@keras.saving.register_keras_serializable(package="course")
class SeqSelfAttention(layers.Layer):
    """A port of keras-self-attention 0.51.0's ``SeqSelfAttention`` to ``keras.ops`` (any backend).

    It reproduces the package exactly, so a learner's model can be rebuilt faithfully on any backend:
    the same arguments and defaults, ``get_config`` keys, weights (shapes, names, order, initialisers)
    and arithmetic, its masking bug included. The package penalises a score only where *both* the
    query and the key are padding, so real time steps still attend to padded ones; use
    :class:`MaskedSeqSelfAttention` for the fix. Models saved with the package's layer load into this
    one through ``custom_objects=MaskedSeqSelfAttention.get_custom_objects()``.

    Additive: ``e_{t,t'} = W_a tanh(x_t W_t + x_{t'} W_x + b_h) + b_a``; multiplicative:
    ``e_{t,t'} = x_t W_a x_{t'} + b_a``; then ``a = softmax(e)`` over keys and ``l_t = sum_{t'} a_{t,t'} x_{t'}``.
    The one deliberate difference: bad arguments raise ``ValueError`` (the package raises
    ``NotImplementedError`` for an unknown ``attention_type`` and ``IndexError`` for a rank-2 input).
    """

    ATTENTION_TYPE_ADD = "additive"
    ATTENTION_TYPE_MUL = "multiplicative"

    def __init__(self, units=32, attention_width=None, attention_type=ATTENTION_TYPE_ADD, return_attention=False,
                 history_only=False, kernel_initializer="glorot_normal", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_additive_bias=True, use_attention_bias=True, attention_activation=None,
                 attention_regularizer_weight=0.0, **kwargs):
        super().__init__(**kwargs)
        if attention_type not in (self.ATTENTION_TYPE_ADD, self.ATTENTION_TYPE_MUL):
            raise ValueError(f"attention_type must be 'additive' or 'multiplicative', got {attention_type!r}")
        self.supports_masking = True
        self.units = units
        self.attention_width = attention_width
        self.attention_type = attention_type
        self.return_attention = return_attention
        self.history_only = history_only
        if history_only and attention_width is None:
            self.attention_width = int(1e9)  # causal attention over the whole history, as the package does
        self.use_additive_bias = use_additive_bias
        self.use_attention_bias = use_attention_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.attention_activation = keras.activations.get(attention_activation)
        self.attention_regularizer_weight = attention_regularizer_weight
        self.Wt, self.Wx, self.bh, self.Wa, self.ba = None, None, None, None, None

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "attention_width": self.attention_width,
            "attention_type": self.attention_type,
            "return_attention": self.return_attention,
            "history_only": self.history_only,
            "use_additive_bias": self.use_additive_bias,
            "use_attention_bias": self.use_attention_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            "attention_activation": keras.activations.serialize(self.attention_activation),
            "attention_regularizer_weight": self.attention_regularizer_weight,
        }

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.name} expects rank-3 input (batch, time, features), "
                             f"got shape {tuple(input_shape)}")
        if input_shape[2] is None:
            raise ValueError(f"{self.name} needs a known feature size (last axis), got shape {tuple(input_shape)}")
        features = int(input_shape[2])

        def kernel(suffix, shape):  # the package's weight names: "<layer name>_Add_Wt" ...
            return self.add_weight(shape=shape, name=f"{self.name}_{suffix}", initializer=self.kernel_initializer,
                                   regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)

        def bias(suffix, shape):
            return self.add_weight(shape=shape, name=f"{self.name}_{suffix}", initializer=self.bias_initializer,
                                   regularizer=self.bias_regularizer, constraint=self.bias_constraint)

        if self.attention_type == self.ATTENTION_TYPE_ADD:  # created in the package's order
            self.Wt = kernel("Add_Wt", (features, self.units))
            self.Wx = kernel("Add_Wx", (features, self.units))
            if self.use_additive_bias:
                self.bh = bias("Add_bh", (self.units,))
            self.Wa = kernel("Add_Wa", (self.units, 1))
            if self.use_attention_bias:
                self.ba = bias("Add_ba", (1,))
        else:
            self.Wa = kernel("Mul_Wa", (features, features))
            if self.use_attention_bias:
                self.ba = bias("Mul_ba", (1,))
        super().build(input_shape)

    def call(self, inputs, mask=None, **kwargs):
        a = self._attention_weights(self._scores(inputs), mask)
        v = ops.matmul(a, inputs)  # l_t = sum_{t'} a_{t, t'} x_{t'}
        if self.attention_regularizer_weight > 0.0:
            self.add_loss(self._regularizer_loss(a, mask))
        return [v, a] if self.return_attention else v

    def _scores(self, inputs):
        """Scores e (batch, query, key): emission, activation, then the local/causal window's -10000 penalty."""
        if self.attention_type == self.ATTENTION_TYPE_ADD:
            e = self._call_additive_emission(inputs)
        else:
            e = self._call_multiplicative_emission(inputs)
        if self.attention_activation is not None:
            e = self.attention_activation(e)
        if self.attention_width is not None:
            input_len = ops.shape(inputs)[1]
            if self.history_only:
                lower = ops.arange(0, input_len) - (self.attention_width - 1)
            else:
                lower = ops.arange(0, input_len) - self.attention_width // 2
            lower = ops.expand_dims(lower, axis=-1)
            upper = lower + self.attention_width
            indices = ops.expand_dims(ops.arange(0, input_len), axis=0)
            inside = ops.cast(lower <= indices, e.dtype) * ops.cast(indices < upper, e.dtype)
            e = e - 10000.0 * (1.0 - inside)
        return e

    def _attention_weights(self, e, mask):
        """The package's softmax, bug included: only (padded query, padded key) pairs are penalised."""
        if mask is not None:
            mask = ops.expand_dims(ops.cast(mask, e.dtype), axis=-1)  # (batch, query, 1)
            e = e - 10000.0 * ((1.0 - mask) * (1.0 - ops.transpose(mask, (0, 2, 1))))
        e = ops.exp(e - ops.max(e, axis=-1, keepdims=True))
        return e / ops.sum(e, axis=-1, keepdims=True)

    def _regularizer_loss(self, attention, mask):
        return self._attention_regularizer(attention)

    def _call_additive_emission(self, inputs):
        # h_{t, t'} = tanh(x_t^T W_t + x_{t'}^T W_x + b_h)
        q = ops.expand_dims(ops.matmul(inputs, self.Wt), 2)
        k = ops.expand_dims(ops.matmul(inputs, self.Wx), 1)
        h = ops.tanh(q + k + self.bh) if self.use_additive_bias else ops.tanh(q + k)
        # e_{t, t'} = W_a h_{t, t'} + b_a
        e = ops.matmul(h, self.Wa)
        if self.use_attention_bias:
            e = e + self.ba
        return ops.squeeze(e, axis=-1)

    def _call_multiplicative_emission(self, inputs):
        # e_{t, t'} = x_t^T W_a x_{t'} + b_a
        e = ops.matmul(ops.matmul(inputs, self.Wa), ops.transpose(inputs, (0, 2, 1)))
        if self.use_attention_bias:
            e = e + self.ba[0]
        return e

    def _eye(self, attention):
        input_len = ops.shape(attention)[-1]
        indices = ops.expand_dims(ops.arange(0, input_len), axis=0)
        diagonal = ops.expand_dims(ops.arange(0, input_len), axis=-1)
        return ops.cast(ops.equal(indices, diagonal), attention.dtype)

    def _attention_regularizer(self, attention):
        """``weight * ||A A^T - I||^2 / batch``: pushes each query towards its own, distinct keys."""
        batch_size = ops.cast(ops.shape(attention)[0], attention.dtype)
        gram = ops.matmul(attention, ops.transpose(attention, (0, 2, 1)))
        return self.attention_regularizer_weight * ops.sum(ops.square(gram - self._eye(attention))) / batch_size

    def compute_output_shape(self, input_shape):
        output_shape = tuple(input_shape)
        if self.return_attention:
            return [output_shape, (input_shape[0], output_shape[1], input_shape[1])]
        return output_shape

    def compute_mask(self, inputs, mask=None):
        return [mask, None] if self.return_attention else mask

    @staticmethod
    def get_custom_objects():
        return {"SeqSelfAttention": SeqSelfAttention}


@keras.saving.register_keras_serializable(package="course")
class MaskedSeqSelfAttention(SeqSelfAttention):
    """``SeqSelfAttention`` whose padded keys get exactly zero attention weight.

    Every query (real or padded) attends only to real keys: a masked softmax over the keys replaces the
    package's penalty on (padded, padded) pairs. The local/causal window keeps the package's -10000
    penalty: exp(-10000) is exactly 0 in float32, so for real queries it acts as a hard window, while a
    padded query whose window holds only padding still gets a row that sums to 1 (over real keys outside
    its window, as the package's penalty arithmetic gives). Without a mask, or with no padding, the
    numbers are the port's. The attention regulariser counts real query pairs only.
    """

    def _attention_weights(self, e, mask):
        return masked_softmax(e, None if mask is None else ops.expand_dims(mask, axis=1))  # mask on keys

    def _regularizer_loss(self, attention, mask):
        return self._masked_attention_regularizer(attention, mask)

    def _masked_attention_regularizer(self, attention, mask):
        if mask is None:
            return self._attention_regularizer(attention)
        batch_size = ops.cast(ops.shape(attention)[0], attention.dtype)
        real = ops.cast(mask, attention.dtype)
        pairs = ops.expand_dims(real, -1) * ops.expand_dims(real, 1)  # (query, query') pairs of real steps
        gram = ops.matmul(attention, ops.transpose(attention, (0, 2, 1)))
        return (self.attention_regularizer_weight * ops.sum(ops.square((gram - self._eye(attention)) * pairs))
                / batch_size)

    @staticmethod
    def get_custom_objects():
        """Both course layers, for ``keras.models.load_model(..., custom_objects=...)``.

        A model saved with keras-self-attention's ``SeqSelfAttention`` loads into the port.
        """
        return {"SeqSelfAttention": SeqSelfAttention, "MaskedSeqSelfAttention": MaskedSeqSelfAttention}


def is_seq_self_attention(cls) -> bool:
    """Whether ``cls`` is the course's or keras-self-attention's ``SeqSelfAttention`` (or a subclass).

    Checked by class name along the MRO, so the package (which needs TensorFlow) is never imported.
    """
    return has_class_named(cls, "SeqSelfAttention")


def _needs_tensorflow(cls) -> bool:
    return cls.__module__.split(".")[0] == "keras_self_attention"


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


def attention_model(model: keras.Model, layer_name: str = "self_attention", **overrides) -> keras.Model:
    """A model from the classifier's input to the named attention layer's weights (batch, T, T).

    Rebuilds the layer with ``return_attention=True`` and shares its trained weights. ``overrides``
    change the rebuilt layer's configuration (e.g. ``attention_activation="sigmoid"``) with the same weights.
    Works for the course's layers and for keras-self-attention's ``SeqSelfAttention``.
    """
    layer = find_layer(model, layer_name)
    if not is_seq_self_attention(type(layer)):
        raise ValueError(f"layer {layer_name!r} is a {type(layer).__name__}, not a SeqSelfAttention")
    _, weights = reapply_layer(layer, **overrides, return_attention=True)
    return keras.Model(model.inputs, weights, name=f"{model.name}_attention")


def attention_on_padding(weights, lengths) -> np.ndarray:
    """Per sequence: the mean attention weight that its real queries give to padded keys.

    ``weights`` (N, T, T) from a self-attention layer (query x key), ``lengths`` (N,) true lengths.
    """
    w = np.asarray(weights, dtype=float)
    lengths = np.asarray(lengths)
    if w.ndim != 3 or w.shape[1] != w.shape[2]:
        raise ValueError(f"weights must be (batch, T, T) query x key maps, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain NaN or inf")
    if lengths.shape != (w.shape[0],) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be {w.shape[0]} integers, got shape {lengths.shape} and dtype {lengths.dtype}")
    if np.any(lengths < 1) or np.any(lengths > w.shape[1]):
        raise ValueError(f"lengths must lie in 1..{w.shape[1]} (a length of 0 is an all-padding sequence)")
    steps = np.arange(w.shape[1])
    real = steps[None, :] < lengths[:, None]  # (N, T)
    on_padding = (w * ~real[:, None, :]).sum(axis=2)  # (N, queries)
    return (on_padding * real).sum(axis=1) / lengths
