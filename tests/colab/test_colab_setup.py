"""Each notebook's setup cell, run the way Colab runs it (``make colab-test``).

Like Colab: a fresh working folder without the course, ``google.colab`` imported before the first cell (here a
stub module), an IPython shell, and a Python environment that already has TensorFlow, Keras, JAX, numpy and
pandas. The only change from Colab: ``COURSE_CLONE_FROM`` makes the cell clone this checkout (its committed
HEAD) instead of GitHub.

The environment is a fresh virtual environment that sees the course's packages through a ``.pth`` file, so
whatever the cell's pip installs lands in the fresh environment, never in the course's. The test fails if the
cell installs, upgrades or downgrades TensorFlow, Keras, JAX, numpy or pandas, if ``import utils`` does not
find the clone afterwards, or if a data file's checksum fails.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
PROTECTED = ("tensorflow", "keras", "jax", "numpy", "pandas")

RUNNER = r'''
import json, sys
from importlib.metadata import version
from pathlib import Path

import google.colab   # Colab's kernel has imported it before the first cell runs
from IPython.core.interactiveshell import InteractiveShell

protected = json.loads(sys.argv[2])
before = {name: version(name) for name in protected}
result = InteractiveShell.instance().run_cell(Path(sys.argv[1]).read_text())
if not result.success:
    sys.exit(f"the setup cell raised {result.error_in_exec or result.error_before_exec!r}")
print(json.dumps({"before": before}))
'''

AFTER = r'''
import json, sys
from importlib.metadata import distribution
from pathlib import Path

import utils
from utils.checksums import DATA_DIR, listed_files, verified_path

report = {"utils": utils.__file__, "data": {}}
for name in listed_files(DATA_DIR):
    try:
        verified_path(DATA_DIR, name)
        report["data"][name] = "ok"
    except ValueError as error:
        report["data"][name] = str(error)
report["versions"] = {n: [distribution(n).version, str(distribution(n).locate_file(""))] for n in json.loads(sys.argv[1])}
print(json.dumps(report))
'''


@pytest.fixture(scope="session")
def colab_python(tmp_path_factory) -> Path:
    """A fresh Python environment that already has the course's TensorFlow stack, as Colab's does."""
    home = tmp_path_factory.mktemp("colab-env")
    venv.create(home / "venv", with_pip=False)
    python = home / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "course_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    stub = home / "stubs" / "google" / "colab"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text('"""A stand-in for Colab\'s google.colab module."""\n')
    # JAX imports google.colab.output when google.colab is importable (its debugger's Colab front end)
    (stub / "output.py").write_text('"""A stand-in for google.colab.output: its calls do nothing here."""\n'
                                    "def enable_custom_widget_manager(): pass\n"
                                    "def eval_js(script, ignore_result=False): return None\n"
                                    "def register_callback(name, callback): pass\n")
    return python


def test_the_environment_is_colab_like(colab_python):
    """The fresh environment sees the course's packages, and pip there installs into it, not the course's."""
    out = subprocess.run([colab_python, "-c", "import sys, tensorflow, sysconfig; "
                          "print(tensorflow.__version__, sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[1].startswith(str(colab_python.parents[1])), out


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_setup_cell_on_colab(notebook, colab_python, tmp_path):
    cell = tmp_path / "setup_cell.py"
    cell.write_text(nbformat.read(notebook, as_version=4).cells[1].source)
    workdir = tmp_path / "content"   # Colab's /content: the course is not there
    workdir.mkdir()
    env = {**os.environ, "COURSE_CLONE_FROM": str(ROOT), "PYTHONPATH": str(colab_python.parents[2] / "stubs")}
    env.pop("COURSE_FAST", None)
    env.pop("KERAS_BACKEND", None)
    ran = subprocess.run([colab_python, "-c", RUNNER, cell, json.dumps(PROTECTED)], cwd=workdir, env=env,
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, f"the setup cell failed on 'Colab':\n{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"
    before = json.loads(ran.stdout.strip().splitlines()[-1])["before"]
    clone = workdir / ROOT.name
    assert (clone / "utils").is_dir(), f"the cell did not clone the course into {workdir}: {list(workdir.iterdir())}"

    after = subprocess.run([colab_python, "-c", AFTER, json.dumps(PROTECTED)], cwd=clone, env=env,
                           capture_output=True, text=True, timeout=300)
    assert after.returncode == 0, f"`import utils` failed after the setup cell:\n{after.stderr[-3000:]}"
    report = json.loads(after.stdout.strip().splitlines()[-1])
    assert Path(report["utils"]).resolve().is_relative_to(clone.resolve()), report["utils"]
    bad_data = {name: why for name, why in report["data"].items() if why != "ok"}
    assert not bad_data, f"data checksums failed in the clone: {bad_data}"
    fresh_site = colab_python.parents[1]
    for name in PROTECTED:
        found, where = report["versions"][name]
        assert found == before[name], f"the setup cell changed {name}: {before[name]} -> {found}"
        assert not Path(where).resolve().is_relative_to(fresh_site.resolve()), \
            f"the setup cell installed {name} {found} into the Colab environment"
