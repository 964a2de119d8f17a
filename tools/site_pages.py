"""The website's generated pages, written at build time by ``site/conf.py``: the landing page's lesson table, and the
"Questions and error messages" page from ``site/learner_questions.csv``.

``python -m tools.site_pages [FOLDER]`` writes both (default ``site/_generated``) without building the site.

The lesson table: each lesson's title (its notebook), what it teaches (the README's course map, the one place that
summarises the lessons) and its measured run times.

The questions page:

The CSV lists the questions learners ask about attention with Keras and (Bi)LSTMs (mined from GitHub issues and
Q&A sites, plus the course's own Q000-Q004): each in our own words, its source, any exact error message, its
cluster and its answer (``notebooks/<file>.ipynb#<heading anchor>``). The page groups them by cluster and links
every question and every error message to its answer. ``heading_anchors`` gives the anchors a notebook's headings
get on the site (myst's slugs, ``myst_heading_anchors`` in ``conf.py``); the tests check every answer against it.
Standard library only.
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import re
from pathlib import Path

from utils.course_map import NOTEBOOKS, ROOT, course_map, lesson_notebooks, notebook_title

CSV = ROOT / "site" / "learner_questions.csv"
COLUMNS = ["id", "question", "source", "kind", "error_message", "cluster", "answer"]


def slug(title: str) -> str:
    """The anchor myst-parser gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*]", "", title).strip().lower()
    return re.sub(r"[^\w\u4e00-\u9fff\- ]", "", text).replace(" ", "-")


def heading_anchors(notebook: Path) -> set[str]:
    """The anchors of every markdown heading (levels 1-3) of ``notebook``."""
    anchors = set()
    for cell in json.loads(Path(notebook).read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                found = re.match(r"#{1,3} (.+)", line)
                if found:
                    anchors.add(slug(found.group(1)))
    return anchors


def read_questions(path: Path = CSV) -> list[dict]:
    """The rows of the questions CSV; a ValueError naming the problem when its columns are not the expected ones."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise ValueError(f"{path.name}: columns must be {COLUMNS}, got {reader.fieldnames}; "
                             "fix the header line of the CSV")
        return list(reader)


def answer_target(answer: str) -> tuple[str, str]:
    """``("notebooks/x.ipynb", "anchor")`` from an answer cell; a ValueError for any other form."""
    found = re.fullmatch(r"(notebooks/[\w.-]+\.ipynb)#([\w-]+)", answer)
    if not found:
        raise ValueError(f"answer {answer!r} must look like notebooks/<file>.ipynb#<heading-anchor>")
    return found.group(1), found.group(2)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _page_link(answer: str) -> str:
    """The built page and anchor of an answer, relative to the questions page at the site's root."""
    notebook, anchor = answer_target(answer)
    return f"{notebook.removesuffix('.ipynb')}.html#{anchor}"


def _a(href: str, inner_html: str) -> str:
    """An HTML link (myst passes inline HTML through; its own links cannot carry a heading anchor of a notebook)."""
    return f'<a href="{html.escape(href)}">{inner_html}</a>'


def page(rows: list[dict]) -> str:
    """The page's Markdown: a table of contents of the clusters, then one section per cluster."""
    clusters: dict[str, list[dict]] = {}
    for row in rows:
        clusters.setdefault(row["cluster"], []).append(row)
    order = sorted(clusters, key=lambda c: (-len(clusters[c]), c))
    lines = [f"{len(rows)} questions in {len(clusters)} groups, the largest first. Each question links to the "
             "notebook section that answers it with code you can run; the source column links to where it was "
             "asked. Error messages are quoted exactly as the learner posted them.", ""]
    lines += [f"- [{name}](#{slug(name)}) ({len(clusters[name])})" for name in order] + [""]
    for name in order:
        group = clusters[name]
        answer = group[0]["answer"]
        lines.append(f"## {name}")
        lines.append("")
        if answer:
            notebook, anchor = answer_target(answer)
            lines.append(f"**Answered in** {_a(_page_link(answer), html.escape(notebook.removeprefix('notebooks/')))}"
                         f", section `{anchor}`.")
        else:
            lines.append("No lesson answers this group yet.")
        lines += ["", "| Id | Question | Error message | Source |", "| --- | --- | --- | --- |"]
        for row in group:
            question = html.escape(row["question"])
            if row["answer"]:
                question = _a(_page_link(row["answer"]), question)
            error = row["error_message"] and f"<code>{html.escape(row['error_message'])}</code>"
            if error and row["answer"]:
                error = _a(_page_link(row["answer"]), error)
            lines.append(f"| {row['id']} | {_cell(question)} | {_cell(error)} | [{row['kind']}]({row['source']}) |")
        lines.append("")
    return "\n".join(lines)


def write_questions_page(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = page(read_questions())
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "site" / "_generated")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    write_lesson_table(args.folder / "lessons.md")
    write_questions_page(args.folder / "questions.md")
    print(f"wrote lessons.md and questions.md in {args.folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
