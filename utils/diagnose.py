"""The clinic: ``diagnose(model, data)`` checks a learner's own sequence classifier and data, with evidence.

Every finding says what was checked, the number that was measured, why it matters and the smallest fix.
Checks that cannot run on a given model (no attention layer, not compiled, tied to one length) say so
instead of guessing. The optional ceiling estimate (``ceiling=True``) trains cheap peers on the same split
and draws a learning curve: is there more signal to get?

From a terminal: ``python -m utils.diagnose MODEL DATA [--ceiling]`` (a ``.keras`` model and a data file
that :func:`utils.data.load_dataset` reads). It picks the Keras backend as the notebooks do
(:func:`utils.runtime.choose_backend`: JAX on a CPU, ``COURSE_BACKEND=jax|tensorflow`` overrides) and says which.
"""
from __future__ import annotations

if __name__ == "__main__":  # `python -m utils.diagnose`: the backend the notebooks choose, before Keras is imported
    from .runtime import choose_backend

    choose_backend()

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from keras import layers
from scipy.stats import entropy as entropy_of

from .data import Dataset, split_validation
from .keras_internals import get_keras_mask, inbound_nodes
from .models import PADDING_TOLERANCE, cudnn_problems, forward, has_class_named, lstm_layers, padding_gap
from .probe import attention_layers, attention_weights
from .self_attention import attention_on_padding

WARNING, OK, INFO, CANNOT = "warning", "ok", "info", "cannot run"
#: Normalised entropy (1 = uniform weights, as average pooling) above which trained attention counts as flat.
FLAT_ENTROPY = 0.98
#: Padding's share of attention above which the padding-attention check warns.
PADDING_SHARE_TOLERANCE = 1e-3
MIN_PER_CLASS = 10       # fewer training sequences than this in a class is a warning
IMBALANCE_RATIO = 3.0    # largest over smallest class count above this is a warning
PROBE_SEQUENCES = 64     # sequences the model checks run on


@dataclass
class Finding:
    """One check's result: what was checked, its status, the measured evidence, why it matters, the fix."""

    area: str        # "model", "data" or "ceiling"
    check: str       # the check's name, e.g. "padding leak"
    status: str      # "warning", "ok", "info" or "cannot run"
    evidence: str    # what was measured, in words with the number
    value: float | None = None   # the measured number itself (None when nothing could be measured)
    why: str = ""
    fix: str = ""


class Report:
    """The clinic's report: ``report.frame`` (a DataFrame), ``print(report)``, ``report.warnings``."""

    def __init__(self, findings: list[Finding], model_name: str, data_name: str):
        self.findings, self.model_name, self.data_name = findings, model_name, data_name
        self.peers: pd.DataFrame | None = None   # the ceiling estimate's peer scores (ceiling=True)
        self.curve: pd.DataFrame | None = None   # the learning curve (ceiling=True)
        #: each peer's predicted labels on the test and the training split (ceiling=True), for paired verdicts
        self.peer_predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(f) for f in self.findings])

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.status == WARNING]

    def checks(self, status: str = WARNING) -> set[str]:
        """The names of the checks with ``status`` (warnings by default)."""
        return {f.check for f in self.findings if f.status == status}

    def get(self, check: str) -> Finding:
        for finding in self.findings:
            if finding.check == check:
                return finding
        raise ValueError(f"the report has no check {check!r}; it has {[f.check for f in self.findings]}")

    def __str__(self) -> str:
        marks = {WARNING: "!!", OK: "ok", INFO: "--", CANNOT: "??"}
        lines = [f"Clinic report: model {self.model_name!r} on {self.data_name}",
                 f"{len(self.warnings)} warning(s); '??' = a check that could not run here", ""]
        for area in ("model", "data", "ceiling"):
            found = [f for f in self.findings if f.area == area]
            if not found:
                continue
            lines.append(f"{area.upper()}")
            order = {WARNING: 0, CANNOT: 1, INFO: 2, OK: 3}
            for f in sorted(found, key=lambda f: order[f.status]):
                lines.append(f"  {marks[f.status]} {f.check}: {f.evidence}")
                if f.status == WARNING:
                    lines += [f"       why: {f.why}", f"       fix: {f.fix}"]
            lines.append("")
        return "\n".join(lines).rstrip()

    def _repr_pretty_(self, printer, cycle):  # a bare `report` in a notebook prints the readable form
        printer.text(str(self))


# --------------------------------------------------------------------------------------------- the inputs

@dataclass
class _Data:
    name: str
    X_train: np.ndarray
    y_train: np.ndarray          # as given: integer labels (N,) or one-hot (N, C)
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    n_classes: int

    @property
    def tokens(self) -> bool:
        return self.X_train.ndim == 2

    @staticmethod
    def sparse(y) -> np.ndarray:
        return np.argmax(y, axis=1) if y.ndim == 2 else y.astype(np.int64)


def _as_data(data) -> _Data:
    """A course ``Dataset``, ``(X, y)`` or ``(X_train, y_train, X_test, y_test)``."""
    if isinstance(data, Dataset):
        return _Data(data.name, data.train.X, data.train.y, data.test.X, data.test.y, data.n_classes)
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise ValueError("data must be a course Dataset, (X, y) or (X_train, y_train, X_test, y_test), "
                         f"got {type(data).__name__}")
    arrays = [np.asarray(a) for a in data]
    X_train, y_train = arrays[:2]
    X_test, y_test = arrays[2:] if len(arrays) == 4 else (None, None)
    for X, y, part in ((X_train, y_train, "train"), (X_test, y_test, "test")):
        if X is None:
            continue
        if X.ndim not in (2, 3):
            raise ValueError(f"{part} X must be (batch, time, features) or (batch, time) token ids, "
                             f"got shape {X.shape}")
        if len(X) == 0 or X.shape[1] == 0:
            raise ValueError(f"{part} X is empty: shape {X.shape}")
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"{part} X must be numeric, got dtype {X.dtype}")
        if y.ndim not in (1, 2) or len(y) != len(X):
            raise ValueError(f"{part} y must be (batch,) labels or (batch, classes) one-hot with {len(X)} rows, "
                             f"got shape {y.shape}")
        if y.ndim == 1 and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{part} y must hold integer class labels, got dtype {y.dtype}")
        if np.any(_Data.sparse(y) < 0):
            raise ValueError(f"{part} labels must be >= 0")
    if X_test is not None and X_test.shape[1:] != X_train.shape[1:] and X_test.ndim != X_train.ndim:
        raise ValueError(f"train and test X differ in rank: {X_train.shape} and {X_test.shape}")
    labels = [_Data.sparse(y) for y in (y_train, y_test) if y is not None]
    n_classes = y_train.shape[1] if y_train.ndim == 2 else int(max(y.max() for y in labels)) + 1
    return _Data("your data", X_train, y_train, X_test, y_test, max(n_classes, 2))


def _as_token_ids(data: _Data, model) -> _Data:
    """Token ids stored as ``(N, T, 1)`` (a course text ``Dataset``) for a model that takes ``(N, T)``."""
    takes_ids = isinstance(model, keras.Model) and getattr(model, "inputs", None) and len(model.inputs[0].shape) == 2
    if takes_ids and data.X_train.ndim == 3 and data.X_train.shape[2] == 1 and np.issubdtype(data.X_train.dtype,
                                                                                                np.integer):
        data.X_train = data.X_train[..., 0]
        data.X_test = None if data.X_test is None else data.X_test[..., 0]
    return data


def _check_model(model, data: _Data) -> None:
    if not isinstance(model, keras.Model):
        raise ValueError(f"diagnose needs a Keras model, got {type(model).__name__}")
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError("the model has no inputs yet: build it on an Input (or call it once) first")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"diagnose reads classifiers with one output and one sequence input; {model.name!r} has "
                         f"{len(model.inputs)} inputs and {len(model.outputs)} outputs. For more inputs, give X as "
                         "a list with one array per input: inputs that hold the same row for every sequence (Q002's "
                         "`u`) are folded in by fold_constant_inputs")
    rank, out_rank = len(model.inputs[0].shape), len(model.outputs[0].shape)
    if rank not in (2, 3):
        raise ValueError(f"diagnose reads sequence models: input (batch, time[, features]), {model.name!r} takes "
                         f"{tuple(model.inputs[0].shape)}")
    if out_rank not in (2, 3):
        raise ValueError(f"{model.name!r} is not a classifier: its output {tuple(model.outputs[0].shape)} is not "
                         "(batch, classes) or (batch, time, classes)")
    if data.X_train.ndim != rank:
        raise ValueError(f"the data's X has rank {data.X_train.ndim} {data.X_train.shape} but the model takes rank "
                         f"{rank} {tuple(model.inputs[0].shape)}")
    expected = model.inputs[0].shape[2:] if rank == 3 else ()
    if tuple(expected) != tuple(data.X_train.shape[2:]) and None not in expected:
        raise ValueError(f"the model takes {expected[0]} features per step, the data has {data.X_train.shape[2]}")


# ----------------------------------------------------------------------------------- models with more inputs

@keras.saving.register_keras_serializable(package="course")
class ConstantInput(layers.Layer):
    """A fixed array, the same for every sequence of the batch (the input it is called on sets the batch size)."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = np.asarray(value, dtype="float32")

    def call(self, inputs):
        batch = keras.ops.shape(inputs)[0]
        return keras.ops.broadcast_to(keras.ops.convert_to_tensor(self.value)[None], (batch, *self.value.shape))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.value.shape)

    def get_config(self):
        return {**super().get_config(), "value": self.value.tolist()}


def fold_constant_inputs(model: keras.Model, constants: dict) -> keras.Model:
    """A one-input view of a model whose other inputs are constants, such as Q002's query input ``u``
    (``np.full((N, 64), 1/64)``): the same computation, with each constant fed by a :class:`ConstantInput`.

    Args:
        model: a Keras model with several inputs.
        constants: ``{input position: value of one row}`` for every input but one sequence input.

    Returns:
        A ``keras.Model`` that takes the remaining (sequence) input and returns ``model``'s output.

    Raises:
        ValueError: when the constants leave other than exactly one input, or a value's shape does not fit.
    """
    free = [i for i in range(len(model.inputs)) if i not in constants]
    if len(free) != 1 or set(constants) - set(range(len(model.inputs))):
        raise ValueError(f"give a constant for every input of {model.name!r} but one sequence input: it has "
                         f"{len(model.inputs)} inputs, constants were given for positions {sorted(constants)}")
    flexible = [keras.Input((None, *t.shape[2:]) if i == free[0] else t.shape[1:], dtype=t.dtype)
                for i, t in enumerate(model.inputs)]   # any length on the sequence input, as padding_gap needs
    inner = keras.models.clone_model(model, input_tensors=flexible)
    inner.set_weights(model.get_weights())
    sequence = keras.Input((None, *model.inputs[free[0]].shape[2:]), dtype=model.inputs[free[0]].dtype)
    feeds = []
    for i, tensor in enumerate(model.inputs):
        if i == free[0]:
            feeds.append(sequence)
            continue
        value = np.asarray(constants[i], dtype="float32")
        if tuple(value.shape) != tuple(tensor.shape[1:]):
            raise ValueError(f"input {i} of {model.name!r} takes one row of shape {tuple(tensor.shape[1:])}, "
                             f"the constant has shape {value.shape}")
        feeds.append(ConstantInput(value, name=f"constant_{tensor.name}")(sequence))
    return keras.Model(sequence, inner(feeds), name=f"{model.name}_one_input")


def _one_input_view(model, data):
    """For a model with several inputs and ``data`` whose X is a list (one array per input): the one-input view
    with the constant inputs folded in, the data on its sequence input, and a finding that says what was done.
    Where the checks cannot run (inputs that vary from sequence to sequence, or more than one sequence input), a
    ValueError that names the adapter to write."""
    if not isinstance(model, keras.Model) or len(getattr(model, "inputs", None) or []) < 2:
        return model, data, []
    arrays = data[0] if isinstance(data, (tuple, list)) else None
    if not isinstance(arrays, (tuple, list)) or len(arrays) != len(model.inputs):
        raise ValueError(f"{model.name!r} takes {len(model.inputs)} inputs: give X as a list with one array per "
                         "input, in the model's order, as you pass it to fit ((X_list, y) or "
                         "(X_list, y, X_test_list, y_test))")
    arrays = [np.asarray(a) for a in arrays]
    sequences = [i for i, a in enumerate(arrays) if a.ndim == 3 or (a.ndim == 2 and len(model.inputs[i].shape) == 2
                                                                    and np.issubdtype(a.dtype, np.integer))]
    constant = {i: a[0] for i, a in enumerate(arrays) if i not in sequences and np.all(a == a[:1])}
    names = [f"input {i} {tuple(t.shape[1:])}" for i, t in enumerate(model.inputs)]
    if len(sequences) == 1 and len(constant) == len(arrays) - 1:
        view = fold_constant_inputs(model, constant)
        seq = sequences[0]
        tests = list(data[2]) if len(data) == 4 else None
        folded = (arrays[seq], data[1]) if tests is None else (arrays[seq], data[1], np.asarray(tests[seq]), data[3])
        folded_names = ", ".join(names[i] for i in constant)
        note = Finding("model", "more inputs", INFO, f"{len(constant)} input(s) ({folded_names}) hold the same row "
                       "for every sequence: folded in as constants by fold_constant_inputs, so every check reads the "
                       f"sequence input {names[seq]!r}", float(len(constant)),
                       "a constant input is a learned query in disguise",
                       "make it a weight of a layer (lesson 03's AttentionPooling)")
        return view, folded, [note]
    varying = [names[i] for i in range(len(arrays)) if i not in sequences and i not in constant]
    what = (f"input(s) {varying} that vary from sequence to sequence" if varying else
            f"{len(sequences)} sequence inputs ({', '.join(names[i] for i in sequences)})")
    raise ValueError(f"{model.name!r} has {what}: the model checks append padding to one sequence input and re-run "
                     "the model, so they cannot run here. Diagnose a one-input view: fold_constant_inputs(model, "
                     "{position: row}) for constant inputs, or a keras.Model over one sequence input that computes "
                     "the others from it")


# ------------------------------------------------------------------------------------------ model helpers

def _all_layers(model) -> list:
    """The model's layers, with those of any model nested in it (a one-input view wraps the learner's model)."""
    found = []
    for layer in model.layers:
        found += _all_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return found


def _mask_value(model) -> float | None:
    """The value the model treats as padding (``Masking``'s, or token 0 for ``Embedding(mask_zero=True)``)."""
    for layer in _all_layers(model):
        if isinstance(layer, layers.Masking):
            return float(layer.mask_value)
        if isinstance(layer, layers.Embedding) and layer.mask_zero:
            return 0.0
    return None


def _lengths(X: np.ndarray, pad: float) -> np.ndarray:
    """True lengths of right-padded sequences: up to the last step that is not all ``pad``."""
    real = (X != pad) if X.ndim == 2 else np.any(X != pad, axis=2)
    return np.where(real.any(axis=1), X.shape[1] - np.argmax(real[:, ::-1], axis=1), 0).astype(np.int32)


def _nodes(model):
    """Every layer and operation of the graph (``x + x2`` on Keras tensors is an operation, not a layer)."""
    for layer in getattr(model, "operations", model.layers):
        if isinstance(layer, keras.Model):
            yield from _nodes(layer)
            continue
        for inputs, outputs in inbound_nodes(layer):
            yield layer, inputs, outputs


def _mask_droppers(model) -> list[str]:
    """Layers that receive a mask and return a sequence without one (Keras' own mask propagation)."""
    dropped = []
    for layer, inputs, outputs in _nodes(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        had = any(get_keras_mask(t) is not None for t in inputs)
        sequence_out = any(len(t.shape) == 3 for t in outputs)
        if had and sequence_out and all(get_keras_mask(t) is None for t in outputs):
            dropped.append(layer.name)
    return dropped


def _flatten_layers(model) -> list[str]:
    return [layer.name for layer, inputs, _ in _nodes(model)
            if isinstance(layer, layers.Flatten) and any(len(t.shape) == 3 for t in inputs)]


def _attention_layers(model) -> list:
    return [model.get_layer(name) for name in attention_layers(model)]


def _is_sigmoid_attention(layer) -> bool:
    if not has_class_named(type(layer), "SeqSelfAttention"):
        return False
    activation = layer.get_config().get("attention_activation")
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", str(activation))
    return "sigmoid" in str(name)


def _final_activation(model) -> str:
    layer = model.layers[-1]
    if isinstance(layer, layers.Softmax):
        return "softmax"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return "unknown"
    name = getattr(activation, "__name__", str(activation))
    return name if name in ("softmax", "sigmoid", "linear") else "unknown"


def _loss(model) -> tuple[str | None, bool | None]:
    """The compiled loss as (name, from_logits); (None, None) when the model is not compiled."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None, None
    if isinstance(loss, str):
        name, logits = loss, False
    elif isinstance(loss, keras.losses.Loss):
        name = type(loss).__name__
        logits = bool(getattr(loss, "from_logits", False) or loss.get_config().get("from_logits", False))
    else:
        name, logits = getattr(loss, "__name__", type(loss).__name__), False
    name = name.replace("_", "").lower()
    for key in ("sparsecategoricalcrossentropy", "categoricalcrossentropy", "binarycrossentropy"):
        if key in name:
            return {"sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
                    "categoricalcrossentropy": "categorical_crossentropy",
                    "binarycrossentropy": "binary_crossentropy"}[key], logits
    return name, logits


def _trained(model) -> bool:
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and int(np.asarray(optimizer.iterations)) > 0


def _weights_on(model, layer, X) -> np.ndarray:
    """The probe's weights as (N, queries, keys): a pooling layer has one query."""
    w = attention_weights(model, X, layer.name)
    return w[:, None, :] if w.ndim == 2 else w.mean(axis=1)


# ----------------------------------------------------------------------------------------------- the checks

def _model_checks(model, data: _Data, X: np.ndarray, lengths: np.ndarray, pad: float | None) -> list[Finding]:
    findings = []
    add = lambda *a, **k: findings.append(Finding("model", *a, **k))  # noqa: E731
    droppers, flattens = _mask_droppers(model), _flatten_layers(model)
    other_droppers = [name for name in droppers if name not in flattens]
    attention = _attention_layers(model)
    out = forward(model, X)

    # the head: one label per sequence
    if out.ndim == 3:
        add("sequence head", WARNING, f"the model outputs {out.shape[1:]} per sequence: one prediction for each of "
            f"{out.shape[1]} steps, while each sequence has one label", float(out.shape[1]),
            "the loss is averaged over every step (padding included) and each step's prediction is read as the "
            "sequence's: the model is not the classifier you meant",
            "pool the sequence into one vector before the Dense head (GlobalAveragePooling1D, or an attention "
            "pooling layer), or give the last LSTM return_sequences=False")
    elif flattens:
        add("flatten head", WARNING, f"{flattens[0]!r} flattens a (time, features) sequence: the mask is dropped "
            f"and the head's weights are tied to {model.inputs[0].shape[1]} absolute positions", None,
            "Flatten reads padded steps as input, multiplies the head's weights by the length, and cannot handle "
            "a longer sequence; the motif found at step 5 and at step 50 go to different weights",
            "replace Flatten by a masked pooling layer (GlobalAveragePooling1D, which honours the mask, or "
            "attention pooling)")
    else:
        add("sequence head", OK, f"one prediction per sequence, shape {out.shape[1:]}", float(out.shape[-1]))

    # the mask
    if pad is None:
        add("padding leak", WARNING, "the model has no Masking or Embedding(mask_zero=True) layer: padded steps "
            "are read as data", None,
            "every layer sees the padding, so the same sequence gets a different answer with more padding",
            "add Masking(mask_value=0.0) after the Input (or mask_zero=True on the Embedding)")
    else:
        try:
            gap = padding_gap(model, X, lengths, n_check=16, pad_value=pad, as_given=out)
        except Exception as error:  # noqa: BLE001  # a model tied to one length cannot take extra steps
            gap = None
            add("padding leak", CANNOT, f"extra padding cannot be appended: the model is tied to one length "
                f"({type(error).__name__})", None)
        if gap is not None:
            leak_layers = other_droppers or [a.name for a in attention]
            if gap > PADDING_TOLERANCE:
                where = (f"{other_droppers[0]!r} receives the mask and passes none on" if other_droppers else
                         "the mask reaches every layer, so a layer that receives it still reads padded steps "
                         f"(see 'padding attention'{': ' + leak_layers[0] if leak_layers else ''})")
                add("padding leak", WARNING, f"8 extra padding steps change the output by up to {gap:.3g}; {where}",
                    gap, "the prediction depends on how much padding a batch happens to have",
                    "keep the mask to the end: use layers that support masking (no Flatten, Reshape or Lambda on "
                    "the sequence) and pool with a masked layer")
            else:
                add("padding leak", OK, f"8 extra padding steps change the output by at most {gap:.1e}", gap)

    # attention layers: padding share, flatness, sigmoid, single vector
    if not attention:
        add("padding attention", CANNOT, "no attention layer the probe reads (AttentionPooling, SeqWeightedAttention,"
            " SeqSelfAttention, Attention, MultiHeadAttention)", None)
    real_q = np.arange(X.shape[1])[None, :] < lengths[:, None]
    for layer in attention:
        try:
            w = _weights_on(model, layer, X)
        except Exception as error:  # noqa: BLE001 - a layer the probe cannot re-apply here
            add("padding attention", CANNOT, f"{layer.name!r}: the probe could not read its weights "
                f"({type(error).__name__}: {error})", None)
            continue
        if w.shape[-1] == 1:
            add("single vector", WARNING, f"{layer.name!r} attends over 1 key: every weight is exactly 1", 1.0,
                "attention over one vector chooses nothing; the layer is an expensive identity",
                "give the LSTM before it return_sequences=True, so attention has a sequence to weigh")
            continue
        if w.shape[-1] != X.shape[1]:
            add("padding attention", CANNOT, f"{layer.name!r} attends over {w.shape[-1]} keys, not the input's "
                f"{X.shape[1]} steps", None)
            continue
        if w.shape[1] == w.shape[2]:   # self-attention: query x key
            share = float(attention_on_padding(w, lengths).mean())
        else:                          # pooling: one query
            share = float((w[:, 0] * ~real_q).sum(axis=1).mean())
        if share > PADDING_SHARE_TOLERANCE:
            add("padding attention", WARNING, f"{layer.name!r} puts {share:.1%} of its weight on padded steps "
                f"(averaged over real queries)", share,
                "padded steps are not data: their weight dilutes the real steps and changes with the padding",
                "mask the attention: keras.layers.Attention/MultiHeadAttention and the course's "
                "MaskedSeqSelfAttention honour the Keras mask; keras-self-attention 0.51.0's SeqSelfAttention "
                "only masks (padded query, padded key) pairs")
        else:
            add("padding attention", OK, f"{layer.name!r}: {share:.1e} of the weight on padded steps", share)
        findings.extend(_flatness(model, layer, w, lengths, real_q, X))

    # the loss, head and labels agree
    findings.extend(_loss_checks(model, data, X, out))

    # the GPU kernel and recurrent dropout
    lstms = lstm_layers(model)
    problems = {lstm.name: cudnn_problems(lstm) for lstm in lstms}
    problems = {k: v for k, v in problems.items() if v}
    if not lstms:
        add("cuDNN", CANNOT, "no LSTM layer", None)
    elif problems:
        name, why = next(iter(problems.items()))
        add("cuDNN", WARNING, f"{len(problems)} of {len(lstms)} LSTM layers cannot use cuDNN on a GPU ({name}: "
            f"{'; '.join(why)})", float(len(problems)),
            "on a GPU these layers silently fall back to the generic kernel",
            "keep the defaults: tanh/sigmoid activations, recurrent_dropout=0, unroll=False, use_bias=True; "
            "regularise with dropout= (on the inputs) instead")
    else:
        add("cuDNN", OK, f"all {len(lstms)} LSTM layers can use cuDNN on a GPU", 0.0)
    dropping = [lstm for lstm in lstms if lstm.recurrent_dropout]
    if dropping:
        slow, fast = _step_seconds(model, X), _step_seconds(model, X, recurrent_dropout=0.0)
        add("recurrent dropout", WARNING, f"recurrent_dropout={dropping[0].recurrent_dropout:g}: one training step "
            f"takes {slow * 1e3:.0f} ms here against {fast * 1e3:.0f} ms without it", slow / fast,
            "it rules out the cuDNN kernel on a GPU and regularises little that input dropout does not",
            "set recurrent_dropout=0 and use dropout= on the LSTM's inputs")
    return findings


def _normalised_entropy(w, lengths, real_q) -> float:
    """Mean entropy of the weights over each sequence's real keys, as a share of log(length) (1 = uniform)."""
    queries = real_q if w.shape[1] == w.shape[2] else np.ones((len(w), 1), bool)
    p = np.where(real_q[:, None, :], w, 0.0)
    total = p.sum(-1)
    entropy = np.where(total > 0, entropy_of(np.where(total[..., None] > 0, p, 1.0), axis=-1), 0.0)   # scipy normalises p
    return float((entropy / np.log(np.maximum(lengths, 2))[:, None])[queries].mean())


def _flatness(model, layer, w, lengths, real_q, X) -> list[Finding]:
    """Flat attention (entropy against uniform and against initialisation) and sigmoid's cap on weight ratios."""
    findings = []
    flat = _normalised_entropy(w, lengths, real_q)
    if _is_sigmoid_attention(layer):
        queries = real_q if w.shape[1] == w.shape[2] else np.ones((len(w), 1), bool)
        ratio = np.where(real_q[:, None, :], w, np.nan)
        ratio = np.nanmax(ratio, -1) / np.maximum(np.nanmin(ratio, -1), 1e-12)
        peak = float(np.nanmax(ratio[queries]))
        findings.append(Finding("model", "sigmoid attention", WARNING,
                                f"{layer.name!r} uses attention_activation='sigmoid': its largest weight is at most "
                                f"{peak:.2f} times its smallest (the cap is e = 2.72)", peak,
                                "sigmoid squashes every score into (0, 1) before the softmax, so attention can "
                                "barely prefer one step to another: it stays close to average pooling",
                                "drop attention_activation (the default keeps the scores as they are)"))
    if not _trained(model):
        findings.append(Finding("model", "flat attention", INFO,
                                f"{layer.name!r}: normalised entropy {flat:.3f} (1 = uniform); the model has not "
                                "been trained here, so its weights are still at initialisation", flat))
        return findings
    fresh = keras.models.clone_model(model)   # the same architecture, freshly initialised
    init = _normalised_entropy(_weights_on(fresh, fresh.get_layer(layer.name), X), lengths, real_q)
    if flat >= FLAT_ENTROPY:
        findings.append(Finding("model", "flat attention", WARNING,
                                f"{layer.name!r}: normalised entropy {flat:.3f} after training, {init:.3f} at "
                                "initialisation (1 = uniform weights)", flat,
                                "near-uniform weights amount to average pooling: the attention layer adds "
                                "parameters but chooses nothing",
                                "compare with plain masked average pooling over seeds; if it is no worse, keep "
                                "the simpler model (and check the activation and the mask)"))
    else:
        findings.append(Finding("model", "flat attention", OK, f"{layer.name!r}: normalised entropy {flat:.3f} after "
                                f"training, {init:.3f} at initialisation", flat))
    return findings


def _loss_checks(model, data: _Data, X, out) -> list[Finding]:
    findings = []
    add = lambda *a, **k: findings.append(Finding("model", *a, **k))  # noqa: E731
    loss, logits = _loss(model)
    activation, units = _final_activation(model), int(out.shape[-1])
    onehot = data.y_train.ndim == 2
    problems = []
    if activation == "softmax" and units == 1:
        problems.append(("softmax over 1 unit", f"softmax over a single unit outputs exactly "
                         f"{float(np.mean(out)):.3f} for every sequence", "use Dense(1, activation='sigmoid') with "
                         "binary_crossentropy, or Dense(n_classes, 'softmax')"))
    if units != data.n_classes and not (units == 1 and data.n_classes == 2 and activation != "softmax"):
        problems.append(("units against classes", f"the head has {units} units but the labels hold "
                         f"{data.n_classes} classes", f"Dense({data.n_classes}, activation='softmax')"))
    if loss is None:
        add("loss and labels", CANNOT if not problems else WARNING,
            "the model is not compiled, so its loss cannot be checked" +
            (f"; {problems[0][1]}" if problems else ""), None,
            *(("the head cannot represent the classes", problems[0][2]) if problems else ()))
        return findings
    if loss == "binary_crossentropy" and units > 1 and activation == "softmax":
        y = data.sparse(data.y_train[:len(X)])
        hot = np.eye(units)[np.minimum(y, units - 1)]
        binary = float(np.mean((out > 0.5) == (hot > 0.5)))
        true = float(np.mean(out.argmax(-1) == y))
        problems.append(("binary loss on a softmax", f"binary_crossentropy on a {units}-way softmax scores each "
                         f"unit as its own yes/no question, not the sequence's class. Keras 2 then logged binary "
                         f"accuracy as 'accuracy': {binary:.3f} on these sequences against a real accuracy of "
                         f"{true:.3f} (Keras 3 picks the accuracy by the shapes instead)",
                         "loss='sparse_categorical_crossentropy' with integer labels"))
    if loss == "categorical_crossentropy" and activation == "sigmoid" and units > 1:
        problems.append(("sigmoid with categorical loss", f"categorical_crossentropy on {units} sigmoids: the "
                         "outputs need not sum to 1", "activation='softmax'"))
    if loss == "sparse_categorical_crossentropy" and onehot:
        problems.append(("sparse loss, one-hot labels", f"sparse_categorical_crossentropy expects integer labels, "
                         f"the labels are one-hot {data.y_train.shape}", "labels.argmax(axis=1), or "
                         "loss='categorical_crossentropy'"))
    if loss == "categorical_crossentropy" and not onehot and units > 1:
        problems.append(("categorical loss, integer labels", "categorical_crossentropy expects one-hot labels, the "
                         f"labels are integers {data.y_train.shape}", "loss='sparse_categorical_crossentropy'"))
    if logits and activation in ("softmax", "sigmoid"):
        problems.append(("from_logits on probabilities", f"from_logits=True but the head already applies "
                         f"{activation}: the loss squashes it a second time", "from_logits=False, or drop the "
                         "head's activation"))
    if not logits and activation == "linear":
        problems.append(("logits read as probabilities", "the head is linear (logits) but the loss expects "
                         "probabilities (from_logits=False)", "from_logits=True in the loss"))
    if problems:
        add("loss and labels", WARNING, "; ".join(p[1] for p in problems), float(len(problems)),
            "the loss, the head and the labels disagree: training optimises something other than the class of each "
            "sequence",
            "; ".join(p[2] for p in problems))
    else:
        add("loss and labels", OK, f"{activation} over {units} units with {loss}"
            f"{' (from logits)' if logits else ''} and {'one-hot' if onehot else 'integer'} labels", 0.0)
    return findings


def _step_seconds(model, X, recurrent_dropout: float | None = None, repeats: int = 3) -> float:
    """Seconds per training step of a copy of ``model`` on one batch (after one warm-up step)."""
    import copy as copying

    def clone(layer):
        config = copying.deepcopy(layer.get_config())
        if recurrent_dropout is not None and isinstance(layer, layers.LSTM):
            config["recurrent_dropout"] = recurrent_dropout
        if recurrent_dropout is not None and isinstance(layer, layers.Bidirectional):
            config["layer"]["config"]["recurrent_dropout"] = recurrent_dropout
            config.pop("backward_layer", None)
        return type(layer).from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.compile(optimizer="adam", loss="mse")
    batch = X[:32]
    target = np.zeros((len(batch), *copy.outputs[0].shape[1:]), np.float32)
    copy.train_on_batch(batch, target)
    start = time.perf_counter()
    for _ in range(repeats):
        copy.train_on_batch(batch, target)
    return (time.perf_counter() - start) / repeats


def _data_checks(data: _Data, pad: float | None) -> list[Finding]:
    findings = []
    add = lambda *a, **k: findings.append(Finding("data", *a, **k))  # noqa: E731
    parts = [("train", data.X_train)] + ([("test", data.X_test)] if data.X_test is not None else [])
    bad = {part: int(np.count_nonzero(~np.isfinite(X))) for part, X in parts if np.issubdtype(X.dtype, np.floating)}
    if any(bad.values()):
        add("NaN or inf", WARNING, ", ".join(f"{n} non-finite values in {p}" for p, n in bad.items() if n),
            float(sum(bad.values())), "one NaN turns the loss into NaN and every prediction after it into noise",
            "find where they come from; impute or drop those sequences before padding")
    else:
        add("NaN or inf", OK, "none", 0.0)
    X = np.nan_to_num(data.X_train.astype(np.float64)) if not data.tokens else data.X_train
    pad_value = 0.0 if pad is None else pad
    lengths = _lengths(X, pad_value)
    if data.tokens:
        add("feature scale", CANNOT, "token ids: no features to scale", None)
    else:
        real = np.arange(X.shape[1])[None, :] < lengths[:, None]
        steps = X[real]
        std, mean = steps.std(axis=0), steps.mean(axis=0)
        constant = np.flatnonzero(std == 0)
        spread = float(std.max() / max(std[std > 0].min(), 1e-12)) if np.any(std > 0) else math.inf
        off = float(np.max(np.abs(mean) / np.maximum(std, 1e-12)))
        if constant.size:
            add("constant features", WARNING, f"{constant.size} feature(s) never change (e.g. feature "
                f"{constant[0]})", float(constant.size), "a constant carries no information and, at 0, "
                "feeds Masking's all-zero test", "drop the feature")
        if spread > 100 or off > 10:
            add("feature scale", WARNING, f"feature standard deviations differ by a factor of {spread:.3g} and a "
                f"mean lies {off:.3g} standard deviations from 0", spread,
                "unscaled features saturate the LSTM's gates and let one feature drown the others",
                "standardise each feature with the training split's mean and std "
                "(utils.data.dataset_from_sequences does it)")
        else:
            add("feature scale", OK, f"standard deviations within a factor of {spread:.3g}, means within "
                f"{off:.3g} std of 0", spread)
        zero = ~np.any(X != pad_value, axis=2)
        start = np.argmax(~zero, axis=1)   # the first real step (after any left padding)
        interior = zero & real & (np.arange(X.shape[1])[None, :] >= start[:, None])
        leading = zero[:, 0] & ~zero.all(axis=1)
        n_interior = int(interior.sum())
        if n_interior:
            i, t = np.argwhere(interior)[0]
            add("all-zero real steps", WARNING, f"{n_interior} real step(s) equal the mask value {pad_value:g} in "
                f"every feature (first: sequence {i}, step {t})", float(n_interior),
                f"Masking(mask_value={pad_value:g}) silently treats them as padding, mid-sequence",
                "shift the data (utils.data.dataset_from_sequences(shift=...)) or pad with a value the data "
                "never takes, and use that as Masking's mask_value")
        else:
            add("all-zero real steps", OK, "no real step equals the mask value in every feature", 0.0)
        n_left = int(leading.sum())
        if n_left > 0.1 * len(X):
            add("left padding", WARNING, f"{n_left} of {len(X)} sequences start with padding", n_left / len(X),
                "the cuDNN kernel needs right padding, and a last-state read-out then reads padding",
                "pad on the right: keras.utils.pad_sequences(..., padding='post')")
        else:
            add("left padding", OK, f"{n_left} of {len(X)} sequences start with an all-padding step",
                n_left / len(X))
    y = data.sparse(data.y_train)
    counts = np.bincount(y, minlength=data.n_classes)
    majority = counts.max() / counts.sum()
    ratio = counts.max() / max(counts.min(), 1)
    baseline = (f"always answering class {int(counts.argmax())} scores {majority:.3f}: every accuracy must beat it "
                "(report balanced accuracy too)")
    if ratio > IMBALANCE_RATIO:
        add("class imbalance", WARNING, f"class counts {counts.tolist()} (largest/smallest {ratio:.1f}); "
            + baseline, majority, "accuracy rewards the majority class; a model can look good by ignoring the rest",
            "report balanced accuracy and per-class recall; try class_weight or resampling")
    else:
        add("class imbalance", OK, f"class counts {counts.tolist()}; " + baseline, majority)
    if counts.min() < MIN_PER_CLASS:
        add("examples per class", WARNING, f"class {int(counts.argmin())} has {counts.min()} training sequences",
            float(counts.min()), "too few examples to learn the class, or to score it reliably",
            "collect more, merge rare classes, or use a simpler model")
    else:
        add("examples per class", OK, f"at least {counts.min()} training sequences per class", float(counts.min()))
    if data.X_test is None:
        add("train/test duplicates", CANNOT, "no test split given", None)
    else:
        seen = {np.ascontiguousarray(row).tobytes() for row in np.nan_to_num(data.X_train)}
        dup = sum(np.ascontiguousarray(row).tobytes() in seen for row in np.nan_to_num(data.X_test))
        if dup:
            add("train/test duplicates", WARNING, f"{dup} of {len(data.X_test)} test sequences also appear in the "
                "training split", dup / len(data.X_test), "duplicated items leak the answer: the test "
                "accuracy overstates what the model does on new data", "deduplicate before splitting")
        else:
            add("train/test duplicates", OK, "no test sequence appears in the training split", 0.0)
    return findings


# ------------------------------------------------------------------------------------------ the ceiling

def summary_features(X: np.ndarray, pad: float = 0.0) -> np.ndarray:
    """Per sequence: the length, and each feature's mean, std, min, max, first and last real value (or, for
    token ids, the token counts). The input of the logistic-regression peer."""
    lengths = np.maximum(_lengths(X, pad), 1)
    if X.ndim == 2:
        vocab = int(X.max()) + 1
        counts = np.zeros((len(X), vocab), np.float32)
        for i, row in enumerate(X):
            np.add.at(counts[i], row[row != pad].astype(int), 1.0)
        return np.concatenate([counts, lengths[:, None]], axis=1)
    real = (np.arange(X.shape[1])[None, :] < lengths[:, None])[..., None]
    masked = np.where(real, X, np.nan)
    first = X[:, 0]
    last = X[np.arange(len(X)), lengths - 1]
    stats = [np.nanmean(masked, 1), np.nanstd(masked, 1), np.nanmin(masked, 1), np.nanmax(masked, 1), first, last]
    return np.concatenate([*stats, lengths[:, None]], axis=1)


def _logistic():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def ceiling_estimate(model, data: _Data, pad: float, shares=(0.1, 0.25, 0.5, 0.75, 1.0), minirocket: bool = True,
                     progress: bool = True):
    """Peers on the same split (majority class, logistic regression on summary features, MiniRocket if aeon is
    installed) and a learning curve of the strongest peer that can run (MiniRocket, else logistic regression,
    chosen by design before any score is seen) on a validation split cut from training.
    Returns (findings, peers table, curve table, each peer's (test, train) predicted labels)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    from .training import progress_bar

    if data.X_test is None:
        return [Finding("ceiling", "ceiling", CANNOT, "no test split given", None)], None, None, {}
    peers_run = ["majority", "logistic regression", *(["MiniRocket"] if minirocket and _minirocket_fits(data) else [])]
    y_train, y_test = data.sparse(data.y_train), data.sparse(data.y_test)
    rows, predictions = [], {}
    bar = progress_bar("ceiling estimate", len(peers_run) + 1, unit="step") if progress else None
    for name in peers_run:
        start = time.perf_counter()
        predict = _fit_peer(name, data.X_train, y_train, pad)
        y_pred, train_pred = predict(data.X_test), predict(data.X_train)
        predictions[name] = (np.asarray(y_pred, np.int32), np.asarray(train_pred, np.int32))
        rows.append({"model": name, "accuracy": accuracy_score(y_test, y_pred),
                     "balanced accuracy": balanced_accuracy_score(y_test, y_pred),
                     "seconds": time.perf_counter() - start})
        if bar is not None:
            bar.update()
    curve = _learning_curve(data, pad, shares, peers_run[-1])
    if bar is not None:
        bar.update()
        bar.close()
    y_model = np.asarray(model.predict(data.X_test, verbose=0))
    y_model = (y_model[:, -1] if y_model.ndim == 3 else y_model)
    y_model = (y_model[:, 0] > 0.5).astype(int) if y_model.shape[-1] == 1 else y_model.argmax(-1)
    trained = _trained(model)
    rows.append({"model": f"your model ({model.name}{'' if trained else ', untrained'})",
                 "accuracy": accuracy_score(y_test, y_model),
                 "balanced accuracy": balanced_accuracy_score(y_test, y_model), "seconds": float("nan")})
    peers = pd.DataFrame(rows).set_index("model")
    best = peers.drop(index=peers.index[-1]).sort_values("balanced accuracy").iloc[-1]
    mine = peers.iloc[-1]
    gap = float(best["balanced accuracy"] - mine["balanced accuracy"])
    findings = []
    if not trained:
        findings.append(Finding("ceiling", "peers", INFO, f"your model has not been trained here, so its score is "
                                f"its initial weights'; the best peer, {best.name}, reaches balanced accuracy "
                                f"{best['balanced accuracy']:.3f}: the bar a trained model must reach",
                                float(best["balanced accuracy"])))
    elif gap > 0.02:
        findings.append(Finding("ceiling", "peers", WARNING, f"{best.name} reaches balanced accuracy "
                                f"{best['balanced accuracy']:.3f}, your model {mine['balanced accuracy']:.3f} "
                                f"({gap:+.3f}), on the same test split (one trained model)", gap,
                                "a cheap peer finds signal your model misses: the model, not the data, is short",
                                "fix the model's warnings above first; then compare recipes on a validation split, "
                                "and compare over ten seeds (utils.answers.three_answers)"))
    else:
        findings.append(Finding("ceiling", "peers", INFO, f"your model's balanced accuracy "
                                f"{mine['balanced accuracy']:.3f} is within 0.02 of (or above) the best peer, "
                                f"{best.name} ({best['balanced accuracy']:.3f}), on the same test split (one trained "
                                "model)", gap))
    findings.append(Finding("ceiling", "learning curve", INFO, curve_evidence(curve),
                            float(curve["validation accuracy"].iloc[-1] - curve["validation accuracy"].iloc[-2])))
    return findings, peers, curve, predictions


#: A learning curve that gains more than this over its last step is still rising.
CURVE_RISING = 0.01


def curve_evidence(curve: pd.DataFrame) -> str:
    """The learning curve's last step in words: which peer, from what to what, rising or flat."""
    before, last = curve["validation accuracy"].iloc[-2], curve["validation accuracy"].iloc[-1]
    return (f"the {curve.attrs['peer']} peer's validation accuracy goes from {before:.3f} to {last:.3f} between "
            f"{curve.index[-2]:.0%} and {curve.index[-1]:.0%} of the training data: "
            + ("still rising, more data would likely help" if last - before > CURVE_RISING else
               "flat, more of the same data is unlikely to help much"))


def _minirocket_fits(data: _Data) -> bool:
    """MiniRocket runs where aeon is installed, on features (not token ids) of at least 9 steps."""
    import importlib.util

    return importlib.util.find_spec("aeon") is not None and not data.tokens and data.X_train.shape[1] >= 9


def _fit_peer(name: str, X, y, pad: float):
    """Fit the peer ``name`` on ``(X, y)``; return its predict function (sequences -> labels)."""
    if name == "majority":
        from sklearn.dummy import DummyClassifier

        peer = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(y), 1)), y)
        return lambda X_new: peer.predict(np.zeros((len(X_new), 1)))
    if name == "logistic regression":
        peer = _logistic().fit(summary_features(X, pad), y)
        return lambda X_new: peer.predict(summary_features(X_new, pad))
    from aeon.classification.convolution_based import MiniRocketClassifier

    from .peers import fill_padding

    def fill(X):
        return fill_padding(X, np.maximum(_lengths(X, pad), 1))

    peer = MiniRocketClassifier(n_kernels=2_000, random_state=0, n_jobs=1).fit(fill(X), y)
    return lambda X_new: peer.predict(fill(X_new)).astype(int)


def _learning_curve(data: _Data, pad: float, shares, peer: str) -> pd.DataFrame:
    """The peer's accuracy on a validation split cut from training, fitted on growing shares of the rest."""
    from sklearn.metrics import accuracy_score

    from .data import SequenceSet

    y = data.sparse(data.y_train)
    whole = SequenceSet(data.X_train, np.maximum(_lengths(data.X_train, pad), 1), y.astype(np.int32))
    fit, validation = split_validation(whole)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(fit))
    rows = []
    for share in shares:
        take = np.sort(order[:max(int(round(share * len(fit))), 2 * len(np.unique(fit.y)))])
        part = fit.take(take)
        if len(np.unique(part.y)) < 2:
            continue
        predict = _fit_peer(peer, part.X, part.y, pad)
        rows.append({"training share": share, "sequences": len(part),
                     "validation accuracy": accuracy_score(validation.y, predict(validation.X))})
    curve = pd.DataFrame(rows).set_index("training share")
    curve.attrs["peer"] = peer
    return curve


# --------------------------------------------------------------------------------------------- the entry

def diagnose(model, data, *, ceiling: bool = False, minirocket: bool = True, progress: bool = True) -> Report:
    """Check ``model`` (any Keras 3 classifier of sequences) and ``data`` (a course ``Dataset``, ``(X, y)`` or
    ``(X_train, y_train, X_test, y_test)``); return a :class:`Report`.

    A model with more inputs takes ``X`` as a list, one array per input, as ``fit`` does: inputs that hold the same
    row for every sequence (Q002's query ``u``) are folded in by :func:`fold_constant_inputs` and every check reads
    the one sequence input; inputs that vary per sequence get a ValueError that names the adapter to write.

    The model checks run on the first 64 training sequences. ``ceiling=True`` adds the ceiling estimate
    (it trains peers, with a progress bar; MiniRocket only where aeon is installed and ``minirocket=True``).
    """
    model, data, notes = _one_input_view(model, data)
    data = _as_token_ids(_as_data(data), model)
    _check_model(model, data)
    pad = _mask_value(model)
    findings = _data_checks(data, pad)
    X = data.X_train[:PROBE_SEQUENCES]
    if not data.tokens:
        X = np.nan_to_num(X).astype(np.float32)
    lengths = np.maximum(_lengths(X, 0.0 if pad is None else pad), 1)
    findings = notes + _model_checks(model, data, X, lengths, pad) + findings
    report = Report(findings, model.name, data.name)
    if ceiling:
        extra, report.peers, report.curve, report.peer_predictions = ceiling_estimate(model, data, 0.0 if pad is None else pad,
                                                             minirocket=minirocket, progress=progress)
        report.findings += extra
    return report


def before_after(before: Report, after: Report, checks=None) -> pd.DataFrame:
    """Two reports side by side (a fix's evidence): for each of ``checks`` (default: every check that warned in
    either report), its status and measured value before and after, and the evidence after."""
    names = list(checks) if checks is not None else \
        [f.check for f in before.findings if f.status == WARNING] + \
        [f.check for f in after.findings if f.status == WARNING and f.check not in before.checks()]
    def find(report, name):   # some checks report only when they apply (a Flatten head, a single vector)
        found = [f for f in report.findings if f.check == name]
        return found[0] if found else Finding("model", name, "not applicable", "the model has nothing to check here")

    rows = []
    for name in dict.fromkeys(names):
        b, a = find(before, name), find(after, name)
        if b.status == a.status == "not applicable":
            raise ValueError(f"neither report has a check {name!r}")
        rows.append({"check": name, "before": b.status, "value before": b.value, "after": a.status,
                     "value after": a.value, "evidence after": a.evidence})
    return pd.DataFrame(rows).set_index("check")


def attempt(code: str, namespace: dict | None = None) -> str:
    """Run a snippet of old Keras code and say what happens: it raises (which error), warns (what), or runs
    silently. For the Keras 3 porting table; the snippet's own output is not captured."""
    import warnings as _warnings

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            exec(code, {"keras": keras, "np": np, **(namespace or {})})
        except Exception as error:  # noqa: BLE001 - the outcome is what we report
            return f"raises {type(error).__name__}: {str(error).splitlines()[0][:120]}"
    messages = list(dict.fromkeys(str(w.message).splitlines()[0][:120] for w in caught
                                  if not issubclass(w.category, DeprecationWarning)))
    return "warns: " + " | ".join(messages) if messages else "runs silently"


# moved to utils.saved_models; `from utils.diagnose import load_model` keeps working
from .saved_models import load_model  # noqa: E402, F401


def main(argv=None) -> int:
    import argparse

    from .data import load_dataset

    parser = argparse.ArgumentParser(prog="python -m utils.diagnose", description=__doc__.splitlines()[0])
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


if __name__ == "__main__":
    raise SystemExit(main())
