"""Self-attention for any Keras backend: a port of keras-self-attention's SeqSelfAttention and its masking fix
(Lesson 04).

keras-self-attention 0.51.0 calls ``tensorflow.keras.backend`` (``K.dot``, ``K.batch_dot``), so its layers
only run on the TensorFlow backend. ``SeqSelfAttention`` here is the same layer written in ``keras.ops``;
``MaskedSeqSelfAttention`` is the course's fix of its masking. Importing this module imports neither
TensorFlow nor the package.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .inspection import has_class_named
from .keras_ops import masked_softmax


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
    The softmax is the course's one :func:`~utils.keras_ops.masked_softmax`, fed the package's penalised scores
    (see ``_attention_weights``). The one deliberate difference: bad arguments raise ``ValueError`` (the
    package raises ``NotImplementedError`` for an unknown ``attention_type`` and ``IndexError`` for a rank-2
    input).

    Args:
        units: the width of the additive scoring layer (``W_t``, ``W_x``); unused by ``"multiplicative"``.
        attention_width: the width of a local window of keys around each query; ``None`` attends to every key.
        attention_type: ``"additive"`` or ``"multiplicative"``.
        return_attention: also return the ``(batch, T, T)`` weights: the layer returns ``[output, weights]``.
        history_only: causal attention: each query sees itself and the ``attention_width - 1`` steps before it
            (the whole history when ``attention_width`` is ``None``).
        kernel_initializer: the initializer of the kernels.
        bias_initializer: the initializer of the biases.
        kernel_regularizer: the regularizer of the kernels.
        bias_regularizer: the regularizer of the biases.
        kernel_constraint: the constraint on the kernels.
        bias_constraint: the constraint on the biases.
        use_additive_bias: use ``b_h`` in the additive score.
        use_attention_bias: use ``b_a`` in the score.
        attention_activation: an activation applied to the scores before the softmax (``None``: none). The
            course's teaching flaw ``"sigmoid"`` squashes the scores into (0, 1), so no weight exceeds e times
            another.
        attention_regularizer_weight: the weight of the loss ``||A A^T - I||^2 / batch`` (0: no such loss).
        **kwargs: ``keras.layers.Layer`` arguments (``name`` ...).

    Raises:
        ValueError: an unknown ``attention_type``; or, when built, an input that is not rank 3 or has an
            unknown feature size.

    Example:
        ::

            x = SeqSelfAttention(attention_activation="sigmoid", name="self_attention")(states)
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
        """Scores e (batch, query, key): the emission, then ``attention_activation``."""
        if self.attention_type == self.ATTENTION_TYPE_ADD:
            e = self._call_additive_emission(inputs)
        else:
            e = self._call_multiplicative_emission(inputs)
        if self.attention_activation is not None:
            e = self.attention_activation(e)
        return e

    def _window(self, e):
        """Which (query, key) pairs the local/causal window allows, (1, query, key) boolean, or None."""
        if self.attention_width is None:
            return None
        input_len = ops.shape(e)[-1]
        if self.history_only:
            lower = ops.arange(0, input_len) - (self.attention_width - 1)
        else:
            lower = ops.arange(0, input_len) - self.attention_width // 2
        lower = ops.expand_dims(lower, axis=-1)
        upper = lower + self.attention_width
        indices = ops.expand_dims(ops.arange(0, input_len), axis=0)
        return ops.expand_dims(ops.logical_and(lower <= indices, indices < upper), 0)

    def _attention_weights(self, e, mask):
        """The package's weights, bug included, through the course's one :func:`masked_softmax`.

        The package subtracts 10000 from a score once for a pair outside the local/causal window and once more
        for a (padded query, padded key) pair, then takes a plain softmax. exp(-10000) is 0 in float32, so each
        row keeps only its pairs with the fewest penalties: a real query keeps every key in its window, real
        or padded (the bug). The same shifted scores, with the kept pairs as the mask, give the package's
        numbers bit for bit.
        """
        shifted, penalties = e, ops.zeros_like(e)
        window = self._window(e)
        if window is not None:
            outside = 1.0 - ops.cast(window, e.dtype)
            shifted, penalties = shifted - 10000.0 * outside, penalties + outside
        if mask is not None:
            real = ops.expand_dims(ops.cast(mask, e.dtype), axis=-1)  # (batch, query, 1)
            both_padded = (1.0 - real) * (1.0 - ops.transpose(real, (0, 2, 1)))
            shifted, penalties = shifted - 10000.0 * both_padded, penalties + both_padded
        if window is None and mask is None:   # nothing penalised: every pair is kept (no constant for XLA to fold)
            return masked_softmax(shifted, ops.ones_like(e, dtype="bool"))
        kept = penalties == ops.min(penalties, axis=-1, keepdims=True)
        return masked_softmax(shifted, kept)

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

    Every query (real or padded) attends only to the real keys in its window: the one change from the port is
    which pairs enter the masked softmax (``_attention_weights``). A padded query whose local window holds
    only padding gets an all-zero row (the package would spread it over real keys outside its window);
    padded rows never reach a real output. Without a mask, or with no padding, the numbers are the port's,
    bit for bit. The attention regulariser counts real query pairs only.

    It takes the same arguments as :class:`SeqSelfAttention`.

    Example:
        ::

            x = MaskedSeqSelfAttention(attention_type="multiplicative", name="self_attention")(states)
    """

    def _attention_weights(self, e, mask):
        """The fix: every query attends to the real keys inside its window, and to nothing else."""
        kept = self._window(e)
        if mask is not None:
            real_keys = ops.expand_dims(ops.cast(mask, "bool"), axis=1)  # (batch, 1, key)
            kept = real_keys if kept is None else ops.logical_and(kept, real_keys)
        return masked_softmax(e, ops.ones_like(e, dtype="bool") if kept is None else kept)  # as the port's arithmetic

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

        Returns:
            ``{"SeqSelfAttention": SeqSelfAttention, "MaskedSeqSelfAttention": MaskedSeqSelfAttention}``.
        """
        return {"SeqSelfAttention": SeqSelfAttention, "MaskedSeqSelfAttention": MaskedSeqSelfAttention}


def is_seq_self_attention(cls) -> bool:
    """Whether ``cls`` is the course's or keras-self-attention's ``SeqSelfAttention`` (or a subclass).

    Checked by class name along the MRO, so the package (which needs TensorFlow) is never imported.

    Args:
        cls: a class (anything else gives False).

    Returns:
        True for ``SeqSelfAttention`` and its subclasses, from either source.
    """
    return has_class_named(cls, "SeqSelfAttention")


def attention_on_padding(weights, lengths) -> np.ndarray:
    """Per sequence: the mean attention weight that its real queries give to padded keys.

    Args:
        weights: ``(N, T, T)`` finite weights from a self-attention layer (query x key).
        lengths: ``(N,)`` integer true lengths, each in 1..T.

    Returns:
        ``(N,)`` values: 0 for a correctly masked layer, up to 1 when every real query looks only at padding.

    Raises:
        ValueError: ``weights`` is not ``(N, T, T)`` or holds NaN or inf, or ``lengths`` are not ``N`` integers in
            1..T.

    Example:
        ::

            leak = attention_on_padding(attention_weights(model, X)[:, 0], lengths)   # head 0
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
