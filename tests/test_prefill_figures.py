"""The prefill figures and the prefill explorer draw the library's numbers, and refuse bad input."""

from __future__ import annotations

import math

import ipywidgets as w
import numpy as np
import pytest
import tokenmath as tm
from tokenmath import plots, prefill, widgets

MS, US = 1e3, 1e6
DS, H100, H800 = tm.model("deepseek-v3"), tm.hardware("h100-sxm"), tm.hardware("h800")
L70 = tm.model("llama-3.1-70b")


def lines_by_gid(fig) -> dict:
    return {line.get_gid(): line for ax in fig.axes for line in ax.lines if line.get_gid()}


@pytest.mark.parametrize("assume", [tm.FIRST_ORDER, tm.REFINED])
def test_prefill_chart_draws_the_library_numbers(assume) -> None:
    fig = plots.prefill_chart(
        DS, H800, "native", 32, decode_batch=512, prefill_batch=4, marker=3000, assume=assume
    )
    lines = lines_by_gid(fig)
    prompts = np.asarray(lines["ttft-total"].get_xdata())
    assert prompts[0] == plots.PROMPT_AXIS_LOW and prompts[-1] == DS.context_limit
    kw = {"assume": assume}
    t_mem, t_comp = tm.prefill_terms(DS, H800, prompts, 1, "native", 32, **kw)
    np.testing.assert_allclose(lines["ttft-memory"].get_ydata(), t_mem * MS, rtol=1e-12)
    np.testing.assert_allclose(lines["ttft-compute"].get_ydata(), t_comp * MS, rtol=1e-12)
    np.testing.assert_allclose(
        lines["ttft-total"].get_ydata(),
        tm.prefill_time(DS, H800, prompts, 1, "native", 32, **kw) * MS,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        lines["input-cost"].get_ydata(),
        tm.cost_per_input_token(DS, H800, prompts, 4, "native", **kw) * US,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        lines["output-cost"].get_ydata(),
        tm.cost_per_token(DS, H800, 512, prompts, "native", **kw) * US,
        rtol=1e-12,
    )
    cross = tm.prefill_crossover_tokens(DS, H800, "native", **kw)
    assert lines["crossover"].get_xdata()[0] == pytest.approx(cross)
    marker = lines["prompt-marker"]
    assert marker.get_xdata()[0] == 3000
    assert marker.get_ydata()[0] == pytest.approx(
        tm.prefill_time(DS, H800, 3000, 1, "native", 32, **kw) * MS
    )
    assert "native weights (FP8 arithmetic)" in fig._suptitle.get_text()


def test_crossover_out_of_range_is_hidden() -> None:
    fig = plots.prefill_chart(L70, H100, gpus=4, prompt=(1000, 10_000))  # crossover ~296
    assert not lines_by_gid(fig)["crossover"].get_visible()
    labels = {t.get_gid(): t for t in fig.axes[0].texts}
    assert labels["region-memory"].get_text() == ""
    assert labels["region-compute"].get_text() == "compute-bound"


def test_ttft_chart_curves_and_crossovers() -> None:
    cases = [
        plots.PrefillCase("DeepSeek-V3", DS, H800, "native", 32),
        plots.PrefillCase("Mixtral", tm.model("mixtral-8x7b"), H100, "bf16", 2),
    ]
    fig = plots.ttft_chart(cases, assume=tm.REFINED)
    lines = lines_by_gid(fig)
    for i, case in enumerate(cases):
        x = np.asarray(lines[f"ttft-{i}"].get_xdata())
        assert x[-1] <= case.model.context_limit  # each curve stops at its model's limit
        want = tm.prefill_time(case.model, case.hw, x, 1, case.precision, case.gpus,
                               assume=tm.REFINED)  # fmt: skip
        np.testing.assert_allclose(lines[f"ttft-{i}"].get_ydata(), want * MS, rtol=1e-12)
        cross = tm.prefill_crossover_tokens(case.model, case.hw, case.precision,
                                            assume=tm.REFINED)  # fmt: skip
        assert lines[f"ttft-{i}-crossover"].get_xdata()[0] == pytest.approx(cross)
        assert f"P ≈ {cross:,.0f}" in lines[f"ttft-{i}"].get_label()
    assert fig.axes[0].get_xlim()[1] == DS.context_limit  # the longer limit


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plots.ttft_chart([]), r"^cases must hold at least one tm\.plots\.PrefillCase"),
        (lambda: plots.ttft_chart(["x"]), r"^cases\[0\] must be a tm\.plots\.PrefillCase"),
        (
            lambda: plots.ttft_chart([plots.PrefillCase("x", DS, H100, "bf16", 0)]),
            r"^cases\[0\]\.gpus must be a whole number of GPUs >= 1",
        ),
        (lambda: plots.prefill_chart(DS, H100, gpus=1.5), r"^gpus must be a whole number"),
        (lambda: plots.prefill_chart(DS, H100, prompt=(10, 5)), r"^prompt must be a pair"),
        (lambda: plots.prefill_chart("deepseek-v3", H100), r"^model must be a tokenmath Model"),
        (lambda: plots.prefill_chart(DS, H100, "int4"), r"^precision must be one of"),
        (lambda: plots.prefill_chart(DS, H100, decode_batch=0), r"^batch must be > 0"),
    ],
)
def test_bad_figure_inputs_name_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.fixture(scope="module")
def explorer() -> widgets.PrefillExplorer:
    box = widgets.prefill_explorer()
    assert isinstance(box, w.Box)
    return box.explorer


def test_explorer_builds_with_the_preset_defaults(explorer) -> None:
    assert explorer.image.value[:2] == b"\xff\xd8"  # a JPEG
    assert explorer.price_w.value == H100.usd_per_hour
    assert explorer.gpus_w.value == widgets.default_gpus("deepseek-v3", "h100-sxm")
    assert explorer.model_w.options == tuple(tm.model_names())
    assert explorer.prompt_w.max == pytest.approx(math.log10(DS.context_limit))


def test_explorer_readouts_are_the_library_numbers(explorer) -> None:
    r = explorer.update(prompt=4000, prefill_batch=2, decode_batch=1000, gpus=16)
    assert r is not None
    prices = prefill.token_prices(DS, H100, 4000, 1000, 4000, prefill_batch=2)
    assert r["ttft_ms"] == pytest.approx(tm.prefill_time(DS, H100, 4000, 1, gpus=16) * MS)
    assert r["crossover_tokens"] == pytest.approx(tm.prefill_crossover_tokens(DS, H100))
    assert r["ratio"] == pytest.approx(prices.ratio)
    assert r["input_usd_per_million"] == pytest.approx(prices.input_usd_per_m)
    assert r["pass_region"] == "compute-bound"  # 8,000 tokens, past the crossover
    assert f"{prices.ratio:.3g}" in explorer.readout_w.value
    line = lines_by_gid(explorer.figure.fig)["output-cost"]
    x = np.asarray(line.get_xdata())
    np.testing.assert_allclose(line.get_ydata(), tm.cost_per_token(DS, H100, 1000, x) * US)


def test_sliders_only_blit(explorer) -> None:
    explorer.update(prompt=2000)
    before = explorer.figure.background_redraws
    for prompt in (100, 1000, 30_000):
        assert explorer.update(prompt=prompt) is not None
    for batch in (1, 64, 300):
        assert explorer.update(prefill_batch=batch, decode_batch=batch * 10) is not None
    assert explorer.figure.background_redraws == before  # no axis changed
    explorer.update(model="llama-3.1-8b", gpus=None, usd_per_gpu_hour=None)
    assert explorer.figure.background_redraws == before + 1  # a new model: new axes


def test_controls_drive_the_same_update(explorer) -> None:
    explorer.update(model="deepseek-v3", prompt=2000)
    explorer.prompt_w.value = 5000
    assert explorer.state.prompt == pytest.approx(5000)
    explorer.model_w.value = "mixtral-8x7b"  # a 32K limit pulls the prompt down
    assert explorer.state.model == "mixtral-8x7b"
    assert explorer.state.prompt <= tm.model("mixtral-8x7b").context_limit
    assert explorer.gpus_w.value == widgets.default_gpus("mixtral-8x7b", "h100-sxm")
    explorer.hardware_w.value = "a100-sxm-80gb"
    explorer.precision_w.value = "fp8"  # the A100 has no FP8 mode: refused, chart kept
    assert explorer.state.precision == "bf16" and "Cannot draw this" in explorer.message_w.value
    assert explorer.precision_w.value == "bf16"  # the control shows the chart's setting
    explorer.update(hardware="h100-sxm", model="deepseek-v3")
    assert explorer.message_w.value == ""


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"prompt": 0}, "prompt must be from 1"),
        ({"prompt": 10**7}, "prompt must be from 1"),
        ({"prefill_batch": 5000}, "prefill_batch must be from 1"),
        ({"decode_batch": math.nan}, "decode_batch must be from 1"),
        ({"gpus": 0}, "gpus must be a whole number"),
        ({"usd_per_gpu_hour": -1.0}, "usd_per_gpu_hour must be from 0"),
        ({"precision": "int4"}, "precision must be one of"),
        ({"model": "gpt-5"}, "gpt-5"),
    ],
)
def test_bad_inputs_show_a_message(explorer, changes, words) -> None:
    explorer.update(model="deepseek-v3", hardware="h100-sxm", precision="bf16", prompt=2000)
    assert explorer.update(**changes) is None
    assert words in explorer.message_w.value
    assert explorer.state.prompt == 2000  # the chart is left as it was
