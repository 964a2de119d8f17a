"""Intervals and paired verdicts: how sure a comparison of trained models can be.

Two things vary when a model is scored: the seed it trained with and the test items it is scored on.

- :func:`seed_interval` covers seed-to-seed variance only: a percentile bootstrap of the mean over seeds
  (scipy.stats.bootstrap). It stays inside the range of the values, so an accuracy interval stays in [0, 1].
- :func:`item_interval` covers test-item sampling only (a bootstrap over items; for one run it equals Wilson's
  interval, :func:`wilson_interval`, closely).
- :func:`joint_interval` covers both: it resamples seeds and test items together.

:func:`compare_paired` compares two models trained on the same seeds and scored on the same test items by
their paired difference, which is far more sensitive than checking whether two separate intervals overlap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

#: Bootstrap resamples and seed: fixed, so every printed interval is reproducible.
N_RESAMPLES, BOOTSTRAP_SEED = 2000, 0
#: The verdicts :func:`compare_paired` can give.
VERDICTS = ("B better", "A better", "no difference detected")


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def _values(values, confidence: float) -> np.ndarray:
    """``values`` as a checked 1-D float array of at least two finite numbers (one per seed)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"need at least 2 values (one per seed) for an interval, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("values contain NaN or inf")
    _check_confidence(confidence)
    return values


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two-sided Student-t interval: (mean, low, high).

    For unbounded quantities, such as a per-seed *difference* of accuracies or a gradient norm. An accuracy
    interval uses :func:`seed_interval`, which cannot leave [0, 1].

    Args:
        values: at least two finite numbers, one per seed.
        confidence: the confidence level, in (0, 1).

    Returns:
        ``(mean, low, high)`` as floats; all three equal when every value is the same.

    Raises:
        ValueError: fewer than 2 values (or not 1-D), NaN or inf, or ``confidence`` outside (0, 1).
    """
    values = _values(values, confidence)
    mean = values.mean()
    sem = stats.sem(values)
    if sem == 0:   # every value equal: the interval is that value (scipy would return nan for a zero scale)
        return float(mean), float(mean), float(mean)
    low, high = stats.t.interval(confidence, df=len(values) - 1, loc=mean, scale=sem)
    return float(mean), float(low), float(high)


def seed_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean over seeds and its percentile-bootstrap interval: (mean, low, high).

    It covers seed-to-seed variance only (the test items are held fixed), and it never leaves the range of
    the values: an accuracy interval stays inside [0, 1]. With two or three seeds it is little more than
    their range; ten seeds make it a fair interval.

    Args:
        values: at least two finite numbers, one per seed.
        confidence: the confidence level, in (0, 1).

    Returns:
        ``(mean, low, high)`` as floats; the bootstrap is seeded (:data:`BOOTSTRAP_SEED`), so it is reproducible.

    Raises:
        ValueError: fewer than 2 values (or not 1-D), NaN or inf, or ``confidence`` outside (0, 1).

    Example:
        ::

            mean, low, high = seed_interval(runs.table["accuracy"])
    """
    values = _values(values, confidence)
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0]), float(values[0])
    result = stats.bootstrap((values,), np.mean, confidence_level=confidence, method="percentile",
                             n_resamples=N_RESAMPLES, random_state=np.random.default_rng(BOOTSTRAP_SEED))
    low, high = result.confidence_interval
    return float(values.mean()), float(low), float(high)


def wilson_interval(n_correct: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Accuracy of one run and Wilson's score interval (scipy): (accuracy, low, high). Test-item sampling only.

    Args:
        n_correct: test items classified right.
        n: test items in all.
        confidence: the confidence level, in (0, 1).

    Returns:
        ``(n_correct / n, low, high)``.

    Raises:
        ValueError: ``n`` below 1, ``n_correct`` outside ``0..n``, or ``confidence`` outside (0, 1).
    """
    if n < 1 or not 0 <= n_correct <= n:
        raise ValueError(f"need 0 <= n_correct <= n and n >= 1, got {n_correct} of {n}")
    _check_confidence(confidence)
    ci = stats.binomtest(int(n_correct), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return n_correct / n, float(ci.low), float(ci.high)


def _correct_matrix(correct) -> np.ndarray:
    """A (seeds, items) score matrix as floats: 0/1 (right or wrong), or a share in [0, 1] per item, such as
    the share of a sequence's real steps labelled right (lesson 09: the item is the sequence, so resampling
    items resamples whole sequences, never single steps)."""
    correct = np.asarray(correct)
    if correct.ndim != 2 or correct.shape[0] < 1 or correct.shape[1] < 1:
        raise ValueError(f"correct must be a (seeds, test items) matrix, got shape {correct.shape}")
    if correct.dtype != bool and not (np.issubdtype(correct.dtype, np.number) and np.all(np.isfinite(correct))
                                      and np.all((correct >= 0) & (correct <= 1))):
        raise ValueError("correct must hold 0/1, True/False or a share in [0, 1] per seed and test item")
    return correct.astype(float)


@lru_cache(maxsize=16)
def _resample_counts(n: int) -> np.ndarray:
    """(N_RESAMPLES, n) counts: how often each of ``n`` things is drawn in each bootstrap resample.

    Seeded by ``n`` alone, so a resample of 370 test items is the same in every call, whatever ran before.
    """
    rng = np.random.default_rng((BOOTSTRAP_SEED, n))
    draws = rng.integers(0, n, size=(N_RESAMPLES, n)) + n * np.arange(N_RESAMPLES)[:, None]
    counts = np.bincount(draws.ravel(), minlength=N_RESAMPLES * n).reshape(N_RESAMPLES, n).astype(np.float32)
    counts.setflags(write=False)
    return counts


def _bootstrap_means(matrix: np.ndarray, over_seeds: bool, over_items: bool) -> np.ndarray:
    """Bootstrap replicates of ``matrix.mean()``, resampling seeds (rows), items (columns) or both.

    A resample is a pair of count vectors (how often each seed and each item was drawn), so one replicate is
    ``seed_counts @ matrix @ item_counts / (S * N)``: the same draw applies to every row it touches, which is
    what keeps two models' resamples paired when ``matrix`` holds their per-item difference.
    """
    S, N = matrix.shape
    seeds = _resample_counts(S) if over_seeds else np.ones((N_RESAMPLES, S), np.float32)
    items = _resample_counts(N) if over_items else np.ones((N_RESAMPLES, N), np.float32)
    return np.einsum("rn,rn->r", seeds @ matrix, items) / (S * N)


def _percentiles(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def item_interval(correct, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean accuracy and its interval over test-item sampling only: (mean, low, high).

    ``correct`` is a (seeds, items) 0/1 matrix; the seeds stay fixed and the items are resampled.

    Args:
        correct: a ``(seeds, items)`` matrix of 0/1, True/False or shares in [0, 1], such as
            :attr:`utils.training.SeedComparison.correct`.
        confidence: the confidence level, in (0, 1).

    Returns:
        ``(mean, low, high)``: the mean over the whole matrix and its percentile-bootstrap interval.

    Raises:
        ValueError: ``correct`` is not such a matrix, or ``confidence`` lies outside (0, 1).
    """
    matrix = _correct_matrix(correct)
    _check_confidence(confidence)
    return (float(matrix.mean()), *_percentiles(_bootstrap_means(matrix, False, True), confidence))


def joint_interval(correct, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean accuracy and its interval over seeds *and* test items, resampled together: (mean, low, high).

    Args:
        correct: a ``(seeds, items)`` matrix of 0/1, True/False or shares in [0, 1], with at least 2 seeds.
        confidence: the confidence level, in (0, 1).

    Returns:
        ``(mean, low, high)``: the mean over the whole matrix and its percentile-bootstrap interval.

    Raises:
        ValueError: ``correct`` is not such a matrix, has fewer than 2 seeds, or ``confidence`` lies outside (0, 1).
    """
    matrix = _correct_matrix(correct)
    if matrix.shape[0] < 2:
        raise ValueError("need at least 2 seeds to resample seeds")
    _check_confidence(confidence)
    return (float(matrix.mean()), *_percentiles(_bootstrap_means(matrix, True, True), confidence))


def format_interval(mean: float | None, low: float, high: float, digits: int = 3, signed: bool = False) -> str:
    """The one way the course prints an estimate with its interval: ``0.967 [0.958, 0.975]``.

    Args:
        mean: the estimate, or None to print the interval alone.
        low: the interval's low end.
        high: the interval's high end.
        digits: decimal places.
        signed: print a ``+`` before positive numbers (for differences).

    Returns:
        The text, e.g. ``"+0.012 [-0.004, +0.027]"`` with ``signed=True``.
    """
    number = f"{{:{'+' if signed else ''}.{digits}f}}"
    interval = f"[{number.format(low)}, {number.format(high)}]"
    return interval if mean is None else f"{number.format(mean)} {interval}"


@dataclass(frozen=True)
class PairedComparison:
    """Model B against model A on the same seeds and the same test items (see :func:`compare_paired`).

    Made by :func:`compare_paired`.

    Args:
        a: model A's name.
        b: model B's name.
        seeds: the seeds both trained with.
        n_items: the number of test items.
        accuracy_a: A's mean score (accuracy, or balanced accuracy) over seeds and items.
        accuracy_b: B's mean score.
        difference: the mean over seeds of score(B) - score(A).
        over_seeds: the t-interval of the per-seed differences (items held fixed).
        over_seeds_and_items: the joint bootstrap interval, the same resample for A and B; the verdict reads it.
        item_floor: the half-width that test-item sampling alone gives.
        disagreements: test items per seed on which exactly one of the two is right.
        gap: the difference for which ``seeds_needed`` is estimated.
        seeds_needed: seeds to detect ``gap`` from the seed-to-seed spread (None when that spread is zero).
        verdict: one of :data:`VERDICTS`.
        confidence: the intervals' confidence level.
        metric: ``"accuracy"`` or ``"balanced accuracy"``.
    """

    a: str
    b: str
    seeds: tuple
    n_items: int
    accuracy_a: float
    accuracy_b: float
    difference: float                       # mean over seeds of accuracy(B) - accuracy(A)
    over_seeds: tuple[float, float]         # t-interval of the per-seed differences (items fixed)
    over_seeds_and_items: tuple[float, float]  # joint bootstrap, the same resample for A and B
    item_floor: float                        # half-width that test-item sampling alone gives
    disagreements: float                     # test items per seed on which exactly one of the two is right
    gap: float
    seeds_needed: int | None                 # seeds to detect ``gap`` from the seed-to-seed spread
    verdict: str
    confidence: float = 0.95
    metric: str = "accuracy"                 # or "balanced accuracy" (compare_paired(balanced=True))

    def sentence(self) -> str:
        """The verdict in words, with its evidence.

        Returns:
            One or two sentences: B - A with its interval over seeds and test items and the verdict; when no
            difference was detected, also how many seeds a gap of ``gap`` would need, or why no number would do.
        """
        metric = "" if self.metric == "accuracy" else f" ({self.metric})"
        head = (f"{self.b} vs {self.a}{metric}: B - A = "
                f"{format_interval(self.difference, *self.over_seeds_and_items, signed=True)}"
                f" over seeds and test items ({len(self.seeds)} seeds, {self.n_items} items)")
        if self.verdict != VERDICTS[2]:
            winner = self.b if self.verdict == VERDICTS[0] else self.a
            return f"{head}: {self.verdict} ({winner})."
        text = f"{head}: {self.verdict}."
        if self.seeds_needed is None and self.disagreements == 0:
            text += " The two agree on every item for every seed; more seeds cannot show a gap."
        elif self.seeds_needed is None:
            text += (" B - A is the same on every seed, so the seed-to-seed spread gives no estimate of the seeds"
                     f" a gap of {self.gap:.3f} would need; test-item sampling alone spans +/-{self.item_floor:.3f}.")
        else:
            text += (f" From the seed-to-seed spread, about {self.seeds_needed} seeds would detect a gap of"
                     f" {self.gap:.3f}")
            text += (f"; but test-item sampling alone spans +/-{self.item_floor:.3f}, so no number of seeds"
                     " resolves that gap on this test set." if self.item_floor >= self.gap else ".")
        return text


def _seeds_needed(per_seed_sd: float, gap: float, confidence: float, power: float = 0.8) -> int | None:
    """Seeds for a paired test at ``confidence`` to detect ``gap`` with ``power`` (normal approximation)."""
    if per_seed_sd == 0:
        return None
    z = stats.norm.ppf((1 + confidence) / 2) + stats.norm.ppf(power)
    return max(2, math.ceil((z * per_seed_sd / gap) ** 2))


def compare_paired(a, b, confidence: float = 0.95, gap: float = 0.01, balanced: bool = False) -> PairedComparison:
    """Compare model B with model A (two :class:`utils.training.SeedComparison`) by their paired difference.

    Both must be trained on the same seeds and scored on the same test items. The difference B - A gets two
    intervals: one over seeds (a t-interval of the per-seed differences, the test items held fixed) and one
    over seeds and test items (a bootstrap that draws the same seeds and the same items for A and B). The
    verdict reads the second, which covers both sources of variance: "B better" or "A better" when it
    excludes zero, otherwise "no difference detected", with roughly how many seeds it would take to detect
    a gap of ``gap`` from the observed seed-to-seed spread (80% power).

    Pooling seeds x items into one McNemar test would treat the same item, scored once per seed, as
    independent evidence; resampling items jointly does not. For a sequence labeller the item is a test
    sequence, scored by the share of its real steps labelled right, so the bootstrap resamples whole sequences:
    the steps of one sequence are not independent evidence.

    ``balanced=True`` compares balanced accuracy (the mean of the per-class recalls, scikit-learn's
    ``balanced_accuracy_score``) instead: each test item counts ``N / (classes x its class's count)``, so every
    class weighs the same, whatever its size. Use it when one class dominates the test split.

    Args:
        a: model A's :class:`utils.training.SeedComparison`.
        b: model B's, on the same seeds and test items.
        confidence: the intervals' confidence level, in (0, 1).
        gap: the difference, in (0, 1), for which the seeds needed are estimated.
        balanced: compare balanced accuracy instead of accuracy.

    Returns:
        A :class:`PairedComparison`.

    Raises:
        ValueError: ``confidence`` or ``gap`` outside (0, 1); ``a`` or ``b`` not a ``SeedComparison``; different
            seeds, fewer than 2 seeds, or different test items; ``balanced=True`` with per-step labels; or
            ``correct`` matrices that are not 0/1 or shares.

    Example:
        ::

            pair = compare_paired(MODELS["01 JV last state"].train(jv, range(10)),
                                  MODELS["01 JV average"].train(jv, range(10)))
            print(pair.sentence())
    """
    _check_confidence(confidence)
    if not 0 < gap < 1:
        raise ValueError(f"gap must lie in (0, 1), got {gap}")
    for name, c in (("a", a), ("b", b)):
        if not hasattr(c, "correct") or not hasattr(c, "seeds"):
            raise ValueError(f"{name} must be a SeedComparison (from run_seeds or CourseModel.train), "
                             f"got {type(c).__name__}")
    if list(a.seeds) != list(b.seeds):
        raise ValueError(f"the two models must be trained on the same seeds: {a.name!r} has {list(a.seeds)}, "
                         f"{b.name!r} has {list(b.seeds)}")
    if len(a.seeds) < 2:
        raise ValueError("need at least 2 seeds for a paired comparison")
    if len(a.y_true) != len(b.y_true) or a.test_key != b.test_key:
        raise ValueError(f"the two models must be scored on the same test items: {a.name!r} has "
                         f"{len(a.y_true)} items (key {a.test_key}), {b.name!r} has {len(b.y_true)} (key {b.test_key})")
    correct_a, correct_b = _correct_matrix(a.correct), _correct_matrix(b.correct)
    if balanced:
        y = np.asarray(a.y_true)
        if y.ndim != 1:
            raise ValueError("balanced=True weighs each test item by its class; per-step labels have no one "
                             "class per sequence (compare their macro F1 per seed instead)")
        counts = np.bincount(y)
        weight = len(y) / (np.count_nonzero(counts) * counts[y])   # the mean of weight * correct is balanced accuracy
        correct_a, correct_b = correct_a * weight, correct_b * weight
    difference = correct_b - correct_a                       # (seeds, items), values -1, 0, 1
    per_seed = difference.mean(axis=1)
    mean = float(per_seed.mean())
    if np.ptp(per_seed) == 0:
        over_seeds = (mean, mean)
    else:
        over_seeds = mean_ci(per_seed, confidence)[1:]
    joint = _percentiles(_bootstrap_means(difference, True, True), confidence)
    items_only = _percentiles(_bootstrap_means(difference, False, True), confidence)
    item_floor = (items_only[1] - items_only[0]) / 2
    if joint[0] > 0:
        verdict = VERDICTS[0]
    elif joint[1] < 0:
        verdict = VERDICTS[1]
    else:
        verdict = VERDICTS[2]
    sd = float(per_seed.std(ddof=1))
    return PairedComparison(a.name, b.name, tuple(a.seeds), difference.shape[1], float(correct_a.mean()),
                            float(correct_b.mean()), mean, tuple(map(float, over_seeds)), joint, float(item_floor),
                            float(np.abs(difference).sum(axis=1).mean()), gap, _seeds_needed(sd, gap, confidence),
                            verdict, confidence, "balanced accuracy" if balanced else "accuracy")


def paired_table(*pairs: PairedComparison) -> pd.DataFrame:
    """One display row per paired comparison: B - A with both intervals, the verdict, the half-width that
    test-item sampling alone gives (a gap smaller than that floor cannot be resolved on this test set, however
    many seeds) and, only where no difference was detected, the seeds it would take to detect a gap of ``gap``
    from the seed-to-seed spread. Where a difference was detected, that column shows "resolved": the seeds
    were already enough, so an estimate of how many a small gap would need has nothing to add there.

    How to read each column: see :data:`HOW_TO_READ`.

    Args:
        *pairs: the :class:`PairedComparison` objects, one row each.

    Returns:
        The display table, one row per pair.

    Raises:
        ValueError: no pair given.
    """
    if not pairs:
        raise ValueError("give at least one PairedComparison")
    rows = []
    for p in pairs:
        if p.verdict != VERDICTS[2]:
            needed = "resolved"
        else:
            needed = "-" if p.seeds_needed is None else p.seeds_needed
        rows.append({"B": p.b, "A": p.a, "seeds": len(p.seeds),
                     "B - A [95% CI over seeds]": format_interval(p.difference, *p.over_seeds, signed=True),
                     "[95% CI over seeds and items]": format_interval(None, *p.over_seeds_and_items, signed=True),
                     "items split per seed": round(p.disagreements, 1), "verdict": p.verdict,
                     "test-item floor (+/-)": round(p.item_floor, 3),
                     f"seeds for a {p.gap:.2f} gap": needed})
    return pd.DataFrame(rows)


#: What each column of :func:`paired_table` means (lesson 01 shows it in a box; the site's cheat sheet too).
HOW_TO_READ = {
    "B, A": "the two models; B is the newer or the attention model, so B - A > 0 means the change helped",
    "B - A [95% CI over seeds]": "the mean over seeds of accuracy(B) - accuracy(A), with an interval that "
                                 "covers seed-to-seed variance only (the test items held fixed)",
    "[95% CI over seeds and items]": "the interval that covers both seeds and test items; the verdict reads this one",
    "items split per seed": "test items on which exactly one of the two models is right, per seed: the only "
                            "items that can move B - A",
    "verdict": "'B better' or 'A better' when the interval over seeds and items excludes 0, otherwise "
               "'no difference detected', which means 'not resolved at this floor', not 'equal'",
    "test-item floor (+/-)": "the half-width that test-item sampling alone gives: no number of seeds resolves "
                             "a gap smaller than this on this test set",
    "seeds for a 0.01 gap": "shown only when no difference was detected: about how many seeds the observed "
                            "seed-to-seed spread would need to detect a 0.01 gap (80% power)",
}


def show_verdicts(*pairs: PairedComparison, table: pd.DataFrame | None = None) -> None:
    """The course's one way to show paired verdicts: each one-line :meth:`PairedComparison.sentence` first,
    then the table (``paired_table(*pairs)``, or ``table`` if you added columns to it).

    Args:
        *pairs: the :class:`PairedComparison` objects.
        table: a table to display instead of ``paired_table(*pairs)``.

    Raises:
        ValueError: no pair given.
    """
    from IPython.display import display  # a notebook helper: IPython is only needed when it is called

    if not pairs:
        raise ValueError("give at least one PairedComparison")
    for p in pairs:
        print(p.sentence())
    display(paired_table(*pairs) if table is None else table)
