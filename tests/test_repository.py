"""The README's two fresh-machine commands exist, and CI calls the same test command."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_names_exactly_the_two_make_targets_and_ci_uses_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands for a fresh machine.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make lab", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab: setup", makefile, re.M) and re.search(r"^test: setup", makefile, re.M)
    assert "COURSE_FAST=1" in makefile.split("\ntest:")[1].split("\n\n")[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_readme_course_map_lists_every_notebook_with_its_badge():
    readme = (ROOT / "README.md").read_text()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        row = next((line for line in readme.splitlines() if f"(notebooks/{path.name})" in line), None)
        assert row, f"{path.name} is missing from the README course map"
        assert f"/blob/main/notebooks/{path.name})" in row
