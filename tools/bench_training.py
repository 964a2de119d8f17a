"""Training speed, side by side: every closing-comparison model on every route, in one run.

Usage: python tools/bench_training.py [--seeds 10] [--routes tensorflow,jax] [--reuse]   (make bench)

A route is a Keras backend plus compile settings. Keras fixes its backend once per process, so each
route trains in a fresh Python process, one route after the other (never two at once: the backends
already use every core). Every route trains each model of ``utils.registry.CLOSING`` on
JapaneseVowels with each model's notebook 06 recipe, once per seed, through ``utils.training.run_seeds``.

Reported per model and route: seconds per model-seed (the median over seeds of the ``fit`` time, so the
first seed's one-off compilation does not count) and test accuracy over the seeds. Against the first
route, the speed-up and the paired accuracy difference (same seeds, same test items) with its 95%
interval. Results go to benchmarks/training.json and the table in benchmarks/README.md.
This is a benchmark, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks"
ROUTES = {  # name: (backend, run_seeds settings, TensorFlow op determinism, description)
    "tensorflow": ("tensorflow", {}, True, "TensorFlow backend, op determinism on (the course's path before JAX)"),
    "tensorflow-nondeterministic-ops": ("tensorflow", {}, False, "TensorFlow, op determinism off"),
    "tensorflow-xla": ("tensorflow", {"jit_compile": True}, False,
                       "TensorFlow, op determinism off, jit_compile=True (LSTMs on the generic kernel)"),
    "jax": ("jax", {}, True, "JAX backend, the same Keras code (compiled with jax.jit by Keras)"),
}
SAME_ACCURACY = 0.01  # the paired 95% interval of the difference must lie within +-1 point


def worker(route: str, seeds: int) -> None:
    """Train every closing model on one route in this process; print one JSON line."""
    from utils import runtime
    from utils.data import load_japanese_vowels
    from utils.training import run_seeds
    from utils.registry import CLOSING, MODELS

    _, settings, runtime.TF_OP_DETERMINISM, _ = ROUTES[route]
    data = load_japanese_vowels()
    results = {}
    for name in CLOSING:
        start = time.perf_counter()
        comparison = run_seeds(name, MODELS[name].build, data, seeds=range(seeds),
                               **MODELS[name].training_recipe().kwargs(), **settings)
        results[name] = {"fit_seconds": [round(r.seconds, 3) for r in comparison.runs],
                         "accuracy": [r.metrics["accuracy"] for r in comparison.runs],
                         "wall_seconds": round(time.perf_counter() - start, 1)}
        print(f"  {route:>15} | {name}: {np.median(results[name]['fit_seconds']):.2f} s per model-seed",
              file=sys.stderr, flush=True)
    print(json.dumps(results))


def run_route(route: str, seeds: int) -> dict:
    backend = ROUTES[route][0]
    env = {**os.environ, "KERAS_BACKEND": backend, "COURSE_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, __file__, "--worker", route, "--seeds", str(seeds)], env=env,
                          check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(raw: dict[str, dict], baseline: str) -> list[dict]:
    from utils.stats import mean_ci

    rows = []
    for route, models in raw.items():
        for name, result in models.items():
            base = raw[baseline][name]
            seconds, base_seconds = np.median(result["fit_seconds"]), np.median(base["fit_seconds"])
            row = {"route": route, "model": name, "seconds_per_model_seed": round(float(seconds), 3),
                   "speed_up": round(float(base_seconds / seconds), 2),
                   "accuracy_mean": round(float(np.mean(result["accuracy"])), 4), "seeds": len(result["accuracy"])}
            if route != baseline:
                diff = np.subtract(result["accuracy"], base["accuracy"])
                mean, low, high = mean_ci(diff)
                row.update(accuracy_difference=round(mean, 4), difference_95ci=[round(low, 4), round(high, 4)],
                           same_accuracy=bool(-SAME_ACCURACY <= low and high <= SAME_ACCURACY))
            rows.append(row)
    return rows


def write(rows: list[dict], raw: dict, seeds: int, routes: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               **{name: version(name) for name in ("keras", "tensorflow", "jax", "jaxlib", "numpy")}}
    (OUT / "training.json").write_text(json.dumps(
        {"what": "seconds per model-seed (median fit time over seeds) and test accuracy, JapaneseVowels, "
                 "each model's notebook 06 recipe", "baseline": routes[0], "seeds": seeds, "machine": machine,
         "routes": {r: ROUTES[r][3] for r in routes}, "results": rows, "raw": raw}, indent=1) + "\n")
    lines = ["| Route | Model | s per model-seed | Speed-up | Accuracy (mean) | Paired difference [95% CI] |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        diff = (f"{r['accuracy_difference']:+.4f} [{r['difference_95ci'][0]:+.4f}, {r['difference_95ci'][1]:+.4f}]"
                if "accuracy_difference" in r else "baseline")
        lines.append(f"| {r['route']} | {r['model']} | {r['seconds_per_model_seed']:.2f} | {r['speed_up']:.1f}x | "
                     f"{r['accuracy_mean']:.4f} | {diff} |")
    medians = {route: float(np.median([r["speed_up"] for r in rows if r["route"] == route])) for route in routes}
    readme = OUT / "README.md"
    head = readme.read_text().split("<!-- results -->")[0] if readme.exists() else "# Benchmarks\n\n"
    readme.write_text(head + "<!-- results -->\n" + "\n".join(lines) + "\n\n" + "Median speed-up per route: " +
                      ", ".join(f"{k} {v:.1f}x" for k, v in medians.items()) +
                      f". {seeds} seeds per model and route; machine: {machine['cpu_count']} CPU cores, "
                      f"keras {machine['keras']}, tensorflow {machine['tensorflow']}, jax {machine['jax']}.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--worker", choices=list(ROUTES))
    parser.add_argument("--reuse", action="store_true",
                        help="keep the stored results of the routes not run now (after a change that only affects them)")
    args = parser.parse_args()
    if args.seeds < 3:
        raise SystemExit("--seeds must be at least 3 (a median and an interval need them)")
    if args.worker:
        return worker(args.worker, args.seeds)
    routes = args.routes.split(",")
    unknown = set(routes) - set(ROUTES)
    if unknown:
        raise SystemExit(f"unknown routes {sorted(unknown)}; choose from {list(ROUTES)}")
    stored = json.loads((OUT / "training.json").read_text()) if args.reuse else {}
    if stored and stored.get("seeds") != args.seeds:
        raise SystemExit(f"--reuse needs the stored run's seed count ({stored.get('seeds')})")
    raw = stored.get("raw", {})
    for route in routes:
        print(f"route {route}: {ROUTES[route][3]}", file=sys.stderr, flush=True)
        raw[route] = run_route(route, args.seeds)
    routes = [r for r in ROUTES if r in raw]
    raw = {r: raw[r] for r in routes}
    rows = summarise(raw, routes[0])
    write(rows, raw, args.seeds, routes)
    print((OUT / "README.md").read_text().split("<!-- results -->")[1])


if __name__ == "__main__":
    main()
