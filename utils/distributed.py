"""What lesson 10c's child processes train: a few steps or a whole multi-seed training of a registry model on
JapaneseVowels, on one device or data-parallel, and the comparisons of their results.

The children themselves are started by :mod:`utils.child_process`: :func:`~utils.child_process.run_isolated` (one
process with N logical devices) and :func:`~utils.child_process.launch_job` (N processes as one job). Run there:
:func:`train_steps` (a few steps on one device, under ``DataParallel``, ``MirroredStrategy`` or in a multi-process
job) and :func:`seed_runs` (a whole training per seed, with or without ``DataParallel``, turned back into a
:class:`~utils.training.SeedComparison` by :func:`comparison_from_result`).
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

from .validators import whole_number

DEFAULT_MODEL = "10c JV average"

MODES = ("single", "data_parallel", "mirrored", "job")


def make_distribution(mode: str):
    """The distribution for a mode of :func:`train_steps`.

    Args:
        mode: ``"single"`` (None), ``"data_parallel"`` (``keras.distribution.DataParallel`` over this process's
            devices, JAX), ``"mirrored"`` (``tf.distribute.MirroredStrategy`` over the logical CPUs, TensorFlow) or
            ``"job"`` (``DataParallel`` over every device of a multi-process job, each process feeding its own
            part of every batch: ``auto_shard_dataset=False``).

    Returns:
        The distribution, or None for ``"single"``.

    Raises:
        ValueError: an unknown mode.
    """
    import keras

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "single":
        return None
    if mode == "mirrored":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    return keras.distribution.DataParallel(devices=keras.distribution.list_devices(),
                                           auto_shard_dataset=mode != "job")


def process_rows(n: int, batch_size: int, process_id: int, processes: int) -> np.ndarray:
    """The rows one process of a job feeds: its slice of every global batch, in order.

    A global batch of ``batch_size`` rows is split into ``processes`` equal, consecutive slices; process ``p``
    feeds slice ``p`` of every batch, so the job as a whole trains on exactly the single process's batches.

    Args:
        n: the sequences in an epoch (a multiple of ``batch_size``).
        batch_size: the global batch size (a multiple of ``processes``).
        process_id: this process, ``0..processes - 1``.
        processes: the processes in the job.

    Returns:
        ``n // processes`` row indices.

    Raises:
        ValueError: sizes that do not divide evenly, or a process id out of range.
    """
    if batch_size % processes or n % batch_size:
        raise ValueError(f"{processes} processes cannot split batches of {batch_size} of {n} rows evenly; choose a "
                         f"batch size that is a multiple of {processes} and divides the row count")
    if not 0 <= process_id < processes:
        raise ValueError(f"process_id must lie in 0..{processes - 1}, got {process_id}")
    share = batch_size // processes
    return np.concatenate([np.arange(start + process_id * share, start + (process_id + 1) * share)
                           for start in range(0, n, batch_size)])


def train_steps(mode: str = "single", steps: int = 4, batch_size: int = 64, seed: int = 0,
                model: str = DEFAULT_MODEL) -> dict:
    """Build a registry model on JapaneseVowels under ``mode``'s distribution and train it ``steps`` steps.

    The steps read the first ``steps * batch_size`` training sequences in order (no shuffling), so every mode
    trains on the same global batches from the same seed. In a ``"job"``, the process first joins the job
    (``keras.distribution.initialize()`` reads ``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``..._NUM_PROCESSES`` and
    ``..._PROCESS_ID``) and feeds its own slice of every batch (:func:`process_rows`).

    Args:
        mode: one of :data:`MODES` (see :func:`make_distribution`).
        steps: training steps (one batch each).
        batch_size: the global batch size.
        seed: the seed of the initial weights.
        model: a registry model's name.

    Returns:
        ``weights`` (this process's copy of every weight after the steps, a list of arrays), ``initial`` (the
        same before them), ``seconds`` (the ``fit``), ``devices`` (all devices in the job), ``processes`` and
        ``process_id``.

    Raises:
        ValueError: an unknown mode, a mode of the other backend (``"data_parallel"`` and ``"job"`` need JAX,
            ``"mirrored"`` TensorFlow; raised before any training), more steps than the training split holds,
            or sizes that do not split evenly.
    """
    import keras

    from .data import load_japanese_vowels
    from .registry import MODELS
    from .runtime import set_seed
    from .training import replica_count

    if mode == "job":
        keras.distribution.initialize()
    jv = load_japanese_vowels()
    steps, batch_size = whole_number("steps", steps), whole_number("batch_size", batch_size)
    n = steps * batch_size
    if n > len(jv.train):
        raise ValueError(f"{steps} steps of {batch_size} need {n} sequences; the training split holds {len(jv.train)}")
    distribution = make_distribution(mode)
    devices = 1 if distribution is None else replica_count(distribution)   # a backend mismatch fails here, not after
    processes, process_id = _job_position(distribution)
    rows = process_rows(n, batch_size, process_id, processes)
    scope = distribution.scope() if distribution is not None else contextlib.nullcontext()
    keras.backend.clear_session()
    with scope:
        set_seed(seed)
        net = MODELS[model].build(jv)
        net.compile(optimizer=keras.optimizers.Adam(MODELS[model].training_recipe().learning_rate),
                    loss="sparse_categorical_crossentropy")
        initial = [_local_copy(w) for w in net.weights]
        start = time.perf_counter()
        net.fit(jv.train.X[rows], jv.train.y[rows], batch_size=batch_size // processes, epochs=1, shuffle=False,
                verbose=0)
        seconds = time.perf_counter() - start
    return {"weights": [_local_copy(w) for w in net.weights], "initial": initial, "seconds": seconds,
            "devices": devices, "processes": processes, "process_id": process_id}


def _job_position(distribution) -> tuple[int, int]:
    """(processes in the job, this process's id): (1, 0) outside a multi-process Keras distribution. JAX's own
    count, which ``keras.distribution.initialize`` set up (Colab's Keras 3.13 has no ``num_processes`` on a
    distribution)."""
    import keras

    if distribution is None or keras.backend.backend() != "jax":
        return 1, 0
    import jax

    return int(jax.process_count()), int(jax.process_index())


def _local_copy(variable) -> np.ndarray:
    """This process's copy of a (replicated) variable as a new NumPy array (no view of a buffer training may reuse)."""
    value = variable.value
    if hasattr(value, "addressable_data"):   # a JAX array, possibly spread over several processes
        return np.array(value.addressable_data(0))
    return np.array(variable.numpy())


def seed_runs(distributed: bool = False, seeds=(0, 1), model: str = DEFAULT_MODEL) -> dict:
    """Train a registry model on JapaneseVowels with its recipe, once per seed, with
    :func:`utils.training.run_seeds`, on one device or data-parallel over every device of this process.

    Args:
        distributed: False for one device; True for ``keras.distribution.DataParallel`` (JAX) or
            ``tf.distribute.MirroredStrategy`` (TensorFlow) over this process's devices.
        seeds: at least 2 distinct seeds.
        model: a registry model's name.

    Returns:
        ``seeds``, ``y_pred`` (seeds, test items), ``train_accuracy``, ``seconds`` (each seed's ``fit``),
        ``params`` and ``devices``: what :func:`comparison_from_result` needs.

    Raises:
        ValueError: what ``run_seeds`` raises.
    """
    import keras

    from .data import load_japanese_vowels
    from .registry import MODELS
    from .training import replica_count

    distribution = None
    if distributed:
        distribution = make_distribution("data_parallel" if keras.backend.backend() == "jax" else "mirrored")
    devices = 1 if distribution is None else replica_count(distribution)   # a backend mismatch fails before training
    runs = MODELS[model].train(load_japanese_vowels(), list(seeds), distribution=distribution)
    return {"seeds": runs.seeds, "y_pred": np.stack([r.y_pred for r in runs.runs]),
            "train_accuracy": [r.train_accuracy for r in runs.runs], "seconds": [r.seconds for r in runs.runs],
            "params": runs.runs[0].n_params, "devices": devices}


def comparison_from_result(name: str, result: dict, data):
    """A :class:`~utils.training.SeedComparison` from what :func:`seed_runs` returned in a child process.

    Args:
        name: the name in tables and verdicts.
        result: :func:`seed_runs`' dict.
        data: the :class:`~utils.data.Dataset` the child trained on (its test split scores the predictions).

    Returns:
        The comparison, scored on ``data.test``, ready for :func:`utils.stats.compare_paired`.

    Raises:
        ValueError: the predictions do not fit ``data.test``.
    """
    from .training import RunResult, SeedComparison, score

    y_pred = np.asarray(result["y_pred"])
    if y_pred.ndim != 2 or y_pred.shape[1] != len(data.test):
        raise ValueError(f"predictions of shape {y_pred.shape} do not fit a test split of {len(data.test)} items")
    runs = [RunResult(int(seed), score(data.test, pred.astype(np.int32), data.n_classes), float(train), {}, pred,
                      float(seconds), int(result["params"]))
            for seed, pred, train, seconds in zip(result["seeds"], y_pred, result["train_accuracy"],
                                                  result["seconds"])]
    return SeedComparison.scored_on(name, runs, data.test)


def max_weight_difference(a, b) -> float:
    """The largest absolute difference between two lists of weights of the same model.

    Args:
        a: a list of arrays.
        b: a list of arrays of the same shapes.

    Returns:
        The maximum absolute difference over every weight.

    Raises:
        ValueError: the lists differ in length or in a weight's shape.
    """
    if len(a) != len(b) or any(np.shape(x) != np.shape(y) for x, y in zip(a, b)):
        raise ValueError("the two weight lists come from different models (lengths or shapes differ)")
    return float(max(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))) for x, y in zip(a, b)))
