"""The cost explorer: the cost chart and the latency chart with sliders (ipywidgets).

>>> import tokenmath as tm
>>> explorer = tm.widgets.CostExplorer()
>>> readouts = explorer.update(batch=64, context=0)
>>> readouts["region"]
'memory-bound'

:func:`cost_explorer` returns the ipywidgets box to show in a notebook. The figure is built
once; a control change moves the lines and labels in place and renders the figure to JPEG
bytes shown in an :class:`ipywidgets.Image` (no pyplot, no interactive backend). Every number
comes from :mod:`tokenmath.roofline`; the drawing from :mod:`tokenmath.plots`.
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
from typing import Any

import ipywidgets as w
import numpy as np

from . import _validate as v
from . import plots
from . import roofline as rl
from .presets import hardware, hardware_names, model, model_names
from .specs import check_precision

#: Widget figure: two panels side by side, fixed margins (no layout engine: faster redraw).
EXPLORER_FIGSIZE = (11.0, 4.3)
EXPLORER_GRID_POINTS = 160
IMAGE_FORMAT = "jpeg"
#: Legends sit below the axes, where no line crosses them: they stay in the cached background.
LEGEND_BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.15), "ncol": 2, "frameon": False}
EXPLORER_DPI = 80
BATCH_LOG10_RANGE = (0.0, 6.0)  # batch slider from 1 to 10^6 sequences
MAX_BATCH = 10 ** BATCH_LOG10_RANGE[1]
#: Batch slider stops per decade (about 4.7 % apart), whole numbers, every power of two added.
BATCH_STOPS_PER_DECADE = 50
#: The batch slider spans the width of the figure (six decades need room).
BATCH_SLIDER_LAYOUT = {"width": "100%", "max_width": "900px"}
MAX_GPUS = 4096
MAX_USD_PER_GPU_HOUR = 1000.0


@dataclasses.dataclass(frozen=True)
class ExplorerState:
    """The explorer's controls: what one redraw shows."""

    model: str = "deepseek-v3"
    hardware: str = "h100-sxm"
    precision: str = "bf16"
    batch: float = 64.0
    context: int = 0
    usd_per_gpu_hour: float | None = None  # None: the accelerator's preset price
    gpus: int | None = None  # None: the default replica size for the model and accelerator


def default_gpus(model_name: str, hardware_name: str, precision: str = "bf16") -> int:
    """Smallest power of two of accelerators whose HBM holds the weights (a replica size)."""
    need = rl.min_gpus(model(model_name), hardware(hardware_name), precision)
    return 1 << max(need - 1, 0).bit_length()


def context_options(limit: int) -> list[int]:
    """Context values of the slider [tokens]: 0, then 64, 96, 128, 192, ... (two steps per
    doubling) up to the model's limit, the limit included."""
    values = [0]
    step = 64
    while step < limit:
        values += [v for v in (step, step * 3 // 2) if v < limit]
        step *= 2
    return [*values, int(limit)]


def batch_options(current: float | None = None) -> list[float]:
    """Stops of the batch slider [sequences]: whole numbers on a log scale from 1 to
    ``MAX_BATCH``, ``BATCH_STOPS_PER_DECADE`` per decade, every power of two included (so 64,
    the starting batch, is a stop), and ``current`` added when it is not one.

    Whole numbers, not a float log slider: a browser slider snaps its value to its step
    grid and sends the snapped value back (a log slider opened at 64 came back as 63.1).
    """
    low, high = BATCH_LOG10_RANGE
    steps = round((high - low) * BATCH_STOPS_PER_DECADE)
    stops = {round(10 ** (low + k / BATCH_STOPS_PER_DECADE)) for k in range(steps + 1)}
    stops |= {2**k for k in range(int(math.log2(MAX_BATCH)) + 1)}
    if current is not None:
        stops.add(current)
    return sorted(stops)


def readouts(state: ExplorerState) -> dict[str, Any]:
    """The explorer's numbers for ``state``, all from the library.

    Keys: ``step_time_ms``, ``gpu_seconds_per_million_tokens``, ``usd_per_million_tokens``,
    ``sweet_spot`` (batch, ``inf`` if none), ``floor_gpu_seconds_per_million_tokens``,
    ``floor_usd_per_million_tokens``, ``batch1_penalty``, ``region``, ``max_batch``
    (on ``gpus`` accelerators), ``gpus``, ``usd_per_gpu_hour``.
    """
    m, hw = model(state.model), hardware(state.hardware)
    price = hw.usd_per_hour if state.usd_per_gpu_hour is None else state.usd_per_gpu_hour
    gpus = state.gpus or default_gpus(state.model, state.hardware, state.precision)
    args = (m, hw, state.batch, state.context, state.precision)
    cost = rl.cost_per_token(*args)
    floor = rl.cost_floor(m, hw, state.context, state.precision)
    return {
        "step_time_ms": rl.step_time(*args, gpus) * plots.MILLISECONDS_PER_SECOND,
        "gpu_seconds_per_million_tokens": cost * rl.TOKENS_PER_MILLION,
        "usd_per_million_tokens": rl.usd_per_million_tokens(cost, price),
        "sweet_spot": rl.sweet_spot(m, hw, state.context, state.precision),
        "floor_gpu_seconds_per_million_tokens": floor * rl.TOKENS_PER_MILLION,
        "floor_usd_per_million_tokens": rl.usd_per_million_tokens(floor, price),
        "batch1_penalty": rl.batch1_penalty(m, hw, state.context, state.precision),
        "region": rl.region(*args),
        "max_batch": rl.max_batch(m, hw, state.context, gpus, state.precision),
        "gpus": gpus,
        "usd_per_gpu_hour": price,
    }


def check_state(state: ExplorerState) -> None:
    """Raise ValueError, naming the control, for a combination the explorer cannot draw."""
    m, hw = model(state.model), hardware(state.hardware)
    prec = check_precision(state.precision)
    if prec not in hw.flops_per_s:
        raise ValueError(
            f"{hw.name} has no {prec.upper()} mode (it has "
            f"{', '.join(k.upper() for k in hw.flops_per_s)}); choose another "
            f"precision or accelerator"
        )
    batch = float(state.batch)
    if not (math.isfinite(batch) and 1 <= batch <= MAX_BATCH):
        raise ValueError(
            f"batch must be a number of sequences from 1 to {MAX_BATCH:,.0f}; got {state.batch!r}"
        )
    if not (0 <= state.context <= m.context_limit):
        raise ValueError(
            f"context must be between 0 and {m.name}'s limit of "
            f"{m.context_limit:,} tokens; got {state.context!r}"
        )
    price = state.usd_per_gpu_hour
    if price is not None and not 0 <= price <= MAX_USD_PER_GPU_HOUR:
        raise ValueError(
            f"usd_per_gpu_hour must be from 0 to {MAX_USD_PER_GPU_HOUR:,.0f}; got {price!r}"
        )
    gpus = state.gpus
    if gpus is not None and not (isinstance(gpus, int) and 1 <= gpus <= MAX_GPUS):
        raise ValueError(f"gpus must be a whole number from 1 to {MAX_GPUS:,}; got {v.echo(gpus)}")


class ExplorerFigure:
    """The two-panel figure (cost left, latency right), built once, redrawn in place.

    Rendering blits: the axes, ticks and grid are drawn once and cached as a background
    (redrawn only when an axis limit changes); each update draws only the data-dependent
    artists on top of it and encodes the result as JPEG.
    """

    def __init__(self) -> None:
        self.fig = plots.new_figure(EXPLORER_FIGSIZE, constrained=False, dpi=EXPLORER_DPI)
        ax_cost, ax_lat = self.fig.subplots(1, 2)
        self.fig.subplots_adjust(left=0.1, right=0.97, bottom=0.25, top=0.97, wspace=0.25)
        self.cost = plots.CostPanel(ax_cost, legend=LEGEND_BELOW, compact=True)
        # Log step time: the flat memory-bound stretch and the compute-bound rise (a straight
        # line on log axes) both stay readable over six decades of batch.
        self.latency = plots.LatencyPanel(ax_lat, legend=LEGEND_BELOW, compact=True, log_y=True)
        self.title = ""
        self._background: Any = None
        self._blank: Any = None
        self._background_key: tuple = ()
        self.background_redraws = 0  # how often an axis changed (for the benchmark)

    def update(self, state: ExplorerState, gpus: int) -> None:
        """Move every line, span and label to ``state`` (on ``gpus`` accelerators)."""
        m, hw, prec = model(state.model), hardware(state.hardware), state.precision
        # Axes that stay put while batch and context move (the cached background stays valid):
        # batch from 1 to whole decades past the short-context sweet spot; cost from below the
        # floor to the batch-1 cost at the model's longest context.
        wanted = max(plots.default_batch_max(m, hw, 0, prec), 4 * state.batch)
        high = 10 ** math.ceil(math.log10(wanted))
        batches = plots.batch_grid(1.0, high, EXPLORER_GRID_POINTS)
        ylim = plots.log_limits(
            [
                np.array(rl.cost_terms(m, hw, high, 0, prec).weights),
                np.array(rl.cost_floor(m, hw, 0, prec)),
                np.array(rl.cost_per_token(m, hw, 1.0, m.context_limit, prec)),
            ],
            headroom=2.0,
        )
        marker = {f"B = {plots.format_batch(state.batch)}": state.batch}
        self.cost.update(
            m,
            hw,
            state.context,
            prec,
            batches,
            gpus_for_fit=gpus,
            markers=marker,
            ylim=tuple(v * plots.MICROSECONDS_PER_SECOND for v in ylim),
        )
        self.latency.update(m, hw, state.context, prec, batches, gpus=gpus, markers=marker)
        self.title = (
            f"{m.name} on {gpus} x {hw.name}, {prec.upper()}, context {state.context:,} tokens"
        )

    def _dynamic_artists(self) -> list:
        """Everything inside the axes that depends on the data, in drawing order (the label
        placer first: it moves the labels before they are drawn)."""
        out: list = []
        for ax in self.fig.axes:
            placers = [a for a in ax.artists if isinstance(a, plots.LabelPlacer)]
            children = [*placers, *ax.patches, *ax.lines, *ax.texts]
            children = [a for a in children if not _is_static(a)]
            out += sorted(children, key=lambda a: a.get_zorder())
        for artist in out:
            artist.set_animated(True)
        return out

    def _static_key(self, ax: Any) -> tuple:
        """What the cached picture of ``ax`` depends on: limits, legend and fixed labels."""
        return (
            ax.get_xlim(),
            ax.get_ylim(),
            tuple(t.get_text() for t in ax.legend_.get_texts()),
            tuple((t.get_text(), t.get_visible()) for t in ax.texts if _is_static(t)),
        )

    def _redraw_background(self, stale: list[int]) -> None:
        """Redraw the static parts of the axes numbered ``stale``, each in its own half of
        the figure (over a blank copy of that half), and cache the result."""
        canvas = self.fig.canvas
        if self._background is None:
            for ax in self.fig.axes:
                ax.set_visible(False)
            canvas.draw()
            self._blank = canvas.copy_from_bbox(self.fig.bbox)
            for ax in self.fig.axes:
                ax.set_visible(True)
            canvas.draw()  # animated (data) artists are left out
        else:
            canvas.restore_region(self._background)
            height = self.fig.bbox.height
            for index in stale:
                x0, x1 = self._halves[index]
                canvas.restore_region(self._blank, bbox=(x0, 0, x1, height), xy=(0, 0))
                self.fig.draw_artist(self.fig.axes[index])
        self._background = canvas.copy_from_bbox(self.fig.bbox)

    @property
    def _halves(self) -> list[tuple[float, float]]:
        """Pixel columns that belong to each axes (split half-way between them)."""
        left, right = self.fig.axes[0].bbox, self.fig.axes[1].bbox
        middle = 0.5 * (left.x1 + right.x0)
        return [(0.0, middle), (middle, self.fig.bbox.width)]

    def render(self) -> bytes:
        """Image bytes of the figure as it stands (blitted over the cached background)."""
        artists = self._dynamic_artists()
        keys = [self._static_key(ax) for ax in self.fig.axes]
        stale = [
            i
            for i, k in enumerate(keys)
            if self._background is None or k != self._background_key[i]
        ]
        if stale:
            self._redraw_background(stale)
            self._background_key = tuple(keys)
            self.background_redraws += 1
        else:
            self.fig.canvas.restore_region(self._background)
        for artist in artists:
            self.fig.draw_artist(artist)
        return encode_image(self.fig.canvas)


def _is_static(artist: Any) -> bool:
    """The memory-bound label never moves or changes: it belongs to the cached background."""
    return artist.get_gid() == "region-memory"


def encode_image(canvas: Any) -> bytes:
    """The canvas's pixels as JPEG bytes (quality 92, no chroma subsampling).

    JPEG encodes in a few milliseconds where PNG takes tens; at this quality the lines and
    labels stay sharp enough for a control that redraws on every slider step.
    """
    from PIL import Image

    buf = io.BytesIO()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    image.convert("RGB").save(buf, format=IMAGE_FORMAT, quality=92, subsampling=0)
    return buf.getvalue()


def _readout_html(r: dict[str, Any], state: ExplorerState) -> str:
    fits = r["max_batch"]
    fits_text = (
        "no limit (no KV cache)"
        if not math.isfinite(fits)
        else "weights do not fit"
        if fits < 1
        else f"{plots.format_batch(fits)} sequences"
    )
    rows = [
        ("step time at this batch", f"{plots.format_sig(r['step_time_ms'])} ms per decode step"),
        (
            "GPU time",
            f"{plots.format_sig(r['gpu_seconds_per_million_tokens'])} "
            "GPU-seconds per million tokens",
        ),
        (
            "price",
            f"${plots.format_sig(r['usd_per_million_tokens'])} per million tokens "
            f"at ${r['usd_per_gpu_hour']:.2f} per GPU-hour",
        ),
        ("region", r["region"]),
        (
            "sweet spot",
            "none (KV line above compute line)"
            if not math.isfinite(r["sweet_spot"])
            else f"B = {plots.format_batch(r['sweet_spot'])} sequences",
        ),
        (
            "floor",
            f"{plots.format_sig(r['floor_gpu_seconds_per_million_tokens'])} GPU-seconds per "
            f"million tokens, ${plots.format_sig(r['floor_usd_per_million_tokens'])} per "
            "million tokens",
        ),
        ("batch-1 penalty", f"{plots.format_sig(r['batch1_penalty'])} x the floor"),
        (f"largest batch that fits on {r['gpus']} GPU{'s' if r['gpus'] > 1 else ''}", fits_text),
    ]
    body = "".join(
        f"<tr><td style='padding-right:1em'>{html.escape(k)}</td>"
        f"<td><b>{html.escape(v)}</b></td></tr>"
        for k, v in rows
    )
    return f"<table style='font-size:90%'>{body}</table>"


def _add_machine_dropdowns(explorer: Any, style: dict, layout: w.Layout) -> None:
    """The model and accelerator menus both explorers open with, set to their state."""
    explorer.model_w = w.Dropdown(
        options=model_names(),
        value=explorer.state.model,
        description="model",
        style=style,
        layout=layout,
    )
    explorer.hardware_w = w.Dropdown(
        options=hardware_names(),
        value=explorer.state.hardware,
        description="accelerator",
        style=style,
        layout=layout,
    )


def _add_price_gpus_and_outputs(explorer: Any, style: dict) -> None:
    """The controls and outputs both explorers share: price per GPU-hour, GPUs per replica,
    the chart image and the readout, title and message boxes (set as attributes)."""
    explorer.price_w = w.BoundedFloatText(
        value=0.0,
        min=0.0,
        max=MAX_USD_PER_GPU_HOUR,
        step=0.05,
        description="USD / GPU-hour",
        style=style,
    )
    explorer.gpus_w = w.BoundedIntText(
        value=1, min=1, max=MAX_GPUS, description="GPUs / replica", style=style
    )
    explorer.image = w.Image(format=IMAGE_FORMAT, layout=w.Layout(width="100%", max_width="900px"))
    explorer.readout_w = w.HTML("")
    explorer.title_w = w.HTML("")
    explorer.message_w = w.HTML("")


class CostExplorer:
    """Controls, figure and readouts of the cost explorer.

    ``update(**changes)`` applies control values (the names of :class:`ExplorerState`),
    redraws once and returns the readouts (``None`` and a message in the box when the
    combination is invalid). The widgets call the same method.
    """

    def __init__(
        self, model_name: str = "deepseek-v3", hardware_name: str = "h100-sxm", **initial: Any
    ) -> None:
        self.state = ExplorerState(
            model=model(model_name).name, hardware=hardware(hardware_name).name
        )
        self.figure = ExplorerFigure()
        self._syncing = False
        self._build_controls()
        self.last_readouts: dict[str, Any] | None = None
        self.update(**initial)

    # -- controls -------------------------------------------------------------------------

    def _build_controls(self) -> None:
        style = {"description_width": "110px"}
        wide = w.Layout(width="340px")
        _add_machine_dropdowns(self, style, wide)
        self.precision_w = w.ToggleButtons(
            options=["bf16", "fp8"], value="bf16", description="precision", style=style
        )
        self.precision_note = w.HTML("")
        self.batch_w = w.SelectionSlider(
            options=_labelled(batch_options(self.state.batch)),
            value=self.state.batch,
            description="batch B",
            style=style,
            layout=w.Layout(**BATCH_SLIDER_LAYOUT),
        )
        self.context_w = w.SelectionSlider(
            options=[0], value=0, description="context L", style=style, layout=wide
        )
        _add_price_gpus_and_outputs(self, style)
        # Each control and the ExplorerState field it sets.
        self._fields = {
            self.model_w: "model",
            self.hardware_w: "hardware",
            self.precision_w: "precision",
            self.batch_w: "batch",
            self.context_w: "context",
            self.price_w: "usd_per_gpu_hour",
            self.gpus_w: "gpus",
        }
        for ctrl in self._fields:
            ctrl.observe(self._on_control, names="value")

    def _on_control(self, change: dict) -> None:
        if self._syncing:
            return
        key = self._fields[change["owner"]]
        value = change["new"]
        extra: dict[str, Any] = {}
        if key in ("model", "hardware"):  # a new machine: its own price and replica size
            extra = {"usd_per_gpu_hour": None, "gpus": None}
        if key == "hardware" and self.state.precision not in hardware(value).flops_per_s:
            extra["precision"] = "bf16"
        if key == "model":  # a shorter context limit pulls the context down with it
            extra["context"] = min(self.state.context, model(value).context_limit)
        if self.update(**{key: value, **extra}) is None and self.last_readouts is not None:
            self._sync_controls(self.state, self.last_readouts)  # the controls show the chart

    def _sync_controls(self, state: ExplorerState, r: dict[str, Any]) -> None:
        """Set every control to ``state`` without triggering a redraw."""
        self._syncing = True
        try:
            m, hw = model(state.model), hardware(state.hardware)
            self.model_w.value = m.name
            self.hardware_w.value = hw.name
            precisions = [p for p in ("bf16", "fp8") if p in hw.flops_per_s]
            if list(self.precision_w.options) != precisions:
                self.precision_w.options = precisions
            self.precision_w.value = state.precision
            self.precision_note.value = (
                ""
                if "fp8" in precisions
                else f"<i>{html.escape(hw.name)} has no FP8 mode: BF16 only</i>"
            )
            options = _labelled(batch_options(state.batch))
            if list(self.batch_w.options) != options:
                self.batch_w.options = options
            self.batch_w.value = state.batch
            options = context_options(m.context_limit)
            if state.context not in options:
                options = sorted({*options, state.context})
            if list(self.context_w.options) != options:
                self.context_w.options = options
            self.context_w.value = state.context
            self.price_w.value = r["usd_per_gpu_hour"]
            self.gpus_w.value = r["gpus"]
        finally:
            self._syncing = False

    # -- the one update path --------------------------------------------------------------

    def update(self, **changes: Any) -> dict[str, Any] | None:
        """Apply ``changes`` (fields of :class:`ExplorerState`), redraw, return the readouts.

        An invalid combination leaves the chart as it was, shows a message in the box and
        returns ``None``; it never raises.
        """
        try:
            state = dataclasses.replace(self.state, **changes)
            state = dataclasses.replace(
                state,
                precision=str(state.precision).lower(),
                model=model(state.model).name,
                hardware=hardware(state.hardware).name,
                context=_as_int("context", state.context),
                batch=v.positive_scalar("batch", state.batch),
            )
            check_state(state)
            r = readouts(state)
            self.figure.update(state, r["gpus"])
            image = self.figure.render()
        except (ValueError, TypeError, OverflowError) as err:  # 10**400 overflows a float
            self.message_w.value = (
                f"<span style='color:#B00020'>Cannot draw this: {html.escape(str(err))}</span>"
            )
            return None
        self.state = state
        self.image.value = image
        self.readout_w.value = _readout_html(r, state)
        self.title_w.value = f"<b>{html.escape(self.figure.title)}</b>"
        self.message_w.value = ""
        self._sync_controls(state, r)
        self.last_readouts = r
        return r

    # -- layout ---------------------------------------------------------------------------

    def box(self) -> w.Box:
        """The whole explorer as one ipywidgets box."""
        left = w.VBox(
            [self.model_w, self.hardware_w, w.HBox([self.precision_w]), self.precision_note]
        )
        right = w.VBox([self.context_w, self.price_w, self.gpus_w])
        box = w.VBox(
            [
                w.HBox([left, right]),
                self.batch_w,
                self.message_w,
                self.title_w,
                self.image,
                self.readout_w,
            ]
        )
        box.explorer = self  # reach the explorer from the box (tests, notebooks)
        return box


def _labelled(batches: list[float]) -> list[tuple[str, float]]:
    """(label, value) options of the batch slider: ``1,024`` for 1024."""
    return [(f"{b:,.0f}" if float(b).is_integer() else f"{b:,.1f}", b) for b in batches]


def _as_int(name: str, value: Any) -> int:
    """``value`` [tokens] as an int; a float must be a whole number (``4096.0``)."""
    number = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not number or not float(v.non_negative(name, value)).is_integer():
        raise ValueError(f"{name} must be a whole number of tokens; got {v.echo(value)}")
    return int(value)


def cost_explorer(model: str = "deepseek-v3", hardware: str = "h100-sxm", **initial: Any) -> w.Box:
    """The cost explorer as an ipywidgets box: model, accelerator, precision, batch, context,
    price per GPU-hour and GPUs per replica; the cost chart beside the latency chart; readouts.

    ``initial`` sets starting values by the names of :class:`ExplorerState`
    (e.g. ``batch=256, context=4096``). The explorer object is ``box.explorer``.
    """
    return CostExplorer(model, hardware, **initial).box()


# =========================================================================================
# The prefill explorer: time to first token and the price of an input token
# =========================================================================================

#: Prompts per prefill pass and decode batch: slider ranges as powers of ten.
PREFILL_BATCH_LOG10_RANGE = (0.0, 3.0)
DECODE_BATCH_LOG10_RANGE = (0.0, 5.0)
PROMPT_LOG10_LOW = math.log10(16.0)
PREFILL_GRID_POINTS = 160
PREFILL_PRECISIONS = ("bf16", "fp8", "native")


@dataclasses.dataclass(frozen=True)
class PrefillState:
    """The prefill explorer's controls: what one redraw shows."""

    model: str = "deepseek-v3"
    hardware: str = "h100-sxm"
    precision: str = "bf16"
    prompt: float = 2000.0  # tokens in the prompt
    prefill_batch: float = 8.0  # prompts per prefill pass
    decode_batch: float = 256.0  # sequences per decode step
    usd_per_gpu_hour: float | None = None  # None: the accelerator's preset price
    gpus: int | None = None  # None: the default replica size for the model and accelerator


def check_prefill_state(state: PrefillState) -> None:
    """Raise ValueError, naming the control, for a combination the explorer cannot draw."""
    m, hw = model(state.model), hardware(state.hardware)
    prec = check_precision(state.precision)
    rl.compute_precision(m, hw, prec)  # raises if the chip lacks the mode
    prompt = float(state.prompt)
    if not (math.isfinite(prompt) and 1 <= prompt <= m.context_limit):
        raise ValueError(
            f"prompt must be from 1 to {m.name}'s limit of {m.context_limit:,} tokens; "
            f"got {state.prompt!r}"
        )
    for name, log_range in (
        ("prefill_batch", PREFILL_BATCH_LOG10_RANGE),
        ("decode_batch", DECODE_BATCH_LOG10_RANGE),
    ):
        value, top = float(getattr(state, name)), 10 ** log_range[1]
        if not (math.isfinite(value) and 1 <= value <= top):
            raise ValueError(f"{name} must be from 1 to {top:,.0f}; got {value!r}")
    price = state.usd_per_gpu_hour
    if price is not None and not 0 <= price <= MAX_USD_PER_GPU_HOUR:
        raise ValueError(
            f"usd_per_gpu_hour must be from 0 to {MAX_USD_PER_GPU_HOUR:,.0f}; got {price!r}"
        )
    gpus = state.gpus
    if gpus is not None and not (isinstance(gpus, int) and 1 <= gpus <= MAX_GPUS):
        raise ValueError(f"gpus must be a whole number from 1 to {MAX_GPUS:,}; got {gpus!r}")


def prefill_readouts(state: PrefillState) -> dict[str, Any]:
    """The prefill explorer's numbers for ``state``, all from the library.

    Keys: ``ttft_ms`` (one prompt alone on an idle replica), ``crossover_tokens``,
    ``input_usd_per_million``, ``output_usd_per_million``, ``input_gpu_s_per_million``,
    ``output_gpu_s_per_million``, ``ratio`` (output over input), ``pass_region``
    (of a pass of ``prefill_batch`` prompts), ``gpus``, ``usd_per_gpu_hour``.
    """
    from . import prefill as pf

    m, hw, prec = model(state.model), hardware(state.hardware), state.precision
    gpus = state.gpus or default_gpus(state.model, state.hardware, prec)
    price = hw.usd_per_hour if state.usd_per_gpu_hour is None else state.usd_per_gpu_hour
    prices = pf.token_prices(
        m,
        hw,
        state.prompt,
        state.decode_batch,
        state.prompt,
        prec,
        gpus,
        prefill_batch=state.prefill_batch,
        usd_per_gpu_hour=price,
    )
    t_mem, t_comp = pf.prefill_terms(m, hw, state.prompt, state.prefill_batch, prec, gpus)
    return {
        "ttft_ms": pf.prefill_time(m, hw, state.prompt, 1.0, prec, gpus)
        * plots.MILLISECONDS_PER_SECOND,
        "crossover_tokens": pf.prefill_crossover_tokens(m, hw, prec),
        "input_usd_per_million": prices.input_usd_per_m,
        "output_usd_per_million": prices.output_usd_per_m,
        "input_gpu_s_per_million": prices.input_gpu_s * rl.TOKENS_PER_MILLION,
        "output_gpu_s_per_million": prices.output_gpu_s * rl.TOKENS_PER_MILLION,
        "ratio": prices.ratio,
        "pass_region": rl.REGION_COMPUTE if t_comp >= t_mem else rl.REGION_MEMORY,
        "gpus": gpus,
        "usd_per_gpu_hour": price,
    }


def prefill_ylims(m: Any, hw: Any, precision: str, gpus: int) -> tuple[tuple, tuple]:
    """Fixed y ranges of the two panels for a model, accelerator, precision and replica
    (ms; GPU-µs): wide enough for every prompt and batch the sliders allow, so that moving
    a slider never changes an axis (the cached background stays valid)."""
    from . import prefill as pf

    low, high = 16.0, float(m.context_limit)
    ms, us = plots.MILLISECONDS_PER_SECOND, plots.MICROSECONDS_PER_SECOND
    t_low = pf.prefill_terms(m, hw, low, 1.0, precision, gpus)
    t_high = pf.prefill_time(m, hw, high, 1.0, precision, gpus)
    ttft = plots.log_limits([np.array([t_low[1] * ms]), np.array([t_high * ms])], headroom=3.0)
    most_prompts = 10 ** PREFILL_BATCH_LOG10_RANGE[1]
    cheapest = pf.cost_per_input_token(m, hw, high, most_prompts, precision)
    dearest = max(
        pf.cost_per_input_token(m, hw, low, 1.0, precision),
        rl.cost_per_token(m, hw, 1.0, high, precision),
    )
    floor = min(cheapest, rl.cost_floor(m, hw, 0, precision))
    cost = plots.log_limits([np.array([floor * us]), np.array([dearest * us])], headroom=2.0)
    return ttft, cost


class PrefillFigure:
    """The two prefill panels, built once; :meth:`render` blits the data over a cached
    background of axes, ticks, grid and legends, redrawn only when an axis changes."""

    def __init__(self) -> None:
        self.fig = plots.new_figure(EXPLORER_FIGSIZE, constrained=False, dpi=EXPLORER_DPI)
        ax_ttft, ax_cost = self.fig.subplots(1, 2)
        self.fig.subplots_adjust(left=0.08, right=0.98, bottom=0.25, top=0.97, wspace=0.22)
        below = {**LEGEND_BELOW, "ncol": 3, "fontsize": 8.5}
        self.panels = plots.PrefillPanels(ax_ttft, ax_cost, legend=(below, below))
        self.title = ""
        self._background: Any = None
        self._key: tuple = ()
        self.background_redraws = 0  # how often an axis changed (for tests and benchmarks)

    def update(self, state: PrefillState, gpus: int) -> None:
        m, hw, prec = model(state.model), hardware(state.hardware), state.precision
        prompts = np.geomspace(16.0, float(m.context_limit), PREFILL_GRID_POINTS)
        self.panels.update(
            m,
            hw,
            prompts,
            prec,
            gpus,
            decode_batch=state.decode_batch,
            prefill_batch=state.prefill_batch,
            marker=state.prompt,
            ylims=prefill_ylims(m, hw, prec, gpus),
            legend_details=False,
        )
        self.title = f"{m.name} on {gpus} x {hw.name}, {prec.upper()}"

    def _dynamic(self) -> list:
        out = []
        for ax in self.fig.axes:
            out += [*ax.patches, *ax.lines, *ax.texts]
        for artist in out:
            artist.set_animated(True)
        return out

    def render(self) -> bytes:
        """JPEG bytes of the figure as it stands."""
        artists = self._dynamic()
        key = tuple(
            (ax.get_xlim(), ax.get_ylim(), tuple(t.get_text() for t in ax.legend_.get_texts()))
            for ax in self.fig.axes
        )
        canvas = self.fig.canvas
        if self._background is None or key != self._key:
            canvas.draw()  # the animated (data) artists are left out
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
            self.background_redraws += 1
        else:
            canvas.restore_region(self._background)
        for artist in artists:
            self.fig.draw_artist(artist)
        return encode_image(canvas)


def _prefill_readout_html(r: dict[str, Any], state: PrefillState) -> str:
    cross = r["crossover_tokens"]
    rows = [
        ("time to first token", f"{plots.format_sig(r['ttft_ms'])} ms (one prompt, idle replica)"),
        (
            "prefill turns compute-bound",
            "never" if not math.isfinite(cross) else f"past {cross:,.0f} tokens in a pass",
        ),
        (
            "a pass of these prompts",
            f"{plots.format_sig(state.prefill_batch * state.prompt)} tokens: {r['pass_region']}",
        ),
        (
            "input token",
            f"${plots.format_sig(r['input_usd_per_million'])} per million "
            f"({plots.format_sig(r['input_gpu_s_per_million'])} GPU-s)",
        ),
        (
            "output token",
            f"${plots.format_sig(r['output_usd_per_million'])} per million "
            f"({plots.format_sig(r['output_gpu_s_per_million'])} GPU-s) at decode batch "
            f"{plots.format_batch(state.decode_batch)}",
        ),
        ("output / input", f"{plots.format_sig(r['ratio'])} x"),
        ("price and replica", f"${r['usd_per_gpu_hour']:.2f} per GPU-hour, {r['gpus']} GPUs"),
    ]
    body = "".join(
        f"<tr><td style='padding-right:1em'>{html.escape(k)}</td>"
        f"<td><b>{html.escape(v)}</b></td></tr>"
        for k, v in rows
    )
    return f"<table style='font-size:90%'>{body}</table>"


class PrefillExplorer:
    """Controls, figure and readouts of the prefill explorer.

    ``update(**changes)`` applies control values (the names of :class:`PrefillState`),
    redraws once and returns the readouts (``None`` and a message in the box when the
    combination is invalid). The widgets call the same method.

    >>> explorer = PrefillExplorer()   # DeepSeek-V3 on 32 H100s
    >>> round(explorer.update(prompt=100_000)["ttft_ms"] / 1e3, 3)   # seconds
    0.234
    """

    def __init__(
        self, model_name: str = "deepseek-v3", hardware_name: str = "h100-sxm", **initial: Any
    ) -> None:
        self.state = PrefillState(
            model=model(model_name).name, hardware=hardware(hardware_name).name
        )
        self.figure = PrefillFigure()
        self._syncing = False
        self.last_readouts: dict[str, Any] | None = None
        self._build_controls()
        self.update(**initial)

    def _build_controls(self) -> None:
        style = {"description_width": "130px"}
        wide = w.Layout(width="360px")
        _add_machine_dropdowns(self, style, wide)
        self.precision_w = w.ToggleButtons(
            options=list(PREFILL_PRECISIONS), value="bf16", description="precision", style=style
        )
        self.prompt_w = w.FloatLogSlider(
            value=self.state.prompt,
            base=10,
            min=PROMPT_LOG10_LOW,
            max=5.0,
            step=0.02,
            description="prompt P (tokens)",
            style=style,
            layout=wide,
            readout_format=",.0f",
        )
        self.prefill_batch_w = w.FloatLogSlider(
            value=self.state.prefill_batch,
            base=10,
            min=PREFILL_BATCH_LOG10_RANGE[0],
            max=PREFILL_BATCH_LOG10_RANGE[1],
            step=0.05,
            description="prompts per pass",
            style=style,
            layout=wide,
            readout_format=",.0f",
        )
        self.decode_batch_w = w.FloatLogSlider(
            value=self.state.decode_batch,
            base=10,
            min=DECODE_BATCH_LOG10_RANGE[0],
            max=DECODE_BATCH_LOG10_RANGE[1],
            step=0.02,
            description="decode batch B",
            style=style,
            layout=wide,
            readout_format=",.0f",
        )
        _add_price_gpus_and_outputs(self, style)
        self._fields = {
            self.model_w: "model",
            self.hardware_w: "hardware",
            self.precision_w: "precision",
            self.prompt_w: "prompt",
            self.prefill_batch_w: "prefill_batch",
            self.decode_batch_w: "decode_batch",
            self.price_w: "usd_per_gpu_hour",
            self.gpus_w: "gpus",
        }
        for ctrl in self._fields:
            ctrl.observe(self._on_control, names="value")

    def _on_control(self, change: dict) -> None:
        if self._syncing:
            return
        key, value = self._fields[change["owner"]], change["new"]
        extra: dict[str, Any] = {}
        if key in ("model", "hardware", "precision"):  # a new machine: its own price and size
            extra = {"usd_per_gpu_hour": None, "gpus": None}
        if key == "model":
            extra["prompt"] = min(self.state.prompt, model(value).context_limit)
        if self.update(**{key: value, **extra}) is None and self.last_readouts is not None:
            self._sync_controls(self.state, self.last_readouts)

    def _sync_controls(self, state: PrefillState, r: dict[str, Any]) -> None:
        self._syncing = True
        try:
            self.model_w.value = state.model
            self.hardware_w.value = state.hardware
            self.precision_w.value = state.precision
            self.prompt_w.max = math.log10(model(state.model).context_limit)
            self.prompt_w.value = state.prompt
            self.prefill_batch_w.value = state.prefill_batch
            self.decode_batch_w.value = state.decode_batch
            self.price_w.value = r["usd_per_gpu_hour"]
            self.gpus_w.value = r["gpus"]
        finally:
            self._syncing = False

    def update(self, **changes: Any) -> dict[str, Any] | None:
        """Apply ``changes`` (fields of :class:`PrefillState`), redraw, return the readouts;
        an invalid combination leaves the chart as it was, shows why, returns ``None``."""
        try:
            state = dataclasses.replace(self.state, **changes)
            state = dataclasses.replace(
                state,
                precision=str(state.precision).lower(),
                model=model(state.model).name,
                hardware=hardware(state.hardware).name,
                prompt=float(state.prompt),
                prefill_batch=float(state.prefill_batch),
                decode_batch=float(state.decode_batch),
            )
            check_prefill_state(state)
            r = prefill_readouts(state)
            self.figure.update(state, r["gpus"])
            image = self.figure.render()
        except (ValueError, TypeError) as err:
            self.message_w.value = (
                f"<span style='color:#B00020'>Cannot draw this: {html.escape(str(err))}</span>"
            )
            return None
        self.state = state
        self.image.value = image
        self.readout_w.value = _prefill_readout_html(r, state)
        self.title_w.value = f"<b>{html.escape(self.figure.title)}</b>"
        self.message_w.value = ""
        self._sync_controls(state, r)
        self.last_readouts = r
        return r

    def box(self) -> w.Box:
        """The whole explorer as one ipywidgets box."""
        left = w.VBox([self.model_w, self.hardware_w, self.precision_w, self.gpus_w, self.price_w])
        right = w.VBox([self.prompt_w, self.prefill_batch_w, self.decode_batch_w])
        box = w.VBox(
            [w.HBox([left, right]), self.message_w, self.title_w, self.image, self.readout_w]
        )
        box.explorer = self
        return box


def prefill_explorer(
    model: str = "deepseek-v3", hardware: str = "h100-sxm", **initial: Any
) -> w.Box:
    """The prefill explorer as an ipywidgets box: model, accelerator, precision, replica
    size, price, prompt length, prompts per prefill pass and decode batch; time to first
    token beside the cost of an input and an output token, against the prompt length.

    ``initial`` sets starting values by the names of :class:`PrefillState`; the explorer
    object is ``box.explorer``. The static twin is :func:`tokenmath.plots.prefill_chart`.
    """
    return PrefillExplorer(model, hardware, **initial).box()
