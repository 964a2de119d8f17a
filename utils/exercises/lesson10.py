"""Lesson 10 self-checks (10a streaming and bucketing, 10b long sequences, 10c more devices).

Each check prints what is right or wrong and returns True or False; it never raises on a wrong answer. Each check's
name carries its notebook's letter.
"""
from __future__ import annotations

import math

from . import as_number, report

# --- 10b: long sequences ---------------------------------------------------------------------------------------

#: Bytes per number of each dtype exercise 10b's check accepts.
BYTES_PER_NUMBER = {"float32": 4, "bfloat16": 2, "float16": 2}


def score_bytes(batch: int, T: int, heads: int = 1, dtype: str = "float32") -> int:
    """The size in bytes of one ``(batch, heads, T, T)`` attention score tensor.

    Args:
        batch: the sequences per batch.
        T: the sequence length.
        heads: the attention heads.
        dtype: ``"float32"``, ``"bfloat16"`` or ``"float16"``.

    Returns:
        ``batch * heads * T * T * bytes per number``.
    """
    return batch * heads * T * T * BYTES_PER_NUMBER[dtype]


def check_score_bytes_10b(value, *, batch: int, T: int, heads: int = 1, dtype: str = "float32") -> bool:
    """Exercise 10b: the bytes of one attention score tensor (every query scores every key). Within 1% passes."""
    expected = score_bytes(batch, T, heads, dtype)
    value, problem = as_number(value, "one number of bytes")
    if problem:
        return report([problem], "")
    if math.isclose(value, expected, rel_tol=0.01):
        return report([], f"{expected:,} bytes = {batch} x {heads} x {T} x {T} x {BYTES_PER_NUMBER[dtype]} "
                          f"({expected / 2**20:,.0f} MiB): one number for every (query, key) pair")
    hints = {expected / BYTES_PER_NUMBER[dtype]: f"that counts numbers; each {dtype} number takes "
                                                 f"{BYTES_PER_NUMBER[dtype]} bytes",
             expected / T: "every query scores every key: T x T pairs per sequence and head, not T",
             expected / batch: f"that is one sequence; the batch holds {batch}"}
    for wrong, hint in hints.items():
        if math.isclose(value, wrong, rel_tol=0.01):
            return report([f"{value:,.0f} is not it: {hint}"], "")
    return report([f"{value:,.0f} is not it. Hint: batch x heads x T x T numbers, {BYTES_PER_NUMBER[dtype]} bytes "
                   "each"], "")


# --- 10a: streaming and bucketing -------------------------------------------------------------------------------

#: Exercise 10a's six sequences and its two batches (indices into the lengths).
LENGTHS_10A = (5, 7, 12, 30, 6, 9)
BATCHES_10A = ((0, 1, 4), (2, 3, 5))


def check_bucket_padding_10a(value) -> bool:
    """Exercise 10a: the padded share of the compute when each of :data:`BATCHES_10A` is padded to its own longest
    sequence rounded up to a power of two (``utils.streaming.padded_share`` computes the expected answer). Within
    0.005 passes."""
    import numpy as np

    from ..streaming import padded_share

    lengths, batches = np.array(LENGTHS_10A), [np.array(b) for b in BATCHES_10A]
    expected = padded_share(lengths, batches, round_to="pow2")
    value, problem = as_number(value, "one share between 0 and 1")
    if problem:
        return report([problem], "")
    if math.isclose(value, expected, abs_tol=0.005):
        return report([], f"{expected:.3f}: the batches are padded to 8 and 32 steps, 120 steps computed for 69 real "
                          "ones")
    hints = {padded_share(lengths, batches): "that pads each batch to its own longest without rounding up to a "
                                             "power of two (7 -> 8, 30 -> 32)",
             padded_share(lengths, batches, pad_to=32): "that pads both batches to 32; the first batch's longest is 7",
             padded_share(lengths, batches, pad_to=30): "that pads every batch to the longest sequence of all",
             1 - expected: "that is the real share; the question asks for the padded one"}
    for wrong, hint in hints.items():
        if math.isclose(value, wrong, abs_tol=0.005):
            return report([f"{value:.3f} is not it: {hint}"], "")
    return report([f"{value:.3g} is not it. Hint: per batch, (sequences x padded length) steps are computed; the "
                   "padded ones are those minus the real lengths"], "")


# --- 10c: more devices ------------------------------------------------------------------------------------------

#: Exercise 10c's global batch, training split and the device counts it asks about.
BATCH_10C, N_TRAIN_10C, MAX_DEVICES_10C = 96, 270, 8


def valid_device_counts(batch: int, n_train: int, max_devices: int) -> list[int]:
    """The device counts from 1 to ``max_devices`` that split every batch of an epoch evenly: the full batches of
    ``batch`` and the last one of ``n_train % batch`` (Keras on JAX shards the last batch too).

    Args:
        batch: the global batch size.
        n_train: the training sequences per epoch.
        max_devices: the largest device count to consider.

    Returns:
        The valid counts, ascending.
    """
    last = n_train % batch
    return [n for n in range(1, max_devices + 1) if batch % n == 0 and last % n == 0]


def check_device_split_10c(per_device_batch, valid_counts) -> bool:
    """Exercise 10c: for a global batch of :data:`BATCH_10C` on 3 devices, the batch each device gets; and which
    device counts from 1 to :data:`MAX_DEVICES_10C` split every batch of :data:`N_TRAIN_10C` training sequences
    evenly (the last batch of an epoch included)."""
    problems = []
    value, problem = as_number(per_device_batch, "one whole number of sequences")
    if problem:
        problems.append(problem)
    elif value != BATCH_10C // 3:
        problems.append(f"{value:g} sequences per device is not it: the global batch of {BATCH_10C} is split over "
                        "3 devices" if value != BATCH_10C else
                        f"{value:g} is the global batch; each of the 3 devices gets an equal share of it")
    expected = valid_device_counts(BATCH_10C, N_TRAIN_10C, MAX_DEVICES_10C)
    try:
        given = sorted({int(n) for n in valid_counts})
    except (TypeError, ValueError):
        given = None
        problems.append(f"give the valid device counts as a list of whole numbers, got {valid_counts!r}")
    if given is not None and given != expected:
        batch_only = [n for n in range(1, MAX_DEVICES_10C + 1) if BATCH_10C % n == 0]
        hint = (f"{BATCH_10C} splits over {batch_only}, but the last batch of an epoch holds "
                f"{N_TRAIN_10C} % {BATCH_10C} = {N_TRAIN_10C % BATCH_10C} sequences, and it must split evenly too"
                if given == batch_only else
                f"a count is valid when it divides both {BATCH_10C} and the last batch, {N_TRAIN_10C % BATCH_10C}")
        problems.append(f"{given} is not the list of valid device counts: {hint}")
    return report(problems, f"{BATCH_10C // 3} sequences per device; valid counts {expected}: each divides both the "
                            f"batch of {BATCH_10C} and the last batch of {N_TRAIN_10C % BATCH_10C}")
