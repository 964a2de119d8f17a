"""The course's named models: every model a lesson, a tool or a solution trains, with its recipe.

Each entry is a :class:`CourseModel`: the lesson and data it is trained on, a
:class:`~utils.builder.ClassifierSpec` (what :func:`~utils.builder.build_classifier` builds), a
:class:`Recipe` (epochs, batch size, learning rate, label smoothing) and, for a model that carries a
deliberate teaching flaw, that flaw in words. Notebooks, ``tools/select_recipe.py``,
``tools/bench_training.py``, the solutions and the tests all read their models from here, so each
setting is written once. Lessons that sweep a setting (lesson 05's depth) register the sweep's base
model and vary it in the cell with ``spec.but(depth=...)``.

``registry_table()`` lists the entries; ``MODELS[name].train(data, seeds)`` trains one with its recipe.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .builder import ClassifierSpec, build_classifier
from .runtime import budget
from .self_attention import SeqSelfAttention
from .text import VOCAB_LIMIT

RECIPE_FILE = Path(__file__).resolve().parents[1] / "notebooks" / "recipe_selection.json"
UNITS = 32  # per LSTM direction, in every closing model
CLOSING_EPOCHS = 30


@dataclass(frozen=True)
class Recipe:
    """How a model is trained. ``fast_epochs`` replaces ``epochs`` in fast mode (``COURSE_FAST=1``) only.

    Args:
        epochs: the number of epochs.
        fast_epochs: the number of epochs in fast mode.
        batch_size: the training batch size.
        learning_rate: Adam's learning rate.
        label_smoothing: the share of probability kept off the true class.
    """

    epochs: int
    fast_epochs: int
    batch_size: int = 32
    learning_rate: float = 3e-3  # run_seeds' default
    label_smoothing: float = 0.0

    def kwargs(self) -> dict:
        """Keywords for ``utils.training.run_seeds`` / ``train_and_evaluate``.

        Returns:
            ``epochs`` (``fast_epochs`` in fast mode), ``batch_size``, ``learning_rate`` and ``label_smoothing``.
        """
        return {"epochs": budget(self.epochs, self.fast_epochs), "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "label_smoothing": self.label_smoothing}

    def describe(self) -> str:
        """The recipe in words, e.g. ``"40 epochs, batch 64, lr 0.003"`` (label smoothing only when it is used)."""
        parts = [f"{self.epochs} epochs", f"batch {self.batch_size}", f"lr {self.learning_rate:g}"]
        return ", ".join(parts + ([f"label smoothing {self.label_smoothing:g}"] if self.label_smoothing else []))


@dataclass(frozen=True)
class CourseModel:
    """A registry entry: a named model, its data, its spec, its recipe and its teaching flaw (if any).

    Args:
        name: the model's name, its key in :data:`MODELS`.
        lesson: the lesson that trains it, e.g. ``"01"``.
        data: the data set it is trained on, in words.
        spec: the :class:`~utils.builder.ClassifierSpec` it is built from.
        recipe: its :class:`Recipe`; None for a closing model whose recipe file is missing.
        flaw: the deliberate teaching flaw it carries, in words, or None.
    """

    name: str
    lesson: str
    data: str
    spec: ClassifierSpec
    recipe: Recipe | None
    flaw: str | None = None

    def build(self, data):
        """The uncompiled Keras model for ``data``.

        Args:
            data: a :class:`utils.data.Dataset` (or anything with ``max_len``, ``n_features`` and ``n_classes``).

        Returns:
            ``build_classifier(data, self.spec)``.

        Raises:
            ValueError: ``data`` does not fit the spec (see :func:`~utils.builder.build_classifier`).
        """
        return build_classifier(data, self.spec)

    def train(self, data, seeds, name: str | None = None, **options):
        """``run_seeds`` with this entry's recipe; ``name`` (default: the entry's) labels the result tables.
        ``options`` go to ``run_seeds`` and override the recipe's keywords (lesson 08 passes the number of
        ``epochs`` it chose on a validation split).

        Args:
            data: a :class:`utils.data.Dataset`.
            seeds: at least 2 distinct seeds.
            name: the name in the result tables (default: the entry's).
            **options: keywords for ``run_seeds``, overriding the recipe's.

        Returns:
            The :class:`utils.training.SeedComparison`.

        Raises:
            ValueError: the entry has no recipe (:meth:`training_recipe`), or ``run_seeds`` rejects its arguments.

        Example:
            ::

                runs = MODELS["01 JV average"].train(jv, seeds=range(10))
        """
        from .training import run_seeds

        return run_seeds(name or self.name, self.build, data, seeds=seeds,
                         **{**self.training_recipe().kwargs(), **options})

    def training_recipe(self) -> Recipe:
        """The entry's recipe.

        Returns:
            The :class:`Recipe`.

        Raises:
            ValueError: the entry has none (a closing model whose recipe file is missing).
        """
        if self.recipe is None:
            raise ValueError(f"{self.name!r} trains with the recipe in {RECIPE_FILE.name}, which is missing; "
                             "rebuild it with tools/select_recipe.py")
        return self.recipe


def closing_recipe(model: str, path: Path | str = RECIPE_FILE) -> Recipe:
    """``model``'s recipe in the closing comparison, as ``tools/select_recipe.py`` chose it for that model by
    cross-validation on the training split.

    Args:
        model: a closing model's name (one of :data:`CLOSING`).
        path: the recipe file (default: ``notebooks/recipe_selection.json``).

    Returns:
        A :class:`Recipe` of ``CLOSING_EPOCHS`` epochs (3 in fast mode) with the chosen batch size and label smoothing.

    Raises:
        ValueError: the file is missing, holds no recipe for ``model``, or names no chosen ``batch_size`` and
            ``label_smoothing``.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} is missing; rebuild it with tools/select_recipe.py")
    models = json.loads(path.read_text()).get("models")
    if not isinstance(models, dict) or model not in models:
        raise ValueError(f"{path} holds no recipe for {model!r}; rebuild it with tools/select_recipe.py")
    chosen = models[model].get("chosen")
    if not isinstance(chosen, dict) or not {"batch_size", "label_smoothing"} <= set(chosen):
        raise ValueError(f"{path} names no chosen recipe with batch_size and label_smoothing for {model!r}")
    return Recipe(CLOSING_EPOCHS, 3, batch_size=int(chosen["batch_size"]),
                  label_smoothing=float(chosen["label_smoothing"]))


def _closing_recipes() -> dict[str, Recipe | None]:
    """Each closing model's recipe, read once (None while tools/select_recipe.py has not written it)."""
    recipes = {}
    for name in CLOSING_SPECS:
        try:
            recipes[name] = closing_recipe(name)
        except ValueError:
            recipes[name] = None
    return recipes


FLATTEN_FLAW = ("Flatten reads every step by its position, padding included: it drops the mask, ties the model "
                "to one length and multiplies the read-out's weights by the length")
BUG_FLAW = ("keras-self-attention 0.51.0 leaves out only (padded query, padded key) pairs, so real steps "
            "attend to padded ones")
SIGMOID_FLAW = ("attention_activation='sigmoid' squashes every score into (0, 1) before the softmax, so no "
                "weight can exceed e times another: attention stays near uniform")

# lesson 01: the masked BiLSTM and its read-outs
_JV01, _MOTIF01 = Recipe(40, 3, batch_size=64), Recipe(15, 2, batch_size=64)
# lesson 03: pooling by a learned query
_MOTIF03 = Recipe(6, 2, batch_size=64, learning_rate=1e-2)
_JV03 = Recipe(15, 2, batch_size=64, learning_rate=3e-3)
# lesson 04: SeqSelfAttention's placement, on the motif task
_MOTIF04 = Recipe(6, 2, batch_size=64)  # six epochs, 32 units and T <= 30 keep lesson 04 (on TensorFlow) in budget
_SELF = ClassifierSpec(units=32, mixer="self_attention")
# lesson 05: residual encoder blocks on a dense projection (no recurrence)
_JV05 = Recipe(10, 2, batch_size=64)
_DENSE_ENCODER = ClassifierSpec(stem="dense", mixer="encoder", mixer_options={"norm": "none"})
# lesson 06: one model from each lesson
CLOSING_SPECS = {
    "01 BiLSTM + average": ClassifierSpec(units=UNITS),
    "03 BiLSTM + attention pooling": ClassifierSpec(units=UNITS, pool="attention"),
    "04 BiLSTM + self-attention (residual)": ClassifierSpec(
        units=UNITS, mixer="self_attention", residual=True, mixer_options={"attention_type": "multiplicative"}),
    "05 BiLSTM + encoder block": ClassifierSpec(units=UNITS, mixer="encoder", mixer_options={"dropout": 0.2},
                                                head_dropout=0.2, input_noise=0.2),
}
_MOTIF06 = Recipe(10, 2, batch_size=64)
# lesson 08: text. Every Embedding has VOCAB_LIMIT rows, enough for any vocabulary utils.text.vectorize adapts.
NO_MASK_FLAW = ("Embedding without mask_zero: padding ids are words to every later layer, so the LSTM reads them "
                "and attention gives them weight")
_Q003 = ClassifierSpec(vocab_size=VOCAB_LIMIT, units=10, mixer="self_attention")   # Q003's BiLSTM(10)
_Q003_RECIPE = Recipe(3, 1, batch_size=64)   # Q003's own: 3 epochs, batch 64
TEXT_MAX_EPOCHS = 5   # lesson 08 draws each model's validation curve this long, then trains that model for the
                      # epoch count its own curve picks (the notebook says if a curve peaks at its last epoch)
_TEXT = Recipe(TEXT_MAX_EPOCHS, 2, batch_size=32)
TEXT_SPECS = {
    "08 average": ClassifierSpec(vocab_size=VOCAB_LIMIT, units=UNITS),
    "08 max": ClassifierSpec(vocab_size=VOCAB_LIMIT, units=UNITS, pool="max"),
    "08 attention pooling": ClassifierSpec(vocab_size=VOCAB_LIMIT, units=UNITS, pool="attention"),
    "08 self-attention + average": ClassifierSpec(vocab_size=VOCAB_LIMIT, units=UNITS, mixer="self_attention",
                                                  residual=True, mixer_options={"attention_type": "multiplicative"}),
}

# lesson 07: the clinic's models for the learner questions Q000-Q004, scaled down (16 units, one BiLSTM layer)
Q000_FLAW = ("Q000/Q001 as posted: sigmoid-scored SeqSelfAttention 0.51.0 (nearly uniform weights, padding "
             "attended) and a Flatten head that drops the mask")
CLINIC_RECIPE = Recipe(12, 2, batch_size=64)
_Q000 = ClassifierSpec(units=16, mixer="self_attention", mixer_options={"attention_type": "multiplicative"})

_CLOSING_RECIPES = _closing_recipes()  # read once, for the five entries that train with them

# lesson 09: sequence labelling, a per-step head (pool="none"). Each task's recipe was chosen on its training
# sequences only: two seeds of each model trained with a 20% validation cut (utils.data.split_validation) for 30
# epochs, and the epoch count is where every model's validation accuracy had levelled off; each model of a task
# gets the same recipe, so a paired verdict compares architectures, not budgets.
_CUE09 = Recipe(30, 3, batch_size=32, learning_rate=1e-2)
_JV09 = Recipe(20, 3, batch_size=32, learning_rate=3e-3)
_PER_STEP = ClassifierSpec(units=16, pool="none")
_PORT09 = {"attention_type": "multiplicative"}
LABELLING_SPECS = {   # attention reads the tokens, ahead of the BiLSTM (lesson 04's "before + residual")
    "09 BiLSTM": _PER_STEP,
    "09 BiLSTM + SeqSelfAttention": _PER_STEP.but(mixer="self_attention", placement="before", residual=True,
                                                  mixer_options=_PORT09),
    "09 BiLSTM + MultiHeadAttention": _PER_STEP.but(mixer="encoder", placement="before", mixer_options={
        "attention": "mha", "heads": 1, "ff_units": 0, "norm": "none"}),   # one head and residual, as the port
    "09 SeqSelfAttention, window 9": _PER_STEP.but(mixer="self_attention", placement="before", residual=True,
                                                   mixer_options={**_PORT09, "attention_width": 9}),
    "09 SeqSelfAttention, history only": _PER_STEP.but(mixer="self_attention", placement="before", residual=True,
                                                       mixer_options={**_PORT09, "history_only": True}),
}
_JV_PER_STEP = ClassifierSpec(units=32, pool="none")

# lesson 10b: long sequences. The cost sweep builds the first three once (re-wired by utils.builder.any_length to take
# any length) and times one training step on random sequences of each length T; the last two train on the motif
# task (a short local motif decides the class), full attention against a local window. The recipe was chosen on
# training sequences only: two seeds of both self-attention models with a 20% validation cut for 12 epochs;
# validation accuracy had levelled off by epoch 10.
_MOTIF10 = Recipe(10, 2, batch_size=32, learning_rate=1e-2)
_PORT10 = {"attention_type": "multiplicative"}
LONG_SEQUENCE_SPECS = {   # one BiLSTM(16), the mixer after it with a residual, masked average pooling
    "10 BiLSTM": ClassifierSpec(units=16),
    "10 BiLSTM + self-attention": ClassifierSpec(units=16, mixer="self_attention", residual=True,
                                                 mixer_options=_PORT10),
    "10 BiLSTM + MultiHeadAttention": ClassifierSpec(units=16, mixer="encoder", mixer_options={
        "attention": "mha", "heads": 1, "ff_units": 0, "norm": "none"}),   # one head and residual, as lesson 09's
    "10 self-attention, window 9": ClassifierSpec(units=16, mixer="self_attention", residual=True,
                                                  mixer_options={**_PORT10, "attention_width": 9}),
}
# lesson 10c: data-parallel training of lesson 01's masked-average BiLSTM with lesson 01's recipe. Its batch of 64
# splits evenly over 2 devices, and so does the last batch of an epoch (270 training sequences: 4 x 64 + 14).
_JV10C = Recipe(40, 3, batch_size=64)
# lesson 10a: lesson 01's masked-average BiLSTM(16), trained from shards on disk (utils.streaming.ShardStream) for a
# fixed number of steps, and for two epochs under two batchings (padded to the corpus's longest, or bucketed) to time
# an epoch; the lesson makes no accuracy claim, so its recipe was not chosen: batch 32, run_seeds' learning rate.
_STREAM10A = Recipe(2, 2, batch_size=32, learning_rate=3e-3)

_ENTRIES = [
    CourseModel("01 JV last state", "01", "JapaneseVowels", ClassifierSpec(pool="last"), _JV01),
    CourseModel("01 JV flatten", "01", "JapaneseVowels", ClassifierSpec(pool="flatten"), _JV01, FLATTEN_FLAW),
    CourseModel("01 JV average", "01", "JapaneseVowels", ClassifierSpec(), _JV01),
    CourseModel("01 motif last state", "01", "motif task", ClassifierSpec(units=16, pool="last"), _MOTIF01),
    CourseModel("01 motif flatten", "01", "motif task", ClassifierSpec(units=16, pool="flatten"), _MOTIF01,
                FLATTEN_FLAW),
    CourseModel("01 motif average", "01", "motif task", ClassifierSpec(units=16), _MOTIF01),
    CourseModel("03 motif last state", "03", "motif task", ClassifierSpec(units=16, pool="last"), _MOTIF03),
    CourseModel("03 motif average", "03", "motif task", ClassifierSpec(units=16), _MOTIF03),
    CourseModel("03 motif attention pooling", "03", "motif task", ClassifierSpec(units=16, pool="attention"),
                _MOTIF03),
    CourseModel("03 motif SeqWeightedAttention", "03", "motif task", ClassifierSpec(units=16, pool="weighted"),
                _MOTIF03),
    CourseModel("03 JV last state", "03", "JapaneseVowels", ClassifierSpec(units=32, pool="last"), _JV03),
    CourseModel("03 JV attention pooling", "03", "JapaneseVowels", ClassifierSpec(units=32, pool="attention"),
                _JV03),
    CourseModel("04 after", "04", "motif task", _SELF, _MOTIF04),
    CourseModel("04 after + residual", "04", "motif task", _SELF.but(residual=True), _MOTIF04),
    CourseModel("04 before + residual", "04", "motif task", _SELF.but(placement="before", residual=True), _MOTIF04),
    CourseModel("04 after, SeqSelfAttention 0.51.0", "04", "motif task",
                _SELF.but(mixer_options={"layer": SeqSelfAttention}), _MOTIF04, BUG_FLAW),
    CourseModel("04 after, sigmoid", "04", "motif task", _SELF.but(mixer_options={"attention_activation": "sigmoid"}),
                _MOTIF04, SIGMOID_FLAW),
    # the placements' baseline without attention: the same BiLSTM, masked average pooling and recipe
    # (lesson 01's read-out)
    CourseModel("04 no attention (masked average)", "04", "motif task", _SELF.but(mixer=None), _MOTIF04),
    CourseModel("05 dense encoder, residual", "05", "JapaneseVowels", _DENSE_ENCODER, _JV05),
    CourseModel("05 dense encoder, plain", "05", "JapaneseVowels", _DENSE_ENCODER.but(residual=False), _JV05),
    CourseModel("05 4 blocks, residual, post-LN", "05", "JapaneseVowels",
                _DENSE_ENCODER.but(depth=4, mixer_options={"norm": "post"}), _JV05),
    CourseModel("05 4 blocks, residual, pre-LN", "05", "JapaneseVowels",
                _DENSE_ENCODER.but(depth=4, mixer_options={"norm": "pre"}), _JV05),
    *(CourseModel(name, "06", "JapaneseVowels", spec, _CLOSING_RECIPES[name]) for name, spec in CLOSING_SPECS.items()),
    # the ablation keeps the encoder model's recipe, so that only the block differs
    CourseModel("06 block removed", "06", "JapaneseVowels", CLOSING_SPECS["05 BiLSTM + encoder block"].but(depth=0),
                _CLOSING_RECIPES["05 BiLSTM + encoder block"]),
    *(CourseModel(f"06 motif: {name}", "06", "motif task (noisy labels)", spec, _MOTIF06)
      for name, spec in CLOSING_SPECS.items()),
    CourseModel("08 Q003, no mask_zero", "08", "Sentiment Labelled Sentences",
                _Q003.but(mask_zero=False, mixer_options={"layer": SeqSelfAttention}), _Q003_RECIPE,
                NO_MASK_FLAW),
    CourseModel("08 Q003, masked", "08", "Sentiment Labelled Sentences", _Q003, _Q003_RECIPE),
    CourseModel("08 Q003, masked, no attention", "08", "Sentiment Labelled Sentences",
                ClassifierSpec(vocab_size=VOCAB_LIMIT, units=10, pool="last"), _Q003_RECIPE),
    *(CourseModel(name, "08", "Sentiment Labelled Sentences", spec, _TEXT) for name, spec in TEXT_SPECS.items()),
    # Q000's fix chain, one change per entry: Flatten -> average, sigmoid -> none, 0.51.0 -> masked
    CourseModel("07 Q000, as posted", "07", "JapaneseVowels", _Q000.but(pool="flatten", mixer_options={
        "layer": SeqSelfAttention, "attention_type": "multiplicative", "attention_activation": "sigmoid"}),
        CLINIC_RECIPE, Q000_FLAW),
    CourseModel("07 Q000, fix 1: average", "07", "JapaneseVowels", _Q000.but(mixer_options={
        "layer": SeqSelfAttention, "attention_type": "multiplicative", "attention_activation": "sigmoid"}),
        CLINIC_RECIPE, f"{SIGMOID_FLAW}; {BUG_FLAW}"),
    CourseModel("07 Q000, fix 2: no sigmoid", "07", "JapaneseVowels", _Q000.but(mixer_options={
        "layer": SeqSelfAttention, "attention_type": "multiplicative"}), CLINIC_RECIPE, BUG_FLAW),
    CourseModel("07 Q000, fixed", "07", "JapaneseVowels", _Q000, CLINIC_RECIPE),
    CourseModel("07 Q000, no attention", "07", "JapaneseVowels", ClassifierSpec(units=16), CLINIC_RECIPE),
    *(CourseModel(name, "09", "cue task", spec, _CUE09) for name, spec in LABELLING_SPECS.items()),
    CourseModel("09 JV BiLSTM", "09", "JapaneseVowels, concatenated", _JV_PER_STEP, _JV09),
    CourseModel("09 JV BiLSTM + SeqSelfAttention", "09", "JapaneseVowels, concatenated",
                _JV_PER_STEP.but(mixer="self_attention", residual=True, mixer_options=_PORT09), _JV09),
    CourseModel("09 JV SeqSelfAttention, history only", "09", "JapaneseVowels, concatenated",
                _JV_PER_STEP.but(mixer="self_attention", residual=True,
                                 mixer_options={**_PORT09, "history_only": True}),
                _JV09),
    *(CourseModel(name, "10", "motif task; random length-T batches (step cost)" if "self-attention" in name
                  else "random length-T batches (step cost)", spec, _MOTIF10)
      for name, spec in LONG_SEQUENCE_SPECS.items()),
    CourseModel("10c JV average", "10", "JapaneseVowels", ClassifierSpec(), _JV10C),
    CourseModel("10a streamed BiLSTM", "10", "synthetic motif corpus in shards (heavy-tailed lengths)",
                ClassifierSpec(units=16), _STREAM10A),
]
#: Every course model by name.
MODELS: dict[str, CourseModel] = {entry.name: entry for entry in _ENTRIES}
#: The closing comparison's four models (notebook 06, tools/select_recipe.py, tools/bench_training.py).
CLOSING = tuple(CLOSING_SPECS)
#: Lesson 08's models on the balanced sentences, the baseline (masked average) first.
TEXT_MODELS = tuple(TEXT_SPECS)
#: Lesson 09's models on the cue task, the BiLSTM alone first.
LABELLING_MODELS = tuple(LABELLING_SPECS)
assert len(MODELS) == len(_ENTRIES), "registry names must be unique"


def course_model(name: str) -> CourseModel:
    """The registry entry ``name``, or a ValueError that lists the names.

    Args:
        name: a key of :data:`MODELS`.

    Returns:
        The :class:`CourseModel`.

    Raises:
        ValueError: no entry has that name.
    """
    if name not in MODELS:
        raise ValueError(f"no course model named {name!r}; the registry has {sorted(MODELS)}")
    return MODELS[name]


def registry_table(lesson: str | None = None, names=None) -> pd.DataFrame:
    """The entries (of one lesson, or the named ones) as a table: model, architecture, recipe and flaw.

    Args:
        lesson: a lesson such as ``"04"``; None lists every lesson.
        names: the entries to list, by name (they take precedence over ``lesson``).

    Returns:
        A DataFrame indexed by model, with columns ``data``, ``architecture``, ``recipe`` and ``teaching flaw``.

    Raises:
        ValueError: no entries to list.
    """
    entries = [MODELS[n] for n in names] if names is not None else \
        [e for e in MODELS.values() if lesson is None or e.lesson == lesson]
    if not entries:
        raise ValueError(f"no course models for lesson {lesson!r}")
    return pd.DataFrame([{"model": e.name, "data": e.data, "architecture": e.spec.describe(),
                          "recipe": e.recipe.describe() if e.recipe else "missing",
                          "teaching flaw": e.flaw or ""} for e in entries]).set_index("model")
