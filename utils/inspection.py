"""Model inspection: what a Keras model holds and does, read without training it.

Layers by name or class, the LSTMs and their cuDNN eligibility, the padding check (:func:`padding_gap`), the
layers and operations that drop a mask, the head's activation, the compiled loss, and a one-input view of a model
whose other inputs are constants (:func:`fold_constant_inputs`). The clinic (:mod:`utils.diagnose`), the probe and
the exercises read models through these. The models themselves are built by :func:`utils.builder.build_classifier`;
saved ones are loaded by :func:`utils.saved_models.load_model`.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .keras_internals import call_arguments, get_keras_mask, inbound_nodes

#: A larger :func:`padding_gap` means padded steps leak into the prediction.
PADDING_TOLERANCE = 1e-5


def find_layer(model: keras.Model, name: str):
    """``model.get_layer(name)``, with a ValueError that names the model and the missing layer.

    Args:
        model: a Keras model.
        name: the layer's name.

    Returns:
        The layer.

    Raises:
        ValueError: the model has no layer of that name.
    """
    try:
        return model.get_layer(name)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer named {name!r}") from None


def has_class_named(cls, name: str) -> bool:
    """Whether class ``cls`` or one of its bases is called ``name``.

    Tells the course's ports and keras-self-attention's layers of the same name apart from everything else
    without importing the package (which needs TensorFlow).

    Args:
        cls: a class (anything else gives False).
        name: the class name to look for, e.g. ``"SeqSelfAttention"``.

    Returns:
        True when ``cls`` or a base class has that ``__name__``.
    """
    return isinstance(cls, type) and any(base.__name__ == name for base in cls.__mro__)


def reapply_layer(layer, call_kwargs: dict | None = None, **config):
    """Call a copy of a trained ``layer``, with ``config`` changed, on the layer's own inputs in its model.

    The copy shares the trained weights. Use it to switch on an output the layer was built without, through
    its configuration (``return_attention=True``) or its call (``call_kwargs={"return_attention_scores": True}``).

    Args:
        layer: a layer that has been called in a functional model.
        call_kwargs: keyword arguments added to (or replacing) those of the layer's own call.
        **config: configuration entries that replace the layer's own.

    Returns:
        The copy's outputs (symbolic tensors of the layer's model).

    Raises:
        ValueError: the layer has not been called in a functional model.

    Example:
        ::

            _, scores = reapply_layer(model.get_layer("mha"), call_kwargs={"return_attention_scores": True})
    """
    args, kwargs = call_arguments(layer)
    copy = type(layer).from_config({**layer.get_config(), **config, "name": f"{layer.name}_copy"})
    outputs = copy(*args, **{**kwargs, **(call_kwargs or {})})
    copy.set_weights(layer.get_weights())
    return outputs


def lstm_layers(model: keras.Model) -> list:
    """Every LSTM inside a model, including those wrapped in ``Bidirectional``.

    Args:
        model: a Keras model (nested models are searched too).

    Returns:
        The ``LSTM`` layers; a ``Bidirectional`` contributes its forward and its backward layer.
    """
    found = []
    for layer in model.layers:
        if isinstance(layer, layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, layers.LSTM):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += lstm_layers(layer)
    return found


def cudnn_problems(lstm: layers.LSTM) -> list[str]:
    """Why an LSTM cannot use the fused cuDNN kernel (empty when it can).

    The conditions follow the Keras LSTM documentation; a strictly right-padded mask is also required.

    Args:
        lstm: a Keras ``LSTM`` layer.

    Returns:
        One sentence per unmet condition, e.g. ``"recurrent_dropout must be 0 (it is 0.2)"``.
    """
    problems = []
    if lstm.activation is not keras.activations.tanh:
        problems.append("activation must be 'tanh'")
    if lstm.recurrent_activation is not keras.activations.sigmoid:
        problems.append("recurrent_activation must be 'sigmoid'")
    if lstm.recurrent_dropout != 0:
        problems.append(f"recurrent_dropout must be 0 (it is {lstm.recurrent_dropout})")
    if lstm.unroll:
        problems.append("unroll must be False")
    if not lstm.use_bias:
        problems.append("use_bias must be True")
    if getattr(lstm, "use_cudnn", "auto") is False:
        problems.append("use_cudnn must be 'auto' or True (it is False)")
    return problems


def forward(model: keras.Model, X) -> np.ndarray:
    """The model's outputs for ``X`` as one batch, in inference mode. On JAX through the compiled prediction
    function (eager JAX compiles each operation for each new shape, several times slower); on TensorFlow eagerly
    (tracing a graph for a batch seen once costs more than it saves).

    Args:
        model: a Keras model.
        X: the input batch.

    Returns:
        The outputs as a NumPy array.
    """
    if keras.backend.backend() == "jax":
        return np.asarray(model.predict_on_batch(X))
    return np.asarray(model(X, training=False))


def padding_gap(model: keras.Model, X, lengths, n_check: int | None = 6, extra_steps: int = 8,
                pad_value: float = 0.0, as_given=None) -> float:
    """Largest change in the model's output between a sequence without padding, as given, and with more padding.

    The first ``n_check`` sequences (all with ``None``) run as given and with ``extra_steps`` more padding
    steps, and those among them with the two shortest lengths (the most padding) also cut to their real
    length (no padding at all), all with the same weights. Padding steps hold ``pad_value`` (0 by default, the
    value ``Masking`` and ``Embedding(mask_zero=True)`` treat as padding; pass a ``Masking`` layer's own).
    A correctly masked model gives the same output all three ways, so the gap is float noise
    (below :data:`PADDING_TOLERANCE`); a model that reads padded steps, even only through their presence
    (a max over time that the padding's zeros can win), changes its answer.

    The model is cloned with a time axis of any length. Keras raises for a model tied to one length
    (through ``Flatten``, say): that error is left to the caller. ``as_given``: the model's outputs for the
    first ``n_check`` rows of ``X``, when the caller has them already (one compilation fewer on JAX).

    Args:
        model: a Keras model with one sequence input.
        X: ``(N, T)`` token ids or ``(N, T, F)`` features, right-padded.
        lengths: ``(N,)`` integer true lengths, each in 1..T.
        n_check: how many sequences to check; ``None`` checks all.
        extra_steps: how many padding steps to append.
        pad_value: the value of a padding step.
        as_given: the model's outputs for the first ``n_check`` rows, if already computed.

    Returns:
        The largest absolute change in any output (of a per-step output: on real steps), a float; above
        :data:`PADDING_TOLERANCE`, padding leaks.

    Raises:
        ValueError: ``X`` is not a non-empty ``(N, T)`` or ``(N, T, F)`` array, ``lengths`` are not ``N`` integers in
            1..T, or float ``X`` holds NaN or inf.

    Example:
        ::

            assert padding_gap(model, data.test.X, data.test.lengths) < PADDING_TOLERANCE
    """
    X = np.asarray(X)
    lengths = np.asarray(lengths)
    if X.ndim not in (2, 3) or X.shape[0] == 0:
        raise ValueError(f"X must be (batch, time) token ids or (batch, time, features), got shape {X.shape}")
    if lengths.shape != X.shape[:1] or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be {X.shape[0]} integers, got shape {lengths.shape}")
    if np.any(lengths < 1) or np.any(lengths > X.shape[1]):
        raise ValueError(f"lengths must lie in 1..{X.shape[1]} (a length of 0 is an all-padding sequence)")
    if not np.issubdtype(X.dtype, np.integer) and not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    X, lengths = X[:n_check], lengths[:n_check]
    flexible = keras.models.clone_model(model, input_tensors=keras.Input((None, *X.shape[2:]),
                                                                          dtype=model.inputs[0].dtype))
    flexible.set_weights(model.get_weights())

    def run(batch):
        return forward(flexible, batch)

    def gap(a, b, real_lengths) -> float:   # a per-step output (a labeller's) is compared on real steps only
        if a.ndim < 3:
            return float(np.abs(a - b).max())
        steps = min(a.shape[1], b.shape[1])
        real = np.arange(steps)[None, :] < real_lengths[:, None]
        return float(np.abs(a[:, :steps] - b[:, :steps])[real].max())

    as_given = run(X) if as_given is None else np.asarray(as_given)[:len(X)]
    longer = np.concatenate([X, np.full((len(X), extra_steps, *X.shape[2:]), pad_value, X.dtype)], axis=1)
    gaps = [gap(run(longer), as_given, lengths)]
    for length in np.unique(lengths)[:2]:  # the two shortest lengths (the most padding), one call each
        same = lengths == length
        gaps.append(gap(run(X[same, :length]), as_given[same], lengths[same]))
    return max(gaps)


def all_layers(model) -> list:
    """The model's layers, with those of any model nested in it (a one-input view wraps the learner's model).

    Args:
        model: a Keras model.

    Returns:
        The layers in order, a nested model replaced by its own layers.
    """
    found = []
    for layer in model.layers:
        found += all_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return found


def mask_value(model) -> float | None:
    """The value the model treats as padding (``Masking``'s, or token 0 for ``Embedding(mask_zero=True)``).

    Args:
        model: a Keras model.

    Returns:
        The first ``Masking`` layer's ``mask_value`` or 0.0 for a masking ``Embedding``; ``None`` when the model
        masks nothing.
    """
    for layer in all_layers(model):
        if isinstance(layer, layers.Masking):
            return float(layer.mask_value)
        if isinstance(layer, layers.Embedding) and layer.mask_zero:
            return 0.0
    return None


def graph_nodes(model):
    """Every layer and operation of the graph (``x + x2`` on Keras tensors is an operation, not a layer).

    Args:
        model: a functional Keras model (nested models are walked too).

    Yields:
        ``(layer, input tensors, output tensors)`` for each call of each layer or operation.
    """
    for layer in getattr(model, "operations", model.layers):
        if isinstance(layer, keras.Model):
            yield from graph_nodes(layer)
            continue
        for inputs, outputs in inbound_nodes(layer):
            yield layer, inputs, outputs


def mask_droppers(model) -> list[str]:
    """Layers that receive a mask and return a sequence without one (Keras' own mask propagation).

    Args:
        model: a functional Keras model.

    Returns:
        The names of those layers and operations.
    """
    dropped = []
    for layer, inputs, outputs in graph_nodes(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        had = any(get_keras_mask(t) is not None for t in inputs)
        sequence_out = any(len(t.shape) == 3 for t in outputs)
        if had and sequence_out and all(get_keras_mask(t) is None for t in outputs):
            dropped.append(layer.name)
    return dropped


def flatten_layers(model) -> list[str]:
    """The ``Flatten`` layers that flatten a ``(time, features)`` sequence (and so drop its mask).

    Args:
        model: a functional Keras model.

    Returns:
        Their names.
    """
    return [layer.name for layer, inputs, _ in graph_nodes(model)
            if isinstance(layer, layers.Flatten) and any(len(t.shape) == 3 for t in inputs)]


def final_activation(model) -> str:
    """The activation of the model's last layer, as the loss check needs it.

    Args:
        model: a Keras model.

    Returns:
        ``"softmax"``, ``"sigmoid"``, ``"linear"`` or ``"unknown"``.
    """
    layer = model.layers[-1]
    if isinstance(layer, layers.Softmax):
        return "softmax"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return "unknown"
    name = getattr(activation, "__name__", str(activation))
    return name if name in ("softmax", "sigmoid", "linear") else "unknown"


def compiled_loss(model) -> tuple[str | None, bool | None]:
    """The compiled loss as (name, from_logits); (None, None) when the model is not compiled.

    Args:
        model: a Keras model.

    Returns:
        ``(name, from_logits)``: a cross-entropy's Keras name (e.g. ``"sparse_categorical_crossentropy"``), or
        any other loss's name lower-cased without underscores; ``(None, None)`` when not compiled.
    """
    loss = getattr(model, "loss", None)
    if loss is None:
        return None, None
    if isinstance(loss, str):
        name, logits = loss, False
    elif isinstance(loss, keras.losses.Loss):
        name = type(loss).__name__
        logits = bool(getattr(loss, "from_logits", False) or loss.get_config().get("from_logits", False))
    else:
        name, logits = getattr(loss, "__name__", type(loss).__name__), False
    name = name.replace("_", "").lower()
    for key in ("sparsecategoricalcrossentropy", "categoricalcrossentropy", "binarycrossentropy"):
        if key in name:
            return {"sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
                    "categoricalcrossentropy": "categorical_crossentropy",
                    "binarycrossentropy": "binary_crossentropy"}[key], logits
    return name, logits


def is_trained(model) -> bool:
    """Whether the model's optimizer has taken at least one step.

    Args:
        model: a Keras model.

    Returns:
        False for a model that is not compiled or never trained.
    """
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and int(np.asarray(optimizer.iterations)) > 0


@keras.saving.register_keras_serializable(package="course")
class ConstantInput(layers.Layer):
    """A fixed array, the same for every sequence of the batch (the input it is called on sets the batch size).

    Args:
        value: the array of one row (stored as float32).
        **kwargs: ``keras.layers.Layer`` arguments (``name`` ...).
    """

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = np.asarray(value, dtype="float32")

    def call(self, inputs):
        batch = keras.ops.shape(inputs)[0]
        return keras.ops.broadcast_to(keras.ops.convert_to_tensor(self.value)[None], (batch, *self.value.shape))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.value.shape)

    def get_config(self):
        return {**super().get_config(), "value": self.value.tolist()}


def fold_constant_inputs(model: keras.Model, constants: dict) -> keras.Model:
    """A one-input view of a model whose other inputs are constants, such as Q002's query input ``u``
    (``np.full((N, 64), 1/64)``): the same computation, with each constant fed by a :class:`ConstantInput`.

    Args:
        model: a Keras model with several inputs.
        constants: ``{input position: value of one row}`` for every input but one sequence input.

    Returns:
        A ``keras.Model`` that takes the remaining (sequence) input and returns ``model``'s output.

    Raises:
        ValueError: when the constants leave other than exactly one input, or a value's shape does not fit.
    """
    free = [i for i in range(len(model.inputs)) if i not in constants]
    if len(free) != 1 or set(constants) - set(range(len(model.inputs))):
        raise ValueError(f"give a constant for every input of {model.name!r} but one sequence input: it has "
                         f"{len(model.inputs)} inputs, constants were given for positions {sorted(constants)}")
    flexible = [keras.Input((None, *t.shape[2:]) if i == free[0] else t.shape[1:], dtype=t.dtype)
                for i, t in enumerate(model.inputs)]   # any length on the sequence input, as padding_gap needs
    inner = keras.models.clone_model(model, input_tensors=flexible)
    inner.set_weights(model.get_weights())
    sequence = keras.Input((None, *model.inputs[free[0]].shape[2:]), dtype=model.inputs[free[0]].dtype)
    feeds = []
    for i, tensor in enumerate(model.inputs):
        if i == free[0]:
            feeds.append(sequence)
            continue
        value = np.asarray(constants[i], dtype="float32")
        if tuple(value.shape) != tuple(tensor.shape[1:]):
            raise ValueError(f"input {i} of {model.name!r} takes one row of shape {tuple(tensor.shape[1:])}, "
                             f"the constant has shape {value.shape}")
        feeds.append(ConstantInput(value, name=f"constant_{tensor.name}")(sequence))
    return keras.Model(sequence, inner(feeds), name=f"{model.name}_one_input")
