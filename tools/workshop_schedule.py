"""Write the workshop guide's half-day and full-day schedules from the measured run times.

Usage: python -m tools.workshop_schedule [--check]

Each lesson block is the lesson's measured top-to-bottom run time (notebooks/run_times.json for a full run,
notebooks/run_times_fast.json for fast mode, both written by tools/run_notebooks.py) plus the minutes for
explaining, discussing and the exercises, which are the instructors' estimate below. The tool writes the tables
between the ``schedule`` markers of workshop/GUIDE.md; with ``--check`` it writes nothing and exits 1 when the
guide's tables differ from what it would write (a test runs it so).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

from utils.course_map import lesson_notebooks, notebook_title

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "workshop" / "GUIDE.md"
NOTEBOOKS = ROOT / "notebooks"
MARKERS = re.compile(r"(<!-- schedule:start -->\n).*?(<!-- schedule:end -->)", re.S)

#: Minutes of explaining, discussion and exercises per lesson, beyond running it (an estimate, not a measurement)
TEACHING = {"00": 20, "01": 45, "02": 40, "03": 40, "04": 40, "05": 35, "06": 35, "07a": 30, "07b": 25,
            "08": 35, "09a": 35, "09b": 25, "10a": 25, "10b": 25, "10c": 25}
#: The half day keeps the path from a baseline to the verdict and the clinic, with shorter discussions; its
#: longer runs are in fast mode (learners read the stored full-run verdicts together).
HALF_DAY = (("00", 10, "full"), ("01", 30, "fast"), ("02", 25, "full"), "break", ("03", 30, "fast"),
            ("06", 25, "fast"), ("07a", 15, "fast"), ("07b", 15, "fast"))
FULL_DAY = (("00", TEACHING["00"], "full"), ("01", TEACHING["01"], "full"), "break",
            ("02", TEACHING["02"], "full"), ("03", TEACHING["03"], "full"), "lunch",
            ("04", TEACHING["04"], "full"), ("05", TEACHING["05"], "full"), "break",
            ("06", TEACHING["06"], "full"), ("07a", TEACHING["07a"], "full"),
            ("07b", TEACHING["07b"], "full"), ("08", TEACHING["08"], "full"), "break",
            ("09a", TEACHING["09a"], "full"), ("09b", TEACHING["09b"], "full"), ("10a", TEACHING["10a"], "full"),
            ("10b", TEACHING["10b"], "full"), ("10c", TEACHING["10c"], "full"))
PAUSES = {"break": ("Break", 15), "lunch": ("Lunch", 60)}
WELCOME, WRAP_UP = 10, 10
HALF_DAY_MINUTES = 210


def titles() -> dict[str, tuple[str, str]]:
    """``{"01": (notebook file name, title)}`` for every lesson (a lesson in two parts: "07a", "07b")."""
    return {path.name.split("_")[0]: (path.name, notebook_title(path)) for path in lesson_notebooks()}


def clock(minutes: int) -> str:
    return f"{9 + minutes // 60:02d}:{minutes % 60:02d}"


def table(plan, full: dict, fast: dict, names: dict) -> tuple[str, int]:
    rows = ["| Time | Block | Run (measured) | Explain, discuss, exercises |", "| --- | --- | --- | --- |"]
    now = 0

    def add(label: str, run: str, teach: str, minutes: int) -> None:
        nonlocal now
        rows.append(f"| {clock(now)}–{clock(now + minutes)} | {label} | {run} | {teach} |")
        now += minutes

    add("Welcome; everyone runs `make check` (or `python -m tools.course check`)", "", f"{WELCOME} min", WELCOME)
    for step in plan:
        if isinstance(step, str):
            label, minutes = PAUSES[step]
            add(label, "", "", minutes)
            continue
        lesson, teach, mode = step
        name, title = names[lesson]
        seconds = (full if mode == "full" else fast)[name]
        run = math.ceil(seconds / 60)
        add(title, f"{seconds:.0f} s, {mode} mode → {run} min", f"{teach} min", run + teach)
    add("Wrap-up: which of the five mistakes did you make? What will you check first in your own model?",
        "", f"{WRAP_UP} min", WRAP_UP)
    return "\n".join(rows), now


def render() -> str:
    full = json.loads((NOTEBOOKS / "run_times.json").read_text())
    fast = json.loads((NOTEBOOKS / "run_times_fast.json").read_text())
    names = titles()
    half, half_minutes = table(HALF_DAY, full, fast, names)
    day, day_minutes = table(FULL_DAY, full, fast, names)
    skipped = ", ".join(sorted(set(names) - {s[0] for s in HALF_DAY if not isinstance(s, str)}))
    spare = HALF_DAY_MINUTES - half_minutes
    if spare < 0:
        raise SystemExit(f"the half-day plan takes {half_minutes} min, more than {HALF_DAY_MINUTES}: shorten it")
    return (f"### Half day (3.5 h): {half_minutes // 60} h {half_minutes % 60:02d} min planned, {spare} min spare "
            "for set-up trouble\n\n"
            f"Starts at 09:00; shift the clock as you need. Lessons {skipped} are left for home: the website "
            "shows them with their outputs.\n\n"
            f"{half}\n\n"
            f"### Full day: {day_minutes // 60} h {day_minutes % 60:02d} min with the breaks\n\n"
            f"Every lesson in order, each run in full.\n\n{day}\n\n"
            "Run times are top-to-bottom runs on a 2-core laptop CPU, measured by `tools/run_notebooks.py` "
            "(`--fast` for fast mode); this table is written from them by `tools/workshop_schedule.py`.\n")


def main(check: bool) -> int:
    text = GUIDE.read_text()
    if not MARKERS.search(text):
        raise SystemExit(f"{GUIDE} has no <!-- schedule:start --> ... <!-- schedule:end --> markers")
    new = MARKERS.sub(lambda m: m.group(1) + render() + m.group(2), text, count=1)
    if new == text:
        print("workshop/GUIDE.md: schedules up to date")
        return 0
    if check:
        print("workshop/GUIDE.md: schedules differ from the run times; run `python -m tools.workshop_schedule`")
        return 1
    GUIDE.write_text(new)
    print("workshop/GUIDE.md: schedules written")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the guide's tables differ")
    sys.exit(main(parser.parse_args().check))
