"""Self-checks for lesson 05: a mask-keeping residual and pre-LN."""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ..data import Dataset
from . import padding_problem, report


def check_residual_model(model, data: Dataset) -> bool:
    """Does the model add a layer's input to its output with ``layers.Add`` and keep the mask to the read-out?"""
    if not isinstance(model, keras.Model):
        return report([f"Expected a keras.Model, got {type(model).__name__}."], "")
    if not any(isinstance(layer, layers.Add) for layer in model.layers):
        kinds = sorted({type(layer).__name__ for layer in model.layers})
        return report([f"No `layers.Add` in the model (its layers: {', '.join(kinds)}). `x + y` on Keras "
                        "tensors is an op, not a layer, and ops drop the mask. Write the residual as "
                        "`layers.Add()([x, attended])`."], "")
    problem = padding_problem(
        model, data,
        cannot_run="The model cannot run on unpadded sequences ({error}); a layer such as Flatten ties it to "
                   "one length and drops the mask.",
        leaks="Padding changed the predicted probabilities by up to {gap:.3g}: after the residual, the layers "
              "see padded steps as real ones. Is the sum a `layers.Add`? (`x + y` on Keras tensors is an op, "
              "and ops drop the mask.)")
    return report([problem] if problem else [],
                  "A residual `Add` that keeps the mask: x + f(x), with padding still ignored.")


def check_pre_ln(fn) -> bool:
    """Is ``fn(x, sublayer)`` the pre-LN residual ``x + sublayer(LayerNorm(x))``?"""
    rng = np.random.default_rng(0)
    x = (3.0 + 2.0 * rng.standard_normal((2, 5, 4))).astype("float32")
    inputs = keras.Input((5, 4))
    sublayer = layers.Dense(4, kernel_initializer=keras.initializers.Constant(rng.standard_normal((4, 4))),
                            bias_initializer="ones")
    try:
        model = keras.Model(inputs, fn(inputs, sublayer))
        got = np.asarray(model.predict(x, verbose=0))
    except Exception as error:  # the learner's code: report, never raise
        return report([f"Your function raised {type(error).__name__}: {error}"], "")
    W, b = (np.asarray(w) for w in sublayer.get_weights())

    def norm(v):
        return (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + 1e-3)

    candidates = {
        "pre-LN, x + f(LN(x))": x + norm(x) @ W + b,
        "post-LN, LN(x + f(x)) — the original Transformer's order": norm(x + x @ W + b),
        "x + f(x) with no LayerNorm": x + x @ W + b,
        "f(LN(x)) with no residual": norm(x) @ W + b,
    }
    if got.shape != x.shape:
        return report([f"Output shape {got.shape}, expected {x.shape}: a residual keeps the width."], "")
    found = next((name for name, want in candidates.items() if np.allclose(got, want, atol=1e-4)), None)
    if found == "pre-LN, x + f(LN(x))":
        return report([], "pre-LN: x + f(LN(x)). The identity path from input to output has no LayerNorm on it.")
    return report([f"Your function computes {found}." if found else
                    "The output matches none of x + f(LN(x)), LN(x + f(x)), x + f(x), f(LN(x)).",
                    "Pre-LN normalises the sub-layer's input and adds the *raw* x: x + f(LN(x))."], "")
