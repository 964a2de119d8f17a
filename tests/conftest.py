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
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
# As the notebooks' setup cell does on JAX: a model configuration compiled once (by any test, worker or notebook
# kernel) is loaded from disk afterwards. `make test` points COURSE_CACHE_DIR at a folder of its own.
enable_compilation_cache()


@pytest.fixture(scope="module")
def solutions(request):
    """The solutions file of the lesson a test module is named after (test_lessonNN_exercises.py)."""
    lesson = re.search(r"lesson\d\d", request.module.__name__).group(0)
    return importlib.import_module(f"solutions.{lesson}")


def _longest_first(items) -> list:
    """The notebooks first, the longest (by their recorded fast-mode time) first, then the test files: with
    ``--dist loadfile`` each worker takes the next file when it is free, so the two workers finish together."""
    times_file = ROOT / "notebooks" / "run_times_fast.json"
    times = json.loads(times_file.read_text()) if times_file.exists() else {}
    order = {}
    for item in items:
        order.setdefault(item.path, len(order))
    def key(item):
        return (-times.get(item.path.name, 0.0), order[item.path]) if item.path.suffix == ".ipynb" else \
            (1.0, order[item.path])
    return sorted(items, key=key)


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
