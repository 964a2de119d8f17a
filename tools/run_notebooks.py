"""Execute notebooks top to bottom in full mode, in place, and record their run times.

Usage: python -m tools.run_notebooks [--fast] [NOTEBOOK ...]   (default: every notebooks/*.ipynb)

Each notebook runs in a fresh kernel from notebooks/, with COURSE_FAST removed from the
environment. Its metadata records the mode and the seconds taken; notebooks/run_times.json
collects the times, and the header line "Run time" and the README course map row are refreshed. Each run
starts with an empty JAX compilation cache of its own, so a recorded time is a learner's first run of that
notebook (a re-run is faster: tools/bench_compilation_cache.py measures by how much).

With ``--fast`` each notebook runs in fast mode (COURSE_FAST=1, what CI runs) only to be timed: nothing is
written to the notebook, and notebooks/run_times_fast.json collects the times (the workshop schedules use them).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from utils.course_map import is_map_row

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TIMES = NOTEBOOKS / "run_times.json"
FAST_TIMES = NOTEBOOKS / "run_times_fast.json"
README = ROOT / "README.md"
RUN_TIME_LINE = re.compile(r"\*\*Run time:\*\*[^\n]*")
MAP_TIME = re.compile(r"(?<=\| )(about \d+ min|\d+ s|not yet measured)(?= \|)")   # the CPU time column only


def execute(nb, fast: bool, cache: str | None = None) -> float:
    """Run ``nb`` in a fresh kernel from notebooks/, in full or fast mode; the seconds it took.

    ``cache``: the folder of JAX's compilation cache; None gives the run an empty one (a learner's first run)."""
    if fast:
        os.environ["COURSE_FAST"] = "1"
    else:
        os.environ.pop("COURSE_FAST", None)
    with tempfile.TemporaryDirectory() as empty:
        os.environ["COURSE_CACHE_DIR"] = cache or empty
        start = time.perf_counter()
        # coalesce_streams: a progress line rewritten with "\r" is stored as one output, not one per update
        NotebookClient(nb, timeout=1800, kernel_name="python3", coalesce_streams=True,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        return time.perf_counter() - start


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    seconds = execute(nb, fast=False)
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
        if is_map_row(line, name):
            lines[i] = MAP_TIME.sub(f"{seconds:.0f} s", line, count=1)
    README.write_text("".join(lines))


def main(paths: list[Path], fast: bool = False) -> None:
    record = FAST_TIMES if fast else TIMES
    times = json.loads(record.read_text()) if record.exists() else {}
    for path in paths:
        if fast:   # timed only: the stored outputs always come from full runs
            seconds = execute(nbformat.read(path, as_version=4), fast=True)
        else:
            seconds = run(path)
            update_readme(path.name, seconds)
        times[path.name] = round(seconds, 1)
        record.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")
        print(f"{path.name}: {seconds:.0f} s" + (" (fast mode)" if fast else ""), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every notebooks/*.ipynb)")
    parser.add_argument("--fast", action="store_true", help="time a fast-mode run; write nothing to the notebook")
    args = parser.parse_args()
    main([p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb")), fast=args.fast)
