import math

import keras
import numpy as np
import pytest

from utils.builder import any_length, build_classifier
from utils.data import make_motif_task
from utils.keras_ops import masked_softmax
from utils.probe import attention_weights
from utils.sequence_cost import fit_exponent, global_dtype_policy, step_cost

TASK = make_motif_task(4, 4, min_len=12, max_len=12, n_classes=3, n_features=3, seed=0)   # 12 steps, 3 features
ATTENTION = {"stem": "dense", "units": 4, "mixer": "self_attention",
             "mixer_options": {"attention_type": "multiplicative"}}


def small_attention():
    """A cheap model whose memory has a T x T part (a dense stem and multiplicative self-attention), any length."""
    return any_length(build_classifier(TASK, **ATTENTION))


# --- step_cost -------------------------------------------------------------------------------------------------


def test_step_cost_is_positive_and_memory_grows_with_T():
    model = small_attention()
    costs = [step_cost(model, T, batch_size=2, repeats=2) for T in (16, 64)]
    for cost in costs:
        assert cost.seconds > 0 and math.isfinite(cost.seconds) and len(cost.runs) == 2
        assert cost.compile_seconds > 0 and cost.backend == keras.backend.backend()
    if keras.backend.backend() == "jax":
        small, large = costs
        assert small.memory_bytes > 0 and large.memory_bytes > 2 * small.memory_bytes   # 4x the length: T x T
        assert large.memory_bytes == (large.temp_bytes + large.argument_bytes + large.output_bytes
                                      - large.alias_bytes)
        assert "memory_analysis" in large.note and "planned" in large.note
    else:   # TensorFlow reports a GPU's measured peak, and no memory on a CPU
        import tensorflow as tf

        if tf.config.list_logical_devices("GPU"):
            assert all(cost.memory_bytes > 0 for cost in costs) and "GPU's peak" in costs[0].note
        else:
            assert all(math.isnan(cost.memory_bytes) for cost in costs) and "GPU only" in costs[0].note
    keras.backend.clear_session()


def test_step_cost_leaves_the_weights_unchanged_and_takes_a_per_step_head():
    model = build_classifier(TASK, stem="dense", units=2, pool="none")   # a labeller: labels (batch, T); T fixed
    before = model.get_weights()
    assert step_cost(model, TASK.max_len, batch_size=2, repeats=1, warmup=0).seconds > 0
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    keras.backend.clear_session()


def test_step_cost_rejects_bad_input():
    model = small_attention()
    with pytest.raises(ValueError, match="T must be a whole number >= 1"):
        step_cost(model, 0)
    with pytest.raises(ValueError, match="batch_size"):
        step_cost(model, 8, batch_size=0)
    with pytest.raises(ValueError, match="length T=16.*any_length"):
        step_cost(build_classifier(TASK, **ATTENTION), 16)   # a model built for T=12
    with pytest.raises(ValueError, match="Keras model"):
        step_cost(lambda T: model, 8)   # a function T -> model is not taken
    keras.backend.clear_session()


# --- fit_exponent ----------------------------------------------------------------------------------------------


@pytest.mark.backend_free
def test_fit_exponent_recovers_a_known_exponent_above_a_fixed_cost():
    T = 2 ** np.arange(4, 12)
    rng = np.random.default_rng(0)
    cost = (5.0 + 1e-3 * T ** 2.0) * np.exp(rng.normal(0, 0.02, T.size))   # a fixed cost hides T^2 at small T
    fit = fit_exponent(T, cost, points=3)
    assert fit.exponent == pytest.approx(2.0, abs=0.1)
    assert (fit.T_low, fit.T_high, fit.points) == (512, 2048, 3)
    assert fit_exponent(T, cost).points == 4                       # default: the larger half
    assert fit_exponent(T, cost, points=8).exponent < 1.7          # all lengths: the fixed cost drags the slope
    assert fit_exponent([4, 2, 1], [16.0, 4.0, 1.0], points=2).exponent == pytest.approx(2.0)   # any order
    assert "exponent 2.00" in fit_exponent([1, 2, 4], [1.0, 4.0, 16.0], points=3).describe()


@pytest.mark.backend_free
@pytest.mark.parametrize("T, cost, points, message", [
    ([], [], None, "non-empty"),
    ([1, 2, 4], [1.0, 2.0], None, "same length"),
    ([0, 2, 4], [1.0, 2.0, 3.0], None, "whole number >= 1"),
    ([1.5, 2, 4], [1.0, 2.0, 3.0], None, "whole number >= 1"),
    ([1, 2, 4], [1.0, float("nan"), 3.0], None, "finite and > 0"),
    ([1, 2, 4], [1.0, 0.0, 3.0], None, "finite and > 0"),
    ([8, 8, 8], [1.0, 2.0, 3.0], None, "2 distinct"),
    ([1, 2, 4], [1.0, 2.0, 3.0], 1, "points"),
    ([1, 2, 4], [1.0, 2.0, 3.0], 4, "points"),
    ([1, 4, 4], [1.0, 2.0, 3.0], 2, "largest lengths"),
])
def test_fit_exponent_rejects_bad_input(T, cost, points, message):
    with pytest.raises(ValueError, match=message):
        fit_exponent(T, cost, points=points)


# --- masking under a mixed precision policy --------------------------------------------------------------------


@pytest.fixture
def mixed_bfloat16():
    """The global policy set to mixed_bfloat16 for one test, and float32 (or what it was) restored after it."""
    with global_dtype_policy("mixed_bfloat16"):
        yield
    assert keras.config.dtype_policy().name != "mixed_bfloat16"


def test_masked_softmax_computes_half_precision_in_float32():
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 3, (4, 64)).astype("float32")
    mask = np.arange(64)[None, :] < np.array([64, 40, 9, 1])[:, None]
    half = masked_softmax(keras.ops.cast(scores, "bfloat16"), mask)
    assert keras.backend.standardize_dtype(half.dtype) == "bfloat16"
    in_float32 = masked_softmax(keras.ops.cast(keras.ops.cast(scores, "bfloat16"), "float32"), mask)
    expected = keras.ops.convert_to_numpy(keras.ops.cast(in_float32, "bfloat16"))   # rounded once, at the end
    assert np.array_equal(keras.ops.convert_to_numpy(half), expected)
    assert np.all(keras.ops.convert_to_numpy(keras.ops.cast(half, "float32"))[~mask] == 0)
    plain = masked_softmax(scores, mask)                                  # float32 stays float32
    assert keras.backend.standardize_dtype(plain.dtype) == "float32"


def padded_batch():
    """Four sequences of 12, 9, 6 and 3 real steps, zero-padded to 12 (the builder's Masking layer masks 0)."""
    lengths = np.array([12, 9, 6, 3])
    rng = np.random.default_rng(0)
    real = np.arange(12)[None, :] < lengths[:, None]
    return lengths, np.where(real[..., None], rng.normal(size=(4, 12, 3)) + 2.0, 0.0).astype("float32")


def test_padding_gets_exactly_zero_attention_under_mixed_bfloat16(mixed_bfloat16):
    lengths, X = padded_batch()
    keras.utils.set_random_seed(0)
    model = build_classifier(TASK, **{**ATTENTION, "pool": "attention"})
    assert model.get_layer("self_attention").compute_dtype == "bfloat16"
    self_weights = attention_weights(model, X, layer="self_attention")[:, 0]       # (N, query, key)
    pool_weights = attention_weights(model, X, layer="attention_pooling")          # (N, T)
    assert self_weights.dtype.name == "bfloat16" and pool_weights.dtype.name == "bfloat16"
    self_weights, pool_weights = self_weights.astype("float32"), pool_weights.astype("float32")
    for i, n in enumerate(lengths):
        assert np.all(self_weights[i, :n, n:] == 0) and np.all(pool_weights[i, n:] == 0)   # exactly 0
        np.testing.assert_allclose(self_weights[i, :n].sum(-1), 1.0, atol=0.02)          # bfloat16 rounding
        assert pool_weights[i, :n].sum() == pytest.approx(1.0, abs=0.02)
    keras.backend.clear_session()


def test_multi_head_attention_gives_padding_exactly_zero_under_mixed_bfloat16(mixed_bfloat16):
    """Keras' MultiHeadAttention (the course's encoder mixer, as lesson 10b's model has it) has its own masked
    softmax (keras.layers.Softmax): under bfloat16 too, a real query gives a padded key exactly 0."""
    lengths, X = padded_batch()
    keras.utils.set_random_seed(0)
    model = build_classifier(TASK, stem="dense", units=4, mixer="encoder",
                             mixer_options={"attention": "mha", "heads": 1, "ff_units": 0, "norm": "none"})
    [name] = [layer.name for layer in model.layers if isinstance(layer, keras.layers.MultiHeadAttention)]
    assert model.get_layer(name).compute_dtype == "bfloat16"
    weights = attention_weights(model, X, layer=name)                   # (N, heads, query, key)
    assert weights.dtype.name == "bfloat16"
    weights = weights[:, 0].astype("float32")
    for i, n in enumerate(lengths):
        assert np.all(weights[i, :n, n:] == 0)                           # exactly 0
        np.testing.assert_allclose(weights[i, :n].sum(-1), 1.0, atol=0.02)
    keras.backend.clear_session()
