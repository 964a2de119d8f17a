"""tools/select_recipe.py chooses notebook 06's recipe on the training split; its stored result must match."""
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from utils.data import load_japanese_vowels

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool():
    import tools.select_recipe as module
    return module


def test_folds_split_the_training_split_only_and_standardise_each_fold_on_its_own(tool):
    raw = load_japanese_vowels(normalise=False)
    folds = list(tool.folds(raw))
    assert len(folds) == tool.FOLDS
    assert sum(len(fold.test) for fold in folds) == len(raw.train)
    assert all(len(fold.train) + len(fold.test) == len(raw.train) for fold in folds)
    for fold in folds:
        steps = fold.train.X[fold.train.mask]
        np.testing.assert_allclose(steps.mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(steps.std(axis=0), 1.0, atol=1e-4)
        assert not fold.test.X[~fold.test.mask].any()  # padding stays exactly zero
    held_out = np.sort(np.concatenate([fold.test.lengths for fold in folds]))
    np.testing.assert_array_equal(held_out, np.sort(raw.train.lengths))


def test_the_stored_selection_covers_every_model_and_the_grid_and_chose_each_best(tool):
    selection = json.loads((ROOT / "notebooks" / "recipe_selection.json").read_text())
    assert (selection["epochs"], selection["folds"]) == (tool.EPOCHS, tool.FOLDS)
    assert list(selection["models"]) == list(tool.CLOSING)
    for name, result in selection["models"].items():
        grid = [(r["batch_size"], r["label_smoothing"]) for r in result["candidates"]]
        assert grid == list(itertools.product(tool.BATCH_SIZES, tool.LABEL_SMOOTHING)), name
        assert result["chosen"] == max(result["candidates"], key=lambda r: r["cv_accuracy"]), name
