"""Keras pieces the whole package shares: the one masked softmax, and compiled functions cached per architecture.

- :func:`masked_softmax` (``keras.ops``) is the softmax of every course attention layer: padded steps get exactly 0.
  Lesson 02's NumPy version, in :mod:`utils.reference_attention`, is the teaching reference it is tested against.
- :func:`architecture_key`, :func:`per_architecture` and :func:`compiled_twin`: ten seeds of one model are ten
  Keras models; on JAX each would compile its own functions. Keyed by architecture, they compile once.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops


def masked_softmax(scores, mask=None):
    """Softmax over the last axis that gives masked-out positions exactly 0.

    ``mask`` is boolean (True on real steps) and broadcastable to ``scores``. A row with no real
    step gets all-zero weights (and so pools to a zero vector) instead of NaN. Half-precision scores (float16 or
    bfloat16, the compute dtype of a ``mixed_float16`` or ``mixed_bfloat16`` policy) are computed in float32, as
    the Keras mixed precision guide advises for softmax, and rounded once to their own dtype at the end: each row
    is normalised in float32 and padding stays exactly 0. Float32 and float64 scores are computed as they are.

    Args:
        scores: the attention scores, any shape; the softmax runs over the last axis.
        mask: boolean (True on real steps), broadcastable to ``scores``; ``None`` is a plain softmax.

    Returns:
        Weights of the same shape and dtype as ``scores``: each row sums to 1 over its real steps (0 with none).

    Example:
        ::

            weights = masked_softmax(scores, mask[:, None, :])   # (batch, T, T) scores, (batch, T) mask
    """
    low = keras.backend.standardize_dtype(getattr(scores, "dtype", "float32"))
    low = low if low in ("float16", "bfloat16") else None   # a mixed policy's compute dtype
    scores = scores if low is None else ops.cast(scores, "float32")
    if mask is None:
        weights = ops.softmax(scores, axis=-1)
        return weights if low is None else ops.cast(weights, low)
    mask = ops.cast(mask, "bool")
    # subtract the largest *real* score so exp() cannot overflow, then zero the padding exactly
    largest = ops.max(ops.where(mask, scores, ops.full_like(scores, -np.inf)), axis=-1, keepdims=True)
    largest = ops.where(ops.isfinite(largest), largest, ops.zeros_like(largest))
    exps = ops.where(mask, ops.exp(scores - largest), ops.zeros_like(scores))
    total = ops.sum(exps, axis=-1, keepdims=True)
    weights = exps / ops.maximum(total, keras.backend.epsilon())
    return weights if low is None else ops.cast(weights, low)


def architecture_key(model) -> str:
    """``model.to_json()`` with every name replaced by its order of first appearance: two builds of one
    architecture (whose layers Keras names ``bilstm``, ``bilstm_1``, ...) give the same string. Caches of
    compiled functions (the probe, gradients on JAX) use it, so ten seeds of a model compile once.

    Args:
        model: a Keras model.

    Returns:
        The model's JSON config with names replaced by ``"#0"``, ``"#1"``, ...
    """
    import re

    text = model.to_json()
    for i, name in enumerate(dict.fromkeys(re.findall(r'"name": "([^"]+)"', text))):
        text = text.replace(f'"{name}"', f'"#{i}"')
    return text


def per_architecture(cache: dict, model, make, limit: int = 8):
    """``make(model)`` once per architecture (:func:`architecture_key`), kept in ``cache`` (at most ``limit``
    entries, oldest dropped first). The first model of an architecture is the one ``make`` sees: what it builds
    must depend on the architecture only, never on that model's weights.

    Args:
        cache: the dict to keep results in, keyed by :func:`architecture_key`; it is changed in place.
        model: a Keras model.
        make: a function ``model -> value``, called only for an architecture not yet in ``cache``.
        limit: the most entries ``cache`` keeps.

    Returns:
        ``make``'s value for the model's architecture (cached or new).
    """
    key = architecture_key(model)
    if key not in cache:
        if len(cache) >= limit:
            cache.pop(next(iter(cache)))
        cache[key] = make(model)
    return cache[key]


_TWINS: dict[str, keras.Model] = {}  # architecture -> the first probe built for it (its predict is compiled)


def compiled_twin(probe: keras.Model) -> keras.Model:
    """A model of the same architecture as ``probe`` (a probe, or any course model) whose prediction function
    is already compiled, holding ``probe``'s weights. Ten seeds of one model are ten new Keras models; on JAX
    each would compile its own prediction. Reusing one per architecture gives the same numbers without the nine
    extra compilations.

    Args:
        probe: a Keras model.

    Returns:
        The cached clone for ``probe``'s architecture, its weights set to ``probe``'s (``probe`` is untouched).
    """
    twin = per_architecture(_TWINS, probe, keras.models.clone_model)   # its own variables: the model stays untouched
    twin.set_weights(probe.get_weights())
    return twin


_GRADIENTS: dict = {}   # (objective, wrt, training) -> architecture -> compiled jax.grad


def gradient(model: keras.Model, objective, X, y=None, *, wrt: str = "inputs", training: bool = False):
    """The gradient of ``objective(model(X), y)`` with respect to the inputs or the trainable weights.

    The one gradient function of the course, on either backend: ``tf.GradientTape`` on TensorFlow, ``jax.grad`` of
    the model's stateless call on JAX, compiled once per architecture and objective (ten seeds compile once).

    Args:
        model: a built Keras model.
        objective: ``(outputs, y) -> scalar`` in ``keras.ops``; a module-level function, so that the compiled
            gradient can be cached for it.
        X: the input batch.
        y: whatever ``objective`` reads besides the outputs (labels), or None.
        wrt: ``"inputs"`` (an array shaped like ``X``) or ``"weights"`` (one array per trainable variable,
            in ``model.trainable_variables`` order).
        training: passed to the model's call (dropout and noise layers act when True).

    Returns:
        The gradient as NumPy: an array for ``wrt="inputs"``, a list of arrays for ``wrt="weights"``.

    Raises:
        ValueError: for another ``wrt``, or a backend other than TensorFlow and JAX.
    """
    if wrt not in ("inputs", "weights"):
        raise ValueError(f"wrt must be 'inputs' or 'weights', got {wrt!r}")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(X)
        with tf.GradientTape() as tape:
            if wrt == "inputs":
                tape.watch(x)
            value = objective(model(x, training=training), y)
        if wrt == "inputs":
            return np.asarray(tape.gradient(value, x))
        return [np.asarray(g) for g in tape.gradient(value, model.trainable_variables)]
    if backend != "jax":
        raise ValueError(f"gradients run on the tensorflow and jax backends, not {backend!r}")
    import jax

    def make(template):
        def value_of(values, non_trainable, x, labels):
            outputs, _ = template.stateless_call(values, non_trainable, x, training=training)
            return objective(outputs, labels)

        return jax.jit(jax.grad(value_of, argnums=2 if wrt == "inputs" else 0))

    compiled = per_architecture(_GRADIENTS.setdefault((objective, wrt, training), {}), model, make)
    found = compiled([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
                     X, y)
    return np.asarray(found) if wrt == "inputs" else [np.asarray(g) for g in found]
