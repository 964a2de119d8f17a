"""The landing page's lesson table, written at build time: each lesson's title (its notebook), what it teaches
(the README's course map, the one place that summarises the lessons) and its measured run times."""
from __future__ import annotations

import json
from pathlib import Path

from utils.course_map import course_map, lesson_notebooks, notebook_title

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def lessons() -> list[dict]:
    """Each lesson's notebook, title, one-line summary and measured full and fast-mode run times (seconds)."""
    full = json.loads((NOTEBOOKS / "run_times.json").read_text())
    fast_file = NOTEBOOKS / "run_times_fast.json"
    fast = json.loads(fast_file.read_text()) if fast_file.exists() else {}
    teaches = {name: cells[1] for name, cells in course_map().items()}
    rows = []
    for path in lesson_notebooks(appendices=True):
        rows.append({"notebook": path.name, "title": notebook_title(path), "summary": teaches.get(path.name, ""),
                     "full": full.get(path.name), "fast": fast.get(path.name)})
    return rows


def write_lesson_table(target: Path) -> None:
    def seconds(value):
        if value is None:
            return "not measured"
        return f"{value:.0f} s" if value < 90 else f"{value / 60:.0f} min"

    lines = ["| Lesson | What it teaches | Full run | Fast mode |", "| --- | --- | --- | --- |"]
    for row in lessons():
        page = "notebooks/" + row["notebook"].removesuffix(".ipynb")
        lines.append(f"| [{row['title']}](/{page}) | {row['summary']} | {seconds(row['full'])} "
                     f"| {seconds(row['fast'])} |")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
