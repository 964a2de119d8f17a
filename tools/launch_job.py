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

This is the command line of ``utils.child_process.launch_job``, which a notebook or a test calls directly.
"""
from __future__ import annotations

import argparse
import json
import sys

from utils.child_process import WorkerFailed, launch_job


def main(argv=None) -> int:
    """Run the job the command line describes and print each process's result.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0, or 1 after printing the error (bad arguments, a failed process or the timeout).
    """
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
