"""``python -m utils.diagnose MODEL DATA [--ceiling]``: the clinic from a terminal."""
from __future__ import annotations

import argparse

import keras

from ..data import load_dataset
from ..saved_models import load_model
from . import diagnose


def main(argv=None) -> int:
    """Load a saved model and a data file, run :func:`~utils.diagnose.diagnose` on them and print the report.

    Args:
        argv: the command-line arguments (``MODEL DATA [--ceiling]``); ``None`` reads ``sys.argv``.

    Returns:
        0, the exit status.

    Raises:
        ValueError: the model file cannot be loaded, the data file cannot be read, or ``diagnose`` rejects them.
    """
    parser = argparse.ArgumentParser(prog="python -m utils.diagnose",
                                     description="The clinic: check a saved sequence classifier and its data.")
    parser.add_argument("model", help="a saved Keras model (.keras)")
    parser.add_argument("data", help="a data file: .npz (X, y[, lengths, X_test, y_test]) or a long-format .csv")
    parser.add_argument("--ceiling", action="store_true", help="also train peers and draw a learning curve")
    args = parser.parse_args(argv)
    print(f"backend: {keras.backend.backend()} (COURSE_BACKEND=jax|tensorflow overrides)")
    report = diagnose(load_model(args.model), load_dataset(args.data), ceiling=args.ceiling)
    print(report)
    if report.peers is not None:
        print("\n" + report.peers.round(3).to_string())
    return 0
