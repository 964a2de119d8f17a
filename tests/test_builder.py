"""The one builder: every registry model equals the model the old builders made; the spec's validator;
every stem, mixer and pool keeps padding out of the prediction."""
import keras
import numpy as np
import pytest

import legacy_builders as old
from utils.builder import MIXERS, POOLS, STEMS, ClassifierSpec, build_classifier
from utils.data import make_motif_task
from utils.models import PADDING_TOLERANCE, cudnn_problems, lstm_layers, padding_gap
from utils.registry import MODELS, course_model, registry_table
from utils.runtime import set_seed
from utils.self_attention import SeqSelfAttention

CLOSING_LEGACY = {
    "01 BiLSTM + average": lambda d: old.build_bilstm_classifier(d, readout="average", units=32),
    "03 BiLSTM + attention pooling": lambda d: old.build_attention_pooling_classifier(d, units=32),
    "04 BiLSTM + self-attention (residual)": lambda d: old.build_self_attention_classifier(
        d, placement="after", residual=True, units=32, attention_type="multiplicative"),
    "05 BiLSTM + encoder block": lambda d: old.build_encoder_classifier(
        d, front="bilstm", units=32, depth=1, heads=4, dropout=0.2, input_noise=0.2),
}
#: How the notebooks, tools and solutions built each registry model before the one builder.
LEGACY = {
    **{f"01 JV {name}": (lambda d, r=readout: old.build_bilstm_classifier(d, r, units=32))
       for name, readout in (("last state", "last"), ("flatten", "flatten"), ("average", "average"))},
    **{f"01 motif {name}": (lambda d, r=readout: old.build_bilstm_classifier(d, r, units=16))
       for name, readout in (("last state", "last"), ("flatten", "flatten"), ("average", "average"))},
    "03 motif last state": lambda d: old.build_bilstm_classifier(d, "last", units=16),
    "03 motif average": lambda d: old.build_bilstm_classifier(d, "average", units=16),
    "03 motif attention pooling": lambda d: old.build_attention_pooling_classifier(d, units=16),
    "03 motif SeqWeightedAttention": lambda d: old.build_seq_weighted_attention_classifier(d, units=16),
    "03 JV last state": lambda d: old.build_bilstm_classifier(d, "last", units=32),
    "03 JV attention pooling": lambda d: old.build_attention_pooling_classifier(d, units=32),
    "04 after": lambda d: old.build_self_attention_classifier(d, "after", False, units=32),
    "04 after + residual": lambda d: old.build_self_attention_classifier(d, "after", True, units=32),
    "04 before + residual": lambda d: old.build_self_attention_classifier(d, "before", True, units=32),
    "04 after, SeqSelfAttention 0.51.0": lambda d: old.build_self_attention_classifier(
        d, "after", False, units=32, attention_cls=SeqSelfAttention),
    "04 after, sigmoid": lambda d: old.build_self_attention_classifier(d, "after", units=32,
                                                                       attention_activation="sigmoid"),
    "04 no attention (masked average)": lambda d: old.build_bilstm_classifier(d, "average", units=32),
    "05 dense encoder, residual": lambda d: old.build_encoder_classifier(d, front="dense", units=32, depth=1,
                                                                        residual=True, norm="none"),
    "05 dense encoder, plain": lambda d: old.build_encoder_classifier(d, front="dense", units=32, depth=1,
                                                                     residual=False, norm="none"),
    "05 4 blocks, residual, post-LN": lambda d: old.build_encoder_classifier(d, front="dense", units=32, depth=4,
                                                                            residual=True, norm="post"),
    "05 4 blocks, residual, pre-LN": lambda d: old.build_encoder_classifier(d, front="dense", units=32, depth=4,
                                                                           residual=True, norm="pre"),
    **CLOSING_LEGACY,
    "06 block removed": lambda d: old.build_encoder_classifier(d, front="bilstm", units=32, depth=0, dropout=0.2,
                                                               input_noise=0.2),
    **{f"06 motif: {name}": build for name, build in CLOSING_LEGACY.items()},
}


@pytest.fixture(scope="module")
def task():
    return make_motif_task(16, 8, min_len=6, max_len=12, motif_len=3, seed=0)


def test_every_registry_model_has_its_old_builder():
    # lesson 08 was written on the one builder: its models never had an old one
    # lessons 07 and 08 came after the one builder: their models never had an old builder
    assert set(LEGACY) == {name for name, entry in MODELS.items() if entry.lesson not in ("07", "08")}


def test_lesson06_motif_models_are_the_closing_models():
    for name in CLOSING_LEGACY:
        assert MODELS[f"06 motif: {name}"].spec == MODELS[name].spec


# once: both builders run on the same backend and are compared weight for weight; which backend does not matter
@pytest.mark.once
@pytest.mark.parametrize("name", sorted(n for n in LEGACY if not n.startswith("06 motif:")))
def test_new_builder_reproduces_the_old_one(task, name):
    """Same seed, same weights count, same outputs on fixed input: the old and the new model are one model."""
    set_seed(0)
    before = LEGACY[name](task)
    set_seed(0)
    after = MODELS[name].build(task)
    assert after.count_params() == before.count_params()
    for a, b in zip(after.get_weights(), before.get_weights()):
        np.testing.assert_array_equal(a, b)
    # old and new encoder blocks differ in one way: the old one asked MultiHeadAttention for its scores on every
    # pass, which made Keras skip its fused attention kernel; the outputs agree to float tolerance
    np.testing.assert_allclose(after(task.test.X), before(task.test.X), rtol=0, atol=1e-6)


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


@pytest.mark.parametrize("pool", [p for p in POOLS if p != "flatten"])
def test_every_masked_pool_ignores_padding(task, pool):
    model = build_classifier(task, units=8, pool=pool)
    assert padding_gap(model, task.test.X, task.test.lengths) < PADDING_TOLERANCE


def test_flatten_is_the_pool_that_ties_the_model_to_one_length(task):
    model = build_classifier(task, units=8, pool="flatten")
    with pytest.raises(Exception):
        padding_gap(model, task.test.X, task.test.lengths)


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
    ({"mixer": "encoder", "placement": "before"}, "placement='before'"),
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


def _padded_batch(seed=0, features=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 9, features)).astype("float32")
    lengths = np.array([9, 5, 2])
    mask = np.arange(9)[None, :] < lengths[:, None]
    x[~mask] = 0.0
    return x, mask


@pytest.mark.parametrize("options", [{}, {"attention_type": "multiplicative"}, {"attention_width": 3},
                                     {"history_only": True}, {"history_only": True, "attention_width": 2},
                                     {"attention_activation": "sigmoid"}])
def test_one_masked_softmax_gives_the_old_weights(options):
    """The layers now share utils.pooling.masked_softmax; the old -10000 arithmetic gave the same weights.

    The port agrees on every row. The fix agrees on every row without a local/causal window; with one, on every
    real query: a padded query whose window holds only padding now gets an all-zero row, where the -10000
    arithmetic spread it over keys outside its window. No real output reads those rows.
    """
    from utils.self_attention import MaskedSeqSelfAttention

    x, mask = _padded_batch()
    for cls, legacy in ((SeqSelfAttention, old.legacy_port_weights), (MaskedSeqSelfAttention, old.legacy_masked_weights)):
        layer = cls(units=4, return_attention=True, **options)
        _, weights = layer(x, mask=mask)
        before = legacy(layer, layer._scores(x), mask)
        if cls is SeqSelfAttention:
            np.testing.assert_array_equal(np.asarray(weights), np.asarray(before))  # bit for bit
        else:
            rows = mask if layer.attention_width is not None else np.ones_like(mask)
            np.testing.assert_allclose(np.asarray(weights)[rows], np.asarray(before)[rows], rtol=0, atol=1e-7)


def test_seq_weighted_attention_agrees_with_its_old_arithmetic():
    from utils.pooling import SeqWeightedAttention

    x, mask = _padded_batch(1)
    layer = SeqWeightedAttention(return_attention=True)
    _, weights = layer(x, mask=mask)
    before = old.legacy_seq_weighted_weights(x, layer.W, layer.b, mask)
    # the old denominator added 1e-7 to a sum >= 1: at most one float32 rounding step apart
    np.testing.assert_allclose(np.asarray(weights), np.asarray(before), rtol=2.5e-7, atol=0)
    assert np.all(np.asarray(weights)[~mask] == 0.0)
