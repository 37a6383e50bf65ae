"""The book's figures show the library's numbers: read the drawn data back and compare."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tokenmath as tm
from matplotlib.figure import Figure
from matplotlib.text import Text
from tokenmath import plots

US, MS = 1e6, 1e3  # GPU-microseconds and milliseconds per second

# (model, hardware, context): short-context presets, and one past the point where the KV line
# overtakes the compute line (no sweet spot).
CASES = [
    ("deepseek-v3", "h100-sxm", 0),
    ("llama-3.1-70b", "b200", 1000),
    ("gpt-oss-120b", "mi300x", 0),
    ("qwen3-235b-a22b", "h200", 512),
]
NO_SPOT = ("deepseek-v3", "h100-sxm", 8192)


def presets(name: str, hw: str):
    return tm.model(name), tm.hardware(hw)


def by_gid(ax, gid: str):
    found = [a for a in (*ax.lines, *ax.texts, *ax.patches) if a.get_gid() == gid]
    assert found, f"no artist with gid {gid!r}"
    return found[0]


def bar_widths(ax, gid: str) -> list[float]:
    return [p.get_width() for p in ax.patches if p.get_gid() == gid]


def xy(line) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


@pytest.mark.parametrize(("name", "hw_name", "context"), [*CASES, NO_SPOT])
def test_cost_chart_lines_are_the_library_numbers(name, hw_name, context):
    m, hw = presets(name, hw_name)
    fig = plots.cost_chart(m, hw, context)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    batches, total = xy(by_gid(ax, "cost-total"))
    assert batches[0] == 1 and np.all(np.diff(batches) > 0)
    np.testing.assert_allclose(total, tm.cost_per_token(m, hw, batches, context) * US)
    terms = tm.cost_terms(m, hw, batches, context)
    for name_, values in zip(("weights", "kv", "compute"), terms, strict=True):
        np.testing.assert_allclose(xy(by_gid(ax, f"cost-{name_}"))[1], np.asarray(values) * US)
    assert ax.get_xscale() == "log"
    assert "GPU-µs" in ax.get_ylabel() and "sequences" in ax.get_xlabel()


@pytest.mark.parametrize(("name", "hw_name", "context"), CASES)
def test_sweet_spot_marker_and_regions(name, hw_name, context):
    m, hw = presets(name, hw_name)
    ax = plots.cost_chart(m, hw, context).axes[0]
    spot = tm.sweet_spot(m, hw, context)
    line = by_gid(ax, "sweet-spot")
    assert line.get_visible()
    assert xy(line)[0][0] == pytest.approx(spot)
    assert f"{spot:,.0f}" in by_gid(ax, "sweet-spot-label").get_text()
    assert by_gid(ax, "region-memory").get_text() == "memory-bound"
    assert "compute" in by_gid(ax, "region-compute").get_text()
    assert by_gid(ax, "region-compute").get_visible()
    floor = tm.cost_floor(m, hw, context) * US
    assert plots.format_sig(floor) in by_gid(ax, "floor-label").get_text()


def test_no_sweet_spot_case_is_labelled():
    m, hw = presets(*NO_SPOT[:2])
    assert math.isinf(tm.sweet_spot(m, hw, NO_SPOT[2]))
    ax = plots.cost_chart(m, hw, NO_SPOT[2]).axes[0]
    assert not by_gid(ax, "sweet-spot").get_visible()
    assert not by_gid(ax, "region-compute").get_visible()
    assert "no sweet spot" in by_gid(ax, "region-memory").get_text()
    kv = xy(by_gid(ax, "cost-kv"))[1]
    assert kv[0] > xy(by_gid(ax, "cost-compute"))[1][0]  # KV line above compute line


def test_memory_limit_and_markers():
    m, hw = presets("llama-3.1-70b", "h100-sxm")
    ax = plots.cost_chart(m, hw, 1000, gpus_for_fit=2, markers={"small": 8}).axes[0]
    fits = tm.max_batch(m, hw, 1000, gpus=2)
    assert xy(by_gid(ax, "memory-limit"))[0][0] == fits
    assert f"{fits:,.0f}" in by_gid(ax, "memory-limit-label").get_text()
    x, y = xy(by_gid(ax, "markers"))
    assert x.tolist() == [8] and y[0] == pytest.approx(tm.cost_per_token(m, hw, 8, 1000) * US)
    # Weights that do not fit on one GPU are said so.
    m = tm.model("deepseek-v3")
    ax = plots.cost_chart(m, hw, 1000, gpus_for_fit=1).axes[0]
    assert "do not fit" in by_gid(ax, "memory-limit-label").get_text()


@pytest.mark.parametrize(("name", "hw_name", "context"), [CASES[0], NO_SPOT])
def test_latency_chart_is_step_time(name, hw_name, context):
    m, hw = presets(name, hw_name)
    ax = plots.latency_chart(m, hw, context, gpus=8, markers={"B=64": 64}).axes[0]
    batches, total = xy(by_gid(ax, "latency-total"))
    np.testing.assert_allclose(total, tm.step_time(m, hw, batches, context, gpus=8) * MS)
    assert "ms" in ax.get_ylabel()
    spot = tm.sweet_spot(m, hw, context)
    assert by_gid(ax, "sweet-spot").get_visible() == math.isfinite(spot)


def test_latency_and_cost_turn_at_the_same_batch():
    m, hw = presets("deepseek-v3", "h100-sxm")
    fig = plots.latency_and_cost_chart(m, hw)
    spots = [xy(by_gid(ax, "sweet-spot"))[0][0] for ax in fig.axes]
    assert spots == pytest.approx([tm.sweet_spot(m, hw)] * 2)


def test_terms_chart_has_one_term_per_panel():
    m, hw = presets("deepseek-v3", "h100-sxm")
    fig = plots.terms_chart(m, hw, context=2000)
    assert len(fig.axes) == 3
    for ax, name in zip(fig.axes, ("weights", "kv", "compute"), strict=True):
        batches, y = xy(by_gid(ax, f"cost-{name}"))
        expected = getattr(tm.cost_terms(m, hw, batches, 2000), name)
        np.testing.assert_allclose(y, np.asarray(expected) * US)


def test_compare_cost_chart_in_usd():
    m = tm.model("deepseek-v3")
    cases = [
        plots.Case("H100", m, tm.hardware("h100-sxm")),
        plots.Case("B200 long", m, tm.hardware("b200"), context=2000),
    ]
    ax = plots.compare_cost_chart(cases, usd=True, batch=(1, 1e5)).axes[0]
    for i, case in enumerate(cases):
        batches, y = xy(by_gid(ax, f"case-{i}"))
        cost = tm.cost_per_token(case.model, case.hw, batches, case.context)
        np.testing.assert_allclose(y, tm.usd_per_million_tokens(cost, case.hw.usd_per_hour))
    assert "USD per million tokens" in ax.get_ylabel()


def test_sweet_spot_vs_context_marks_where_it_vanishes():
    m, hw = presets("deepseek-v3", "h100-sxm")
    ax = plots.sweet_spot_vs_context_chart([m], hw).axes[0]
    contexts, spots = xy(by_gid(ax, "sweet-spot-deepseek-v3"))
    finite = np.isfinite(spots)
    np.testing.assert_allclose(spots[finite], tm.sweet_spot(m, hw, contexts[finite]))
    end = xy(by_gid(ax, "vanishes-deepseek-v3"))[0][0]
    assert end == tm.critical_context(m, hw)  # the library's exact answer, not a search
    # Where it vanishes is said in the legend, where labels cannot pile up on each other.
    assert f"none past L ≈ {end:,.0f}" in ax.get_legend().get_texts()[0].get_text()
    assert math.isfinite(tm.sweet_spot(m, hw, end * 0.999))
    assert math.isinf(tm.sweet_spot(m, hw, end * 1.001))


def test_no_vanishing_mark_past_the_context_limit_or_the_axis():
    m, hw = presets("deepseek-v3", "h100-sxm")
    end = tm.critical_context(m, hw)
    ax = plots.sweet_spot_vs_context_chart([m], hw, context=(16, end / 2)).axes[0]
    assert not [a for a in ax.lines if a.get_gid() == "vanishes-deepseek-v3"]


def test_fit_chart_bars():
    models = [tm.model("deepseek-v3"), tm.model("llama-3.1-70b")]
    hws = [tm.hardware("h100-sxm"), tm.hardware("b200")]
    fig = plots.fit_chart(models, hws, 1024, gpus=8)
    ax = fig.axes[0]
    pairs = [(m, h) for m in models for h in hws]
    widths = bar_widths(ax, "bars-fit")
    expected = [tm.max_batch(m, h, 1024, 8) for m, h in pairs]
    assert widths == pytest.approx(expected)
    widths = bar_widths(ax, "bars-sweet-spot")
    expected = [tm.sweet_spot(m, h, 1024) for m, h in pairs]
    assert widths == pytest.approx([e if math.isfinite(e) else 0 for e in expected])


@pytest.mark.parametrize("floor", [math.inf, "floor", "Floor"])
def test_usd_chart_at_the_floor(floor):
    m = tm.model("deepseek-v3")
    hws = [tm.hardware("h100-sxm"), tm.hardware("b200")]
    ax = plots.usd_chart(m, hws, floor, context=1024).axes[0]
    expected = [tm.usd_per_million_tokens(tm.cost_floor(m, h, 1024), h.usd_per_hour) for h in hws]
    assert bar_widths(ax, "bars-usd") == pytest.approx(expected)
    assert not [line for line in ax.lines if line.get_gid() == "usd-floor"]  # no duplicate
    assert "floor" in ax.get_legend().get_texts()[0].get_text()
    # Below the sweet spot every accelerator charges more than its floor.
    finite = bar_widths(plots.usd_chart(m, hws, 100, context=1024).axes[0], "bars-usd")
    assert all(f > e for f, e in zip(finite, expected, strict=True))


@pytest.mark.parametrize("bad", [0, -3, math.nan, -math.inf, "flor", None, True, [1, 2]])
def test_usd_chart_refuses_other_batches(bad):
    m, hw = presets("deepseek-v3", "h100-sxm")
    with pytest.raises(ValueError, match=r"batch must be .*'floor'.*got"):
        plots.usd_chart(m, [hw], bad)


def test_usd_chart_bars_and_missing_precision():
    m = tm.model("deepseek-v3")
    hws = [tm.hardware("a100-sxm-80gb"), tm.hardware("h100-sxm")]
    ax = plots.usd_chart(m, hws, 1000, precision="fp8").axes[0]
    bars = bar_widths(ax, "bars-usd")
    h100 = hws[1]
    expected = tm.usd_per_million_tokens(
        tm.cost_per_token(m, h100, 1000, 0, "fp8"), h100.usd_per_hour
    )
    assert bars[1] == pytest.approx(expected)
    assert any("no FP8" in t.get_text() for t in ax.texts)


def test_draws_into_a_given_axes_and_shows_once_as_png():
    fig = plots.new_figure((3, 2), dpi=50)  # small: rendering is the slow part
    ax = fig.add_subplot()
    m, hw = presets("llama-3.1-8b", "h100-sxm")
    assert plots.cost_chart(m, hw, ax=ax) is fig
    png, metadata = fig._repr_png_()
    assert png.startswith(b"\x89PNG")
    assert metadata == {"width": round(3 * plots.DISPLAY_PX_PER_INCH)}


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda m, hw: plots.cost_chart(m, hw, batch=(100, 10)), "batch"),
        (lambda m, hw: plots.cost_chart(m, hw, batch="wide"), "batch"),
        (lambda m, hw: plots.cost_chart(m, hw, batch=(0, 10)), "batch"),
        (lambda m, hw: plots.latency_chart(m, hw, batch=(1, math.inf)), "batch"),
        (lambda m, hw: plots.cost_chart(m, hw, markers={"x": -1}), "markers"),
        (lambda m, hw: plots.cost_chart(m, hw, gpus_for_fit=0), "gpus_for_fit"),
        (lambda m, hw: plots.cost_chart(m, hw, ax="axes"), "ax"),
        (lambda m, hw: plots.cost_chart("deepseek-v3", hw), "model"),
        (lambda m, hw: plots.cost_chart(m, hw, precision="int4"), "precision"),
        (lambda m, hw: plots.compare_cost_chart([]), "cases"),
        (lambda m, hw: plots.compare_cost_chart([("a", m, hw)]), "cases[0]"),
        (lambda m, hw: plots.sweet_spot_vs_context_chart([], hw), "models"),
        (lambda m, hw: plots.sweet_spot_vs_context_chart([m], hw, context=(10, 5)), "context"),
        (lambda m, hw: plots.fit_chart([m], [], 1024), "hardwares"),
        (lambda m, hw: plots.fit_chart([m], [hw], 1024, gpus=0), "gpus"),
        (lambda m, hw: plots.latency_chart(m, hw, gpus=0), "gpus"),
        (lambda m, hw: plots.usd_chart(m, [hw], batch=0), "batch"),
        (lambda m, hw: plots.usd_chart(m, [hw], 64, precision="int4"), "precision"),
    ],
)
def test_bad_inputs_name_the_argument(call, argument):
    m, hw = presets("deepseek-v3", "h100-sxm")
    with pytest.raises(ValueError, match=argument.replace("[", r"\[").replace("]", r"\]")):
        call(m, hw)


# --------------------------------------------------------------------------- label layout


def label_boxes(fig) -> list[tuple[str, object, object]]:
    """(name, box in pixels, axes box) of every label and legend, after a full draw."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        texts = [t for t in ax.texts if t.get_visible() and t.get_text() and t.get_gid()]
        for t in texts:
            out.append((f"{t.get_gid()}:{t.get_text()!r}", t.get_window_extent(renderer), ax))
        if ax.get_legend() is not None:
            out.append(("legend", ax.get_legend().get_window_extent(renderer), ax))
    return out


def overlap_px2(a, b) -> float:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0) * max(height, 0)


def assert_labels_apart(fig) -> None:
    boxes = label_boxes(fig)
    for i, (name_a, a, ax_a) in enumerate(boxes):
        if name_a.startswith("marker-label") or name_a.startswith("floor-label"):
            inside = ax_a.bbox
            assert a.x0 >= inside.x0 - 1 and a.x1 <= inside.x1 + 1, f"{name_a} leaves the axes"
            assert a.y0 >= inside.y0 - 1 and a.y1 <= inside.y1 + 1, f"{name_a} leaves the axes"
        for name_b, b, ax_b in boxes[i + 1 :]:
            if ax_a is ax_b:
                assert overlap_px2(a, b) == 0, f"{name_a} overlaps {name_b}"


@pytest.mark.parametrize("context", [0, 1024, 8192])
def test_floor_and_marker_labels_do_not_collide(context):
    """The chapters' case: one marker at the sweet spot, one between, one at a small batch."""
    m, hw = presets("deepseek-v3", "h100-sxm")
    spot = tm.sweet_spot(m, hw, context)
    big = spot if math.isfinite(spot) else 20_000
    markers = {"big provider": big, "small provider": 500, "dedicated": 4}
    assert_labels_apart(plots.cost_chart(m, hw, context, markers=markers))
    assert_labels_apart(plots.latency_and_cost_chart(m, hw, context, markers=markers))


def test_markers_at_and_past_the_sweet_spot_stay_apart():
    m, hw = presets("deepseek-v3", "h100-sxm")
    spot = tm.sweet_spot(m, hw)
    markers = {"B*/4": spot / 4, "B*": spot, "4 B*": 4 * spot}
    fig = plots.latency_and_cost_chart(m, hw, markers=markers, gpus=32)
    assert_labels_apart(fig)
    # Each label stays next to its own point: nearer to it than to any other marker.
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        points = ax.transData.transform(np.column_stack(xy(by_gid(ax, "markers"))))
        for label in (t for t in ax.texts if t.get_gid() == "marker-label"):
            box = label.get_window_extent(renderer)
            centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
            own = ax.transData.transform(label.xy)
            nearest = points[np.argmin(np.hypot(*(points - centre).T))]
            assert np.allclose(nearest, own), label.get_text()


def test_floor_label_sits_at_the_right_edge_on_the_floor():
    m, hw = presets("deepseek-v3", "h100-sxm")
    ax = plots.cost_chart(m, hw).axes[0]
    label = by_gid(ax, "floor-label")
    assert label.xy == (1.0, pytest.approx(tm.cost_floor(m, hw) * US))
    assert label.xycoords is not None and label.xycoords != "data"  # x in axes fractions


def test_log_axes_keep_their_minor_ticks():
    m, hw = presets("deepseek-v3", "h100-sxm")
    ax = plots.cost_chart(m, hw, batch=(3, 2000)).axes[0]
    ticks = {a.which: a for a in ax.artists if isinstance(a, plots.LogMinorTicks)}
    assert set(ticks) == {"x", "y"}
    expected = [k * 10**e for e in range(0, 4) for k in range(2, 10) if 3 <= k * 10**e <= 2000]
    assert ticks["x"].positions() == pytest.approx(expected)
    low, high = ax.get_ylim()
    assert all(low <= y <= high for y in ticks["y"].positions())
    assert len(ax.xaxis.get_minor_locator()()) == 0  # matplotlib's own are replaced
    ax.set_xscale("linear")
    assert len(ticks["x"].positions()) == 0


def test_ipython_shows_book_figures_without_a_tight_bbox():
    """%matplotlib inline registers a bbox_inches='tight' printer for Figure; a BookFigure
    keeps its own, faster one."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    pylabtools = pytest.importorskip("IPython.core.pylabtools")
    shell = interactiveshell.InteractiveShell.instance()
    try:
        assert plots.register_ipython_png()
        pylabtools.select_figure_formats(shell, {"png"})  # what %matplotlib inline does
        png = shell.display_formatter.formatters["image/png"]
        assert png.lookup(plots.new_figure()) is plots.figure_png_for_display
    finally:
        interactiveshell.InteractiveShell.clear_instance()
    assert not plots.register_ipython_png()  # no shell: nothing to register with


# --------------------------------------------------------------------------- readability

CONTEXT_MODELS = ["deepseek-v3", "llama-3.1-70b", "qwen3-235b-a22b", "gpt-oss-120b", "mixtral-8x7b"]


def _spot() -> float:
    return tm.sweet_spot(*presets("deepseek-v3", "h100-sxm"))


#: Every kind of chart the book draws, in the settings the chapters use.
CHARTS = {
    "cost": lambda m, hw: plots.cost_chart(m, hw, 1000, markers={"batch 1": 1}, gpus_for_fit=32),
    "latency": lambda m, hw: plots.latency_chart(m, hw, 0, markers={"B = 64": 64}),
    "latency and cost": lambda m, hw: plots.latency_and_cost_chart(
        m, hw, markers={"B*/4": _spot() / 4, "4 B*": 4 * _spot()}
    ),
    "terms": lambda m, hw: plots.terms_chart(m, hw, 1000),
    "compare": lambda m, hw: plots.compare_cost_chart(
        [plots.Case("short", m, hw), plots.Case("long", m, hw, 8192)], usd=True
    ),
    "sweet spot vs context": lambda m, hw: plots.sweet_spot_vs_context_chart(
        [tm.model(n) for n in CONTEXT_MODELS], hw
    ),
    "fit": lambda m, hw: plots.fit_chart(
        [m, tm.model("llama-3.1-70b")], [hw, tm.hardware("b200")], 1000
    ),
    "usd": lambda m, hw: plots.usd_chart(m, [tm.hardware(n) for n in tm.hardware_names()], 5000),
    "kv cache": lambda m, hw: plots.kv_cache_chart([tm.model(n) for n in tm.model_names()]),
    "cost multiple": lambda m, hw: plots.cost_multiple_chart(
        [m, tm.model("llama-3.1-405b")],
        tm.hardware("tpu-v5p"),
        price_tiers=[(0, 1.0), (128_000, 2.0)],
        tier_label="a price list",
        context=(256, 1_024_000),
    ),
    "prefill": lambda m, hw: plots.prefill_chart(m, hw, gpus=16, marker=2000),
    "time to first token": lambda m, hw: plots.ttft_chart(
        [plots.PrefillCase("DeepSeek-V3", m, hw, "bf16", 16)]
    ),
    "measured over model": lambda m, hw: plots.measured_over_model_chart(tm.reconcile.compare()),
    "refinements": lambda m, hw: plots.refinements_chart(
        [m, tm.model("mixtral-8x7b")], [m, tm.model("llama-3.1-70b")], hw
    ),
}


@pytest.mark.parametrize("name", CHARTS)
def test_charts_fit_the_column_with_readable_text(name):
    """A figure wider than the text column would be shrunk to it, labels and all; at the
    column's width a point is 4/3 CSS pixel, so no text is smaller than MIN_FONT_PT."""
    fig = CHARTS[name](*presets("deepseek-v3", "h100-sxm"))
    assert fig.get_figwidth() <= plots.FIGSIZE[0]
    fig.canvas.draw()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    small = {t.get_text(): t.get_fontsize() for t in texts if t.get_fontsize() < plots.MIN_FONT_PT}
    assert texts and not small, f"{name}: text below {plots.MIN_FONT_PT} pt: {small}"


def test_png_is_twice_its_display_width():
    """Sharp on high-density screens and in print: the PNG has PNG_SCALE >= 2 pixels per CSS
    pixel of the width the notebook and the site show it at."""
    fig = plots.cost_chart(*presets("deepseek-v3", "h100-sxm"))
    png, metadata = fig._repr_png_()
    width_px = int.from_bytes(png[16:20], "big")  # the PNG header's IHDR width
    assert metadata["width"] == round(plots.FIGSIZE[0] * plots.DISPLAY_PX_PER_INCH)
    assert width_px >= 2 * metadata["width"]


def test_png_is_a_compact_copy_of_the_drawing():
    """The palette PNG shows what Agg drew (no pixel far off on average) in fewer bytes."""
    import io

    from PIL import Image

    fig = plots.latency_and_cost_chart(*presets("deepseek-v3", "h100-sxm"))
    fig.canvas.draw()
    drawn = np.asarray(fig.canvas.buffer_rgba())
    fig_png = plots.figure_png(fig, dpi=fig.dpi)
    with Image.open(io.BytesIO(fig_png)) as image:
        assert image.mode == "P"
        shown = np.asarray(image.convert("RGBA"))
    assert drawn[..., 3].min() == 255  # opaque: nothing lost with the alpha channel
    assert shown.shape == drawn.shape
    assert np.abs(shown.astype(int) - drawn.astype(int))[..., :3].mean() < 0.5
    raw = io.BytesIO()
    Image.fromarray(drawn).save(raw, format="png")
    assert len(fig_png) < len(raw.getvalue()) / 2


def placed_labels(ax):
    """The labels that ``ax``'s LabelPlacer moves, with the curves it keeps them off."""
    placer = next(a for a in ax.artists if isinstance(a, plots.LabelPlacer))
    labels = [ann for group in placer.groups.values() for ann, _ in group if plots._shown(ann)]
    return placer, labels


@pytest.mark.parametrize("name", ["cost", "latency", "latency and cost"])
def test_movable_labels_sit_on_no_line(name):
    """Figure 6.1's step-time label once sat on its line: every label the placer moves keeps
    clear of every curve (its box holds none of the points sampled along them)."""
    fig = CHARTS[name](*presets("deepseek-v3", "h100-sxm"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        placer, labels = placed_labels(ax)
        assert labels
        x, y = placer._curve_points().T
        for ann in labels:
            box = Text.get_window_extent(ann, renderer)
            inside = (x >= box.x0) & (x <= box.x1) & (y >= box.y0) & (y <= box.y1)
            assert not inside.any(), f"{name}: {ann.get_text()!r} sits on a line"


# --- the refinements chart ---------------------------------------------------------------------

REFINE_MOE = ("deepseek-v3", "mixtral-8x7b")
REFINE_CONTEXT = ("deepseek-v3", "llama-3.1-70b")


def refinements_figure(**kw):
    hw = tm.hardware("h100-sxm")
    moe = [tm.model(n) for n in REFINE_MOE]
    ctx = [tm.model(n) for n in REFINE_CONTEXT]
    return plots.refinements_chart(moe, ctx, hw, **kw), moe, ctx, hw


def test_refinements_chart_draws_the_library_numbers():
    fig, moe, ctx, hw = refinements_figure()
    share_ax, penalty_ax, spot_ax, slow_ax = fig.axes
    for m in moe:
        batches, share = xy(by_gid(share_ax, f"share-{m.name}"))
        np.testing.assert_allclose(share, tm.routed_share_read(m, batches))
        spot_dot = xy(by_gid(share_ax, f"share-spot-{m.name}"))[0][0]
        assert spot_dot == pytest.approx(tm.sweet_spot(m, hw))
    everyone = [*moe, *(m for m in ctx if m.name not in REFINE_MOE)]
    first = [tm.batch1_penalty(m, hw) for m in everyone]
    refined = [tm.batch1_penalty(m, hw, assume=tm.REFINED) for m in everyone]
    np.testing.assert_allclose(bar_widths(penalty_ax, "bars-penalty-first-order"), first)
    np.testing.assert_allclose(bar_widths(penalty_ax, "bars-penalty-refined"), refined)
    assert xy(by_gid(penalty_ax, "c-over-bw"))[0][0] == pytest.approx(hw.ops_per_byte())
    for m in ctx:
        for label, assume in (("first", tm.FIRST_ORDER), ("refined", tm.REFINED)):
            contexts, spots = xy(by_gid(spot_ax, f"spot-{label}-{m.name}"))
            want = np.asarray(tm.sweet_spot(m, hw, contexts, assume=assume))
            np.testing.assert_allclose(spots, np.where(np.isfinite(want), want, np.nan))
            contexts, slow = xy(by_gid(slow_ax, f"slowdown-{label}-{m.name}"))
            want = np.asarray(tm.serving.slowdown_at_sweet_spot(m, hw, contexts, assume=assume))
            np.testing.assert_allclose(slow, np.where(np.isfinite(want), want, np.nan))
    assert spot_ax.get_xscale() == "log" and slow_ax.get_yscale() == "log"


def test_refinements_chart_follows_its_options():
    fig, _, ctx, _ = refinements_figure(
        kv_precision="fp8", refined=tm.Assumptions(attention_flops=True), context=(100, 5_000)
    )
    spot_ax = fig.axes[2]
    contexts = xy(by_gid(spot_ax, f"spot-refined-{ctx[0].name}"))[0]
    assert contexts[0] == pytest.approx(100) and contexts[-1] == pytest.approx(5_000)
    assert "FP8 cache" in fig._suptitle.get_text()
    assert "attention_flops=True" in fig._suptitle.get_text()


@pytest.mark.parametrize(
    ("args", "kw", "message"),
    [
        (([], [tm.model("deepseek-v3")]), {}, r"moe_models"),
        (([tm.model("deepseek-v3")], ["llama"]), {}, r"context_models\[0\]"),
        (([tm.model("deepseek-v3")], [tm.model("deepseek-v3")]), {"context": (5, 1)}, "context"),
        (([tm.model("deepseek-v3")], [tm.model("deepseek-v3")]), {"refined": "yes"}, "assume"),
    ],
)
def test_refinements_chart_rejects_bad_input(args, kw, message):
    with pytest.raises(ValueError, match=message):
        plots.refinements_chart(*args, tm.hardware("h100-sxm"), **kw)
