"""Training and evaluation: metrics, one seeded run, and the multi-seed comparison."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, precision_score, recall_score

from .data import Dataset, split_validation
from .runtime import is_fast, set_seed
from .stats import format_interval, seed_interval
from .validators import check_choice, validate_sequences, whole_number


def classification_metrics(y_true, y_pred, n_classes: int) -> dict[str, float]:
    """Accuracy, macro recall (MAR) and macro precision (MAP), computed by scikit-learn.

    Args:
        y_true: ``(N,)`` integer true labels.
        y_pred: ``(N,)`` integer predicted labels.
        n_classes: the number of classes; labels lie in ``0..n_classes - 1``.

    Returns:
        ``{"accuracy": ..., "MAR": ..., "MAP": ...}``. The macro averages run over all ``n_classes`` classes; a
        class that is never predicted (precision) or never present (recall) counts 0.

    Raises:
        ValueError: the labels are not rank 1, differ in length, are empty, are not integers or lie outside
            ``0..n_classes - 1``.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(f"labels must be rank 1, got shapes {y_true.shape} and {y_pred.shape}")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("no labels to score")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
        if y.min() < 0 or y.max() >= n_classes:
            raise ValueError(f"{name} labels must lie in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
    labels = list(range(n_classes))
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "MAR": recall_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
        "MAP": precision_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
    }


def labelling_metrics(y_true, y_pred, lengths, n_classes: int) -> dict[str, float]:
    """Per-step metrics over real steps only: accuracy, MAR, MAP and macro F1 of every real step's label.

    ``y_true`` and ``y_pred`` are (N, T) per-step labels, ``lengths`` (N,) the real lengths: padded steps are
    left out, so neither their labels nor what the model predicts there can change a score.

    Args:
        y_true: ``(N, T)`` integer true labels per step.
        y_pred: ``(N, T)`` integer predicted labels per step.
        lengths: ``(N,)`` real lengths.
        n_classes: the number of classes.

    Returns:
        ``{"accuracy": ..., "MAR": ..., "MAP": ..., "macro F1": ...}`` over the real steps.

    Raises:
        ValueError: ``y_true`` and ``y_pred`` are not two ``(N, T)`` arrays of the same shape, or their real steps'
            labels fail the checks of :func:`classification_metrics`.
    """
    from sklearn.metrics import f1_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 2 or y_pred.shape != y_true.shape:
        raise ValueError(f"per-step labels must be (sequences, steps) and agree, got {y_true.shape} and {y_pred.shape}")
    real = real_steps(lengths, y_true.shape[1])
    metrics = classification_metrics(y_true[real], y_pred[real], n_classes)
    metrics["macro F1"] = f1_score(y_true[real], y_pred[real], labels=list(range(n_classes)), average="macro",
                                   zero_division=0)
    return metrics


def real_steps(lengths, max_len: int) -> np.ndarray:
    """(N, max_len) booleans: True on each sequence's real steps, False on its padding.

    Args:
        lengths: ``(N,)`` real lengths.
        max_len: the padded length ``T``.

    Returns:
        The ``(N, max_len)`` boolean mask.
    """
    lengths = np.asarray(lengths)
    return np.arange(max_len)[None, :] < lengths[:, None]


def sequence_scores(y_true, y_pred, lengths) -> np.ndarray:
    """(N,) the share of each sequence's real steps labelled right: the per-sequence score that paired
    verdicts on a labelling task resample (whole sequences, because steps within one are not independent).

    Args:
        y_true: ``(N, T)`` true labels per step.
        y_pred: ``(N, T)`` predicted labels per step.
        lengths: ``(N,)`` real lengths.

    Returns:
        ``(N,)`` floats in [0, 1].
    """
    y_true, y_pred, lengths = np.asarray(y_true), np.asarray(y_pred), np.asarray(lengths)
    right = (y_true == y_pred) & real_steps(lengths, y_true.shape[1])
    return right.sum(axis=1) / lengths


def score(part, y_pred, n_classes: int) -> dict[str, float]:
    """The test metrics of predictions on ``part``: per sequence (:func:`classification_metrics`), or per real
    step when ``part`` has per-step labels (:func:`labelling_metrics`).

    Args:
        part: a :class:`utils.data.SequenceSet` (usually the test split).
        y_pred: predicted labels, shaped like ``part.y``.
        n_classes: the number of classes.

    Returns:
        The metrics dict of :func:`classification_metrics` or :func:`labelling_metrics`.

    Raises:
        ValueError: the labels fail the checks of the metric function.
    """
    if np.ndim(part.y) == 2:
        return labelling_metrics(part.y, y_pred, part.lengths, n_classes)
    return classification_metrics(part.y, y_pred, n_classes)


def accuracy_on(part, y_pred) -> float:
    """Accuracy of ``y_pred`` on ``part``: per sequence, or over real steps only for per-step labels.

    Args:
        part: a :class:`utils.data.SequenceSet`.
        y_pred: predicted labels, shaped like ``part.y``.

    Returns:
        The share of sequences (or of all real steps) labelled right, a float.
    """
    if np.ndim(part.y) == 2:
        return float(np.mean(sequence_scores(part.y, y_pred, part.lengths) * part.lengths) / np.mean(part.lengths))
    return float(np.mean(np.asarray(y_pred) == part.y))


def classification_table(y_true, y_pred, class_names) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support (scikit-learn's classification report) as a table.

    Args:
        y_true: ``(N,)`` integer true labels.
        y_pred: ``(N,)`` integer predicted labels.
        class_names: one name per class, in label order.

    Returns:
        A DataFrame with columns ``precision``, ``recall``, ``f1-score`` and ``support``: one row per class, then
        ``macro avg``, ``weighted avg`` and ``accuracy`` (its value in the ``f1-score`` column).

    Raises:
        ValueError: the labels fail the checks of :func:`classification_metrics`.
    """
    metrics = classification_metrics(y_true, y_pred, len(class_names))  # validates the labels
    report = classification_report(y_true, y_pred, labels=list(range(len(class_names))),
                                   target_names=list(class_names), output_dict=True, zero_division=0)
    table = pd.DataFrame(report).T.drop(index=["accuracy"], errors="ignore")
    table.loc["accuracy"] = [np.nan, np.nan, metrics["accuracy"], table.loc["macro avg", "support"]]
    return table.astype({"support": int})


@dataclass
class RunResult:
    """One trained model: its test metrics, train accuracy, history, predictions and timings.

    Args:
        seed: the seed it trained with.
        metrics: its test metrics (:func:`score`).
        train_accuracy: its accuracy on the training split (:func:`accuracy_on`).
        history: Keras' ``History.history`` of its ``fit``.
        y_pred: its predicted test labels.
        seconds: how long its ``fit`` took.
        n_params: its parameter count.
        model: the trained model, when it was kept (``keep_models=True``); else None.
    """

    seed: int
    metrics: dict[str, float]
    train_accuracy: float
    history: dict[str, list[float]]
    y_pred: np.ndarray
    seconds: float
    n_params: int
    model: object = field(repr=False, default=None)


def predict_labels(model, X, batch_size: int = 1024) -> np.ndarray:
    """Arg-max class predictions (in few, large batches: each new batch shape costs JAX a compilation).

    Args:
        model: a Keras classifier with softmax outputs.
        X: the inputs.
        batch_size: the prediction batch size.

    Returns:
        The predicted class of each sequence (or each step, for a per-step model) as int32.
    """
    return np.argmax(model.predict(X, batch_size=batch_size, verbose=0), axis=-1).astype(np.int32)


def _predict_test_and_train(model, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Predicted labels for the test and the training split, in one call when their shapes allow it
    (one batch shape instead of two: JAX compiles the prediction once)."""
    if data.test.X.shape[1:] != data.train.X.shape[1:]:
        return predict_labels(model, data.test.X), predict_labels(model, data.train.X)
    both = predict_labels(model, np.concatenate([data.test.X, data.train.X]),
                          batch_size=min(len(data.test) + len(data.train), 2048))
    return both[:len(data.test)], both[len(data.test):]


def _copy_variables(source, target) -> None:
    """Assign every variable of ``source`` (weights, seed-generator states) to the same-shaped ``target``."""
    pairs = list(zip(source.variables, target.variables))
    if len(source.variables) != len(target.variables) or any(a.shape != b.shape for a, b in pairs):
        raise ValueError("build(data) must return the same architecture for every seed")
    for a, b in pairs:
        b.assign(a.value)


ONE_HOT_LOSSES = ("categorical_crossentropy", "binary_crossentropy")


def _loss_and_targets(n_classes: int, label_smoothing: float, loss: str | None = None):
    """Sparse cross-entropy on integer labels; with label smoothing, categorical on one-hot labels; or ``loss``,
    one of :data:`ONE_HOT_LOSSES`, on one-hot labels (``"binary_crossentropy"`` on a softmax over several
    classes reproduces Q004's mistake). Returns the loss and the function that turns labels into its targets."""
    import keras

    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1), got {label_smoothing}")
    if loss is not None:
        check_choice("loss", loss, ONE_HOT_LOSSES)
        if label_smoothing:
            raise ValueError("give loss= or label_smoothing=, not both")
        one_hot = np.eye(n_classes, dtype="float32")
        return loss, lambda y: one_hot[y]
    if not label_smoothing:
        return "sparse_categorical_crossentropy", lambda y: y
    one_hot = np.eye(n_classes, dtype="float32")
    return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing), lambda y: one_hot[y]


PROGRESS_ENV = "COURSE_PROGRESS"  # 0 hides the progress bars


def show_progress() -> bool:
    """Progress bars appear in a Jupyter kernel or a terminal, never in captured test output or logs to a file.

    The environment variable ``COURSE_PROGRESS=0`` hides them everywhere.

    Returns:
        True when progress bars are shown.
    """
    if os.environ.get(PROGRESS_ENV, "1").strip() == "0":
        return False
    ipython = sys.modules.get("IPython")  # a kernel has imported it; plain Python and pytest have no shell
    return (ipython is not None and ipython.get_ipython() is not None) or sys.stdout.isatty()


def progress_bar(name: str, total: int, unit: str = "seed"):
    """One progress line: name, unit k of n, elapsed and estimated time left (tqdm's text bar, whose last state is
    what a saved notebook keeps). Hidden where :func:`show_progress` says so.

    Args:
        name: the bar's label.
        total: how many units make the whole.
        unit: what one step counts, e.g. ``"seed"``.

    Returns:
        A ``tqdm`` bar (disabled when hidden); call ``update()`` per unit and ``close()`` at the end.
    """
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit=unit, disable=not show_progress(), leave=True, file=sys.stdout,
                ncols=100, bar_format=f"{{desc}}: {unit} {{n_fmt}}/{{total_fmt}} |{{bar}}| {{elapsed}} elapsed, "
                                      "{remaining} left")


def _use_jit(trainer, jit_compile) -> bool | str:
    """Resolve ``jit_compile`` for ``compile``. XLA on TensorFlow cannot compile the cuDNN LSTM kernel, so
    with ``jit_compile=True`` the trainer's LSTMs use the generic kernel (the same maths; on a CPU there is
    no cuDNN kernel anyway). The returned models keep their cuDNN-eligible configuration. Keras itself
    skips XLA on TensorFlow while op determinism is on (:func:`utils.runtime.set_seed`, with a GPU)."""
    import keras

    if jit_compile not in ("auto", True, False):
        raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}")
    if jit_compile is True and keras.backend.backend() == "tensorflow":
        from .inspection import lstm_layers

        for lstm in lstm_layers(trainer):
            lstm.use_cudnn, lstm.supports_jit = False, True  # Keras bars XLA only for the cuDNN path
    return jit_compile


def _class_weight(class_weight, y, n_classes: int) -> dict | None:
    """``fit``'s ``class_weight`` from ``None``, ``"balanced"`` or a dict (checked against the classes)."""
    if class_weight is None:
        return None
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}")
        from sklearn.utils.class_weight import compute_class_weight

        present = np.unique(y)
        weights = compute_class_weight("balanced", classes=present, y=y)
        return {int(c): float(w) for c, w in zip(present, weights)}
    if not isinstance(class_weight, dict) or set(class_weight) - set(range(n_classes)) \
            or any(not np.isfinite(w) or w < 0 for w in class_weight.values()):
        raise ValueError(f"class_weight must map classes 0..{n_classes - 1} to weights >= 0, got {class_weight!r}")
    return {int(c): float(w) for c, w in class_weight.items()}


def replica_count(distribution) -> int:
    """How many model replicas ``distribution`` splits each global batch over.

    Args:
        distribution: a ``keras.distribution.DataParallel`` or ``ModelParallel`` (JAX backend) or a
            ``tf.distribute.Strategy`` (TensorFlow backend).

    Returns:
        The replica count: for Keras' distributions the device mesh's size along the batch axis (what newer Keras
        calls ``num_model_replicas``; Colab's Keras 3.13 lacks that property), ``num_replicas_in_sync`` for a
        TensorFlow strategy.

    Raises:
        ValueError: ``distribution`` is neither, or does not match the Keras backend (Keras' distribution API
            runs on JAX here; a TensorFlow strategy on TensorFlow).
    """
    import keras

    backend = keras.backend.backend()
    if isinstance(distribution, (keras.distribution.DataParallel, keras.distribution.ModelParallel)):
        if backend != "jax":
            raise ValueError(f"a keras.distribution.{type(distribution).__name__} needs the JAX backend, but Keras "
                             f"runs on {backend!r}; on TensorFlow pass a tf.distribute.Strategy "
                             "(e.g. tf.distribute.MirroredStrategy())")
        mesh = distribution.device_mesh
        return int(mesh.shape[list(mesh.axis_names).index(distribution.batch_dim_name)])
    if "tensorflow" in sys.modules and isinstance(distribution, sys.modules["tensorflow"].distribute.Strategy):
        if backend != "tensorflow":
            raise ValueError(f"a tf.distribute.{type(distribution).__name__} needs the TensorFlow backend, but "
                             f"Keras runs on {backend!r}; on JAX pass keras.distribution.DataParallel(...)")
        return int(distribution.num_replicas_in_sync)
    raise ValueError(f"distribution must be None, a keras.distribution.DataParallel or ModelParallel (JAX) or a "
                     f"tf.distribute.Strategy (TensorFlow), got {type(distribution).__name__}")


def _check_distribution(distribution, batch_size: int, parts: dict[str, int]):
    """The scope to build, compile and fit in: a null context without a distribution; else the distribution's
    scope, after checking that its replicas split every batch evenly (``parts``: the sequence count of the
    training part and of the validation cut, by name)."""
    if distribution is None:
        return contextlib.nullcontext()
    replicas = replica_count(distribution)
    if batch_size % replicas:
        raise ValueError(f"the global batch size {batch_size} does not split evenly over {replicas} devices; "
                         f"choose a batch size that is a multiple of {replicas} (e.g. "
                         f"{max(replicas, batch_size // replicas * replicas)}) or another device count")
    import keras

    # Keras on JAX splits every batch, the last too
    if isinstance(distribution, (keras.distribution.DataParallel, keras.distribution.ModelParallel)):
        for part, n in parts.items():
            if n % batch_size % replicas:
                raise ValueError(f"the last batch of the {part} holds {n % batch_size} sequences ({n} in batches of "
                                 f"{batch_size}), which {replicas} devices cannot split evenly; choose a batch size "
                                 f"that leaves a multiple of {replicas} over, or use {n - n % batch_size % replicas} "
                                 "of its sequences")
    return distribution.scope()


def _train_seeds(build: Callable, data: Dataset, seeds, epochs: int, batch_size: int, learning_rate: float,
                 validation: float, keep_models: bool, verbose: int, label_smoothing: float = 0.0,
                 jit_compile="auto", name: str = "", class_weight=None, loss=None, callbacks=None,
                 distribution=None) -> list[RunResult]:
    """Train ``build(data)`` once per seed and score it on the test split, which nothing else reads.

    ``validation`` > 0 cuts that share of the training split off (stratified, the same for every seed):
    the model trains on the rest and records its loss and accuracy on the cut per epoch.

    One compiled model does the training for every seed: before each seed it receives that seed's
    freshly built initial variables and a reset optimizer, so Keras traces its graph only once. The
    result is identical to a new model per seed, and much faster on a CPU.

    ``distribution`` (a ``keras.distribution.DataParallel`` on JAX, a ``tf.distribute.Strategy`` on TensorFlow):
    the models are built, compiled and trained under its scope (see :func:`run_seeds`).
    """
    import keras

    for part in (data.train, data.test):
        validate_sequences(part.X, part.y, data.n_classes, part.lengths)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    loss, targets = _loss_and_targets(data.n_classes, label_smoothing, loss)
    fit_part, validation_part = split_validation(data.train, validation) if validation else (data.train, None)
    labelling = np.ndim(data.train.y) == 2
    if labelling and class_weight is not None:
        raise ValueError("class_weight weighs one label per sequence; per-step labels take no class_weight")
    class_weight = _class_weight(class_weight, fit_part.y, data.n_classes)
    parts = {"training split": len(fit_part), **({"validation cut": len(validation_part)} if validation else {})}
    scope = _check_distribution(distribution, batch_size, parts)   # on the data as given
    if is_fast():   # fast mode: whole batches only (a smaller last batch is a second shape for JAX to compile)
        fit_part, validation_part = whole_batches(fit_part, batch_size), whole_batches(validation_part, batch_size)
    X_fit, y_fit = fit_part.X, targets(fit_part.y)
    # per-step labels: each real step weighs 1 and each padded step 0, so padding counts in no loss
    weights = (lambda part: real_steps(part.lengths, part.X.shape[1]).astype("float32")) if labelling else \
        (lambda part: None)
    w_fit = weights(fit_part)
    validation_data = None if validation_part is None else (validation_part.X, targets(validation_part.y)) + (
        (weights(validation_part),) if labelling else ())
    try:
        keras.backend.clear_session(free_memory=False)   # its gc.collect() costs 0.5 s a call and frees nothing kept
    except TypeError:                                    # a Keras without free_memory=
        keras.backend.clear_session()
    with scope:   # after clear_session, which would forget a Keras distribution set before it
        return _train_in_scope(build, data, seeds, epochs, batch_size, learning_rate, keep_models, verbose,
                               jit_compile, name, class_weight, loss, callbacks, X_fit, y_fit, w_fit,
                               validation_data)


def whole_batches(part, batch_size: int):
    """The first sequences of ``part`` that fill whole batches of ``batch_size``; ``part`` itself when it is
    smaller than one batch or already whole (or None).

    Fast mode trains on these: each new batch shape costs JAX a compilation of the training (or validation) step,
    and a smaller last batch is one more shape. Fewer sequences, the same code path; a full run trains on all.

    Args:
        part: a :class:`~utils.data.SequenceSet`, or None.
        batch_size: the batch size, >= 1.

    Returns:
        A :class:`~utils.data.SequenceSet` (or None).

    Raises:
        ValueError: ``batch_size`` is not a whole number >= 1.
    """
    batch_size = whole_number("batch_size", batch_size)
    if part is None or len(part) <= batch_size or len(part) % batch_size == 0:
        return part
    return part.take(np.arange(len(part) // batch_size * batch_size))


@contextlib.contextmanager
def _unsharded_inputs():
    """On JAX, predict with no Keras distribution set: the replicated weights serve inputs of any count, which
    a data-parallel distribution would have to split evenly over its devices. Elsewhere, nothing changes."""
    import keras

    current = keras.distribution.distribution() if keras.backend.backend() == "jax" else None
    if current is None:
        yield
        return
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


def _train_in_scope(build, data, seeds, epochs, batch_size, learning_rate, keep_models, verbose, jit_compile, name,
                    class_weight, loss, callbacks, X_fit, y_fit, w_fit, validation_data) -> list[RunResult]:
    """The seeds' training loop of :func:`_train_seeds`, inside the distribution's scope (if any)."""
    import keras

    set_seed(seeds[0])
    trainer = build(data)
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"],
                    jit_compile=_use_jit(trainer, jit_compile))
    trainer.optimizer.build(trainer.trainable_variables)
    optimizer_start = [v.numpy() for v in trainer.optimizer.variables]
    # On JAX, a trainer's first fit ends a few float bits away from its later fits from the same start
    # (Keras finishes setting it up during that fit). One warm-up step makes every seed train alike, so a
    # seed gives the same result first in a list, later in it, or alone.
    trainer.fit(X_fit[:batch_size], y_fit[:batch_size], epochs=1, batch_size=batch_size, verbose=0,
                sample_weight=None if w_fit is None else w_fit[:batch_size])
    runs = []
    progress = progress_bar(name or trainer.name, len(seeds)) if len(seeds) > 1 else None
    for seed in seeds:
        set_seed(seed)
        model = build(data)  # this seed's initial weights
        _copy_variables(model, trainer)
        for variable, value in zip(trainer.optimizer.variables, optimizer_start):
            variable.assign(value)
        start = time.perf_counter()
        history = trainer.fit(X_fit, y_fit, epochs=epochs, batch_size=batch_size, shuffle=True,
                              validation_data=validation_data, verbose=verbose, class_weight=class_weight,
                              sample_weight=w_fit, callbacks=callbacks)
        seconds = time.perf_counter() - start
        with _unsharded_inputs():
            y_pred, train_pred = _predict_test_and_train(trainer, data)
        train_acc = accuracy_on(data.train, train_pred)
        if keep_models:
            _copy_variables(trainer, model)
        runs.append(RunResult(seed, score(data.test, y_pred, data.n_classes), train_acc,
                              history.history, y_pred, seconds, trainer.count_params(),
                              model if keep_models else None))
        if progress is not None:
            progress.update()
    if progress is not None:
        progress.close()
    return runs


def train_and_evaluate(build: Callable, data: Dataset, seed: int = 0, epochs: int = 40, batch_size: int = 32,
                       learning_rate: float = 3e-3, validation: float = 0.0, label_smoothing: float = 0.0,
                       verbose: int = 0, jit_compile="auto") -> RunResult:
    """Seed, build ``build(data)``, train on ``data.train`` with a fixed epoch budget, score on test.

    The test split is read once, for the final score: no early stopping, no checkpoint picking, no curves.
    ``validation=0.2`` trains on 80% of the training split and records the loss and accuracy on the other,
    stratified 20% after every epoch (``history["val_accuracy"]``), for learning curves.
    Loss is sparse categorical cross-entropy, the right loss for integer multi-class labels.
    ``label_smoothing`` > 0 trains on targets that keep that share of probability off the true class,
    spread evenly over all classes (Szegedy et al. 2016), a regulariser. ``jit_compile`` goes to
    ``Model.compile`` (``"auto"``: Keras' choice, which compiles on JAX and not on a TensorFlow CPU).

    Args:
        build: a function ``data -> keras.Model`` (uncompiled).
        data: a :class:`utils.data.Dataset`.
        seed: the seed for the initial weights, dropout and shuffling.
        epochs: the fixed number of epochs.
        batch_size: the training batch size.
        learning_rate: Adam's learning rate.
        validation: the share of the training split cut off for validation curves (0: none).
        label_smoothing: the share of probability kept off the true class, in [0, 1).
        verbose: Keras' ``fit`` verbosity.
        jit_compile: ``"auto"``, True or False.

    Returns:
        A :class:`RunResult` that keeps the trained model.

    Raises:
        ValueError: ``data`` fails :func:`utils.validators.validate_sequences`; ``epochs`` or ``batch_size`` is
            below 1; ``label_smoothing`` lies outside [0, 1); ``jit_compile`` is another value; or the
            validation cut is impossible (:func:`utils.data.validation_indices`).

    Example:
        ::

            run = train_and_evaluate(lambda d: build_classifier(d, pool="attention"), jv, seed=0, epochs=10)
            run.metrics["accuracy"]
    """
    return _train_seeds(build, data, [seed], epochs, batch_size, learning_rate, validation, True, verbose,
                        label_smoothing, jit_compile)[0]


def distinct_seeds(seeds) -> list:
    """``seeds`` as a list; a ValueError unless there are at least 2 of them (for an interval), all distinct.

    Args:
        seeds: an iterable of seeds.

    Returns:
        The seeds as a list, in their order.

    Raises:
        ValueError: fewer than 2 seeds, or a seed given twice.
    """
    seeds = list(seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"need at least 2 distinct seeds, got {seeds}")
    return seeds


def split_fingerprint(part) -> str:
    """A short fingerprint of a test split (its sequences and labels): paired comparisons check it.

    Args:
        part: a :class:`utils.data.SequenceSet`.

    Returns:
        The first 12 hex digits of the SHA-1 of ``part.X`` and ``part.y``.
    """
    import hashlib

    digest = hashlib.sha1(np.ascontiguousarray(part.X).tobytes())
    digest.update(np.ascontiguousarray(part.y).tobytes())
    return digest.hexdigest()[:12]


#: The metrics a summary gives an interval over seeds.
SUMMARY_METRICS = ("accuracy", "MAR", "MAP", "train accuracy")


@dataclass
class SeedComparison:
    """Per-seed results of one model on one test split, and their summary.

    Made by :func:`run_seeds` (or :meth:`scored_on`), rarely by hand.

    Args:
        name: the model's name in tables.
        runs: one :class:`RunResult` per seed.
        y_true: the test labels every run was scored on.
        test_key: the test split's fingerprint (:func:`split_fingerprint`).
        lengths: for per-step labels only, the test split's real lengths.
    """

    name: str
    runs: list[RunResult]
    y_true: np.ndarray = field(repr=False, default=None)  # the test labels every run was scored on
    test_key: str = ""                                     # fingerprint of that test split
    lengths: np.ndarray | None = field(repr=False, default=None)  # per-step labels only: the real lengths

    @classmethod
    def scored_on(cls, name: str, runs: list[RunResult], test) -> SeedComparison:
        """The comparison of ``runs``, all scored on the test split ``test``: it keeps that split's labels and
        fingerprint, so :func:`utils.stats.compare_paired` can check that two models saw the same items.

        Args:
            name: the model's name in tables.
            runs: the runs, one per seed.
            test: the :class:`utils.data.SequenceSet` they were scored on.

        Returns:
            The :class:`SeedComparison`.
        """
        lengths = np.asarray(test.lengths).copy() if np.ndim(test.y) == 2 else None
        return cls(name, runs, np.asarray(test.y).copy(), split_fingerprint(test), lengths)

    @property
    def seeds(self) -> list[int]:
        """The runs' seeds, in order."""
        return [r.seed for r in self.runs]

    @property
    def correct(self) -> np.ndarray:
        """(seeds, test items) booleans: did the run of each seed get each test item right? With per-step labels,
        (seeds, test sequences) shares: the share of each sequence's real steps labelled right.

        Raises:
            ValueError: the comparison does not know its test labels (it was not made by :func:`run_seeds`).
        """
        if self.y_true is None:
            raise ValueError(f"{self.name!r} does not know its test labels; train it with run_seeds")
        if self.y_true.ndim == 2:
            return np.stack([sequence_scores(self.y_true, r.y_pred, self.lengths) for r in self.runs])
        return np.stack([r.y_pred == self.y_true for r in self.runs])

    @property
    def table(self) -> pd.DataFrame:
        """One row per seed: model, seed, the test metrics, ``train accuracy`` and ``seconds``."""
        return pd.DataFrame([{"model": self.name, "seed": r.seed, **r.metrics,
                              "train accuracy": r.train_accuracy, "seconds": r.seconds} for r in self.runs])

    def subset(self, seeds) -> SeedComparison:
        """The same model restricted to some of its seeds (for example to ask how many seeds a verdict needs).

        Args:
            seeds: the seeds to keep, in the order wanted.

        Returns:
            A new :class:`SeedComparison` with those seeds' runs.

        Raises:
            ValueError: a seed the model was not trained on.
        """
        by_seed = {r.seed: r for r in self.runs}
        missing = [s for s in seeds if s not in by_seed]
        if missing:
            raise ValueError(f"{self.name!r} was not trained on seeds {missing}; it has {self.seeds}")
        return SeedComparison(self.name, [by_seed[s] for s in seeds], self.y_true, self.test_key, self.lengths)

    def on_items(self, items, label: str) -> SeedComparison:
        """The same runs scored on some test items only (``items``: booleans or indices), for a verdict on part
        of the test split, e.g. the sequences whose cue lies farthest from its targets. ``label`` names the part
        in the fingerprint, so only comparisons restricted to the same items pair up. It is for
        :func:`utils.stats.compare_paired`, which reads ``correct``; each run's ``metrics`` stay the whole split's.

        Args:
            items: the test items to keep, as booleans over the test split or as indices.
            label: a name for the part, added to the fingerprint.

        Returns:
            A new :class:`SeedComparison` on those items.

        Raises:
            ValueError: the comparison does not know its test labels, or no item is selected.

        Example:
            ::

                far = cue_distances(data.test) > 20
                compare_paired(a.on_items(far, "far"), b.on_items(far, "far"))
        """
        from dataclasses import replace as copy_with

        if self.y_true is None:
            raise ValueError(f"{self.name!r} does not know its test labels; train it with run_seeds")
        items = np.flatnonzero(items) if np.asarray(items).dtype == bool else np.asarray(items)
        if items.size == 0:
            raise ValueError("no test items selected")
        runs = [copy_with(r, y_pred=r.y_pred[items]) for r in self.runs]
        lengths = None if self.lengths is None else self.lengths[items]
        return SeedComparison(self.name, runs, self.y_true[items], f"{self.test_key}:{label}:{items.size}", lengths)

    def summary(self, confidence: float = 0.95) -> dict:
        """Numbers: each metric's mean over seeds with the low and high end of its interval over seeds
        (percentile bootstrap, :func:`utils.stats.seed_interval`), the parameter count and seconds per run.

        Args:
            confidence: the intervals' confidence level, in (0, 1).

        Returns:
            A dict: ``model``, ``seeds``, then for each metric (``accuracy``, ``MAR``, ``MAP``, ``train accuracy``
            and, for per-step labels, ``macro F1``) its mean and ``"<metric> low"``, ``"<metric> high"``; then
            ``params`` and ``seconds/run``.

        Raises:
            ValueError: fewer than 2 runs, ``confidence`` outside (0, 1), or a metric that is NaN or inf.
        """
        row = {"model": self.name, "seeds": len(self.runs)}
        table = self.table
        for metric in [m for m in (*SUMMARY_METRICS, "macro F1") if m in table]:   # macro F1: labelling only
            row[metric], row[f"{metric} low"], row[f"{metric} high"] = seed_interval(table[metric], confidence)
        row["params"] = self.runs[0].n_params
        row["seconds/run"] = float(table["seconds"].mean())
        return row


def run_seeds(name: str, build: Callable, data: Dataset, seeds=(0, 1, 2), keep_models: bool = False,
              epochs: int = 40, batch_size: int = 32, learning_rate: float = 3e-3, validation: float = 0.0,
              label_smoothing: float = 0.0, verbose: int = 0, jit_compile="auto",
              class_weight=None, loss: str | None = None, callbacks=None, distribution=None) -> SeedComparison:
    """Train ``build`` once per seed and collect the results (at least 2 seeds, for an interval).

    ``class_weight``: ``None``, ``"balanced"`` (each class weighted by ``N / (classes x its count)`` on the part
    the model fits, scikit-learn's ``compute_class_weight``) or a ``{class: weight}`` dict, passed to ``fit``.
    ``loss``: ``None`` (sparse cross-entropy) or one of :data:`ONE_HOT_LOSSES`, on one-hot labels.
    Training is as in :func:`train_and_evaluate`; ``keep_models=True`` keeps each seed's trained model.
    Per-step labels ``(N, T)`` (sequence labelling, a ``pool="none"`` model): ``fit`` gets a per-step
    ``sample_weight`` of 1 on real steps and 0 on padded ones, and every score counts real steps only.
    ``callbacks``: Keras callbacks for each seed's ``fit`` (the appendix's per-epoch test score uses one).
    ``distribution``: train data-parallel, in one process (lesson 10c): a Keras distribution such
    as ``keras.distribution.DataParallel(devices=keras.distribution.list_devices())`` on JAX, or a
    ``tf.distribute.Strategy`` such as ``tf.distribute.MirroredStrategy()`` on TensorFlow. The models are built,
    compiled and trained under its scope, and each global batch of ``batch_size`` sequences is split evenly over its
    devices. ``None`` (the default) trains on one device, exactly as before.
    In a notebook or a terminal, a progress line shows the seed count, the time taken and the time left.

    Args:
        name: the model's name in tables and on the progress line.
        build: a function ``data -> keras.Model`` (uncompiled), called once per seed.
        data: a :class:`utils.data.Dataset`.
        seeds: at least 2 distinct seeds.
        keep_models: keep each seed's trained model in its :class:`RunResult`.
        epochs: the fixed number of epochs.
        batch_size: the training batch size.
        learning_rate: Adam's learning rate.
        validation: the share of the training split cut off for validation curves (0: none).
        label_smoothing: the share of probability kept off the true class, in [0, 1).
        verbose: Keras' ``fit`` verbosity.
        jit_compile: ``"auto"``, True or False.
        class_weight: ``None``, ``"balanced"`` or a ``{class: weight}`` dict.
        loss: ``None`` or one of :data:`ONE_HOT_LOSSES`.
        callbacks: Keras callbacks for each seed's ``fit``.
        distribution: None, a ``keras.distribution.DataParallel`` (JAX) or a ``tf.distribute.Strategy``
            (TensorFlow).

    Returns:
        A :class:`SeedComparison` scored on ``data.test``.

    Raises:
        ValueError: fewer than 2 distinct seeds; ``data`` fails :func:`utils.validators.validate_sequences`;
            ``epochs`` or ``batch_size`` below 1; ``label_smoothing`` outside [0, 1); ``loss`` not one of
            :data:`ONE_HOT_LOSSES`, or given with ``label_smoothing``; a ``class_weight`` that is none of the three
            forms, or any ``class_weight`` with per-step labels; another ``jit_compile``; an impossible validation
            cut; ``build`` returning different architectures for different seeds; a ``distribution`` that does not
            match the Keras backend, or whose device count does not divide ``batch_size`` (on JAX, also the last
            batch of an epoch).

    Example:
        ::

            runs = run_seeds("attention pooling", lambda d: build_classifier(d, pool="attention"), jv,
                             seeds=range(10), epochs=20)
            compare(runs)
    """
    seeds = distinct_seeds(seeds)
    runs = _train_seeds(build, data, seeds, epochs, batch_size, learning_rate, validation, keep_models, verbose,
                        label_smoothing, jit_compile, name, class_weight, loss, callbacks, distribution)
    return SeedComparison.scored_on(name, runs, data.test)


def compare(*comparisons: SeedComparison) -> pd.DataFrame:
    """One row of numbers per model: each metric's mean and interval over seeds (see ``summary``).

    Args:
        *comparisons: the models' :class:`SeedComparison` objects.

    Returns:
        A DataFrame indexed by model, with the columns of :meth:`SeedComparison.summary`.

    Raises:
        ValueError: no comparison given, or one whose summary fails.
    """
    if not comparisons:
        raise ValueError("give at least one SeedComparison")
    return pd.DataFrame([c.summary() for c in comparisons]).set_index("model")


def summary_table(table: pd.DataFrame, metrics=("accuracy",), columns=(), digits: int = 3) -> pd.DataFrame:
    """The one display of a :func:`compare` table: each metric as ``mean [low, high]`` under a header that
    names the variance its interval covers, then the other ``columns`` rounded.

    Args:
        table: a :func:`compare` table.
        metrics: the metrics to show with their intervals.
        columns: other columns of ``table`` to show.
        digits: decimal places.

    Returns:
        A DataFrame for display: ``seeds`` (when the table has it), one ``"<metric> [95% CI over seeds]"`` column
        per metric, then ``columns``.

    Raises:
        ValueError: a metric without an interval in ``table``, or a column it does not have.

    Example:
        ::

            summary_table(compare(a, b), metrics=("accuracy", "MAR"), columns=("params",))
    """
    shown = pd.DataFrame(index=table.index)
    if "seeds" in table:
        shown["seeds"] = table["seeds"]
    for metric in metrics:
        if f"{metric} low" not in table:
            raise ValueError(f"{metric!r} has no interval in this table; choose from {SUMMARY_METRICS}")
        shown[f"{metric} [95% CI over seeds]"] = [format_interval(*v, digits=digits) for v in
                                                  table[[metric, f"{metric} low", f"{metric} high"]].values]
    for column in columns:
        if column not in table:
            raise ValueError(f"no column {column!r}; the table has {list(table.columns)}")
        shown[column] = table[column].round(digits) if table[column].dtype.kind == "f" else table[column]
    return shown


def loss_gradients(model, X, y, variables) -> list[np.ndarray]:
    """Gradients of the mean sparse cross-entropy on one batch ``(X, y)`` with respect to ``variables``.

    Works on both backends (:func:`utils.keras_ops.gradient`). ``variables`` must be trainable variables of
    ``model`` (e.g. ``model.get_layer("dense").kernel``).

    Args:
        model: a built Keras classifier with softmax outputs.
        X: ``(batch, time, features)`` inputs.
        y: ``(batch,)`` integer labels.
        variables: trainable variables of ``model``.

    Returns:
        One NumPy gradient per variable, in the order given (the model's call runs with ``training=True``).

    Raises:
        ValueError: ``X`` is not rank 3 or ``y`` is not one label per sequence, or ``variables`` is empty or holds
            a variable that is not one of the model's trainable variables.
    """
    from .keras_ops import gradient

    X = np.asarray(X, dtype="float32")
    y = np.asarray(y)
    if X.ndim != 3 or y.shape != (len(X),):
        raise ValueError(f"need X (batch, time, features) and one integer label per sequence, got {X.shape}, {y.shape}")
    targets = list(variables)
    trainable = model.trainable_variables
    positions = [next((i for i, v in enumerate(trainable) if v is t), None) for t in targets]
    if not targets or None in positions:
        raise ValueError("variables must be a non-empty list of the model's trainable variables")
    gradients = gradient(model, _mean_loss, X, y, wrt="weights", training=True)
    return [gradients[i] for i in positions]


def _mean_loss(probabilities, labels):
    """The mean sparse cross-entropy of a batch (the objective of :func:`loss_gradients`)."""
    import keras

    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities))
