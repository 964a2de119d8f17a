"""Choose each closing model's training recipe by cross-validation on the training split only.

Usage: python -m tools.select_recipe [MODEL ...]   (all four models: about 25 min on a 2-core CPU)

Each model of notebook 06's comparison is trained with each candidate recipe (batch size x label
smoothing, 30 epochs) on 5 stratified folds of the JapaneseVowels *training* utterances, each fold
standardised with its own training statistics. Each model gets the recipe with its highest
cross-validated accuracy (ties go to the first candidate in the grid); the test split plays no part.
Results go to notebooks/recipe_selection.json, which the registry reads and notebook 06 displays.
Naming models re-selects only those and keeps the stored choice of the others.
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from utils.data import Dataset, SequenceSet, apply_scaler, fit_scaler, load_japanese_vowels
from utils.registry import CLOSING, CLOSING_EPOCHS, MODELS, RECIPE_FILE
from utils.training import train_and_evaluate

ROOT = Path(__file__).resolve().parents[1]

OUT = RECIPE_FILE
EPOCHS, FOLDS, SEED = CLOSING_EPOCHS, 5, 0
BATCH_SIZES, LABEL_SMOOTHING = (64, 32), (0.0, 0.1)


def folds(raw: Dataset):
    """Standardised (train, validation) Datasets of the training split, one per fold."""
    part = raw.train
    splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    for fit_idx, val_idx in splitter.split(part.X, part.y):
        fit, val = (SequenceSet(part.X[i], part.lengths[i], part.y[i]) for i in (fit_idx, val_idx))
        mean, std = fit_scaler(fit)
        yield Dataset(raw.name, apply_scaler(fit, mean, std), apply_scaler(val, mean, std), raw.class_names)


def held_out_correct(model: str, fold: Dataset, batch_size: int, smoothing: float) -> int:
    """How many of the fold's held-out utterances ``model`` gets right after training on the rest."""
    run = train_and_evaluate(MODELS[model].build, fold, seed=SEED, epochs=EPOCHS, batch_size=batch_size,
                             label_smoothing=smoothing)
    return int(np.sum(run.y_pred == fold.test.y))


def select(model: str, raw: Dataset) -> dict:
    """Every candidate's cross-validated accuracy for one model, and the chosen candidate."""
    rows = []
    for batch_size, smoothing in itertools.product(BATCH_SIZES, LABEL_SMOOTHING):
        correct = sum(held_out_correct(model, fold, batch_size, smoothing) for fold in folds(raw))
        rows.append({"batch_size": batch_size, "label_smoothing": smoothing,
                     "cv_accuracy": round(correct / len(raw.train), 4)})
        print(model, rows[-1], flush=True)
    return {"candidates": rows, "chosen": max(rows, key=lambda r: r["cv_accuracy"])}


def main(models=CLOSING) -> None:
    unknown = set(models) - set(CLOSING)
    if unknown:
        raise SystemExit(f"not in the closing comparison: {sorted(unknown)}; choose from {list(CLOSING)}")
    raw = load_japanese_vowels(normalise=False)
    stored = json.loads(OUT.read_text()).get("models", {}) if OUT.exists() else {}
    chosen = {name: select(name, raw) if name in models else stored[name] for name in CLOSING}
    OUT.write_text(json.dumps({"epochs": EPOCHS, "folds": FOLDS, "seed": SEED, "models": chosen}, indent=1) + "\n")
    for name in CLOSING:
        print(f"{name}: {chosen[name]['chosen']}")
    print("->", OUT.relative_to(ROOT))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="closing-comparison model names (default: all of them)")
    main(parser.parse_args().models or CLOSING)
