"""The one module that touches private Keras API (``keras.src``), guarded.

Keras 3's ``MultiHeadAttention`` deletes the mask of the tensors it is called on (see
:class:`utils.blocks.MaskKeepingMultiHeadAttention`), and putting the mask back needs Keras' own mask
accessors, which are not public. If a Keras release moves them, the fallbacks below use the attribute
that every Keras 3 release so far has stored the mask in, and ``tests/test_blocks.py`` proves that the
mask survives either way. The probe re-runs a layer's call in a model, whose arguments Keras keeps on a
private node; ``tests/test_probe.py`` covers every layer kind it reads. The clinic and lesson 08's self-check
walk the same private nodes to find the layers and operations that drop a mask (:func:`inbound_nodes`).
"""
from __future__ import annotations

try:
    from keras.src.backend import get_keras_mask, set_keras_mask
except ImportError:  # pragma: no cover - only on a Keras that moved them
    def get_keras_mask(x):
        return getattr(x, "_keras_mask", None)

    def set_keras_mask(x, mask):
        x._keras_mask = mask


def call_arguments(layer) -> tuple[tuple, dict]:
    """The positional and keyword arguments of ``layer``'s first call in a functional model.

    Keras keeps them on the layer's first inbound node (``Node.arguments``), which has no public accessor.

    Args:
        layer: a Keras layer that has been called in a functional model.

    Returns:
        ``(args, kwargs)``: the positional arguments as a tuple and the keyword arguments as a dict.

    Raises:
        ValueError: the layer has not been called in a functional model.
    """
    nodes = getattr(layer, "_inbound_nodes", None)
    if not nodes:
        raise ValueError(f"layer {layer.name!r} has not been called in a functional model")
    arguments = nodes[0].arguments
    return tuple(arguments.args), dict(arguments.kwargs)


def inbound_nodes(layer) -> list[tuple[list, list]]:
    """The (input tensors, output tensors) of each call of ``layer`` (or operation) in a functional model.

    Keras keeps them on the layer's private ``_inbound_nodes``; a layer never called in a model has none.

    Args:
        layer: a Keras layer or operation.

    Returns:
        A list with one ``(input tensors, output tensors)`` pair of lists per call; empty if never called.
    """
    return [(list(node.input_tensors), list(node.output_tensors)) for node in getattr(layer, "_inbound_nodes", [])]


__all__ = ["call_arguments", "get_keras_mask", "inbound_nodes", "set_keras_mask"]
