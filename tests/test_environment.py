"""The two environment files agree, and every third-party import is declared in them."""
import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.backend_free  # no Keras backend involved: run once, not once per backend

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ({"utils", "tools", "solutions", "conftest", "fakes", "stored_outputs"}
         | {p.stem for p in (ROOT / "solutions").glob("*.py")}
         | {p.stem for p in (ROOT / "site").glob("*.py")}    # the site's own modules (lessons, questions)
         | {p.stem for p in (ROOT / "tools").glob("*.py")})   # a tool importing another from its folder


def _requirement_lines(text: str) -> dict[str, str]:
    specs = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip().lstrip("- ").strip()
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*([<>=!~].*)?$", line)
        if match and match.group(1) not in {"python", "pip", "name", "channels", "dependencies", "conda-forge"}:
            specs[match.group(1).lower()] = (match.group(2) or "").replace(" ", "")
    return specs


def requirements() -> dict[str, str]:
    return _requirement_lines((ROOT / "requirements.txt").read_text())


def test_requirements_and_environment_yml_declare_the_same_pins():
    env = (ROOT / "environment.yml").read_text()
    pip_section = env.split("- pip:")[1]
    assert _requirement_lines(pip_section) == requirements()
    assert "python>=3.11,<3.14" in env   # the Pythons README and check_setup admit: 3.11, 3.12, 3.13


def test_course_pins_what_the_issue_asks_for():
    req = requirements()
    assert req["keras-self-attention"] == "==0.51.0"
    assert req["tensorflow"].startswith(">=2.19")  # the lowest `make test-oldest` runs the unit tests on
    for name in ("jupyterlab", "matplotlib", "seaborn", "scikit-learn", "nbval", "pytest"):
        assert name in req


def _imports(source: str) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _code_sources():
    for path in [*ROOT.glob("utils/**/*.py"), *ROOT.glob("tools/*.py"), *ROOT.glob("solutions/*.py"),
                 *ROOT.glob("tests/**/*.py"), *ROOT.glob("site/*.py")]:
        yield path, path.read_text()
    for path in ROOT.glob("notebooks/*.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        yield path, "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))


#: The website's code runs in its own environment (.venv-site), from requirements-site.txt
SITE_CODE = {ROOT / "tools" / "check_site.py", ROOT / "tools" / "vendor_site_js.py", *ROOT.glob("site/*.py")}


def test_every_third_party_import_is_declared():
    declared = set(requirements())
    site = set(_requirement_lines((ROOT / "requirements-site.txt").read_text()))
    dist_of = packages_distributions()
    missing = {}
    for path, source in _code_sources():
        for module in _imports(source) - LOCAL - set(sys.stdlib_module_names):
            dists = {d.lower() for d in dist_of.get(module, [module])}
            if not dists & (site if path in SITE_CODE else declared):
                missing.setdefault(module, path.name)
    assert not missing, f"imports not declared in requirements.txt/environment.yml: {missing}"
