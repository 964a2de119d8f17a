"""Start N processes on this machine as one Keras training job (lesson 10c), wait for them, collect their results.

Usage (from the repository root):

    python -m tools.launch_job --processes 2 --timeout 300 utils.distributed:train_steps '{"mode": "job"}'

Each process runs the function (``module:name``) with the JSON keyword arguments, and learns its place in the job
from three environment variables, which ``keras.distribution.initialize()`` reads:

    KERAS_DISTRIBUTION_JOB_ADDRESSES=localhost:PORT   the coordinator (process 0) on a free port
    KERAS_DISTRIBUTION_NUM_PROCESSES=N
    KERAS_DISTRIBUTION_PROCESS_ID=0 ... N-1

On a cluster, the same variables are set on each host by its scheduler, with the coordinator's address in place of
``localhost`` (Keras' distribution guide, "Distributed training with Keras 3"). Here every process gets one CPU
device, also on a machine with a GPU (``utils.child_process.child_environment`` sets ``JAX_PLATFORMS=cpu``), and
JAX's CPU collectives (gloo) connect them. If one process fails, the others are stopped (they would wait
for it forever); if the job outlives ``--timeout``, all are stopped. Either way the error shows the end of the
failed process's output. Each process's logs and results stay in ``--out`` (default: a temporary folder, deleted).
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
from pathlib import Path

from utils.child_process import Child, WorkerFailed, child_command, child_environment, load_result, wait_for


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


class Job:
    """``processes`` child processes on localhost, started as one job (see the module's docstring).

    Args:
        function: ``"module:name"`` or a module-level function; each process calls it with ``kwargs``.
        kwargs: its keyword arguments (JSON-able).
        processes: how many processes, >= 2.
        out: a folder for each process's logs and result (``process_0``, ...); None: a temporary one.

    Raises:
        ValueError: fewer than 2 processes, or a function or arguments a child cannot take.
    """

    def __init__(self, function, kwargs: dict | None = None, processes: int = 2, out: Path | str | None = None):
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 2:
            raise ValueError(f"a job needs processes >= 2 (one process needs no launcher), got {processes!r}")
        self._temporary = tempfile.TemporaryDirectory(prefix="course-job-") if out is None else None
        self.out = Path(out if out is not None else self._temporary.name)
        self.port = free_port()
        self.children = []
        for process_id in range(processes):
            folder = self.out / f"process_{process_id}"
            command = child_command([(function, kwargs or {})], folder)
            env = child_environment(1, "jax", job_environment(self.port, processes, process_id))
            self.children.append(Child(command, env, folder, f"process {process_id} of {processes}"))

    def results(self, timeout: float = 300.0) -> list[dict]:
        """Wait for every process and return each one's result, in process order.

        Args:
            timeout: seconds to wait for the whole job.

        Returns:
            One result dict per process.

        Raises:
            ValueError: ``timeout`` is not > 0.
            WorkerFailed: a process failed (the others were stopped) or the job ran out of time (all stopped).
        """
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        try:
            wait_for(self.children, timeout)
            return [load_result(child.folder / "call_0") for child in self.children]
        finally:
            if self._temporary is not None:
                self._temporary.cleanup()


def launch_job(function, kwargs: dict | None = None, processes: int = 2, timeout: float = 300.0,
               out: Path | str | None = None) -> list[dict]:
    """Run ``function(**kwargs)`` in ``processes`` processes on localhost as one job and collect the results.

    Args:
        function: ``"module:name"`` or a module-level function.
        kwargs: its keyword arguments (JSON-able).
        processes: how many processes, >= 2.
        timeout: seconds for the whole job.
        out: a folder to keep each process's logs and result in; None: a temporary one, deleted.

    Returns:
        One result dict per process, in process order.

    Raises:
        ValueError: bad arguments.
        WorkerFailed: a process failed or the job ran out of time.

    Example:
        ::

            first, second = launch_job("utils.distributed:train_steps", {"mode": "job"}, processes=2)
    """
    return Job(function, kwargs, processes, out).results(timeout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", help="the function each process runs, as module:name")
    parser.add_argument("kwargs", nargs="?", default="{}", help="its keyword arguments as a JSON object")
    parser.add_argument("--processes", type=int, default=2, help="processes in the job (default 2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before the job is stopped")
    parser.add_argument("--out", help="keep each process's logs and result in this folder")
    args = parser.parse_args(argv)
    try:
        kwargs = json.loads(args.kwargs)
        if not isinstance(kwargs, dict):
            raise ValueError(f"kwargs must be a JSON object, got {args.kwargs!r}")
        results = launch_job(args.function, kwargs, args.processes, args.timeout, args.out)
    except (ValueError, WorkerFailed) as error:
        print(f"launch_job: {error}", file=sys.stderr)
        return 1
    for process_id, result in enumerate(results):
        shown = {key: value for key, value in result.items() if not isinstance(value, list) or len(value) < 5}
        print(f"process {process_id}: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
