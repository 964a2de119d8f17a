"""Lesson 10's two costs, side by side with today's path, interleaved: length bucketing, and a step against T.

Usage: python -m tools.bench_scaling [--repeats 6] [--lengths 64,128,256,512,1024]   (make bench)

- **Bucketing.** One corpus with heavy-tailed lengths (``utils.streaming.write_shards``), lesson 10a's registry
  model. Today's path pads every batch to the corpus's longest sequence; the other route buckets sequences of
  similar length and pads each batch to its own longest, rounded up to a multiple of 16. Each route compiles
  first (one untimed epoch); then the routes take turns, epoch by epoch, the order reversed each round
  (A B, B A, ...), so that a machine that drifts slows both alike. Reported: the padded share of the compute,
  seconds per epoch (median) and the speed-up as a geometric mean over the paired rounds with its 95% interval.
- **Length sweep.** One training step (``utils.sequence_cost.step_cost``: forward, backward, update) of lesson
  10b's registry models, the BiLSTM (today's path), + masked self-attention and + ``MultiHeadAttention``, at
  each length, the models taking turns at each length. Reported: seconds per step, on JAX the compiled step's
  memory (XLA's planned total, not a measured peak), and the exponent of each against T (the larger half of the
  lengths).

Results go to benchmarks/scaling.json and a table in benchmarks/README.md. This is a benchmark, not a test:
nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks"
MARKERS = re.compile(r"<!-- scaling:start -->\n.*?<!-- scaling:end -->\n", re.S)
BUCKETING_MODEL = "10a streamed BiLSTM"
SWEEP_MODELS = ("10 BiLSTM", "10 BiLSTM + self-attention", "10 BiLSTM + MultiHeadAttention")   # today's path first
ROUTES = {"padded to the corpus's longest (today)": {"pad": "longest"},
          "buckets, each batch to its own longest (multiple of 16)": {"pad": "batch", "round_to": 16, "bucket": True}}


def ratio_interval(slow, fast) -> tuple[float, float, float]:
    """Geometric-mean ratio ``slow / fast`` over paired rounds and its 95% t-interval (on the log ratios)."""
    logs = np.log(np.asarray(slow)) - np.log(np.asarray(fast))
    low, high = stats.t.interval(0.95, len(logs) - 1, loc=logs.mean(), scale=stats.sem(logs))
    return float(np.exp(logs.mean())), float(np.exp(low)), float(np.exp(high))


def bucketing(repeats: int, sequences: int) -> dict:
    """Seconds per epoch of each route, interleaved round by round."""
    import keras

    from utils.builder import any_length
    from utils.registry import MODELS
    from utils.runtime import set_seed
    from utils.streaming import ShardStream, all_lengths, padded_share, write_shards

    recipe = MODELS[BUCKETING_MODEL].training_recipe()
    with tempfile.TemporaryDirectory() as folder:
        write_shards(folder, sequences, shard_size=max(sequences // 4, 1), seed=0)
        lengths = all_lengths(folder)
        models, streams, shares, seconds = {}, {}, {}, {name: [] for name in ROUTES}
        for name, options in ROUTES.items():
            streams[name] = ShardStream(folder, batch_size=recipe.batch_size, seed=0, **options)
            set_seed(0)
            models[name] = any_length(MODELS[BUCKETING_MODEL].build(streams[name]))
            models[name].compile(keras.optimizers.Adam(recipe.learning_rate), "sparse_categorical_crossentropy")
            stream = streams[name]
            ids = [stream.batch(i)[0] for i in range(len(stream))]   # this epoch's batches, as corpus ids
            shares[name] = padded_share(lengths, ids, pad_to=stream.longest if stream.pad == "longest" else None,
                                        round_to=stream.round_to)
            models[name].fit(streams[name], epochs=1, shuffle=False, verbose=0)   # compiles every batch shape
        names = list(ROUTES)
        for round_ in range(repeats):
            for name in names if round_ % 2 == 0 else names[::-1]:
                start = time.perf_counter()
                models[name].fit(streams[name], epochs=1, shuffle=False, verbose=0)
                seconds[name].append(time.perf_counter() - start)
    today, bucketed = names
    speed_up, low, high = ratio_interval(seconds[today], seconds[bucketed])
    return {"model": BUCKETING_MODEL, "sequences": sequences, "batch_size": recipe.batch_size,
            "longest": int(lengths.max()), "median_length": float(np.median(lengths)), "rounds": repeats,
            "routes": [{"route": name, "padded_share": shares[name],
                        "seconds_per_epoch": float(np.median(seconds[name])), "seconds": seconds[name]}
                       for name in names],
            "speed_up": speed_up, "speed_up_95ci": [low, high]}


def length_sweep(lengths: list[int], batch_size: int) -> dict:
    """One training step of each model at each length, the models taking turns (order reversed each length)."""
    from utils.builder import any_length
    from utils.data import Dataset, SequenceSet
    from utils.registry import MODELS
    from utils.runtime import set_seed
    from utils.sequence_cost import fit_exponent, step_cost

    part = SequenceSet(np.zeros((2, 8, 4), "float32"), np.array([0, 1]), np.full(2, 8))   # 4 features, 2 classes
    models = {}
    for name in SWEEP_MODELS:
        set_seed(0)
        models[name] = any_length(MODELS[name].build(Dataset("sweep", part, part, ("a", "b"))))
    rows = {name: [] for name in models}
    names = list(models)
    for i, T in enumerate(lengths):
        for name in names if i % 2 == 0 else names[::-1]:
            cost = step_cost(models[name], T, batch_size=batch_size, repeats=3)
            rows[name].append({"T": T, "seconds": cost.seconds, "memory_bytes": cost.memory_bytes})
    result = {"batch_size": batch_size, "lengths": lengths, "models": []}
    for name, points in rows.items():
        seconds = [p["seconds"] for p in points]
        memory = [p["memory_bytes"] for p in points]
        entry = {"model": name, "points": points,
                 "time_exponent": fit_exponent(lengths, seconds).exponent}
        if np.all(np.isfinite(memory)):
            entry["memory_exponent"] = fit_exponent(lengths, memory).exponent
        result["models"].append(entry)
    return result


def write(bucket: dict, sweep: dict) -> None:
    import keras

    OUT.mkdir(exist_ok=True)
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               "backend": keras.backend.backend(),
               **{name: version(name) for name in ("keras", "jax", "jaxlib", "numpy")}}
    (OUT / "scaling.json").write_text(json.dumps({"machine": machine, "bucketing": bucket, "length_sweep": sweep},
                                                 indent=1) + "\n")
    lines = ["<!-- scaling:start -->", "### Lesson 10: bucketing and sequence length (`tools/bench_scaling.py`)", "",
             f"Bucketing, {bucket['sequences']:,} sequences (median length {bucket['median_length']:.0f}, longest "
             f"{bucket['longest']}), batch {bucket['batch_size']}, {bucket['rounds']} interleaved rounds after one "
             "compiling epoch each:", "",
             "| Route | Padded share | s per epoch (median) | Speed-up [95% CI over rounds] |",
             "| --- | --- | --- | --- |"]
    for i, r in enumerate(bucket["routes"]):
        speed = "1.0x" if i == 0 else \
            f"{bucket['speed_up']:.1f}x [{bucket['speed_up_95ci'][0]:.1f}, {bucket['speed_up_95ci'][1]:.1f}]"
        lines.append(f"| {r['route']} | {r['padded_share']:.0%} | {r['seconds_per_epoch']:.2f} | {speed} |")
    lines += ["", f"One training step against sequence length T, batch {sweep['batch_size']} (ms per step; "
              "MiB of the compiled step on JAX, XLA's plan):", "",
              "| Model | " + " | ".join(f"T={T}" for T in sweep["lengths"]) + " | time exponent | memory exponent |",
              "| --- | " + " | ".join("---" for _ in sweep["lengths"]) + " | --- | --- |"]
    for m in sweep["models"]:
        cells = [f"{p['seconds'] * 1e3:.0f} ms" + (f", {p['memory_bytes'] / 2**20:.1f} MiB"
                                                  if np.isfinite(p["memory_bytes"]) else "") for p in m["points"]]
        lines.append(f"| {m['model']} | " + " | ".join(cells) + f" | {m['time_exponent']:.2f} | "
                     f"{m.get('memory_exponent', float('nan')):.2f} |")
    lines += ["", f"Machine: {machine['cpu_count']} CPU cores, {machine['backend']}, keras {machine['keras']}, "
              f"jax {machine['jax']}.", "<!-- scaling:end -->", ""]
    readme = OUT / "README.md"
    text = readme.read_text()
    block = "\n".join(lines)
    text = MARKERS.sub(lambda _: block, text) if MARKERS.search(text) else \
        text.replace("<!-- results -->", block + "\n<!-- results -->", 1)
    readme.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=6, help="interleaved rounds of the bucketing routes (>= 2)")
    parser.add_argument("--sequences", type=int, default=4096, help="sequences in the bucketing corpus")
    parser.add_argument("--lengths", default="64,128,256,512,1024", help="the sweep's sequence lengths")
    parser.add_argument("--batch-size", type=int, default=8, help="the sweep's batch size")
    args = parser.parse_args()
    if args.repeats < 2:
        raise SystemExit("--repeats must be at least 2, for an interval")
    from utils.runtime import choose_backend

    choose_backend("jax")
    lengths = [int(t) for t in args.lengths.split(",")]
    bucket = bucketing(args.repeats, args.sequences)
    print(f"bucketing: {bucket['speed_up']:.1f}x [{bucket['speed_up_95ci'][0]:.1f}, {bucket['speed_up_95ci'][1]:.1f}]",
          flush=True)
    sweep = length_sweep(lengths, args.batch_size)
    for m in sweep["models"]:
        print(f"{m['model']}: time exponent {m['time_exponent']:.2f}, memory exponent "
              f"{m.get('memory_exponent', float('nan')):.2f}", flush=True)
    write(bucket, sweep)


if __name__ == "__main__":
    main()
