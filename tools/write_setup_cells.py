"""Write every notebook's Colab badge and setup cell from their sources:
``utils.runtime.repo_url()`` and requirements.txt.

Usage: python -m tools.write_setup_cells [--check]     (make setup-cells)

A Colab setup cell runs before the course is cloned, so it cannot import the address from ``utils``; this tool
writes the address into each cell and badge instead. A fork sets ``COURSE_REPO_URL`` and runs it once. The cell
clones from ``$COURSE_CLONE_FROM`` when it is set: the Colab set-up test (tests/colab) points it at this checkout,
its only change from Colab. The
setup cell's last lines (the lesson's own ``setup_notebook(...)`` call) are kept. With ``--check`` nothing is
written, and the exit status is 1 when a notebook differs from what the tool would write.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from utils.check_setup import requirements
from utils.runtime import colab_url, repo_url

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOKS = sorted([*(ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"),   # the lessons, then the appendices
                    *(ROOT / "notebooks").glob("appendix_*.ipynb")])
BADGE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\([^)]*\)")
SETUP_MARKER = "from utils.runtime import setup_notebook"
#: What the Colab setup cell installs, with the pins of requirements.txt: only what Colab lacks, the two
#: keras-self-attention packages and aeon (MiniRocket, lesson 06). Colab keeps its own TensorFlow and JAX (no
#: package installed here needs them), and the cell pins Colab's own numpy, pandas and Keras in the same pip call,
#: so pip keeps them or fails visibly. tests/colab checks both.
COLAB_INSTALLS = ("keras-self-attention", "keras-multi-head", "aeon")
COLAB_KEEPS = ("numpy", "pandas", "keras")
SETUP_TEMPLATE = '''# Setup: works in JupyterLab (run from notebooks/) and on Colab (clones the course first).
import os, subprocess, sys
from pathlib import Path

REPO_URL = os.environ.get("COURSE_CLONE_FROM", "{url}")   # written by tools/write_setup_cells.py
REPO_DIR = Path(REPO_URL.rsplit("/", 1)[-1])
if "google.colab" in sys.modules and not REPO_DIR.exists():
    subprocess.run(["git", "clone", "-q", REPO_URL], check=True)
    from importlib.metadata import version   # Colab's own {kept} stay: pip must not change them
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", {colab_packages},
                    *(f"{{name}}=={{version(name)}}" for name in {kept_tuple})], check=True)
ROOT = next(p for p in (Path.cwd(), Path.cwd().parent, REPO_DIR.resolve()) if (p / "utils").is_dir())
sys.path.insert(0, str(ROOT))

'''


def colab_packages() -> str:
    """The pip arguments of the Colab setup cell, read from requirements.txt."""
    specs = {r.name.lower(): str(r) for r in requirements(ROOT / "requirements.txt")
             if r.name.lower() in COLAB_INSTALLS}
    missing = set(COLAB_INSTALLS) - set(specs)
    if missing:
        raise ValueError(f"requirements.txt does not list {sorted(missing)}")
    return ", ".join(f'"{specs[name]}"' for name in COLAB_INSTALLS)


def badge(path: Path) -> str:
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url('notebooks/' + path.name)})")


def expected(path: Path) -> tuple[str, str]:
    """The header cell and setup cell that ``path`` should have."""
    nb = nbformat.read(path, as_version=4)
    header, setup = nb.cells[0].source, nb.cells[1].source
    if not BADGE.search(header):
        raise ValueError(f"{path.name}: the first cell has no Open-in-Colab badge")
    if SETUP_MARKER not in setup:
        raise ValueError(f"{path.name}: the second cell is not the setup cell (no {SETUP_MARKER!r})")
    lesson_part = setup[setup.index(SETUP_MARKER):]
    return (BADGE.sub(lambda _: badge(path), header),
            SETUP_TEMPLATE.format(url=repo_url(), colab_packages=colab_packages(),
                                 kept=", ".join(COLAB_KEEPS), kept_tuple=repr(COLAB_KEEPS)) + lesson_part)


def main(check: bool) -> int:
    stale = []
    for path in NOTEBOOKS:
        header, setup = expected(path)
        nb = nbformat.read(path, as_version=4)
        if (nb.cells[0].source, nb.cells[1].source) != (header, setup):
            stale.append(path.name)
            if not check:
                nb.cells[0].source, nb.cells[1].source = header, setup
                nbformat.write(nb, path)
    readme = ROOT / "README.md"
    text = readme.read_text()
    fixed = re.sub(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\("
                   r"https://colab\.research\.google\.com/github/[^)]*/blob/main/notebooks/([^)]+)\)",
                   lambda m: badge(Path(m.group(1))), text)
    if fixed != text:
        stale.append(readme.name)
        if not check:
            readme.write_text(fixed)
    verb = "differ from" if check else "rewritten from"
    print(f"{len(stale)} file(s) {verb} {repo_url()}" + (f": {', '.join(stale)}" if stale else ""))
    return 1 if check and stale else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a notebook's cells differ")
    sys.exit(main(parser.parse_args().check))
