"""Training speed, side by side: every closing-comparison model on every route, in one run, interleaved.

Usage: python -m tools.bench_training [--seeds 10] [--routes tensorflow,jax] [--chunk 2] [--reuse]   (make bench)

A route is a Keras backend plus compile settings. Keras fixes its backend once per process, so each route has
a worker process of its own, started once. The routes take turns: for each model, the seeds are cut into chunks
(``--chunk`` seeds each), and every route trains one chunk before any route trains the next, the order of the
routes reversed from one chunk to the next (A B, B A, A B, ...). Only one worker computes at any time (the
others wait on their input), and a machine that drifts during the run slows every route alike instead of the
ones that ran last. Each chunk goes through ``utils.training.run_seeds`` with the model's notebook 06 recipe.

Reported per model and route: seconds per model-seed (the median over seeds of the ``fit`` time; each chunk's
compilation happens before its first timed fit) and test accuracy over the seeds. Against the first route: the
speed ratio as a geometric mean over the paired seeds with its 95% interval (a t-interval of the per-seed log
ratios, so the interval shows how much the ratio moved during the run), and the paired accuracy difference
(same seeds, same test items) with its 95% interval. Results go to benchmarks/training.json and the table in
benchmarks/README.md. This is a benchmark, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks"
ROUTES = {  # name: (backend, run_seeds settings, TensorFlow op determinism, description)
    "tensorflow": ("tensorflow", {}, True, "TensorFlow backend, op determinism on (the course's path before JAX)"),
    "tensorflow-nondeterministic-ops": ("tensorflow", {}, False, "TensorFlow, op determinism off"),
    "tensorflow-xla": ("tensorflow", {"jit_compile": True}, False,
                       "TensorFlow, op determinism off, jit_compile=True (LSTMs on the generic kernel)"),
    "jax": ("jax", {}, True, "JAX backend, the same Keras code (compiled with jax.jit by Keras)"),
}
SAME_ACCURACY = 0.01  # the paired 95% interval of the difference must lie within +-1 point


def worker(route: str) -> None:
    """Serve one route in this process: read "model|seed,seed,..." lines, train that model on those seeds,
    answer each with one JSON line (per-seed fit seconds and accuracies)."""
    from utils import runtime
    from utils.data import load_japanese_vowels
    from utils.registry import MODELS
    from utils.training import run_seeds

    _, settings, runtime.TF_OP_DETERMINISM, _ = ROUTES[route]
    data = load_japanese_vowels()
    print("ready", flush=True)
    for line in sys.stdin:
        name, seeds = line.rstrip("\n").split("|")
        comparison = run_seeds(name, MODELS[name].build, data, seeds=[int(s) for s in seeds.split(",")],
                               **MODELS[name].training_recipe().kwargs(), **settings)
        print(json.dumps({"fit_seconds": [round(r.seconds, 3) for r in comparison.runs],
                          "accuracy": [r.metrics["accuracy"] for r in comparison.runs]}), flush=True)


def start_worker(route: str) -> subprocess.Popen:
    backend = ROUTES[route][0]
    env = {**os.environ, "KERAS_BACKEND": backend, "COURSE_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
           "COURSE_COMPILATION_CACHE": "0"}   # every chunk compiles, on every route alike
    return subprocess.Popen([sys.executable, __file__, "--worker", route], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)


def ask(process: subprocess.Popen, message: str) -> dict:
    process.stdin.write(message + "\n")
    process.stdin.flush()
    answer = process.stdout.readline()
    if not answer:
        raise SystemExit(f"a worker stopped (exit code {process.wait()}); see its error above")
    return json.loads(answer)


def schedule(models, routes: list[str], seeds: int, chunk: int) -> list[tuple[str, list[int], str]]:
    """The turns, in order: (model, seeds, route). For each model, each chunk of seeds goes to every route
    before the next chunk starts, and the routes' order is reversed from one chunk to the next."""
    chunks = [list(range(seeds))[i:i + chunk] for i in range(0, seeds, chunk)]
    if len(chunks) > 1 and len(chunks[-1]) < 2:   # run_seeds needs two seeds: a lone last seed joins the chunk before
        chunks[-2:] = [chunks[-2] + chunks[-1]]
    turns, flip = [], False
    for name in models:
        for part in chunks:
            turns += [(name, part, route) for route in (routes[::-1] if flip else routes)]
            flip = not flip
    return turns


def run_interleaved(routes: list[str], seeds: int, chunk: int) -> dict:
    """Every route's results, the routes taking turns chunk by chunk (see the module's docstring)."""
    from utils.registry import CLOSING

    workers = {route: start_worker(route) for route in routes}
    for route, process in workers.items():   # started side by side; wait until each has loaded its backend
        if process.stdout.readline().strip() != "ready":
            raise SystemExit(f"the {route} worker did not start")
    raw = {route: {name: {"fit_seconds": [], "accuracy": []} for name in CLOSING} for route in routes}
    for name, part, route in schedule(CLOSING, routes, seeds, chunk):
        answer = ask(workers[route], f"{name}|{','.join(map(str, part))}")
        for key in ("fit_seconds", "accuracy"):
            raw[route][name][key] += answer[key]
        print(f"  {route:>31} | {name} | seeds {part}: {np.median(answer['fit_seconds']):.2f} s "
              "per model-seed", file=sys.stderr, flush=True)
    for process in workers.values():
        process.stdin.close()
        process.wait()
    return raw


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
                log_ratio = np.log(np.divide(base["fit_seconds"], result["fit_seconds"]))   # paired by seed
                _, low, high = mean_ci(log_ratio)
                row["speed_up_95ci"] = [round(float(np.exp(low)), 2), round(float(np.exp(high)), 2)]
                row["speed_up_geometric_mean"] = round(float(np.exp(log_ratio.mean())), 2)
                diff = np.subtract(result["accuracy"], base["accuracy"])
                mean, low, high = mean_ci(diff)
                row.update(accuracy_difference=round(mean, 4), difference_95ci=[round(low, 4), round(high, 4)],
                           same_accuracy=bool(-SAME_ACCURACY <= low and high <= SAME_ACCURACY))
            rows.append(row)
    return rows


def write(rows: list[dict], raw: dict, seeds: int, routes: list[str], chunk: int) -> None:
    OUT.mkdir(exist_ok=True)
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               **{name: version(name) for name in ("keras", "tensorflow", "jax", "jaxlib", "numpy")}}
    (OUT / "training.json").write_text(json.dumps(
        {"what": "seconds per model-seed (median fit time over seeds) and test accuracy, JapaneseVowels, "
                 "each model's notebook 06 recipe; routes interleaved chunk by chunk",
         "chunk": chunk, "baseline": routes[0], "seeds": seeds, "machine": machine,
         "routes": {r: ROUTES[r][3] for r in routes}, "results": rows, "raw": raw}, indent=1) + "\n")
    lines = ["| Route | Model | s per model-seed | Speed-up [95% CI over seeds] | Accuracy (mean) | "
             "Paired difference [95% CI] |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        diff = (f"{r['accuracy_difference']:+.4f} [{r['difference_95ci'][0]:+.4f}, {r['difference_95ci'][1]:+.4f}]"
                if "accuracy_difference" in r else "baseline")
        speed = (f"{r['speed_up_geometric_mean']:.1f}x [{r['speed_up_95ci'][0]:.1f}, {r['speed_up_95ci'][1]:.1f}]"
                 if "speed_up_95ci" in r else "1.0x")
        lines.append(f"| {r['route']} | {r['model']} | {r['seconds_per_model_seed']:.2f} | {speed} | "
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
    parser.add_argument("--chunk", type=int, default=2, help="seeds per turn (at least 2)")
    parser.add_argument("--worker", choices=list(ROUTES))
    parser.add_argument("--reuse", action="store_true",
                        help="keep the stored results of the routes not run now "
                             "(after a change that only affects them)")
    args = parser.parse_args()
    if args.seeds < 3:
        raise SystemExit("--seeds must be at least 3 (a median and an interval need them)")
    if args.worker:
        return worker(args.worker)
    if args.chunk < 2:
        raise SystemExit("--chunk must be at least 2 (run_seeds trains two seeds or more)")
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
    raw.update(run_interleaved(routes, args.seeds, args.chunk))
    routes = [r for r in ROUTES if r in raw]
    raw = {r: raw[r] for r in routes}
    rows = summarise(raw, routes[0])
    write(rows, raw, args.seeds, routes, args.chunk)
    print((OUT / "README.md").read_text().split("<!-- results -->")[1])


if __name__ == "__main__":
    main()
