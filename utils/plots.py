"""Plots: learning curves, confusion matrices, attention heatmaps and sequence views."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from sklearn.metrics import confusion_matrix


def _finite(name: str, array) -> np.ndarray:
    array = np.asarray(array, dtype=float)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


def plot_learning_curves(histories: dict, metric: str = "loss", ax=None):
    """Training (solid) and validation (dashed, when recorded) curves of one metric, one colour per model.

    ``histories`` maps a label to a Keras ``History.history`` dict (or a list of them, one per seed).

    Args:
        histories: ``{label: history}`` or ``{label: [history, ...]}``.
        metric: the history key to draw, e.g. ``"loss"`` or ``"accuracy"`` (``"val_<metric>"`` is drawn dashed).
        ax: the axes to draw on (default: a new figure).

    Returns:
        The axes.

    Raises:
        ValueError: ``histories`` is empty, a history has no ``metric``, or its values are empty, NaN or inf.

    Example:
        ::

            plot_learning_curves({r.name: [run.history for run in r.runs] for r in (a, b)}, metric="accuracy")
    """
    if not histories:
        raise ValueError("histories is empty")
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for colour, (label, hist) in zip(sns.color_palette(n_colors=len(histories)), histories.items()):
        for i, h in enumerate(hist if isinstance(hist, list) else [hist]):
            if metric not in h:
                raise ValueError(f"{label}: history has no {metric!r}; it has {sorted(h)}")
            epochs = np.arange(1, len(h[metric]) + 1)
            ax.plot(epochs, _finite(metric, h[metric]), color=colour, label=f"{label} train" if i == 0 else None)
            if f"val_{metric}" in h:
                ax.plot(epochs, _finite(metric, h[f"val_{metric}"]), color=colour, ls="--",
                        label=f"{label} validation" if i == 0 else None)
    ax.set(xlabel="epoch", ylabel=metric)
    ax.legend(fontsize=8)
    return ax


def plot_confusion_matrix(y_true, y_pred, class_names, normalize: str | None = "true", ax=None, title=None):
    """Confusion matrix from scikit-learn, drawn as a seaborn heatmap (rows: true class).

    Args:
        y_true: ``(N,)`` integer true labels.
        y_pred: ``(N,)`` integer predicted labels.
        class_names: one name per class, in label order.
        normalize: scikit-learn's ``normalize`` (``"true"``: each row sums to 1; None: counts).
        ax: the axes to draw on (default: a new figure).
        title: the axes' title.

    Returns:
        The axes.

    Raises:
        ValueError: the labels are not rank 1 and of equal shape, are empty, or lie outside
            ``0..len(class_names) - 1``.
    """
    n = len(class_names)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be rank-1 and equal in shape, got {y_true.shape}, {y_pred.shape}")
    if y_true.size == 0 or min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= n:
        raise ValueError(f"labels must lie in 0..{n - 1}")
    cm = confusion_matrix(y_true, y_pred, labels=range(n), normalize=normalize)
    ax = ax or plt.subplots(figsize=(0.55 * n + 2.5, 0.5 * n + 2))[1]
    sns.heatmap(cm, annot=True, fmt=".2f" if normalize else "d", cmap="Blues", cbar=False, ax=ax,
                xticklabels=class_names, yticklabels=class_names, vmin=0, annot_kws={"fontsize": 9})
    ax.set(xlabel="predicted", ylabel="true", title=title or "")
    return ax


def plot_attention_heatmaps(weights, titles=None, query_label: str = "query", key_label: str = "key",
                            query_ticks=None, key_ticks=None, ncols: int = 4, cmap: str = "Reds"):
    """Query x key attention maps, in the style of d2l's ``show_heatmaps``.

    ``weights``: (queries, keys) for one map or (maps, queries, keys) for a grid of maps.

    Args:
        weights: the attention weights; all maps share one colour scale, from 0 to the largest weight.
        titles: one title per map.
        query_label: the y-axis label.
        key_label: the x-axis label.
        query_ticks: tick labels of the queries (e.g. tokens).
        key_ticks: tick labels of the keys.
        ncols: maps per row, at most.
        cmap: the Matplotlib colour map.

    Returns:
        The figure.

    Raises:
        ValueError: ``weights`` is empty, holds NaN or inf, or is not rank 2 or 3; or ``titles`` does not give one
            title per map.
    """
    w = _finite("weights", weights)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3:
        raise ValueError(f"weights must be (queries, keys) or (maps, queries, keys), got shape {w.shape}")
    if titles is not None and len(titles) != len(w):
        raise ValueError(f"{len(titles)} titles for {len(w)} maps")
    ncols = min(ncols, len(w))
    nrows = int(np.ceil(len(w) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.8 * nrows), squeeze=False, sharey=True)
    vmax = float(w.max()) or 1.0
    for i, ax in enumerate(axes.flat):
        if i >= len(w):
            ax.axis("off")
            continue
        image = ax.imshow(w[i], cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
        ax.grid(False)
        ax.set_xlabel(key_label)
        if i % ncols == 0:
            ax.set_ylabel(query_label)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
        if key_ticks is not None:
            ax.set_xticks(range(len(key_ticks)), key_ticks, fontsize=9)
        if query_ticks is not None:
            ax.set_yticks(range(len(query_ticks)), query_ticks, fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    return fig


def plot_weights_over_time(sequence, weights, length: int | None = None, motif: tuple[int, int] | None = None,
                           ax=None, title: str | None = None):
    """Attention weights (bars) drawn over the input sequence's channels (lines).

    ``motif`` = (start, stop) shades the true evidence, when it is known.

    Args:
        sequence: ``(T, F)`` inputs.
        weights: ``(T,)`` attention weights.
        length: the real length; only the first ``length`` steps are drawn (default: all ``T``).
        motif: ``(start, stop)`` of the true evidence, or None.
        ax: the axes to draw on (default: a new figure).
        title: the axes' title.

    Returns:
        The input axes (the weights are drawn on a twin axis).

    Raises:
        ValueError: ``sequence`` or ``weights`` is empty or holds NaN or inf, or they are not ``(T, F)`` and
            ``(T,)`` of the same ``T``.
    """
    x, w = _finite("sequence", sequence), _finite("weights", weights)
    if x.ndim != 2 or w.ndim != 1 or len(w) != len(x):
        raise ValueError(f"need sequence (T, F) and weights (T,), got {x.shape} and {w.shape}")
    length = len(x) if length is None else int(length)
    ax = ax or plt.subplots(figsize=(8, 3))[1]
    steps = np.arange(length)
    lines = ax.plot(steps, x[:length], color="0.75", lw=0.8)
    ax.set(xlabel="time step", ylabel="input", title=title or "")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))   # whole time steps
    handles = [lines[0]]
    lines[0].set_label("input channels")
    if motif is not None:
        handles.append(ax.axvspan(motif[0] - 0.5, motif[1] - 0.5, color="gold", alpha=0.35, label="true motif"))
    twin = ax.twinx()
    twin.grid(False)                                     # one grid (the input axis's) is enough
    handles.append(twin.bar(steps, w[:length], color="tab:red", alpha=0.7, width=1.0, label="attention weight"))
    twin.legend(handles=handles, loc="best", fontsize=9)   # on the top axis, so no bar hides it; where it covers least
    twin.set_ylabel("attention weight", color="tab:red")
    twin.set_ylim(0, max(float(w[:length].max()) * 1.1, 1e-6))
    return ax


def plot_sequences(part, class_names, n: int = 4, channels: int = 3, title: str = "", indices=None,
                   ncols: int | None = None, channel_names=None):
    """A few sequences (the first ``n``, or ``indices``), one panel each, with the padded tail shaded.

    ``ncols`` panels per row (default: all in one row); ``channel_names`` (one per plotted channel) adds a
    legend of the channels and the padding below the panels.

    Args:
        part: a :class:`utils.data.SequenceSet` with one label per sequence.
        class_names: one name per class, for the panel titles.
        n: how many sequences from the start, when ``indices`` is None.
        channels: how many channels to draw (the first ones).
        title: the figure's title.
        indices: the sequences to draw.
        ncols: panels per row.
        channel_names: one name per drawn channel.

    Returns:
        The figure.

    Raises:
        ValueError: no indices or one outside ``0..len(part) - 1``, or ``channel_names`` not one per drawn channel.
    """
    indices = list(range(n)) if indices is None else [int(i) for i in indices]
    if not indices or min(indices) < 0 or max(indices) >= len(part):
        raise ValueError(f"need 1 or more sequence indices in 0..{len(part) - 1}, got {indices}")
    if channel_names is not None and len(channel_names) != min(channels, part.X.shape[2]):
        raise ValueError(f"need one name per plotted channel ({min(channels, part.X.shape[2])}), "
                         f"got {len(channel_names)}")
    ncols = len(indices) if ncols is None else max(1, min(int(ncols), len(indices)))
    nrows = -(-len(indices) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), sharey=True, squeeze=False)
    for ax, i in zip(axes.flat, indices):
        length = int(part.lengths[i])
        lines = ax.plot(part.X[i, :, :channels], lw=1)
        span = ax.axvspan(length - 0.5, part.X.shape[1] - 0.5, color="0.85", label="padding")
        ax.set(title=f"{class_names[part.y[i]]}, length {length}", xlabel="time step")
        if part.motif_start is not None:
            start = ax.axvline(part.motif_start[i], color="k", ls=":", lw=1)
    for ax in axes.flat[len(indices):]:
        ax.set_visible(False)
    fig.suptitle(title)
    if channel_names is None:
        axes[0, 0].legend(loc="lower left", fontsize=9)
        fig.tight_layout()
    else:
        handles, labels = [*lines, span], [*channel_names, "padding"]
        if part.motif_start is not None:
            handles, labels = [*handles, start], [*labels, "motif starts"]
        fig.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
        fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    return fig


def plot_paired(pairs, ax=None, title: str = "Paired differences, B - A"):
    """A forest plot of paired comparisons (:func:`utils.stats.compare_paired`): one row per pair, its mean
    difference in accuracy, the interval over seeds (thick) and over seeds and test items (thin), and a zero
    line. A row whose thin line clears zero has a verdict; its colour says which model won.

    Args:
        pairs: :class:`utils.stats.PairedComparison` objects, one row each, top to bottom.
        ax: the axes to draw on (default: a new figure).
        title: the axes' title.

    Returns:
        The axes.

    Raises:
        ValueError: no pair given.

    Example:
        ::

            plot_paired([compare_paired(a, b), compare_paired(a, c)])
    """
    pairs = list(pairs)
    if not pairs:
        raise ValueError("give at least one PairedComparison")
    colours = {"B better": "tab:green", "A better": "tab:red", "no difference detected": "0.45"}
    ax = ax or plt.subplots(figsize=(7.5, 0.55 * len(pairs) + 1.4))[1]
    for row, pair in enumerate(pairs):
        colour = colours[pair.verdict]
        ax.hlines(row, *pair.over_seeds_and_items, color=colour, lw=1.5)
        ax.hlines(row, *pair.over_seeds, color=colour, lw=5, alpha=0.6)
        ax.plot(pair.difference, row, "o", color=colour, markersize=7)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(range(len(pairs)), [f"{p.b}\n  vs {p.a}" for p in pairs], fontsize=9)
    ax.invert_yaxis()
    metrics = sorted({getattr(p, "metric", "accuracy") for p in pairs})
    ax.set(xlabel=f"difference in test {' / '.join(metrics)}, B - A", title=title)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="0.3", lw=5, alpha=0.6, label="95% CI over seeds"),
               Line2D([], [], color="0.3", lw=1.5, label="95% CI over seeds and items"),
               *(Line2D([], [], color=c, marker="o", ls="", label=v) for v, c in colours.items())]
    height = ax.get_position().height * ax.figure.get_figheight()      # the axes' height in inches
    ax.legend(handles=handles, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.55 / height), ncol=3)
    return ax   # the legend sits a fixed 0.55 in below the axes, under the axis label, whatever the figure's height


def _word_rows(words_rows, weight_rows) -> list[tuple[list[str], np.ndarray]]:
    """Pairs of (words, weights), checked: one weight per word, finite."""
    words_rows, weight_rows = list(words_rows), list(weight_rows)
    if not words_rows or len(words_rows) != len(weight_rows):
        raise ValueError(f"need one row of weights per sentence, got {len(words_rows)} sentences and "
                         f"{len(weight_rows)} rows of weights")
    pairs = []
    for i, (words, weights) in enumerate(zip(words_rows, weight_rows)):
        weights = _finite(f"weights of sentence {i}", weights)[:len(words)]
        if len(words) == 0 or len(weights) != len(words):
            raise ValueError(f"sentence {i}: {len(words)} words but {len(weights)} weights")
        pairs.append((list(words), weights))
    return pairs


def highlight_html(words_rows, weight_rows, labels=None, colour=(214, 39, 40)) -> str:
    """Sentences as HTML, each word shaded by its weight (the largest magnitude in a sentence is the darkest).

    Negative weights (an occlusion score that speaks against the prediction) are shaded blue. ``labels`` go
    before each sentence. Show it with ``IPython.display.HTML``; :func:`plot_highlighted_words` draws the same
    as a picture for viewers that drop HTML.

    Args:
        words_rows: one list of words per sentence.
        weight_rows: one row of weights per sentence (extra weights past the last word are ignored).
        labels: one label per sentence.
        colour: the RGB shade of positive weights.

    Returns:
        The HTML, one ``<div>`` per sentence.

    Raises:
        ValueError: no sentences, or not one row of weights (or label) per sentence; a sentence without words, or
            with fewer weights than words; weights that are NaN or inf.

    Example:
        ::

            display(HTML(highlight_html([["a", "fine", "film"]], [[0.1, 0.7, 0.2]])))
    """
    from html import escape

    pairs = _word_rows(words_rows, weight_rows)
    labels = [""] * len(pairs) if labels is None else list(labels)
    if len(labels) != len(pairs):
        raise ValueError(f"{len(labels)} labels for {len(pairs)} sentences")
    lines = []
    for label, (words, weights) in zip(labels, pairs):
        scale = float(np.abs(weights).max()) or 1.0
        spans = []
        for word, w in zip(words, weights):
            r, g, b = colour if w >= 0 else (31, 119, 180)
            spans.append(f'<span style="background: rgba({r}, {g}, {b}, {abs(w) / scale:.2f}); padding: 1px 2px; '
                         f'border-radius: 3px" title="{w:.3f}">{escape(word)}</span>')
        lines.append(f'<div style="margin: 4px 0; line-height: 1.8">'
                     f'<b>{escape(str(label))}</b> {" ".join(spans)}</div>')
    return "\n".join(lines)


def plot_highlighted_words(words_rows, weight_rows, labels=None, cmap: str = "RdBu_r"):
    """The picture twin of :func:`highlight_html`: one row of cells per sentence, each word written in a cell
    shaded by its weight, scaled per row to its largest magnitude (red: for the prediction, blue: against).

    Args:
        words_rows: one list of words per sentence (words over 10 characters are cut to 9 and an ellipsis).
        weight_rows: one row of weights per sentence.
        labels: one label per sentence, drawn as its row's tick label.
        cmap: the Matplotlib colour map, from -1 to 1.

    Returns:
        The figure.

    Raises:
        ValueError: as :func:`highlight_html`.
    """
    pairs = _word_rows(words_rows, weight_rows)
    labels = [""] * len(pairs) if labels is None else list(labels)
    if len(labels) != len(pairs):
        raise ValueError(f"{len(labels)} labels for {len(pairs)} sentences")
    width = max(len(words) for words, _ in pairs)
    grid = np.full((len(pairs), width), np.nan)
    text = np.full((len(pairs), width), "", dtype=object)
    for row, (words, weights) in enumerate(pairs):
        grid[row, :len(words)] = weights / (float(np.abs(weights).max()) or 1.0)
        text[row, :len(words)] = [w if len(w) <= 10 else w[:9] + "…" for w in words]
    fig, ax = plt.subplots(figsize=(min(1.0 * width + 2.5, 18), 0.45 * len(pairs) + 0.8))
    sns.heatmap(grid, annot=text, fmt="", cmap=cmap, vmin=-1, vmax=1, cbar=False, ax=ax, linewidths=0.5,
                linecolor="white", annot_kws={"fontsize": 9})
    ax.set_yticks(np.arange(len(pairs)) + 0.5, labels, rotation=0, fontsize=9)
    ax.set_xticks([])
    fig.tight_layout()
    return fig
