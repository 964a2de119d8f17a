"""utils.streaming and tools.write_shards: shards round-trip, determinism, the one-shard memory bound, bucketing,
the same predictions under any batching, and a clear ValueError for each kind of bad input."""
import json
import tracemalloc

import keras
import numpy as np
import pytest

from utils.builder import any_length, build_classifier
from utils.streaming import (
    MANIFEST,
    ShardStream,
    all_lengths,
    batch_shapes,
    bucket_batches,
    padded_length,
    padded_share,
    predict_in_order,
    read_manifest,
    shuffled_batches,
    write_manifest,
    write_shard,
    write_shards,
)

SMALL = dict(shard_size=16, seed=3, median_len=10, min_len=8, max_len=40)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    write_shards(folder, 50, **SMALL)   # shards of 16, 16, 16 and 2 sequences
    return folder


def _sequences(folder):
    """Every sequence (float32 steps) and label, in corpus order, read straight from the shards."""
    manifest, sequences, labels = read_manifest(folder), [], []
    for entry in manifest["shards"]:
        with np.load(folder / entry["file"]) as shard:
            X, offsets = shard["X"].astype("float32"), shard["offsets"]
            sequences += [X[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
            labels += list(shard["y"])
    return sequences, np.array(labels)


def _epoch(stream):
    return [stream.batch(i) for i in range(len(stream))]


@pytest.mark.backend_free
@pytest.mark.parametrize("options", [dict(pad="batch", round_to=None), dict(pad="batch", round_to="pow2", bucket=True),
                                     dict(pad="longest", shuffle=False), dict(pad="batch", round_to=16, bucket=True)])
def test_every_sequence_comes_once_per_epoch_with_its_label_and_zero_padding(corpus, options):
    sequences, labels = _sequences(corpus)
    stream = ShardStream(corpus, batch_size=5, seed=1, **options)
    for _ in range(2):   # two epochs
        seen = []
        for ids, X, y in _epoch(stream):
            seen += list(ids)
            assert X.dtype == np.float32 and X.shape[2] == 4
            np.testing.assert_array_equal(y, labels[ids])
            for row, i in zip(X, ids):
                n = len(sequences[i])
                np.testing.assert_array_equal(row[:n], sequences[i])
                assert not row[n:].any()                         # padding is zeros: Masking(0.0) masks it
            if options["pad"] == "longest":
                assert X.shape[1] == stream.longest == max(len(s) for s in sequences)
        assert sorted(seen) == list(range(50))
        if not options.get("shuffle", True):
            assert seen == list(range(50))                       # shuffle=False: file order
        stream.on_epoch_end()
    X, y = stream[0]                                             # what model.fit reads
    assert X.ndim == 3 and y.shape == (len(X),)


@pytest.mark.backend_free
def test_the_corpus_and_its_batches_are_deterministic(corpus, tmp_path):
    again = write_shards(tmp_path / "again", 50, **SMALL)
    assert [s["sha256"] for s in again["shards"]] == [s["sha256"] for s in read_manifest(corpus)["shards"]]
    other = write_shards(tmp_path / "other", 50, **{**SMALL, "seed": 4})
    assert other["shards"][0]["sha256"] != again["shards"][0]["sha256"]
    first, second = (ShardStream(corpus, 4, seed=0, bucket=True) for _ in range(2))
    one, two = _epoch(first), _epoch(second)
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(one, two))
    first.on_epoch_end()
    assert [list(b[0]) for b in _epoch(first)] != [list(b[0]) for b in one]   # a new order every epoch
    assert [list(b[0]) for b in _epoch(ShardStream(corpus, 4, seed=1, bucket=True))] != [list(b[0]) for b in one]


@pytest.mark.backend_free
def test_the_reader_holds_one_shard_at_a_time(tmp_path):
    manifest = write_shards(tmp_path, 2000, shard_size=200, seed=0, max_len=64)   # 10 shards
    stream = ShardStream(tmp_path, 32, seed=0, pad="longest")
    assert stream.shard_loads == 0                               # nothing read before the first batch
    tracemalloc.start()
    for i in range(len(stream)):
        stream[i]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert stream.shard_loads == len(manifest["shards"]) == 10  # each shard loaded once, in order
    shard = max(s["bytes"] for s in manifest["shards"])
    batch = 32 * 64 * 4 * 4
    # one shard (twice while np.load copies it out of the file) and a batch, far below the whole corpus
    assert peak < 3 * shard + 2 * batch < manifest["bytes"] / 2, (peak, shard, manifest["bytes"])
    stream[0], stream[len(stream) - 1], stream[0]                # out of order: right batches, more loads
    assert stream.shard_loads == 13


@pytest.mark.backend_free
def test_bucketing_groups_similar_lengths_and_cuts_the_padding():
    lengths = np.random.default_rng(0).lognormal(np.log(40), 0.8, 3000).astype(int) + 1
    buckets, naive = bucket_batches(lengths, 32, seed=0), shuffled_batches(len(lengths), 32, seed=0)
    for batches in (buckets, naive):
        assert sorted(np.concatenate(batches).tolist()) == list(range(3000))
    assert all(np.array_equal(a, b) for a, b in zip(buckets, bucket_batches(lengths, 32, seed=0)))
    assert padded_share(lengths, buckets) < 0.1 < 0.5 < padded_share(lengths, naive)
    assert padded_share(lengths, naive, pad_to=lengths.max()) > padded_share(lengths, naive)
    exact, pow2 = (len(set(batch_shapes(lengths, buckets, round_to=r))) for r in (None, "pow2"))
    assert pow2 <= 10 < exact                                    # rounding: few shapes, so few compiled steps
    # by hand: batches [0, 1] and [2] of lengths 3, 5, 8 padded to their longest: 2 + 0 + 0 of 10 + 8 steps
    assert padded_share([3, 5, 8], [np.array([0, 1]), np.array([2])]) == pytest.approx(2 / 18)
    assert padded_share([3, 5, 8], [np.array([0, 1]), np.array([2])], pad_to=8) == pytest.approx(8 / 24)
    assert [padded_length(n, r) for n, r in ((5, None), (5, 16), (17, 16), (5, "pow2"), (64, "pow2"))] == \
        [5, 16, 32, 8, 64]


def test_bucketed_batches_give_the_same_predictions_for_the_same_weights(tmp_path):
    """The masked model's predictions do not depend on how much padding a batch carries: padding every batch to the
    corpus's longest and bucketing with per-batch padding give the same probabilities, sequence by sequence."""
    write_shards(tmp_path, 48, **{**SMALL, "max_len": 16})   # full batches of 8, padded to 8 or 16 steps: few
    # batch shapes, so few compiled steps
    naive = ShardStream(tmp_path, 8, seed=0, pad="longest")
    bucketed = ShardStream(tmp_path, 8, seed=0, pad="batch", round_to="pow2", bucket=True)
    keras.utils.set_random_seed(0)
    model = build_classifier(naive, units=4)                    # the builder's masked BiLSTM, average pooling
    flexible = any_length(model)                                 # the same layers and weights, any length
    assert flexible.weights[0] is model.weights[0]
    a, b = predict_in_order(model, naive), predict_in_order(flexible, bucketed)
    assert len({batch[1].shape[1] for batch in _epoch(bucketed)}) > 1   # the batchings really differ
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(a - a[::-1]).max() > 1e-3                      # the predictions differ between sequences
    keras.backend.clear_session()


@pytest.mark.backend_free
def test_bad_input_gets_a_clear_value_error(corpus, tmp_path):
    with pytest.raises(ValueError, match="batch_size"):
        ShardStream(corpus, batch_size=0)
    with pytest.raises(ValueError, match="pad must be"):
        ShardStream(corpus, pad="max")
    with pytest.raises(ValueError, match="round_to"):
        ShardStream(corpus, round_to="fibonacci")
    with pytest.raises(ValueError, match="workers=1"):
        ShardStream(corpus, workers=2)
    with pytest.raises(ValueError, match="bucket=True reorders"):
        ShardStream(corpus, bucket=True, shuffle=False)          # bucketing cannot keep file order
    with pytest.raises(ValueError, match="no manifest.json"):
        ShardStream(tmp_path)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="empty shard"):
        write_shard(tmp_path / "shard-00000.npz", [], [])
    write_shard(tmp_path / "shard-00000.npz", [rng.normal(size=(5, 3))], [0])
    write_shard(tmp_path / "shard-00001.npz", [rng.normal(size=(4, 2))], [1])
    with pytest.raises(ValueError, match="differing feature counts"):
        write_manifest(tmp_path)
    with pytest.raises(ValueError, match="differing feature counts"):
        write_shard(tmp_path / "x.npz", [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))], [0, 1])
    write_shard(tmp_path / "shard-00001.npz", [rng.normal(size=(4, 3))], [1])
    with pytest.raises(ValueError, match="label 1"):
        write_manifest(tmp_path, n_classes=1)                    # labels 0 and 1 need n_classes >= 2
    with pytest.raises(ValueError, match="n_classes must be"):
        write_manifest(tmp_path, n_classes=0)
    assert write_manifest(tmp_path, n_classes=5)["n_classes"] == 5
    manifest = write_manifest(tmp_path)
    assert manifest["n_sequences"] == 2 and manifest["n_features"] == 3 and manifest["n_classes"] == 2
    good = (tmp_path / MANIFEST).read_text()

    def edited(change):
        data = json.loads(good)
        change(data)
        (tmp_path / MANIFEST).write_text(json.dumps(data))

    edited(lambda m: m["shards"][1].update(n_features=2))
    with pytest.raises(ValueError, match="differing feature counts"):
        ShardStream(tmp_path)
    edited(lambda m: m["shards"][1].update(n_sequences=0))
    with pytest.raises(ValueError, match="empty shard"):
        ShardStream(tmp_path)
    edited(lambda m: m.update(format="attention-lstm-course shards 0"))
    with pytest.raises(ValueError, match="format.*tools.write_shards"):
        ShardStream(tmp_path)
    edited(lambda m: m.pop("format"))
    with pytest.raises(ValueError, match="format"):
        read_manifest(tmp_path)
    edited(lambda m: m.pop("n_features"))
    with pytest.raises(ValueError, match="corrupt"):
        ShardStream(tmp_path)
    (tmp_path / MANIFEST).write_text(good[:40])
    with pytest.raises(ValueError, match="corrupt"):
        ShardStream(tmp_path)
    edited(lambda m: m["shards"][1].update(file="shard-00009.npz"))
    with pytest.raises(ValueError, match="missing"):
        ShardStream(tmp_path)
    (tmp_path / MANIFEST).write_text(good)
    stream = ShardStream(tmp_path, 1, shuffle=False)
    stream[0]
    write_shard(tmp_path / "shard-00001.npz", [rng.normal(size=(4, 3))], [1])   # changed after the manifest
    with pytest.raises(ValueError, match="SHA-256 differs"):
        stream[1]
    with pytest.raises(ValueError, match="out of range"):
        stream.batch(2)
    with pytest.raises(ValueError, match="batch_size"):
        bucket_batches([3, 4], 0, seed=0)
    with pytest.raises(ValueError, match="shorter than the longest"):
        padded_share([3, 9], [np.array([0, 1])], pad_to=8)


@pytest.mark.backend_free
@pytest.mark.parametrize("bad, message", [(dict(max_len=4), "max_len must be"), (dict(median_len=0), "median"),
                                          (dict(sigma=-1.0), "sigma"), (dict(dtype="text"), "dtype")])
def test_bad_arguments_leave_the_old_corpus_in_place(tmp_path, bad, message):
    write_shards(tmp_path, 20, **SMALL)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert MANIFEST in before and len(before) == 3                 # the manifest and two shards
    with pytest.raises(ValueError, match=message):
        write_shards(tmp_path, 20, **{**SMALL, **bad})
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.backend_free
def test_the_tool_writes_a_small_corpus(tmp_path, capsys):
    from tools.write_shards import main

    assert main([str(tmp_path), "--sequences", "30", "--shard-size", "10", "--max-len", "64"]) == 0
    assert "wrote 30 sequences" in capsys.readouterr().out
    manifest = read_manifest(tmp_path)
    assert len(manifest["shards"]) == 3 and manifest["longest"] <= 64
    assert len(all_lengths(tmp_path)) == 30
