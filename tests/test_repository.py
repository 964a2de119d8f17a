"""The README's two fresh-machine commands exist, and CI calls the same test command."""
import re
from pathlib import Path

import pytest

from utils.check_setup import requirements
from utils.course_map import course_map, lesson_notebooks

pytestmark = pytest.mark.backend_free  # no Keras backend involved: run once, not once per backend

ROOT = Path(__file__).resolve().parents[1]


def test_readme_names_exactly_the_two_make_targets_and_ci_uses_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands for a fresh machine.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make lab", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test: setup", makefile, re.M)
    assert "COURSE_FAST=1" in makefile.split("\ntest:")[1].split("\n\n")[0]
    ci = (ROOT / ".ci" / "run").read_text()
    steps = re.findall(r"^make [\w-]+$", ci, re.M)
    assert steps[0] == "make test" and "make site-test" in steps, steps


def _readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert found, f"the README has no section '## {title}'"
    return found.group(1)


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


def test_readme_sections_for_the_site_the_workshop_and_the_setup_check_name_real_targets():
    """Each section's commands exist: make targets in the Makefile, python scripts and modules in the tree."""
    targets = _makefile_targets()
    for title in ("The course website", "Workshops", "Check your set-up"):
        section = _readme_section(title)
        for target in re.findall(r"^make ([\w-]+)", section, re.M):
            assert target in targets, f"README '{title}' runs make {target}, which the Makefile lacks"
        for script in re.findall(r"python (tools/[\w/]+\.py)", section):
            assert (ROOT / script).is_file(), script
        for module in re.findall(r"python -m (utils\.\w+)", section):
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), module


def test_learner_targets_also_run_without_make():
    """Windows learners have no make: setup, lab and check are python commands, and the README shows both."""
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "lab"):
        recipe = makefile.split(f"\n{target}:")[1].split("\n\n")[0]
        assert f"tools/course.py {target}" in recipe.replace("$(COURSE)", "tools/course.py"), target
    readme = (ROOT / "README.md").read_text()
    for command in ("python tools/course.py setup", "python tools/course.py lab", "python tools/course.py check",
                    "python -m utils.check_setup", "make lab OFFLINE=1"):
        assert command in readme, command


def test_site_requirements_are_pinned_and_kept_apart():
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements-site.txt").read_text().splitlines()]
    pins = [pin for pin in pins if pin]
    assert pins and all(re.fullmatch(r"[\w.-]+==[\w.]+", pin) for pin in pins), pins
    course = (ROOT / "requirements.txt").read_text().lower()
    assert not any(pin.split("==")[0].lower() in course for pin in pins if pin.split("==")[0] != "docutils")


def test_readme_course_map_lists_every_notebook_with_its_badge():
    rows = course_map()
    for path in lesson_notebooks(appendices=True):
        assert path.name in rows, f"{path.name} is missing from the README course map"
        assert f"/blob/main/notebooks/{path.name})" in " | ".join(rows[path.name])


REQUIRED = {r.name.lower().replace("-", "_") for r in requirements(ROOT / "requirements.txt")}
IMPORT_NAMES = {"scikit_learn": "sklearn", "pytest_xdist": "xdist"}


def _python_files(*folders):
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def test_no_test_skips_a_required_package():
    """A broken install must fail, not pass as "skipped": no importorskip of a package in requirements.txt."""
    required = {IMPORT_NAMES.get(name, name) for name in REQUIRED}
    for path in _python_files("tests"):
        for name in re.findall(r"importorskip\(\s*[\"']([\w.]+)", path.read_text()):
            assert name.split(".")[0].lower() not in required, f"{path.name} skips on {name}, a required package"


def test_private_keras_api_is_used_in_one_guarded_module():
    offenders = [p.relative_to(ROOT) for p in _python_files("utils", "tools", "solutions")
                 if re.search(r"keras\.src|from keras import src|[.\"']_inbound_nodes|[.\"']_keras_mask\b",
                              p.read_text()) and p.name != "keras_internals.py"]
    assert offenders == []


def test_one_stem_one_masked_softmax():
    """The Masking -> BiLSTM stem is built in one place, and there is one masked softmax in Keras ops.
    An exercise's ``learner_...`` model is a learner's code with a fault to find, not a course model."""
    sources = {p.relative_to(ROOT).as_posix(): p.read_text() for p in _python_files("utils")}
    learner = re.compile(r"^def learner_\w+\(.*?(?=^\S)", re.S | re.M)
    builds_stem = sorted(name for name, text in sources.items()
                         if "layers.Masking(" in learner.sub("", text)
                         or "layers.Bidirectional(" in learner.sub("", text))
    assert builds_stem == ["utils/builder.py"]
    softmaxes = sorted(name for name, text in sources.items() if re.search(r"def (masked_)?softmax\(", text))
    assert softmaxes == ["utils/keras_ops.py", "utils/reference_attention.py"]  # the reference: lesson 02's NumPy
    reference = sources["utils/reference_attention.py"]
    assert "import numpy" in reference and "keras" not in reference
    # every softmax in a course layer goes through keras_ops.masked_softmax: no other module exponentiates scores
    exponentiates = sorted(name for name, text in sources.items() if re.search(r"ops\.(exp|softmax)\(", text))
    assert exponentiates == ["utils/keras_ops.py"]


def test_oldest_constraints_come_from_requirements_and_match_environment_yml(tmp_path):
    import tools.lowest_versions as tool

    lowest = tool.lowest_versions()
    assert set(lowest) == {"tensorflow", "keras", "jax", "keras-self-attention"}
    environment = (ROOT / "environment.yml").read_text()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        spec_text = line.split("#", 1)[0].strip()
        if spec_text:
            assert f"- {spec_text}\n" in environment, f"environment.yml differs from requirements.txt on {spec_text}"
    unbounded = tmp_path / "requirements.txt"
    unbounded.write_text("tensorflow<3\nkeras>=3\njax>=0.5\nkeras-self-attention==0.51.0\n")
    with pytest.raises(ValueError, match="no lower bound"):
        tool.lowest_versions(unbounded)


def test_the_package_docs_name_every_module():
    """utils/__init__.py and utils/README.md say what each module holds: a new or renamed module is listed."""
    modules = {p.stem for p in (ROOT / "utils").glob("*.py") if p.stem != "__init__"} | {"diagnose", "exercises"}
    init = (ROOT / "utils" / "__init__.py").read_text()
    readme = (ROOT / "utils" / "README.md").read_text()
    assert not [m for m in modules if f"``{m}``" not in init], "utils/__init__.py does not name every module"
    assert not [m for m in modules if f"`{m}.py`" not in readme and f"`{m}/`" not in readme], \
        "utils/README.md does not name every module"
    for name in re.findall(r"`(\w+)\.py`", readme):
        assert name in modules or (ROOT / "utils" / "diagnose" / f"{name}.py").exists(), f"README names {name}.py"


def test_every_tool_imports_from_the_repository_root_and_takes_its_arguments_with_argparse():
    """Tools run as ``python -m tools.NAME`` from the root, with no sys.path edits (``tools/course.py``, which runs on
    the system Python before .venv exists, is the one exception)."""
    import importlib

    for path in sorted((ROOT / "tools").glob("*.py")):
        text = path.read_text()
        assert "argparse" in text, f"{path.name} parses its arguments without argparse"
        if path.name != "course.py":
            assert "sys.path.insert" not in text.split("'''")[0], f"{path.name} edits sys.path"
        if path.stem not in ("check_site", "vendor_site_js"):   # those two run in the website's environment
            importlib.import_module(f"tools.{path.stem}")
