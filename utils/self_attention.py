"""Self-attention: a masking fix for keras-self-attention's SeqSelfAttention, and classifiers using it.

``SeqSelfAttention`` 0.51.0 penalises a score only where *both* the query and the key are padding,
so real time steps still attend to padded ones. ``MaskedSeqSelfAttention`` is a drop-in subclass
(same constructor, weights and outputs on unpadded input) that gives padded keys exactly zero weight.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers
from keras_self_attention import SeqSelfAttention, SeqWeightedAttention
from tensorflow.keras import backend as K

from .data import Dataset, whole_number
from .models import find_layer, reapply_layer

PLACEMENTS = ("after", "before")
POOLINGS = ("average", "weighted")


@keras.saving.register_keras_serializable(package="course")
class MaskedSeqSelfAttention(SeqSelfAttention):
    """``SeqSelfAttention`` whose padded keys get exactly zero attention weight.

    Every query (real or padded) attends only to real keys. Without a mask, or with no padding, the
    computation is the original's. The attention regulariser counts real query pairs only.
    """

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.name} expects rank-3 input (batch, time, features), got shape {tuple(input_shape)}")
        super().build(input_shape)

    def call(self, inputs, mask=None, **kwargs):
        input_len = K.shape(inputs)[1]
        if self.attention_type == SeqSelfAttention.ATTENTION_TYPE_ADD:
            e = self._call_additive_emission(inputs)
        else:
            e = self._call_multiplicative_emission(inputs)
        if self.attention_activation is not None:
            e = self.attention_activation(e)
        if self.attention_width is not None:  # local / causal window, as in the original
            if self.history_only:
                lower = K.arange(0, input_len) - (self.attention_width - 1)
            else:
                lower = K.arange(0, input_len) - self.attention_width // 2
            lower = K.expand_dims(lower, axis=-1)
            upper = lower + self.attention_width
            indices = K.expand_dims(K.arange(0, input_len), axis=0)
            e -= 10000.0 * (1.0 - K.cast(lower <= indices, K.floatx()) * K.cast(indices < upper, K.floatx()))
        key_mask = None
        if mask is not None:
            key_mask = K.expand_dims(K.cast(mask, K.floatx()), axis=1)  # (batch, 1, keys)
            e -= 10000.0 * (1.0 - key_mask)  # the fix: penalise every padded key, not only padded pairs
        e = K.exp(e - K.max(e, axis=-1, keepdims=True))
        if key_mask is not None:
            e *= key_mask  # exactly zero, whatever the scores' scale
        # the row maximum contributes exp(0) = 1, so the sum is >= 1 unless a sequence is all padding
        a = e / K.maximum(K.sum(e, axis=-1, keepdims=True), K.epsilon())
        v = K.batch_dot(a, inputs)
        if self.attention_regularizer_weight > 0.0:
            self.add_loss(self._masked_attention_regularizer(a, mask))
        if self.return_attention:
            return [v, a]
        return v

    def _masked_attention_regularizer(self, attention, mask):
        if mask is None:
            return self._attention_regularizer(attention)
        batch_size = K.cast(K.shape(attention)[0], K.floatx())
        input_len = K.shape(attention)[-1]
        eye = K.cast(K.equal(K.expand_dims(K.arange(0, input_len), 0), K.expand_dims(K.arange(0, input_len), -1)),
                     K.floatx())
        real = K.cast(mask, K.floatx())
        pairs = K.expand_dims(real, -1) * K.expand_dims(real, 1)
        gram = K.batch_dot(attention, K.permute_dimensions(attention, (0, 2, 1)))
        return self.attention_regularizer_weight * K.sum(K.square((gram - eye) * pairs)) / batch_size

    @staticmethod
    def get_custom_objects():
        """Both layers, for ``keras.models.load_model(..., custom_objects=...)``."""
        return {"SeqSelfAttention": SeqSelfAttention, "MaskedSeqSelfAttention": MaskedSeqSelfAttention}


def build_self_attention_classifier(data: Dataset, placement: str = "after", residual: bool = False,
                                    units: int = 64, pooling: str = "average",
                                    attention_cls=MaskedSeqSelfAttention, **attention_kwargs) -> keras.Model:
    """A masked BiLSTM classifier with one self-attention layer, then pooling and a softmax.

    ``placement="after"``: ``Masking -> BiLSTM -> attention -> pool``; ``"before"``:
    ``Masking -> attention -> BiLSTM -> pool``. ``residual=True`` adds the attention's input to its
    output. ``pooling``: ``"average"`` (mask-aware mean) or ``"weighted"`` (``SeqWeightedAttention``,
    a learned-query pooling). ``attention_kwargs`` go to ``attention_cls`` (e.g. ``attention_type``).
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    units = whole_number("units", units)
    if not (isinstance(attention_cls, type) and issubclass(attention_cls, SeqSelfAttention)):
        raise ValueError(f"attention_cls must be SeqSelfAttention or a subclass, got {attention_cls!r}")
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
    """
    layer = find_layer(model, layer_name)
    if not isinstance(layer, SeqSelfAttention):
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
