"""The clinic's model checks: is the model broken?

:func:`check_model` says whether the clinic can read the model at all; :func:`model_checks` measures the head
(one prediction per sequence), the mask (extra padding must not change a prediction), each attention layer
(weight on padding, flatness, the sigmoid cap, attention over one vector), the loss against the head and the
labels, cuDNN eligibility and the cost of recurrent dropout. :func:`one_input_view` lets a model with constant
extra inputs (Q002's ``u``) be checked through its sequence input.
"""
from __future__ import annotations

import time

import keras
import numpy as np
from keras import layers
from scipy.stats import entropy as entropy_of

from ..inspection import (
    PADDING_TOLERANCE,
    compiled_loss,
    cudnn_problems,
    final_activation,
    flatten_layers,
    fold_constant_inputs,
    forward,
    has_class_named,
    is_trained,
    lstm_layers,
    mask_droppers,
    padding_gap,
)
from ..probe import attention_layers, attention_weights
from ..self_attention import attention_on_padding
from .data_checks import LearnerData
from .report import CANNOT, INFO, OK, WARNING, Finding

#: Normalised entropy (1 = uniform weights, as average pooling) above which trained attention counts as flat.
FLAT_ENTROPY = 0.98
#: Padding's share of attention above which the padding-attention check warns.
PADDING_SHARE_TOLERANCE = 1e-3
PROBE_SEQUENCES = 64     # sequences the model checks run on


def check_model(model, data: LearnerData) -> None:
    """Whether the clinic can read ``model`` with ``data`` at all; a ValueError that says why not.

    Args:
        model: the learner's model.
        data: the learner's data (from :func:`~utils.diagnose.data_checks.as_data`).

    Raises:
        ValueError: ``model`` is not a built Keras model with one input and one output; its input is not
            ``(batch, time[, features])``; its output is not ``(batch, classes)`` or ``(batch, time, classes)``;
            or the data's rank or number of features differs from the model's input.
    """
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


def one_input_view(model, data):
    """For a model with several inputs and ``data`` whose X is a list (one array per input): the one-input view
    with the constant inputs folded in, the data on its sequence input, and a finding that says what was done.
    Where the checks cannot run (inputs that vary from sequence to sequence, or more than one sequence input), a
    ValueError that names the adapter to write.

    Args:
        model: the learner's model.
        data: the learner's data; for a model with several inputs, ``X`` (and ``X_test``) as a list of arrays.

    Returns:
        ``(model, data, notes)``: unchanged with no notes for a one-input model (or anything else); for several
        inputs, the view from :func:`~utils.inspection.fold_constant_inputs`, the data on its sequence input, and
        one ``"more inputs"`` finding.

    Raises:
        ValueError: ``X`` is not a list of one array per input, or the inputs are not exactly one sequence input
            and constants (or :func:`~utils.inspection.fold_constant_inputs` rejects them).
    """
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


def _attention_layers(model) -> list:
    return [model.get_layer(name) for name in attention_layers(model)]


def _is_sigmoid_attention(layer) -> bool:
    if not has_class_named(type(layer), "SeqSelfAttention"):
        return False
    activation = layer.get_config().get("attention_activation")
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", str(activation))
    return "sigmoid" in str(name)


def _weights_on(model, layer, X) -> np.ndarray:
    """The probe's weights as (N, queries, keys): a pooling layer has one query."""
    w = attention_weights(model, X, layer.name)
    return w[:, None, :] if w.ndim == 2 else w.mean(axis=1)


def model_checks(model, data: LearnerData, X: np.ndarray, lengths: np.ndarray, pad: float | None) -> list[Finding]:
    """The clinic's model checks: the head, the mask, each attention layer, the loss, cuDNN and recurrent dropout.

    Args:
        model: a one-input model that :func:`check_model` accepts.
        data: the learner's data (the loss checks read its labels).
        X: the sequences the checks run on (the clinic takes the first :data:`PROBE_SEQUENCES` training ones).
        lengths: their true lengths.
        pad: the model's mask value, or ``None`` when it masks nothing.

    Returns:
        The :class:`~utils.diagnose.report.Finding` of each check, ``"cannot run"`` where it cannot; some checks
        (a Flatten head, attention over one vector) report only when they apply.
    """
    findings = []
    add = lambda *a, **k: findings.append(Finding("model", *a, **k))  # noqa: E731
    droppers, flattens = mask_droppers(model), flatten_layers(model)
    other_droppers = [name for name in droppers if name not in flattens]
    attention = _attention_layers(model)
    out = forward(model, X)

    # the head: one label per sequence, or one per step when the labels are per step (sequence labelling)
    if data.per_step and out.ndim == 3:
        add("sequence head", OK, f"one prediction per step, shape {out.shape[1:]}, and one label per step: a sequence "
            "labeller (padded steps must count in no loss or metric: weigh them 0)", float(out.shape[1]))
    elif data.per_step:
        add("sequence head", WARNING, f"the labels are per step {data.y_train.shape[1:]}, but the model outputs one "
            f"prediction per sequence, shape {out.shape[1:]}", float(out.shape[-1]),
            "a pooled head cannot label each step: every step of a sequence would get the same answer",
            "keep the steps: return_sequences=True on the last LSTM and no pooling, so the Dense head labels every "
            "step (the builder's pool='none')")
    elif out.ndim == 3:
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
    # scipy normalises p
    entropy = np.where(total > 0, entropy_of(np.where(total[..., None] > 0, p, 1.0), axis=-1), 0.0)
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
    if not is_trained(model):
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


def _loss_checks(model, data: LearnerData, X, out) -> list[Finding]:
    findings = []
    add = lambda *a, **k: findings.append(Finding("model", *a, **k))  # noqa: E731
    loss, logits = compiled_loss(model)
    activation, units = final_activation(model), int(out.shape[-1])
    onehot = data.y_train.ndim == 2 and not data.per_step
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
    if loss == "binary_crossentropy" and units > 1 and activation == "softmax" and not data.per_step:
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
