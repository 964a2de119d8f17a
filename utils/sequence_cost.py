"""What one training step costs against the sequence length T (lesson 10b): time, memory, and the exponent.

- :func:`step_cost` times one training step of a model on a batch of length-``T`` sequences (forward pass, backward
  pass, a plain gradient-descent update) and, on JAX, reads XLA's planned memory for the compiled step from
  ``memory_analysis()`` (a plan made when compiling, not a measured peak).
- :func:`fit_exponent` fits ``cost ~ c * T**k`` on log-log axes over the largest lengths and returns ``k``.
- :func:`global_dtype_policy` sets Keras' global dtype policy (``"mixed_bfloat16"`` ...) for a ``with`` block and
  restores the previous one after it, also when the block fails.

The step is a pure function built from the model's stateless API, so what is timed and measured is exactly one
step: on JAX ``jax.value_and_grad`` of ``model.stateless_call`` over the trainable variables, compiled once with
``jax.jit(...).lower(...).compile()``; on TensorFlow the same step in a ``tf.function`` with ``tf.GradientTape``.
Compilation is done (and timed separately) before any timed run.
"""
from __future__ import annotations

import math
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

import keras
import numpy as np

from .validators import whole_number

#: The memory fields of XLA's ``CompiledMemoryStats`` that :func:`step_cost` reads, in bytes.
MEMORY_FIELDS = ("temp_size_in_bytes", "argument_size_in_bytes", "output_size_in_bytes", "alias_size_in_bytes")


@dataclass(frozen=True)
class StepCost:
    """The cost of one training step at one sequence length.

    On JAX ``memory_bytes`` is XLA's planned total for the compiled step, ``temp + argument + output - alias``: the
    step's own buffers (``temp``: activations kept for the backward pass, gradients, scratch), its inputs (the
    weights, the batch) and its outputs (the new weights, the loss), less the output buffers that reuse an input's
    (``alias``; 0 unless buffers are donated). The weights are counted twice, as inputs and as outputs. It is a plan
    made when compiling, not a measured peak, and not the process's resident size. On TensorFlow with a GPU it is
    the GPU allocator's measured peak during the timed runs; NaN where neither is available.

    Args:
        T: the sequence length.
        batch_size: the sequences per step.
        seconds: the median time of one step over the timed runs.
        runs: every timed run, in seconds.
        compile_seconds: the time to trace and compile the step (not in ``seconds``).
        memory_bytes: the compiled step's memory (see above), or NaN.
        temp_bytes: XLA's ``temp_size_in_bytes``, or NaN.
        argument_bytes: XLA's ``argument_size_in_bytes``, or NaN.
        output_bytes: XLA's ``output_size_in_bytes``, or NaN.
        alias_bytes: XLA's ``alias_size_in_bytes``, or NaN.
        backend: the Keras backend it ran on.
        note: where the memory number comes from, or why it is missing.
    """

    T: int
    batch_size: int
    seconds: float
    runs: tuple
    compile_seconds: float
    memory_bytes: float
    temp_bytes: float
    argument_bytes: float
    output_bytes: float
    alias_bytes: float
    backend: str
    note: str


@dataclass(frozen=True)
class ExponentFit:
    """A straight line through ``(log T, log cost)``: ``cost ~ exp(intercept) * T**exponent``.

    Args:
        exponent: the slope of log cost against log T.
        stderr: the slope's standard error (NaN from 2 points).
        intercept: the line's intercept (natural logs).
        T_low: the smallest length in the fit.
        T_high: the largest length in the fit.
        points: how many lengths the fit used.
    """

    exponent: float
    stderr: float
    intercept: float
    T_low: int
    T_high: int
    points: int

    def describe(self) -> str:
        """One line, e.g. ``"exponent 1.98 +/- 0.02 (T 512-2048, 3 lengths)"``."""
        spread = "" if math.isnan(self.stderr) else f" +/- {self.stderr:.2f}"
        return f"exponent {self.exponent:.2f}{spread} (T {self.T_low}-{self.T_high}, {self.points} lengths)"


def _check_model(model, T: int) -> keras.Model:
    """``model`` itself; a ValueError unless it is a Keras model with one sequence input that takes length T."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a Keras model, got {type(model).__name__}")
    if not model.inputs or len(model.inputs) != 1:
        raise ValueError("step_cost measures a model with one sequence input (batch, T[, features])")
    shape = tuple(model.inputs[0].shape)
    if len(shape) < 2 or shape[1] not in (None, T):
        raise ValueError(f"the model's input {shape} does not take sequences of length T={T}; give its input length "
                         "None (utils.builder.any_length(model)) or build it for this length")
    return model


def _batch(model: keras.Model, T: int, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of ``batch_size`` unpadded sequences of length ``T`` and matching labels."""
    rng = np.random.default_rng(seed)
    shape = tuple(model.inputs[0].shape)
    if "int" in str(model.inputs[0].dtype):
        vocab = next((layer.input_dim for layer in model.layers if isinstance(layer, keras.layers.Embedding)), None)
        if vocab is None:
            raise ValueError("an integer input needs an Embedding layer, to know the token ids' range")
        x = rng.integers(1, vocab, size=(batch_size, T)).astype("int32")   # no id 0: no padding
    else:
        # centred on 2 so that no step is all zeros: Masking(0.0) sees every step as real
        x = (rng.normal(size=(batch_size, T, *shape[2:])) + 2.0).astype("float32")
    output = tuple(model.outputs[0].shape)
    n_classes = int(output[-1])
    y_shape = (batch_size,) if len(output) == 2 else (batch_size, T)   # one label per sequence, or per step
    return x, rng.integers(0, n_classes, size=y_shape).astype("int32")


def _loss(y, outputs):
    """Mean sparse cross-entropy on float32 probabilities (a mixed policy's head may output bfloat16)."""
    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, keras.ops.cast(outputs, "float32")))


def _jax_step(model: keras.Model, x, y, learning_rate: float):
    """The compiled pure step on JAX, its arguments and its memory analysis."""
    import jax

    def loss_of(trainable, non_trainable, x, y):
        outputs, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        return _loss(y, outputs), non_trainable

    def train_step(trainable, non_trainable, x, y):
        (loss, non_trainable), grads = jax.value_and_grad(loss_of, has_aux=True)(trainable, non_trainable, x, y)
        trainable = [w - learning_rate * g.astype(w.dtype) for w, g in zip(trainable, grads)]
        return loss, trainable, non_trainable

    arguments = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
                 x, y)
    compiled = jax.jit(train_step).lower(*arguments).compile()
    return (lambda: jax.block_until_ready(compiled(*arguments))), compiled.memory_analysis()


def _tensorflow_step(model: keras.Model, x, y, learning_rate: float):
    """The step as a ``tf.function`` (it updates the model's weights: the caller restores them)."""
    import tensorflow as tf

    variables = model.trainable_variables

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = _loss(y, model(x, training=True))
        for variable, grad in zip(variables, tape.gradient(loss, variables)):
            variable.assign_sub(learning_rate * tf.cast(grad, variable.dtype))
        return loss

    x, y = tf.constant(x), tf.constant(y)
    train_step.get_concrete_function(x, y)   # trace now, so that compiling is not timed
    return lambda: float(train_step(x, y))


def step_cost(model, T: int, *, batch_size: int = 8, repeats: int = 3, warmup: int = 1, seed: int = 0,
              learning_rate: float = 0.01) -> StepCost:
    """Time one training step at sequence length ``T`` and, on JAX, read its memory from the compiled step.

    The step is forward pass, sparse cross-entropy, backward pass and a gradient-descent update of every trainable
    variable (``w - learning_rate * grad``), on a batch of ``batch_size`` random unpadded sequences of length ``T``
    (random labels; per-step labels for a per-step head). It is compiled first (``compile_seconds``), run
    ``warmup`` times untimed, then ``repeats`` times; ``seconds`` is the median.

    Memory: on JAX, ``jax.jit(step).lower(...).compile().memory_analysis()``, XLA's plan for exactly this step,
    made when compiling: ``memory_bytes`` is its planned total ``temp + argument + output - alias``, weights counted
    as inputs and again as outputs (see :class:`StepCost`); it is not a measured peak. On TensorFlow,
    ``tf.config.experimental.get_memory_info`` reports a peak for a GPU only (on a CPU it reports 0), so there the
    memory is the GPU allocator's measured peak during the timed runs (weights and everything else the process
    holds on it included), and NaN on a CPU; ``note`` says which.

    The model's weights are left as they were: the JAX step is pure, and on TensorFlow they are restored.

    Args:
        model: a built Keras model with one sequence input of length ``T`` or ``None``. The course's builder fixes
            the length; ``utils.builder.any_length(model)`` gives one model for every ``T``.
        T: the sequence length, a whole number >= 1.
        batch_size: the sequences per step, >= 1.
        repeats: the timed runs, >= 1.
        warmup: the untimed runs after compiling, >= 0.
        seed: the seed of the random batch.
        learning_rate: the update's step size.

    Returns:
        A :class:`StepCost`.

    Raises:
        ValueError: ``T``, ``batch_size``, ``repeats`` or ``warmup`` is not a whole number in range; ``model`` is
            not a Keras model, its input does not take length ``T`` or it has more than one input; an integer input
            without an ``Embedding``; or a backend other than JAX and TensorFlow.

    Example:
        ::

            model = any_length(build_classifier(data, units=16))
            costs = [step_cost(model, T, batch_size=8) for T in (256, 512, 1024)]
            costs[-1].seconds, costs[-1].memory_bytes
    """
    T = whole_number("T", T)
    batch_size = whole_number("batch_size", batch_size)
    repeats = whole_number("repeats", repeats)
    warmup = whole_number("warmup", warmup, minimum=0)
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        raise ValueError(f"step_cost runs on the jax and tensorflow backends, not {backend!r}")
    model = _check_model(model, T)
    x, y = _batch(model, T, batch_size, seed)
    memory = dict.fromkeys(MEMORY_FIELDS, math.nan)
    start = time.perf_counter()
    if backend == "jax":
        run, analysis = _jax_step(model, x, y, learning_rate)
        if analysis is not None:
            memory = {name: float(getattr(analysis, name)) for name in MEMORY_FIELDS}
        note = ("XLA memory_analysis() of the compiled step, planned: temp + argument + output - alias"
                if analysis is not None else "this JAX platform gives no memory_analysis(): memory is NaN")
        saved = None
    else:
        import tensorflow as tf

        saved = model.get_weights()
        run = _tensorflow_step(model, x, y, learning_rate)
        gpus = tf.config.list_logical_devices("GPU")
        note = ("tf.config.experimental.get_memory_info: the GPU's peak during the timed runs" if gpus else
                "TensorFlow reports memory for a GPU only (get_memory_info gives 0 on a CPU): memory is NaN")
    compile_seconds = time.perf_counter() - start
    total = (memory["temp_size_in_bytes"] + memory["argument_size_in_bytes"] + memory["output_size_in_bytes"]
             - memory["alias_size_in_bytes"])   # XLA's planned total on JAX; NaN on TensorFlow
    try:
        for _ in range(warmup):
            run()
        if backend == "tensorflow" and gpus:
            tf.config.experimental.reset_memory_stats(gpus[0].name)
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            runs.append(time.perf_counter() - start)
        if backend == "tensorflow" and gpus:
            total = float(tf.config.experimental.get_memory_info(gpus[0].name)["peak"])   # measured
    finally:
        if saved is not None:
            model.set_weights(saved)
    return StepCost(T, batch_size, statistics.median(runs), tuple(runs), compile_seconds, total,
                    memory["temp_size_in_bytes"], memory["argument_size_in_bytes"], memory["output_size_in_bytes"],
                    memory["alias_size_in_bytes"], backend, note)


def fit_exponent(T, cost, *, points: int | None = None) -> ExponentFit:
    """The exponent ``k`` in ``cost ~ c * T**k``: the least-squares slope of log cost against log T.

    At small ``T`` fixed costs (launching the step, the weights) hide the growth, so the fit uses the ``points``
    largest lengths only, where the asymptote shows: by default the larger half (at least 2). The line is
    ``scipy.stats.linregress`` on natural logs.

    Args:
        T: the sequence lengths, whole numbers >= 1, at least 2 distinct.
        cost: the cost at each length (seconds, bytes ...), finite and > 0, as many as ``T``.
        points: how many of the largest lengths to fit (>= 2); None: the larger half, at least 2.

    Returns:
        An :class:`ExponentFit` with the slope, its standard error and the range of T it used.

    Raises:
        ValueError: ``T`` empty, ``T`` and ``cost`` of different lengths, a length below 1 or not whole, a cost that
            is not finite and > 0 (NaN memory included), fewer than 2 distinct lengths, or ``points`` not in
            2..len(T).

    Example:
        ::

            fit_exponent([256, 512, 1024], [1.0, 4.1, 16.3]).exponent   # about 2
    """
    from scipy.stats import linregress

    T, cost = np.asarray(T), np.asarray(cost, dtype=float)
    if T.ndim != 1 or T.size == 0:
        raise ValueError(f"T must be a non-empty list of lengths, got shape {T.shape}")
    if cost.shape != T.shape:
        raise ValueError(f"T and cost must have the same length (one cost per T), got {T.size} and {cost.size}")
    if not np.issubdtype(T.dtype, np.number) or np.any(T != np.round(T)) or np.any(T < 1):
        raise ValueError(f"every T must be a whole number >= 1, got {T.tolist()}")
    if not np.all(np.isfinite(cost)) or np.any(cost <= 0):
        raise ValueError(f"every cost must be finite and > 0 to take its log (memory is NaN where the backend gives "
                         f"none), got {cost.tolist()}")
    order = np.argsort(T, kind="stable")
    T, cost = T[order].astype(float), cost[order]
    if np.unique(T).size < 2:
        raise ValueError("a slope needs at least 2 distinct lengths T")
    if points is None:
        points = max(2, math.ceil(T.size / 2))
    elif isinstance(points, bool) or not isinstance(points, (int, np.integer)) or not 2 <= points <= T.size:
        raise ValueError(f"points must be a whole number in 2..{T.size} (the lengths given), got {points!r}")
    T, cost = T[-points:], cost[-points:]
    if np.unique(T).size < 2:
        raise ValueError(f"the {points} largest lengths are all T={int(T[0])}; fit more points")
    fit = linregress(np.log(T), np.log(cost))
    stderr = float(fit.stderr) if points > 2 else math.nan
    return ExponentFit(float(fit.slope), stderr, float(fit.intercept), int(T[0]), int(T[-1]), int(points))


@contextmanager
def global_dtype_policy(name: str):
    """Keras' global dtype policy set to ``name`` inside a ``with`` block, the previous one restored after it.

    Layers take the global policy when they are created, so build the model inside the block.

    Args:
        name: a Keras dtype policy name: ``"float32"``, ``"mixed_bfloat16"``, ``"mixed_float16"`` ...

    Yields:
        The policy now in force (a ``keras.DTypePolicy``).

    Raises:
        ValueError: ``name`` is not a dtype policy Keras knows.

    Example:
        ::

            with global_dtype_policy("mixed_bfloat16"):
                model = build_classifier(data, units=16)
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield keras.config.dtype_policy()
    finally:
        keras.config.set_dtype_policy(previous)
