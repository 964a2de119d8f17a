"""A fresh course environment installed from a wheelhouse with the package index turned off
(``make wheelhouse-test``; outside ``make test``: a full TensorFlow environment is gigabytes).

It makes a wheelhouse for this machine (``tools/wheelhouse.py --platforms host``, the same code as
``make wheelhouse``), then runs the learner's offline set-up, ``python tools/course.py setup --offline``, with pip's
configuration ignored (no extra indexes or local wheel folders), ``PIP_NO_INDEX=1`` and every proxy pointed at a
closed port, so any attempt to reach the network fails. The new environment must then pass the set-up check.
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEAD = "http://127.0.0.1:9"   # the discard port: nothing listens, every request fails at once


def test_offline_install_from_a_wheelhouse(tmp_path):
    wheelhouse, venv = tmp_path / "wheelhouse", tmp_path / "venv"
    made = subprocess.run([sys.executable, "tools/wheelhouse.py", "--platforms", "host", "--dest", wheelhouse],
                          cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    offline = {**os.environ, "VENV": str(venv), "WHEELHOUSE": str(wheelhouse), "PIP_CONFIG_FILE": os.devnull,
               "PIP_NO_INDEX": "1", "HTTP_PROXY": DEAD, "HTTPS_PROXY": DEAD, "http_proxy": DEAD,
               "https_proxy": DEAD, "NO_PROXY": "", "no_proxy": ""}
    offline.pop("PIP_FIND_LINKS", None)
    setup = subprocess.run([sys.executable, "tools/course.py", "setup", "--offline"], cwd=ROOT, env=offline,
                           capture_output=True, text=True)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "--no-index" in setup.stdout and (venv / ".installed").exists()
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    checked = subprocess.run([python, "-m", "utils.check_setup"], cwd=ROOT, env=offline, capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stdout
    assert "you are ready for the course" in checked.stdout
