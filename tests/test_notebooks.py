"""Static checks on the committed notebooks: one full top-to-bottom run each, and the course header."""
import json
import re
from pathlib import Path

import nbformat
import pytest

from utils.runtime import REPO_URL, colab_url

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
FULL_RUN_LIMIT_SECONDS = 300


def test_notebooks_are_numbered_in_course_order():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(len(NOTEBOOKS))]
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_outputs_come_from_one_full_top_to_bottom_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "execution counts must be 1..n"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"error output: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert nb.metadata.get("course", {}).get("mode") == "full", "outputs must come from a full run (make notebooks)"
    assert not any("fast (COURSE_FAST=1)" in json.dumps(c.outputs) for c in code), "fast-mode output stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_full_run_fits_the_time_budget(path):
    seconds = nbformat.read(path, as_version=4).metadata["course"]["seconds"]
    assert seconds <= FULL_RUN_LIMIT_SECONDS, f"{path.name} took {seconds:.0f} s in full mode"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_header_has_goals_run_time_badge_and_setup(path):
    nb = nbformat.read(path, as_version=4)
    header, setup = nb.cells[0], nb.cells[1]
    assert header.cell_type == "markdown" and re.match(rf"# {path.name[:2]} · \S", header.source)
    assert f"]({colab_url('notebooks/' + path.name)})" in header.source, "Colab badge must use utils.runtime.REPO_URL"
    for part in ("**What you will learn.**", "**Run time:** about", "**Learner questions answered here:**"):
        assert part in header.source
    assert setup.cell_type == "code" and f'REPO_URL = "{REPO_URL}"' in setup.source
    assert "setup_notebook(" in setup.source and "google.colab" in setup.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lesson_ends_with_self_checked_exercises(path):
    nb = nbformat.read(path, as_version=4)
    sources = "\n".join(c.source for c in nb.cells)
    assert re.search(r"from utils\.exercises\.lesson\d\d import check_", sources)
    assert f"solutions/lesson{path.name[:2]}.py" in sources
    assert (ROOT / "solutions" / f"lesson{path.name[:2]}.py").exists()
