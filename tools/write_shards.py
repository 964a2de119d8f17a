"""Write lesson 10a's synthetic corpus: variable-length sequences with heavy-tailed lengths, in shards, with a manifest.

Usage: python -m tools.write_shards FOLDER [--sequences 1000000] [--shard-size 10000] [--seed 0]

The corpus is utils.streaming.write_shards's motif task (a class-specific motif in Gaussian noise, lognormal lengths
clipped to [--min-len, --max-len]), float16 on disk, one .npz per shard and manifest.json with a SHA-256 per shard.
The same seed writes the same corpus. Train from it with utils.streaming.ShardStream, which holds one shard in memory.
With the defaults (1,000,000 sequences) the corpus takes about 0.45 GB of disk.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write the shards and manifest.json (created if missing)")
    parser.add_argument("--sequences", type=int, default=1_000_000, help="number of sequences (default 1,000,000)")
    parser.add_argument("--shard-size", type=int, default=10_000, help="sequences per shard (default 10,000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--features", type=int, default=4, help="channels per step (default 4)")
    parser.add_argument("--classes", type=int, default=4, help="classes (default 4)")
    parser.add_argument("--min-len", type=int, default=8, help="shortest sequence (default 8)")
    parser.add_argument("--max-len", type=int, default=512, help="longest sequence (default 512)")
    parser.add_argument("--median-len", type=float, default=40.0, help="median length (default 40)")
    args = parser.parse_args(argv)
    if "keras" not in sys.modules:   # utils.streaming imports Keras (its reader is a PyDataset); writing is NumPy
        from utils.runtime import choose_backend

        choose_backend()
    from utils.streaming import write_shards

    start = time.perf_counter()
    manifest = write_shards(args.folder, args.sequences, shard_size=args.shard_size, seed=args.seed,
                            n_features=args.features, n_classes=args.classes, min_len=args.min_len,
                            max_len=args.max_len, median_len=args.median_len)
    print(f"wrote {manifest['n_sequences']:,} sequences ({manifest['n_steps']:,} steps, longest "
          f"{manifest['longest']}) in {len(manifest['shards'])} shards, {manifest['bytes'] / 1e6:,.1f} MB, "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
