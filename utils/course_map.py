"""The course as files: its notebooks in order, each one's title, and its row in the README's course map.

The one reader of these, for the website's lesson table, the workshop schedules, ``tools/run_notebooks.py`` (which
refreshes a row's run time) and the tests. Standard library only: the website's environment has no Keras.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"


def lesson_notebooks(appendices: bool = False) -> list[Path]:
    """The lessons' notebooks in course order (``00_...`` to the last), then the appendices if asked for.

    Args:
        appendices: also list ``appendix_*.ipynb``, after the lessons.

    Returns:
        The notebooks' paths, sorted by file name.
    """
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
    return [*found, *sorted(NOTEBOOKS.glob("appendix_*.ipynb"))] if appendices else found


def notebook_title(path: Path) -> str:
    """A notebook's title: the first line of its first cell, without the ``#``, e.g. ``01 · The masked BiLSTM``.

    Args:
        path: the notebook file.

    Returns:
        The title.
    """
    header = "".join(json.loads(Path(path).read_text())["cells"][0]["source"])
    return header.splitlines()[0].lstrip("# ").strip()


def is_map_row(line: str, notebook: str) -> bool:
    """Whether ``line`` is the README course map's row of ``notebook`` (a file name).

    Args:
        line: a line of the README.
        notebook: a notebook's file name, e.g. ``"01_masked_bilstm_baseline.ipynb"``.

    Returns:
        True when ``line`` is a table row that links ``notebooks/<notebook>``.
    """
    return line.startswith("| [") and f"(notebooks/{notebook})" in line


def course_map() -> dict[str, list[str]]:
    """``{notebook file name: the cells of its README course-map row}`` (title link, what it teaches, ...).

    Returns:
        The rows of the README's table whose first cell links a notebook, keyed by that notebook's file name.
    """
    rows = {}
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| [") and "(notebooks/" in cells[0]:
            rows[cells[0].split("(notebooks/", 1)[1].rstrip(")")] = cells
    return rows
