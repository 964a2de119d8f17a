import importlib
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]   # on sys.path: pyproject.toml sets pytest's pythonpath
# Plain `pytest` runs the notebooks in fast mode too (nbval's kernels inherit this environment);
# `COURSE_FAST=0 pytest` runs them in full.
os.environ.setdefault("COURSE_FAST", "1")
from utils.runtime import enable_compilation_cache, fast_compilation, is_fast  # noqa: E402 - imports no Keras

if is_fast():
    fast_compilation()   # as the notebooks' fast mode does: the tests compile far more than they compute
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs 2 workers on a 2-core machine: one thread each (and in each notebook kernel, which inherits
    # this environment), so that the workers' thread pools do not fight over the cores. Set before TensorFlow or JAX
    # starts; an explicit setting in the environment wins.
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(name, "1")
    if "xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
# As the notebooks' setup cell does on JAX: a model configuration compiled once (by any test, worker or notebook
# kernel) is loaded from disk afterwards. `make test` points COURSE_CACHE_DIR at a folder of its own.
enable_compilation_cache()


@pytest.fixture(autouse=True)
def _seed_zero():
    """Every test starts from seed 0 (Python, NumPy, Keras). Unseeded, a model's initial weights would depend on the
    tests that ran before it in the same worker, and which those are changes with the machine's timing (pytest-xdist
    hands a file to whichever worker is free)."""
    from utils.runtime import set_seed

    set_seed(0)


@pytest.fixture(scope="module")
def solutions(request):
    """The solutions file of the lesson a test module is named after (test_lessonNN_exercises.py)."""
    lesson = re.search(r"lesson\d\d", request.module.__name__).group(0)
    return importlib.import_module(f"solutions.{lesson}")


#: Each file's time in a ``make test`` pass, per backend: written by ``COURSE_RECORD_TEST_TIMES=1 make test``
#: (see :func:`pytest_sessionfinish`), read to order the files longest-first.
FILE_TIMES = ROOT / "tests" / "file_times.json"
RECORD_ENV = "COURSE_RECORD_TEST_TIMES"


def _recorded_times() -> dict:
    """This backend's recorded time per file (``path relative to the root -> seconds``); a notebook not in the
    record falls back on its fast-mode run time (notebooks/run_times_fast.json)."""
    backend = os.environ.get("KERAS_BACKEND", "")
    times = json.loads(FILE_TIMES.read_text()).get(backend, {}) if FILE_TIMES.exists() else {}
    fast_file = ROOT / "notebooks" / "run_times_fast.json"
    fast = json.loads(fast_file.read_text()) if fast_file.exists() else {}
    return {**{f"notebooks/{name}": seconds for name, seconds in fast.items()}, **times}


def _longest_first(items) -> list:
    """The files (notebooks and test files alike) in order of their recorded time, longest first; a file with no
    record goes last, in collection order. With ``--dist loadfile`` each worker takes the next file when it is
    free, so the longest files start first and the two workers finish together (longest-processing-time-first
    scheduling)."""
    times = _recorded_times()
    order = {}
    for item in items:
        order.setdefault(item.path, len(order))

    def key(item):
        return -times.get(item.path.relative_to(ROOT).as_posix(), 0.0), order[item.path]
    return sorted(items, key=key)


_durations: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Add up each file's time (set-up, call and tear-down of every test; with xdist, as the controller receives
    them)."""
    path = report.nodeid.split("::")[0]
    _durations[path] = _durations.get(path, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    """With ``COURSE_RECORD_TEST_TIMES=1``, a whole run (no ``-k`` or file selection needed, but a partial run
    only updates its own files) writes each file's time to tests/file_times.json under this backend."""
    if os.environ.get(RECORD_ENV) != "1" or hasattr(session.config, "workerinput") or not _durations:
        return
    record = json.loads(FILE_TIMES.read_text()) if FILE_TIMES.exists() else {}
    backend = record.setdefault(os.environ.get("KERAS_BACKEND", ""), {})
    backend.update({path: round(seconds, 1) for path, seconds in _durations.items()})
    record = {name: dict(sorted(times.items())) for name, times in sorted(record.items())}
    FILE_TIMES.write_text(json.dumps(record, indent=1) + "\n")


def pytest_collection_modifyitems(config, items):
    """Order the files longest-first, and skip ``@pytest.mark.tensorflow_only`` (the one backend marker) on any
    other backend."""
    import keras

    items[:] = _longest_first(items)
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason="TensorFlow only: keras-self-attention's own layers, fingerprints recorded on "
                                   "TensorFlow, or a check whose JAX run would only add compilation time")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)
