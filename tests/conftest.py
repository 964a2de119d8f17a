import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Plain `pytest` runs the notebooks in fast mode too (nbval's kernels inherit this environment);
# `COURSE_FAST=0 pytest` runs them in full.
os.environ.setdefault("COURSE_FAST", "1")
from utils.runtime import enable_compilation_cache, fast_compilation, is_fast  # noqa: E402 - imports no Keras

if is_fast():
    fast_compilation()   # as the notebooks' fast mode does: the tests compile far more than they compute
# As the notebooks' setup cell does on JAX: a model configuration compiled once (by any test, worker or notebook
# kernel) is loaded from disk afterwards. `make test` points COURSE_CACHE_DIR at a folder of its own.
enable_compilation_cache()


@pytest.fixture(scope="module")
def solutions(request):
    """The solutions file of the lesson a test module is named after (test_lessonNN_exercises.py)."""
    lesson = re.search(r"lesson\d\d", request.module.__name__).group(0)
    spec = importlib.util.spec_from_file_location(f"solutions_{lesson}", ROOT / "solutions" / f"{lesson}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
