"""The notebooks' evidence: bounded accuracy intervals, paired verdicts, the validation split, a real peer."""
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from stored_outputs import output_text

pytestmark = pytest.mark.backend_free  # no Keras backend involved: run once, not once per backend

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
#: An interval as the course prints it: "[0.958, 0.975]". Differences print both ends with a sign
#: ("[+0.003, +0.019]", "[-0.086, -0.012]"); anything else is an accuracy and must lie in [0, 1].
INTERVAL = re.compile(r"\[([-+]?\d+\.\d+), ([-+]?\d+\.\d+)\]")


def _accuracy_intervals(text: str) -> list[tuple[str, str]]:
    return [(low, high) for low, high in INTERVAL.findall(text) if not (low[0] in "+-" and high[0] in "+-")]


def _sources(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_accuracy_interval_leaves_0_1(path):
    for low, high in _accuracy_intervals(output_text(path)):
        assert 0.0 <= float(low) <= float(high) <= 1.0, f"{path.name}: interval [{low}, {high}]"


def test_the_interval_check_catches_an_unbounded_interval():
    assert _accuracy_intervals("0.654 [0.280, 1.026]") == [("0.280", "1.026")]
    assert _accuracy_intervals("0.1 [-0.010, 0.500]") == [("-0.010", "0.500")]
    assert _accuracy_intervals("+0.010 [+0.003, +0.019] -0.049 [-0.086, -0.012]") == []   # differences


def test_paired_verdicts_and_forest_plots_appear_in_06_and_two_lessons():
    using = [p.name[:2] for p in NOTEBOOKS if "compare_paired(" in _sources(p) and "plot_paired(" in _sources(p)]
    assert "06" in using and len(set(using) - {"06"}) >= 2, using
    for path in NOTEBOOKS:
        if path.name[:2] in using:
            assert "no difference detected" in output_text(path) or "better" in output_text(path), path.name


def test_the_test_set_is_never_monitored():
    word = "monitor" + "_test"
    places = [*ROOT.glob("utils/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("tools/*.py"),
              *ROOT.glob("solutions/*.py"), *NOTEBOOKS]
    assert not [p.name for p in places if word in p.read_text()]


def test_no_notebook_cites_the_design_notes():
    assert not [p.name for p in NOTEBOOKS if "COURSE" + ".md" in p.read_text()]


def test_minirocket_is_in_the_closing_comparison_with_accuracy_and_fit_time():
    path = next(p for p in NOTEBOOKS if p.name.startswith("06"))
    outputs = output_text(path)
    assert "MiniRocket (aeon)" in outputs and "fit seconds" in outputs
    assert re.search(r"MiniRocket \(aeon\)\s+\d+\s+0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]", outputs)
    assert "one-off numba compilation" in outputs


def test_every_closing_model_shows_its_own_recipe_choice():
    path = next(p for p in NOTEBOOKS if p.name.startswith("06"))
    selection = json.loads((ROOT / "notebooks" / "recipe_selection.json").read_text())
    outputs = output_text(path)
    for name in selection["models"]:
        assert name in outputs


def test_the_course_copy_of_japanese_vowels_is_aeons_item_for_item():
    """aeon ships the UEA JapaneseVowels in its wheel: same 270/370 split, same order, same values."""
    from aeon.datasets import load_classification

    from utils.data import load_japanese_vowels

    ours = load_japanese_vowels(normalise=False)
    for split, part in (("train", ours.train), ("test", ours.test)):
        X, y = load_classification("JapaneseVowels", split=split)
        assert len(X) == len(part)
        for i, series in enumerate(X):
            np.testing.assert_allclose(series, part.X[i, :part.lengths[i]].T, atol=1e-6)
            assert int(y[i]) - 1 == part.y[i]


def test_minirocket_peer_scores_in_the_paired_format():
    from utils.data import make_motif_task
    from utils.peers import fill_padding, majority_runs, minirocket_runs
    from utils.stats import compare_paired

    task = make_motif_task(60, 30, min_len=10, max_len=16, motif_len=4, snr=3.0, seed=0)
    filled = fill_padding(task.test.X, task.test.lengths)
    i = int(np.argmin(task.test.lengths))
    assert filled.shape == (len(task.test), task.n_features, task.max_len)
    assert np.all(filled[i, :, task.test.lengths[i]:] == filled[i, :, task.test.lengths[i] - 1:task.test.lengths[i]])
    a = minirocket_runs(task, [0, 1], n_kernels=168, name="a")
    b = minirocket_runs(task, [0, 1], n_kernels=336, name="b")
    assert a.correct.shape == (2, len(task.test))
    # a verdict that can fail: MiniRocket against always answering the majority class, on a task it solves
    assert compare_paired(majority_runs(task, [0, 1]), b).verdict == "B better"
    # and one it cannot resolve: twice the kernels, on 30 test items
    assert compare_paired(a, b).verdict == "no difference detected"
    with pytest.raises(ValueError, match="distinct seeds"):
        minirocket_runs(task, [0])
