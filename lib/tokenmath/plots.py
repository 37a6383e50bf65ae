"""Figures of the book, drawn from the library's numbers (no physics lives here).

Every chart is a :class:`matplotlib.figure.Figure` built without pyplot, so a notebook cell
that ends with a chart shows it exactly once, as the cell's value. Functions that draw one
axes take ``ax=None``; given an axes, they draw into it and return its figure.

Units: batch size ``B`` in sequences (log axis); cost per token in GPU-microseconds per
token (1 GPU-µs = one accelerator busy for a millionth of a second); step time in
milliseconds; prices in USD per million tokens.

>>> import tokenmath as tm
>>> fig = tm.plots.cost_chart(tm.model("deepseek-v3"), tm.hardware("h100-sxm"))
>>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "region-memory"]
['memory-bound']
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN, TICKLEFT
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation, Text
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator
from matplotlib.transforms import Bbox

from . import kvcache, serving
from . import prefill as pf
from . import roofline as rl
from .assumptions import FIRST_ORDER, REFINED, Assumptions, check_assumptions
from .specs import (
    Hardware,
    Model,
    check_hardware,
    check_kv_precision,
    check_model,
    check_precision,
    compute_precision,
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    routed_share_read,
)

# --------------------------------------------------------------------------- style

#: Okabe-Ito colours: distinguishable with every common form of colour blindness.
PALETTE: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#7F7F7F",
}

#: Line styles of the cost terms, the same on every chart.
TERM_STYLE: dict[str, dict[str, Any]] = {
    "weights": {"color": PALETTE["blue"], "linestyle": "--", "linewidth": 1.6},
    "kv": {"color": PALETTE["vermillion"], "linestyle": ":", "linewidth": 2.0},
    "compute": {"color": PALETTE["green"], "linestyle": "-.", "linewidth": 1.6},
    "total": {"color": PALETTE["black"], "linestyle": "-", "linewidth": 2.4},
}

#: Labels of the cost terms (legend entries).
TERM_LABEL: dict[str, str] = {
    "weights": "weight traffic / B (hyperbola)",
    "kv": "KV traffic (flat)",
    "compute": "compute (flat)",
    "total": "cost per token",
}

#: Legend placement under an axes, for panels too narrow to hold their legend.
LEGEND_BELOW: dict[str, Any] = {
    "loc": "upper center",
    "bbox_to_anchor": (0.5, -0.2),
    "ncol": 1,
    "frameon": False,
}

REGION_COLOR = {"memory": PALETTE["sky"], "compute": PALETTE["orange"]}
REGION_ALPHA = 0.14
LABEL_BOX: dict[str, Any] = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5}
CASE_COLORS = ("black", "blue", "vermillion", "green", "purple", "orange", "sky")
CASE_STYLES = ("-", "--", "-.", ":")

#: Default size of a one-panel figure (inches): the width of the book's text column. Every
#: figure is drawn at that width, so that its text shows at its point size on the page: a
#: wider figure would be scaled down to the column and its labels shrunk with it.
FIGSIZE = (7.0, 4.2)
#: Two charts one above the other on a shared batch axis (latency and cost).
STACKED_FIGSIZE = (7.0, 6.6)
#: Prefill's two charts one above the other (time to first token, cost of a token).
PREFILL_FIGSIZE = (7.0, 7.6)
#: Three small panels side by side (the cost terms), one batch label under all three.
TERMS_FIGSIZE = (7.0, 3.3)
#: Resolution of the figure on screen while it is drawn (the explorer's canvas).
DPI = 110
#: CSS pixels per inch: a figure ``w`` inches wide is shown ``96 * w`` pixels wide.
DISPLAY_PX_PER_INCH = 96
#: PNGs are rendered at this many pixels per CSS pixel, so that they stay sharp on
#: high-density screens and when printed: 2 x 96 pixels per inch.
PNG_SCALE = 2
EXPORT_DPI = PNG_SCALE * DISPLAY_PX_PER_INCH
#: No text on a figure is smaller than this [points]; at the column width a point is 4/3 of a
#: CSS pixel, so 8 points read as 10.7 pixels (tests/test_plots.py checks every chart).
MIN_FONT_PT = 8.0

MICROSECONDS_PER_SECOND = 1e6
MILLISECONDS_PER_SECOND = 1e3
BATCH_LABEL = "batch size B [sequences]"
COST_LABEL = "cost per token [GPU-µs]"
USD_LABEL = "cost [USD per million tokens]"
STEP_LABEL = "step time T [ms]"
CONTEXT_LABEL = "context length L [tokens]"

#: How far past the sweet spot the default batch axis runs.
BATCH_SPAN_PAST_SWEET_SPOT = 6.0
GRID_POINTS = 300


class BookFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that shows itself as a PNG in a notebook.

    A figure made without pyplot has no inline backend to display it; this one renders
    itself through Agg when it is a cell's value, once: at :data:`EXPORT_DPI`, with its
    display width in the output's metadata (:func:`figure_png_for_display`).
    """

    def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
        return figure_png_for_display(self)


def figure_png(fig: Figure, **savefig_kw: Any) -> bytes:
    """PNG bytes of ``fig``, rendered with Agg (no pyplot, no global backend change), at
    :data:`EXPORT_DPI` unless ``dpi=`` says otherwise."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **({"dpi": EXPORT_DPI} | savefig_kw))
    return compact_png(buf.getvalue())


#: Colours kept in a figure's PNG: charts of a few flat colours and anti-aliased edges need no
#: more, and a palette PNG takes about a third of the bytes of Agg's RGBA one.
PNG_COLORS = 256


def compact_png(png: bytes) -> bytes:
    """The same picture as a :data:`PNG_COLORS`-colour palette PNG, optimised: pages with
    several figures at :data:`PNG_SCALE` stay light. Figures are drawn on an opaque
    background, so dropping the alpha channel loses nothing."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    out = io.BytesIO()
    palette = rgb.quantize(colors=PNG_COLORS, method=Image.Quantize.MEDIANCUT)
    palette.save(out, format="png", optimize=True)
    return out.getvalue()


def display_width_px(fig: Figure) -> int:
    """The width [CSS pixels] at which ``fig`` is shown: its width in inches times 96."""
    return round(fig.get_figwidth() * DISPLAY_PX_PER_INCH)


def figure_png_for_display(fig: Figure) -> tuple[bytes, dict[str, int]]:
    """``(png, {"width": w})``: the PNG at :data:`PNG_SCALE` times its display width ``w``
    [CSS pixels], which the notebook and the site show it at (IPython output metadata)."""
    return figure_png(fig), {"width": display_width_px(fig)}


def register_ipython_png() -> bool:
    """Make IPython show a :class:`BookFigure` through :func:`figure_png_for_display`.

    ``%matplotlib inline`` registers a PNG printer for every Figure that saves with
    ``bbox_inches="tight"``: on top of the constrained layout that is one more full layout
    and draw, about twice the render time. A printer registered for the subclass wins
    (IPython looks printers up along the class's MRO). Called on import; returns whether an
    IPython shell was there to register with.
    """
    ipython = sys.modules.get("IPython")  # never import IPython just to look
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    shell.display_formatter.formatters["image/png"].for_type(BookFigure, figure_png_for_display)
    return True


def new_figure(
    figsize: tuple[float, float] = FIGSIZE, *, constrained: bool = True, dpi: float = DPI
) -> Figure:
    """An empty :class:`BookFigure` with the book's size and resolution, Agg canvas attached."""
    fig = BookFigure(figsize=figsize, dpi=dpi, layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE):
    if ax is None:
        fig = new_figure(figsize)
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes or None; got {ax!r}")
    return ax.figure, ax


def _number_label(value: float, _pos: Any = None) -> str:
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:g}"


class LogMinorTicks(Artist):
    """The minor ticks of a log axis (2 to 9 times each power of ten) as one line of tick
    marks, placed from the axis limits when drawn.

    They look like matplotlib's own minor ticks, which are one object each (label, grid line,
    two tick lines) and took a third of the time to render a log-log chart.
    """

    #: Matplotlib shows no minor ticks on a log axis spanning more decades than this.
    MAX_DECADES = 10

    def __init__(self, ax: Axes, which: str) -> None:
        super().__init__()
        self.ax, self.which = ax, which
        self.set_gid(f"minor-ticks-{which}")
        self.set_in_layout(False)
        self.set_zorder(0.5)
        self.line = Line2D(
            [],
            [],
            linestyle="none",
            marker=TICKDOWN if which == "x" else TICKLEFT,
            markersize=rcParams[f"{which}tick.minor.size"],
            markeredgewidth=rcParams[f"{which}tick.minor.width"],
            color=rcParams[f"{which}tick.color"],
            clip_on=False,
        )
        self.line.set_figure(ax.figure)

    def positions(self) -> np.ndarray:
        """Minor tick values inside the axis's current limits."""
        axis = self.ax.xaxis if self.which == "x" else self.ax.yaxis
        if axis.get_scale() != "log":
            return np.array([])
        low, high = sorted(axis.get_view_interval())
        first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
        if last - first > self.MAX_DECADES:
            return np.array([])
        values = np.outer(10.0 ** np.arange(first, last), np.arange(2, 10)).ravel()
        return values[(values >= low) & (values <= high)]

    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible():
            return
        values = self.positions()
        zeros = np.zeros_like(values)
        if self.which == "x":
            self.line.set_data(values, zeros)
            self.line.set_transform(self.ax.get_xaxis_transform())
        else:
            self.line.set_data(zeros, values)
            self.line.set_transform(self.ax.get_yaxis_transform())
        self.line.draw(renderer)


def style_axes(ax: Axes, xlabel: str, ylabel: str, *, logx: bool = True, logy: bool = False):
    """Axis labels, log scales with plain-number ticks, a light grid: the book's look."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    for which, axis, log in (("x", ax.xaxis, logx), ("y", ax.yaxis, logy)):
        if log:
            axis.set_major_locator(LogLocator(base=10))
            axis.set_major_formatter(FuncFormatter(_number_label))
            axis.set_minor_formatter(NullFormatter())
            axis.set_minor_locator(NullLocator())  # drawn by LogMinorTicks instead
            if not any(a.get_gid() == f"minor-ticks-{which}" for a in ax.artists):
                ax.add_artist(LogMinorTicks(ax, which))
    ax.grid(True, which="major", color="#DDDDDD", linewidth=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def format_batch(batch: float) -> str:
    """A batch size for a label: ``5,356``, or ``none`` when there is no such batch."""
    return "none" if not math.isfinite(batch) else f"{batch:,.0f}"


def format_sig(value: float, digits: int = 3) -> str:
    """A value with ``digits`` significant figures and thousands separators."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0)
    return f"{value:,.{decimals}f}"


# --------------------------------------------------------------------------- inputs


def _check_model_hw(model: Model, hw: Hardware) -> None:
    check_model(model)
    check_hardware(hw)


def default_batch_max(
    model: Model, hw: Hardware, context: float = 0, precision: str = "bf16"
) -> float:
    """Right end of the default batch axis: a few times the sweet spot.

    Without a sweet spot (KV line above the compute line) the axis runs a few times past the
    batch at which weight traffic per token falls to the KV traffic per token.
    """
    spot = rl.sweet_spot(model, hw, context, precision)
    if math.isfinite(spot):
        return max(BATCH_SPAN_PAST_SWEET_SPOT * spot, 10.0)
    terms = rl.cost_terms(model, hw, 1.0, context, precision)
    return max(10 * BATCH_SPAN_PAST_SWEET_SPOT * terms.weights / terms.kv, 10.0)


def batch_range(batch: Any, default_max: float) -> tuple[float, float]:
    """``(low, high)`` of a batch axis from a user's ``batch=(low, high)`` or ``None``."""
    return _axis_range("batch", batch, (1.0, float(default_max)), "sequences")


def _axis_range(
    name: str, value: Any, default: tuple[float, float], unit: str
) -> tuple[float, float]:
    """``(low, high)`` of a log axis from a user's pair ``value``, or ``default`` for ``None``;
    a ValueError naming ``name``, the valid range and the ``unit`` for anything else."""
    if value is None:
        return default
    try:
        low, high = (float(x) for x in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be None or a pair (low, high) in {unit}; got {value!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(
            f"{name} must be a pair (low, high) with 0 < low < high {unit}, both finite; "
            f"got {value!r}"
        )
    return low, high


def _batch_axis(
    model: Model, hw: Hardware, context: float, precision: str, batch: Any
) -> tuple[float, float]:
    """Check ``model`` and ``hw``; the batch axis [sequences]: ``batch`` or the default."""
    _check_model_hw(model, hw)
    return batch_range(batch, default_batch_max(model, hw, context, precision))


def batch_grid(low: float, high: float, points: int = GRID_POINTS) -> np.ndarray:
    """Batch sizes spaced evenly on a log axis from ``low`` to ``high`` [sequences]."""
    return np.geomspace(low, high, points)


def _check_markers(markers: Mapping[str, float] | None) -> dict[str, float]:
    if markers is None:
        return {}
    if not isinstance(markers, Mapping):
        raise ValueError(f"markers must be a dict {{label: batch}} or None; got {markers!r}")
    out = {}
    for label, b in markers.items():
        if (
            isinstance(b, bool)
            or not isinstance(b, int | float | np.integer | np.floating)
            or not math.isfinite(b)
            or b <= 0
        ):
            raise ValueError(f"markers[{label!r}] must be a batch size > 0; got {b!r}")
        out[str(label)] = float(b)
    return out


# --------------------------------------------------------------------------- shared artists


class RegionShading:
    """Shaded memory-bound and compute-bound spans of a batch axis, with their labels.

    ``fixed_labels=True`` pins the labels to the top corners of the axes instead of centring
    them on their spans; the memory-bound label then never changes (the explorer keeps it in
    its cached background) and the compute-bound one says when there is no sweet spot.
    """

    def __init__(self, ax: Axes, *, fixed_labels: bool = False) -> None:
        tf = ax.get_xaxis_transform()
        self.ax, self.fixed_labels = ax, fixed_labels
        self.spans = {
            name: ax.add_patch(
                Rectangle(
                    (1, 0),
                    1,
                    1,
                    transform=tf,
                    color=REGION_COLOR[name],
                    alpha=REGION_ALPHA,
                    linewidth=0,
                    zorder=0,
                )
            )
            for name in ("memory", "compute")
        }
        corner = {"memory": (0.02, "left"), "compute": (0.98, "right")}
        self.labels = {
            name: ax.text(
                corner[name][0] if fixed_labels else 1,
                0.97,
                "",
                transform=ax.transAxes if fixed_labels else tf,
                ha=corner[name][1] if fixed_labels else "center",
                va="top",
                fontsize=9,
                color="#333333",
                gid=f"region-{name}",
                bbox=LABEL_BOX,  # a line under the label is hidden, not crossed
            )
            for name in ("memory", "compute")
        }

    def update(self, spot: float, low: float, high: float) -> None:
        """Memory-bound from ``low`` to the sweet spot, compute-bound from there to ``high``."""
        edge = min(max(spot, low), high)
        parts = {"memory": (low, edge), "compute": (edge, high)}
        for name, (x0, x1) in parts.items():
            shown = x1 > x0
            self.spans[name].set_visible(shown)
            self.labels[name].set_visible(shown or self.fixed_labels)
            if shown:
                self.spans[name].set_x(x0)
                self.spans[name].set_width(x1 - x0)
                if not self.fixed_labels:
                    self.labels[name].set_x(math.sqrt(x0 * x1))
        no_spot = not math.isfinite(spot)
        if self.fixed_labels:  # the memory label never changes; the compute one explains
            self.labels["memory"].set_text("memory-bound")
            self.labels["compute"].set_text(
                "no sweet spot:\nKV line above compute line" if no_spot else "compute-bound"
            )
            return
        self.labels["memory"].set_text(
            "memory-bound at every batch\n(KV line above compute line: no sweet spot)"
            if no_spot
            else "memory-bound"
        )
        narrow = edge > 0 and high / edge < 10
        self.labels["compute"].set_text("compute-\nbound" if narrow else "compute-bound")
        if narrow:  # too narrow to centre the label on: keep it inside, at the right edge
            self.labels["compute"].set_x(high / 1.03)
            self.labels["compute"].set_ha("right")
        else:
            self.labels["compute"].set_ha("center")


class SweetSpotMarker:
    """A vertical line at the sweet-spot batch with its value as a label."""

    def __init__(self, ax: Axes, label_y: float = 0.5, *, labelled: bool = True) -> None:
        tf = ax.get_xaxis_transform()
        self.labelled = labelled
        self.line = Line2D(
            [1, 1],
            [0, 1],
            transform=tf,
            color=PALETTE["purple"],
            linewidth=1.4,
            linestyle="--",
            gid="sweet-spot",
            zorder=3,
        )
        ax.add_line(self.line)
        self.text = ax.text(
            1,
            label_y,
            "",
            transform=tf,
            ha="right",
            va="center",
            fontsize=9,
            color=PALETTE["purple"],
            gid="sweet-spot-label",
            bbox=LABEL_BOX,
        )

    def update(self, spot: float, low: float, high: float) -> None:
        shown = math.isfinite(spot) and low <= spot <= high
        self.line.set_visible(shown)
        self.text.set_visible(shown and self.labelled)
        if shown:
            self.line.set_xdata([spot, spot])
            self.text.set_x(spot / 1.08)
            self.text.set_text(f"sweet spot\nB = {format_batch(spot)}")


class MemoryLimitMarker:
    """Where the batch stops fitting in HBM: a line, a hatched span beyond it, a label."""

    def __init__(self, ax: Axes) -> None:
        tf = ax.get_xaxis_transform()
        self.line = Line2D(
            [1, 1],
            [0, 1],
            transform=tf,
            color=PALETTE["grey"],
            linewidth=1.6,
            gid="memory-limit",
            zorder=3,
        )
        ax.add_line(self.line)
        self.span = ax.add_patch(
            Rectangle(
                (1, 0),
                1,
                1,
                transform=tf,
                fill=False,
                hatch="//",
                edgecolor="#BBBBBB",
                linewidth=0,
                zorder=0.5,
            )
        )
        self.text = ax.text(
            1,
            0.84,
            "",
            transform=tf,
            ha="left",
            va="top",
            fontsize=8.5,
            color="#444444",
            gid="memory-limit-label",
            bbox=LABEL_BOX,
        )

    def _centre(self, low: float, high: float) -> None:
        self.text.set_ha("center")
        self.text.set_x(math.sqrt(low * high))

    def hide(self) -> None:
        for artist in (self.line, self.span, self.text):
            artist.set_visible(False)

    def update(self, fits: float, gpus: int, low: float, high: float) -> None:
        """``fits``: the largest batch that fits on ``gpus`` accelerators (0 or inf allowed)."""
        where = f"on {gpus} GPU{'s' if gpus > 1 else ''}"
        self.text.set_visible(True)
        self.text.set_ha("left")
        if not math.isfinite(fits):
            self.line.set_visible(False)
            self.span.set_visible(False)
            self._centre(low, high)
            self.text.set_text(f"context 0: no KV cache, any batch fits {where}")
            return
        edge = min(max(fits, low), high)
        self.span.set_visible(edge < high)
        self.span.set_x(edge)
        self.span.set_width(high - edge)
        self.line.set_visible(low < fits <= high)
        self.line.set_xdata([fits, fits])
        if fits < 1:
            self._centre(low, high)
            self.text.set_text(f"weights alone do not fit {where}")
        elif fits > high:
            self._centre(low, high)
            self.text.set_text(f"up to B = {format_batch(fits)} fits {where}")
        else:
            left_half = math.log(edge / low) < 0.5 * math.log(high / low)
            self.text.set_ha("left" if left_half else "right")
            self.text.set_x(edge * 1.06 if left_half else edge / 1.06)
            self.text.set_text(f"memory runs out\npast B = {format_batch(fits)}\n({where})")


class Offset(NamedTuple):
    """Where a label sits from its anchor point: an offset [points] and the text alignment."""

    dx: float
    dy: float
    ha: str
    va: str


#: Places for a marker's label, best first: the four diagonals close to the point, straight
#: above and below it, the diagonals a line further out, beside it, then further still.
MARKER_OFFSETS: tuple[Offset, ...] = (
    Offset(6, 6, "left", "bottom"),
    Offset(-6, 6, "right", "bottom"),
    Offset(6, -6, "left", "top"),
    Offset(-6, -6, "right", "top"),
    Offset(0, 9, "center", "bottom"),
    Offset(0, -9, "center", "top"),
    Offset(6, 18, "left", "bottom"),
    Offset(-6, 18, "right", "bottom"),
    Offset(6, -18, "left", "top"),
    Offset(-6, -18, "right", "top"),
    Offset(9, 0, "left", "center"),
    Offset(-9, 0, "right", "center"),
    Offset(0, 24, "center", "bottom"),
    Offset(0, -24, "center", "top"),
    Offset(6, 32, "left", "bottom"),
    Offset(-6, 32, "right", "bottom"),
    Offset(6, -32, "left", "top"),
    Offset(-6, -32, "right", "top"),
)


class LabelPlacer(Artist):
    """Places movable labels when the figure is drawn, once their sizes on screen are known.

    Each label is an :class:`~matplotlib.text.Annotation` with candidate :class:`Offset` values
    from its anchor. In order, each label takes its first candidate that stays inside the
    axes, clear of the ``obstacles`` (fixed labels, legends), of the points of ``point_sets``
    (markers) and of the labels placed before it, and crosses none of the ``curves``; when
    no candidate is clear, the one that overlaps least. The placer draws nothing itself; its
    low z-order makes it run before the labels are drawn, after the layout has settled.
    """

    #: Clearance around an obstacle [points] (the same on screen and in a 2x PNG).
    PAD_PT = 2.0
    #: Weight of a pixel of overlap with text (or outside the axes), and of a curve point.
    TEXT_WEIGHT = 20.0
    CURVE_WEIGHT = 25.0
    #: Penalty of a label nearly as close to another marker as to its own (which is it?).
    AMBIGUITY_PENALTY = 500.0
    #: Spacing of the sample points along a curve [pixels], and the most per segment.
    CURVE_STEP_PX = 3.0
    CURVE_MAX_PER_SEGMENT = 200

    def __init__(self, ax: Axes) -> None:
        super().__init__()
        self.ax = ax
        self.set_gid("label-placer")
        self.set_in_layout(False)
        self.set_zorder(-1)
        self.obstacles: list[Artist] = []
        self.point_sets: list[Line2D] = []
        self.curves: list[Line2D] = []
        self.groups: dict[str, list[tuple[Annotation, Sequence[Offset]]]] = {}
        self.marker_groups: set[str] = set()
        ax.add_artist(self)

    def set_group(
        self,
        name: str,
        labels: Sequence[tuple[Annotation, Sequence[Offset]]],
        *,
        markers: bool = False,
    ) -> None:
        """The labels of group ``name`` (groups are placed in the order first set);
        ``markers``: each labels one of the marker points, so keeps nearer to its own."""
        for ann, _ in labels:
            ann.set_in_layout(False)  # kept inside the axes: no say in the layout
        self.groups[name] = list(labels)
        if markers:
            self.marker_groups.add(name)

    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible():
            return
        pad = renderer.points_to_pixels(self.PAD_PT)
        boxes = [_padded(a.get_window_extent(renderer), pad) for a in self.obstacles if _shown(a)]
        points, radius = self._points(renderer)
        boxes += [
            Bbox.from_extents(x - radius, y - radius, x + radius, y + radius) for x, y in points
        ]
        curve = self._curve_points()
        for name, labels in self.groups.items():
            for ann, offsets in labels:
                anchor = self._anchor(ann)
                if not (_shown(ann) and _padded(self.ax.bbox, 1.0).contains(*anchor)):
                    continue
                own = np.hypot(*(points - anchor).T) <= 1.0
                others = points[~own] if name in self.marker_groups else points[:0]
                scene = _Scene(boxes, curve, anchor, others)
                boxes.append(_padded(self._place(ann, offsets, renderer, scene), pad))

    def _anchor(self, ann: Annotation) -> np.ndarray:
        """The point [pixels] that ``ann`` labels."""
        tf = ann.xycoords if not isinstance(ann.xycoords, str) else self.ax.transData
        return np.asarray(tf.transform(ann.xy), dtype=float)

    def _points(self, renderer: RendererBase) -> tuple[np.ndarray, float]:
        """Marker points [pixels] and the radius [pixels] to keep clear around each."""
        pad = renderer.points_to_pixels(self.PAD_PT)
        xy, radius = [np.empty((0, 2))], pad
        for line in self.point_sets:
            if line.get_visible() and len(line.get_xdata()):
                xy.append(line.get_transform().transform(line.get_xydata()))
                size = renderer.points_to_pixels(line.get_markersize())
                radius = max(radius, size / 2 + pad)
        points = np.concatenate(xy)
        return points[np.all(np.isfinite(points), axis=1)], radius

    def _curve_points(self) -> np.ndarray:
        """Points every few pixels along the visible curves, in display coordinates."""
        parts = [np.empty((0, 2))]
        for line in self.curves:
            if not line.get_visible() or len(line.get_xdata()) < 2:
                continue
            xy = line.get_transform().transform(line.get_xydata())
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            if len(xy) < 2:
                continue
            step = np.diff(xy, axis=0)
            count = np.clip(
                np.ceil(np.hypot(step[:, 0], step[:, 1]) / self.CURVE_STEP_PX),
                1,
                self.CURVE_MAX_PER_SEGMENT,
            ).astype(int)
            segment = np.repeat(np.arange(len(step)), count)
            start = np.repeat(np.cumsum(count) - count, count)
            fraction = (np.arange(count.sum()) - start) / count[segment]
            parts.append(xy[segment] + step[segment] * fraction[:, None])
        return np.concatenate(parts)

    def _place(
        self, ann: Annotation, offsets: Sequence[Offset], renderer: RendererBase, scene: _Scene
    ) -> Bbox:
        """Move ``ann`` to its best offset; return the box its text then covers [pixels]."""
        best: tuple[float, Offset, Bbox] | None = None
        for offset in offsets:
            box = self._try(ann, offset, renderer)
            score = self._score(box, scene)
            if best is None or score < best[0]:
                best = (score, offset, box)
            if score == 0:
                break
        assert best is not None
        if best[1] != offset:
            self._try(ann, best[1], renderer)
        return best[2]

    @staticmethod
    def _try(ann: Annotation, offset: Offset, renderer: RendererBase) -> Bbox:
        ann.xyann = (offset.dx, offset.dy)
        ann.set_horizontalalignment(offset.ha)
        ann.set_verticalalignment(offset.va)
        ann.update_positions(renderer)
        return Text.get_window_extent(ann, renderer)

    def _score(self, box: Bbox, scene: _Scene) -> float:
        """0 for a clear place; more for each pixel² over text or outside the axes, each
        curve point covered, and each other marker nearly as close as the label's own."""
        outside = box.width * box.height - _overlap(box, self.ax.bbox)
        text = sum(_overlap(box, other) for other in scene.boxes)
        x, y = scene.curve.T
        crossed = int(
            np.count_nonzero((x >= box.x0) & (x <= box.x1) & (y >= box.y0) & (y <= box.y1))
        )
        own = _distance_to_box(scene.anchor[None, :], box)[0]
        near = int(np.count_nonzero(_distance_to_box(scene.others, box) < 2 * own))
        return (
            self.TEXT_WEIGHT * (outside + text)
            + self.CURVE_WEIGHT * crossed
            + self.AMBIGUITY_PENALTY * near
        )


class _Scene(NamedTuple):
    """What a label must keep clear of [pixels]: boxes, curve points, its anchor, and the
    other marker points it must not seem to label."""

    boxes: list[Bbox]
    curve: np.ndarray
    anchor: np.ndarray
    others: np.ndarray


def _distance_to_box(points: np.ndarray, box: Bbox) -> np.ndarray:
    """Distance [pixels] from each of ``points`` (n x 2) to ``box`` (0 inside it)."""
    dx = np.maximum(np.maximum(box.x0 - points[:, 0], points[:, 0] - box.x1), 0.0)
    dy = np.maximum(np.maximum(box.y0 - points[:, 1], points[:, 1] - box.y1), 0.0)
    return np.hypot(dx, dy)


def _shown(artist: Artist) -> bool:
    return artist.get_visible() and (not isinstance(artist, Text) or bool(artist.get_text()))


def _padded(box: Bbox, pad: float) -> Bbox:
    return Bbox.from_extents(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad)


def _overlap(a: Bbox, b: Bbox) -> float:
    """Area [pixels²] that two boxes share."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


class PointMarkers:
    """Labelled points on a curve: ``{"label": batch}``; ``placer`` keeps the labels apart."""

    def __init__(self, ax: Axes, placer: LabelPlacer) -> None:
        self.ax, self.placer = ax, placer
        (self.points,) = ax.plot(
            [],
            [],
            "o",
            color=PALETTE["black"],
            markersize=6,
            markerfacecolor="white",
            markeredgewidth=1.6,
            zorder=5,
            gid="markers",
        )
        placer.point_sets.append(self.points)
        self.texts: list = []

    def show(
        self, markers: Mapping[str, float] | None, y_at: Callable[[np.ndarray], np.ndarray]
    ) -> None:
        """Mark ``{"label": batch}`` at the height ``y_at(batches)`` gives."""
        points = _check_markers(markers)
        xs = np.array(list(points.values()), dtype=float)
        self.update(list(points), xs, y_at(xs) if len(xs) else xs)

    def update(self, labels: Sequence[str], xs: np.ndarray, ys: np.ndarray) -> None:
        self.points.set_data(xs, ys)
        for t in self.texts:
            t.remove()
        self.texts = [
            self.ax.annotate(
                label,
                (x, y),
                xytext=(MARKER_OFFSETS[0].dx, MARKER_OFFSETS[0].dy),
                textcoords="offset points",
                fontsize=9,
                gid="marker-label",
                bbox=LABEL_BOX,  # a line under a label is hidden, not crossed
            )
            for label, x, y in zip(labels, xs, ys, strict=True)
        ]
        self.placer.set_group("markers", [(t, MARKER_OFFSETS) for t in self.texts], markers=True)


def log_limits(values: Iterable[np.ndarray], headroom: float = 3.0) -> tuple[float, float]:
    """Limits of a log axis holding ``values``, snapped to whole decades (so that small
    changes of the data leave the axis, and a cached background of the explorer, as is)."""
    data = np.concatenate([np.ravel(v) for v in values])
    data = data[np.isfinite(data) & (data > 0)]
    low = 10 ** math.floor(math.log10(float(data.min()) / 2.5))
    high = 10 ** math.ceil(math.log10(float(data.max()) * headroom))
    return low, high


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 x 10^k that is >= ``value`` (> 0)."""
    decade = 10 ** math.floor(math.log10(value))
    return next(m * decade for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10) if m * decade >= value)


# --------------------------------------------------------------------------- cost panel


class CostPanel:
    """The cost chart on one axes, built once and redrawn in place by :meth:`update`.

    Lines (found by ``gid``): ``cost-weights`` (hyperbola), ``cost-kv`` and ``cost-compute``
    (flat), ``cost-total`` (the cost per token), ``floor``; y in GPU-µs per token.
    """

    def __init__(
        self,
        ax: Axes,
        *,
        terms: bool = True,
        regions: bool = True,
        mark_sweet_spot: bool = True,
        log_cost: bool = True,
        legend: Mapping[str, Any] | None = None,
        compact: bool = False,
    ) -> None:
        """``legend``: keyword arguments of ``Axes.legend`` (placement);
        ``compact``: region labels pinned to the corners (for the explorer)."""
        self.ax, self.log_cost, self.compact = ax, log_cost, compact
        style_axes(ax, BATCH_LABEL, COST_LABEL, logy=log_cost)
        names = ("weights", "kv", "compute") if terms else ()
        self.lines = {
            name: ax.plot(
                [],
                [],
                label=TERM_LABEL[name],
                gid=f"cost-{name}",
                zorder=2 if name == "total" else 3,
                **TERM_STYLE[name],
            )[0]
            for name in (*names, "total")
        }
        # The floor's value sits on the floor line at the right edge of the axes, above or
        # below the line, moved left if a marker is there (the placer decides when drawn).
        self.floor_text = ax.annotate(
            "",
            (1.0, 1.0),
            xycoords=ax.get_yaxis_transform(),
            xytext=(-2, 3),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            gid="floor-label",
            bbox=LABEL_BOX,
        )
        self.regions = RegionShading(ax, fixed_labels=compact) if regions else None
        self.sweet = SweetSpotMarker(ax, label_y=0.55) if mark_sweet_spot else None
        self.memory = MemoryLimitMarker(ax)
        self.memory.hide()
        self.placer = LabelPlacer(ax)
        self.points = PointMarkers(ax, self.placer)
        # On a log cost axis the empty corner is below the hyperbola; on a linear one, above.
        corner = ("lower left", (0.0, 0.1)) if log_cost else ("center left", (0.0, 0.55))
        place = {"loc": corner[0], "bbox_to_anchor": corner[1], "framealpha": 0.9}
        self.legend = ax.legend(fontsize=8.5, **(legend or place))
        self.legend_texts = dict(zip(self.lines, self.legend.get_texts(), strict=True))
        self.placer.obstacles += [
            self.legend,
            self.memory.text,
            *(self.regions.labels.values() if self.regions else ()),
            *((self.sweet.text,) if self.sweet else ()),
        ]
        # Labels may cross the memory-limit line (their boxes hide it), not the sweet spot's.
        self.placer.curves += [*self.lines.values(), *((self.sweet.line,) if self.sweet else ())]

    def update(
        self,
        model: Model,
        hw: Hardware,
        context: float,
        precision: str,
        batches: np.ndarray,
        *,
        gpus_for_fit: int | None = None,
        markers: Mapping[str, float] | None = None,
        ylim: tuple[float, float] | None = None,
    ) -> None:
        """Recompute every line from the library at ``batches`` and move the markers.

        ``ylim`` fixes the cost axis [GPU-µs] (default: fitted to the data, whole decades).
        """
        scale = MICROSECONDS_PER_SECOND

        def cost_us(b: np.ndarray) -> np.ndarray:
            return np.asarray(rl.cost_per_token(model, hw, b, context, precision)) * scale

        low, high = float(batches[0]), float(batches[-1])
        total = cost_us(batches)
        terms = rl.cost_terms(model, hw, batches, context, precision)
        parts = terms._asdict()
        for name, line in self.lines.items():
            y = total if name == "total" else np.asarray(parts[name]) * scale
            line.set_data(batches, y)
        if "kv" in self.lines and not self.compact:
            zero = float(np.ravel(terms.kv)[0]) == 0
            self.legend_texts["kv"].set_text(
                TERM_LABEL["kv"] + (": 0 at context 0" if zero else "")
            )
        floor = rl.cost_floor(model, hw, context, precision) * scale
        spot = rl.sweet_spot(model, hw, context, precision)
        self._set_limits(low, high, total, floor, ylim)
        self.floor_text.xy = (1.0, floor)
        # Two short lines: narrow enough to fit right of the sweet spot on the default axis.
        self.floor_text.set_text(f"floor {format_sig(floor)}\nGPU-µs")
        # Above the line where the curve sits on it at the right edge, else below it.
        above = math.isclose(float(total[-1]), floor, rel_tol=1e-9)
        self.placer.set_group("floor", [(self.floor_text, floor_offsets(above))])
        if self.regions is not None:
            self.regions.update(spot, low, high)
        if self.sweet is not None:
            self.sweet.update(spot, low, high)
        if gpus_for_fit is None:
            self.memory.hide()
        else:
            fits = rl.max_batch(model, hw, context, gpus=gpus_for_fit, precision=precision)
            self.memory.update(float(fits), gpus_for_fit, low, high)
        self.points.show(markers, cost_us)

    def _set_limits(
        self, low: float, high: float, total: np.ndarray, floor: float, ylim: Any = None
    ) -> None:
        self.ax.set_xlim(low, high)
        if ylim is not None:
            self.ax.set_ylim(*ylim)
        elif self.log_cost:
            self.ax.set_ylim(*log_limits([total, np.array([floor])], headroom=2.0))
        else:
            self.ax.set_ylim(0, 6 * floor)


#: Places for the latency chart's step-time label, best first: above its line near the left
#: edge, a little further up or right, then below the line.
LATENCY_FLOOR_OFFSETS: tuple[Offset, ...] = (
    Offset(6, 7, "left", "bottom"),
    Offset(6, 14, "left", "bottom"),
    Offset(40, 7, "left", "bottom"),
    Offset(6, -7, "left", "top"),
    Offset(40, -7, "left", "top"),
)


def floor_offsets(above: bool) -> list[Offset]:
    """Places for the floor label, best first: at the right edge of the axes on the side of
    the floor line given by ``above`` (then the other side), then further left."""
    sides = [Offset(-2, 3, "right", "bottom"), Offset(-2, -3, "right", "top")]
    sides = sides if above else sides[::-1]
    return [s._replace(dx=s.dx - shift) for shift in (0, 50, 100, 150) for s in sides]


def _whole_gpus(name: str, gpus: Any) -> int:
    """``gpus`` as an int >= 1, or a ValueError naming the argument ``name``."""
    if isinstance(gpus, bool) or not isinstance(gpus, int | np.integer) or gpus < 1:
        raise ValueError(f"{name} must be a whole number of GPUs >= 1; got {gpus!r}")
    return int(gpus)


def cost_chart(
    model: Model,
    hw: Hardware,
    context: float = 0,
    precision: str = "bf16",
    *,
    batch: tuple[float, float] | None = None,
    ax: Axes | None = None,
    terms: bool = True,
    regions: bool = True,
    mark_sweet_spot: bool = True,
    markers: Mapping[str, float] | None = None,
    gpus_for_fit: int | None = None,
    log_cost: bool = True,
) -> Figure:
    """Cost per token [GPU-µs] against batch size: the three terms, their maximum, the
    regions, the sweet spot and the floor.

    ``batch=(low, high)`` sets the batch axis (default 1 to a few times the sweet spot);
    ``markers={"label": batch}`` puts labelled points on the curve; ``gpus_for_fit=n`` shows
    where the KV caches stop fitting in the HBM of ``n`` accelerators
    (:func:`tokenmath.roofline.max_batch`); ``log_cost=False`` draws a linear cost axis clipped
    to six times the floor.
    """
    low, high = _batch_axis(model, hw, context, precision, batch)
    fig, ax = _figure_and_axes(ax)
    panel = CostPanel(
        ax, terms=terms, regions=regions, mark_sweet_spot=mark_sweet_spot, log_cost=log_cost
    )
    panel.update(
        model,
        hw,
        context,
        precision,
        batch_grid(low, high),
        gpus_for_fit=None if gpus_for_fit is None else _whole_gpus("gpus_for_fit", gpus_for_fit),
        markers=markers,
    )
    ax.set_title(_title(model, hw, context, precision), fontsize=10)
    return fig


def _title(model: Model, hw: Hardware, context: float, precision: str) -> str:
    return f"{model.name} on {hw.name}, {precision.upper()}, context {context:,.0f} tokens"


# --------------------------------------------------------------------------- latency panel


class LatencyPanel:
    """Step time against batch on one axes, redrawn in place by :meth:`update`.

    Lines (by ``gid``): ``latency-memory`` (T_memory), ``latency-compute`` (T_compute),
    ``latency-total`` (T = max of the two); y in milliseconds.
    """

    def __init__(
        self,
        ax: Axes,
        *,
        regions: bool = True,
        mark_sweet_spot: bool = True,
        legend: Mapping[str, Any] | None = None,
        compact: bool = False,
        log_y: bool = False,
    ) -> None:
        """``legend``: keyword arguments of ``Axes.legend`` (placement);
        ``compact``: region labels pinned to the corners, no floor or sweet-spot label (the
        explorer shows those numbers beside the chart); ``log_y``: a log step-time axis
        (whole decades), where the flat stretch stays visible however far the batch runs."""
        self.ax, self.compact, self.log_y = ax, compact, log_y
        style_axes(ax, BATCH_LABEL, STEP_LABEL, logy=log_y)
        spec = {
            "memory": ("memory time (weights + KV)", TERM_STYLE["weights"]),
            "compute": ("compute time", TERM_STYLE["compute"]),
            "total": ("step time T = max", TERM_STYLE["total"]),
        }
        self.lines = {
            name: ax.plot(
                [],
                [],
                label=label,
                gid=f"latency-{name}",
                zorder=2 if name == "total" else 3,
                **style,
            )[0]
            for name, (label, style) in spec.items()
        }
        self.floor_text = ax.annotate(  # the step time at the left edge, above the line
            "",
            (1, 0),
            xytext=(LATENCY_FLOOR_OFFSETS[0].dx, LATENCY_FLOOR_OFFSETS[0].dy),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=9,
            gid="latency-floor-label",
            annotation_clip=False,
        )
        self.regions = RegionShading(ax, fixed_labels=compact) if regions else None
        self.sweet = (
            SweetSpotMarker(ax, label_y=0.55, labelled=not compact) if mark_sweet_spot else None
        )
        self.floor_text.set_visible(not compact)
        self.placer = LabelPlacer(ax)
        self.points = PointMarkers(ax, self.placer)
        # Below the region labels, above the flat step time at small batches.
        place = {"loc": "center left", "bbox_to_anchor": (0.0, 0.55), "framealpha": 0.9}
        legend_artist = ax.legend(fontsize=8.5, **(legend or place))
        self.placer.obstacles += [
            legend_artist,
            *(self.regions.labels.values() if self.regions else ()),
            *((self.sweet.text,) if self.sweet else ()),
        ]
        self.placer.curves += [*self.lines.values(), *((self.sweet.line,) if self.sweet else ())]

    def update(
        self,
        model: Model,
        hw: Hardware,
        context: float,
        precision: str,
        batches: np.ndarray,
        *,
        gpus: int = 1,
        markers: Mapping[str, float] | None = None,
    ) -> None:
        scale = MILLISECONDS_PER_SECOND

        def step_ms(b: np.ndarray) -> np.ndarray:
            return np.asarray(rl.step_time(model, hw, b, context, precision, gpus)) * scale

        low, high = float(batches[0]), float(batches[-1])
        t_mem, t_comp = rl.step_time_terms(model, hw, batches, context, precision, gpus)
        total = step_ms(batches)
        self.lines["memory"].set_data(batches, np.asarray(t_mem) * scale)
        self.lines["compute"].set_data(batches, np.asarray(t_comp) * scale)
        self.lines["total"].set_data(batches, total)
        self.ax.set_xlim(low, high)
        if self.log_y:
            self.ax.set_ylim(*log_limits([total], headroom=2.0))
        else:
            self.ax.set_ylim(0, nice_ceiling(float(total.max()) * 1.35))
        first = float(total[0])
        self.floor_text.xy = (low, first)
        self.floor_text.set_text(f"T = {format_sig(first)} ms at B = {format_batch(low)}")
        self.placer.set_group("floor", [(self.floor_text, LATENCY_FLOOR_OFFSETS)])
        spot = rl.sweet_spot(model, hw, context, precision)
        if self.regions is not None:
            self.regions.update(spot, low, high)
        if self.sweet is not None:
            self.sweet.update(spot, low, high)
        self.points.show(markers, step_ms)


def latency_chart(
    model: Model,
    hw: Hardware,
    context: float = 0,
    precision: str = "bf16",
    *,
    batch: tuple[float, float] | None = None,
    ax: Axes | None = None,
    mark_sweet_spot: bool = True,
    markers: Mapping[str, float] | None = None,
    gpus: int = 1,
    regions: bool = True,
    log_y: bool = False,
) -> Figure:
    """Step time [ms] against batch size: flat while memory-bound, rising once compute-bound.

    ``gpus`` accelerators share one replica (each step is ``gpus`` times shorter);
    ``log_y`` draws the step time on a log axis, as the explorer does.
    """
    low, high = _batch_axis(model, hw, context, precision, batch)
    fig, ax = _figure_and_axes(ax)
    panel = LatencyPanel(ax, regions=regions, mark_sweet_spot=mark_sweet_spot, log_y=log_y)
    panel.update(model, hw, context, precision, batch_grid(low, high), gpus=gpus, markers=markers)
    ax.set_title(_title(model, hw, context, precision), fontsize=10)
    return fig


def latency_and_cost_chart(
    model: Model,
    hw: Hardware,
    context: float = 0,
    precision: str = "bf16",
    *,
    batch: tuple[float, float] | None = None,
    markers: Mapping[str, float] | None = None,
    gpus: int = 1,
) -> Figure:
    """The latency chart (top) and the cost chart (below it) on one batch axis: both turn at
    the same batch, the sweet spot, which lines up from one panel to the other."""
    low, high = _batch_axis(model, hw, context, precision, batch)
    fig = new_figure(STACKED_FIGSIZE)
    ax_lat, ax_cost = fig.subplots(2, 1, sharex=True)
    batches = batch_grid(low, high)
    LatencyPanel(ax_lat).update(model, hw, context, precision, batches, gpus=gpus, markers=markers)
    CostPanel(ax_cost).update(model, hw, context, precision, batches, markers=markers)
    ax_lat.set_xlabel("")  # one batch axis, under the lower panel
    ax_lat.set_title("latency: what a user waits per token", fontsize=10)
    ax_cost.set_title("cost: what the operator pays per token", fontsize=10)
    fig.suptitle(_title(model, hw, context, precision), fontsize=10.5)
    return fig


# --------------------------------------------------------------------------- terms chart


def terms_chart(
    model: Model,
    hw: Hardware,
    context: float = 0,
    precision: str = "bf16",
    *,
    batch: tuple[float, float] | None = None,
) -> Figure:
    """Three panels on a shared cost axis [GPU-µs per token], one cost term in each:
    weight traffic / B (a hyperbola), KV traffic (flat), compute (flat)."""
    low, high = _batch_axis(model, hw, context, precision, batch)
    batches = batch_grid(low, high)
    terms = rl.cost_terms(model, hw, batches, context, precision)
    fig = new_figure(TERMS_FIGSIZE)
    axes = fig.subplots(1, 3, sharey=True)
    titles = {
        "weights": "weights / B: falls as 1/B",
        "kv": "KV cache: flat",
        "compute": "compute: flat",
    }
    values = terms._asdict()
    for ax, name in zip(axes, titles, strict=True):
        style_axes(ax, "", COST_LABEL if name == "weights" else "", logy=True)
        y = np.asarray(values[name]) * MICROSECONDS_PER_SECOND
        ax.plot(batches, y, gid=f"cost-{name}", **TERM_STYLE[name])
        ax.set_title(titles[name], fontsize=9.5)
        ax.set_xlim(low, high)
        if not np.any(y > 0):
            ax.text(
                0.5,
                0.5,
                "0 at context 0:\nno cache to read",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=9,
                color=TERM_STYLE[name]["color"],
            )
    positive = [np.asarray(v) * MICROSECONDS_PER_SECOND for v in values.values()]
    axes[0].set_ylim(*log_limits(positive, headroom=2.0))
    fig.supxlabel(BATCH_LABEL, fontsize=rcParams["axes.labelsize"])
    fig.suptitle(_title(model, hw, context, precision), fontsize=10.5)
    return fig


# --------------------------------------------------------------------------- comparisons


class Case(NamedTuple):
    """One curve of :func:`compare_cost_chart`: a label, a model, an accelerator, a context
    [tokens] and a precision."""

    label: str
    model: Model
    hw: Hardware
    context: float = 0
    precision: str = "bf16"


def _check_cases(cases: Sequence[Case]) -> list[Case]:
    try:
        cases = list(cases)
    except TypeError:
        raise ValueError(f"cases must be a list of tm.plots.Case; got {cases!r}") from None
    if not cases:
        raise ValueError("cases must hold at least one tm.plots.Case; got an empty list")
    for i, case in enumerate(cases):
        if not isinstance(case, Case):
            raise ValueError(
                f"cases[{i}] must be a tm.plots.Case(label, model, hw, context, "
                f"precision); got {case!r}"
            )
        _check_model_hw(case.model, case.hw)
    return cases


def compare_cost_chart(
    cases: Sequence[Case],
    *,
    batch: tuple[float, float] | None = None,
    ax: Axes | None = None,
    usd: bool = False,
) -> Figure:
    """Cost-per-token curves of several cases on one chart, each with its sweet spot.

    ``usd=True`` prices each curve at its accelerator's preset price: USD per million tokens
    instead of GPU-µs per token.
    """
    cases = _check_cases(cases)
    default = max(default_batch_max(c.model, c.hw, c.context, c.precision) for c in cases)
    low, high = batch_range(batch, default)
    batches = batch_grid(low, high)
    fig, ax = _figure_and_axes(ax)
    style_axes(ax, BATCH_LABEL, USD_LABEL if usd else COST_LABEL, logy=True)
    curves = [_draw_case(ax, case, batches, i, usd) for i, case in enumerate(cases)]
    ax.set_xlim(low, high)
    ax.set_ylim(*log_limits(curves, headroom=2.0))
    ax.legend(fontsize=8.5, loc="upper right", framealpha=0.9)
    return fig


def _case_values(case: Case, batches: np.ndarray, usd: bool) -> np.ndarray:
    cost = np.asarray(rl.cost_per_token(case.model, case.hw, batches, case.context, case.precision))
    if usd:
        return np.asarray(rl.usd_per_million_tokens(cost, case.hw.usd_per_hour))
    return cost * MICROSECONDS_PER_SECOND


def _draw_case(ax: Axes, case: Case, batches: np.ndarray, index: int, usd: bool) -> np.ndarray:
    color = PALETTE[CASE_COLORS[index % len(CASE_COLORS)]]
    style = CASE_STYLES[(index // len(CASE_COLORS) + index) % len(CASE_STYLES)]
    y = _case_values(case, batches, usd)
    spot = rl.sweet_spot(case.model, case.hw, case.context, case.precision)
    ax.plot(
        batches,
        y,
        color=color,
        linestyle=style,
        linewidth=2.0,
        gid=f"case-{index}",
        label=f"{case.label} (sweet spot {format_batch(spot)})",
    )
    if math.isfinite(spot) and batches[0] <= spot <= batches[-1]:
        y_spot = _case_values(case, np.array([spot]), usd)
        ax.plot([spot], y_spot, "o", color=color, markersize=7, gid=f"case-{index}-sweet-spot")
    return y


def sweet_spot_vs_context_chart(
    models: Sequence[Model],
    hw: Hardware,
    precision: str = "bf16",
    *,
    context: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Sweet-spot batch against context length for each model on one accelerator.

    Each curve rises with context and ends where the KV line reaches the compute line (a
    dotted line marks that context, :func:`tokenmath.roofline.critical_context`; past it no
    batch is compute-bound). ``context=(low, high)`` sets the context axis [tokens] (default
    16 to the longest context limit).
    """
    models = _check_models(models)
    default_high = max(m.context_limit for m in models)
    low, high = _axis_range("context", context, (16.0, float(default_high)), "tokens")
    contexts = np.geomspace(low, high, GRID_POINTS)
    fig, ax = _figure_and_axes(ax)
    style_axes(ax, CONTEXT_LABEL, "sweet-spot batch B* [sequences]", logy=True)
    for i, m in enumerate(models):
        color = PALETTE[CASE_COLORS[i % len(CASE_COLORS)]]
        held = contexts[contexts <= m.context_limit]  # each model up to its own limit
        spots = np.asarray(rl.sweet_spot(m, hw, held, precision), dtype=float)
        end = rl.critical_context(m, hw, precision)
        ends_here = low <= end <= min(high, m.context_limit)
        ax.plot(
            held,
            np.where(np.isfinite(spots), spots, np.nan),
            color=color,
            linewidth=2.0,
            gid=f"sweet-spot-{m.name}",
            label=f"{m.name}: none past L ≈ {end:,.0f}" if ends_here else m.name,
        )
        if ends_here:
            ax.axvline(end, color=color, linestyle=":", linewidth=1.2, gid=f"vanishes-{m.name}")
    ax.set_xlim(low, high)
    start = [rl.sweet_spot(m, hw, low, precision) for m in models]
    finite_start = [b for b in start if math.isfinite(b)]
    if finite_start:
        ax.set_ylim(top=100 * max(finite_start))
    ax.legend(fontsize=8.5, **(LEGEND_BELOW | {"ncol": 2, "bbox_to_anchor": (0.5, -0.16)}))
    ax.set_title(f"on {hw.name}, {precision.upper()}", fontsize=10)
    return fig


def _check_list(name: str, values: Any, kind: type) -> list:
    """``values`` as a non-empty list of ``kind`` (one ``kind`` alone is a list of one)."""
    if isinstance(values, kind):
        return [values]
    items = list(values) if isinstance(values, Iterable) and not isinstance(values, str) else []
    if not items:
        raise ValueError(f"{name} must hold at least one tokenmath {kind.__name__}; got {values!r}")
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise ValueError(f"{name}[{i}] must be a tokenmath {kind.__name__}; got {item!r}")
    return items


def _check_models(models: Sequence[Model]) -> list[Model]:
    return _check_list("models", models, Model)


def _check_hardwares(hardwares: Sequence[Hardware]) -> list[Hardware]:
    return _check_list("hardwares", hardwares, Hardware)


# --------------------------------------------------------------------------- the KV cache

GB = 1e9
KV_BYTES_LABEL = "b [bytes of cache per token of context]"
KV_SEQ_LABEL = "cache of one sequence [GB]"


def _cache_key(model: Model, kv_precision: str) -> tuple:
    """Models with the same key draw the same cache curve (same layout, same context limit)."""
    groups = tuple((g.cache_bytes_per_token(kv_precision), g.window) for g in model.attention)
    return (tuple(sorted(groups, key=str)), model.context_limit)


def _merge_same_cache(models: list[Model], kv_precision: str) -> list[tuple[str, Model]]:
    """``(label, model)`` once per distinct cache curve, names of identical ones joined."""
    merged: dict[tuple, list[Model]] = {}
    for m in models:
        merged.setdefault(_cache_key(m, kv_precision), []).append(m)
    return [(", ".join(m.name for m in same), same[0]) for same in merged.values()]


def _numbered_curve(ax: Axes, i: int, x: np.ndarray, y: np.ndarray, label: str, gid: str):
    """Draw the ``i``-th of several curves in its own colour and dash; return ``y``."""
    color = PALETTE[CASE_COLORS[i % len(CASE_COLORS)]]
    style = CASE_STYLES[(i // len(CASE_COLORS)) % len(CASE_STYLES)]
    ax.plot(x, y, color=color, linestyle=style, linewidth=1.8, label=label, gid=gid)
    return y


def kv_cache_chart(
    models: Sequence[Model],
    kv_precision: str = "bf16",
    *,
    context: tuple[float, float] | None = None,
) -> Figure:
    """Two panels: each model's ``b`` (bars, log axis) and one sequence's cache against context.

    Top: :func:`tokenmath.specs.kv_bytes_per_token`, the bytes each further token adds (for
    models with sliding windows, the growth of long contexts). Bottom:
    :func:`tokenmath.specs.kv_bytes_per_sequence` in GB on log-log axes, each model up to its
    own context limit; windowed layers show as a bend where their windows fill. Models whose
    curves coincide (same layout and limit) share one line. ``context=(low, high)`` sets the
    context axis [tokens] (default 16 to the longest limit).
    """
    models = _check_models(models)
    kv = check_kv_precision(kv_precision)
    default_high = float(max(m.context_limit for m in models))
    low, high = _axis_range("context", context, (16.0, default_high), "tokens")
    # the two panels stacked at the column's width, so that their text keeps its size
    bars_height, seq_height = max(3.0, 0.3 * len(models) + 1.2), 5.2
    fig = new_figure((FIGSIZE[0], bars_height + seq_height))
    bars_ax, seq_ax = fig.subplots(2, 1, height_ratios=(bars_height, seq_height))
    order = sorted(models, key=lambda m: kv_bytes_per_token(m, kv_precision=kv))
    rows = np.arange(len(order))
    b_values = np.array([kv_bytes_per_token(m, kv_precision=kv) for m in order])
    style_axes(bars_ax, KV_BYTES_LABEL, "", logy=False)
    bars_ax.barh(rows, b_values, height=0.62, color=PALETTE["vermillion"], gid="bars-b")
    for row, value in zip(rows, b_values, strict=True):
        bars_ax.text(value * 1.1, row, f"{value:,.0f}", va="center", fontsize=8)
    bars_ax.set_yticks(rows, [m.name for m in order], fontsize=8)
    bars_ax.set_xlim(float(b_values.min()) / 2, float(b_values.max()) * 12)
    bars_ax.set_title(f"bytes per token, {kv.upper()} cache", fontsize=10)
    style_axes(seq_ax, CONTEXT_LABEL, KV_SEQ_LABEL, logy=True)
    contexts = np.geomspace(low, high, GRID_POINTS)
    curves = []
    for i, (label, m) in enumerate(_merge_same_cache(models, kv)):
        held = contexts[contexts <= m.context_limit]
        cache = np.asarray(kv_bytes_per_sequence(m, held, kv)) / GB
        curves.append(_numbered_curve(seq_ax, i, held, cache, label, f"cache-{m.name}"))
    seq_ax.set_xlim(low, high)
    seq_ax.set_ylim(*log_limits(curves, headroom=2.0))
    # below the axes: the lines fill the panel from corner to corner
    seq_ax.legend(
        fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False
    )
    seq_ax.set_title("one sequence's cache, up to each model's context limit", fontsize=10)
    return fig


def cost_multiple_chart(
    models: Sequence[Model],
    hw: Hardware,
    precision: str = "bf16",
    *,
    price_tiers: Sequence[tuple[float, float]] = (),
    tier_label: str = "price tiers",
    context: tuple[float, float] | None = None,
    assume: Assumptions = FIRST_ORDER,
) -> Figure:
    """Cost floor at each context as a multiple of the floor at context 0, log-log.

    Each curve is :func:`tokenmath.kvcache.cost_multiple`: flat at 1 while the compute line
    hides the cache, then rising with the context. ``price_tiers``: ``(start context
    [tokens], price multiple)`` pairs of a price list, drawn as a staircase for comparison
    (the first pair should start at 0). ``context=(low, high)`` sets the context axis (default
    256 to the longest context limit or the last tier's start times 8, whichever is larger).
    """
    models = _check_models(models)
    check_hardware(hw)
    tiers = [(float(start), float(mult)) for start, mult in price_tiers]
    default_high = max(
        max(m.context_limit for m in models), 8 * max((s for s, _ in tiers), default=0)
    )
    low, high = _axis_range("context", context, (256.0, float(default_high)), "tokens")
    contexts = np.geomspace(low, high, GRID_POINTS)
    fig, ax = _figure_and_axes(None, (FIGSIZE[0], 4.6))
    style_axes(ax, CONTEXT_LABEL, "cost floor / cost floor at context 0", logy=True)
    curves = []
    for i, (label, m) in enumerate(_merge_same_cache(models, "bf16")):
        multiple = np.asarray(kvcache.cost_multiple(m, hw, contexts, 0.0, precision, assume=assume))
        curves.append(_numbered_curve(ax, i, contexts, multiple, label, f"multiple-{m.name}"))
    if tiers:
        starts = [max(s, low) for s, _ in tiers] + [high]
        xs = np.repeat(starts, 2)[1:-1]
        ys = np.repeat([mult for _, mult in tiers], 2)
        ax.plot(xs, ys, color=PALETTE["grey"], linewidth=3.4, label=tier_label, gid="price-tiers")
        curves.append(ys)
    ax.set_xlim(low, high)
    ax.set_ylim(0.5, log_limits(curves, headroom=2.0)[1])
    ax.legend(fontsize=8, loc="upper left", framealpha=0.9)
    ax.set_title(f"cost floor on {hw.name}, {precision.upper()}", fontsize=10)
    return fig


# --------------------------------------------------------------------------- fit and price


def fit_chart(
    models: Sequence[Model],
    hardwares: Sequence[Hardware],
    context: float,
    *,
    precision: str = "bf16",
    gpus: int = 8,
) -> Figure:
    """Does the sweet spot fit? For each (model, accelerator): the sweet-spot batch next to the
    largest batch whose KV caches fit in the HBM of ``gpus`` accelerators at ``context``."""
    models, hardwares = _check_models(models), _check_hardwares(hardwares)
    gpus = _whole_gpus("gpus", gpus)
    pairs = [(m, h) for m in models for h in hardwares]
    spots = np.array([rl.sweet_spot(m, h, context, precision) for m, h in pairs], dtype=float)
    fits = np.array([rl.max_batch(m, h, context, gpus, precision) for m, h in pairs], dtype=float)
    finite = np.concatenate([spots[np.isfinite(spots)], fits[np.isfinite(fits) & (fits > 0)]])
    top = float(finite.max()) * 3 if finite.size else 1e4
    height = max(2.6, 0.55 * len(pairs) + 1.2)
    fig = new_figure((FIGSIZE[0], height))
    ax = fig.add_subplot()
    style_axes(ax, "batch size B [sequences]", "", logy=False)
    rows = np.arange(len(pairs))[::-1]
    bar = 0.38
    ax.barh(
        rows + bar / 2,
        np.where(np.isfinite(spots), spots, 0.0),
        height=bar,
        color=PALETTE["purple"],
        label="sweet-spot batch",
        gid="bars-sweet-spot",
    )
    ax.barh(
        rows - bar / 2,
        np.where(np.isfinite(fits), fits, 0.0),
        height=bar,
        color=PALETTE["blue"],
        label=f"largest batch that fits on {gpus} GPUs",
        gid="bars-fit",
    )
    for row, spot, fit in zip(rows, spots, fits, strict=True):
        _bar_note(ax, row + bar / 2, spot, "no sweet spot (KV line above compute line)")
        no_fit = "no KV cache: no limit" if not math.isfinite(fit) else "weights do not fit"
        _bar_note(ax, row - bar / 2, fit, no_fit)
    ax.set_yticks(rows, [f"{m.name}\non {h.name}" for m, h in pairs], fontsize=8.5)
    ax.set_xlim(1, top * 10)
    ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    ax.set_title(
        f"context {context:,.0f} tokens, {precision.upper()}, {gpus} GPUs per replica", fontsize=10
    )
    return fig


def _bar_note(ax: Axes, y: float, value: float, special: str) -> None:
    if math.isfinite(value) and value >= 1:
        text, x = format_batch(value), value
    else:
        text, x = special, 1.0
    ax.text(x * 1.08, y, text, va="center", ha="left", fontsize=8, color="#222222")


def _usd_at(model: Model, hw: Hardware, batch: float, context: float, precision: str) -> float:
    """USD per million tokens at ``batch`` (``inf``: the floor); NaN without ``precision``."""
    if precision.lower() not in hw.flops_per_s:
        return math.nan
    if math.isinf(batch):
        cost = rl.cost_floor(model, hw, context, precision)
    else:
        cost = rl.cost_per_token(model, hw, batch, context, precision)
    return float(rl.usd_per_million_tokens(cost, hw.usd_per_hour))


#: ``usd_chart(..., batch=FLOOR)``: price every accelerator at its cost floor (B -> inf).
FLOOR = "floor"


def usd_batch(batch: Any) -> float:
    """The ``batch`` of :func:`usd_chart` as a number of sequences: a batch size > 0, or
    ``math.inf`` / ``"floor"`` for the cost floor (``inf``). ValueError for anything else."""
    valid = f"a batch size > 0, math.inf or {FLOOR!r} (the cost floor)"
    if isinstance(batch, str):
        if batch.strip().lower() == FLOOR:
            return math.inf
        raise ValueError(f"batch must be {valid}; got {batch!r}")
    if isinstance(batch, bool) or not isinstance(batch, int | float | np.integer | np.floating):
        raise ValueError(f"batch must be {valid}; got {batch!r}")
    value = float(batch)
    if math.isnan(value) or value <= 0:
        raise ValueError(f"batch must be {valid}; got {batch!r}")
    return value


def usd_chart(
    model: Model,
    hardwares: Sequence[Hardware],
    batch: float | str,
    context: float = 0,
    precision: str = "bf16",
    *,
    ax: Axes | None = None,
) -> Figure:
    """USD per million tokens at ``batch`` on each accelerator, at its preset (dated) price.

    A red tick marks each accelerator's floor (the price as the batch grows without bound);
    ``batch=math.inf`` or ``batch="floor"`` draws the floor itself as the bars. The row label
    gives the price per GPU-hour and its date. Accelerators without ``precision`` are listed
    and marked as such instead of raising.
    """
    hardwares = _check_hardwares(hardwares)
    _check_model_hw(model, hardwares[0])
    check_precision(precision)  # a precision some accelerators lack is drawn; unknown ones raise
    b = usd_batch(batch)
    at_floor = math.isinf(b)
    fig, ax = _figure_and_axes(ax, (FIGSIZE[0], max(2.6, 0.42 * len(hardwares) + 1.4)))
    style_axes(ax, USD_LABEL, "", logx=False)
    values = np.array([_usd_at(model, h, b, context, precision) for h in hardwares])
    floors = np.array([_usd_at(model, h, math.inf, context, precision) for h in hardwares])
    rows = np.arange(len(hardwares))[::-1]
    ax.barh(
        rows,
        np.nan_to_num(values),
        color=PALETTE["blue"],
        height=0.6,
        label="cost floor (B → ∞)" if at_floor else f"at B = {format_batch(b)}",
        gid="bars-usd",
    )
    if not at_floor:  # at the floor the bars end where the ticks would be
        ax.plot(
            floors,
            rows,
            "|",
            color=PALETTE["vermillion"],
            markersize=16,
            markeredgewidth=2.4,
            label="floor (B → ∞)",
            gid="usd-floor",
        )
    for row, usd in zip(rows, values, strict=True):
        note = f" no {precision.upper()}" if np.isnan(usd) else f" ${format_sig(usd)}"
        ax.text(0 if np.isnan(usd) else usd, row, note, va="center", ha="left", fontsize=8.5)
    labels = [f"{h.name}  ${h.usd_per_hour:.2f}/h ({h.price_date})" for h in hardwares]
    ax.set_yticks(rows, labels, fontsize=8.5)
    shown = np.r_[values, floors]
    shown = shown[np.isfinite(shown)]
    ax.set_xlim(0, float(shown.max()) * 1.25 if shown.size and shown.max() > 0 else 1.0)
    ax.legend(fontsize=8.5, framealpha=0.9, loc="lower right")
    where = ", at the cost floor" if at_floor else ""
    ax.set_title(
        f"{model.name}, {precision.upper()}, context {context:,.0f} tokens{where}", fontsize=10
    )
    return fig


# --------------------------------------------------------------------------- prefill

PROMPT_LABEL = "prompt length P [tokens]"
TTFT_LABEL = "time to first token [ms]"
#: Shortest prompt on a default prompt axis [tokens].
PROMPT_AXIS_LOW = 16.0


class PrefillCase(NamedTuple):
    """One curve of :func:`ttft_chart`: a label, a model, an accelerator, a weight precision
    and the accelerators in one replica."""

    label: str
    model: Model
    hw: Hardware
    precision: str = "bf16"
    gpus: int = 1


def prompt_range(prompt: Any, model: Model) -> tuple[float, float]:
    """``(low, high)`` of a prompt axis [tokens]: ``prompt=(low, high)``, or 16 tokens to the
    model's context limit."""
    return _axis_range("prompt", prompt, (PROMPT_AXIS_LOW, float(model.context_limit)), "tokens")


def _crossover_note(tokens: float) -> str:
    return "never compute-bound" if not math.isfinite(tokens) else f"P ≈ {tokens:,.0f}"


class PrefillPanels:
    """Time to first token (first axes) and the cost of an input and an output token (second
    axes), against the prompt length; built once, redrawn in place by :meth:`update`.

    First axes' lines (by ``gid``): ``ttft-memory``, ``ttft-compute``, ``ttft-total`` [ms], one
    prompt per pass on an idle replica. Second: ``input-cost`` (GPU-µs per input token, passes
    of ``prefill_batch`` prompts), ``output-cost`` (GPU-µs per output token at
    ``decode_batch`` and a context of the prompt length). A dashed line marks the crossover
    prompt; a point marks the chosen prompt on every curve.
    """

    def __init__(
        self,
        ax_ttft: Axes,
        ax_cost: Axes,
        *,
        legend: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    ) -> None:
        """``legend``: keyword arguments of ``Axes.legend`` for each panel (placement)."""
        self.axes = (ax_ttft, ax_cost)
        style_axes(ax_ttft, PROMPT_LABEL, TTFT_LABEL, logy=True)
        style_axes(ax_cost, PROMPT_LABEL, COST_LABEL, logy=True)
        spec = {
            "ttft-memory": (ax_ttft, "memory time (weights + KV)", TERM_STYLE["weights"]),
            "ttft-compute": (ax_ttft, "compute time", TERM_STYLE["compute"]),
            "ttft-total": (ax_ttft, "time to first token", TERM_STYLE["total"]),
            "input-cost": (ax_cost, "input token", TERM_STYLE["total"]),
            "output-cost": (ax_cost, "output token", {**TERM_STYLE["kv"], "linewidth": 2.2}),
        }
        self.lines = {
            gid: ax.plot([], [], label=label, gid=gid, zorder=3, **style)[0]
            for gid, (ax, label, style) in spec.items()
        }
        self.regions = RegionShading(ax_ttft)
        self.cross = ax_ttft.axvline(
            1, color=PALETTE["purple"], linewidth=1.3, linestyle="--", gid="crossover"
        )
        self.cross_text = ax_ttft.text(
            1,
            0.5,
            "",
            transform=ax_ttft.get_xaxis_transform(),
            ha="right",
            va="center",
            fontsize=8.5,
            color=PALETTE["purple"],
            gid="crossover-label",
            bbox=LABEL_BOX,
        )
        (self.points,) = ax_ttft.plot(
            [],
            [],
            "o",
            color=PALETTE["black"],
            markerfacecolor="white",
            markersize=6,
            markeredgewidth=1.6,
            zorder=5,
            gid="prompt-marker",
        )
        (self.cost_points,) = ax_cost.plot(
            [],
            [],
            "o",
            color=PALETTE["black"],
            markerfacecolor="white",
            markersize=6,
            markeredgewidth=1.6,
            zorder=5,
            gid="prompt-marker-cost",
        )
        self.legend_places = legend or (
            {"loc": "lower right", "framealpha": 0.9},
            {"loc": "lower left", "framealpha": 0.9},
        )

    def update(
        self,
        model: Model,
        hw: Hardware,
        prompts: np.ndarray,
        precision: str = "bf16",
        gpus: int = 1,
        *,
        decode_batch: float = 256.0,
        prefill_batch: float = 1.0,
        marker: float | None = None,
        assume: Assumptions = FIRST_ORDER,
        kv_precision: str = "bf16",
        ylims: tuple[tuple[float, float], tuple[float, float]] | None = None,
        legend_details: bool = True,
    ) -> dict[str, float]:
        """Recompute every line at ``prompts`` [tokens]; mark the prompt ``marker``.

        Returns the crossover prompt and, at ``marker`` (if given), the time to first token
        [s] and the GPU-seconds of an input and an output token. ``ylims`` fixes both y axes
        (ms, then GPU-µs; default: fitted to the data, whole decades); ``legend_details``
        puts the batches in the legend (the explorer shows them beside the chart instead).
        """
        kw = {"kv_precision": kv_precision, "assume": assume}
        ms, us = MILLISECONDS_PER_SECOND, MICROSECONDS_PER_SECOND
        t_mem, t_comp = (
            np.asarray(t) for t in pf.prefill_terms(model, hw, prompts, 1.0, precision, gpus, **kw)
        )
        total = np.maximum(t_mem, t_comp)
        per_input = np.asarray(
            pf.cost_per_input_token(model, hw, prompts, prefill_batch, precision, **kw)
        )
        per_output = np.asarray(
            rl.cost_per_token(model, hw, decode_batch, prompts, precision, **kw)
        )
        self.lines["ttft-memory"].set_data(prompts, t_mem * ms)
        self.lines["ttft-compute"].set_data(prompts, t_comp * ms)
        self.lines["ttft-total"].set_data(prompts, total * ms)
        self.lines["input-cost"].set_data(prompts, per_input * us)
        self.lines["output-cost"].set_data(prompts, per_output * us)
        if legend_details:
            pass_note = "" if prefill_batch == 1 else f" ({prefill_batch:g} prompts a pass)"
            self.lines["input-cost"].set_label(f"input token{pass_note}")
            self.lines["output-cost"].set_label(f"output token (decode B = {decode_batch:,.0f})")
        for ax, place in zip(self.axes, self.legend_places, strict=True):
            ax.legend(**{"fontsize": 8.5, **place})
        low, high = float(prompts[0]), float(prompts[-1])
        cross = pf.prefill_crossover_tokens(model, hw, precision, **kw)
        self.regions.update(cross, low, high)
        self.regions.labels["memory"].set_text("memory-bound" if cross > low else "")
        self.regions.labels["compute"].set_text("compute-bound" if cross < high else "")
        shown = low <= cross <= high
        self.cross.set_visible(shown)
        self.cross.set_xdata([cross, cross])
        self.cross_text.set_visible(shown)
        self.cross_text.set_x(cross / 1.1)
        self.cross_text.set_text(f"crossover\n{_crossover_note(cross)}")
        ttft_ax, cost_ax = self.axes
        for ax in self.axes:
            ax.set_xlim(low, high)
        if ylims is None:
            ttft_ax.set_ylim(*log_limits([total * ms, t_comp * ms], headroom=3.0))
            cost_ax.set_ylim(*log_limits([per_input * us, per_output * us], headroom=3.0))
        else:
            ttft_ax.set_ylim(*ylims[0])
            cost_ax.set_ylim(*ylims[1])
        out = {"crossover_tokens": cross}
        if marker is None:
            self.points.set_data([], [])
            self.cost_points.set_data([], [])
            return out
        at = float(marker)
        ttft = float(np.max(pf.prefill_terms(model, hw, at, 1.0, precision, gpus, **kw)))
        inp = float(pf.cost_per_input_token(model, hw, at, prefill_batch, precision, **kw))
        outp = float(rl.cost_per_token(model, hw, decode_batch, at, precision, **kw))
        self.points.set_data([at], [ttft * ms])
        self.cost_points.set_data([at, at], [inp * us, outp * us])
        return {**out, "ttft_s": ttft, "input_gpu_s": inp, "output_gpu_s": outp}


def prefill_chart(
    model: Model,
    hw: Hardware,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    prompt: tuple[float, float] | None = None,
    decode_batch: float = 256.0,
    prefill_batch: float = 1.0,
    marker: float | None = None,
    assume: Assumptions = FIRST_ORDER,
    kv_precision: str = "bf16",
) -> Figure:
    """Time to first token [ms] (top) and GPU-µs per input and per output token (bottom)
    against the prompt length, with the crossover where prefill turns compute-bound.

    Top: one prompt prefilled alone on a replica of ``gpus`` accelerators. Bottom: an input
    token of passes of ``prefill_batch`` prompts (:func:`tokenmath.prefill.cost_per_input_token`)
    beside an output token decoded at ``decode_batch`` with the prompt as context
    (:func:`tokenmath.roofline.cost_per_token`); the gap is the output/input cost ratio.
    ``prompt=(low, high)`` sets the axis (default 16 tokens to the context limit);
    ``marker`` marks one prompt length. ``assume``: a :class:`~tokenmath.assumptions.Assumptions`.
    """
    _check_model_hw(model, hw)
    gpus = _whole_gpus("gpus", gpus)
    low, high = prompt_range(prompt, model)
    # the two panels stacked at the column's width, so that their text keeps its size
    fig = new_figure(PREFILL_FIGSIZE)
    ax_ttft, ax_cost = fig.subplots(2, 1)
    panels = PrefillPanels(ax_ttft, ax_cost)
    panels.update(
        model,
        hw,
        np.geomspace(low, high, GRID_POINTS),
        precision,
        gpus,
        decode_batch=decode_batch,
        prefill_batch=prefill_batch,
        marker=marker,
        assume=assume,
        kv_precision=kv_precision,
    )
    ax_ttft.set_title("time to first token (one prompt, idle replica)", fontsize=10)
    ax_cost.set_title("cost of an input and an output token", fontsize=10)
    fig.suptitle(_prefill_title(model, hw, precision, gpus), fontsize=10.5)
    return fig


def _prefill_title(model: Model, hw: Hardware, precision: str, gpus: int) -> str:
    prec = check_precision(precision)
    shown = prec.upper()
    if prec == "native":
        shown = f"native weights ({compute_precision(model, hw, prec).upper()} arithmetic)"
    return f"{model.name} on {gpus} x {hw.name}, {shown}"


def _check_prefill_cases(cases: Sequence[PrefillCase]) -> list[PrefillCase]:
    items = list(cases) if isinstance(cases, Iterable) else []
    if not items:
        raise ValueError(f"cases must hold at least one tm.plots.PrefillCase; got {cases!r}")
    for i, case in enumerate(items):
        if not isinstance(case, PrefillCase):
            raise ValueError(
                f"cases[{i}] must be a tm.plots.PrefillCase(label, model, hw, precision, "
                f"gpus); got {case!r}"
            )
        _check_model_hw(case.model, case.hw)
        _whole_gpus(f"cases[{i}].gpus", case.gpus)
    return items


def ttft_chart(
    cases: Sequence[PrefillCase],
    *,
    prompt: tuple[float, float] | None = None,
    assume: Assumptions = FIRST_ORDER,
    kv_precision: str = "bf16",
    ax: Axes | None = None,
) -> Figure:
    """Time to first token [ms] against prompt length for several cases, one prompt on an
    idle replica each, with a point where each turns compute-bound.

    Each curve runs to its model's context limit. ``prompt=(low, high)`` sets the axis
    [tokens] (default 16 to the longest limit); ``assume``: a
    :class:`~tokenmath.assumptions.Assumptions`.
    """
    cases = _check_prefill_cases(cases)
    kw = {"kv_precision": kv_precision, "assume": assume}
    longest = max(cases, key=lambda c: c.model.context_limit).model
    low, high = prompt_range(prompt, longest)
    prompts = np.geomspace(low, high, GRID_POINTS)
    fig, ax = _figure_and_axes(ax)
    style_axes(ax, PROMPT_LABEL, TTFT_LABEL, logy=True)
    curves = []
    for i, case in enumerate(cases):
        color = PALETTE[CASE_COLORS[i % len(CASE_COLORS)]]
        held = prompts[prompts <= case.model.context_limit]
        args = (case.model, case.hw)
        t = np.asarray(pf.prefill_time(*args, held, 1.0, case.precision, case.gpus, **kw))
        cross = pf.prefill_crossover_tokens(*args, case.precision, **kw)
        ax.plot(
            held,
            t * MILLISECONDS_PER_SECOND,
            color=color,
            linestyle=CASE_STYLES[i % len(CASE_STYLES)],
            linewidth=2.0,
            gid=f"ttft-{i}",
            label=f"{case.label} (compute-bound past {_crossover_note(cross)})",
        )
        if math.isfinite(cross) and held.size and held[0] <= cross <= held[-1]:
            at = pf.prefill_time(*args, cross, 1.0, case.precision, case.gpus, **kw)
            ax.plot(
                [cross],
                [at * MILLISECONDS_PER_SECOND],
                "o",
                color=color,
                markersize=7,
                gid=f"ttft-{i}-crossover",
            )
        curves.append(t * MILLISECONDS_PER_SECOND)
    ax.set_xlim(low, high)
    ax.set_ylim(*log_limits(curves, headroom=3.0))
    ax.legend(fontsize=8.5, loc="upper left", framealpha=0.9)
    return fig


# --------------------------------------------------------------------------- refinements

#: Batch axis of the expert-reads panel [sequences].
REFINE_BATCHES = (1.0, 1e4)
#: Context axis of the context panels [tokens].
REFINE_CONTEXTS = (16.0, 65_536.0)
#: Shares of the routed weights marked on the expert-reads panel.
REFINE_SHARES = (0.9, 0.99)
#: Size of the refinements chart [inches]: four panels stacked at the column's width.
REFINEMENTS_FIGSIZE = (FIGSIZE[0], 13.5)


def _unique_models(*groups: Sequence[Model]) -> list[Model]:
    seen: dict[str, Model] = {}
    for group in groups:
        for m in group:
            seen.setdefault(m.name, m)
    return list(seen.values())


def refinements_chart(
    moe_models: Sequence[Model],
    context_models: Sequence[Model],
    hw: Hardware,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    refined: Assumptions = REFINED,
    context: tuple[float, float] | None = None,
) -> Figure:
    """Four panels: how far the refinements move the first-order headline numbers.

    (a) the expected share of routed-expert weights a step reads against the batch, for each
    of ``moe_models``, with each model's sweet spot marked (a dot); (b) the batch-1 penalty
    at context 0 under :data:`~tokenmath.assumptions.FIRST_ORDER` and under ``refined`` for
    every model of both lists, with ``C/BW`` at BF16 as a vertical line; (c) the sweet-spot
    batch against context and (d) the step at the sweet spot over the step at batch 1
    (:func:`tokenmath.serving.slowdown_at_sweet_spot`), both for ``context_models``, solid
    for the first-order model and dashed for ``refined``. ``context=(low, high)`` sets the
    context axis of (c) and (d) [tokens]; each model is drawn up to its context limit.
    """
    moe_models = _check_list("moe_models", moe_models, Model)
    context_models = _check_list("context_models", context_models, Model)
    check_hardware(hw)
    check_assumptions(refined)
    low, high = _axis_range("context", context, REFINE_CONTEXTS, "tokens")
    everyone = _unique_models(moe_models, context_models)
    colors = {m.name: PALETTE[CASE_COLORS[i % len(CASE_COLORS)]] for i, m in enumerate(everyone)}
    kw = {"kv_precision": kv_precision}
    # the four panels stacked at the column's width, so that their text keeps its size
    fig = new_figure(REFINEMENTS_FIGSIZE, constrained=False)
    # a fixed layout: constrained layout took half the time of drawing these four panels
    fig.subplots_adjust(left=0.2, right=0.95, bottom=0.045, top=0.93, hspace=0.55)
    ax_share, ax_penalty, ax_spot, ax_slow = fig.subplots(4, 1).ravel()
    _share_panel(ax_share, moe_models, hw, precision, colors, kw)
    _penalty_panel(ax_penalty, everyone, hw, precision, refined, kw)
    contexts = np.geomspace(low, high, GRID_POINTS)
    for ax, quantity in ((ax_spot, "spot"), (ax_slow, "slowdown")):
        _context_panel(ax, quantity, context_models, hw, precision, refined, contexts, colors, kw)
    fig.suptitle(
        f"on {hw.name}, {precision.upper()} weights, {kv_precision.upper()} cache\n"
        f"solid: first-order, dashed: {refined.describe()}",
        fontsize=10,
    )
    return fig


def _share_panel(ax, models, hw, precision, colors, kw) -> None:
    batches = np.geomspace(*REFINE_BATCHES, GRID_POINTS)
    style_axes(ax, BATCH_LABEL, "share of routed weights read", logy=False)
    for m in models:
        share = np.asarray(routed_share_read(m, batches), dtype=float)
        ax.plot(
            batches,
            share,
            color=colors[m.name],
            linewidth=2.0,
            gid=f"share-{m.name}",
            label=f"{m.name} (k/E = {m.experts_per_token}/{m.routed_experts})"
            if m.routed_experts
            else f"{m.name} (dense)",
        )
        spot = float(rl.sweet_spot(m, hw, 0, precision, **kw))
        if batches[0] <= spot <= batches[-1]:
            ax.plot(
                [spot],
                [float(routed_share_read(m, spot))],
                "o",
                color=colors[m.name],
                markersize=6,
                gid=f"share-spot-{m.name}",
            )
    for level in REFINE_SHARES:
        ax.axhline(
            level, color=PALETTE["grey"], linestyle=":", linewidth=1.0, gid=f"share-level-{level:g}"
        )
        ax.annotate(
            f"{level:.0%}",
            (0.0, level),
            xycoords=("axes fraction", "data"),
            xytext=(3, -1),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=8,
            color="#444444",
        )
    ax.set_xlim(*REFINE_BATCHES)
    ax.set_ylim(0, 1.04)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:.0%}"))
    ax.legend(fontsize=8, loc="lower right", framealpha=0.9)
    ax.set_title("(a) routed weights one step reads (dot: sweet spot)", fontsize=9.5)


def _penalty_panel(ax, models, hw, precision, refined, kw) -> None:
    first = np.array([rl.batch1_penalty(m, hw, 0, precision, **kw) for m in models])
    better = np.array(
        [rl.batch1_penalty(m, hw, 0, precision, assume=refined, **kw) for m in models]
    )
    style_axes(ax, "batch-1 penalty [× the cost floor]", "", logx=True)
    rows = np.arange(len(models))[::-1]
    bar = 0.38
    ax.barh(
        rows + bar / 2,
        first,
        height=bar,
        color=PALETTE["grey"],
        label="first-order",
        gid="bars-penalty-first-order",
    )
    ax.barh(
        rows - bar / 2,
        better,
        height=bar,
        color=PALETTE["blue"],
        label=refined.describe(),
        gid="bars-penalty-refined",
    )
    for row, a, b in zip(rows, first, better, strict=True):
        ax.text(a * 1.08, row + bar / 2, f"{a:,.0f}", va="center", fontsize=8)
        ax.text(b * 1.08, row - bar / 2, f"{b:,.0f}", va="center", fontsize=8)
    ratio = hw.ops_per_byte("bf16")
    ax.axvline(ratio, color=PALETTE["black"], linestyle=":", linewidth=1.2, gid="c-over-bw")
    ax.annotate(
        f"C/BW at BF16 ≈ {ratio:,.0f}",
        (ratio, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -2),
        textcoords="offset points",
        va="top",
        fontsize=8,
    )
    ax.set_yticks(rows, [m.name for m in models], fontsize=8)
    ax.set_xlim(1, nice_ceiling(float(np.max(first)) * 8))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    ax.set_title("(b) batch-1 penalty at context 0", fontsize=9.5)


def _context_panel(ax, quantity, models, hw, precision, refined, contexts, colors, kw) -> None:
    if quantity == "spot":
        compute, ylabel = rl.sweet_spot, "sweet spot B* [sequences]"
        title = "(c) sweet spot against context"
    else:
        compute, ylabel = serving.slowdown_at_sweet_spot, "T(B*) / T(1)"
        title = "(d) step at the sweet spot over step at batch 1"
    style_axes(ax, CONTEXT_LABEL, ylabel, logy=True)
    shown = []
    for m in models:
        held = contexts[contexts <= m.context_limit]
        for label, assume, style in (("first", FIRST_ORDER, "-"), ("refined", refined, "--")):
            y = np.asarray(compute(m, hw, held, precision, assume=assume, **kw), dtype=float)
            y = np.where(np.isfinite(y), y, np.nan)
            shown.append(y)
            ax.plot(
                held,
                y,
                color=colors[m.name],
                linestyle=style,
                linewidth=1.8,
                gid=f"{quantity}-{label}-{m.name}",
                label=m.name if label == "first" else None,
            )
    ax.set_xlim(contexts[0], contexts[-1])
    ax.set_ylim(*log_limits(shown, headroom=1.5))
    if quantity == "slowdown":
        ax.set_ylim(bottom=0.8, top=min(ax.get_ylim()[1], 1e3))
    else:
        ax.set_ylim(top=min(ax.get_ylim()[1], 1e6))
    ax.legend(fontsize=8, loc="upper left", framealpha=0.9)
    ax.set_title(title, fontsize=9.5)


# --------------------------------------------------------------------------- against the data

#: How the three model values of a comparison are drawn on the measured-over-model chart.
RATIO_STYLE: dict[str, dict[str, Any]] = {
    "first_order": {"marker": "o", "color": PALETTE["blue"], "label": "first-order bound"},
    "refined": {"marker": "^", "color": PALETTE["orange"], "label": "refined bound"},
    "calibrated": {"marker": "s", "color": PALETTE["green"], "label": "calibrated prediction"},
}


def _check_comparisons(comparisons: Sequence[Any]) -> list[Any]:
    items = list(comparisons) if not isinstance(comparisons, str) else []
    needed = ("label", "kind", "ratio_first_order", "ratio_refined", "ratio_calibrated")
    if not items or not all(all(hasattr(c, n) for n in needed) for c in items):
        raise ValueError(
            "comparisons must be a non-empty sequence of tokenmath.reconcile.Comparison "
            f"(from tokenmath.reconcile.compare()); got {comparisons!r:.80}"
        )
    return items


def measured_over_model_chart(comparisons: Sequence[Any]) -> Figure:
    """Each measurement against the model: measured speed over the first-order and refined
    bounds (left panel; at most 1 where a bound holds), and the residual of the calibrated
    prediction, measured over calibrated minus one, in percent (right panel), at the
    column's width.

    ``comparisons`` are :class:`tokenmath.reconcile.Comparison` records (one row each, top
    to bottom in the given order). Estimated and simulated figures are drawn hollow.
    """
    items = _check_comparisons(comparisons)
    rows = np.arange(len(items))[::-1]
    height = 0.19 * len(items) + 1.6
    fig = new_figure((FIGSIZE[0], height), constrained=False)  # fixed margins: fast
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    fig.subplots_adjust(left=0.3, right=0.98, top=1 - 0.25 / height, bottom=1.1 / height)
    fig.subplots_adjust(wspace=0.06)
    style_axes(left, "measured / bound (speed)", "", logx=False)
    style_axes(right, "measured / calibrated − 1 [%]", "", logx=False)
    hollow = np.array([c.kind != "measured" for c in items])
    for name in ("first_order", "refined", "calibrated"):
        ratios = np.array([getattr(c, f"ratio_{name}") for c in items], dtype=float)
        ax = right if name == "calibrated" else left
        x = 100.0 * (ratios - 1.0) if name == "calibrated" else ratios
        style = RATIO_STYLE[name]
        for mask, face in ((~hollow, style["color"]), (hollow, "white")):
            ax.plot(
                x[mask],
                rows[mask],
                linestyle="none",
                marker=style["marker"],
                markersize=4.5,
                markerfacecolor=face,
                markeredgecolor=style["color"],
                label=style["label"] if face != "white" else None,
                gid=f"ratio-{name}" + ("-hollow" if face == "white" else ""),
            )
    left.axvline(1.0, color=PALETTE["black"], linewidth=1.2, gid="bound-line")
    left.text(1.0, rows.max() + 0.9, "bound ", fontsize=8, ha="right", va="bottom")
    left.set_xlim(0.0, 1.08)
    right.axvline(0.0, color=PALETTE["black"], linewidth=1.2, gid="calibrated-line")
    spread = max(
        abs(100.0 * (float(c.ratio_calibrated) - 1.0))
        for c in items
        if np.isfinite(c.ratio_calibrated)
    )
    right.set_xlim(-1.1 * spread - 5, 1.1 * spread + 5)
    left.set_yticks(rows, [c.label for c in items], fontsize=8)
    left.set_ylim(-0.8, rows.max() + 1.6)
    handles = [
        Line2D([], [], linestyle="none", marker=st["marker"], color=st["color"], label=st["label"])
        for st in RATIO_STYLE.values()
    ]
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markerfacecolor="white",
            markeredgecolor=PALETTE["grey"],
            label="estimated or simulated figure",
        )
    )
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    return fig


register_ipython_png()  # in a notebook: PNGs through BookFigure._repr_png_, even after %matplotlib
