"""Self-checks for lesson 01: the loss, cuDNN eligibility and masking."""
from __future__ import annotations

import re

import keras

from ..data import Dataset
from ..inspection import cudnn_problems, lstm_layers
from . import padding_problem, report

CATEGORICAL = {"sparse_categorical_crossentropy", "categorical_crossentropy"}


def _loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if name[0].isupper() else name  # CategoricalCrossentropy


def check_compile(model: keras.Model, n_classes: int) -> bool:
    """Is a multi-class softmax classifier compiled with a categorical loss?"""
    if not isinstance(model, keras.Model):
        raise ValueError(f"expected a keras.Model, got {type(model).__name__}")
    if getattr(model, "loss", None) is None:
        return report(["The model is not compiled yet: call model.compile(...)."], "")
    problems = []
    units = model.outputs[0].shape[-1]
    if units != n_classes:
        problems.append(f"The output has {units} units; a {n_classes}-class classifier needs {n_classes}.")
    loss = _loss_name(model.loss)
    if "binary" in loss:
        problems.append(f"loss={loss!r} scores each of the {n_classes} outputs as its own yes/no question, "
                        "but a softmax makes the classes compete. (Keras before TensorFlow 2.2 then also "
                        "reported binary accuracy as 'accuracy', which a model scores "
                        f"{(n_classes - 1) / n_classes:.0%} on by answering 'no' everywhere.) Section 7 names the "
                        "loss for a softmax over classes: which of its two forms takes integer labels?")
    elif loss not in CATEGORICAL:
        problems.append(f"loss={loss!r}: a softmax classifier wants 'sparse_categorical_crossentropy' "
                        "(integer labels) or 'categorical_crossentropy' (one-hot labels).")
    return report(problems, f"{loss} with a {n_classes}-way softmax: the loss and the accuracy now mean what they say.")


def check_cudnn_ready(model: keras.Model) -> bool:
    """Can every LSTM in the model use the fused cuDNN kernel on a GPU?"""
    lstms = lstm_layers(model)
    if not lstms:
        return report(["The model has no LSTM layer."], "")
    problems = [f"{lstm.name}: {p}" for lstm in lstms for p in cudnn_problems(lstm)]
    if problems:
        problems.append("Move the regularisation to `dropout=` (inputs) or a Dropout layer between the LSTMs.")
    return report(problems, f"All {len(lstms)} LSTM directions are cuDNN-eligible.")


def check_respects_mask(model: keras.Model, data: Dataset, n_check: int = 6) -> bool:
    """Does each sequence get the same prediction without padding as with it?"""
    problem = padding_problem(
        model, data, n_check=n_check,
        cannot_run="The model only accepts exactly {max_len} steps ({error}), so it cannot even read a sequence "
                   "without its padding: one of its layers gives every absolute time step its own weights. "
                   "Which of section 3's read-outs works that way, and which of them reads a sequence of any "
                   "length?",
        leaks="Padding changed the predicted probabilities by up to {gap:.3g}: padded steps leak into the "
              "prediction. Some layer between the input and the output does not know which steps are "
              "padding. Did Keras print a warning when you built the model? And where does that knowledge "
              "come from in the first place (lesson 00, section 4)?")
    return report([problem] if problem else [],
                  "Padding does not change the prediction: the mask reaches the read-out.")
