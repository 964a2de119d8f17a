"""The clinic's three answers for a learner's own model: is it broken, is there more signal, does attention fit?

- :func:`attention_fit` trains a model without attention (A) and with it (B) on the same seeds and the same
  recipe, and returns their paired verdict: the question "does attention fit my problem?" as a measurement.
- :func:`three_answers` puts it together with :func:`utils.diagnose.diagnose` (bugs) and its ceiling
  estimate (peers and a learning curve): one answer per question, each with its evidence and what to do next,
  and one figure (:meth:`ThreeAnswers.plot`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import Dataset, SequenceSet
from .runtime import is_fast

#: The course's rule: a verdict rests on at least ten seeds (two in fast mode, which only checks the code runs).
MIN_SEEDS = 10


def _seed_list(seeds) -> list[int]:
    """``seeds`` as a list: a count (``10`` means seeds 0..9) or the seeds themselves, distinct, at least
    :data:`MIN_SEEDS` of them (2 in fast mode)."""
    from .training import distinct_seeds
    from .validators import whole_number

    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = range(whole_number("seeds", seeds, 1))
    seeds = distinct_seeds(seeds)
    least = 2 if is_fast() else MIN_SEEDS
    if len(seeds) < least:
        raise ValueError(f"a paired verdict needs at least {least} seeds, got {len(seeds)}: with fewer, the "
                         "seed-to-seed spread cannot be estimated well enough to trust the interval "
                         f"(seeds={MIN_SEEDS} trains seeds 0..{MIN_SEEDS - 1})")
    return seeds


def as_dataset(data) -> Dataset:
    """A course ``Dataset``, or ``(X_train, y_train, X_test, y_test)`` arrays (right-padded with zeros; integer or
    one-hot labels) made into one. Raises a ValueError naming the part that does not fit.

    Args:
        data: a course ``Dataset`` (returned as it is) or the four arrays.

    Returns:
        A ``Dataset`` named ``"your data"`` with integer labels and classes named ``"class 0"``, ``"class 1"``, ...

    Raises:
        ValueError: ``data`` is neither a ``Dataset`` nor four arrays, or an array that does not fit (shapes,
            label types, unequal lengths, gaps in the padding).
    """
    from .diagnose.data_checks import as_data
    from .validators import validate_sequences

    if isinstance(data, Dataset):
        return data
    if not isinstance(data, (tuple, list)) or len(data) != 4:
        raise ValueError("data must be a course Dataset or (X_train, y_train, X_test, y_test): a verdict needs a "
                         f"test split that neither model trains on; got {type(data).__name__}"
                         f"{'' if not isinstance(data, (tuple, list)) else f' of {len(data)} arrays'}")
    learner = as_data(data)   # the clinic's one reader of a learner's arrays
    parts = []
    for X, y in ((learner.X_train, learner.y_train), (learner.X_test, learner.y_test)):
        X = X.astype(np.float32) if np.issubdtype(X.dtype, np.floating) else X
        y = learner.sparse(y).astype(np.int32)
        parts.append(SequenceSet(X, validate_sequences(X, y), y))   # training needs sequences without gaps
    return Dataset("your data", *parts, tuple(f"class {c}" for c in range(learner.n_classes)))


def _builder(build) -> Callable:
    """A ``data -> keras.Model`` function from a builder function, a ``ClassifierSpec`` or a registry entry."""
    from .builder import ClassifierSpec, build_classifier
    from .registry import CourseModel

    if isinstance(build, ClassifierSpec):
        return lambda data: build_classifier(data, build)
    if isinstance(build, CourseModel):
        return build.build
    if callable(build):
        return build
    raise ValueError(f"a builder must be a function data -> keras.Model, a ClassifierSpec or a registry entry "
                     f"(MODELS[name]), got {type(build).__name__}")


def _check_builders(builders: dict, data: Dataset) -> None:
    """Both builders must build a classifier for ``data``: its steps and features in, one score per class out."""
    import keras

    shapes = {}
    for role, build in builders.items():
        model = build(data)
        if not isinstance(model, keras.Model):
            raise ValueError(f"the {role} builder must return a keras.Model, got {type(model).__name__}")
        if len(model.inputs) != 1:
            raise ValueError(f"the {role} model has {len(model.inputs)} inputs; attention_fit trains one-input "
                             "classifiers (make a constant input a weight of a layer, see lesson 07)")
        takes, gives = tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])
        expected = data.train.X.shape[1:] if len(takes) == 2 else data.train.X.shape[1:2]
        if any(t is not None and t != e for t, e in zip(takes, expected)) or len(takes) not in (1, 2):
            raise ValueError(f"the {role} builder made a model for other data: it takes {takes} per sequence, the "
                             f"data has {tuple(data.train.X.shape[1:])}. Build from the data you are given "
                             "(keras.Input(data.train.X.shape[1:]))")
        if gives != (data.n_classes,):
            raise ValueError(f"the {role} model outputs {gives}, but the data has {data.n_classes} classes: end "
                             f"with Dense({data.n_classes}, activation='softmax') (one score per class, one "
                             "prediction per sequence)")
        shapes[role] = takes
    if len(set(shapes.values())) > 1:
        raise ValueError(f"the two builders made models for different data: {shapes}")
    keras.backend.clear_session()


@dataclass(frozen=True)
class AttentionFit:
    """The two models' runs and their paired verdict (B = with attention, A = without)."""

    without: object            # SeedComparison of model A
    with_attention: object     # SeedComparison of model B
    paired: object             # PairedComparison, B - A

    def sentence(self) -> str:
        """The paired verdict in one sentence (:meth:`utils.stats.PairedComparison.sentence`).

        Returns:
            The sentence, e.g. for printing under a table.
        """
        return self.paired.sentence()

    @property
    def answer(self) -> str:
        """``"attention helps"``, ``"attention hurts"`` or ``"not resolved at this floor"``."""
        return {"B better": "attention helps", "A better": "attention hurts"}.get(self.paired.verdict,
                                                                                 "not resolved at this floor")

    def evidence(self) -> str:
        """The verdict's numbers in words: the difference B - A, its interval and the test-item floor.

        Returns:
            The evidence line; when no difference is detected, it adds which gaps are not ruled out and how many
            seeds would detect one.
        """
        p = self.paired
        low, high = p.over_seeds_and_items
        text = (f"{p.metric} with attention minus without: {p.difference:+.3f} [{low:+.3f}, {high:+.3f}] over "
                f"{len(p.seeds)} seeds and {p.n_items} test items; test-item floor +/-{p.item_floor:.3f}")
        if p.verdict == "no difference detected":
            needed = ("the two agree on every item for every seed" if p.seeds_needed is None else
                      f"about {p.seeds_needed} seeds would detect a {p.gap:.2f} gap from the seed-to-seed spread")
            text += (f"; a gap inside [{low:+.3f}, {high:+.3f}] is not ruled out ({needed}"
                     + (", but no number of seeds resolves a gap below the floor on this test set"
                        if p.item_floor >= p.gap else "") + ")")
        return text


def attention_fit(without_attention, with_attention, data, seeds=10, recipe=None, balanced: bool = False,
                  names=("without attention", "with attention"), **options) -> AttentionFit:
    """Does attention fit this problem? Train the model without attention (A) and with it (B) on the same seeds
    with the same recipe, and compare them paired on the same test items.

    Args:
        without_attention: a builder for model A: a function ``data -> keras.Model`` (the learner's own), a
            :class:`~utils.builder.ClassifierSpec` or a registry entry (``MODELS[name]``).
        with_attention: the same for model B, the attention model, as in every course verdict. For a course
            spec B, A is its twin without the attention: ``spec.but(pool="average")`` for attention pooling,
            ``spec.but(mixer=None)`` for a self-attention mixer.
        data: a course ``Dataset`` or ``(X_train, y_train, X_test, y_test)``.
        seeds: how many seeds (``10`` trains seeds 0..9) or the seeds themselves; at least 10 (2 in fast mode).
        recipe: a :class:`~utils.registry.Recipe` both models train with (default: the clinic's,
            ``CLINIC_RECIPE``). Choose it on training data only, the same way for both.
        balanced: compare balanced accuracy (every class weighs the same) instead of accuracy.
        names: the two models' names in the tables and the verdict (A's, then B's).
        **options: more keywords for :func:`utils.training.run_seeds` (``class_weight``, ``validation`` ...).

    Returns:
        An :class:`AttentionFit`: both models' runs and the :class:`~utils.stats.PairedComparison` B - A, with
        its interval over seeds and test items, the seeds a 0.01 gap would need and the test-item floor.

    Raises:
        ValueError: a builder that makes a model for other data (other steps, features or classes), builders
            that disagree, fewer than 10 seeds, or train and test arrays of unequal lengths.

    Example:
        ::

            spec = MODELS["03 JV attention pooling"].spec
            fit = attention_fit(spec.but(pool="average"), spec, load_japanese_vowels())
            print(fit.sentence())
    """
    from .registry import CLINIC_RECIPE, Recipe
    from .stats import compare_paired
    from .training import run_seeds

    data = as_dataset(data)
    seeds = _seed_list(seeds)
    recipe = CLINIC_RECIPE if recipe is None else recipe
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a utils.registry.Recipe (epochs, batch size, learning rate), got {recipe!r}")
    builders = {"without-attention": _builder(without_attention), "with-attention": _builder(with_attention)}
    _check_builders(builders, data)
    kwargs = {**recipe.kwargs(), **options}
    a = run_seeds(names[0], builders["without-attention"], data, seeds, **kwargs)
    b = run_seeds(names[1], builders["with-attention"], data, seeds, **kwargs)
    return AttentionFit(a, b, compare_paired(a, b, balanced=balanced))


# ----------------------------------------------------------------------------------------- the three answers

@dataclass(frozen=True)
class Answer:
    """One of the three answers: the ``question``, the short ``answer``, its ``evidence`` and the ``next_step``."""

    question: str
    answer: str
    evidence: str
    next_step: str


@dataclass
class ThreeAnswers:
    """The clinic's answers, with the report, the fit and the ceiling verdicts behind them."""

    answers: list[Answer]
    report: object                 # utils.diagnose.Report, with the ceiling estimate
    fit: AttentionFit | None
    ceiling: list                  # PairedComparisons: the best peer (A) against each model (B), balanced accuracy

    @property
    def frame(self) -> pd.DataFrame:
        """The answers as a table: one row per question, columns ``answer``, ``evidence`` and ``next_step``."""
        return pd.DataFrame([a.__dict__ for a in self.answers]).set_index("question")

    def __str__(self) -> str:
        lines = []
        for i, a in enumerate(self.answers, 1):
            lines += [f"{i}. {a.question}  ->  {a.answer.upper()}", f"   evidence: {a.evidence}",
                      f"   next: {a.next_step}", ""]
        return "\n".join(lines).rstrip()

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def plot(self, title: str = "The three answers' evidence"):
        """The paired forest plot (attention fit, and the best peer against the model) above the peers' scores.

        Args:
            title: the figure's title.

        Returns:
            The matplotlib ``Figure``: the paired verdicts on top, each peer's and model's balanced accuracy below.
        """
        import matplotlib.pyplot as plt

        from .plots import plot_paired

        pairs = ([self.fit.paired] if self.fit else []) + list(self.ceiling)
        # stacked, not side by side: readable at a page's width (about 7 in)
        fig, (left, right) = plt.subplots(2, 1, figsize=(7, 8.5), gridspec_kw={"height_ratios": [1.2, 1]})
        if pairs:
            plot_paired(pairs, ax=left, title="Paired verdicts, B - A")
        else:
            left.set_axis_off()
            left.text(0.5, 0.5, "no paired verdict:\ngive both builders", ha="center", va="center")
        peers = self.report.peers
        scores = peers["balanced accuracy"].drop(index=[n for n in peers.index if n.startswith("your model")])
        rows = list(scores.items())
        if self.fit is not None:
            for run in (self.fit.without, self.fit.with_attention):
                rows.append((run.name, _balanced_scores(run).mean()))
        names, values = zip(*rows)
        colours = ["0.6"] * len(scores) + ["tab:blue", "tab:orange"][:len(rows) - len(scores)]
        right.barh(range(len(rows)), values, color=colours)
        right.axvline(scores.max(), color="black", ls=":")
        for i, v in enumerate(values):
            right.text(v + 0.01, i, f"{v:.3f}", va="center", fontsize=9,   # on white: the dotted line passes behind
                       bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        right.set_yticks(range(len(rows)), names, fontsize=9)
        right.invert_yaxis()
        # the best peer's line is named in the title, not a legend: a legend box would cover a bar's value label
        right.set(xlim=(0, 1.12), xlabel="balanced accuracy on the test split (mean over seeds)",
                  title=f"The ceiling: peers and your models\n(dotted line: the best peer, {scores.idxmax()})")
        fig.suptitle(title)
        fig.tight_layout()
        return fig


def _balanced_scores(runs) -> np.ndarray:
    from sklearn.metrics import balanced_accuracy_score

    return np.array([balanced_accuracy_score(runs.y_true, r.y_pred) for r in runs.runs])


#: Model warnings that are evidence about the third question, not bugs: trained attention that chooses nothing.
FIT_SIGNS = ("flat attention",)


def _bug_answer(report) -> Answer:
    question = "Is my code wrong?"
    faults = [f for f in report.findings if f.status == "warning" and f.area == "model" and f.check not in FIT_SIGNS]
    data = [f.check for f in report.findings if f.status == "warning" and f.area == "data"]
    cannot = [f.check for f in report.findings if f.status == "cannot run" and f.area == "model"]
    ran = [f for f in report.findings if f.area == "model" and f.status != "cannot run"]
    notes = (f"; the data checks warn about {', '.join(data)} (a property of the data: read the report)" if data
             else "") + (f"; {len(cannot)} check(s) could not run here ({', '.join(cannot)})" if cannot else "")
    if faults:
        names = ", ".join(f.check for f in faults)
        return Answer(question, f"yes: {len(faults)} fault(s)", f"{names}; first: {faults[0].evidence}{notes}",
                      f"fix one at a time, re-run the clinic after each (first: {faults[0].fix})")
    return Answer(question, "no fault found", f"{len(ran)} model checks ran without a warning{notes}",
                  "go on to the ceiling: a correct model can still be short of the signal")


def _curve_text(report) -> tuple[str, bool | None]:
    from .diagnose import CURVE_RISING, curve_evidence

    curve = report.curve
    if curve is None or len(curve) < 2:
        return "no learning curve (no test split)", None
    gain = curve["validation accuracy"].iloc[-1] - curve["validation accuracy"].iloc[-2]
    return curve_evidence(curve), bool(gain > CURVE_RISING)


def _ceiling_answer(report, ceiling: list) -> Answer:
    question = "Is there more signal in the data?"
    curve_text, rising = _curve_text(report)
    if not ceiling:
        finding = next((f for f in report.findings if f.check == "peers"), None)
        text = finding.evidence if finding is not None else "no peers ran"
        return Answer(question, "not measured over seeds", f"{text} (one trained model); {curve_text}",
                      "give the two builders so the clinic can set the best peer against your models over ten seeds")
    evidence = "; ".join(f"{p.b} minus the best peer, {p.a}: {p.difference:+.3f} [{p.over_seeds_and_items[0]:+.3f}, "
                         f"{p.over_seeds_and_items[1]:+.3f}]" for p in ceiling)
    evidence += f" ({ceiling[0].metric}, {len(ceiling[0].seeds)} seeds, {ceiling[0].n_items} test items); {curve_text}"
    beaten = [p.b for p in ceiling if p.verdict == "A better"]
    if len(beaten) == len(ceiling):
        return Answer(question, "yes: a cheap peer beats your model(s)", evidence,
                      "the models, not the data, are short: fix their faults, then compare recipes on a validation "
                      "split; the peer shows that the signal is there")
    if beaten:
        return Answer(question, f"room for {', '.join(beaten)} only", evidence,
                      f"the peer beats {', '.join(beaten)} but not the other: the signal is there, and the other "
                      "model gets it")
    if all(p.verdict == "B better" for p in ceiling):
        return Answer(question, "your models beat every peer", evidence,
                      "the peers set no ceiling here; " + ("more data would likely help" if rising else
                                                           "more of the same data is unlikely to help much"))
    floor = max(p.item_floor for p in ceiling)
    return Answer(question, "no room the peers can show (not resolved at this floor)", evidence,
                  f"no peer beats your models at this floor (+/-{floor:.3f}); "
                  + ("but the learning curve still rises: more data would likely help" if rising else
                     "with a flat learning curve, expect little from more of the same data or a bigger model"))


def _fit_answer(fit: AttentionFit | None, report) -> Answer:
    question = "Does attention fit my problem?"
    signs = "".join(f"; the clinic also finds {f.check} in your model: {f.evidence}" for f in report.findings
                    if f.check in FIT_SIGNS and f.status == "warning")
    if fit is None:
        return Answer(question, "not measured", "no builders given" + signs,
                      "three_answers(model, data, without_attention=..., with_attention=...)")
    nxt = {"attention helps": "keep the attention model",
           "attention hurts": "keep the simpler model; check the attention's recipe on a validation split",
           "not resolved at this floor": "keep the simpler model unless a larger test set or more seeds shows a "
                                         "gap; say 'not resolved at this floor', not 'no effect'"}
    return Answer(question, fit.answer, fit.evidence() + signs, nxt[fit.answer])


def three_answers(model, data, without_attention=None, with_attention=None, seeds=10, recipe=None,
                  minirocket: bool = True, progress: bool = True, names=("without attention", "with attention"),
                  fit: AttentionFit | None = None, **options) -> ThreeAnswers:
    """The clinic's three answers for ``model`` on ``data``: is it broken, is there more signal, does attention fit?

    Args:
        model: the learner's Keras model (trained or not), read by :func:`utils.diagnose.diagnose`.
        data: a course ``Dataset`` or ``(X_train, y_train, X_test, y_test)``.
        without_attention: the builder of the model without attention, for :func:`attention_fit` (give both
            builders, or neither).
        with_attention: the builder of the model with attention, for :func:`attention_fit`.
        seeds: as in :func:`attention_fit`.
        recipe: as in :func:`attention_fit`.
        minirocket: as in :func:`utils.diagnose.diagnose`.
        progress: as in :func:`utils.diagnose.diagnose`.
        names: as in :func:`attention_fit`.
        fit: an :class:`AttentionFit` already trained on ``data`` (instead of the two builders), so that no model
            is trained twice.
        **options: as in :func:`attention_fit`.

    Returns:
        A :class:`ThreeAnswers`: ``print`` it for the answers, ``.frame`` for a table, ``.plot()`` for the figure.
        Every verdict is on balanced accuracy, so a rare class weighs as much as a common one.

    Raises:
        ValueError: one builder without the other, both builders and ``fit``, a ``fit`` that is not an
            :class:`AttentionFit` scored on this data's test split, or anything :func:`attention_fit` or
            ``diagnose`` rejects.

    Example:
        ::

            spec = MODELS["03 JV attention pooling"].spec
            print(three_answers(model, data, without_attention=spec.but(pool="average"), with_attention=spec))
    """
    from .diagnose import diagnose
    from .peers import deterministic_runs
    from .stats import compare_paired
    from .training import split_fingerprint

    if (without_attention is None) != (with_attention is None):
        raise ValueError("give both builders (without_attention and with_attention) or neither")
    if fit is not None and with_attention is not None:
        raise ValueError("give the two builders or a trained fit, not both")
    dataset = as_dataset(data)
    if fit is not None:
        if not isinstance(fit, AttentionFit) or fit.with_attention.test_key != split_fingerprint(dataset.test):
            raise ValueError("fit must be an AttentionFit (from attention_fit) scored on this data's test split")
        if fit.paired.metric != "balanced accuracy":   # the three answers read balanced accuracy throughout
            fit = AttentionFit(fit.without, fit.with_attention, compare_paired(fit.without, fit.with_attention,
                                                                               balanced=True))
    report = diagnose(model, data, ceiling=True, minirocket=minirocket, progress=progress)
    ceiling = []
    if with_attention is not None:
        fit = attention_fit(without_attention, with_attention, dataset, seeds, recipe, balanced=True, names=names,
                            **options)
    if fit is not None:
        seeds = fit.with_attention.seeds
        peers = {name: deterministic_runs(name, dataset, seeds, *report.peer_predictions[name], 0.0, 0)
                 for name in report.peer_predictions}
        best = max(peers, key=lambda name: _balanced_scores(peers[name]).mean())   # peers are deterministic
        ceiling = [compare_paired(peers[best], runs, balanced=True) for runs in (fit.without, fit.with_attention)]
    answers = [_bug_answer(report), _ceiling_answer(report, ceiling), _fit_answer(fit, report)]
    return ThreeAnswers(answers, report, fit, ceiling)
