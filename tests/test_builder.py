"""The one builder: every registry model matches its recorded fingerprint; the spec's validator; every stem,
mixer and pool keeps padding out of the prediction; any_length re-wires a model to any length, but not a Flatten
read-out."""
import json

import keras
import numpy as np
import pytest

import tools.record_fingerprints as fingerprints
from utils.builder import MIXERS, POOLS, STEMS, ClassifierSpec, any_length, build_classifier
from utils.data import make_motif_task
from utils.inspection import PADDING_TOLERANCE, cudnn_problems, lstm_layers, padding_gap
from utils.registry import MODELS, course_model, registry_table

CLOSING = ("01 BiLSTM + average", "03 BiLSTM + attention pooling", "04 BiLSTM + self-attention (residual)",
           "05 BiLSTM + encoder block")


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


def test_lesson06_motif_models_are_the_closing_models():
    for name in CLOSING:
        assert MODELS[f"06 motif: {name}"].spec == MODELS[name].spec


@pytest.fixture(scope="module")
def recorded():
    return json.loads(fingerprints.FILE.read_text())


@pytest.mark.backend_free
def test_every_registry_model_has_a_fingerprint(recorded):
    assert set(recorded) == set(MODELS), (f"missing {sorted(set(MODELS) - set(recorded))}, stale "
                                          f"{sorted(set(recorded) - set(MODELS))}: python -m tools.record_fingerprints")


@pytest.mark.tensorflow_only   # recorded on TensorFlow: each backend draws its own initial weights
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registry_model_matches_its_fingerprint(recorded, name):
    """Same seed, same fixed input: the same parameter count, weight shapes, weight sums and outputs as recorded.
    The builder may change how it builds; the models it builds stay the same. The sums and outputs are compared on
    the Keras release they were recorded on (``make test``'s); on another (``make test-oldest``'s) only the count
    and shapes, because Keras releases have changed how some layers draw their initial weights."""
    from packaging.version import Version

    found = fingerprints.fingerprint(MODELS[name])
    assert found["params"] == recorded[name]["params"]
    assert [w[0] for w in found["weights"]] == [w[0] for w in recorded[name]["weights"]]
    if Version(found["keras"]).release[:2] != Version(recorded[name]["keras"]).release[:2]:
        pytest.skip(f"weights recorded on Keras {recorded[name]['keras']}, this is {found['keras']}: count and "
                    "shapes checked")
    np.testing.assert_allclose([w[1:] for w in found["weights"]], [w[1:] for w in recorded[name]["weights"]],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(found["outputs"], recorded[name]["outputs"], rtol=0, atol=2e-5)


def test_registry_flaws_name_the_teaching_models():
    flawed = {name for name, entry in MODELS.items() if entry.flaw}
    assert flawed == {"01 JV flatten", "01 motif flatten", "04 after, SeqSelfAttention 0.51.0", "04 after, sigmoid",
                      "07 Q000, as posted", "07 Q000, fix 1: average", "07 Q000, fix 2: no sigmoid",
                      "08 Q003, no mask_zero"}
    assert registry_table("08").loc["08 Q003, no mask_zero", "architecture"].startswith(
        "embedding(5000x32, no mask) -> bilstm(10)")
    table = registry_table("04")
    assert table.loc["04 after, sigmoid", "teaching flaw"].startswith("attention_activation='sigmoid'")
    assert table.loc["04 after + residual", "architecture"] == "bilstm(32) -> self_attention+residual -> average"
    with pytest.raises(ValueError, match="no course model named"):
        course_model("07 nothing")


@pytest.mark.parametrize("stem, mixer", [(stem, None) for stem in STEMS] + [("bilstm", m) for m in MIXERS if m]
                         + [("dense", "encoder"), ("conv", "self_attention"), ("none", "attention")])
def test_every_stem_and_mixer_ignores_padding(task, stem, mixer):
    spec = ClassifierSpec(stem=stem, units=8, mixer=mixer,
                          mixer_options={"heads": 2} if mixer == "encoder" else {})
    model = build_classifier(task, spec)
    assert padding_gap(model, task.test.X, task.test.lengths) < PADDING_TOLERANCE
    assert all(cudnn_problems(lstm) == [] for lstm in lstm_layers(model))


@pytest.mark.parametrize("pool", [p for p in POOLS if p not in ("flatten", "none")])   # none: tests/test_labelling.py
def test_every_masked_pool_ignores_padding(task, pool):
    model = build_classifier(task, units=8, pool=pool)
    assert padding_gap(model, task.test.X, task.test.lengths) < PADDING_TOLERANCE


def test_flatten_is_the_pool_that_ties_the_model_to_one_length(task):
    model = build_classifier(task, units=8, pool="flatten")
    with pytest.raises(Exception):   # noqa: B017 - each backend raises its own error type for the shape
        padding_gap(model, task.test.X, task.test.lengths)


def test_any_length_shares_the_layers_and_refuses_a_flatten_read_out(task):
    model = build_classifier(task, units=4)
    flexible = any_length(model)
    assert flexible.input_shape == (None, None, task.n_features) and flexible.weights[0] is model.weights[0]
    assert flexible(np.zeros((2, task.max_len + 5, task.n_features), "float32")).shape == (2, task.n_classes)
    with pytest.raises(ValueError, match=r"Flatten layer\(s\) \['flatten'\].*12 steps.*pool='average'"):
        any_length(build_classifier(task, units=4, pool="flatten"))
    keras.backend.clear_session()


def test_embedding_stem_masks_token_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 10, size=6)
    tokens = np.zeros((6, 12), "int32")
    for row, length in zip(tokens, lengths):
        row[:length] = rng.integers(1, 50, size=length)

    class Tokens:
        max_len, n_classes = 12, 2

    for spec in (ClassifierSpec(vocab_size=50, embedding_dim=8, units=8, mixer="self_attention", pool="attention"),
                 ClassifierSpec(vocab_size=50, embedding_dim=8, stem="conv", units=8, pool="max")):
        model = build_classifier(Tokens(), spec)
        assert model.inputs[0].dtype == "int32"
        assert padding_gap(model, tokens, lengths) < PADDING_TOLERANCE


@pytest.mark.parametrize("fields, message", [
    ({"stem": "transformer"}, "stem must be one of"),
    ({"pool": "sum"}, "pool must be one of"),
    ({"units": 0}, "units must be a whole number >= 1"),
    ({"units": 2.5}, "units must be a whole number"),
    ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
    ({"stem": "dense", "dropout": 0.2}, "recurrent stem's input dropout"),
    ({"mixer": "self_attention", "pool": "last"}, "pool='last' reads the recurrent stem's final state"),
    ({"stem": "dense", "pool": "last"}, "pool='last'"),
    ({"mixer_options": {"heads": 2}}, "describe a mixer"),
    ({"mixer": "encoder", "mixer_options": {"heads": 0}}, r"mixer_options\['heads'\]"),
    ({"mixer": "encoder", "mixer_options": {"norm": "mid"}}, r"mixer_options\['norm'\] must be one of"),
    ({"mixer": "attention", "mixer_options": {"heads": 2}}, "takes options"),
    ({"mixer": "self_attention", "mixer_options": {"layer": keras.layers.Dense}}, "SeqSelfAttention or a subclass"),
    ({"mixer": "encoder", "placement": "before", "stem": "dense"}, "placement='before'"),
    ({"pool": "average", "pool_units": 8}, "pool_units sizes pool='attention'"),
    ({"input_noise": -0.1}, "input_noise"),
    ({"vocab_size": 1}, "vocab_size must be a whole number >= 2"),
])
def test_spec_rejects_bad_fields(fields, message):
    with pytest.raises(ValueError, match=message):
        ClassifierSpec(**fields)


def test_build_rejects_bad_data_and_spec(task):
    with pytest.raises(ValueError, match="data must describe its sequences"):
        build_classifier(object())
    with pytest.raises(ValueError, match="spec must be a ClassifierSpec"):
        build_classifier(task, {"pool": "max"})
    with pytest.raises(ValueError, match="units must be a whole number"):
        build_classifier(task, ClassifierSpec(), units=-1)


def test_spec_describes_itself():
    assert ClassifierSpec(pool="last").describe() == "bilstm(32) -> last"
    spec = ClassifierSpec(stem="dense", mixer="encoder", depth=4)
    assert spec.describe() == "dense(32) -> 4 x encoder+residual -> average"
    assert spec.but(depth=0).describe() == "dense(32) -> 0 x encoder+residual -> average"
