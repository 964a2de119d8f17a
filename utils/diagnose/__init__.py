"""The clinic: ``diagnose(model, data)`` checks a learner's own sequence classifier and data, with evidence.

Every finding says what was checked, the number that was measured, why it matters and the smallest fix.
Checks that cannot run on a given model (no attention layer, not compiled, tied to one length) say so
instead of guessing. The optional ceiling estimate (``ceiling=True``) trains cheap peers on the same split
and draws a learning curve: is there more signal to get?

From a terminal: ``python -m utils.diagnose MODEL DATA [--ceiling]`` (a ``.keras`` model and a data file
that :func:`utils.data.load_dataset` reads). It picks the Keras backend as the notebooks do
(:func:`utils.runtime.choose_backend`: JAX on a CPU, ``COURSE_BACKEND=jax|tensorflow`` overrides) and says which.

The package: :mod:`~utils.diagnose.report` (findings and the report), :mod:`~utils.diagnose.model_checks`,
:mod:`~utils.diagnose.data_checks`, :mod:`~utils.diagnose.ceiling` and :mod:`~utils.diagnose.cli`.
"""
from __future__ import annotations

import sys

if sys.argv[:1] == ["-m"] and "keras" not in sys.modules:
    # `python -m utils.diagnose`: Python imports this package while it locates __main__, with sys.argv[0] == "-m"
    # (the `python -m` documentation). Choose the backend the notebooks choose before Keras is imported.
    from ..runtime import choose_backend

    choose_backend()

import numpy as np  # noqa: E402

from ..inspection import mask_value  # noqa: E402
from ..validators import padded_lengths  # noqa: E402
from .ceiling import CURVE_RISING, ceiling_estimate, curve_evidence, summary_features  # noqa: E402
from .data_checks import as_data, as_token_ids, data_checks  # noqa: E402
from .model_checks import PROBE_SEQUENCES, check_model, model_checks, one_input_view  # noqa: E402
from .report import CANNOT, INFO, OK, WARNING, Finding, Report, before_after  # noqa: E402

__all__ = ["diagnose", "Report", "Finding", "before_after", "ceiling_estimate",
           "summary_features", "curve_evidence", "CURVE_RISING", "WARNING", "OK", "INFO", "CANNOT"]


def diagnose(model, data, *, ceiling: bool = False, minirocket: bool = True, progress: bool = True) -> Report:
    """Check ``model`` (any Keras 3 classifier of sequences) and ``data`` (a course ``Dataset``, ``(X, y)`` or
    ``(X_train, y_train, X_test, y_test)``); return a :class:`Report`.

    A model with more inputs takes ``X`` as a list, one array per input, as ``fit`` does: inputs that hold the same
    row for every sequence (Q002's query ``u``) are folded in by :func:`utils.inspection.fold_constant_inputs` and
    every check reads the one sequence input; inputs that vary per sequence get a ValueError that names the adapter
    to write.

    The model checks run on the first 64 training sequences. ``ceiling=True`` adds the ceiling estimate
    (it trains peers, with a progress bar; MiniRocket only where aeon is installed and ``minirocket=True``).

    Args:
        model: a built Keras 3 classifier of sequences (trained or not): one output, ``(batch, classes)`` or
            ``(batch, time, classes)``.
        data: a course ``Dataset``, ``(X, y)`` or ``(X_train, y_train, X_test, y_test)``; integer or one-hot labels.
        ceiling: also train the peers and draw the learning curve (needs a test split for the curve).
        minirocket: include the MiniRocket peer where aeon is installed.
        progress: show a progress bar while the ceiling estimate trains.

    Returns:
        A :class:`Report`: ``print(report)`` for the findings, ``report.frame`` for a table, and with
        ``ceiling=True`` also ``report.peers`` and ``report.curve``.

    Raises:
        ValueError: ``model`` is not a built Keras model with one sequence input and one classifier output (after
            folding constant inputs), ``data`` is not one of the accepted forms or does not fit the model
            (rank, features, labels), or extra inputs vary from sequence to sequence.

    Example:
        ::

            report = diagnose(model, (X_train, y_train, X_test, y_test), ceiling=True)
            print(report)
    """
    model, data, notes = one_input_view(model, data)
    data = as_token_ids(as_data(data), model)
    check_model(model, data)
    pad = mask_value(model)
    findings = data_checks(data, pad)
    X = data.X_train[:PROBE_SEQUENCES]
    if not data.tokens:
        X = np.nan_to_num(X).astype(np.float32)
    lengths = np.maximum(padded_lengths(X, 0.0 if pad is None else pad), 1)
    findings = notes + model_checks(model, data, X, lengths, pad) + findings
    report = Report(findings, model.name, data.name)
    if ceiling:
        extra, report.peers, report.curve, report.peer_predictions = ceiling_estimate(
            model, data, 0.0 if pad is None else pad, minirocket=minirocket, progress=progress)
        report.findings += extra
    return report
