"""Runtime: fast mode, seeding and the environment report."""
from __future__ import annotations

import contextlib
import os
import platform
import random
import sys

import numpy as np

#: The one place the course's public repository is configured (badges, Colab setup cells).
REPO_URL = "https://github.com/attention-lstm-course/attention-lstm-course"
COLAB_BASE = "https://colab.research.google.com/github/"
FAST_ENV = "COURSE_FAST"


def is_fast() -> bool:
    """True when COURSE_FAST=1 (CI): the same code path with less work."""
    return os.environ.get(FAST_ENV, "0").strip().lower() in {"1", "true", "yes"}


def budget(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise (epochs, sample counts, seeds)."""
    return fast if is_fast() else full


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras, and make TensorFlow ops deterministic."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras
    import tensorflow as tf

    os.environ["PYTHONHASHSEED"] = str(int(seed))
    random.seed(int(seed))
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def device_report() -> dict:
    """Versions, device and mode, as a dict (the notebooks print it in their setup cell)."""
    import keras
    import tensorflow as tf

    try:
        from importlib.metadata import version
        ksa = version("keras-self-attention")
    except Exception:  # not installed
        ksa = "not installed"
    gpus = tf.config.list_physical_devices("GPU")
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras-self-attention": ksa,
        "device": f"GPU x{len(gpus)} ({gpus[0].name})" if gpus else "CPU",
        "cpu cores": os.cpu_count(),
        "mode": "fast (COURSE_FAST=1)" if is_fast() else "full",
    }


def print_device_report() -> None:
    """Print :func:`device_report` as aligned lines."""
    for key, value in device_report().items():
        print(f"{key:>22}: {value}")


def colab_url(notebook_path: str, branch: str = "main") -> str:
    """The Open-in-Colab address of a notebook (path relative to the repository root)."""
    repo = REPO_URL.removeprefix("https://github.com/")
    return f"{COLAB_BASE}{repo}/blob/{branch}/{notebook_path}"


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence C++ start-up chatter written straight to file descriptor 2 (TensorFlow's import logs)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _silence_native_stderr_in_kernel() -> None:
    """In a Jupyter kernel, send file descriptor 2 to /dev/null for the rest of the session.

    TensorFlow's C++ logs (absl) ignore TF_CPP_MIN_LOG_LEVEL and would show up as red cell output.
    In a kernel, Python's own warnings and tracebacks do not go through descriptor 2, so they still show.
    """
    if "ipykernel" not in sys.modules:
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)


def setup_notebook(seed: int = 0) -> None:
    """The lessons' setup: import TensorFlow quietly, seed everything, set the plot theme, report."""
    import seaborn as sns

    with _quiet_native_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery logs its own CUDA probing
    _silence_native_stderr_in_kernel()
    tf.get_logger().setLevel("ERROR")
    set_seed(seed)
    sns.set_theme(context="notebook", style="whitegrid")
    print_device_report()
