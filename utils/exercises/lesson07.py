"""Self-checks for lesson 07: name the clinic's warning on a learner's model, then fix that fault alone."""
from __future__ import annotations

import numpy as np

from . import built_model, report


def learner_model(data, units: int = 8):
    """A learner's model for exercise 7.1 (not a course model, so not from the builder). It has one fault, which
    the clinic finds; the exercise is to read the report, name the check and fix the fault."""
    import keras
    from keras import layers

    from ..pooling import AttentionPooling

    inputs = keras.Input(data.train.X.shape[1:], name="frames")
    x = layers.Rescaling(scale=0.5, offset=-1.0, name="rescale")(inputs)   # the learner's "features to about [-1, 1]"
    x = layers.Masking(mask_value=0.0, name="mask")(x)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    x = AttentionPooling(name="attention")(x)
    return keras.Model(inputs, layers.Dense(data.n_classes, activation="softmax", name="classifier")(x))


def _warnings(model, data) -> set[str]:
    from ..diagnose import diagnose

    return {f.check for f in diagnose(model, data).warnings if f.area == "model"}


def check_fault_named(answer, model, data) -> bool:
    """Is ``answer`` the name of a check that warns on ``model``?"""
    if answer is None:
        return report(["Replace None with the check's name, as the report prints it (for example 'padding leak')."], "")
    if not isinstance(answer, str):
        return report([f"Give the check's name as a string, got {type(answer).__name__}."], "")
    truth = _warnings(model, data)
    if answer.strip() in truth:
        return report([], f"{answer.strip()!r}, one of {sorted(truth)}: two symptoms of one fault. The Rescaling "
                          "layer's offset turns every padded (all-zero) step into -1, so the Masking after it finds "
                          "nothing to mask: the LSTM and the attention read the padding (extra padding moves the "
                          "output, and the attention puts weight on padded steps).")
    return report([f"{answer!r} is not the check that warns. Run diagnose(mystery, jv) and read the lines that "
                   "start with '!!' under MODEL."], "")


def check_fixed(build, data) -> bool:
    """Does ``build(data)`` fix learner_model's fault with nothing else changed?"""
    model, problem = built_model(build, data, "Replace None with the fixed model.")
    if problem:
        return report([problem], "")
    original = learner_model(data)
    problems = []
    if tuple(model.output.shape[1:]) != tuple(original.output.shape[1:]):
        problems.append(f"the output shape changed: {tuple(model.output.shape[1:])}, expected "
                        f"{tuple(original.output.shape[1:])}")
    kinds = lambda m: sorted(type(layer).__name__ for layer in m.layers)  # noqa: E731
    if kinds(model) != kinds(original):
        problems.append(f"the layers changed: {kinds(model)}, expected the same kinds as the learner's "
                        f"{kinds(original)} (move one, do not add or remove)")
    if not problems:
        left = _warnings(model, data)
        if left:
            problems.append(f"the clinic still warns: {sorted(left)}")
    return report(problems, "No warning: the mask now starts at the input, before any layer can change a padded step.")


ROOM_ANSWERS = ("last state", "attention pooling", "both", "neither")


def check_room(answer, answers) -> bool:
    """Exercise 7.3: which model(s) does the best peer beat in ``answers`` (a ``ThreeAnswers``), by its verdicts?"""
    if answer is None:
        return report([f"Replace None with one of {list(ROOM_ANSWERS)}."], "")
    if not isinstance(answer, str) or answer.strip() not in ROOM_ANSWERS:
        return report([f"Answer with one of {list(ROOM_ANSWERS)}, got {answer!r}."], "")
    pairs = list(getattr(answers, "ceiling", None) or [])
    if len(pairs) != 2:
        raise ValueError("answers must be a ThreeAnswers with two ceiling verdicts (three_answers with two builders)")
    beaten = [p.b for p in pairs if p.verdict == "A better"]
    truth = {0: "neither", 2: "both"}.get(len(beaten)) or beaten[0]
    if answer.strip() == truth:
        return report([], f"{truth!r}: read off the verdicts, where the best peer is A and each model is B. "
                          "A model the peer beats has room: the signal is in the data and the model misses it. "
                          "A model the peer does not beat has no room that the peers can show, "
                          "at the test-item floor printed.")
    return report([f"{answer!r} does not match the verdicts. Print the two ceiling verdicts "
                   "(for pair in answers_motif.ceiling: print(pair.sentence())): the peer beats a model where the "
                   "verdict is 'A better'."], "")


def attempt(code: str, namespace: dict | None = None) -> str:
    """Run a snippet of old Keras code and say what happens: it raises (which error), warns (what), or runs
    silently. For the Keras 3 porting table; the snippet's own output is not captured."""
    import warnings as _warnings

    import keras

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            exec(code, {"keras": keras, "np": np, **(namespace or {})})
        except Exception as error:  # noqa: BLE001 - the outcome is what we report
            return f"raises {type(error).__name__}: {str(error).splitlines()[0][:120]}"
    messages = list(dict.fromkeys(str(w.message).splitlines()[0][:120] for w in caught
                                  if not issubclass(w.category, DeprecationWarning)))
    return "warns: " + " | ".join(messages) if messages else "runs silently"
