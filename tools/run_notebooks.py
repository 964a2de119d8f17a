"""Execute notebooks top to bottom in full mode, in place, and record their run times.

Usage: python tools/run_notebooks.py [NOTEBOOK ...]   (default: every notebooks/*.ipynb)

Each notebook runs in a fresh kernel from notebooks/, with COURSE_FAST removed from the
environment. Its metadata records the mode and the seconds taken; notebooks/run_times.json
collects the times, and the header line "Run time" and the README course map row are refreshed.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TIMES = NOTEBOOKS / "run_times.json"
README = ROOT / "README.md"
RUN_TIME_LINE = re.compile(r"\*\*Run time:\*\*[^\n]*")
MAP_TIME = re.compile(r"(?<=\| )(about \d+ min|\d+ s|not yet measured)(?= \|)")   # the CPU time column only


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ.pop("COURSE_FAST", None)
    start = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata["course"] = {"mode": "full", "seconds": round(seconds, 1), "cpu_cores": os.cpu_count()}
    minutes = max(1, round(seconds / 60))
    for cell in nb.cells:
        if cell.cell_type == "markdown" and RUN_TIME_LINE.search(cell.source):
            cell.source = RUN_TIME_LINE.sub(
                f"**Run time:** about {minutes} min on a {os.cpu_count()}-core laptop CPU (measured by "
                "`make notebooks`). GPU: not measured by us.", cell.source, count=1)
            break
    nbformat.write(nb, path)
    return seconds


def update_readme(name: str, seconds: float) -> None:
    """Refresh the run-time cell of the notebook's row in the README's course map."""
    lines = README.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("|") and f"notebooks/{name})" in line:
            lines[i] = MAP_TIME.sub(f"{seconds:.0f} s", line, count=1)
    README.write_text("".join(lines))


def main(paths: list[Path]) -> None:
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    for path in paths:
        seconds = run(path)
        times[path.name] = round(seconds, 1)
        TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")
        update_readme(path.name, seconds)
        print(f"{path.name}: {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    args = [Path(a).resolve() for a in sys.argv[1:]] or sorted(NOTEBOOKS.glob("*.ipynb"))
    main(args)
