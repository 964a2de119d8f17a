"""The landing page's lesson table, written at build time from the notebooks and their measured run times."""
from __future__ import annotations

import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def lessons() -> list[dict]:
    """Each lesson's notebook, title, one-line summary and measured full and fast-mode run times (seconds)."""
    full = json.loads((NOTEBOOKS / "run_times.json").read_text())
    fast_file = NOTEBOOKS / "run_times_fast.json"
    fast = json.loads(fast_file.read_text()) if fast_file.exists() else {}
    rows = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        header = "".join(json.loads(path.read_text())["cells"][0]["source"])
        title = header.splitlines()[0].lstrip("# ").strip()
        learn = next((p for p in header.split("\n\n") if p.startswith("**What you will learn.**")), "")
        summary = learn.removeprefix("**What you will learn.**").strip().replace("\n", " ").split(". ")[0]
        rows.append({"notebook": path.name, "title": title, "summary": summary.rstrip(".") + ".",
                     "full": full.get(path.name), "fast": fast.get(path.name)})
    return rows


def write_lesson_table(target: Path) -> None:
    def seconds(value):
        return "not measured" if value is None else f"{value / 60:.1f} min"

    lines = ["| Lesson | What you will learn | Full run | Fast mode |", "| --- | --- | --- | --- |"]
    for row in lessons():
        page = "notebooks/" + row["notebook"].removesuffix(".ipynb")
        lines.append(f"| [{row['title']}](/{page}) | {row['summary']} | {seconds(row['full'])} "
                     f"| {seconds(row['fast'])} |")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
