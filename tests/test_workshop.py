"""The workshop kit: the guide's schedules come from the measured run times, its slow-cell seconds from the
stored notebooks, and the fast-mode times cover every lesson."""
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_free

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "workshop" / "GUIDE.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
APPENDICES = sorted((ROOT / "notebooks").glob("appendix_*.ipynb"))   # timed too; the schedules leave them out


def test_schedules_are_written_from_the_run_times():
    done = subprocess.run([sys.executable, "-m", "tools.workshop_schedule", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    text = GUIDE.read_text()
    assert "### Half day (3.5 h)" in text and "### Full day" in text


def test_every_lesson_has_a_full_and_a_fast_run_time():
    for name in ("run_times.json", "run_times_fast.json"):
        times = json.loads((ROOT / "notebooks" / name).read_text())
        assert set(times) == {p.name for p in NOTEBOOKS + APPENDICES}, name
        assert all(0 < seconds < 600 for seconds in times.values()), times


def cell_seconds(path: Path) -> set[float]:
    seconds = set()
    for cell in json.loads(path.read_text())["cells"]:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            seconds.add(round((end - start).total_seconds(), 1))
    return seconds


def test_slow_cells_quote_the_stored_timings():
    """Each **N s** of the slow-cells section is a cell's time in that lesson's stored full run."""
    section = GUIDE.read_text().split("## Slow cells")[1].split("\n## ")[0]
    quoted = 0
    for block in re.split(r"^### ", section, flags=re.M)[1:]:
        path = next(p for p in NOTEBOOKS if block.startswith(p.name.split("_")[0] + " "))   # "07a · ..." -> 07a_...
        stored = cell_seconds(path)
        for value in re.findall(r"\*\*(\d+(?:\.\d)?) s\*\*", block):
            assert any(abs(float(value) - s) <= 0.05 for s in stored), f"{path.name}: {value} s is not a stored time"
            quoted += 1
    assert quoted >= 10
