"""The registry of closing models and the benchmark's arithmetic (the benchmark itself is never timed in tests)."""
import json
from pathlib import Path

import numpy as np
import pytest

import tools.bench_training as bench
from utils.data import make_motif_task
from utils.registry import CLOSING, MODELS, Recipe, closing_recipe, registry_table
from utils.runtime import budget

ROOT = Path(__file__).resolve().parents[1]


def test_every_closing_model_builds_a_classifier():
    task = make_motif_task(8, 4, min_len=5, max_len=9, motif_len=3, seed=0)
    assert len(CLOSING) == 4
    for name in CLOSING:
        entry = MODELS[name]
        assert entry.lesson == "06" and entry.flaw is None, name
        model = entry.build(task)
        assert model.output_shape == (None, task.n_classes), name


def test_each_closing_model_trains_with_its_own_cross_validated_recipe(tmp_path):
    stored = json.loads((ROOT / "notebooks" / "recipe_selection.json").read_text())["models"]
    assert set(stored) == set(CLOSING)
    for name in CLOSING:
        recipe = closing_recipe(name)
        assert isinstance(recipe, Recipe)
        chosen = stored[name]["chosen"]
        assert recipe.batch_size == chosen["batch_size"] and recipe.label_smoothing == chosen["label_smoothing"]
        assert MODELS[name].recipe == recipe, name
        assert recipe.kwargs() == {"epochs": budget(recipe.epochs, recipe.fast_epochs),
                                   "batch_size": recipe.batch_size, "learning_rate": recipe.learning_rate,
                                   "label_smoothing": recipe.label_smoothing}
    assert MODELS["06 block removed"].recipe == closing_recipe("05 BiLSTM + encoder block")
    table = registry_table(names=CLOSING)
    assert list(table.index) == list(CLOSING)
    assert [closing_recipe(n).describe() for n in CLOSING] == list(table["recipe"])
    bad = tmp_path / "recipe.json"
    bad.write_text(json.dumps({"models": {CLOSING[0]: {"chosen": {"batch_size": 32}}}}))
    with pytest.raises(ValueError, match="no chosen recipe"):
        closing_recipe(CLOSING[0], bad)
    with pytest.raises(ValueError, match="no recipe for"):
        closing_recipe(CLOSING[1], bad)
    with pytest.raises(ValueError, match="missing"):
        closing_recipe(CLOSING[0], tmp_path / "absent.json")


def test_bench_summary_computes_speed_up_and_the_paired_difference():
    base = {"m": {"fit_seconds": [4.0, 4.0, 4.2, 3.8], "accuracy": [0.90, 0.92, 0.94, 0.96]}}
    fast = {"m": {"fit_seconds": [1.0, 1.1, 0.9, 1.0], "accuracy": [0.905, 0.925, 0.945, 0.965]}}
    rows = {r["route"]: r for r in bench.summarise({"slow": base, "fast": fast}, "slow")}
    assert rows["slow"]["speed_up"] == 1.0 and "accuracy_difference" not in rows["slow"]
    assert rows["fast"]["speed_up"] == pytest.approx(4.0)
    assert rows["fast"]["speed_up_95ci"][0] < rows["fast"]["speed_up_geometric_mean"] < rows["fast"]["speed_up_95ci"][1]
    assert rows["fast"]["speed_up_geometric_mean"] == pytest.approx(4.0, abs=0.1)
    assert rows["fast"]["accuracy_difference"] == pytest.approx(0.005)
    assert rows["fast"]["difference_95ci"] == pytest.approx([0.005, 0.005])
    assert rows["fast"]["same_accuracy"] is True
    worse = {"m": {"fit_seconds": [1.0] * 4, "accuracy": list(np.subtract(base["m"]["accuracy"], 0.05))}}
    assert bench.summarise({"slow": base, "worse": worse}, "slow")[1]["same_accuracy"] is False


def test_the_bench_interleaves_the_routes_chunk_by_chunk_in_alternating_order():
    turns = bench.schedule(["m1", "m2"], ["A", "B"], seeds=5, chunk=2)
    assert turns == [("m1", [0, 1], "A"), ("m1", [0, 1], "B"), ("m1", [2, 3, 4], "B"), ("m1", [2, 3, 4], "A"),
                     ("m2", [0, 1], "A"), ("m2", [0, 1], "B"), ("m2", [2, 3, 4], "B"), ("m2", [2, 3, 4], "A")]
    for model in ("m1", "m2"):   # every route trains every seed of every model exactly once
        for route in ("A", "B"):
            assert sorted(s for m, part, r in turns if (m, r) == (model, route) for s in part) == list(range(5))


def test_stored_benchmark_names_every_closing_model_with_ten_seeds():
    stored = json.loads((ROOT / "benchmarks" / "training.json").read_text())
    assert stored["seeds"] >= 10 and stored["machine"]["cpu_count"] >= 1
    for route in stored["routes"]:
        assert {r["model"] for r in stored["results"] if r["route"] == route} == set(CLOSING)
