"""The course's learner commands as plain Python, for machines without ``make`` (Windows): the Makefile's
``setup``, ``lab`` and ``check`` targets call this same script.

    python tools/course.py setup [--offline]   # create .venv and install requirements.txt into it
    python tools/course.py lab [--offline]     # set up, then open the course in JupyterLab
    python tools/course.py check               # set up, then run the set-up check (python -m utils.check_setup)

``--offline`` installs from ``wheelhouse/`` (made beforehand by ``make wheelhouse`` or
``python tools/wheelhouse.py``) with no package index. The environment variables ``VENV`` and ``WHEELHOUSE``
name other folders (the offline-install test uses them).

Online, the packages are installed by uv (``uv pip install``, put into .venv first), which resolved the same
versions as pip here and took 16 s where pip took about 90 s on a 2-core machine with an empty cache; pip is
the fallback. Both write the packages' bytecode (``.pyc``) at install, so a new kernel does not compile them
again. Offline, pip installs from the wheelhouse. Run it with Python 3.11, 3.12 or 3.13 (on Windows, ``py -3.11
tools\\course.py setup``). Set-up is skipped when ``.venv`` is already installed from the current requirements.txt.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / os.environ.get("VENV", ".venv")
REQUIREMENTS = ROOT / "requirements.txt"
WHEELHOUSE = ROOT / os.environ.get("WHEELHOUSE", "wheelhouse")
STAMP = VENV / ".installed"
sys.path.insert(0, str(ROOT))

from utils.check_setup import PYTHONS  # noqa: E402  (standard library only at import: runs before .venv exists)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*command) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, cwd=ROOT)


def setup(offline: bool) -> None:
    if STAMP.exists() and STAMP.stat().st_mtime >= REQUIREMENTS.stat().st_mtime:
        return
    if sys.version_info[:2] not in PYTHONS:
        wanted = " or ".join(f"{major}.{minor}" for major, minor in PYTHONS)
        raise SystemExit(f"the course needs Python {wanted}; this is {sys.version.split()[0]}. "
                         "Run this script with one of them (e.g. `python3.11 tools/course.py setup`).")
    if not venv_python().exists():
        print(f"creating {VENV.name} with Python {sys.version.split()[0]}", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [venv_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if offline:
        if not any(WHEELHOUSE.glob("*.whl")):
            raise SystemExit(f"{WHEELHOUSE} holds no wheels: make it first, on a machine with network, with "
                             "`make wheelhouse` (or `python tools/wheelhouse.py`)")
        run(*pip, "--no-index", "--find-links", WHEELHOUSE, "-r", REQUIREMENTS)
    else:
        run(*pip, "--upgrade", "pip", "uv")
        try:   # uv installs the same versions as pip (compared package by package) in a sixth of the time
            # --compile-bytecode: pip writes each package's .pyc files at install, uv does not by default. Without
            # them every new Python process (each notebook kernel, each test's subprocess) compiles Keras, JAX,
            # SciPy... from source again wherever PYTHONDONTWRITEBYTECODE is set: `import keras` took 7.0 s
            # instead of 2.9 s on a 2-core machine.
            run(venv_python(), "-m", "uv", "pip", "install", "--quiet", "--compile-bytecode", "--python",
                venv_python(), "-r", REQUIREMENTS)
        except subprocess.CalledProcessError:
            print("uv could not install requirements.txt; installing with pip instead", flush=True)
            run(*pip, "-r", REQUIREMENTS)
    # numba compiles MiniRocket (lesson 06) once and caches it, so the lesson does not wait for it
    run(venv_python(), "-c", "from utils.peers import warm_up_minirocket as w; "
                             "print(f'MiniRocket compiled and cached by numba in {w():.0f} s')")
    STAMP.touch()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/course.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("setup", "lab", "check"))
    parser.add_argument("--offline", action="store_true", help="install from wheelhouse/ with no package index")
    args = parser.parse_args(argv)
    setup(args.offline)
    if args.command == "lab":   # --allow-root: workshop containers often run as root
        os.chdir(ROOT)
        return subprocess.call([str(venv_python()), "-m", "jupyter", "lab", "--allow-root", "notebooks"])
    if args.command == "check":
        return subprocess.call([str(venv_python()), "-m", "utils.check_setup"], cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
