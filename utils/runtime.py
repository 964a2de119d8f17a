"""Runtime: the Keras backend, fast mode, seeding and the environment report.

It imports only the standard library at import time, so the set-up check and the website build can use it
before (or without) the course's packages."""
from __future__ import annotations

import atexit
import os
import platform
import re
import shutil
import sys
import threading
from pathlib import Path

#: The course's public repository: the one source of the address in badges and Colab setup cells, which
#: ``tools/write_setup_cells.py`` writes. A fork sets ``COURSE_REPO_URL`` and re-runs that tool.
DEFAULT_REPO_URL = "https://github.com/attention-lstm-course/attention-lstm-course"
REPO_URL_ENV = "COURSE_REPO_URL"
COLAB_BASE = "https://colab.research.google.com/github/"
FAST_ENV = "COURSE_FAST"
BACKEND_ENV = "COURSE_BACKEND"  # a learner's override of the automatic backend choice
BACKENDS = ("jax", "tensorflow")
CACHE_ENV = "COURSE_CACHE_DIR"           # where the course keeps JAX's compiled programs (default ~/.cache/...)
CACHE_SWITCH_ENV = "COURSE_COMPILATION_CACHE"   # "0" turns the persistent compilation cache off
#: On TensorFlow, :func:`set_seed` also switches on op determinism: ``"auto"`` where an NVIDIA driver is present
#: (cuDNN kernels may otherwise differ between runs), ``True``/``False`` always/never. On a CPU it changes no
#: result (``make bench`` trained every closing model for ten seeds both ways: the same accuracies) and costs
#: 10-40% of the training time.
TF_OP_DETERMINISM = "auto"


def gpu_driver_present() -> bool:
    """True when an NVIDIA driver is installed (checked without importing any deep-learning library)."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def auto_backend() -> str:
    """The backend ``choose_backend("auto")`` picks: ``$COURSE_BACKEND`` if set, else TensorFlow where an NVIDIA
    driver is present and JAX otherwise."""
    return os.environ.get(BACKEND_ENV, "").strip().lower() or ("tensorflow" if gpu_driver_present() else "jax")


def choose_backend(backend: str = "auto") -> str:
    """Set the Keras backend for this process; call it before Keras is imported. Returns the backend.

    ``"auto"`` picks JAX on a CPU, where the course measured it training its models several times faster than
    TensorFlow (``make bench``), and TensorFlow when an NVIDIA driver is present, because only TensorFlow
    runs Keras' LSTM with the fused cuDNN kernel (reasoned, not measured: we have no GPU). The environment
    variable ``COURSE_BACKEND`` (``jax`` or ``tensorflow``) overrides ``"auto"``. A notebook that names its
    backend (lesson 04 needs TensorFlow) keeps it.

    Args:
        backend: ``"auto"``, ``"jax"`` or ``"tensorflow"``.

    Returns:
        The backend set, ``"jax"`` or ``"tensorflow"``.

    Raises:
        ValueError: an unknown backend (also from ``$COURSE_BACKEND``), or Keras already imported with another
            backend (restart the kernel).

    Example:
        ::

            choose_backend("tensorflow")   # first, before anything imports Keras
    """
    if backend == "auto":
        backend = auto_backend()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {BACKENDS} (also in ${BACKEND_ENV}), got {backend!r}")
    if "keras" in sys.modules:  # Keras fixes its backend at import time
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise ValueError(f"Keras was already imported with the {current!r} backend; restart the kernel and "
                             f"run the setup cell first to use {backend!r}")
    os.environ["KERAS_BACKEND"] = backend
    if is_fast():
        fast_compilation()
    return backend


#: Fast mode's XLA settings: the backend's optimisations off, and (where every installed XLA knows the flag) the
#: CPU's older code emitters in place of its fusion emitters, which compile the course's small models in about
#: half the time (an LSTM's first ``fit``: 0.84 s -> 0.45 s on JAX 0.10). Each pair is the flag and the lowest
#: jaxlib and TensorFlow whose XLA knows it: an XLA that does not stops the process at start-up.
FAST_XLA_FLAGS = (("--xla_backend_optimization_level=0", None, None),
                  ("--xla_cpu_use_fusion_emitters=false", "0.5.3", "2.20"))


def _xla_knows(lowest_jaxlib: str | None, lowest_tensorflow: str | None) -> bool:
    """True when the installed jaxlib and TensorFlow (each, if installed) are at least these versions."""
    from packaging.version import Version

    for package, lowest in (("jaxlib", lowest_jaxlib), ("tensorflow", lowest_tensorflow)):
        installed = _version(package)
        if lowest is not None and installed != "not installed" and Version(installed) < Version(lowest):
            return False
    return True


def fast_compilation() -> None:
    """Fast mode: ask XLA (JAX's compiler, and TensorFlow's with ``jit_compile=True``) to skip most of its
    optimisations (:data:`FAST_XLA_FLAGS`). A fast-mode run (CI) compiles far more than it computes (a few tiny
    epochs per model), so compiling dominates its time; the computations are the same. Full runs keep every
    optimisation. Call it before JAX or TensorFlow is imported: both read these settings then. A flag already in
    ``XLA_FLAGS`` (with any value) is left as it is."""
    os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
    flags = os.environ.get("XLA_FLAGS", "").split()
    for flag, lowest_jaxlib, lowest_tensorflow in FAST_XLA_FLAGS:
        name = flag.split("=")[0]
        if not any(f.split("=")[0] == name for f in flags) and _xla_knows(lowest_jaxlib, lowest_tensorflow):
            flags.append(flag)
    os.environ["XLA_FLAGS"] = " ".join(flags)
    if "jax" in sys.modules:
        sys.modules["jax"].config.update("jax_disable_most_optimizations",
                                         os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] not in ("0", "false"))


def compilation_cache_dir() -> Path:
    """The folder of JAX's persistent compilation cache: ``$COURSE_CACHE_DIR/jax`` if set, else
    ``~/.cache/attention-lstm-course/jax`` (on Colab that is the runtime's own disk, gone with the runtime)."""
    base = os.environ.get(CACHE_ENV, "").strip()
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "attention-lstm-course") / "jax"


def enable_compilation_cache(path: str | Path | None = None) -> Path | None:
    """On JAX, keep every compiled program on disk (JAX's persistent compilation cache), so a re-run of a
    notebook, or another notebook that builds the same model, loads it instead of compiling it again.

    JAX's defaults keep only programs that took more than a second to compile; the course's models compile in
    0.1-3 s each, many times over, so both thresholds are lowered to keep them all (JAX documentation,
    "Persistent compilation cache"). The cache key covers the program, the compiler flags and the versions,
    so a cached program computes exactly what a fresh compile would (a test compares the weights bit for bit).
    To clear it, delete the folder. Trust: anyone who can write to the folder can run code in your kernel, so
    keep it private.

    Args:
        path: the cache folder; ``None`` uses :func:`compilation_cache_dir`.

    Returns:
        The folder, or None on TensorFlow or when ``COURSE_COMPILATION_CACHE=0``.
    """
    if os.environ.get("KERAS_BACKEND") != "jax" or os.environ.get(CACHE_SWITCH_ENV, "1").strip() in ("0", "false"):
        return None
    import jax

    folder = Path(path).expanduser() if path is not None else compilation_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder


def _shown_path(path: Path) -> str:
    """A path as the setup cell prints it, free of this machine's folders: under ``$COURSE_CACHE_DIR`` when that
    is set (as ``make test`` and ``tools/run_notebooks.py`` set it), else under ``~``."""
    base = os.environ.get(CACHE_ENV, "").strip()
    if base and path.is_relative_to(Path(base).expanduser()):
        return f"${CACHE_ENV}/" + path.relative_to(Path(base).expanduser()).as_posix()
    home = Path.home()
    return "~/" + path.relative_to(home).as_posix() if path.is_relative_to(home) else str(path)


def is_fast() -> bool:
    """True when COURSE_FAST=1 (CI): the same code path with less work."""
    return os.environ.get(FAST_ENV, "0").strip().lower() in {"1", "true", "yes"}


def budget(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise (epochs, sample counts, seeds).

    Args:
        full: the value of a full run.
        fast: the value in fast mode (``COURSE_FAST=1``).

    Returns:
        ``fast`` or ``full``.

    Example:
        ::

            epochs = budget(30, 2)
    """
    return fast if is_fast() else full


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras; on TensorFlow with a GPU, also make its ops deterministic.

    A CPU needs no switch on either backend: a test trains the same seed in two fresh processes on each
    backend and compares the predictions bit for bit (see :data:`TF_OP_DETERMINISM`).

    Args:
        seed: a non-negative integer.

    Raises:
        ValueError: ``seed`` is not a non-negative integer.
    """
    import numpy as np

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras

    os.environ["PYTHONHASHSEED"] = str(int(seed))
    # Keras' own function seeds Python, NumPy and Keras. It imports TensorFlow where it is installed, to seed it
    # too, also on JAX; a Bidirectional layer imports it there anyway (Keras' serialisation checks for its shapes).
    keras.utils.set_random_seed(int(seed))
    wanted = gpu_driver_present() if TF_OP_DETERMINISM == "auto" else TF_OP_DETERMINISM
    if keras.backend.backend() == "tensorflow" and wanted:
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


def repo_url() -> str:
    """The repository's address: ``$COURSE_REPO_URL`` if set (a fork), else :data:`DEFAULT_REPO_URL`.

    Returns:
        The address, ``https://github.com/<owner>/<name>``.

    Raises:
        ValueError: ``$COURSE_REPO_URL`` is not of that form.
    """
    url = os.environ.get(REPO_URL_ENV, "").strip() or DEFAULT_REPO_URL
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"the repository address must look like https://github.com/<owner>/<name>, got {url!r}")
    return url


def colab_url(notebook_path: str, branch: str = "main") -> str:
    """The Open-in-Colab address of a notebook (path relative to the repository root).

    Args:
        notebook_path: the notebook's path relative to the repository root, e.g.
            ``"notebooks/00_setup_and_data.ipynb"``.
        branch: the branch Colab opens.

    Returns:
        The ``https://colab.research.google.com/github/...`` address.

    Raises:
        ValueError: ``$COURSE_REPO_URL`` is set but is not a GitHub repository address.
    """
    repo = repo_url().removeprefix("https://github.com/")
    return f"{COLAB_BASE}{repo}/blob/{branch}/{notebook_path}"


#: TensorFlow's native log lines that say nothing is wrong (TF 2.19-2.21 on a CPU), matched whole. Every other
#: line written to file descriptor 2, every error among them, reaches the notebook.
KNOWN_NOISE = (
    re.compile(r"^[IW]\d{4} "),  # absl INFO and WARNING lines (oneDNN, CPU features, cuda stubs)
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$"),
    # logged at ERROR level while training, but harmless: tf.data's graph from a newer op set, and oneDNN
    # handing boolean ops to Eigen
    re.compile(r"^E\d{4} .*NodeDef mentions attribute use_unbounded_threadpool which is not in the op definition"),
    re.compile(r"^E\d{4} .*oneDNN supports DT_BOOL only on platforms with AVX-512"),
)
#: Only where no NVIDIA driver is installed is a failed CUDA probe expected rather than an error.
NO_GPU_NOISE = re.compile(r"^E\d{4} .*failed call to cuInit")


def is_known_noise(line: str, gpu_expected: bool) -> bool:
    """Whether one line of native stderr is one of TensorFlow's known harmless messages.

    Args:
        line: one line (a trailing newline is ignored).
        gpu_expected: whether an NVIDIA driver is present; if not, a failed CUDA probe is known noise too.

    Returns:
        True when the line matches :data:`KNOWN_NOISE` (or :data:`NO_GPU_NOISE` without a GPU).
    """
    line = line.rstrip("\n")
    return any(p.match(line) for p in KNOWN_NOISE) or (not gpu_expected and bool(NO_GPU_NOISE.match(line)))


def filter_known_noise(text: str, gpu_expected: bool | None = None) -> str:
    """``text`` without TensorFlow's known harmless lines; every other line (every error) is kept.

    A failed CUDA probe (``cuInit``) is dropped only on a machine without an NVIDIA driver, where it is
    expected; with a driver present it is a real error and stays.

    Args:
        text: native stderr output, one or more lines.
        gpu_expected: whether an NVIDIA driver is present; ``None`` checks this machine.

    Returns:
        The remaining lines, joined with their line endings.
    """
    gpu_expected = gpu_driver_present() if gpu_expected is None else gpu_expected
    return "".join(line for line in text.splitlines(keepends=True) if not is_known_noise(line, gpu_expected))


_STDERR_FILTER: threading.Thread | None = None


def _filter_native_stderr_in_kernel() -> None:
    """In a Jupyter kernel, pass what native code writes to file descriptor 2 through :func:`is_known_noise`.

    Descriptor 2 becomes a pipe; a thread forwards every line that is not known noise to the original
    descriptor (which the kernel shows as red cell output), as soon as the line is complete. Outside a
    kernel (scripts, tests) nothing changes. At exit, the original descriptor is put back and the thread
    drains what is left.
    """
    global _STDERR_FILTER
    if _STDERR_FILTER is not None or "ipykernel" not in sys.modules:
        return
    gpu_expected = gpu_driver_present()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    original = os.dup(2)
    os.dup2(write_fd, 2)
    os.close(write_fd)

    def forward():
        with os.fdopen(read_fd, "rb") as pipe:
            for line in pipe:
                if not is_known_noise(line.decode("utf-8", "replace"), gpu_expected):
                    os.write(original, line)

    _STDERR_FILTER = threading.Thread(target=forward, name="native-stderr-filter", daemon=True)
    _STDERR_FILTER.start()

    def restore():
        os.dup2(original, 2)  # closes the pipe's last writer, so the thread reads to the end
        _STDERR_FILTER.join(timeout=2)

    atexit.register(restore)


def setup_notebook(seed: int = 0, backend: str = "auto") -> None:
    """The lessons' setup: choose the Keras backend, seed everything, set the plot theme, report.

    It also turns on the compilation cache (JAX), filters TensorFlow's known harmless log lines in a kernel,
    prints the device report and warns when Keras is older than :data:`MIN_KERAS`.

    Args:
        seed: the seed for :func:`set_seed`.
        backend: ``"auto"`` (see :func:`choose_backend`), or the one a lesson needs.

    Raises:
        ValueError: an unknown backend, a Keras already imported with another backend, or a seed that is not a
            non-negative integer.

    Example:
        ::

            setup_notebook(seed=0)   # in a lesson's setup cell
    """
    import seaborn as sns

    backend = choose_backend(backend)
    cache = enable_compilation_cache()
    # The filter that drops TensorFlow's known harmless native log lines goes first: TensorFlow is imported here on
    # its backend, and on JAX by set_seed (Keras seeds it too) or later by Keras or keras-self-attention
    _filter_native_stderr_in_kernel()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery logs its own CUDA probing (filtered as known noise)
        tf.get_logger().setLevel("ERROR")
    set_seed(seed)
    sns.set_theme(context="notebook", style="whitegrid")
    print_device_report()
    if cache is not None:
        print(f"{'compilation cache':>22}: {_shown_path(cache)} (a re-run skips JAX's compiling; to clear it, "
              f"delete the folder; {CACHE_SWITCH_ENV}=0 turns it off)")
    warn_if_keras_too_old()


#: The oldest Keras the course admits (requirements.txt): 3.10 and 3.11 raise in keras.layers.Attention on masked
#: inputs, which lesson 02 and the builder's mixer="attention" use.
MIN_KERAS = (3, 12)


def warn_if_keras_too_old() -> None:
    """A visible warning, with the fix, when Keras is older than :data:`MIN_KERAS` (an old Colab image: its
    setup cell keeps Colab's own Keras rather than change it)."""
    import warnings

    import keras
    from packaging.version import Version

    found = Version(keras.__version__).release[:2]
    if found < MIN_KERAS:
        wanted = ".".join(map(str, MIN_KERAS))
        warnings.warn(f"Keras {keras.__version__} is older than the course's {wanted}: keras.layers.Attention "
                      f"raises on masked inputs before {wanted} (lesson 02, and models with mixer='attention'). "
                      f"Upgrade it with `pip install \"keras>={wanted},<4\"` and restart the runtime.", stacklevel=2)
