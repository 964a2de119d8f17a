"""How long the clinic's third answer takes: ``attention_fit`` for ten seeds of a course-size model on JapaneseVowels.

Usage: python -m tools.bench_attention_fit [--seeds 10] [--backend jax]      (part of make bench)

It times lesson 07's Q000 pair (BiLSTM(16) with masked average pooling against the same with masked
SeqSelfAttention, the clinic's recipe: 12 epochs, batch 64) in a fresh process, from the call to the verdict:
building, compiling and training both models for every seed. The issue's budget is 60 s on 2 cores. The seconds
go to benchmarks/attention_fit.json with lesson 01's calibration cell timing from the stored notebook, so a
reader can scale them to a slower or faster day. This is a benchmark, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "attention_fit.json"
BUDGET_SECONDS = 60


def measure(seeds: int) -> dict:
    """Run in the child process: the seconds of one attention_fit call, and its verdict."""
    from utils.runtime import setup_notebook

    setup_notebook(seed=0)
    from utils.answers import attention_fit
    from utils.data import load_japanese_vowels
    from utils.registry import MODELS

    data = load_japanese_vowels()
    start = time.perf_counter()
    fit = attention_fit(MODELS["07 Q000, no attention"], MODELS["07 Q000, fixed"], data, seeds)
    seconds = time.perf_counter() - start
    fit_seconds = sum(r.seconds for runs in (fit.without, fit.with_attention) for r in runs.runs)
    return {"seconds": round(seconds, 1), "training seconds (fit calls only)": round(fit_seconds, 1),
            "verdict": fit.sentence()}


def calibration() -> float | None:
    """Lesson 01's full-run seconds as recorded in notebooks/run_times.json: the machine's pace that day."""
    times = json.loads((ROOT / "notebooks" / "run_times.json").read_text())
    return next((s for name, s in times.items() if name.startswith("01_")), None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--backend", default="jax", choices=("jax", "tensorflow"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.seeds)))
        return 0
    env = {**os.environ, "COURSE_BACKEND": args.backend, "COURSE_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
    env.pop("COURSE_FAST", None)
    done = subprocess.run([sys.executable, __file__, "--child", "--seeds", str(args.seeds)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    record = {"what": "attention_fit: lesson 07's Q000 pair, ten seeds, JapaneseVowels, from the call to the verdict",
              "backend": args.backend, "seeds": args.seeds, **result, "budget seconds": BUDGET_SECONDS,
              "lesson 01 full run, seconds, as last recorded in notebooks/run_times.json (calibration)": calibration(),
              "cpu cores": os.cpu_count(),
              "machine": platform.machine(), "date": time.strftime("%Y-%m-%d")}
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
