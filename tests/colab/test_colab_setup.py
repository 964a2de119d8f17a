"""Colab as it is today, replicated (``make colab-test``): each notebook's setup cell run the way Colab runs it,
then the whole notebook in fast mode, in a replica of Colab's runtime.

The replica is a fresh virtual environment on Colab's Python (3.13 today) with Colab's own versions of the
packages the course imports, pinned in ``tests/colab/colab_pins.txt`` (written by ``tools/colab_pins.py`` from
Colab's published ``pip freeze``, which names its source and date); pip resolves everything else, and the test
records what it chose in ``.venv-colab/resolved.txt``. The replica is kept in ``.venv-colab`` and rebuilt when
the pins change.

Like Colab: a fresh working folder without the course (Colab's ``/content``), ``google.colab`` imported before
the first cell (here a stub module), an IPython shell, no GPU, so the setup cell picks the backend Colab's CPU
runtime gets, and a fresh runtime for each notebook: an empty environment that sees the replica's packages, so
what one setup cell installs never reaches the replica or the next notebook.
The only change from Colab: ``COURSE_CLONE_FROM`` makes the cell clone this checkout (its committed
``HEAD``) instead of GitHub. A test fails if the setup cell changes the version of any package the replica had,
if ``import utils`` does not find the clone afterwards, if a data file's checksum fails, or if any cell of the
notebook raises.
"""
from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*(ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"), *(ROOT / "notebooks").glob("appendix_*.ipynb")])
PINS = Path(__file__).with_name("colab_pins.txt")
REPLICA = ROOT / ".venv-colab"
PYTHON_ENV = "COURSE_COLAB_PYTHON"   # the Python to build the replica with, if not found on PATH or under pyenv

RUNNER = r'''
import json, sys
from importlib.metadata import distributions, version
from pathlib import Path

import google.colab   # Colab's kernel has imported it before the first cell runs
from IPython.core.interactiveshell import InteractiveShell

def installed():   # the version Python imports: the runtime's own copy first, then the image's
    names = {d.metadata["Name"].lower().replace("_", "-") for d in distributions()}
    return {name: version(name) for name in names}

before = installed()
result = InteractiveShell.instance().run_cell(Path(sys.argv[1]).read_text())
if not result.success:
    sys.exit(f"the setup cell raised {result.error_in_exec or result.error_before_exec!r}")
print(json.dumps({"before": before, "after": installed()}))
'''

AFTER = r'''
import json, sys
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
print(json.dumps(report))
'''

#: A fast-mode cell takes seconds to about a minute; a cell still running after this is hung, not slow.
CELL_TIMEOUT = 300


def execute_notebook(notebook: Path, python: Path, workdir: Path, env: dict) -> None:
    """Run ``notebook`` top to bottom in a kernel on ``python`` (the Colab runtime), from ``workdir``.

    The kernel and everything it imports are the runtime's (Colab's ipykernel, IPython and packages); the client
    that sends it the cells is this environment's nbclient, as on Colab the kernel is driven by Colab's own front
    end, not by a client inside the image. ``google.colab`` is imported before the first cell, as Colab's kernel
    does. A cell that raises fails the test with its traceback; a hung cell fails after :data:`CELL_TIMEOUT`."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    specs = workdir.parent / "kernels"
    (specs / "colab").mkdir(parents=True, exist_ok=True)
    (specs / "colab" / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab replica", "language": "python", "env": env}))
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(   # as Colab's kernel does before any cell; and the kernel is ours
        f"import google.colab, sys\nassert sys.executable == {str(python)!r}, sys.executable"))
    manager = KernelManager(kernel_name="colab", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]))
    NotebookClient(nb, km=manager, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(workdir)}}).execute()


def pinned_python() -> str:
    import re

    match = re.search(r"^# Colab's Python: (\d+\.\d+)$", PINS.read_text(), re.M)
    assert match, f"{PINS.name} names no Python version; run python -m tools.colab_pins"
    return match.group(1)


def find_python(version: str) -> Path:
    """Colab's Python: $COURSE_COLAB_PYTHON, ``python3.13`` on PATH, or pyenv's; a clear failure otherwise."""
    candidates = [os.environ.get(PYTHON_ENV, ""), shutil.which(f"python{version}") or "",
                  *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")))]
    for candidate in filter(None, candidates):
        ran = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if ran.returncode == 0 and ran.stdout.strip() == version:
            return Path(candidate)
    pytest.fail(f"make colab-test replicates Colab's Python {version}, and no Python {version} was found (not on "
                f"PATH as python{version}, not under ~/.pyenv/versions). Install it (`pyenv install {version}`, or "
                f"your system's python{version} package), or point {PYTHON_ENV} at its executable.")


@pytest.fixture(scope="session")
def replica() -> Path:
    """The replica's Python, built once per set of pins (the two test workers share it, one builds it)."""
    version = pinned_python()
    stamp = REPLICA / "pins.sha256"
    digest = hashlib.sha256(PINS.read_bytes()).hexdigest()
    python = REPLICA / "bin" / "python"
    with open(ROOT / ".venv-colab.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == digest and python.exists()):
            shutil.rmtree(REPLICA, ignore_errors=True)
            subprocess.run([find_python(version), "-m", "venv", REPLICA], check=True)
            installed = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                        "-r", PINS], capture_output=True, text=True, timeout=1800)
            assert installed.returncode == 0, f"pip could not install Colab's pins:\n{installed.stderr[-4000:]}"
            freeze = subprocess.run([python, "-m", "pip", "freeze", "--disable-pip-version-check"],
                                    capture_output=True, text=True, check=True).stdout
            (REPLICA / "resolved.txt").write_text(f"# pip's choices for {PINS.name}, Python {version}\n" + freeze)
            stubs = REPLICA / "stubs" / "google" / "colab"
            stubs.mkdir(parents=True)   # no google/__init__.py: google is a namespace package (protobuf is in it)
            (stubs / "__init__.py").write_text('"""A stand-in for Colab\'s google.colab module."""\n')
            # JAX imports google.colab.output when google.colab is importable (its debugger's Colab front end)
            (stubs / "output.py").write_text('"""A stand-in for google.colab.output: its calls do nothing here."""\n'
                                             "def enable_custom_widget_manager(): pass\n"
                                             "def eval_js(script, ignore_result=False): return None\n"
                                             "def register_callback(name, callback): pass\n")
            stamp.write_text(digest)
    return python


def _environment(python: Path) -> dict:
    env = {**os.environ, "COURSE_CLONE_FROM": str(ROOT), "PYTHONPATH": str(REPLICA / "stubs"),
           "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}", "COURSE_PROGRESS": "0"}
    for name in ("COURSE_FAST", "KERAS_BACKEND", "COURSE_BACKEND", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    return env


def test_the_replica_has_colabs_python_and_versions(replica):
    import re

    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)$", PINS.read_text(), re.M))
    report = subprocess.run([replica, "-c", "import json, sys; from importlib.metadata import version; "
                             "print(json.dumps(['%d.%d' % sys.version_info[:2], "
                             f"{{n: version(n) for n in {list(pins)}}}]))"],
                            capture_output=True, text=True, check=True)
    python, versions = json.loads(report.stdout)
    assert python == pinned_python()
    assert versions == pins, {n: (versions[n], pins[n]) for n in pins if versions[n] != pins[n]}


def fresh_runtime(replica: Path, where: Path) -> Path:
    """A fresh Colab runtime for one notebook: an empty environment on the replica's Python that sees the
    replica's packages (Colab's image) through a .pth file. Whatever the setup cell installs lands here, so
    every notebook starts from the same image, as a new Colab runtime does."""
    subprocess.run([replica, "-m", "venv", "--without-pip", where], check=True)
    python = where / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    own, image = (subprocess.run([p, "-c", purelib], capture_output=True, text=True, check=True).stdout.strip()
                  for p in (python, replica))
    (Path(own) / "colab_image.pth").write_text(image + "\n")
    return python


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name.split("_")[0])
def test_notebook_on_colab(notebook, replica, tmp_path):
    replica = fresh_runtime(replica, tmp_path / "runtime")
    env = _environment(replica)
    cell = tmp_path / "setup_cell.py"
    cell.write_text(nbformat.read(notebook, as_version=4).cells[1].source)
    workdir = tmp_path / "content"   # Colab's /content: the course is not there
    workdir.mkdir()
    ran = subprocess.run([replica, "-c", RUNNER, cell], cwd=workdir, env=env, capture_output=True, text=True,
                         timeout=900)
    assert ran.returncode == 0, f"the setup cell failed on 'Colab':\n{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"
    versions = json.loads(ran.stdout.strip().splitlines()[-1])
    changed = {name: f"{old} -> {versions['after'].get(name, 'removed')}" for name, old in versions["before"].items()
               if versions["after"].get(name) != old}
    assert not changed, f"the setup cell changed Colab's preinstalled packages: {changed}"
    clone = workdir / ROOT.name
    assert (clone / "utils").is_dir(), f"the cell did not clone the course into {workdir}: {list(workdir.iterdir())}"

    after = subprocess.run([replica, "-c", AFTER], cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert after.returncode == 0, f"`import utils` failed after the setup cell:\n{after.stderr[-3000:]}"
    report = json.loads(after.stdout.strip().splitlines()[-1])
    assert Path(report["utils"]).resolve().is_relative_to(clone.resolve()), report["utils"]
    bad_data = {name: why for name, why in report["data"].items() if why != "ok"}
    assert not bad_data, f"data checksums failed in the clone: {bad_data}"

    # the whole notebook, in fast mode (the same code path on less work), in the runtime's kernel, from /content
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    try:
        execute_notebook(notebook, replica, workdir, {**env, "COURSE_FAST": "1"})
    except (CellExecutionError, CellTimeoutError) as error:
        pytest.fail(f"{notebook.name} on the Colab replica:\n{str(error)[-5000:]}")
