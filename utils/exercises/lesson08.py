"""Self-checks for lesson 08: the layer that drops the mask, one prediction per sentence, and a decision
threshold that beats the majority class on balanced accuracy."""
from __future__ import annotations

import numpy as np

from . import as_number, built_model, padding_problem, report


def learner_cnn_lstm(data, units: int = 8):
    """A learner's text model for exercise 8.1 (not a course model, so not from the builder): Embedding(mask_zero=True),
    a Conv1D for local phrases, an LSTM and masked average pooling. One of its layers throws the mask away.

    The warnings Keras gives while the model is built are printed to stderr as ``Category: message``, every
    time, without the path of the Keras source file that raised them (a path on this machine)."""
    import sys
    import warnings

    import keras
    from keras import layers

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = keras.Input((data.max_len,), dtype="int32", name="tokens")
        x = layers.Embedding(data.vocab_size, 16, mask_zero=True, name="embedding")(inputs)
        x = layers.Conv1D(16, 3, padding="same", activation="relu", name="phrases")(x)
        x = layers.LSTM(units, return_sequences=True, name="lstm")(x)
        x = layers.GlobalAveragePooling1D(name="average")(x)
        model = keras.Model(inputs, layers.Dense(data.n_classes, activation="softmax", name="classifier")(x))
    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}", file=sys.stderr)
    return model


def positive_probability(model, ids) -> np.ndarray:
    """P(positive) for each sentence of ``ids`` (N, T), predicted by a twin of ``model`` that is compiled once per
    architecture (ten seeds' models share one compilation on JAX)."""
    from ..keras_ops import compiled_twin

    return np.asarray(compiled_twin(model).predict(np.asarray(ids), batch_size=1024, verbose=0))[:, 1]


def check_mask_dropper(answer, model) -> bool:
    """Is ``answer`` the name of the layer of ``model`` that drops the mask?"""
    from ..inspection import mask_droppers

    truth = mask_droppers(model)
    if answer is None:
        return report(["Replace None with the layer's name (a string, as in model.summary())."], "")
    if not isinstance(answer, str):
        return report([f"Give the layer's name as a string, got {type(answer).__name__}."], "")
    names = [layer.name for layer in model.layers]
    if answer not in names:
        return report([f"The model has no layer named {answer!r}; its layers are {names}."], "")
    if answer in truth:
        return report([], f"{answer!r} drops the mask: every layer after it reads padded steps as words. Keras "
                          "said so in a UserWarning when the model was built; a Conv1D that keeps the mask is "
                          "utils.builder.MaskedConv1D (stem='conv').")
    layer = model.get_layer(answer)
    hint = ("it consumes the mask to reduce the time axis, which is its job" if len(layer.output.shape) < 3 else
            "its output still carries the mask")
    return report([f"{answer!r} is not it: {hint}. Look for the layer whose input has a mask and whose output, "
                   "still one vector per step, has none (read the warnings printed when the model was built)."], "")


def check_one_per_sentence(build, data) -> bool:
    """Does ``build(data)`` give one prediction per sentence, keep the mask to the read-out and use attention?"""
    from ..probe import attention_layers

    model, problem = built_model(build, data, "Replace None with a model: Q003's, with one prediction per "
                                              "sentence.")
    if problem:
        return report([problem], "")
    problems = []
    shape = tuple(model.output_shape)
    if shape != (None, data.n_classes):
        problems.append(f"The model outputs {shape}; one prediction per sentence is (None, {data.n_classes}). "
                        "SeqSelfAttention returns one vector per token: pool them over time (masked average, max "
                        f"or attention pooling) before Dense({data.n_classes}, activation='softmax').")
    if not attention_layers(model):
        problems.append("Keep the self-attention layer: the point is Q003's model, fixed.")
    if not problems:
        problem = padding_problem(
            model, data, cannot_run="The model cannot read sentences of other lengths ({error}): something ties "
                                    "it to {max_len} tokens (Flatten?).",
            leaks="Padding changed the predicted probabilities by up to {gap:.3g}. Does the Embedding have "
                  "mask_zero=True, and does the self-attention layer mask padded keys (MaskedSeqSelfAttention)?")
        if problem:
            problems.append(problem)
    return report(problems, "One prediction per sentence, and padding changes nothing: the mask reaches the "
                            "attention and the pooling.")


def best_balanced_accuracy(p_positive, y) -> float:
    """The highest balanced accuracy any threshold on ``p_positive`` reaches on labels ``y`` (0/1)."""
    from sklearn.metrics import balanced_accuracy_score

    p_positive, y = np.asarray(p_positive, dtype=float), np.asarray(y)
    candidates = np.concatenate([np.unique(p_positive), [np.inf]])
    return max(balanced_accuracy_score(y, (p_positive >= t).astype(int)) for t in candidates)


def check_threshold(choose, p_positive, y) -> bool:
    """Does ``choose(p_positive, y)`` return a threshold that maximises balanced accuracy on this validation data?"""
    from sklearn.metrics import balanced_accuracy_score

    p_positive, y = np.asarray(p_positive, dtype=float), np.asarray(y)
    if p_positive.shape != y.shape or p_positive.ndim != 1 or not np.isin(y, (0, 1)).all():
        raise ValueError("need one probability of the positive class per validation item, and labels 0/1")
    try:
        threshold = choose(p_positive.copy(), y.copy())
    except Exception as error:  # the learner's code: report, never raise
        return report([f"your function raised {type(error).__name__}: {error}"], "")
    if threshold is None:
        return report(["your function returned None: return a threshold on the positive class's probability"], "")
    threshold, problem = as_number(threshold, "a threshold between 0 and 1")
    if problem:
        return report([problem], "")
    got = balanced_accuracy_score(y, (p_positive >= threshold).astype(int))
    best = best_balanced_accuracy(p_positive, y)
    if got < best - 1e-9:
        return report([f"threshold {threshold:.3f} gives a balanced accuracy of {got:.3f} on the validation items; "
                       f"some threshold reaches {best:.3f}. Try every predicted probability as the threshold and "
                       "keep the one with the highest balanced_accuracy_score."], "")
    return report([], f"threshold {threshold:.3f}: balanced accuracy {got:.3f} on the validation items, the best "
                      "any threshold reaches. Chosen without the test set.")
