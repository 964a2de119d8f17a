"""Sphinx configuration of the course website: ``make site`` builds ``site/_build/html`` from the notebooks'
stored outputs (it never executes a notebook) with myst-nb and sphinx-book-theme, offline.

Every script a page loads is served from the site itself: MathJax, require.js and the Jupyter widget manager
come from ``site/_vendor/`` (``tools/vendor_site_js.py``), and the Colab badge image, which Colab serves, becomes
a text link. At build time each lesson page also gets:

- its solutions (``solutions/lessonNN.py``) in a collapsed drop-down after the lesson's exercises;
- an "Open in Colab" launch button and a download button (the theme's), built from ``utils.runtime.repo_url()``,
  the one place that names the repository (forks set ``COURSE_REPO_URL``).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path[:0] = [str(ROOT), str(SITE)]

from utils.runtime import repo_url  # noqa: E402  (standard library only: no course packages needed)

project = "Attention for LSTM sequence classifiers"
author = "the course authors"
copyright = "the course authors; data: see data/README.md"

extensions = ["myst_nb", "sphinx_design"]
root_doc = "index"
exclude_patterns = ["_build", "_vendor", "_generated", "**/.ipynb_checkpoints", "notebooks/*.json"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# The notebooks are shown as stored: their outputs come from full runs (make notebooks), never from this build.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# Offline: MathJax 3 (fonts beside it), require.js and the widget manager from site/_vendor, copied to _static.
html_static_path = ["_static", "_vendor"]
mathjax_path = "mathjax/tex-mml-chtml.js"
# widgets-offline.js tells the widget manager where its own fonts and chunks are (beside it, in _static).
nb_ipywidgets_js = {
    "requirejs/require.js": {},
    "widgets-offline.js": {},
    "html-manager/embed-amd.js": {},
}

html_theme = "sphinx_book_theme"
html_title = "Attention for LSTM classifiers"
html_last_updated_fmt = None
html_context = {"default_mode": "auto"}   # light or dark, as the reader's system prefers
html_theme_options = {
    "repository_url": repo_url(),
    "repository_branch": "main",
    "path_to_docs": "",   # the launch (Colab) links: a lesson page's name is its notebook's path in the repository
    "use_repository_button": True,
    "use_download_button": True,
    "use_source_button": False,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
}

COLAB_BADGE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                         r"\(([^)]+)\)")
SOLUTIONS_MENTION = re.compile(r"solutions/lesson(\d\d)\.py")


def solutions_cell(lesson: str) -> dict:
    source = (ROOT / "solutions" / f"lesson{lesson}.py").read_text()
    body = (f":::{{dropdown}} Solutions to lesson {lesson}'s exercises (`solutions/lesson{lesson}.py`)\n"
            f":icon: light-bulb\n\nTry each exercise first: its check says what is still wrong. In a notebook, load "
            f"these with `%load ../solutions/lesson{lesson}.py`.\n\n```python\n{source.rstrip()}\n```\n:::\n")
    return {"cell_type": "markdown", "id": "course-solutions", "metadata": {}, "source": body}


def with_solutions(cells: list[dict]) -> list[dict]:
    """Insert the solutions drop-down at the end of the section that mentions ``solutions/lessonNN.py``."""
    for i, cell in enumerate(cells):
        found = cell["cell_type"] == "markdown" and SOLUTIONS_MENTION.search("".join(cell["source"]))
        if found:
            end = next((j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "markdown"
                        and re.match(r"#{1,2} ", "".join(cells[j]["source"]))), len(cells))
            return cells[:end] + [solutions_cell(found.group(1))] + cells[end:]
    return cells


def prepare_notebook(app, docname: str, source: list[str]) -> None:
    """``source-read``: the notebook's JSON as the page will show it (the file on disk is not changed)."""
    if not docname.startswith("notebooks/"):
        return
    nb = json.loads(source[0])
    nb["nbformat_minor"] = max(nb.get("nbformat_minor", 0), 5)   # cells carry ids from nbformat 4.5
    for i, cell in enumerate(nb["cells"]):
        cell.setdefault("id", f"cell-{i}")
    first = nb["cells"][0]
    first["source"] = COLAB_BADGE.sub(r"[Open this lesson in Colab](\1)", "".join(first["source"]))
    nb["cells"] = with_solutions(nb["cells"])
    source[0] = json.dumps(nb)


def setup(app):
    from lessons import write_lesson_table

    write_lesson_table(SITE / "_generated" / "lessons.md")
    app.connect("source-read", prepare_notebook)
