"""The clinic (utils.diagnose): each deliberately broken model is flagged by the check named for its fault,
with measured evidence; the course's correct models raise no warning; bad input gets a ValueError.

The models are tiny and, except where a check needs a trained model, untrained."""
import warnings

import keras
import numpy as np
import pytest
from keras import layers

from utils.diagnose import WARNING, diagnose
from utils.pooling import AttentionPooling
from utils.self_attention import SeqSelfAttention

T, F, K = 12, 3, 3   # steps, features, classes


def _data(n_train=60, n_test=24, seed=0):
    """Right-padded sequences of lengths 4..T, standardised-looking, K balanced classes."""
    rng = np.random.default_rng(seed)

    def part(n):
        lengths = rng.integers(4, T + 1, n)
        X = rng.normal(size=(n, T, F)).astype(np.float32) * (np.arange(T)[None, :] < lengths[:, None])[..., None]
        return X, (np.arange(n) % K).astype(np.int32)

    return (*part(n_train), *part(n_test))


DATA = _data()


def _masked(x=None):
    inputs = keras.Input((T, F))
    return inputs, layers.Masking(0.0)(inputs)


def _head(inputs, x, units=K, activation="softmax"):
    return keras.Model(inputs, layers.Dense(units, activation=activation)(x))


def _bilstm(x, sequences=True, **options):
    return layers.Bidirectional(layers.LSTM(4, return_sequences=sequences, **options))(x)


def good():
    inputs, x = _masked()
    return _head(inputs, layers.GlobalAveragePooling1D()(_bilstm(x)))


def compiled(model, loss="sparse_categorical_crossentropy"):
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


# ------------------------------------------------------------------------------------------ broken models

def flatten_head():                                   # Q000's Masking -> BiLSTM -> Flatten
    inputs, x = _masked()
    return _head(inputs, layers.Flatten()(_bilstm(x)))


def dense_per_step():                                 # Q003: SeqSelfAttention -> Dense(1) on the sequence
    inputs, x = _masked()
    return _head(inputs, SeqSelfAttention(units=4)(_bilstm(x)), units=1, activation="sigmoid")


def no_mask():
    inputs = keras.Input((T, F))
    return _head(inputs, layers.GlobalAveragePooling1D()(_bilstm(inputs)))


def conv_drops_mask():                                # a Conv1D between the mask and the pooling
    inputs, x = _masked()
    x = layers.Conv1D(4, 3, padding="same")(_bilstm(x))
    return _head(inputs, layers.GlobalAveragePooling1D()(x))


def seq_self_attention_051():                         # the package's masking: real queries see padding
    inputs, x = _masked()
    return _head(inputs, layers.GlobalAveragePooling1D()(SeqSelfAttention(units=4)(_bilstm(x))))


def sigmoid_attention():                              # seeds 000/001
    inputs, x = _masked()
    from utils.self_attention import MaskedSeqSelfAttention
    x = MaskedSeqSelfAttention(units=4, attention_activation="sigmoid")(_bilstm(x))
    return _head(inputs, layers.GlobalAveragePooling1D()(x))


def single_vector():                                  # attention over the LSTM's last state only
    inputs, x = _masked()
    q = layers.Reshape((1, 8))(_bilstm(x, sequences=False))
    return _head(inputs, layers.GlobalAveragePooling1D()(layers.Attention()([q, q])))


def binary_loss_on_softmax():                         # Q004
    return compiled(good(), "binary_crossentropy")


def sigmoid_with_categorical_loss():
    inputs, x = _masked()
    return compiled(_head(inputs, layers.GlobalAveragePooling1D()(_bilstm(x)), activation="sigmoid"),
                    "categorical_crossentropy")


def softmax_one_unit():
    inputs, x = _masked()
    return compiled(_head(inputs, layers.GlobalAveragePooling1D()(_bilstm(x)), units=1), "binary_crossentropy")


def logits_twice():
    return compiled(good(), keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def too_few_units():
    inputs, x = _masked()
    return compiled(_head(inputs, layers.GlobalAveragePooling1D()(_bilstm(x)), units=K - 1))


def recurrent_dropout():                              # Q004
    inputs, x = _masked()
    return _head(inputs, _bilstm(x, sequences=False, recurrent_dropout=0.2))


def flat_after_training():                            # attention pooling that learned nothing
    inputs, x = _masked()
    model = _head(inputs, AttentionPooling(name="pool")(_bilstm(x)))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    model.fit(DATA[0][:8], DATA[1][:8], epochs=1, verbose=0)
    pool = model.get_layer("pool")
    pool.set_weights([np.zeros_like(w) for w in pool.get_weights()])
    return model


BROKEN = {   # model -> (the check that must warn, text its evidence must hold)
    flatten_head: ("flatten head", "absolute positions"),
    dense_per_step: ("sequence head", "per sequence"),
    no_mask: ("padding leak", "no Masking"),
    conv_drops_mask: ("padding leak", "conv1d"),
    seq_self_attention_051: ("padding attention", "% of its weight on padded steps"),
    sigmoid_attention: ("sigmoid attention", "times its smallest"),
    single_vector: ("single vector", "1 key"),
    binary_loss_on_softmax: ("loss and labels", "binary accuracy"),
    sigmoid_with_categorical_loss: ("loss and labels", "sigmoids"),
    softmax_one_unit: ("loss and labels", "single unit"),
    logits_twice: ("loss and labels", "from_logits=True"),
    too_few_units: ("loss and labels", f"{K - 1} units"),
    recurrent_dropout: ("recurrent dropout", "ms"),
    flat_after_training: ("flat attention", "normalised entropy 1.000"),
}


# The checks read layers and outputs the same way on every backend; on JAX each diagnosis costs seconds of
# compilation, so the JAX run keeps one broken model per kind of check.
#: The JAX run's share: a mask check, an attention check, a loss check and a trained-model check.
ON_JAX_TOO = {no_mask, seq_self_attention_051, binary_loss_on_softmax, flat_after_training}


@pytest.mark.parametrize("make", [make if make in ON_JAX_TOO else pytest.param(make, marks=pytest.mark.tensorflow_only)
                                  for make in BROKEN], ids=lambda f: f.__name__)
def test_each_broken_model_is_flagged_by_its_check_with_evidence(make):
    check, evidence = BROKEN[make]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # Keras' own Flatten/Conv1D mask warning
        report = diagnose(make(), DATA)
    finding = report.get(check)
    assert finding.status == WARNING, str(report)
    assert evidence in finding.evidence and finding.why and finding.fix
    assert not report.checks() & {"NaN or inf", "class imbalance", "train/test duplicates"}   # the data is fine
    keras.backend.clear_session()


def test_a_correct_model_raises_no_warning_and_checks_that_cannot_run_say_so():
    report = diagnose(compiled(good()), DATA)
    assert report.warnings == [], str(report)
    assert report.get("padding attention").status == "cannot run"    # no attention layer to read
    assert report.get("padding leak").value < 1e-5
    assert set(report.frame.status) <= {"ok", "info", "cannot run"}


# --------------------------------------------------------------------------------------------- bad data

def _with(change):
    X, y, Xt, yt = (a.copy() for a in DATA)
    change(X, y, Xt, yt)
    return X, y, Xt, yt


DATA_FAULTS = {
    "NaN or inf": lambda X, y, Xt, yt: X.__setitem__((0, 0, 0), np.nan),
    "all-zero real steps": lambda X, y, Xt, yt: X.__setitem__((1, 1), 0.0),
    "constant features": lambda X, y, Xt, yt: X.__setitem__((slice(None), slice(None), 2), 0.0),
    "feature scale": lambda X, y, Xt, yt: X.__setitem__((slice(None), slice(None), 0), X[:, :, 0] * 1000),
    "class imbalance": lambda X, y, Xt, yt: y.__setitem__(slice(0, 50), 0),
    "examples per class": lambda X, y, Xt, yt: y.__setitem__(slice(0, 55), np.arange(55) % 2),
    "train/test duplicates": lambda X, y, Xt, yt: Xt.__setitem__(slice(0, 3), X[:3]),
}


@pytest.mark.parametrize("check", list(DATA_FAULTS))
def test_each_data_fault_is_flagged(check):
    from utils.diagnose.data_checks import as_data, data_checks

    findings = {f.check: f for f in data_checks(as_data(_with(DATA_FAULTS[check])), 0.0)}
    assert findings[check].status == WARNING and findings[check].value, findings[check]
    clean = {f.check: f for f in data_checks(as_data(DATA), 0.0)}
    assert all(f.status != WARNING for f in clean.values()), clean


def test_left_padding_is_flagged():
    from utils.diagnose.data_checks import as_data, data_checks

    X, y, Xt, yt = DATA
    left = np.stack([np.roll(x, T - int(np.any(x != 0, axis=1).sum()), axis=0) for x in X])
    findings = {f.check: f for f in data_checks(as_data((left, y, Xt, yt)), 0.0)}
    assert findings["left padding"].status == WARNING and findings["left padding"].value > 0.5
    assert findings["all-zero real steps"].status != WARNING   # leading padding is not an interior zero step


# -------------------------------------------------------------------------------------------- bad input

def test_bad_input_gets_a_clear_value_error():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="needs a Keras model"):
        diagnose(LogisticRegression(), DATA)
    with pytest.raises(ValueError, match="rank 2"):
        diagnose(good(), (DATA[0][:, :, 0], DATA[1]))
    with pytest.raises(ValueError, match="unequal train split"):
        diagnose(good(), (DATA[0][0], DATA[1]))
    inputs = keras.Input((T, F))
    with pytest.raises(ValueError, match="not a classifier"):
        diagnose(keras.Model(inputs, layers.Reshape((T, F, 1))(inputs)), DATA)
    u = keras.Input((8,))
    two = keras.Model([u, inputs], layers.Dense(K)(layers.Concatenate()([u, layers.Flatten()(inputs)])))
    with pytest.raises(ValueError, match="2 inputs"):
        diagnose(two, DATA)
    with pytest.raises(ValueError, match="features per step"):
        diagnose(good(), (DATA[0][:, :, :2], DATA[1]))


# -------------------------------------------------------------------------------- the course's registry

def _registry_data():
    from utils.data import load_japanese_vowels, make_motif_task

    jv = load_japanese_vowels()
    from utils.labelling import concatenated_vowels, make_cue_task
    from utils.text import load_text_dataset

    motif = make_motif_task(120, 40, min_len=12, max_len=20, motif_len=4, seed=0)
    return {"JapaneseVowels": jv, "motif task": motif, "motif task (noisy labels)": motif,
            "Sentiment Labelled Sentences": load_text_dataset(), "cue task": make_cue_task(120, 40, seed=0),
            "JapaneseVowels, concatenated": concatenated_vowels(60, 20, seed=0),
            # lesson 10: the step-cost models see random batches, the window pair the motif task, the streamed model
            # a motif corpus of 4 features and 4 classes on disk; a small motif task of the same shape stands in
            "random length-T batches (step cost)": motif, "motif task; random length-T batches (step cost)": motif,
            "synthetic motif corpus in shards (heavy-tailed lengths)": make_motif_task(
                120, 40, min_len=12, max_len=20, motif_len=4, n_classes=4, n_features=4, seed=0)}


#: What the data checks truly find in the course's data sets: short reviews ("Great phone.") recur across sources,
#: so a seeded split puts some identical sentences on both sides.
#: In the cue task most steps are "other": the class-imbalance warning is true (lesson 09a reports macro F1 for it).
DATA_FINDINGS = {"Sentiment Labelled Sentences": {"train/test duplicates"}, "cue task": {"class imbalance"}}


@pytest.mark.tensorflow_only
def test_every_registry_model_gets_no_warning_and_a_flawed_one_gets_exactly_its_flaw():
    from utils.keras_ops import architecture_key
    from utils.registry import BUG_FLAW, FLATTEN_FLAW, MODELS, NO_MASK_FLAW, Q000_FLAW, SIGMOID_FLAW

    expected = {None: set(), FLATTEN_FLAW: {"flatten head"}, SIGMOID_FLAW: {"sigmoid attention"},
                BUG_FLAW: {"padding attention", "padding leak"}, NO_MASK_FLAW: {"padding attention", "padding leak"},
                Q000_FLAW: {"flatten head", "sigmoid attention", "padding attention"},
                f"{SIGMOID_FLAW}; {BUG_FLAW}": {"sigmoid attention", "padding attention", "padding leak"}}
    data_findings = DATA_FINDINGS
    data, seen = _registry_data(), set()
    for entry in MODELS.values():
        model = entry.build(data[entry.data])
        key = (entry.data, entry.flaw, architecture_key(model))
        if key in seen:       # the same architecture on the same data: diagnosed once
            continue
        seen.add(key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            report = diagnose(model, data[entry.data])
        assert report.checks() == (expected[entry.flaw]
                                   | data_findings.get(entry.data, set())), f"{entry.name}:\n{report}"
    assert len(seen) >= 10
    keras.backend.clear_session()


# ------------------------------------------------------------------------ the shipped example and the CLI

@pytest.mark.tensorflow_only
def test_the_command_line_prints_a_report_for_the_shipped_example(capsys):
    from utils.data import DATA_DIR, verified_path
    from utils.diagnose.cli import main

    model, data = verified_path(DATA_DIR, "clinic_example_model.keras"), verified_path(DATA_DIR, "clinic_example.npz")
    assert main([str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert "Clinic report: model 'learner_model' on clinic_example" in out
    for check in ("padding attention", "loss and labels", "class imbalance"):
        assert f"!! {check}:" in out, out


def test_a_legacy_file_that_does_not_load_names_the_workaround(tmp_path):
    from utils.saved_models import load_model

    broken = tmp_path / "old.h5"
    broken.write_bytes(b"not an HDF5 file")
    with pytest.raises(ValueError, match="rebuild the model in code.*load_weights"):
        load_model(broken)
    with pytest.raises(ValueError, match="does not exist"):
        load_model(tmp_path / "missing.keras")


def test_before_after_shows_a_fix_evidence():
    from utils.diagnose import before_after

    before, after = diagnose(seq_self_attention_051(), DATA), diagnose(good(), DATA)
    table = before_after(before, after)
    assert table.loc["padding attention", "before"] == WARNING and table.loc["padding attention", "value before"] > 0
    assert table.loc["padding leak", "after"] == "ok"
    with pytest.raises(ValueError, match="neither report"):
        before_after(before, after, ["no such check"])


def test_attempt_reports_raises_warns_and_runs():
    from utils.exercises.lesson07 import attempt

    assert attempt("keras.optimizers.Adam(lr=0.1)").startswith("raises ValueError")
    assert attempt("keras.optimizers.SGD(learning_rate=0.1, decay=0.1)").startswith("warns: Argument `decay`")
    assert attempt("keras.optimizers.Adam(learning_rate=0.1)") == "runs silently"


def test_a_labeller_is_told_apart_from_a_classifier_with_a_per_step_head():
    """Per-step labels and a per-step head: a sequence labeller, no warning. The same head on one label per sequence,
    or a pooled head on per-step labels: the "sequence head" warning."""
    from utils.builder import build_classifier
    from utils.data import make_motif_task
    from utils.labelling import make_cue_task

    cue = make_cue_task(48, 16, min_len=12, max_len=16, distance=(1, 4), target_len=3, seed=0)
    labeller = build_classifier(cue, units=4, pool="none")
    report = diagnose(labeller, cue)
    assert report.get("sequence head").status == "ok" and "labeller" in report.get("sequence head").evidence
    assert report.get("padding leak").status == "ok"
    as_classifier = (cue.train.X, cue.train.y[:, 0], cue.test.X, cue.test.y[:, 0])   # one label per sequence
    assert "sequence head" in diagnose(labeller, as_classifier).checks()
    pooled = build_classifier(make_motif_task(16, 8, min_len=12, max_len=16, n_features=cue.n_features, seed=0),
                              units=4)
    assert "sequence head" in diagnose(pooled, (cue.train.X, cue.train.y, cue.test.X, cue.test.y)).checks()
