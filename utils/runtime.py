"""Runtime: the Keras backend, fast mode, seeding and the environment report."""
from __future__ import annotations

import contextlib
import os
import platform
import random
import shutil
import sys
from pathlib import Path

import numpy as np

#: The one place the course's public repository is configured (badges, Colab setup cells).
REPO_URL = "https://github.com/attention-lstm-course/attention-lstm-course"
COLAB_BASE = "https://colab.research.google.com/github/"
FAST_ENV = "COURSE_FAST"
BACKEND_ENV = "COURSE_BACKEND"  # a learner's override of the automatic backend choice
BACKENDS = ("jax", "tensorflow")
#: On TensorFlow, :func:`set_seed` also switches on op determinism (``make bench`` measures its cost).
TF_OP_DETERMINISM = True


def gpu_driver_present() -> bool:
    """True when an NVIDIA driver is installed (checked without importing any deep-learning library)."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def choose_backend(backend: str = "auto") -> str:
    """Set the Keras backend for this process; call it before Keras is imported. Returns the backend.

    ``"auto"`` picks JAX on a CPU, where the course measured it training its models several times faster than
    TensorFlow (``make bench``), and TensorFlow when an NVIDIA driver is present, because only TensorFlow
    runs Keras' LSTM with the fused cuDNN kernel (reasoned, not measured: we have no GPU). The environment
    variable ``COURSE_BACKEND`` (``jax`` or ``tensorflow``) overrides ``"auto"``. A notebook that names its
    backend (lesson 04 needs TensorFlow) keeps it.
    """
    if backend == "auto":
        backend = os.environ.get(BACKEND_ENV, "").strip().lower() or (
            "tensorflow" if gpu_driver_present() else "jax")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {BACKENDS} (also in ${BACKEND_ENV}), got {backend!r}")
    if "keras" in sys.modules:  # Keras fixes its backend at import time
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise ValueError(f"Keras was already imported with the {current!r} backend; restart the kernel and "
                             f"run the setup cell first to use {backend!r}")
    os.environ["KERAS_BACKEND"] = backend
    return backend


def is_fast() -> bool:
    """True when COURSE_FAST=1 (CI): the same code path with less work."""
    return os.environ.get(FAST_ENV, "0").strip().lower() in {"1", "true", "yes"}


def budget(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise (epochs, sample counts, seeds)."""
    return fast if is_fast() else full


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras; on TensorFlow, also make its ops deterministic.

    JAX needs no switch: its CPU computations are deterministic, and a test trains the same seed in
    two fresh processes on each backend and compares the predictions bit for bit.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras

    os.environ["PYTHONHASHSEED"] = str(int(seed))
    random.seed(int(seed))
    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() == "tensorflow" and TF_OP_DETERMINISM:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def training_device() -> str:
    """The device the Keras backend trains on: ``"CPU"`` or ``"GPU xN (name)"``."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return f"GPU x{len(gpus)} ({gpus[0].device_kind})" if gpus else "CPU"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU x{len(gpus)} ({gpus[0].name})" if gpus else "CPU"


def device_report() -> dict:
    """Backend, versions, device and mode, as a dict (the notebooks print it in their setup cell)."""
    import keras

    backend = keras.backend.backend()
    return {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": f"{backend} {_version('jax' if backend == 'jax' else 'tensorflow')}"
                   f" (override: {BACKEND_ENV}=jax|tensorflow)",
        "keras-self-attention": _version("keras-self-attention"),
        "device": training_device(),
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


def setup_notebook(seed: int = 0, backend: str = "auto") -> None:
    """The lessons' setup: choose the Keras backend, seed everything, set the plot theme, report.

    ``backend``: ``"auto"`` (see :func:`choose_backend`), or the one a lesson needs.
    """
    import seaborn as sns

    choose_backend(backend)
    # keras.utils.set_random_seed also seeds TensorFlow when it is installed, so it is imported on either
    # backend: import it here, with its native start-up logs out of the way
    with _quiet_native_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery logs its own CUDA probing
    _silence_native_stderr_in_kernel()
    tf.get_logger().setLevel("ERROR")
    set_seed(seed)
    sns.set_theme(context="notebook", style="whitegrid")
    print_device_report()
