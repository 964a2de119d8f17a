import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from fakes import N_CLASSES, N_ITEMS, fake_model, shared_noise  # noqa: E402

from utils.plots import plot_paired  # noqa: E402
from utils.stats import (  # noqa: E402
    HOW_TO_READ,
    VERDICTS,
    compare_paired,
    format_interval,
    item_interval,
    joint_interval,
    mean_ci,
    paired_table,
    seed_interval,
    show_verdicts,
    wilson_interval,
)
from utils.training import SeedComparison  # noqa: E402

pytestmark = pytest.mark.backend_free  # no Keras backend involved: run once, not once per backend

# --- intervals ---------------------------------------------------------------------------------------

def test_mean_ci_matches_the_t_interval():
    values = np.array([0.9, 0.92, 0.94])
    mean, low, high = mean_ci(values)
    assert mean == pytest.approx(0.92)
    assert high - mean == pytest.approx(4.3027 * values.std(ddof=1) / np.sqrt(3), rel=1e-4)
    assert mean_ci([0.5, 0.5, 0.5]) == (0.5, 0.5, 0.5)   # no spread: the interval is the value, never nan


@pytest.mark.parametrize("values, confidence, message", [
    ([0.9], 0.95, "at least 2"), ([0.9, np.nan], 0.95, "NaN"), ([0.9, 0.8], 1.5, "confidence"),
])
def test_intervals_reject_bad_input(values, confidence, message):
    for interval in (mean_ci, seed_interval):
        with pytest.raises(ValueError, match=message):
            interval(values, confidence)


def test_seed_interval_stays_inside_the_values_and_so_inside_0_1():
    """The t-interval of lesson 03's worst case left [0, 1]; the bootstrap interval cannot."""
    values = [0.28, 0.99, 1.0, 1.0, 0.97, 1.0, 0.98, 1.0, 1.0, 0.99]
    assert mean_ci(values)[2] > 1.0                      # the old interval: above 1
    mean, low, high = seed_interval(values)
    assert min(values) <= low <= mean <= high <= max(values) <= 1.0
    assert seed_interval([0.5, 0.5, 0.5]) == (0.5, 0.5, 0.5)
    assert seed_interval(values) == seed_interval(values)  # seeded: reproducible


def test_seed_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = [low <= 0.9 <= high for low, high in
            (seed_interval(rng.normal(0.9, 0.01, 10))[1:] for _ in range(300))]
    assert 0.85 <= np.mean(hits) <= 0.99


def test_wilson_interval_matches_the_formula_and_stays_in_0_1():
    p, low, high = wilson_interval(360, 370)
    z, n, phat = 1.959964, 370, 360 / 370
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-6)
    assert wilson_interval(370, 370)[2] == 1.0 and wilson_interval(0, 5)[1] == 0.0
    with pytest.raises(ValueError, match="n_correct"):
        wilson_interval(371, 370)


def test_the_three_intervals_cover_what_they_name():
    """Seeds that agree leave only item sampling; the joint interval covers both sources."""
    model = fake_model("m", 0.1)
    correct = model.correct
    seeds = seed_interval(correct.mean(axis=1))
    items = item_interval(correct)
    joint = joint_interval(correct)
    assert seeds[0] == pytest.approx(items[0]) and items[0] == joint[0]
    assert joint[2] - joint[1] >= items[2] - items[1] - 1e-9
    assert joint[2] - joint[1] > seeds[2] - seeds[1]
    # one run: the item bootstrap is close to Wilson's interval
    one = correct[:1]
    assert item_interval(one)[1:] == pytest.approx(wilson_interval(int(one.sum()), one.shape[1])[1:], abs=0.01)
    with pytest.raises(ValueError, match="matrix"):
        item_interval(correct[0])


def test_format_interval():
    assert format_interval(0.96712, 0.958, 0.975) == "0.967 [0.958, 0.975]"
    assert format_interval(None, -0.01, 0.02, signed=True) == "[-0.010, +0.020]"


# --- paired comparison --------------------------------------------------------------------------------

def test_a_planted_difference_is_found_in_both_directions():
    noise = shared_noise()
    a, b = fake_model("A", 0.12, shared=noise), fake_model("B", 0.07, shared=noise)
    pair = compare_paired(a, b)
    assert pair.verdict == "B better"
    assert pair.difference == pytest.approx(b.correct.mean() - a.correct.mean())
    assert 0 < pair.over_seeds_and_items[0] < pair.difference < pair.over_seeds_and_items[1]
    assert pair.over_seeds[0] > 0
    assert "B better (B)" in pair.sentence()
    assert compare_paired(b, a).verdict == "A better"


def test_pairing_finds_a_difference_that_overlapping_intervals_miss():
    """Each seed of B is 1.5 points better than the same seed of A, while seed-to-seed spread is larger:
    the two intervals over seeds overlap, yet the paired difference is clear."""
    offsets = np.linspace(-0.05, 0.05, 10)
    noise = shared_noise()
    a = fake_model("A", 0.0, shared=noise)
    b = fake_model("B", 0.0, shared=noise)
    for s, (ra, rb) in enumerate(zip(a.runs, b.runs)):
        wrong_a = noise[s] < 0.10 + offsets[s]
        wrong_b = noise[s] < 0.085 + offsets[s]
        ra.y_pred = np.where(wrong_a, (a.y_true + 1) % N_CLASSES, a.y_true).astype(np.int32)
        rb.y_pred = np.where(wrong_b, (b.y_true + 1) % N_CLASSES, b.y_true).astype(np.int32)
    _, low_a, high_a = seed_interval(a.correct.mean(axis=1))
    _, low_b, high_b = seed_interval(b.correct.mean(axis=1))
    assert low_b <= high_a                                 # the intervals overlap
    assert compare_paired(a, b).verdict == "B better"      # the paired verdict still decides


def test_identical_models_give_no_difference():
    a = fake_model("A", 0.1)
    same = SeedComparison("A again", a.runs, a.y_true, a.test_key)
    pair = compare_paired(a, same)
    assert pair.verdict == "no difference detected"
    assert pair.difference == 0 and pair.over_seeds_and_items == (0.0, 0.0)
    assert pair.seeds_needed is None and "agree on every item" in pair.sentence()


def test_a_constant_difference_is_not_called_agreement():
    """For every seed B fixes one of A's errors and makes one of its own, on items that move from seed to seed:
    the two disagree on items, yet B - A is 0 on every seed. The sentence must not say they agree everywhere."""
    from dataclasses import replace

    a = fake_model("A", 0.1)
    runs = []
    for i, run in enumerate(a.runs):
        y_pred = run.y_pred.copy()
        wrong, right = np.flatnonzero(y_pred != a.y_true), np.flatnonzero(y_pred == a.y_true)
        y_pred[wrong[i]] = a.y_true[wrong[i]]
        y_pred[right[i]] = (a.y_true[right[i]] + 1) % N_CLASSES
        runs.append(replace(run, y_pred=y_pred))
    pair = compare_paired(a, SeedComparison("A, two items swapped", runs, a.y_true, a.test_key))
    assert pair.verdict == "no difference detected" and pair.seeds_needed is None and pair.disagreements == 2
    assert "agree on every item" not in pair.sentence() and "same on every seed" in pair.sentence()


def test_no_difference_says_how_many_seeds_it_would_take():
    noise = shared_noise()
    a = fake_model("A", 0.10, shared=noise)
    b = fake_model("B", 0.10, base_seed=1)                 # same accuracy, errors on other items
    pair = compare_paired(a, b, gap=0.01)
    assert pair.verdict == "no difference detected"
    sd = np.std(b.correct.mean(axis=1) - a.correct.mean(axis=1), ddof=1)
    assert pair.seeds_needed == int(np.ceil((2.8016 * sd / 0.01) ** 2))
    assert f"about {pair.seeds_needed} seeds would detect a gap of 0.010" in pair.sentence()
    assert pair.item_floor > 0 and "test-item sampling alone" in compare_paired(a, b, gap=0.001).sentence()


def test_the_verdict_is_the_same_however_often_it_is_asked():
    noise = shared_noise()
    a, b = fake_model("A", 0.10, shared=noise), fake_model("B", 0.095, shared=noise)
    assert compare_paired(a, b) == compare_paired(a, b)


def test_false_alarms_are_rare_between_equal_models():
    alarms = 0
    for trial in range(40):
        a = fake_model("A", 0.1, base_seed=100 + trial)
        b = fake_model("B", 0.1, base_seed=200 + trial)
        alarms += compare_paired(a, b).verdict != "no difference detected"
    assert alarms <= 6


@pytest.mark.parametrize("change, message", [
    (lambda b: b.subset(list(range(9))), "same seeds"),
    (lambda b: fake_model("B", 0.1, seeds=range(1, 11)), "same seeds"),
    (lambda b: fake_model("B", 0.1, n_items=N_ITEMS - 1), "same test items"),
    (lambda b: fake_model("B", 0.1, key="another-test-set"), "same test items"),
    (lambda b: b.table, "SeedComparison"),
])
def test_bad_input_gets_a_clear_error(change, message):
    a = fake_model("A", 0.1)
    with pytest.raises(ValueError, match=message):
        compare_paired(a, change(fake_model("B", 0.1)))


def test_bad_settings_get_a_clear_error():
    a = fake_model("A", 0.1)
    with pytest.raises(ValueError, match="gap"):
        compare_paired(a, a, gap=0)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        compare_paired(a.subset([0]), a.subset([0]))
    with pytest.raises(ValueError, match="not trained on seeds"):
        a.subset([42])


def test_paired_table_and_forest_plot_show_every_pair():
    noise = shared_noise()
    a, b, c = (fake_model(n, e, shared=noise) for n, e in (("A", 0.12), ("B", 0.07), ("C", 0.12)))
    pairs = [compare_paired(a, b), compare_paired(a, c), compare_paired(b, a)]
    table = paired_table(*pairs)
    assert list(table["verdict"]) == ["B better", "no difference detected", "A better"]
    assert set(table["verdict"]) <= set(VERDICTS)
    needed = table[f"seeds for a {pairs[0].gap:.2f} gap"]
    assert list(needed[[0, 2]]) == ["resolved", "resolved"]   # a resolved verdict needs no seed estimate
    assert needed[1] == ("-" if pairs[1].seeds_needed is None else pairs[1].seeds_needed)
    ax = plot_paired(pairs)
    assert len(ax.get_yticks()) == 3
    assert any(line.get_xdata()[0] == 0 for line in ax.get_lines())    # the zero line
    plt.close("all")
    with pytest.raises(ValueError, match="at least one"):
        plot_paired([])


def test_show_verdicts_prints_each_sentence_before_its_table(capsys, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append((capsys.readouterr().out, obj)))
    noise = shared_noise()
    a, b = (fake_model(n, e, shared=noise) for n, e in (("A", 0.12), ("B", 0.07)))
    pair = compare_paired(a, b)
    show_verdicts(pair)
    [(printed, table)] = shown
    assert printed == pair.sentence() + "\n"
    assert list(table["verdict"]) == [pair.verdict]
    assert set(HOW_TO_READ) >= {"verdict", "test-item floor (+/-)", "items split per seed"}
    with pytest.raises(ValueError, match="at least one"):
        show_verdicts()


def test_the_balanced_verdict_weighs_every_class_alike():
    """On an imbalanced test set, B gets the rare class right and A does not: accuracy barely moves, balanced
    accuracy moves a lot, and each pair's means equal scikit-learn's balanced_accuracy_score."""
    from sklearn.metrics import balanced_accuracy_score

    from utils.training import RunResult, classification_metrics

    y_true = np.array([0] * 20 + [1] * 180)
    rng = np.random.default_rng(0)

    def model(name, rare_right):
        runs = []
        for s in range(10):
            y_pred = np.where(rng.random(200) < 0.05, 1 - y_true, y_true)
            y_pred[:20] = np.where(rng.random(20) < rare_right, 0, 1)
            runs.append(RunResult(s, classification_metrics(y_true, y_pred, 2), 1.0, {}, y_pred, 0.1, 10))
        return SeedComparison(name, runs, y_true, "imbalanced")

    a, b = model("A", 0.2), model("B", 0.9)
    balanced = compare_paired(a, b, balanced=True)
    assert balanced.verdict == "B better" and balanced.metric == "balanced accuracy"
    assert "(balanced accuracy)" in balanced.sentence()
    expected = np.mean([balanced_accuracy_score(y_true, r.y_pred) for r in b.runs])
    assert balanced.accuracy_b == pytest.approx(expected)
    assert compare_paired(a, b).difference < balanced.difference / 3   # plain accuracy hides most of the gap


def test_every_verdict_column_is_explained_in_the_code_and_on_the_cheat_sheet():
    """The columns paired_table prints, HOW_TO_READ and the cheat sheet's "How to read a verdict" table agree."""
    from pathlib import Path

    noise = shared_noise()
    a, b = (fake_model(n, e, shared=noise) for n, e in (("A", 0.12), ("B", 0.07)))
    columns = set(paired_table(compare_paired(a, b)).columns) - {"B", "A", "seeds"}
    explained = set(HOW_TO_READ) - {"B, A"}
    assert columns == explained
    sheet = (Path(__file__).resolve().parents[1] / "site" / "cheatsheet.md").read_text()
    section = sheet.split("## How to read a verdict", 1)[1]
    rows = {line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")}
    assert explained <= rows, explained - rows
