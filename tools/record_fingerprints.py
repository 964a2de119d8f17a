"""Record every registry model's fingerprint: from a fixed seed and a fixed input, its weights and its outputs.

Usage: python -m tools.record_fingerprints [NAME ...]  (writes tests/registry_fingerprints.json)

Fingerprints are recorded and checked on TensorFlow: each backend draws its own initial weights, and what they pin
(the layers, their order, their shapes and the arithmetic) does not depend on the backend.

``tests/test_builder.py`` rebuilds each model and compares it with its fingerprint. The builder is then free to
change how it builds a model, while the models stay the same. When an issue changes a registry model on purpose,
re-record its fingerprint in the same commit and give the reason in the commit message.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "tests" / "registry_fingerprints.json"
SEED = 0
SEQUENCES, STEPS, FEATURES, CLASSES, VOCAB = 4, 12, 3, 3, 50


def fixed_input(spec) -> tuple[SimpleNamespace, np.ndarray]:
    """The data description a model is built for, and the input its outputs are read on: 4 right-padded sequences
    (lengths 12, 9, 6 and 3) of 3 features, or of token ids for a model with an Embedding."""
    rng = np.random.default_rng(SEED)
    real = np.arange(STEPS)[None, :] < np.array([12, 9, 6, 3])[:, None]
    if spec.vocab_size:
        X = np.where(real, rng.integers(1, min(VOCAB, spec.vocab_size), (SEQUENCES, STEPS)), 0).astype("int32")
    else:
        X = np.where(real[..., None], rng.normal(size=(SEQUENCES, STEPS, FEATURES)) + 2.0, 0.0).astype("float32")
    return SimpleNamespace(max_len=STEPS, n_features=FEATURES, n_classes=CLASSES), X


def fingerprint(entry) -> dict:
    """``entry`` (a registry model) built from seed 0 on the fixed input: its parameter count, each weight's shape,
    sum and sum of squares, its outputs on the fixed input (rounded to 6 decimals), and the Keras version (a model
    with MultiHeadAttention draws other initial weights on Keras 3.12 than on 3.15)."""
    import keras

    from utils.runtime import set_seed

    data, X = fixed_input(entry.spec)
    set_seed(SEED)
    model = entry.build(data)
    weights = [[list(w.shape), float(np.sum(w, dtype=np.float64)), float(np.sum(np.square(w, dtype=np.float64)))]
               for w in model.get_weights()]
    outputs = np.asarray(model(X, training=False), dtype=np.float64)
    return {"params": int(model.count_params()), "weights": weights, "outputs": np.round(outputs, 6).tolist(),
            "keras": keras.version()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="re-record only these registry models (default: all)")
    args = parser.parse_args(argv)
    from utils.runtime import choose_backend

    choose_backend("tensorflow")
    from utils.registry import MODELS

    recorded = json.loads(FILE.read_text()) if FILE.exists() and args.names else {}
    unknown = set(args.names) - set(MODELS)
    if unknown:
        raise ValueError(f"no registry models named {sorted(unknown)}")
    for name, entry in MODELS.items():
        if not args.names or name in args.names:
            recorded[name] = fingerprint(entry)
    FILE.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n")
    print(f"wrote {FILE.relative_to(ROOT)}: {len(recorded)} models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
