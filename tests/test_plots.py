import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.data import make_motif_task  # noqa: E402
from utils.plots import (  # noqa: E402
    plot_attention_heatmaps,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_sequences,
    plot_weights_over_time,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_heatmaps_draw_one_panel_per_map_with_labelled_axes():
    weights = np.random.default_rng(0).dirichlet(np.ones(5), size=(3, 4))
    fig = plot_attention_heatmaps(weights, titles=["a", "b", "c"], query_label="q", key_label="k", ncols=2)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3
    assert panels[0].get_xlabel() == "k" and panels[0].get_ylabel() == "q"
    np.testing.assert_allclose(panels[1].images[0].get_array(), weights[1])


@pytest.mark.parametrize("weights, message", [
    (np.ones(4), "shape"),
    (np.full((2, 2), np.nan), "NaN"),
    (np.ones((0, 3)), "empty"),
])
def test_heatmaps_reject_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        plot_attention_heatmaps(weights)


def test_confusion_matrix_rows_are_normalised_per_true_class():
    ax = plot_confusion_matrix(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ["a", "b"])
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0.50", "0.50", "0.00", "1.00"]


@pytest.mark.parametrize("y_true, y_pred", [([0, 2], [0, 1]), ([0, 1], [0]), ([], [])])
def test_confusion_matrix_rejects_bad_labels(y_true, y_pred):
    with pytest.raises(ValueError, match="labels must lie in 0..1|equal in shape"):
        plot_confusion_matrix(np.array(y_true, dtype=int), np.array(y_pred, dtype=int), ["a", "b"])


def test_learning_curves_need_the_metric():
    hist = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    ax = plot_learning_curves({"m": [hist, hist]})
    assert len(ax.lines) == 4
    with pytest.raises(ValueError, match="no 'accuracy'"):
        plot_learning_curves({"m": hist}, "accuracy")
    with pytest.raises(ValueError, match="empty"):
        plot_learning_curves({})


def test_weights_over_time_checks_lengths():
    ax = plot_weights_over_time(np.zeros((10, 2)), np.full(10, 0.1), length=8, motif=(2, 5))
    with pytest.raises(ValueError, match="need sequence"):
        plot_weights_over_time(np.zeros((10, 2)), np.full(9, 0.1))
    assert ax.get_xlabel() == "time step"


def test_plot_sequences_rejects_too_many_panels():
    task = make_motif_task(3, 2, min_len=10, max_len=12, motif_len=3)
    plot_sequences(task.train, task.class_names, n=3)
    plot_sequences(task.train, task.class_names, indices=[2, 0])
    with pytest.raises(ValueError, match="indices"):
        plot_sequences(task.train, task.class_names, n=4)
    with pytest.raises(ValueError, match="indices"):
        plot_sequences(task.train, task.class_names, indices=[])
