"""Data-parallel plumbing for lesson 10c: run course code in a fresh Python process with N logical devices, and
the small training functions those processes run.

Why a fresh process: JAX fixes its device count when it starts (``XLA_FLAGS=--xla_force_host_platform_device_count=N``
is read once), and TensorFlow fixes its logical devices when it first lists them. A notebook kernel or a test worker
has long since started both, so the data-parallel runs happen in child processes, which hand their results back
through a temporary folder (arrays as ``.npz``, the rest as JSON). Everything is local: no network beyond the
``localhost`` port of a two-process job (``tools/launch_job.py``).

Run in a child: :func:`run_isolated` (one process, ``devices`` logical devices). Run there: :func:`train_steps` (a
few steps of a registry model on JapaneseVowels, on one device, ``DataParallel``, ``MirroredStrategy`` or a
multi-process job) and :func:`seed_runs` (a whole training per seed, with or without ``DataParallel``, turned back
into a :class:`~utils.training.SeedComparison` by :func:`comparison_from_result`).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .runtime import BACKENDS, filter_known_noise

ROOT = Path(__file__).resolve().parents[1]
DEVICE_FLAG = "--xla_force_host_platform_device_count"
LOGICAL_DEVICES_ENV = "COURSE_LOGICAL_DEVICES"   # TensorFlow: the child splits its CPU into this many devices
DEFAULT_MODEL = "10c JV average"
STDERR_TAIL = 25   # lines of a failed child's stderr shown in the error


class WorkerFailed(RuntimeError):
    """A child process failed or hung; the message holds the end of its error output."""


def _check_whole(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def function_path(function) -> str:
    """``"module:name"`` of a function a child process can import.

    Args:
        function: a module-level function, or already a ``"module:name"`` or ``"path/to/file.py:name"`` string.

    Returns:
        The ``"module:name"`` (or ``"file.py:name"``) string.

    Raises:
        ValueError: a lambda, a nested function or one defined in a notebook or script (``__main__``), which a
            child cannot import; or a string without ``":"``.
    """
    if isinstance(function, str):
        if ":" not in function:
            raise ValueError(f"give a function as 'module:name', got {function!r}")
        return function
    module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if module in (None, "__main__") or "<" in name or "." in name:
        raise ValueError(f"{name or function!r} cannot be imported by a child process: define it at the top level "
                         "of a module on the path (e.g. in utils/) and pass it or its 'module:name'")
    return f"{module}:{name}"


def child_environment(devices: int = 1, backend: str = "jax", extra: dict | None = None) -> dict[str, str]:
    """The environment of a child process: this one's, with ``devices`` logical CPU devices for ``backend``.

    On JAX it sets ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (other XLA flags kept); on TensorFlow
    ``COURSE_LOGICAL_DEVICES=N``, which the child turns into N logical CPU devices before TensorFlow starts.
    Progress bars are off and the repository is on ``PYTHONPATH``.

    Args:
        devices: logical devices in the child, >= 1.
        backend: ``"jax"`` or ``"tensorflow"``.
        extra: more variables to set (e.g. ``KERAS_DISTRIBUTION_PROCESS_ID``).

    Returns:
        The environment, a new dict.

    Raises:
        ValueError: ``devices`` below 1 or not whole, or an unknown backend.
    """
    devices = _check_whole("devices", devices)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    env = dict(os.environ)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith(DEVICE_FLAG)]
    env["XLA_FLAGS"] = " ".join(flags + ([f"{DEVICE_FLAG}={devices}"] if backend == "jax" else []))
    env[LOGICAL_DEVICES_ENV] = str(devices)
    env["KERAS_BACKEND"] = backend
    env["COURSE_BACKEND"] = backend
    env["COURSE_PROGRESS"] = "0"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH", "")])])
    env.update({key: str(value) for key, value in (extra or {}).items()})
    return env


def child_command(calls, out: Path | str) -> list[str]:
    """The command line of a child that runs ``calls`` and writes their results under ``out``.

    Args:
        calls: a list of ``(function, kwargs)`` pairs (see :func:`function_path`); kwargs must be JSON-able.
        out: the folder for the results.

    Returns:
        The argument list for ``subprocess``.

    Raises:
        ValueError: a function a child cannot import, or kwargs that are not JSON-able.
    """
    plan = [[function_path(function), dict(kwargs)] for function, kwargs in calls]
    try:
        text = json.dumps(plan)
    except TypeError as error:
        raise ValueError(f"the arguments of a child's call must be JSON-able (numbers, strings, lists): {error}") \
            from None
    return [sys.executable, "-m", "utils.distributed", "--calls", text, "--out", str(out)]


def save_result(result: dict, folder: Path | str) -> None:
    """Write a result dict: NumPy arrays (and lists of them, as ``name.0``, ``name.1``...) to ``arrays.npz``, the
    rest to ``values.json``.

    Args:
        result: names to arrays, lists of arrays, or JSON-able values.
        folder: the folder to write into (created).

    Raises:
        ValueError: ``result`` is not a dict, or holds a value that is neither an array nor JSON-able.
    """
    if not isinstance(result, dict):
        raise ValueError(f"a child's function must return a dict, got {type(result).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, values = {}, {}
    for key, value in result.items():
        if isinstance(value, np.ndarray):
            arrays[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
            arrays.update({f"{key}.{i}": v for i, v in enumerate(value)})
        else:
            values[key] = value
    np.savez(folder / "arrays.npz", **arrays)
    try:
        (folder / "values.json").write_text(json.dumps(values))
    except TypeError as error:
        raise ValueError(f"a result value is neither an array nor JSON-able: {error}") from None


def load_result(folder: Path | str) -> dict:
    """Read what :func:`save_result` wrote (``name.0``, ``name.1``... back into a list).

    Args:
        folder: the folder.

    Returns:
        The result dict.

    Raises:
        ValueError: the folder holds no result (the child ended before writing it).
    """
    folder = Path(folder)
    if not (folder / "values.json").exists():
        raise ValueError(f"no result in {folder.name}: the child process ended before writing it")
    result = json.loads((folder / "values.json").read_text())
    with np.load(folder / "arrays.npz") as arrays:
        for key in sorted(arrays.files, key=lambda k: (k.rsplit(".", 1)[0], int(k.rsplit(".", 1)[1])
                                                        if k.rsplit(".", 1)[-1].isdigit() else -1)):
            stem, _, index = key.rpartition(".")
            if stem and index.isdigit():
                result.setdefault(stem, []).append(arrays[key])
            else:
                result[key] = arrays[key]
    return result


def output_tail(text: str, lines: int = STDERR_TAIL) -> str:
    """The last ``lines`` lines of a child's output, without TensorFlow's known harmless log lines.

    Args:
        text: the output.
        lines: how many lines to keep.

    Returns:
        Those lines, indented, or ``"(no output)"``.
    """
    kept = [line for line in filter_known_noise(text or "").splitlines() if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in kept) or "    (no output)"


class Child:
    """One child process whose output goes to log files in its folder (no pipe to fill up and block it).

    Args:
        command: the argument list.
        env: its environment.
        folder: where its ``stdout.log`` and ``stderr.log`` go (and, by convention, its results).
        label: how errors name it, e.g. ``"process 1 of 2"``.
    """

    def __init__(self, command: list[str], env: dict, folder: Path | str, label: str = "the child process"):
        self.folder, self.label = Path(folder), label
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "stdout.log", "w") as out, open(self.folder / "stderr.log", "w") as err:
            self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=err,
                                            start_new_session=True)

    def poll(self) -> int | None:
        """The exit code, or None while it runs."""
        return self.process.poll()

    def stop(self) -> None:
        """Stop it (and anything it started), if it still runs."""
        if self.process.poll() is None:
            import signal

            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()

    def tail(self) -> str:
        """The end of its error output (:func:`output_tail`)."""
        path = self.folder / "stderr.log"
        return output_tail(path.read_text(errors="replace") if path.exists() else "")

    def failure(self, why: str) -> str:
        """An error message: who failed, why, and the end of its output."""
        return f"{self.label} {why}; its output ends:\n{self.tail()}"


def wait_for(children: list[Child], timeout: float) -> None:
    """Wait until every child has exited with code 0.

    Args:
        children: the running children.
        timeout: seconds to wait in all.

    Raises:
        WorkerFailed: a child exited with another code (the others are stopped: in a job they would wait for it
            forever), or the time ran out (all are stopped). The message ends with the failed child's last lines.
    """
    deadline = time.monotonic() + timeout
    try:
        while True:
            codes = [child.poll() for child in children]
            failed = [(child, code) for child, code in zip(children, codes) if code not in (None, 0)]
            if failed:
                child, code = failed[0]
                raise WorkerFailed(child.failure(f"failed with exit code {code}"))
            if all(code == 0 for code in codes):
                return
            if time.monotonic() > deadline:
                late = [child for child, code in zip(children, codes) if code is None]
                raise WorkerFailed("\n".join(child.failure(f"did not finish in {timeout:g} s and was stopped")
                                             for child in late))
            time.sleep(0.1)
    finally:
        for child in children:
            child.stop()


class IsolatedRun:
    """Functions running in a fresh child process with logical devices: :func:`run_isolated` without waiting,
    so that several children can run side by side (the tests start theirs together).

    Args:
        calls: ``(function, kwargs)`` pairs, run in order in the same child; or one function (no arguments).
        devices: logical devices (``--xla_force_host_platform_device_count`` on JAX, logical CPU devices on
            TensorFlow).
        backend: the child's Keras backend, ``"jax"`` or ``"tensorflow"``.

    Raises:
        ValueError: bad ``calls``, ``devices`` or ``backend``.
    """

    def __init__(self, calls, devices: int = 2, backend: str = "jax"):
        self.calls = [(calls, {})] if callable(calls) or isinstance(calls, str) else list(calls)
        if not self.calls:
            raise ValueError("give at least one (function, kwargs) pair to run")
        env = child_environment(devices, backend)
        self._folder = tempfile.TemporaryDirectory(prefix="course-child-")
        self.child = Child(child_command(self.calls, self._folder.name), env, self._folder.name,
                           f"the child process ({backend}, {devices} devices)")

    def result(self, timeout: float = 300.0) -> list[dict]:
        """Wait for the child and return one result dict per call; the temporary folder is then deleted.

        Args:
            timeout: seconds to wait.

        Returns:
            The results, in the order of the calls.

        Raises:
            ValueError: ``timeout`` is not > 0.
            WorkerFailed: the child failed or ran out of time.
        """
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        try:
            wait_for([self.child], timeout)
            return [load_result(self.child.folder / f"call_{i}") for i in range(len(self.calls))]
        finally:
            self._folder.cleanup()


def run_isolated(calls, devices: int = 2, backend: str = "jax", timeout: float = 300.0) -> list[dict]:
    """Run functions in one fresh Python process with ``devices`` logical CPU devices, and return their results.

    The child imports each function, calls it with its keyword arguments, and saves the dict it returns
    (:func:`save_result`) in a temporary folder, deleted afterwards.

    Args:
        calls: ``(function, kwargs)`` pairs, run in order in the same child; or one function (no arguments).
        devices: logical devices (``--xla_force_host_platform_device_count`` on JAX, logical CPU devices on
            TensorFlow).
        backend: the child's Keras backend, ``"jax"`` or ``"tensorflow"``.
        timeout: seconds before the child is stopped.

    Returns:
        One result dict per call.

    Raises:
        ValueError: bad ``calls``, ``devices``, ``backend`` or ``timeout``.
        WorkerFailed: the child failed or ran out of time; the message ends with its last error lines.

    Example:
        ::

            [dp] = run_isolated([(train_steps, {"mode": "data_parallel"})], devices=2)
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    return IsolatedRun(calls, devices, backend).result(timeout)


def _split_logical_cpus(devices: int) -> None:
    """TensorFlow: split the CPU into ``devices`` logical devices (before anything lists the devices)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)


def _child_main(argv=None) -> int:
    """A child's entry point: ``python -m utils.distributed --calls JSON --out FOLDER``."""
    parser = argparse.ArgumentParser(description="Run course functions in this process; save their results.")
    parser.add_argument("--calls", required=True, help='JSON list of ["module:function", {kwargs}] pairs')
    parser.add_argument("--out", required=True, help="folder for the results (call_0, call_1, ...)")
    args = parser.parse_args(argv)
    devices = int(os.environ.get(LOGICAL_DEVICES_ENV, "1"))
    if os.environ.get("KERAS_BACKEND") == "tensorflow" and devices > 1:
        _split_logical_cpus(devices)
    from .runtime import enable_compilation_cache

    enable_compilation_cache()
    for i, (path, kwargs) in enumerate(json.loads(args.calls)):
        save_result(_import_function(path)(**kwargs), Path(args.out) / f"call_{i}")
    return 0


def _import_function(path: str):
    """The function named by ``"module:name"`` or ``"path/to/file.py:name"``."""
    module, _, name = path.rpartition(":")
    if module.endswith(".py"):
        spec = importlib.util.spec_from_file_location(Path(module).stem, module)
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        return getattr(loaded, name)
    return getattr(importlib.import_module(module), name)


# ---- what the children run ------------------------------------------------------------------------------------

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
        ``weights`` (this process's copy of every weight, a list of arrays), ``seconds`` (the ``fit``), ``devices``
        (all devices in the job), ``processes`` and ``process_id``.

    Raises:
        ValueError: an unknown mode, more steps than the training split holds, or sizes that do not split evenly.
    """
    import keras

    from .data import load_japanese_vowels
    from .registry import MODELS
    from .runtime import set_seed

    if mode == "job":
        keras.distribution.initialize()
    jv = load_japanese_vowels()
    steps, batch_size = _check_whole("steps", steps), _check_whole("batch_size", batch_size)
    n = steps * batch_size
    if n > len(jv.train):
        raise ValueError(f"{steps} steps of {batch_size} need {n} sequences; the training split holds {len(jv.train)}")
    distribution = make_distribution(mode)
    processes, process_id = _job_position(distribution)
    rows = process_rows(n, batch_size, process_id, processes)
    scope = distribution.scope() if distribution is not None else _null_scope()
    keras.backend.clear_session()
    with scope:
        set_seed(seed)
        net = MODELS[model].build(jv)
        net.compile(optimizer=keras.optimizers.Adam(MODELS[model].training_recipe().learning_rate),
                    loss="sparse_categorical_crossentropy")
        start = time.perf_counter()
        net.fit(jv.train.X[rows], jv.train.y[rows], batch_size=batch_size // processes, epochs=1, shuffle=False,
                verbose=0)
        seconds = time.perf_counter() - start
    return {"weights": [_local_copy(w) for w in net.weights], "seconds": seconds,
            "devices": _device_count(distribution), "processes": processes, "process_id": process_id}


def _null_scope():
    import contextlib

    return contextlib.nullcontext()


def _job_position(distribution) -> tuple[int, int]:
    """(processes in the job, this process's id): (1, 0) outside a multi-process Keras distribution."""
    if distribution is None or not hasattr(distribution, "num_processes"):
        return 1, 0
    import jax

    return int(jax.process_count()), int(jax.process_index())


def _device_count(distribution) -> int:
    if distribution is None:
        return 1
    from .training import replica_count

    return replica_count(distribution)


def _local_copy(variable) -> np.ndarray:
    """This process's copy of a (replicated) variable as a NumPy array."""
    value = variable.value
    if hasattr(value, "addressable_data"):   # a JAX array, possibly spread over several processes
        return np.asarray(value.addressable_data(0))
    return np.asarray(variable.numpy())


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

    distribution = None
    if distributed:
        distribution = make_distribution("data_parallel" if keras.backend.backend() == "jax" else "mirrored")
    runs = MODELS[model].train(load_japanese_vowels(), list(seeds), distribution=distribution)
    return {"seeds": runs.seeds, "y_pred": np.stack([r.y_pred for r in runs.runs]),
            "train_accuracy": [r.train_accuracy for r in runs.runs], "seconds": [r.seconds for r in runs.runs],
            "params": runs.runs[0].n_params, "devices": _device_count(distribution)}


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


if __name__ == "__main__":
    sys.exit(_child_main())
