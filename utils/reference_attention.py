"""Attention in numpy: the reference the lessons check Keras against.

Attention is soft retrieval in three steps: score every key against a query, turn the scores into
weights with a (masked) softmax, and return the weighted sum of the values.

Shapes: ``query`` (..., Tq, d), ``key`` (..., Tk, d), ``value`` (..., Tk, dv); leading batch
dimensions must agree. Masks are boolean with True on the keys that may be attended to: a key mask
(..., Tk) or a full score mask (..., Tq, Tk). Masked keys get exactly zero weight.
"""
from __future__ import annotations

import numpy as np


def _array(name: str, x, min_rank: int = 1) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array, got dtype {x.dtype}")
    if x.ndim < min_rank:
        raise ValueError(f"{name} must have rank >= {min_rank}, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x.astype(np.float64)


def _query_key(query, key, same_dim: bool = True) -> tuple[np.ndarray, np.ndarray]:
    q, k = _array("query", query, 2), _array("key", key, 2)
    if q.ndim != k.ndim:
        raise ValueError(f"query and key must have the same rank, got shapes {q.shape} and {k.shape}")
    if q.shape[:-2] != k.shape[:-2]:
        raise ValueError(f"query and key disagree in batch shape: {q.shape[:-2]} vs {k.shape[:-2]}")
    if same_dim and q.shape[-1] != k.shape[-1]:
        raise ValueError(f"query and key need the same feature size, got {q.shape[-1]} and {k.shape[-1]}")
    return q, k


def causal_mask(n_queries: int, n_keys: int | None = None) -> np.ndarray:
    """Boolean (Tq, Tk) mask, True where key j <= query i: no step sees its future.

    Args:
        n_queries: the number of queries, Tq.
        n_keys: the number of keys, Tk (default: ``n_queries``).

    Returns:
        The lower-triangular ``(Tq, Tk)`` boolean array.

    Raises:
        ValueError: fewer than one query or one key.
    """
    n_keys = n_queries if n_keys is None else n_keys
    if n_queries < 1 or n_keys < 1:
        raise ValueError(f"need at least one query and one key, got {n_queries} and {n_keys}")
    return np.tril(np.ones((n_queries, n_keys), dtype=bool))


def masked_softmax(scores, mask=None, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` in which masked entries (mask False) get exactly zero weight.

    Numerically stable (subtracts the row maximum). A row whose entries are all masked has nothing
    to attend to and raises ValueError.

    Args:
        scores: a real, finite, non-empty array.
        mask: boolean, True where attending is allowed, broadcastable to ``scores``; ``None`` masks nothing.
        axis: the axis the weights sum to 1 over.

    Returns:
        float64 weights of the shape of ``scores``.

    Raises:
        ValueError: ``scores`` is not a real, finite, non-empty array; ``mask`` is not boolean or does not
            broadcast to ``scores``; or a row of the mask is all False.

    Example:
        ::

            masked_softmax(np.array([1.0, 2.0, 3.0]), np.array([True, True, False]))   # [0.27, 0.73, 0.]
    """
    s = _array("scores", scores)
    if mask is None:
        keep = np.ones(s.shape, dtype=bool)
    else:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = attend), got dtype {mask.dtype}")
        try:
            keep = np.broadcast_to(mask, s.shape)
        except ValueError:
            raise ValueError(f"mask of shape {mask.shape} does not fit scores of shape {s.shape}") from None
        if not np.all(keep.any(axis=axis)):
            raise ValueError("a row of the mask is all False: that query has no key to attend to")
    s = np.where(keep, s, -np.inf)
    e = np.exp(s - s.max(axis=axis, keepdims=True))  # masked entries: exp(-inf) = 0 exactly
    return e / e.sum(axis=axis, keepdims=True)


def dot_product_scores(query, key, scale: float = 1.0) -> np.ndarray:
    """Similarity of every query to every key: ``scale * q . k`` (Luong), shape (..., Tq, Tk).

    ``scale=1/sqrt(d)`` gives the scaled dot product of Vaswani et al. 2017.

    Args:
        query: ``(..., Tq, d)``.
        key: ``(..., Tk, d)``, with the same leading dimensions.
        scale: the factor on every score.

    Returns:
        The ``(..., Tq, Tk)`` scores.

    Raises:
        ValueError: ``query`` or ``key`` is not a real, finite array of rank >= 2; they differ in rank, leading
            dimensions or feature size; or ``scale`` is not finite.
    """
    q, k = _query_key(query, key)
    if not np.isfinite(scale):
        raise ValueError(f"scale must be a finite number, got {scale}")
    return scale * q @ np.swapaxes(k, -1, -2)


def additive_scores(query, key, v=None, W_query=None, W_key=None) -> np.ndarray:
    """Bahdanau et al. 2015 scores: ``v . tanh(W_query q + W_key k)``, shape (..., Tq, Tk).

    Without ``W_query``/``W_key`` the projections are the identity (query and key must then have
    the same size); without ``v`` it is all ones. Keras' ``AdditiveAttention`` is this with
    identity projections and ``v`` = its ``scale`` weight.

    Args:
        query: ``(..., Tq, dq)``.
        key: ``(..., Tk, dk)``, with the same leading dimensions.
        v: ``(units,)``; ``None`` is all ones.
        W_query: ``(dq, units)``; ``None`` is the identity.
        W_key: ``(dk, units)``; ``None`` is the identity.

    Returns:
        The ``(..., Tq, Tk)`` scores.

    Raises:
        ValueError: an argument that is not a real, finite array; ``query`` and ``key`` that differ in rank or
            leading dimensions; a projection with the wrong number of rows; projected sizes that differ; or ``v``
            of the wrong shape.
    """
    q, k = _query_key(query, key, same_dim=W_query is None and W_key is None)
    if W_query is not None:
        W_query = _array("W_query", W_query, 2)
        if W_query.shape[0] != q.shape[-1]:
            raise ValueError(f"W_query must have {q.shape[-1]} rows, got shape {W_query.shape}")
        q = q @ W_query
    if W_key is not None:
        W_key = _array("W_key", W_key, 2)
        if W_key.shape[0] != k.shape[-1]:
            raise ValueError(f"W_key must have {k.shape[-1]} rows, got shape {W_key.shape}")
        k = k @ W_key
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"projected query and key differ in size: {q.shape[-1]} vs {k.shape[-1]}")
    v = np.ones(q.shape[-1]) if v is None else _array("v", v)
    if v.shape != (q.shape[-1],):
        raise ValueError(f"v must have shape ({q.shape[-1]},), got {v.shape}")
    hidden = np.tanh(q[..., :, None, :] + k[..., None, :, :])  # (..., Tq, Tk, units)
    return hidden @ v


def attend(scores, value, mask=None, query_mask=None) -> tuple[np.ndarray, np.ndarray]:
    """Weights = masked softmax of ``scores``; output = weights @ ``value``. Returns (output, weights).

    Args:
        scores: ``(..., Tq, Tk)`` scores.
        value: ``(..., Tk, dv)`` values.
        mask: key mask (..., Tk) or score mask (..., Tq, Tk), boolean; ``None`` masks nothing.
        query_mask: boolean (..., Tq); zeroes the output rows of padded queries, as Keras does.

    Returns:
        ``(output, weights)``: ``(..., Tq, dv)`` and ``(..., Tq, Tk)``.

    Raises:
        ValueError: ``scores`` and ``value`` that do not fit, a mask that is not boolean or does not fit, a query
            with no key to attend to, or a ``query_mask`` of the wrong type or shape.
    """
    s, val = _array("scores", scores, 2), _array("value", value, 2)
    if s.shape[-1] != val.shape[-2] or s.shape[:-2] != val.shape[:-2]:
        raise ValueError(f"scores {s.shape} need a value of shape (..., {s.shape[-1]}, dv), got {val.shape}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.ndim == s.ndim - 1:  # one key mask per sequence, shared by all its queries
            mask = mask[..., None, :]
    weights = masked_softmax(s, mask)
    output = weights @ val
    if query_mask is not None:
        query_mask = np.asarray(query_mask)
        if query_mask.dtype != bool or query_mask.shape != s.shape[:-1]:
            raise ValueError(f"query_mask must be boolean of shape {s.shape[:-1]}, got "
                             f"{query_mask.dtype} {query_mask.shape}")
        output = np.where(query_mask[..., None], output, 0.0)
    return output, weights


def _keys_values(key, value):
    return (value if key is None else key), value


def dot_product_attention(query, value, key=None, scale: float = 1.0, mask=None, query_mask=None,
                          causal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Dot-product attention (Keras ``Attention``); ``key`` defaults to ``value``. Returns (output, weights).

    Args:
        query: ``(..., Tq, d)``.
        value: ``(..., Tk, dv)``.
        key: ``(..., Tk, d)``; ``None`` uses ``value``.
        scale: the factor on every score (``1/sqrt(d)`` for the scaled dot product).
        mask: boolean key mask (..., Tk) or score mask (..., Tq, Tk).
        query_mask: boolean (..., Tq); padded queries get zero output rows.
        causal: also hide each query's future keys (:func:`causal_mask`).

    Returns:
        ``(output, weights)``: ``(..., Tq, dv)`` and ``(..., Tq, Tk)``.

    Raises:
        ValueError: shapes that do not fit, values that are not real and finite, a mask that is not boolean, or
            a query left with no key to attend to.

    Example:
        ::

            real = np.arange(T)[None, :] < lengths[:, None]   # (N, T) key mask
            output, weights = dot_product_attention(q, v, scale=1 / np.sqrt(q.shape[-1]), mask=real)
    """
    key, value = _keys_values(key, value)
    scores = dot_product_scores(query, key, scale)
    return attend(scores, value, _combine(mask, scores.shape, causal), query_mask)


def additive_attention(query, value, key=None, v=None, W_query=None, W_key=None, mask=None,
                       query_mask=None, causal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Additive attention (Keras ``AdditiveAttention``); ``key`` defaults to ``value``. Returns (output, weights).

    Args:
        query: ``(..., Tq, dq)``.
        value: ``(..., Tk, dv)``.
        key: ``(..., Tk, dk)``; ``None`` uses ``value``.
        v: ``(units,)`` (see :func:`additive_scores`); ``None`` is all ones.
        W_query: ``(dq, units)``; ``None`` is the identity.
        W_key: ``(dk, units)``; ``None`` is the identity.
        mask: boolean key mask (..., Tk) or score mask (..., Tq, Tk).
        query_mask: boolean (..., Tq); padded queries get zero output rows.
        causal: also hide each query's future keys (:func:`causal_mask`).

    Returns:
        ``(output, weights)``: ``(..., Tq, dv)`` and ``(..., Tq, Tk)``.

    Raises:
        ValueError: shapes that do not fit, values that are not real and finite, a mask that is not boolean, or
            a query left with no key to attend to.
    """
    key, value = _keys_values(key, value)
    scores = additive_scores(query, key, v, W_query, W_key)
    return attend(scores, value, _combine(mask, scores.shape, causal), query_mask)


def _combine(mask, score_shape: tuple, causal: bool):
    """A key mask and/or the causal mask as one score mask (or None)."""
    if not causal:
        return mask
    tri = causal_mask(score_shape[-2], score_shape[-1])
    if mask is None:
        return tri
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"mask must be boolean (True = attend), got dtype {mask.dtype}")
    if mask.ndim == len(score_shape) - 1:
        mask = mask[..., None, :]
    return np.logical_and(mask, tri)
