import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Plain `pytest` runs the notebooks in fast mode too (nbval's kernels inherit this environment);
# `COURSE_FAST=0 pytest` runs them in full.
os.environ.setdefault("COURSE_FAST", "1")
