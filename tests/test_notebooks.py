"""Static checks on the committed notebooks: one full top-to-bottom run each, and the course header."""
import json
import re
from pathlib import Path

import nbformat
import pytest
from stored_outputs import output_text

from utils.runtime import colab_url, repo_url

pytestmark = pytest.mark.backend_free  # no Keras backend involved: run once, not once per backend

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
LESSON = re.compile(r"^(\d\d)([a-z]?)_")   # "07a_clinic_....ipynb": lesson 07, part a (a lesson too long for one run)
APPENDIX = re.compile(r"^appendix_[a-z0-9_]+\.ipynb$")   # unnumbered, after the lessons; held to the same checks
LESSONS = [p for p in NOTEBOOKS if LESSON.match(p.name)]


def lesson_id(path: Path) -> str:
    """The lesson's number and part as its file name starts: "01", or "07a" for part a of lesson 07; "Appendix"
    for an appendix notebook (its header reads "# Appendix · <title>")."""
    if APPENDIX.match(path.name):
        return "Appendix"
    return "".join(LESSON.match(path.name).groups())
FULL_RUN_LIMIT_SECONDS = 240
COMPARING = {"01", "03", "04", "05", "06", "07", "08", "09"}  # lessons whose comparisons name a winner
MIN_SEEDS = 10


def test_notebooks_are_numbered_in_course_order():
    assert all(LESSON.match(p.name) or APPENDIX.match(p.name) for p in NOTEBOOKS), IDS
    numbers = sorted({p.name[:2] for p in LESSONS})
    assert numbers == [f"{i:02d}" for i in range(len(numbers))]
    for number in numbers:   # a lesson is one notebook, or parts a, b, ... in order
        parts = [LESSON.match(p.name).group(2) for p in LESSONS if p.name[:2] == number]
        assert parts == [""] or parts == [chr(ord("a") + i) for i in range(len(parts))], (number, parts)
    assert len(LESSONS) >= 2


def test_lesson_ids_name_lessons_and_appendices():
    assert lesson_id(Path("07a_clinic_is_my_code_wrong.ipynb")) == "07a"
    assert lesson_id(Path("01_masked_bilstm_baseline.ipynb")) == "01"
    assert lesson_id(Path("appendix_questions_and_error_messages.ipynb")) == "Appendix"
    assert not APPENDIX.match("appendix-questions.ipynb") and not LESSON.match("appendix_x.ipynb")


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
    assert header.cell_type == "markdown" and re.match(rf"# {lesson_id(path)} · \S", header.source)
    assert f"]({colab_url('notebooks/' + path.name)})" in header.source, "run python -m tools.write_setup_cells"
    for part in ("**What you will learn.**", "**Run time:** about", "**Learner questions answered here:**"):
        assert part in header.source
    assert setup.cell_type == "code" and f'"COURSE_CLONE_FROM", "{repo_url()}")' in setup.source
    assert "setup_notebook(" in setup.source and "google.colab" in setup.source


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_ends_with_self_checked_exercises(path):   # lessons only: an appendix answers questions, no exercises
    nb = nbformat.read(path, as_version=4)
    sources = "\n".join(c.source for c in nb.cells)
    assert re.search(r"from utils\.exercises\.lesson\d\d import check_", sources)
    assert f"solutions/lesson{path.name[:2]}.py" in sources
    assert (ROOT / "solutions" / f"lesson{path.name[:2]}.py").exists()


def _seed_counts(text: str) -> list[int]:
    """The values of the "seeds" column in a pandas table printed as text."""
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if re.search(r"(^|\s)seeds(\s|$)", line)), None)
    if header is None:
        return []
    end = re.search(r"(^|\s)seeds(\s|$)", lines[header]).end(0)
    counts = []
    for line in lines[header + 1:]:
        if not line.strip() or len(line) < end:
            if not line.strip():
                break
            continue
        token = line[:end].split()[-1] if line[:end].split() else ""
        if token.isdigit():
            counts.append(int(token))
    return counts


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] in COMPARING], ids=lambda p: p.name)
def test_every_comparison_prints_its_seed_count_and_uses_ten(path):
    nb = nbformat.read(path, as_version=4)
    counts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not re.search(r"\b(compare|closing_table)\(", cell.source):
            continue
        for output in cell.outputs:
            counts += _seed_counts(output.get("data", {}).get("text/plain", ""))
    assert counts, f"{path.name}: no stored comparison table prints a 'seeds' column"
    assert min(counts) >= MIN_SEEDS, f"{path.name}: a comparison used {min(counts)} seeds"


def test_seed_count_parser_reads_a_pandas_table():
    import pandas as pd

    table = pd.DataFrame({"seeds": [10, 12], "accuracy": [0.9, 0.8]}, index=["01 BiLSTM + average", "b"])
    assert _seed_counts(table.to_string()) == [10, 12]
    assert _seed_counts("no table here") == []


def test_setup_cells_and_badges_are_written_by_the_tool(monkeypatch):
    """Each notebook's badge and setup cell are exactly what tools/write_setup_cells.py writes from repo_url()."""
    monkeypatch.delenv("COURSE_REPO_URL", raising=False)
    import tools.write_setup_cells as tool
    assert tool.main(check=True) == 0
    # a fork's address, set in the environment, reaches every badge and setup cell
    monkeypatch.setenv("COURSE_REPO_URL", "https://github.com/someone/a-fork")
    header, setup = tool.expected(NOTEBOOKS[0])
    assert "colab.research.google.com/github/someone/a-fork/blob/main/notebooks/" in header
    assert '"COURSE_CLONE_FROM", "https://github.com/someone/a-fork")' in setup
    monkeypatch.setenv("COURSE_REPO_URL", "not a url")
    with pytest.raises(ValueError, match="must look like https://github.com/"):
        tool.expected(NOTEBOOKS[0])


def test_every_number_on_the_cheat_sheet_is_in_a_stored_output():
    """The cheat sheet quotes measured numbers; each must be printed by some lesson's full run, so a re-run that
    changes a number makes this fail until the sheet follows."""
    sheet = (ROOT / "site" / "cheatsheet.md").read_text()
    outputs = "\n".join(output_text(p) for p in NOTEBOOKS)
    quoted = re.findall(r"[+-]0\.\d{3} \[[+-]0\.\d{3}, [+-]0\.\d{3}\]|\[[+-]0\.\d{3}, [+-]0\.\d{3}\]|\b0\.\d{3,4}\b",
                        sheet)
    assert quoted, "the cheat sheet quotes no measured number: update this test's pattern"
    missing = [q for q in quoted if q not in outputs]
    assert not missing, f"numbers on the cheat sheet that no stored output prints: {missing}"


#: An interval as the verdicts and tables print it, with its mean when one is quoted ("+0.012 [+0.001, +0.028]",
#: "[+0.001, +0.028]", "0.984 [0.981, 0.985]"), or a number with three or four decimals ("0.9026", "-0.164")
_GUIDE_QUOTE = re.compile(r"(?:[+-]?\d+\.\d{3} )?\[[+-]?\d+\.\d{3}, [+-]?\d+\.\d{3}\]"
                          r"|(?<![\w.])[+-]?\d+\.\d{3,4}(?![\w.])")


def guide_quotes_missing(guide: str, outputs: str) -> tuple[list[str], list[str]]:
    """The intervals and 3-4-decimal numbers quoted in the workshop guide's "Questions learners ask" section, and
    those of them that no stored output prints."""
    section = guide.split("## Questions learners ask")[1].split("\n## ")[0]
    section = re.sub(r"\s+", " ", section)   # an interval may be wrapped across two lines of the guide
    quoted = _GUIDE_QUOTE.findall(section)
    return quoted, [q for q in quoted if q not in outputs]


def test_every_number_in_the_guide_questions_is_in_a_stored_output():
    """workshop/GUIDE.md answers learners' questions with numbers copied from the stored outputs; each interval and
    each number with three or four decimals must be printed by some notebook's full run, so a re-run that changes
    one makes this fail until the guide follows."""
    outputs = "\n".join(output_text(p) for p in NOTEBOOKS)
    quoted, missing = guide_quotes_missing((ROOT / "workshop" / "GUIDE.md").read_text(), outputs)
    assert len(quoted) >= 20, "the guide's questions quote almost no measured number: update this test's pattern"
    assert not missing, f"numbers in the guide's 'Questions learners ask' that no stored output prints: {missing}"


def test_the_guide_check_catches_a_number_no_output_prints():
    """The check above can fail: a planted interval and a planted number, absent from the outputs, are reported."""
    guide = ("## Questions learners ask\n- cell [3]: +0.012 [+0.001,\n  +0.028] and [-0.5, +0.5] and 0.9026 but not "
             "0.90 or 3.07e-01\n## Next section\n+0.999 [+0.998, +0.997]\n")
    quoted, missing = guide_quotes_missing(guide, outputs="B - A = +0.012 [+0.001, +0.028] over seeds")
    assert quoted == ["+0.012 [+0.001, +0.028]", "0.9026"]
    assert missing == ["0.9026"]
    quoted, missing = guide_quotes_missing(guide, outputs="accuracy 0.9026")
    assert missing == ["+0.012 [+0.001, +0.028]"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_hold_no_machine_paths(path):
    """A learner's page shows no folder of the machine that ran it: no virtual environment, no temporary folder,
    no checkout path (print paths relative to a folder the notebook names, as the setup cell does)."""
    text = output_text(path)
    found = [pattern for pattern in ("/.venv", "site-packages/", "/tmp/tmp", str(ROOT)) if pattern in text]
    assert not found, f"{path.name}: stored outputs show machine paths ({found}); print them relative instead"
