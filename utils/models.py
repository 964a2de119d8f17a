"""Model inspection: layers by name or class, the padding check, and cuDNN eligibility.

The models themselves are built by :func:`utils.builder.build_classifier`.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .keras_internals import call_arguments

#: A larger :func:`padding_gap` means padded steps leak into the prediction.
PADDING_TOLERANCE = 1e-5


def find_layer(model: keras.Model, name: str):
    """``model.get_layer(name)``, with a ValueError that names the model and the missing layer."""
    try:
        return model.get_layer(name)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer named {name!r}") from None


def has_class_named(cls, name: str) -> bool:
    """Whether class ``cls`` or one of its bases is called ``name``.

    Tells the course's ports and keras-self-attention's layers of the same name apart from everything else
    without importing the package (which needs TensorFlow).
    """
    return isinstance(cls, type) and any(base.__name__ == name for base in cls.__mro__)


def reapply_layer(layer, call_kwargs: dict | None = None, **config):
    """Call a copy of a trained ``layer``, with ``config`` changed, on the layer's own inputs in its model.

    The copy shares the trained weights. Use it to switch on an output the layer was built without, through
    its configuration (``return_attention=True``) or its call (``call_kwargs={"return_attention_scores": True}``).
    Returns the copy's outputs.
    """
    args, kwargs = call_arguments(layer)
    copy = type(layer).from_config({**layer.get_config(), **config, "name": f"{layer.name}_copy"})
    outputs = copy(*args, **{**kwargs, **(call_kwargs or {})})
    copy.set_weights(layer.get_weights())
    return outputs


def lstm_layers(model: keras.Model) -> list:
    """Every LSTM inside a model, including those wrapped in ``Bidirectional``."""
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
    (tracing a graph for a batch seen once costs more than it saves)."""
    if keras.backend.backend() == "jax":
        return np.asarray(model.predict_on_batch(X))
    return np.asarray(model(X, training=False))


def padding_gap(model: keras.Model, X, lengths, n_check: int | None = 6, extra_steps: int = 8,
                pad_value: float = 0.0, as_given=None) -> float:
    """Largest change in the model's output between a sequence without padding, as given, and with more padding.

    The first ``n_check`` sequences (all with ``None``) run as given and with ``extra_steps`` more padding
    steps, and those among them with the two shortest lengths (the most padding) also cut to their real
    length (no padding at all), all with the same weights. Padding steps hold ``pad_value`` (0 by default, the
    value ``Masking`` and ``Embedding(mask_zero=True)`` treat as padding; pass a ``Masking`` layer's own). A correctly masked model gives the same
    output all three ways, so the gap is float noise (below :data:`PADDING_TOLERANCE`); a model that reads
    padded steps, even only through their presence (a max over time that the padding's zeros can win),
    changes its answer.

    The model is cloned with a time axis of any length. Keras raises for a model tied to one length
    (through ``Flatten``, say): that error is left to the caller. ``as_given``: the model's outputs for the
    first ``n_check`` rows of ``X``, when the caller has them already (one compilation fewer on JAX).
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

    as_given = run(X) if as_given is None else np.asarray(as_given)[:len(X)]
    longer = np.concatenate([X, np.full((len(X), extra_steps, *X.shape[2:]), pad_value, X.dtype)], axis=1)
    gaps = [np.abs(run(longer) - as_given).max()]
    for length in np.unique(lengths)[:2]:  # the two shortest lengths (the most padding), one call each
        same = lengths == length
        gaps.append(np.abs(run(X[same, :length]) - as_given[same]).max())
    return float(max(gaps))


def architecture_key(model) -> str:
    """``model.to_json()`` with every name replaced by its order of first appearance: two builds of one
    architecture (whose layers Keras names ``bilstm``, ``bilstm_1``, ...) give the same string. Caches of
    compiled functions (the probe, gradients on JAX) use it, so ten seeds of a model compile once."""
    import re

    text = model.to_json()
    for i, name in enumerate(dict.fromkeys(re.findall(r'"name": "([^"]+)"', text))):
        text = text.replace(f'"{name}"', f'"#{i}"')
    return text


def per_architecture(cache: dict, model, make, limit: int = 8):
    """``make(model)`` once per architecture (:func:`architecture_key`), kept in ``cache`` (at most ``limit``
    entries, oldest dropped first). The first model of an architecture is the one ``make`` sees: what it builds
    must depend on the architecture only, never on that model's weights."""
    key = architecture_key(model)
    if key not in cache:
        if len(cache) >= limit:
            cache.pop(next(iter(cache)))
        cache[key] = make(model)
    return cache[key]
