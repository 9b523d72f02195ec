"""The one style of every figure of the report, and the check that a figure is fit to print.

Every figure has the same fonts and sizes, legends below the axes (never over the data), tick
labels thinned until none overlap. RECIPROCITY_REPORT_CHECK=1 makes every figure check its layout
(tests/cli/test_report_figures.sh): a legend over a data point or overlapping tick labels is
recorded in LAYOUT_PROBLEMS, which the report prints on stderr (exit 3).
"""

import math
import os

import numpy as np

STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
         "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.grid": True, "grid.alpha": 0.25,
         "savefig.dpi": 110}
LAYOUT_PROBLEMS = []


def pyplot(styled=False):
    """matplotlib.pyplot with the non-interactive Agg backend (and, `styled`, the report's STYLE)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if styled:
        plt.rcParams.update(STYLE)
    return plt


def write_png(fig, path, dpi=110):
    """Lay the figure out tightly, write it as a PNG at `path` and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def flow_unit(res):
    """The unit of a flow of this file, in words: the model's loss summed over deployment examples and steps."""
    model = str(res.attrs.get("config_model", ""))
    return "log loss, nats" if model == "logistic" else "squared error"


def flow_label(res, what):
    """An axis label for a flow: its unit and its sign convention."""
    return f"{what} [{flow_unit(res)}; > 0: lowered the loss]"


def thin_tick_labels(fig, ax):
    """Hide every other tick label (then every third, ...) of an axis whose labels overlap."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for axis in (ax.xaxis, ax.yaxis):
        labels = [l for l in axis.get_ticklabels() if l.get_visible() and l.get_text()]
        for step in range(2, 8):
            boxes = [l.get_window_extent(renderer) for l in labels if l.get_visible()]
            if not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:])):
                break
            for k, label in enumerate(labels):
                label.set_visible(k % step == 0)


def data_points(ax):
    """Display coordinates of the data drawn in ax (lines, scatter points, patch vertices), inside the axes."""
    import matplotlib.collections as mcoll
    import matplotlib.lines as mlines
    import matplotlib.patches as mpatches
    pts = []
    for artist in ax.get_children():
        if not artist.get_visible():
            continue
        if isinstance(artist, mlines.Line2D):
            xy = np.column_stack(artist.get_data()).astype(float)
            if len(xy) == 2:          # a straight segment (y = x): its interior too
                xy = np.linspace(xy[0], xy[1], 200)
            pts.append(artist.get_transform().transform(xy))
        elif isinstance(artist, mcoll.PathCollection):
            pts.append(artist.get_offset_transform().transform(artist.get_offsets()))
        elif isinstance(artist, mpatches.Polygon) or (isinstance(artist, mpatches.Rectangle)
                                                     and artist is not ax.patch):
            pts.append(artist.get_transform().transform(artist.get_path().vertices))
    if not pts:
        return np.zeros((0, 2))
    pts = np.concatenate([p for p in pts if len(p)]) if any(len(p) for p in pts) else np.zeros((0, 2))
    pts = pts[np.isfinite(pts).all(axis=1)]
    box = ax.get_window_extent()
    inside = ((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1))
    return pts[inside]


def layout_problems(fig):
    """What is wrong with a drawn figure: legends over data points, overlapping tick labels."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    for ax in fig.axes:
        pts = data_points(ax)
        legends = [ax.get_legend()] + [lg for lg in fig.legends]
        for lg in legends:
            if lg is None or not lg.get_visible():
                continue
            b = lg.get_window_extent(renderer)
            hit = ((pts[:, 0] > b.x0) & (pts[:, 0] < b.x1) & (pts[:, 1] > b.y0) & (pts[:, 1] < b.y1))
            if hit.any():
                problems.append(f"legend over {int(hit.sum())} data point(s) of axes '{ax.get_title()[:40]}'")
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            boxes = [l.get_window_extent(renderer) for l in axis.get_ticklabels() if l.get_visible() and l.get_text()]
            if any(a.overlaps(b) for a, b in zip(boxes, boxes[1:])):
                problems.append(f"{name} tick labels overlap in axes '{ax.get_title()[:40]}'")
    return problems


def finish_figure(fig, path, axes=()):
    """Thin crowded tick labels, check the layout when asked, write the PNG and close the figure."""
    for ax in axes:
        thin_tick_labels(fig, ax)
    if os.environ.get("RECIPROCITY_REPORT_CHECK") == "1":
        LAYOUT_PROBLEMS.extend(f"{os.path.basename(path)}: {p}" for p in layout_problems(fig))
    fig.savefig(path, bbox_inches="tight")
    pyplot().close(fig)


def legend_below(ax, ncol=1):
    """The legend under the axes (below the x label), so that it never covers data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig = ax.figure
        fig.canvas.draw()
        below = ax.get_tightbbox(fig.canvas.get_renderer())          # the axes with its tick labels and x label
        y = ax.transAxes.inverted().transform((0, below.y0))[1] - 0.02
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, y), ncol=ncol,
                  frameon=False, borderaxespad=0)


def save(fig, ax, path, title, xlabel, ylabel, ncol=1):
    """Title, axis labels, legend below the axes, then write the PNG and close the figure."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    legend_below(ax, ncol)
    finish_figure(fig, path, [ax])


def file_title(res):
    a = res.attrs
    title = f"{a.get('config_dataset', os.path.basename(res.path))}, {a.get('config_model', '')}"
    interval = str(a.get("config_flow-interval", "1"))
    if interval != "1":
        title += f", TracIn checkpoints every {interval} steps"
    return title


def symlog_threshold(values):
    """A linear range for 'symlog' axes: the 5th percentile of the nonzero |values|, rounded down to a power of 10."""
    v = np.abs(np.asarray(values).ravel())
    v = v[np.isfinite(v) & (v > 0)]
    return float(10.0 ** math.floor(math.log10(np.percentile(v, 5)))) if len(v) else 1.0
