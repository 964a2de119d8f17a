"""The set-up check a learner runs the day before a workshop: ``python -m utils.check_setup`` (or ``make check``,
or ``python tools/course.py check``).

It prints one line per item, green (✓) or red (✗); every red line says how to fix it. The exit status is 0 when
every item is green and 1 otherwise. The items:

- ``python``: the Python version (3.11, 3.12 or 3.13);
- ``packages``: each package of requirements.txt, installed and inside its range;
- ``devices``: TensorFlow imports and lists its devices; the Keras backend the notebooks will pick;
- ``data``: every file in data/SHA256SUMS is present with its checksum;
- ``training``: a ten-second smoke test: a small masked BiLSTM from the course's builder trains for a few
  epochs on JapaneseVowels and its training loss falls;
- ``resources``: free memory and free disk space.

``--only python,packages`` runs a subset (the quick ones take a second). ``--requirements FILE`` and
``--data-dir DIR`` check another requirements file or data folder.

It imports only the standard library until an item needs more, so it still runs, and says what is missing,
in an environment where the course's packages are not installed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .checksums import DATA_DIR, listed_files, verified_path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
PYTHONS = ((3, 11), (3, 12), (3, 13))
MIN_MEMORY_GB = 3.0   # the notebooks peak at about 2 GB: TensorFlow or JAX plus a few small models
MIN_DISK_GB = 2.0     # notebook outputs, Keras caches, numba's MiniRocket cache
SMOKE_SECONDS = 30.0  # the smoke test's budget: about ten seconds on a 2-core laptop
SETUP_FIX = "run `make setup` (or `python tools/course.py setup`), which installs requirements.txt into .venv"
ITEMS = ("python", "packages", "devices", "data", "training", "resources")


@dataclass
class Result:
    """One line of the check: the ``item``, whether it is ``ok``, the ``message`` and, for a red line, the ``fix``."""

    item: str
    ok: bool
    message: str
    fix: str = ""

    def line(self, colour: bool) -> str:
        """The printed line: a mark, the item and the message, and the fix on a red line.

        Args:
            colour: wrap the line in ANSI colour codes (green or red).

        Returns:
            The line, e.g. ``"✓ python     Python 3.12.3 (...)"``.
        """
        mark, code = ("✓", "32") if self.ok else ("✗", "31")
        text = f"{mark} {self.item:<10} {self.message}" + ("" if self.ok else f" — fix: {self.fix}")
        return f"\033[{code}m{text}\033[0m" if colour else text


def check_python() -> list[Result]:
    """The running Python's version against the ones the course supports (:data:`PYTHONS`).

    Returns:
        One :class:`Result`.
    """
    version = sys.version_info[:2]
    found = f"Python {sys.version.split()[0]} ({sys.executable})"
    if version in PYTHONS:
        return [Result("python", True, found)]
    wanted = " or ".join(f"{a}.{b}" for a, b in PYTHONS)
    return [Result("python", False, f"{found}: the course needs Python {wanted}",
                   f"install Python {wanted}, then re-create the environment: `make clean setup` "
                   f"(or delete .venv and run `python3.11 tools/course.py setup`)")]


def requirements(path: Path) -> list:
    """The requirements of ``path`` as ``packaging`` Requirement objects (comments and blank lines skipped).

    Args:
        path: a requirements file.

    Returns:
        A list of ``packaging.requirements.Requirement``, one per requirement line.

    Raises:
        ValueError: a line that is not a valid requirement (``packaging``'s ``InvalidRequirement``).
    """
    from packaging.requirements import Requirement
    lines = (line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def check_packages(path: Path = REQUIREMENTS) -> list[Result]:
    """Each package of a requirements file: installed, and its version inside the required range.

    Args:
        path: the requirements file (default: the course's ``requirements.txt``).

    Returns:
        One :class:`Result` per requirement.

    Raises:
        ValueError: a line of ``path`` that is not a valid requirement.
    """
    from importlib.metadata import PackageNotFoundError, version

    results = []
    for requirement in requirements(path):
        wanted = str(requirement.specifier) or "any version"
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            results.append(Result("packages", False, f"{requirement.name} is not installed (needs {wanted})",
                                  f"`pip install \"{requirement}\"` in the course environment, or {SETUP_FIX}"))
            continue
        if requirement.specifier.contains(installed, prereleases=True):
            results.append(Result("packages", True, f"{requirement.name} {installed} ({wanted})"))
        else:
            results.append(Result("packages", False, f"{requirement.name} {installed} is outside {wanted}",
                                  f"`pip install \"{requirement}\"` in the course environment, or {SETUP_FIX}"))
    return results


def check_devices() -> list[Result]:
    """TensorFlow imports and lists its devices; which device and Keras backend the notebooks will use.

    Returns:
        One :class:`Result`, and a red second one when an NVIDIA driver is present but TensorFlow sees no GPU.
    """
    from .runtime import auto_backend, gpu_driver_present

    try:
        import tensorflow as tf
    except Exception as error:   # an ImportError, or a broken wheel's own error
        return [Result("devices", False, f"TensorFlow does not import: {type(error).__name__}: {error}",
                       f"reinstall it: `pip install --force-reinstall \"tensorflow>=2.19,<2.22\"`, or {SETUP_FIX}")]
    devices = tf.config.list_physical_devices()
    names = ", ".join(f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in devices) or "none"
    gpus = [d for d in devices if d.device_type == "GPU"]
    backend = auto_backend()
    results = [Result("devices", True, f"TensorFlow {tf.__version__} sees {names}; the notebooks will train on "
                                      f"{'the GPU' if gpus else 'the CPU'} with the {backend} backend")]
    if gpu_driver_present() and not gpus:
        results.append(Result("devices", False, "an NVIDIA driver is present but TensorFlow sees no GPU",
                              'install the CUDA build: `pip install "tensorflow[and-cuda]>=2.19,<2.22"` (Linux), '
                              "or carry on: every lesson runs on the CPU"))
    return results


def check_data(data_dir: Path = DATA_DIR) -> list[Result]:
    """Every file that ``data_dir/SHA256SUMS`` lists is present with its checksum.

    Args:
        data_dir: the data folder (default: the course's ``data/``).

    Returns:
        One :class:`Result` per listed file, or one red result when ``SHA256SUMS`` is missing.
    """
    sums = Path(data_dir) / "SHA256SUMS"
    if not sums.exists():
        return [Result("data", False, f"{sums} is missing", "restore the data folder: `git checkout data/`")]
    results = []
    for name in listed_files(data_dir):
        try:
            verified_path(data_dir, name)
            results.append(Result("data", True, f"{name}: checksum matches"))
        except ValueError as error:
            results.append(Result("data", False, str(error).split("; restore")[0],
                                  f"restore it: `git checkout data/{name}` (or download the course again)"))
    return results


def check_training() -> list[Result]:
    """Train a small masked BiLSTM for a few epochs on part of JapaneseVowels; the loss must fall.

    Returns:
        One :class:`Result`: red when training fails, the loss does not fall, or it takes longer than
        :data:`SMOKE_SECONDS`.
    """
    from .runtime import set_seed

    start = time.perf_counter()
    try:
        from .builder import build_classifier
        from .data import load_japanese_vowels

        set_seed(0)
        jv = load_japanese_vowels()
        model = build_classifier(jv, units=16, pool="average")
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        X, y = jv.train.X[:120], jv.train.y[:120]
        losses = model.fit(X, y, epochs=4, batch_size=32, verbose=0).history["loss"]
    except Exception as error:
        return [Result("training", False, f"training failed: {type(error).__name__}: {error}",
                       f"read the error above; most often a package is missing or broken: {SETUP_FIX}")]
    seconds = time.perf_counter() - start
    message = f"a small masked BiLSTM trained 4 epochs in {seconds:.0f} s; loss {losses[0]:.2f} → {losses[-1]:.2f}"
    if not losses[-1] < losses[0]:
        return [Result("training", False, message + ": the loss did not fall",
                       "re-install the environment (`make clean setup`); if it persists, report it with this output")]
    if seconds > SMOKE_SECONDS:
        return [Result("training", False, message + f": slower than {SMOKE_SECONDS:.0f} s",
                       "close other programs; on a slow laptop run the notebooks in fast mode (COURSE_FAST=1) "
                       "or use Colab")]
    return [Result("training", True, message)]


def check_resources(where: Path = ROOT) -> list[Result]:
    """Free memory and free disk space against :data:`MIN_MEMORY_GB` and :data:`MIN_DISK_GB`.

    Args:
        where: a path on the disk to measure (default: the course's folder).

    Returns:
        Two :class:`Result` objects: memory, then disk.
    """
    import psutil

    memory = psutil.virtual_memory().available / 1e9
    disk = shutil.disk_usage(where).free / 1e9
    return [
        Result("resources", memory >= MIN_MEMORY_GB, f"{memory:.1f} GB of memory available (needs {MIN_MEMORY_GB:.0f})",
               "close other programs (browsers, IDEs) before the workshop, or use Colab"),
        Result("resources", disk >= MIN_DISK_GB, f"{disk:.1f} GB of disk free at {where} (needs {MIN_DISK_GB:.0f})",
               "free some disk space, or clone the course onto a disk with more room"),
    ]


def run(only=ITEMS, requirements_file: Path = REQUIREMENTS, data_dir: Path = DATA_DIR) -> list[Result]:
    """Choose the Keras backend as the notebooks do, then check each item of ``only`` in turn.

    An item whose package is missing (an ``ImportError``) gives a red result that names it instead of stopping.

    Args:
        only: the items to check, among :data:`ITEMS`.
        requirements_file: the requirements file the ``packages`` item checks.
        data_dir: the data folder the ``data`` item checks.

    Returns:
        The :class:`Result` objects of every item, in order.

    Raises:
        ValueError: a line of ``requirements_file`` that is not a valid requirement.

    Example:
        ::

            failed = [r for r in run(["python", "packages"]) if not r.ok]
    """
    from .runtime import choose_backend

    choose_backend()   # before TensorFlow is imported: importing it imports Keras, which fixes its backend then
    checks = {"python": check_python, "packages": lambda: check_packages(requirements_file),
              "devices": check_devices, "data": lambda: check_data(data_dir), "training": check_training,
              "resources": check_resources}
    results = []
    for item in only:
        try:
            results += checks[item]()
        except ImportError as error:   # a package this item needs is missing: say which
            results.append(Result(item, False, f"cannot check: {error}", SETUP_FIX))
    return results


def main(argv=None) -> int:
    """``python -m utils.check_setup``: print one line per check as it runs, then how many passed.

    Args:
        argv: the command-line arguments (``--only``, ``--requirements``, ``--data-dir``); ``None`` reads
            ``sys.argv``.

    Returns:
        The exit status: 0 when every check passed, 1 otherwise. An unknown item exits with argparse's usage error.
    """
    parser = argparse.ArgumentParser(prog="python -m utils.check_setup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(ITEMS), help=f"comma-separated items among {', '.join(ITEMS)}")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS, help="the requirements file to check")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="the data folder to check")
    args = parser.parse_args(argv)
    only = [item.strip() for item in args.only.split(",") if item.strip()]
    unknown = sorted(set(only) - set(ITEMS))
    if unknown:
        parser.error(f"unknown item(s) {unknown}; choose among {', '.join(ITEMS)}")
    colour = sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR"))
    results = []
    for item in only:   # print each item as soon as it is checked: the training item takes a few seconds
        for result in run([item], args.requirements, args.data_dir):
            print(result.line(colour), flush=True)
            results.append(result)
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} of {len(results)} checks passed"
          + (": fix the red lines above, then run this again." if failed else ": you are ready for the course."))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
