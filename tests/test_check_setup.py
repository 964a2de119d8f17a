"""The set-up check (python -m utils.check_setup): green in the course environment, and red, naming what is
wrong and its fix, in broken ones: a missing package, a package outside its range, a corrupted data file."""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def check(*args, python=sys.executable, env=None, cwd=ROOT):
    env = {**os.environ, **(env or {})}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run([python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout


@pytest.mark.once   # trains a tiny model; the check picks its own backend, whatever KERAS_BACKEND the test run has
def test_healthy_environment_passes_every_item():
    code, out = check("-m", "utils.check_setup")
    assert code == 0, out
    items = {line.split()[1] for line in out.splitlines() if line.startswith(("✓", "✗"))}
    assert items == {"python", "packages", "devices", "data", "training", "resources"}, out
    assert "✗" not in out and "you are ready for the course" in out
    assert "tensorflow" in out and "checksum matches" in out and "loss" in out


@pytest.mark.backend_free
def test_a_missing_package_is_named_with_its_fix(tmp_path):
    """An environment without seaborn: the course's site-packages, minus seaborn, seen through symlinks by a
    Python started without its own site-packages (-S)."""
    site = Path(sysconfig.get_paths()["purelib"])
    view = tmp_path / "site-packages"
    view.mkdir()
    for entry in site.iterdir():
        if not entry.name.lower().startswith("seaborn"):
            (view / entry.name).symlink_to(entry)
    code, out = check("-S", "-m", "utils.check_setup", "--only", "python,packages",
                      env={"PYTHONPATH": f"{ROOT}{os.pathsep}{view}"})
    assert code == 1, out
    red = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(red) == 1, out
    assert "seaborn is not installed (needs <0.14,>=0.13)" in red[0]
    assert 'fix: `pip install "seaborn<0.14,>=0.13"`' in red[0] and "make setup" in red[0]


@pytest.mark.backend_free
def test_a_package_outside_its_range_is_named(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy>=99  # no such numpy\ntqdm>=4.66,<5\n")
    code, out = check("-m", "utils.check_setup", "--only", "packages", "--requirements", str(requirements))
    assert code == 1, out
    red = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(red) == 1 and "numpy" in red[0] and "is outside >=99" in red[0], out
    assert "1 of 2 checks passed" in out


@pytest.mark.backend_free
def test_a_corrupted_and_a_missing_data_file_are_named(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    corrupted = data / "japanese_vowels.npz"
    content = bytearray(corrupted.read_bytes())
    content[len(content) // 2] ^= 0xFF   # one flipped byte
    corrupted.write_bytes(bytes(content))
    (data / "clinic_example.npz").unlink()
    code, out = check("-m", "utils.check_setup", "--only", "data", "--data-dir", str(data))
    assert code == 1, out
    red = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(red) == 2, out
    assert "japanese_vowels.npz is corrupted" in red[0] and "git checkout data/japanese_vowels.npz" in red[0]
    assert "clinic_example.npz is missing" in red[1] and "git checkout data/clinic_example.npz" in red[1]


@pytest.mark.backend_free
def test_unknown_items_are_refused():
    code, out = check("-m", "utils.check_setup", "--only", "pyhton")
    assert code == 2


@pytest.mark.backend_free
def test_old_keras_gets_a_visible_warning_with_the_fix(monkeypatch):
    import keras

    from utils.runtime import warn_if_keras_too_old

    monkeypatch.setattr(keras, "__version__", "3.10.0")
    with pytest.warns(UserWarning,
                      match=r'Keras 3\.10\.0 is older than the course\'s 3\.12.*pip install "keras>=3\.12,<4"'):
        warn_if_keras_too_old()
    monkeypatch.setattr(keras, "__version__", "3.12.0")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_keras_too_old()
