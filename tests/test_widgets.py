"""The cost explorer: builds, shows the library's numbers, turns bad input into a message."""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import pytest
import tokenmath as tm
from tokenmath import widgets

US = 1e6  # GPU-microseconds per second


@pytest.fixture(scope="module")
def explorer() -> widgets.CostExplorer:
    box = widgets.cost_explorer(batch=64, context=0)
    assert isinstance(box, w.Box)
    return box.explorer


def expected_readouts(name: str, hw_name: str, batch: float, context: int, gpus: int, price):
    m, hw = tm.model(name), tm.hardware(hw_name)
    cost = tm.cost_per_token(m, hw, batch, context)
    return {
        "step_time_ms": tm.step_time(m, hw, batch, context, gpus=gpus) * 1e3,
        "gpu_seconds_per_million_tokens": cost * 1e6,
        "usd_per_million_tokens": tm.usd_per_million_tokens(cost, price),
        "sweet_spot": tm.sweet_spot(m, hw, context),
        "batch1_penalty": tm.batch1_penalty(m, hw, context),
        "region": tm.region(m, hw, batch, context),
        "max_batch": tm.max_batch(m, hw, context, gpus=gpus),
    }


def test_builds_with_an_image_and_the_preset_defaults(explorer):
    assert explorer.image.value[:2] == b"\xff\xd8"  # a JPEG
    hw = tm.hardware("h100-sxm")
    assert explorer.price_w.value == hw.usd_per_hour
    assert explorer.gpus_w.value == 32  # 17 H100s hold DeepSeek-V3: the next power of two
    assert explorer.model_w.options == tuple(tm.model_names())
    assert explorer.context_w.options[-1] == tm.model("deepseek-v3").context_limit


def test_one_update_gives_the_library_numbers(explorer):
    r = explorer.update(batch=100, context=1024, gpus=16)
    assert r is not None
    want = expected_readouts(
        "deepseek-v3", "h100-sxm", 100, 1024, 16, tm.hardware("h100-sxm").usd_per_hour
    )
    for key, value in want.items():
        assert r[key] == pytest.approx(value), key
    assert f"{want['sweet_spot']:,.0f}" in explorer.readout_w.value
    assert explorer.batch_w.value == pytest.approx(100)
    # The chart moved too: its cost line is the library's at the plotted batches.
    line = explorer.figure.cost.lines["total"]
    batches = np.asarray(line.get_xdata())
    m, hw = tm.model("deepseek-v3"), tm.hardware("h100-sxm")
    np.testing.assert_allclose(line.get_ydata(), tm.cost_per_token(m, hw, batches, 1024) * US)


def test_controls_drive_the_same_update(explorer):
    explorer.update(
        model="llama-3.1-70b",
        hardware="h100-sxm",
        precision="bf16",
        usd_per_gpu_hour=None,
        gpus=None,
        context=0,
        batch=64,
    )
    explorer.price_w.value = 4.0  # as a reader typing a price
    r = explorer.last_readouts
    cost = tm.cost_per_token(tm.model("llama-3.1-70b"), tm.hardware("h100-sxm"), 64, 0)
    assert r["usd_per_million_tokens"] == pytest.approx(tm.usd_per_million_tokens(cost, 4.0))
    explorer.hardware_w.value = "b200"  # a new accelerator brings its own price
    assert explorer.last_readouts["usd_per_gpu_hour"] == tm.hardware("b200").usd_per_hour


def test_fp8_on_a_chip_without_it(explorer):
    explorer.update(
        model="deepseek-v3", hardware="h100-sxm", precision="fp8", gpus=None, usd_per_gpu_hour=None
    )
    explorer.hardware_w.value = "a100-sxm-80gb"  # the control switches to BF16 and says why
    assert explorer.state.precision == "bf16"
    assert explorer.precision_w.options == ("bf16",)
    assert "FP8" in explorer.precision_note.value
    before = explorer.image.value
    assert explorer.update(precision="fp8") is None
    assert "FP8" in explorer.message_w.value
    assert explorer.image.value == before  # the chart stays as it was


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"context": 10_000_000}, "context"),
        ({"batch": 0}, "batch"),
        ({"model": "gpt-9"}, "unknown model"),
        ({"usd_per_gpu_hour": -1.0}, "usd_per_gpu_hour"),
        ({"gpus": 0}, "gpus"),
        ({"colour": "red"}, "colour"),
        ({"batch": 10**400}, "batch must be finite"),
        ({"context": 10**400}, "context must be finite"),
        ({"gpus": 10**400}, "gpus must be a whole number from 1 to 4,096"),
        ({"gpus": 1e308}, "gpus must be a whole number from 1 to 4,096"),
    ],
)
def test_bad_inputs_show_a_message_not_a_traceback(explorer, changes, words):
    state = explorer.state
    assert explorer.update(**changes) is None
    assert words in explorer.message_w.value
    assert explorer.state == state  # nothing changed


def test_a_good_change_clears_the_message(explorer):
    assert explorer.update(batch=-5) is None
    assert explorer.message_w.value != ""
    assert explorer.update(batch=32) is not None
    assert explorer.message_w.value == ""


def test_context_options_run_to_the_model_limit():
    options = widgets.context_options(131_072)
    assert options[0] == 0 and options[-1] == 131_072
    assert options == sorted(set(options))


def test_a_model_with_a_shorter_limit_pulls_the_context_down(explorer):
    explorer.update(model="deepseek-v3", hardware="h100-sxm", precision="bf16", context=8192)
    explorer.model_w.value = "gpt-3-175b"  # 2,048-token context limit
    assert explorer.state.model == "gpt-3-175b"
    assert explorer.state.context == tm.model("gpt-3-175b").context_limit
    assert explorer.context_w.value == explorer.state.context
    assert explorer.message_w.value == ""


def test_out_of_range_controls_are_refused(explorer):
    for changes in ({"batch": 1e7}, {"gpus": 10**6}, {"usd_per_gpu_hour": 1e9}):
        assert explorer.update(**changes) is None
        assert next(iter(changes)) in explorer.message_w.value


@pytest.mark.parametrize("batch", [1, 64, 5000, 30_000])
def test_explorer_labels_stay_apart(explorer, batch):
    """The batch marker's label moves clear of the floor and sweet-spot labels (the label
    placer runs in the blitted redraw too)."""
    assert explorer.update(model="deepseek-v3", hardware="h100-sxm", batch=batch, context=0)
    fig = explorer.figure.fig
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        texts = [t for t in ax.texts if t.get_visible() and t.get_text()]
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
        marker = [b for t, b in zip(texts, boxes, strict=True) if t.get_gid() == "marker-label"]
        assert len(marker) == 1
        box = marker[0][1]
        assert ax.bbox.x0 - 1 <= box.x0 and box.x1 <= ax.bbox.x1 + 1
        for name, other in boxes:
            if other is not box:
                width = min(box.x1, other.x1) - max(box.x0, other.x0)
                height = min(box.y1, other.y1) - max(box.y0, other.y0)
                assert width <= 0 or height <= 0, f"marker label overlaps {name!r}"
