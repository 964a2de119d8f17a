"""Sphinx configuration of the course website: ``make site`` builds ``site/_build/html`` from the notebooks'
stored outputs (it never executes a notebook) with myst-nb and sphinx-book-theme, offline.

Every script a page loads is served from the site itself: MathJax, require.js and the Jupyter widget manager
come from ``site/_vendor/`` (``tools/vendor_site_js.py``), and the Colab badge image, which Colab serves, becomes
a text link. At build time each lesson page also gets:

- its solutions (``solutions/lessonNN.py``) in a collapsed drop-down after the lesson's exercises;
- an "Open in Colab" launch button and a download button (the theme's), built from ``utils.runtime.repo_url()``,
  the one place that names the repository (forks set ``COURSE_REPO_URL``);
- accessibility fixes to the stored outputs as shown (the notebooks are not changed): each figure's alternative
  text, from its cell's plotting calls (``figure_alt``); result tables whose empty header cells a screen reader
  can name (``named_headers``); highlighted words whose text colour reads on their highlight (``readable_marks``).
  ``_static/course.css`` holds the output colour palette (light and dark) and the focus style,
  ``_static/course.js`` names the widget sliders and images and the sidebar landmark; ``tools/check_site.py``
  audits every page with axe-core in both themes.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path[:0] = [str(ROOT)]   # utils and tools.site_pages, imported from the repository root

from utils.runtime import repo_url  # noqa: E402  (standard library only: no course packages needed)

project = "Attention for LSTM sequence classifiers"
author = "the course authors"
copyright = "the course authors; data: see data/README.md"

extensions = ["myst_nb", "sphinx_design", "autoapi.extension", "sphinx.ext.napoleon"]
root_doc = "index"
# "axe/*": site/_vendor/axe (axe-core) is for tools/check_site.py's audit only; the static copy skips it.
exclude_patterns = ["_build", "_vendor", "_generated", "_templates", "**/.ipynb_checkpoints", "notebooks/*.json",
                    "axe/*"]
# autoapi.python_import_resolution: a name bound in a try/except ImportError (keras_internals' guarded keras.src
# import) cannot be followed without importing; it only decides where autoapi would show a re-exported name.
suppress_warnings = ["mystnb.unknown_mime_type", "autoapi.python_import_resolution"]

# The API reference (api/): sphinx-autoapi reads utils/ statically with astroid, so nothing is imported and the
# site environment needs no Keras, TensorFlow or JAX. Public names only (no _private, no dunder methods); the
# lessons' self-checks (utils.exercises) are glue called from the notebooks, shown there, and are left out.
autoapi_type = "python"
autoapi_dirs = ["../utils"]
autoapi_root = "api"
autoapi_ignore = ["*/utils/exercises/*"]
autoapi_options = ["members", "undoc-members", "show-inheritance", "show-module-summary"]
autoapi_member_order = "bysource"
autoapi_python_class_content = "both"    # a class's docstring, then its __init__'s
autoapi_template_dir = "_templates/autoapi"   # the index page's title and introduction
autoapi_keep_files = False             # api/*.rst are written at each build and removed after it
# Docstrings follow the Google style (Args:, Returns:, Raises:); napoleon turns those sections into fields.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
#: Keras overrides without a docstring of their own: the base class's documentation says what they do
KERAS_OVERRIDES = {"build", "call", "compute_mask", "compute_output_shape", "get_config", "get_custom_objects"}

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

html_css_files = ["course.css"]   # the output colour palette in both themes, the focus style, .course-sr-only
html_js_files = ["course.js"]     # accessible names for widget sliders and images, the sidebar's landmark

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


# --- accessibility of the stored outputs, as shown on the site ------------------------------------------------

#: plotting calls whose name says what kind of figure it is
FIGURE_KINDS = {"plot_paired": "Forest plot of paired differences in accuracy, B - A, one row per comparison",
                "plot_attention_heatmaps": "Attention weight heatmaps",
                "plot_learning_curves": "Learning curves per epoch",
                "plot_confusion_matrix": "Confusion matrix", "plot_sequences": "Input sequences over time",
                "plot_weights_over_time": "Attention weights over time", "plot_highlighted_words": "Sentences, each "
                "word shaded by its weight (red: for the prediction, blue: against)", "histplot": "Histogram",
                "pointplot": "Point plot",
                "stripplot": "Strip plot", "lineplot": "Line plot", "bar": "Bar chart", "barh": "Bar chart",
                "heatmap": "Heatmap", "errorbar": "Points with error bars", "imshow": "Image", "plot": "Line plot"}
TEXT_ARGS = {"title": "title", "suptitle": "title", "set_title": "title", "xlabel": "x axis", "set_xlabel": "x axis",
             "ylabel": "y axis", "set_ylabel": "y axis", "titles": "panels", "query_label": "rows",
             "key_label": "columns", "metric": "metric"}


def _text(node: ast.AST) -> str | list[str] | None:
    """A string literal, an f-string with its fields shown as "…", or a list of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_text(e) for e in node.elts]
        return [i for i in items if isinstance(i, str)] or None
    if isinstance(node, ast.ListComp):
        return _text(node.elt)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):   # list + list
        left, right = _text(node.left), _text(node.right)
        if isinstance(left, list) or isinstance(right, list):
            return [t for side in (left, right) for t in (side if isinstance(side, list) else [side] if side else [])]
    return None


def _describe(calls: list[ast.Call]) -> str:
    kind, parts = None, {}
    for call in calls:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        owner = call.func.value if isinstance(call.func, ast.Attribute) else None
        owner = owner.value if isinstance(owner, ast.Subscript) else owner
        if name != "plot" or getattr(owner, "id", "") in ("ax", "axes", "plt"):   # not a results object's .plot()
            kind = kind or FIGURE_KINDS.get(name)
        named = [(k.arg, k.value) for k in call.keywords if k.arg in TEXT_ARGS]
        if name in TEXT_ARGS and call.args:
            named.append((name, call.args[0]))
        for key, value in named:
            text, label = _text(value), TEXT_ARGS[key]
            if label and text:
                for t in (text if isinstance(text, list) else [text]):
                    t = " ".join(t.split())
                    if t not in parts.setdefault(label, []):
                        parts[label].append(t)
    titles = parts.pop("title", []) + parts.pop("panels", [])
    sentences = [f"{kind or 'Figure'}: {'; '.join(titles)}" if titles else (kind or "Figure")]
    sentences += [f"{label}: {', '.join(texts)}" for label, texts in parts.items()]
    return ". ".join(sentences) + "."


def figure_alt(source: str) -> list[str]:
    """Alternative text for each figure a code cell draws, from its plotting calls: the kind of plot, its titles
    and axis labels. A cell that calls ``plt.show()`` more than once gets one text per figure."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    figures, calls = [], []
    for statement in tree.body:
        found = [n for n in ast.walk(statement) if isinstance(n, ast.Call)]
        calls += sorted(found, key=lambda n: (n.lineno, n.col_offset))
        if any(isinstance(n.func, ast.Attribute) and n.func.attr == "show" for n in found) and calls:
            figures.append(calls)
            calls = []
    if not figures:   # calls after the last plt.show() draw nothing more
        figures.append(calls)
    return [_describe(c) for c in figures]


TABLE_HEAD = re.compile(r"<thead>(.*?)</thead>", re.S)
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
HEADER_CELL = re.compile(r"<th([^>]*)>(.*?)</th>", re.S)


def named_headers(text: str) -> str:
    """pandas tables whose header cells a screen reader can name: the empty corner cells above the row labels get
    a (visually hidden) name, the index's name where it has one; the empty cells beside the index names, which
    head nothing, become data cells."""
    def head(match: re.Match) -> str:
        rows = ROW.findall(match.group(1))
        cells = [HEADER_CELL.findall(r) for r in rows]
        index_names = []
        if len(cells) > 1 and cells[-1] and cells[-1][0][1].strip():
            index_names = [c[1] for c in cells[-1] if c[1].strip()]
        out = match.group(0)
        for r, row in enumerate(rows):
            is_index_row = index_names and r == len(rows) - 1
            new_row, leading = row, True
            for k, (attrs, content) in enumerate(cells[r]):
                if content.strip():
                    leading = False
                    continue
                if is_index_row:
                    replacement = f"<td{attrs}></td>"
                else:
                    name = index_names[k] if leading and k < len(index_names) else "row label" if leading else "blank"
                    replacement = f'<th{attrs}><span class="course-sr-only">{name}</span></th>'
                new_row = new_row.replace(f"<th{attrs}>{content}</th>", replacement, 1)
            out = out.replace(row, new_row, 1)
        return out
    return TABLE_HEAD.sub(head, text)


MARK = re.compile(r'style="background: rgba\((\d+), (\d+), (\d+), ([\d.]+)\);')


def readable_marks(text: str) -> str:
    """Words highlighted with a translucent background (lesson 08's attention and occlusion maps) get an opaque
    highlight, the same colour as on a white page, and black or white text, whichever reads on it (≥ 4.5:1):
    the same in the light and the dark theme."""
    def luminance(rgb) -> float:
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def mark(m: re.Match) -> str:
        r, g, b, a = int(m[1]), int(m[2]), int(m[3]), float(m[4])
        rgb = [round(a * c + (1 - a) * 255) for c in (r, g, b)]
        ink = "#000" if (luminance(rgb) + 0.05) / 0.05 >= 1.05 / (luminance(rgb) + 0.05) else "#fff"
        return f'style="background: rgb({rgb[0]}, {rgb[1]}, {rgb[2]}); color: {ink};'
    return MARK.sub(mark, text)


#: {placeholder alt text: each figure's text}, for cells that draw several figures (see ``figure_alts_in_order``)
SEVERAL_FIGURES: dict[str, list[str]] = {}


def accessible_outputs(cell: dict, where: str) -> None:
    """The cell's outputs as shown on the site: alternative text for its figures (the cell's ``mystnb.image.alt``
    unless it has one), named table headers, readable highlights."""
    images = [o for o in cell.get("outputs", []) if any(k.startswith("image/") for k in o.get("data", {}))]
    views = [o for o in cell.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    alts = figure_alt("".join(cell["source"])) if images or views else []
    if images and alts:
        image_options = cell["metadata"].setdefault("mystnb", {}).setdefault("image", {})
        if len(alts) == len(images) > 1:   # one text per figure, in order: figure_alts_in_order puts them in
            SEVERAL_FIGURES[f"course-figures-{where}"] = alts
            alts = [f"course-figures-{where}"]
        image_options.setdefault("alt", alts[0])
    for view in views:   # the widget manager draws the figure; _static/course.js gives it this text
        if alts:
            view["data"]["application/vnd.jupyter.widget-view+json"]["course_alt"] = alts[0]
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/html" in data:
            text = "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
            data["text/html"] = readable_marks(named_headers(text))


def figure_alts_in_order(app, doctree) -> None:
    """``doctree-read``: each figure of a cell that draws several gets its own text (myst-nb gives every image of
    a cell the same options)."""
    from docutils import nodes

    seen: dict[str, int] = {}
    for image in doctree.findall(nodes.image):
        if (key := image.get("alt")) in SEVERAL_FIGURES:
            image["alt"] = SEVERAL_FIGURES[key][min(seen.get(key, 0), len(SEVERAL_FIGURES[key]) - 1)]
            seen[key] = seen.get(key, 0) + 1


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
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            accessible_outputs(cell, f"{docname}-{cell['id']}")
    nb["cells"] = with_solutions(nb["cells"])
    source[0] = json.dumps(nb)


STARRED_PARAM = re.compile(r"^(\s*:param )(\*{1,2})(\w)")


def escape_starred_params(app, what, name, obj, options, lines: list[str]) -> None:
    """``autodoc-process-docstring``, after napoleon: ``**options`` named in a Google ``Args:`` line with other names
    (``seeds, recipe, **options: ...``) becomes ``:param **options:``, which docutils reads as unclosed bold;
    napoleon escapes the stars only when the name stands alone."""
    lines[:] = [STARRED_PARAM.sub(lambda m: m[1] + m[2].replace("*", "\\*") + m[3], line) for line in lines]


def skip_member(app, what: str, name: str, obj, skip: bool, options) -> bool:
    """``autoapi-skip-member``: also leave out a layer's undocumented Keras overrides (``call``, ``build`` ...)."""
    return skip or (what == "method" and name.rsplit(".", 1)[-1] in KERAS_OVERRIDES and not obj.docstring)


def setup(app):
    from tools.site_pages import write_lesson_table, write_questions_page

    write_lesson_table(SITE / "_generated" / "lessons.md")
    write_questions_page(SITE / "_generated" / "questions.md")
    app.connect("source-read", prepare_notebook)
    app.connect("doctree-read", figure_alts_in_order)
    app.connect("autoapi-skip-member", skip_member)
    app.connect("autodoc-process-docstring", escape_starred_params, priority=600)   # napoleon's runs at 500
