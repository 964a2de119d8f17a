"""The text pipeline of lesson 08: checksummed data, splits, a vocabulary from the training split only, bad
input, the bag-of-words peer, occlusion, and masking (padded tokens get zero attention)."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from utils.builder import ClassifierSpec, build_classifier
from utils.data import DATA_DIR, sha256
from utils.text import (
    OOV,
    PAD,
    SOURCE_FILES,
    TEXT_DIR,
    VOCAB_LIMIT,
    cross_source_split,
    keep_one_in,
    load_sentences,
    sentences,
    stratified_split,
    token_ids,
    vectorize,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def all_sentences():
    return load_sentences()


@pytest.fixture(scope="module")
def small(all_sentences):
    """About 150 training and 70 test sentences from all three sources."""
    train, rest = stratified_split(all_sentences, test_size=0.95, seed=0)
    return vectorize(train, rest.take(range(0, len(rest), 40)))


@pytest.mark.backend_free
def test_data_files_match_their_checksums_and_the_notebook_reads_only_data():
    listed = {}
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for filename in SOURCE_FILES.values():
        name = f"{TEXT_DIR}/{filename}"
        assert listed[name] == sha256(DATA_DIR / name), name
    notebook = (ROOT / "notebooks" / "08_text_attention.ipynb").read_text()
    assert "shared/" not in notebook and "SentimentLabelledSentences" not in notebook


def test_loader_reads_three_balanced_sources(all_sentences):
    assert len(all_sentences) == 3000
    table = all_sentences.counts()
    assert table.values.tolist() == [[500, 500]] * 3
    assert all(isinstance(t, str) and t.strip() for t in all_sentences.texts)


def test_per_source_keeps_a_seeded_balanced_sample_in_file_order(all_sentences):
    """Fast mode's smaller data: the same loader, n sentences per source, half of each label."""
    sample = load_sentences(per_source=80)
    assert sample.counts().values.tolist() == [[40, 40]] * 3
    lines = iter(zip(all_sentences.texts, all_sentences.labels, all_sentences.sources))
    assert all(line in lines for line in zip(sample.texts, sample.labels, sample.sources))   # a subset, in file order
    again, other = load_sentences(per_source=80), load_sentences(per_source=80, seed=1)
    assert again.texts == sample.texts and other.texts != sample.texts
    assert load_sentences(per_source=None).texts == all_sentences.texts
    for bad in (0, 3, 1002, 2.0, True):
        with pytest.raises(ValueError, match="per_source"):
            load_sentences(per_source=bad)


def test_corrupted_or_malformed_file_fails_with_clear_error(tmp_path):
    shutil.copytree(DATA_DIR / TEXT_DIR, tmp_path / TEXT_DIR)
    shutil.copy(DATA_DIR / "SHA256SUMS", tmp_path)
    path = tmp_path / TEXT_DIR / SOURCE_FILES["yelp"]
    path.chmod(0o644)
    path.write_text(path.read_text().replace("\t1\n", "\t2\n", 1))
    with pytest.raises(ValueError, match="corrupted"):
        load_sentences(tmp_path, sources=("yelp",))
    # a malformed line with a matching checksum: the loader names the line
    (tmp_path / "SHA256SUMS").write_text(f"{sha256(path)}  {TEXT_DIR}/{SOURCE_FILES['yelp']}\n")
    with pytest.raises(ValueError, match="expected 'sentence<TAB>0 or 1'"):
        load_sentences(tmp_path, sources=("yelp",))
    (tmp_path / TEXT_DIR / SOURCE_FILES["amazon"]).unlink()
    with pytest.raises(ValueError, match="missing"):
        load_sentences(tmp_path, sources=("amazon",))
    with pytest.raises(ValueError, match="sources must be some of"):
        load_sentences(tmp_path, sources=("twitter",))


@pytest.mark.parametrize("texts, labels, message", [
    (["good", ""], [1, 0], "sentence 1 is empty"),
    (["good", "   "], [1, 0], "sentence 1 is empty"),
    (["good", 3], [1, 0], "sentence 1 is a int, not a string"),
    (["good", None], [1, 0], "not a string"),
    (["good", "bad"], [1, 2], "labels must be 0 \\(negative\\) or 1 \\(positive\\); label 2"),
    (["good", "bad"], [1, -1], "label -1"),
    (["good", "bad"], [1.0, 0.0], "must be the integers 0"),
    (["good", "bad"], [1], "need one label per sentence"),
    ("good", [1], "not one string"),
    ([], [], "no sentences"),
])
def test_bad_input_gets_a_clear_value_error(texts, labels, message):
    with pytest.raises(ValueError, match=message):
        sentences(texts, labels)


def test_splits_are_seeded_stratified_and_disjoint(all_sentences):
    train, test = stratified_split(all_sentences, test_size=0.2, seed=0)
    again, _ = stratified_split(all_sentences, test_size=0.2, seed=0)
    assert train.texts == again.texts and len(test) == 600
    assert test.counts().values.tolist() == [[100, 100]] * 3
    cross_train, cross_test = cross_source_split(all_sentences, "imdb")
    assert set(cross_test.sources) == {"imdb"} and "imdb" not in set(cross_train.sources)
    imbalanced = keep_one_in(all_sentences, n=10, label=1)
    assert np.bincount(imbalanced.labels).tolist() == [1500, 150]
    with pytest.raises(ValueError, match="test_source"):
        cross_source_split(all_sentences, "twitter")
    with pytest.raises(ValueError, match="n must be a whole number"):
        keep_one_in(all_sentences, n=0)


def test_vocabulary_is_adapted_on_the_training_split_only():
    train = sentences(["a fine phone", "a bad phone", "fine fine", "bad bad"], [1, 0, 1, 0])
    test = sentences(["a zebraphone is fine", "bad"], [1, 0])
    data = vectorize(train, test, percentile=100)
    assert "zebraphone" not in data.vocabulary and "is" not in data.vocabulary
    assert data.vocabulary[PAD] == "" and data.vocabulary[OOV] == "[UNK]"
    ids = token_ids(data.test)
    assert data.length_cap == 3   # the longest training sentence: the test sentence is cut after "is"
    assert ids[0].tolist() == [data.vocabulary.index("a"), OOV, OOV]
    # a test-only word changes nothing about the vocabulary
    other = vectorize(train, sentences(["entirely new words here", "bad"], [1, 0]), percentile=100)
    assert other.vocabulary == data.vocabulary


def test_length_cap_is_a_training_percentile_and_counts_what_it_cuts():
    train = sentences(["one", "one two", "one two three", "one two three four five six seven eight"], [0, 1, 0, 1])
    test = sentences(["one two three four five six seven eight nine ten"], [1])
    data = vectorize(train, test, percentile=75)
    assert data.length_cap == int(np.ceil(np.percentile([1, 2, 3, 8], 75)))
    assert data.cut == {"sentences": 1, "tokens": 8 - data.length_cap, "of tokens": 14}
    assert data.test.lengths.tolist() == [data.length_cap]
    for bad in (0, 101, True, "95"):
        with pytest.raises(ValueError, match="percentile"):
            vectorize(train, test, percentile=bad)
    with pytest.raises(ValueError, match="no words left"):
        vectorize(train, sentences(["!!!"], [1]))
    with pytest.raises(ValueError, match="must be Sentences"):
        vectorize(["a"], test)
    with pytest.raises(ValueError, match="max_tokens"):
        vectorize(train, test, max_tokens=2)


def test_token_ids_are_right_padded_and_fit_the_registry_embedding(small):
    ids = token_ids(small.test)
    assert ids.shape == (len(small.test), small.length_cap)
    assert np.all(ids[~small.test.mask] == PAD) and np.all(ids[small.test.mask] != PAD)
    assert small.vocab_size <= VOCAB_LIMIT and ids.max() < small.vocab_size
    with pytest.raises(ValueError, match="token ids of shape"):
        token_ids(small.test.__class__(small.test.X.astype(float), small.test.lengths, small.test.y))


@pytest.mark.parametrize("spec", [ClassifierSpec(vocab_size=VOCAB_LIMIT, embedding_dim=4, units=3, pool="attention"),
                                  ClassifierSpec(vocab_size=VOCAB_LIMIT, embedding_dim=4, units=3,
                                                 mixer="self_attention")])
def test_padded_tokens_get_zero_attention(small, spec):
    from utils.inspection import PADDING_TOLERANCE, padding_gap
    from utils.probe import attention_weights

    ids = token_ids(small.test)[:8]
    lengths = small.test.lengths[:8]
    model = build_classifier(small, spec)
    weights = attention_weights(model, ids)
    keys = weights if weights.ndim == 2 else weights[:, 0, 0, :]   # pooling (N, T); self-attention: first query
    padded = np.arange(ids.shape[1])[None, :] >= lengths[:, None]
    assert padded.any() and np.all(keys[padded] == 0.0)
    np.testing.assert_allclose(keys.sum(axis=1), 1.0, rtol=1e-5)
    assert padding_gap(model, ids, lengths) < PADDING_TOLERANCE
    # without mask_zero, padding is a word like any other: it gets weight and changes the prediction
    unmasked = build_classifier(small, spec.but(mask_zero=False))
    unmasked_keys = attention_weights(unmasked, ids)
    unmasked_keys = unmasked_keys if unmasked_keys.ndim == 2 else unmasked_keys[:, 0, 0, :]
    assert unmasked_keys[padded].sum() > 0.1
    assert "no mask" in spec.but(mask_zero=False).describe()


def test_mask_zero_needs_an_embedding():
    with pytest.raises(ValueError, match="mask_zero=False describes the Embedding"):
        ClassifierSpec(mask_zero=False)
    with pytest.raises(ValueError, match="mask_zero must be True or False"):
        ClassifierSpec(vocab_size=10, mask_zero="no")


def test_bag_of_words_peer_and_majority_baseline(small):
    from utils.peers import majority_runs, tfidf_runs
    from utils.stats import compare_paired

    peer, info = tfidf_runs(small, seeds=[0, 1], Cs=(1.0, 10.0), folds=2)
    assert info["C"] in (1.0, 10.0) and set(info["cv accuracy"]) == {1.0, 10.0}
    assert peer.table["accuracy"].nunique() == 1 and 0.0 <= peer.table["accuracy"].iloc[0] <= 1.0
    majority = majority_runs(small, seeds=[0, 1])
    most = int(np.argmax(np.bincount(small.train.y)))
    assert majority.table["accuracy"].iloc[0] == pytest.approx(np.mean(small.test.y == most))
    assert compare_paired(majority, peer).n_items == len(small.test)
    with pytest.raises(ValueError, match="keep its sentences"):
        tfidf_runs(small.__class__(small.name, small.train, small.test, small.class_names), seeds=[0, 1])
    with pytest.raises(ValueError, match="Cs must be positive"):
        tfidf_runs(small, seeds=[0, 1], Cs=(0.0,))


def test_occlusion_scores_and_rank_agreement(small):
    from utils.explain import occlusion_scores, rank_agreement

    ids, lengths = token_ids(small.test)[:6], small.test.lengths[:6]
    model = build_classifier(small, vocab_size=VOCAB_LIMIT, embedding_dim=4, units=3, pool="attention")
    scores = occlusion_scores(model, ids, lengths)
    assert scores.shape == ids.shape and np.all(scores[ids == PAD] == 0.0)
    # removing word t by hand gives the same score
    i, t = int(np.argmax(lengths)), 0
    full = np.asarray(model(ids[i:i + 1], training=False))[0]
    without = np.asarray(model(np.concatenate([np.delete(ids[i], t), [0]])[None], training=False))[0]
    assert scores[i, t] == pytest.approx(full[full.argmax()] - without[full.argmax()], abs=1e-5)
    rho = rank_agreement(scores, scores, lengths)
    assert np.all((rho[lengths >= 3] == pytest.approx(1.0)) | np.isnan(rho[lengths >= 3]))
    assert np.isnan(rank_agreement(scores, -scores, np.ones(6, int))).all()
    with pytest.raises(ValueError, match="integer token ids"):
        occlusion_scores(model, ids.astype(float), lengths)
    with pytest.raises(ValueError, match="one shape"):
        rank_agreement(scores, scores[:, :2], lengths)


@pytest.mark.backend_free
def test_highlighted_words_escape_html_and_check_their_input():
    import matplotlib.pyplot as plt

    from utils.plots import highlight_html, plot_highlighted_words

    html = highlight_html([["<b>", "good"]], [[0.2, -0.8]], ["label"])
    assert "&lt;b&gt;" in html and "rgba(31, 119, 180, 1.00)" in html
    fig = plot_highlighted_words([["a", "b"], ["c"]], [[1.0, 0.0], [0.5]])
    plt.close(fig)
    with pytest.raises(ValueError, match="2 words but 1 weights"):
        highlight_html([["a", "b"]], [[1.0]])
    with pytest.raises(ValueError, match="one row of weights per sentence"):
        plot_highlighted_words([["a"]], [])
