"""The published measurements shipped with the library, and the arithmetic done on them.

The figures typed in this file come from ``shared/MEASUREMENTS.md`` (at its rounding), not
from the data file, so each test compares two independent transcriptions of the sources, or
a figure recomputed by :mod:`tokenmath.fleet` with the one the source printed.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tomllib
from itertools import product

import pytest
import tokenmath as tm
from conftest import ROOT
from tokenmath import fleet, measured

UNITS = {
    "h",
    "GPUs/node",
    "nodes",
    "tokens",
    "fraction",
    "ratio",
    "tokens/s",
    "tokens/s/node",
    "tokens/s/request",
    "s",
    "ms",
    "ms/token",
    "USD/GPU-hour",
    "USD/day",
    "USD/million tokens",
}
KINDS = {"measured", "simulated", "estimated", "derived", "price", "assumption", "stated"}
# Accelerators the data names that have no preset yet (the lead adds them).
CHIPS_WITHOUT_PRESET: set[str] = set()
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

# MEASUREMENTS.md section 3, at its rounding (tokens/s).
VLLM_70B_TOTAL = [53.9, 102.9, 182.5, 319.8, 535.3, 773.5, 964.1, 1036.7, 1146.9, 1182.1]
VLLM_70B_PER_REQUEST = [53.9, 51.5, 45.8, 40.4, 34.1, 24.9, 15.7, 8.5, 5.2, 3.3]
VLLM_8B_TOTAL = [130.6, 243.1, 422.5, 737.5, 1213.2, 1592.4, 1917.6, 2064.7, 2133.7, 2174.0]

ROWS = tm.measurements()


def value(case: str, metric: str) -> float:
    return measured.measurement(case, metric).value


def by_batch(case: str, metric: str) -> dict[int, tm.Measurement]:
    return {r.batch: r for r in tm.measurements(case=case, metric=metric)}


# ---------------------------------------------------------------------------------------
# Every row


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_every_row_has_a_source_unit_and_positive_value(row: tm.Measurement) -> None:
    assert row.source.strip() and row.bib_key.strip()
    assert row.unit in UNITS
    assert row.kind in KINDS
    assert isinstance(row.value, float) and math.isfinite(row.value) and row.value > 0


def test_every_bib_key_is_in_the_bibliography() -> None:
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.MULTILINE))
    assert {r.bib_key for r in ROWS} <= keys


def test_ids_are_unique_and_numbers_are_typed() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)
    for row in ROWS:
        for name in ("chips", "chips_per_node", "batch"):
            assert getattr(row, name) is None or type(getattr(row, name)) is int
        for name in ("model_params", "input_tokens", "output_tokens", "context"):
            assert getattr(row, name) is None or type(getattr(row, name)) is float


def test_models_and_chips_name_presets_or_are_declared() -> None:
    for row in ROWS:
        if row.model is None:
            assert row.model_params is not None and row.model_params > 0
        else:
            tm.model(row.model)  # raises on an unknown preset
        if row.chip not in CHIPS_WITHOUT_PRESET | {measured.NOT_STATED}:
            tm.hardware(row.chip)


def test_not_stated_fields_are_recorded() -> None:
    names = {f for f in measured._COLUMNS}
    for row in ROWS:
        assert set(row.not_stated) <= names
        for name in row.not_stated:
            assert getattr(row, name) in (None, measured.NOT_STATED)
        if row.batch is not None:
            assert row.batch_scope and row.batch_scope != measured.NOT_STATED


def test_llama_33_rows_say_they_use_the_llama_31_preset() -> None:
    for row in tm.measurements(case="vllm-llama-70b"):
        assert row.model == "llama-3.1-70b" and "Llama 3.3" in row.model_name
        assert "architecture of Llama 3.1 70B" in row.notes


def test_data_file_is_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["tokenmath"]
    assert "data/*.csv" in patterns
    assert os.path.isfile(measured.DATA_FILE)


def test_import_reads_no_data_and_no_pandas() -> None:
    code = (
        "import sys, tokenmath\n"
        "from tokenmath import measured\n"
        "assert measured._rows.cache_info().currsize == 0\n"
        "assert not {'pandas', 'matplotlib', 'csv', 'tokenmath.fleet'} & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------
# The vLLM sweeps (MEASUREMENTS.md section 3)


@pytest.mark.parametrize("case", ["vllm-llama-70b", "vllm-llama-8b"])
@pytest.mark.parametrize(
    "metric", ["output_throughput", "output_throughput_per_request", "elapsed"]
)
def test_vllm_sweep_has_ten_batch_points(case: str, metric: str) -> None:
    assert sorted(by_batch(case, metric)) == BATCHES


@pytest.mark.parametrize(
    ("case", "metric", "published"),
    [
        ("vllm-llama-70b", "output_throughput", VLLM_70B_TOTAL),
        ("vllm-llama-70b", "output_throughput_per_request", VLLM_70B_PER_REQUEST),
        ("vllm-llama-8b", "output_throughput", VLLM_8B_TOTAL),
    ],
)
def test_vllm_sweep_matches_measurements_md(case: str, metric: str, published: list) -> None:
    rows = by_batch(case, metric)
    assert [round(rows[b].value, 1) for b in BATCHES] == published


@pytest.mark.parametrize("case", ["vllm-llama-70b", "vllm-llama-8b"])
def test_vllm_total_is_output_tokens_over_elapsed(case: str) -> None:
    # Each figure is a mean over 2-3 runs, and a mean of ratios is not the ratio of the means:
    # the two agree to within 1% (at most 0.6% in these runs).
    total, elapsed = by_batch(case, "output_throughput"), by_batch(case, "elapsed")
    for b in BATCHES:
        recomputed = b * total[b].output_tokens / elapsed[b].value
        assert math.isclose(total[b].value, recomputed, rel_tol=0.01)


@pytest.mark.parametrize("case", ["vllm-llama-70b", "vllm-llama-8b"])
def test_vllm_per_request_throughput_against_total_over_batch(case: str) -> None:
    # The per-request figure is the mean of each request's own tokens / latency. It equals
    # total / batch at batch 1; above it a request that finishes early counts a higher rate,
    # so the mean exceeds total / batch (by 41% at batch 512 for the 70B run). It is not
    # total / batch "within rounding" beyond batch 1.
    total, per_request = (
        by_batch(case, "output_throughput"),
        by_batch(case, "output_throughput_per_request"),
    )
    assert math.isclose(per_request[1].value, total[1].value, rel_tol=1e-3)
    for b in BATCHES:
        assert per_request[b].value >= total[b].value / b
    assert per_request[512].value > 1.3 * total[512].value / 512


# ---------------------------------------------------------------------------------------
# FasterTransformer (MEASUREMENTS.md section 4)


@pytest.mark.parametrize("tp", [1, 2])
def test_fastertransformer_total_is_prefill_plus_ten_decode_steps(tp: int) -> None:
    rows = {r.metric: r for r in tm.measurements(case="fastertransformer-13b") if r.chips == tp}
    steps = rows["total_latency"].output_tokens
    assert steps == 10
    summed = rows["prefill_latency"].value + steps * rows["decode_latency_per_token"].value
    # The per-token decode time is printed to 0.1 ms: 10 steps carry up to 0.5 ms of rounding.
    assert abs(rows["total_latency"].value - summed) <= steps * 0.05 + 0.01


def test_fastertransformer_figures_match_measurements_md() -> None:
    got = {(r.chips, r.metric): r.value for r in tm.measurements(case="fastertransformer-13b")}
    assert got == {
        (1, "prefill_latency"): 63.17,
        (1, "decode_latency_per_token"): 22.0,
        (1, "total_latency"): 283.6,
        (2, "prefill_latency"): 45.45,
        (2, "decode_latency_per_token"): 13.5,
        (2, "total_latency"): 180.86,
    }


# ---------------------------------------------------------------------------------------
# DeepSeek's day and SGLang (MEASUREMENTS.md sections 1 and 2), recomputed by tm.fleet

DAY = fleet.deepseek_day()
DS = "deepseek-production"


def test_deepseek_inputs_match_measurements_md() -> None:
    expected = {
        "nodes_peak": 278,
        "nodes_average": 226.75,
        "lease_price": 2,
        "input_tokens": 608e9,
        "input_tokens_cache_hit": 342e9,
        "cache_hit_share": 0.563,
        "output_tokens": 168e9,
        "kv_length_per_output_token": 4989,
        "prefill_throughput": 73.7e3,
        "decode_throughput": 14.8e3,
        "price_input_cache_hit": 0.14,
        "price_input_cache_miss": 0.55,
        "price_output": 2.19,
    }
    assert {m: value(DS, m) for m in expected} == expected


def test_daily_cost_is_87072() -> None:
    assert DAY.cost_usd == value(DS, "cost_per_day") == 87_072


def test_decode_per_gpu_and_cost_per_million() -> None:
    assert DAY.decode_tokens_per_s_per_gpu == 1850
    assert round(DAY.decode_usd_per_million_output, 2) == 0.30


def _revenue_at(input_tokens: float, share: float, output_tokens: float) -> float:
    prices = [
        value(DS, m) for m in ("price_input_cache_hit", "price_input_cache_miss", "price_output")
    ]
    return fleet.revenue(input_tokens, input_tokens * share, output_tokens, *prices)


def test_revenue_within_the_rounding_of_the_published_inputs() -> None:
    # 608B and 168B are rounded to 0.5B either way, 56.3% to 0.05 percentage points. Revenue
    # rises with input and output tokens and falls with the hit share, so its extremes are
    # at the corners of that box.
    half_billion, half_point = 0.5e9, 0.0005
    i, share, o = (
        value(DS, "input_tokens"),
        value(DS, "cache_hit_share"),
        value(DS, "output_tokens"),
    )
    low = _revenue_at(i - half_billion, share + half_point, o - half_billion)
    high = _revenue_at(i + half_billion, share - half_point, o + half_billion)
    published = value(DS, "revenue_per_day")
    assert low <= published <= high
    assert low <= DAY.revenue_usd <= high
    assert math.isclose(DAY.revenue_usd, published, rel_tol=2e-4)  # 561,975 against 562,027


def test_cache_hit_share_agrees_with_the_token_counts() -> None:
    hits, inputs = value(DS, "input_tokens_cache_hit"), value(DS, "input_tokens")
    share = value(DS, "cache_hit_share")
    lowest, highest = (hits - 0.5e9) / (inputs + 0.5e9), (hits + 0.5e9) / (inputs - 0.5e9)
    assert lowest <= share <= highest


def test_margin_is_545_percent() -> None:
    published = value(DS, "cost_profit_margin")
    assert round(DAY.cost_profit_margin, 2) == published == 5.45
    from_printed = fleet.cost_profit_margin(value(DS, "revenue_per_day"), value(DS, "cost_per_day"))
    assert round(from_printed, 2) == published


def test_node_split_accounts_for_the_average_fleet() -> None:
    # Throughputs printed to 0.1k tokens/s and token counts to 1B: the split's rounding box
    # must contain the published 226.75-node average.
    seconds = DAY.hours * fleet.SECONDS_PER_HOUR
    i, o = value(DS, "input_tokens"), value(DS, "output_tokens")
    p, d = value(DS, "prefill_throughput"), value(DS, "decode_throughput")
    corners = [
        fleet.busy_nodes(i + si * 0.5e9, p + sp * 50, seconds)
        + fleet.busy_nodes(o + so * 0.5e9, d + sd * 50, seconds)
        for si, sp, so, sd in product((-1, 1), repeat=4)
    ]
    assert min(corners) <= DAY.average_nodes <= max(corners)
    assert DAY.split_nodes == pytest.approx(DAY.prefill_nodes + DAY.decode_nodes)
    assert abs(DAY.split_over_average - 1) < 0.005
    assert DAY.prefill_nodes < DAY.decode_nodes


def test_prefill_without_cache_hits_matches_sglangs_reading() -> None:
    published = value(DS, "prefill_throughput_excl_cache_hit")  # SGLang's 32,206
    rounding = 50 * (1 - value(DS, "cache_hit_share")) + 0.0005 * value(DS, "prefill_throughput")
    assert abs(DAY.prefill_tokens_per_s_per_node_excl_cache_hit - published) <= rounding


def test_sglang_decode_cost_is_20_cents() -> None:
    cost = fleet.sglang_decode_cost()
    assert round(cost.tokens_per_s_per_gpu) == 2785
    assert round(cost.usd_per_million_output, 2) == value(
        "sglang-headline", "cost_per_million_output"
    )
    assert cost.usd_per_gpu_hour == value(DS, "lease_price")
    headline = value("sglang-headline", "decode_throughput")  # "22.3k"
    assert round(cost.tokens_per_s_per_node, -2) == headline


def test_sglang_figures_match_measurements_md() -> None:
    decode = {r.id: r.value for r in tm.measurements(case="sglang-decode")}
    prefill = {
        r.input_tokens: r.value
        for r in tm.measurements(case="sglang-prefill")
        if r.kind == "measured"
    }
    assert decode["sglang-decode/batch256"] == 22_282
    assert prefill == {1024: 57_674, 2048: 54_543, 4096: 50_302}
    assert measured.measurement("deepseek-profile", "decode_throughput").value == 18_598


# ---------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: tm.measurements(case="deepseek"), "case"),
        (lambda: tm.measurements(case=3), "case"),
        (lambda: tm.measurements(model="gpt-5"), "model"),
        (lambda: tm.measurements(metric="throughput"), "metric"),
        (lambda: measured.measurement("vllm-llama-70b", "output_throughput"), "output_throughput"),
        (lambda: fleet.daily_cost(-1, 8, 2.0), "nodes"),
        (lambda: fleet.daily_cost(10, 0, 2.0), "gpus_per_node"),
        (lambda: fleet.daily_cost(10, 8, float("nan")), "usd_per_gpu_hour"),
        (lambda: fleet.daily_cost(10, 8, 2.0, hours=0), "hours"),
        (lambda: fleet.daily_cost([1, 2], 8, [1.0, 2.0, 3.0]), "nodes and gpus_per_node"),
        (lambda: fleet.revenue(1e6, 2e6, 1e6, 0.1, 0.5, 2.0), "cache_hit_tokens"),
        (lambda: fleet.revenue(1e6, 0, 1e6, -0.1, 0.5, 2.0), "usd_per_million_hit"),
        (lambda: fleet.cost_profit_margin(100.0, 0.0), "cost_usd"),
        (lambda: fleet.cost_profit_margin(-1.0, 10.0), "revenue_usd"),
        (lambda: fleet.usd_per_million_tokens(0, 8, 2.0), "tokens_per_s_per_node"),
        (lambda: fleet.busy_nodes(1e9, 1e4, 0), "seconds"),
        (lambda: fleet.busy_nodes(-1, 1e4, 10), "tokens"),
        (lambda: fleet.sglang_decode_cost(-2.0), "usd_per_gpu_hour"),
        (lambda: fleet.sglang_decode_cost([1.0, 2.0]), "usd_per_gpu_hour"),
    ],
)
def test_bad_arguments_name_themselves(call, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()


def test_unknown_case_suggests_close_names() -> None:
    with pytest.raises(ValueError, match="deepseek-production"):
        tm.measurements(case="deepseek-prodution")


def test_malformed_rows_are_rejected() -> None:
    good = {c: "" for c in measured._COLUMNS} | {
        "id": "x/y",
        "case": "x",
        "metric": "m",
        "unit": "s",
        "kind": "measured",
        "source": "somewhere",
        "bib_key": "k",
        "value": "1.5",
    }
    assert measured._record(good, 2).value == 1.5
    for field, text, message in [
        ("value", "abc", "value must be a number"),
        ("value", "", "value is empty"),
        ("batch", "2.5", "batch must be a whole number"),
        ("context", "inf", "context must be finite"),
        ("source", "", "source is empty"),
    ]:
        with pytest.raises(ValueError, match=message):
            measured._record(good | {field: text}, 7)


def test_fleet_functions_broadcast() -> None:
    costs = fleet.daily_cost([100, 200], 8, 2.0)
    assert list(costs) == [38_400.0, 76_800.0]
    assert isinstance(fleet.daily_cost(100, 8, 2.0), float)
