"""Choose the closing comparison's training recipe by cross-validation on the training split only.

Usage: python tools/select_recipe.py   (about 10 min on a 2-core CPU)

Lesson 05's encoder block is trained with each candidate recipe (batch size x label smoothing, 30
epochs) on 5 stratified folds of the JapaneseVowels *training* utterances, each fold standardised with
its own training statistics. The recipe with the highest cross-validated accuracy is the one notebook
06 uses; the test split plays no part. Results go to notebooks/recipe_selection.json, which 06 displays.
"""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from utils.data import Dataset, SequenceSet, apply_scaler, fit_scaler, load_japanese_vowels  # noqa: E402
from utils.registry import CLOSING_EPOCHS, MODELS, RECIPE_FILE  # noqa: E402
from utils.training import train_and_evaluate  # noqa: E402

OUT = RECIPE_FILE
MODEL = "05 BiLSTM + encoder block"
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


def held_out_correct(fold: Dataset, batch_size: int, smoothing: float) -> int:
    """How many of the fold's held-out utterances the encoder block gets right after training."""
    run = train_and_evaluate(MODELS[MODEL].build, fold, seed=SEED, epochs=EPOCHS, batch_size=batch_size,
                             label_smoothing=smoothing)
    return int(np.sum(run.y_pred == fold.test.y))


def main() -> None:
    raw = load_japanese_vowels(normalise=False)
    rows = []
    for batch_size, smoothing in itertools.product(BATCH_SIZES, LABEL_SMOOTHING):
        correct = sum(held_out_correct(fold, batch_size, smoothing) for fold in folds(raw))
        rows.append({"batch_size": batch_size, "label_smoothing": smoothing,
                     "cv_accuracy": round(correct / len(raw.train), 4)})
        print(rows[-1], flush=True)
    best = max(rows, key=lambda r: r["cv_accuracy"])
    OUT.write_text(json.dumps({"model": MODEL, "epochs": EPOCHS, "folds": FOLDS,
                               "candidates": rows, "chosen": best}, indent=1) + "\n")
    print("chosen:", best, "->", OUT.relative_to(ROOT))


if __name__ == "__main__":
    main()
