"""Per-epoch scores for the appendix's "test set used as validation data" section.

``epoch_accuracies(build, data, seeds, ...)`` trains ``build(data)`` once per seed with :func:`utils.training.run_seeds`
on the training split minus its validation cut, and records after every epoch the accuracy on that cut (Keras'
``val_accuracy``) and, through a callback, on the test split. The test column is there only to *measure* what
choosing an epoch by the test split would report; a real experiment never looks at it before the end.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .training import run_seeds


def epoch_accuracies(build: Callable, data, seeds, epochs: int = 20, batch_size: int = 32,
                     learning_rate: float = 3e-3, validation: float = 0.2) -> pd.DataFrame:
    """One row per (seed, epoch): ``validation`` and ``test`` accuracy after that epoch.

    Args:
        build: a function ``data -> keras.Model`` (uncompiled; it is compiled here with Adam and sparse
            categorical cross-entropy).
        data: a course ``Dataset``.
        seeds: the seeds, at least 2, all distinct.
        epochs: how many epochs each seed trains.
        batch_size: the training batch size.
        learning_rate: Adam's learning rate.
        validation: the fraction of the training split cut off (stratified) as the validation part.

    Returns:
        A ``DataFrame`` with columns ``seed``, ``epoch``, ``validation`` and ``test`` (accuracies).

    Raises:
        ValueError: fewer than 2 or repeated seeds, ``epochs`` not a whole number >= 1, ``validation`` not
            between 0 and 1, or a split whose sequences or labels fail the course's input check.

    Example:
        ::

            table = epoch_accuracies(MODELS["01 JV average"].build, load_japanese_vowels(), seeds=range(3))
    """
    import keras

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}; pass e.g. epochs=20")
    if not 0 < validation < 1:
        raise ValueError(f"validation must be a fraction between 0 and 1, got {validation!r}; "
                         "0.2 keeps a fifth of the training split for choosing the epoch")

    class TestAccuracy(keras.callbacks.Callback):
        """After every epoch, the accuracy on the test split; one list per seed (each seed's fit begins one)."""

        def __init__(self):
            super().__init__()
            self.per_seed = []

        def on_train_begin(self, logs=None):
            self.per_seed.append([])

        def on_epoch_end(self, epoch, logs=None):
            predicted = np.argmax(self.model.predict(data.test.X, batch_size=512, verbose=0), axis=-1)
            self.per_seed[-1].append(float(np.mean(predicted == data.test.y)))

    recorder = TestAccuracy()
    runs = run_seeds("epoch by epoch", build, data, seeds, epochs=epochs, batch_size=batch_size,
                     learning_rate=learning_rate, validation=validation, callbacks=[recorder]).runs
    return pd.DataFrame([{"seed": run.seed, "epoch": epoch, "validation": float(run.history["val_accuracy"][epoch - 1]),
                          "test": test}
                         for run, tests in zip(runs, recorder.per_seed) for epoch, test in enumerate(tests, 1)])
