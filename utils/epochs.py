"""Per-epoch scores for the appendix's "test set used as validation data" section.

``epoch_accuracies(build, data, seeds, ...)`` trains ``build(data)`` once per seed on the training split minus a
stratified validation cut, and records after every epoch the accuracy on that cut and on the test split. The test
column is there only to *measure* what choosing an epoch by the test split would report; a real experiment never
looks at it before the end. One compiled model trains every seed (as ``utils.training`` does): each seed gets its
own freshly built initial weights and a reset optimizer.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from utils.data import split_validation, validate_sequences
from utils.runtime import set_seed
from utils.training import _copy_variables, distinct_seeds


def epoch_accuracies(build: Callable, data, seeds, epochs: int = 20, batch_size: int = 32,
                     learning_rate: float = 3e-3, validation: float = 0.2) -> pd.DataFrame:
    """One row per (seed, epoch): ``validation`` and ``test`` accuracy after that epoch."""
    import keras

    seeds = distinct_seeds(seeds)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}; pass e.g. epochs=20")
    if not 0 < validation < 1:
        raise ValueError(f"validation must be a fraction between 0 and 1, got {validation!r}; "
                         "0.2 keeps a fifth of the training split for choosing the epoch")
    for part in (data.train, data.test):
        validate_sequences(part.X, part.y, data.n_classes, part.lengths)
    fit, held_out = split_validation(data.train, validation)
    keras.backend.clear_session()
    set_seed(seeds[0])
    trainer = build(data)
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    trainer.optimizer.build(trainer.trainable_variables)
    optimizer_start = [v.numpy() for v in trainer.optimizer.variables]

    def accuracy(part) -> float:
        return float(np.mean(np.argmax(trainer.predict(part.X, batch_size=512, verbose=0), axis=-1) == part.y))

    rows = []
    for seed in seeds:
        set_seed(seed)
        _copy_variables(build(data), trainer)
        for variable, value in zip(trainer.optimizer.variables, optimizer_start):
            variable.assign(value)
        for epoch in range(1, epochs + 1):
            trainer.fit(fit.X, fit.y, epochs=1, batch_size=batch_size, shuffle=True, verbose=0)
            rows.append({"seed": seed, "epoch": epoch, "validation": accuracy(held_out), "test": accuracy(data.test)})
    return pd.DataFrame(rows)
