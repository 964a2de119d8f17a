"""Write tests/colab/colab_pins.txt, the Colab replica's pins, from Colab's published package list.

Usage: python -m tools.colab_pins [--freeze ../shared/colab/pip-freeze.txt] [--check]

Colab publishes its runtime's ``pip freeze`` and Python version (googlecolab/backend-info; a copy with its source
and date is in ``../shared/colab/``). ``make colab-test`` builds a replica of that runtime: a fresh virtual
environment on the same Python minor version, with Colab's version of every package the course's notebooks
import (the names in requirements.txt that Colab ships, and the few packages that decide how those run: jaxlib
beside jax, the IPython kernel and the notebook runner). pip resolves everything else; the test records what it
chose. When Colab moves, copy its new ``pip-freeze.txt`` and ``os-info.txt`` and run this tool again.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "colab"
PINS = ROOT / "tests" / "colab" / "colab_pins.txt"
#: Beyond requirements.txt: what decides how the course's imports run on Colab, and what runs the notebooks there.
ALSO = ("jaxlib", "ml-dtypes", "h5py", "numba", "llvmlite", "ipython", "ipykernel", "ipywidgets", "jupyter-client",
        "nbclient", "nbformat", "tf-keras")
#: Not pinned although requirements.txt names them: the notebooks do not import them on Colab (the tests and the
#: local JupyterLab need them, Colab does not).
NOT_ON_COLAB = ("jupyterlab", "nbval", "pytest", "pytest-xdist", "ruff")


def canonical(name: str) -> str:
    """PEP 503 normalised name: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_freeze(path: Path) -> dict[str, str]:
    """``{name: version}`` from a ``pip freeze`` file (``name==version`` lines; others are skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)", line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    if not found:
        raise ValueError(f"{path} holds no 'name==version' lines: is it a pip freeze file?")
    return found


def course_names() -> list[str]:
    """The distribution names in requirements.txt (read by the set-up check's one requirements reader)."""
    from utils.check_setup import requirements

    return [canonical(requirement.name) for requirement in requirements(ROOT / "requirements.txt")]


def python_version(os_info: Path) -> str:
    """Colab's Python, ``3.13`` from a line ``Python 3.13.15`` of os-info.txt."""
    match = re.search(r"^Python (\d+\.\d+)\.\d+", os_info.read_text(), re.M)
    if not match:
        raise ValueError(f"{os_info} names no Python version (a line 'Python 3.x.y')")
    return match.group(1)


def render(freeze: Path) -> str:
    colab = read_freeze(freeze)
    source = (freeze.parent / "README.md").read_text().strip().splitlines() if (freeze.parent / "README.md").exists() \
        else []
    wanted = [n for n in course_names() if n not in NOT_ON_COLAB] + [canonical(n) for n in ALSO]
    pinned = {name: colab[name] for name in dict.fromkeys(wanted) if name in colab}
    lines = ["# Colab's versions of the packages the course's notebooks import (make colab-test's replica).",
             "# Written by tools/colab_pins.py from Colab's published pip freeze; do not edit by hand.",
             f"# Colab's Python: {python_version(freeze.parent / 'os-info.txt')}",
             *(f"# source: {line}" for line in source if line and not line.startswith("#")),
             *(f"{name}=={version}" for name, version in sorted(pinned.items()))]
    missing = sorted(set(n for n in course_names() if n not in NOT_ON_COLAB) - set(colab))
    lines.append(f"# not on Colab, installed by the notebooks' setup cell: {', '.join(missing)}")
    return "\n".join(lines) + "\n"


def pinned_python(pins: Path = PINS) -> str:
    """The Python minor version the pins were written for (``3.13``)."""
    match = re.search(r"^# Colab's Python: (\d+\.\d+)$", pins.read_text(), re.M)
    if not match:
        raise ValueError(f"{pins} names no Python version; run python -m tools.colab_pins")
    return match.group(1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze", type=Path, default=SHARED / "pip-freeze.txt",
                        help="Colab's pip freeze (its folder must also hold os-info.txt)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the pins are out of date")
    args = parser.parse_args(argv)
    text = render(args.freeze)
    if args.check:
        if PINS.read_text() != text:
            print(f"{PINS.relative_to(ROOT)} differs from {args.freeze}; run python -m tools.colab_pins")
            return 1
        print(f"{PINS.relative_to(ROOT)} is up to date")
        return 0
    PINS.write_text(text)
    print(f"wrote {PINS.relative_to(ROOT)}: {sum(1 for line in text.splitlines() if '==' in line)} pins, Python "
          f"{pinned_python()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
