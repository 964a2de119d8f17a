"""What JAX's persistent compilation cache saves: per model configuration, and for a whole notebook re-run.

Usage: python -m tools.bench_compilation_cache [--rounds 3] [--notebook notebooks/02_soft_vector_retrieval.ipynb]
       (part of make bench; --notebook '' skips the notebook part)

Part 1, per configuration. Each trial is a fresh process that builds one registry model, then compiles and
trains it for one epoch on JapaneseVowels and predicts the test split, in one of three states:
  - "off":  no persistent cache (JAX compiles everything);
  - "cold": an empty cache folder (JAX compiles everything and writes it);
  - "warm": the folder the cold trial just filled (JAX loads the compiled programs).
The states are interleaved (off, cold, warm for one model, then the next model, then the next round), so a
machine that drifts during the run cannot favour one state. Each trial also hashes the trained weights and the
predictions: the three states must agree bit for bit (the cache changes when a program is compiled, never what
it computes); the tool exits with an error if they do not.

Part 2, a notebook re-run: the notebook runs top to bottom in full mode twice with a fresh cache folder, the
first time cold, the second warm: the time a learner saves by re-running it.

Results go to benchmarks/compilation_cache.json with lesson 01's recorded full-run time (the day's
calibration). A benchmark, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.bench_attention_fit import calibration  # lesson 01's recorded full-run time: the day's pace

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "compilation_cache.json"
CONFIGURATIONS = ("01 JV average", "03 JV attention pooling", "05 BiLSTM + encoder block")
STATES = ("off", "cold", "warm")


def trial(model_name: str) -> dict:
    """In the child process: build, compile, train one epoch and predict; the seconds and the result's hash."""
    start = time.perf_counter()
    from utils.runtime import choose_backend, enable_compilation_cache, set_seed

    choose_backend("jax")
    if os.environ.get("BENCH_CACHE"):   # "cold" and "warm" trials; "off" leaves JAX's cache unset
        enable_compilation_cache(os.environ["BENCH_CACHE"])
    import keras
    import numpy as np

    from utils.data import load_japanese_vowels
    from utils.registry import MODELS

    data = load_japanese_vowels()
    set_seed(0)
    model = MODELS[model_name].build(data)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    imported = time.perf_counter()
    model.fit(data.train.X, data.train.y, epochs=1, batch_size=64, verbose=0)
    predictions = model.predict(data.test.X, batch_size=256, verbose=0)
    done = time.perf_counter()
    digest = hashlib.sha256()
    for array in [*model.get_weights(), predictions]:
        digest.update(np.ascontiguousarray(array).tobytes())
    return {"compile + train + predict seconds": round(done - imported, 2),
            "process seconds": round(done - start, 2), "sha256": digest.hexdigest()}


def run_child(model_name: str, cache: str | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COURSE_COMPILATION_CACHE": "1"}
    env.pop("COURSE_FAST", None)
    env.pop("BENCH_CACHE", None)
    if cache:
        env["BENCH_CACHE"] = cache
    done = subprocess.run([sys.executable, __file__, "--child", model_name], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"trial {model_name!r} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_configuration(rounds: int) -> tuple[dict, bool]:
    seconds = {(m, s): [] for m in CONFIGURATIONS for s in STATES}
    identical = True
    for _ in range(rounds):
        for model_name in CONFIGURATIONS:
            with tempfile.TemporaryDirectory() as cache:
                results = {"off": run_child(model_name, None), "cold": run_child(model_name, cache)}
                results["warm"] = run_child(model_name, cache)
            identical &= len({r["sha256"] for r in results.values()}) == 1
            for state, result in results.items():
                seconds[model_name, state].append(result["compile + train + predict seconds"])
    table = {}
    for model_name in CONFIGURATIONS:
        row = {state: statistics.median(seconds[model_name, state]) for state in STATES}
        row["saved by the warm cache, seconds (median over rounds)"] = round(
            statistics.median(o - w for o, w in zip(seconds[model_name, "off"], seconds[model_name, "warm"])), 2)
        row["every trial, seconds"] = {state: seconds[model_name, state] for state in STATES}
        table[model_name] = row
    return table, identical


def notebook_rerun(path: Path) -> dict:
    """A notebook's full run twice, sharing one compilation cache: a learner's first run, then a re-run."""
    import nbformat

    from tools.run_notebooks import execute

    with tempfile.TemporaryDirectory() as cache:
        times = [round(execute(nbformat.read(path, as_version=4), fast=False, cache=cache), 1) for _ in range(2)]
    return {"notebook": path.name, "first run (cold cache), seconds": times[0],
            "second run (warm cache), seconds": times[1]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--notebook", default="notebooks/02_soft_vector_retrieval.ipynb")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(trial(args.child)))
        return 0
    table, identical = per_configuration(args.rounds)
    record = {"what": "JAX's persistent compilation cache: off / cold / warm, interleaved, fresh process each",
              "rounds": args.rounds, "per configuration": table,
              "weights and predictions identical in all three states": identical}
    if args.notebook:
        record["notebook re-run"] = notebook_rerun((ROOT / args.notebook).resolve())
    record.update({"lesson 01 full run, seconds, as last recorded in notebooks/run_times.json (calibration)":
                   calibration(), "cpu cores": os.cpu_count(), "machine": platform.machine(),
                   "date": time.strftime("%Y-%m-%d")})
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    if not identical:
        print("the cache changed a result: see the sha256 of each trial", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
