"""The course's named models: the closing comparison's four models and their training recipe.

Notebook 06, ``tools/select_recipe.py`` and ``tools/bench_training.py`` all train these, so their settings
live here once.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from .data import Dataset

RECIPE_FILE = Path(__file__).resolve().parents[1] / "notebooks" / "recipe_selection.json"
UNITS = 32  # per LSTM direction, in every closing model


def _average(data: Dataset):
    from .models import build_bilstm_classifier

    return build_bilstm_classifier(data, readout="average", units=UNITS)


def _attention_pooling(data: Dataset):
    from .pooling import build_attention_pooling_classifier

    return build_attention_pooling_classifier(data, units=UNITS)


def _self_attention(data: Dataset):
    from .self_attention import build_self_attention_classifier

    return build_self_attention_classifier(data, placement="after", residual=True, units=UNITS,
                                           attention_type="multiplicative")


def _encoder_block(data: Dataset):
    from .blocks import build_encoder_classifier

    return build_encoder_classifier(data, front="bilstm", units=UNITS, depth=1, heads=4, dropout=0.2,
                                    input_noise=0.2)


#: One model from each lesson that trains a classifier (lesson 02 trains none).
CLOSING_MODELS: dict[str, Callable[[Dataset], object]] = {
    "01 BiLSTM + average": _average,
    "03 BiLSTM + attention pooling": _attention_pooling,
    "04 BiLSTM + self-attention (residual)": _self_attention,
    "05 BiLSTM + encoder block": _encoder_block,
}
CLOSING_EPOCHS = 30


def closing_recipe(path: Path | str = RECIPE_FILE) -> dict:
    """The training recipe that ``tools/select_recipe.py`` chose by cross-validation: ``run_seeds`` keywords."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} is missing; rebuild it with tools/select_recipe.py")
    chosen = json.loads(path.read_text()).get("chosen")
    if not isinstance(chosen, dict) or not {"batch_size", "label_smoothing"} <= set(chosen):
        raise ValueError(f"{path} names no chosen recipe with batch_size and label_smoothing")
    return {"epochs": CLOSING_EPOCHS, "batch_size": int(chosen["batch_size"]),
            "label_smoothing": float(chosen["label_smoothing"])}
