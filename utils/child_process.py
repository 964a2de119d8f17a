"""Run course functions in a fresh Python process with N logical CPU devices, and hand their results back.

Why a fresh process: JAX fixes its device count when it starts (``XLA_FLAGS=--xla_force_host_platform_device_count=N``
is read once), and TensorFlow fixes its logical devices when it first lists them. A notebook kernel or a test worker
has long since started both, so lesson 10c's data-parallel runs happen in child processes, which hand their results
back through a temporary folder (arrays as ``.npz``, the rest as JSON). Everything is local: no network beyond the
``localhost`` port of a multi-process job (:func:`launch_job`; ``python -m tools.launch_job`` on the command line).

The children are CPU demonstrations: they see the CPU only, also on a machine with a GPU (``JAX_PLATFORMS=cpu``;
TensorFlow's GPUs are hidden before it starts), so that their device counts and weights are the CPU's.

Run in a child: :func:`run_isolated` (or :class:`IsolatedRun`, which does not wait); in N children as one Keras job:
:func:`launch_job` (or :class:`Job`). What the children of lesson 10c run is in :mod:`utils.distributed`.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import numbers
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .runtime import BACKEND_ENV, BACKENDS, choose_backend, enable_compilation_cache, filter_known_noise
from .validators import whole_number

ROOT = Path(__file__).resolve().parents[1]
DEVICE_FLAG = "--xla_force_host_platform_device_count"
LOGICAL_DEVICES_ENV = "COURSE_LOGICAL_DEVICES"   # TensorFlow: the child splits its CPU into this many devices
STDERR_TAIL = 25   # lines of a failed child's stderr shown in the error


class WorkerFailed(RuntimeError):
    """A child process failed or hung; the message holds the end of its error output."""


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
    ``JAX_PLATFORMS=cpu`` keeps JAX on the CPU, also where a GPU exists (there ``keras.distribution.list_devices()``
    would list the GPUs, not the N CPU devices); the TensorFlow child hides its GPUs itself. Progress bars are off
    and the repository is on ``PYTHONPATH``.

    Args:
        devices: logical devices in the child, >= 1.
        backend: ``"jax"`` or ``"tensorflow"``.
        extra: more variables to set (e.g. ``KERAS_DISTRIBUTION_PROCESS_ID``).

    Returns:
        The environment, a new dict.

    Raises:
        ValueError: ``devices`` below 1 or not whole, or an unknown backend.
    """
    from .training import PROGRESS_ENV  # here, not at the top: utils.training imports pandas and scikit-learn

    devices = whole_number("devices", devices)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    env = dict(os.environ)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith(DEVICE_FLAG)]
    env["XLA_FLAGS"] = " ".join(flags + ([f"{DEVICE_FLAG}={devices}"] if backend == "jax" else []))
    env["JAX_PLATFORMS"] = "cpu"
    env[LOGICAL_DEVICES_ENV] = str(devices)
    env["KERAS_BACKEND"] = backend
    env[BACKEND_ENV] = backend   # the child's choose_backend reads it
    env[PROGRESS_ENV] = "0"
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
    return [sys.executable, "-m", "utils.child_process", "--calls", text, "--out", str(out)]


def save_result(result: dict, folder: Path | str) -> None:
    """Write a result dict: NumPy arrays (and lists of them, as ``name.0``, ``name.1``...) to ``arrays.npz``, the
    rest to ``values.json``.

    Args:
        result: names to arrays, lists of arrays, or JSON-able values.
        folder: the folder to write into (created).

    Raises:
        ValueError: ``result`` is not a dict, has a key that is not a string or holds a ``"."`` (:func:`load_result`
            reads ``name.N`` as item N of a list), or holds a value that is neither an array nor JSON-able.
    """
    if not isinstance(result, dict):
        raise ValueError(f"a child's function must return a dict, got {type(result).__name__}")
    bad = [key for key in result if not isinstance(key, str) or "." in key]
    if bad:
        raise ValueError(f"a result's keys must be strings without '.' (load_result reads 'name.N' as item N of a "
                         f"list), got {bad}; rename them, e.g. with '_' in place of '.'")
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


def _check_timeout(timeout) -> float:
    """``timeout`` as a float; a ValueError unless it is a number of seconds > 0."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}; give e.g. timeout=300")
    return float(timeout)


class _ChildGroup:
    """Children started together, whose results are read once: what :class:`IsolatedRun` and :class:`Job` share.

    Reading the results (``result`` or ``results``) waits for the children, then stops any still running and
    deletes the temporary folder, whatever happens; so does leaving a ``with`` block, and :meth:`close`. The
    results are kept, so a second read returns the same ones.

    Args:
        out: the folder for the children's logs and results; None: a temporary one, deleted at the end.
        prefix: the temporary folder's name prefix.
    """

    def __init__(self, out: Path | str | None, prefix: str):
        self._temporary = tempfile.TemporaryDirectory(prefix=prefix) if out is None else None
        self.out = Path(out if out is not None else self._temporary.name)
        self.children: list[Child] = []
        self._results: list[dict] | None = None
        self._closed = False

    def _start(self, plans: list[tuple[list[str], dict, Path, str]]) -> None:
        """Start one child per ``(command, env, folder, label)``; if one cannot start, stop those already started."""
        try:
            for command, env, folder, label in plans:
                self.children.append(Child(command, env, folder, label))
        except BaseException:
            self.close()
            raise

    def _collect(self, timeout: float, folders: list[Path]) -> list[dict]:
        """Wait for the children, read one result per folder, then :meth:`close`; later calls return the same."""
        if self._results is not None:
            return self._results
        if self._closed:
            raise ValueError("these children were stopped before they handed back their results (the first error "
                             "says why, or their with block had ended); start them again")
        try:
            wait_for(self.children, _check_timeout(timeout))
            self._results = [load_result(folder) for folder in folders]
            return self._results
        finally:
            self.close()

    def close(self) -> None:
        """Stop every child that still runs and delete the temporary folder (a folder given as ``out`` stays)."""
        self._closed = True
        for child in self.children:
            child.stop()
        if self._temporary is not None:
            self._temporary.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class IsolatedRun(_ChildGroup):
    """Functions running in a fresh child process with logical devices: :func:`run_isolated` without waiting,
    so that several children can run side by side (lesson 10c starts its TensorFlow child beside a job).

    Use it in a ``with`` block, or call :meth:`result`: either stops the child and deletes its folder at the end.

    Args:
        calls: ``(function, kwargs)`` pairs, run in order in the same child; or one function (no arguments).
        devices: logical devices (``--xla_force_host_platform_device_count`` on JAX, logical CPU devices on
            TensorFlow).
        backend: the child's Keras backend, ``"jax"`` or ``"tensorflow"``.

    Raises:
        ValueError: bad ``calls``, ``devices`` or ``backend`` (found before the child starts).
    """

    def __init__(self, calls, devices: int = 2, backend: str = "jax"):
        self.calls = [(calls, {})] if callable(calls) or isinstance(calls, str) else list(calls)
        if not self.calls:
            raise ValueError("give at least one (function, kwargs) pair to run")
        env = child_environment(devices, backend)
        super().__init__(None, "course-child-")
        command = child_command(self.calls, self.out)
        self._start([(command, env, self.out, f"the child process ({backend}, {devices} devices)")])
        self.child = self.children[0]

    def result(self, timeout: float = 300.0) -> list[dict]:
        """Wait for the child and return one result dict per call; the temporary folder is then deleted. A second
        call returns the same results.

        Args:
            timeout: seconds to wait.

        Returns:
            The results, in the order of the calls.

        Raises:
            ValueError: ``timeout`` is not a number > 0 (the child is stopped), or the child was stopped before it
                handed back its results (an earlier error, or its ``with`` block had ended).
            WorkerFailed: the child failed or ran out of time.
        """
        return self._collect(timeout, [self.child.folder / f"call_{i}" for i in range(len(self.calls))])


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
        ValueError: bad ``calls``, ``devices``, ``backend`` or ``timeout`` (found before the child starts).
        WorkerFailed: the child failed or ran out of time; the message ends with its last error lines.

    Example:
        ::

            [dp] = run_isolated([("utils.distributed:train_steps", {"mode": "data_parallel"})], devices=2)
    """
    timeout = _check_timeout(timeout)
    with IsolatedRun(calls, devices, backend) as run:
        return run.result(timeout)


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now (the operating system picks it).

    Returns:
        The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def job_environment(port: int, processes: int, process_id: int) -> dict[str, str]:
    """The variables that place one process in the job, as ``keras.distribution.initialize()`` reads them.

    Args:
        port: the coordinator's port on localhost.
        processes: the processes in the job.
        process_id: this process, ``0..processes - 1`` (0 is the coordinator).

    Returns:
        ``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and
        ``KERAS_DISTRIBUTION_PROCESS_ID``.

    Raises:
        ValueError: fewer than 1 process, or a process id out of range.
    """
    if processes < 1 or not 0 <= process_id < processes:
        raise ValueError(f"need processes >= 1 and 0 <= process_id < processes, got {processes} and {process_id}")
    return {"KERAS_DISTRIBUTION_JOB_ADDRESSES": f"localhost:{port}", "KERAS_DISTRIBUTION_NUM_PROCESSES": str(processes),
            "KERAS_DISTRIBUTION_PROCESS_ID": str(process_id)}


class Job(_ChildGroup):
    """``processes`` child processes on localhost, started as one job: :func:`launch_job` without waiting.

    Use it in a ``with`` block, or call :meth:`results`: either stops the processes and deletes a temporary
    folder at the end.

    Args:
        function: ``"module:name"`` or a module-level function; each process calls it with ``kwargs``.
        kwargs: its keyword arguments (JSON-able).
        processes: how many processes, >= 2.
        out: a folder for each process's logs and result (``process_0``, ...); None: a temporary one.

    Raises:
        ValueError: fewer than 2 processes, or a function or arguments a child cannot take (found before any
            process starts).
    """

    def __init__(self, function, kwargs: dict | None = None, processes: int = 2, out: Path | str | None = None):
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 2:
            raise ValueError(f"a job needs processes >= 2 (one process needs no launcher), got {processes!r}")
        super().__init__(out, "course-job-")
        self.port = free_port()
        folders = [self.out / f"process_{process_id}" for process_id in range(processes)]
        self._start([(child_command([(function, kwargs or {})], folder),
                      child_environment(1, "jax", job_environment(self.port, processes, process_id)), folder,
                      f"process {process_id} of {processes}") for process_id, folder in enumerate(folders)])

    def results(self, timeout: float = 300.0) -> list[dict]:
        """Wait for every process and return each one's result, in process order. A second call returns the same
        results.

        Args:
            timeout: seconds to wait for the whole job.

        Returns:
            One result dict per process.

        Raises:
            ValueError: ``timeout`` is not a number > 0 (the processes are stopped), or the job was stopped before
                it handed back its results (an earlier error, or its ``with`` block had ended).
            WorkerFailed: a process failed (the others were stopped) or the job ran out of time (all stopped).
        """
        return self._collect(timeout, [child.folder / "call_0" for child in self.children])


def launch_job(function, kwargs: dict | None = None, processes: int = 2, timeout: float = 300.0,
               out: Path | str | None = None) -> list[dict]:
    """Run ``function(**kwargs)`` in ``processes`` processes on localhost as one Keras job; collect the results.

    Each process learns its place in the job from three environment variables (:func:`job_environment`), which
    ``keras.distribution.initialize()`` reads: ``KERAS_DISTRIBUTION_JOB_ADDRESSES=localhost:PORT`` (the
    coordinator, process 0, on a :func:`free_port`), ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and
    ``KERAS_DISTRIBUTION_PROCESS_ID``. Every process gets one CPU device (:func:`child_environment`). If one process
    fails, the others are stopped (they would wait for it forever); if the job outlives ``timeout``, all are.

    Args:
        function: ``"module:name"`` or a module-level function.
        kwargs: its keyword arguments (JSON-able).
        processes: how many processes, >= 2.
        timeout: seconds for the whole job.
        out: a folder to keep each process's logs and result in; None: a temporary one, deleted.

    Returns:
        One result dict per process, in process order.

    Raises:
        ValueError: bad arguments (found before any process starts).
        WorkerFailed: a process failed or the job ran out of time; the message ends with its last error lines.

    Example:
        ::

            first, second = launch_job("utils.distributed:train_steps", {"mode": "job"}, processes=2)
    """
    timeout = _check_timeout(timeout)
    with Job(function, kwargs, processes, out) as job:
        return job.results(timeout)


def _tensorflow_cpus(devices: int) -> None:
    """TensorFlow: hide the GPUs (if any) and split the CPU into ``devices`` logical devices, before anything lists
    the devices."""
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")
    if devices > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)


def _child_main(argv=None) -> int:
    """A child's entry point: ``python -m utils.child_process --calls JSON --out FOLDER``."""
    parser = argparse.ArgumentParser(description="Run course functions in this process; save their results.")
    parser.add_argument("--calls", required=True, help='JSON list of ["module:function", {kwargs}] pairs')
    parser.add_argument("--out", required=True, help="folder for the results (call_0, call_1, ...)")
    args = parser.parse_args(argv)
    # first, before anything imports Keras, JAX or TensorFlow: checks the backend and, in fast mode, sets the
    # compiler's settings (runtime.fast_compilation) as in the parent
    backend = choose_backend(os.environ[BACKEND_ENV])
    if backend == "tensorflow":
        _tensorflow_cpus(int(os.environ.get(LOGICAL_DEVICES_ENV, "1")))
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


if __name__ == "__main__":
    sys.exit(_child_main())
