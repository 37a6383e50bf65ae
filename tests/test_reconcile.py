"""tokenmath.reconcile and the fleet's off-peak arithmetic: every measurement below its
bounds, the expert-parallel terms by hand, Shapley shares that add up, DeepSeek's day at the
model. Figures typed here come from the sources (configurations, MEASUREMENTS.md)."""

from __future__ import annotations

import math

import pytest
import tokenmath as tm
from tokenmath import fleet
from tokenmath import reconcile as rc

pytestmark = pytest.mark.filterwarnings("error")

DS = tm.model("deepseek-v3")
H800, H100 = tm.hardware("h800"), tm.hardware("h100-sxm")
BW = 3.35e12
C8, C16 = 1978.9e12, 989.4e12
KV_DS = 61 * 576 * 2  # BF16 latent cache bytes per token
ROUTED = 58 * 256 * 3 * 7168 * 2048
SHARED = 671e9 - ROUTED
ATTN_DS = 61 * 128 * (2 * 576 + 2 * 512)  # FLOPs per attended token, absorbed MLA


@pytest.fixture(scope="module")
def rows() -> list[rc.Comparison]:
    return rc.compare()


def test_every_measurement_is_at_or_below_its_bounds(rows):
    assert len(rows) >= 38
    for r in rows:
        assert r.ratio_first_order <= 1.0, r.id
        assert r.ratio_refined <= 1.0, r.id
        assert r.refined <= r.first_order if r.faster_is_higher else r.refined >= r.first_order


def test_every_deployment_throughput_in_the_data_is_compared(rows):
    metrics = {"output_throughput", "decode_throughput", "prefill_throughput"}
    metrics |= {"prefill_latency", "decode_latency_per_token", "total_latency"}
    wanted = {
        m.id
        for m in tm.measurements()
        if m.metric in metrics and m.kind in ("measured", "estimated", "simulated")
    }
    assert {r.id for r in rows} == wanted
    assert len({r.label for r in rows}) == len(rows)


def test_calibrated_vllm_rows_are_the_calibration(rows):
    vllm = [r for r in rows if r.case.startswith("vllm")]
    assert len(vllm) == 20
    residuals = tm.calibration.residuals()
    for r, res in zip(vllm, residuals, strict=True):
        assert math.isclose(math.log(r.ratio_calibrated), res, rel_tol=1e-9)


def test_fastertransformer_bounds_by_hand(rows):
    m = rc.fastertransformer_model()
    assert m.total_params == pytest.approx(12 * 40 * 5120**2 + 50272 * 5120, rel=1e-3)
    a100 = 1.555e12
    tp1 = {r.metric: r for r in rows if r.id.startswith("fastertransformer-13b/tp1")}
    weights = 12.84e9 * 2
    kv = 40 * 2 * 40 * 128 * 2  # MHA, 16-bit
    prefill = max((weights + 512 * kv) / a100, 512 * 2 * 12.84e9 / 312e12)
    steps = [(weights + (512 + k) * kv) / a100 for k in range(10)]
    assert tp1["prefill_latency"].first_order == pytest.approx(prefill * 1e3)
    assert tp1["decode_latency_per_token"].first_order == pytest.approx(sum(steps) / 10 * 1e3)
    assert tp1["total_latency"].first_order == pytest.approx((prefill + sum(steps)) * 1e3)


def test_fp32_weights_would_break_the_fastertransformer_bound():
    """Where a condition is wrong the bound fails: 4-byte weights would make the measured
    decode step faster than the bound, so the weights were 16-bit."""
    rows = tm.measurements(case="fastertransformer-13b", metric="decode_latency_per_token")
    row = next(r for r in rows if r.chips == 1)
    fp32_step = 12.84e9 * 4 / 1.555e12 * 1e3  # ms, weights alone
    assert row.value < fp32_step


def test_little_and_the_deepseek_batch():
    assert rc.little_batch(1850.0, 21.0) == pytest.approx(88.095, rel=1e-4)
    assert rc.deepseek_decode_batch() == pytest.approx(14800 / 8 / 21)
    with pytest.raises(ValueError, match="tokens_per_s_per_request"):
        rc.little_batch(1.0, 0.0)


def test_attended_context_by_hand():
    prompt = 4989 / (1 + 168 / 608 / 2)
    assert rc.attended_per_computed_token(4989, 608e9, 168e9, 0.563) == pytest.approx(
        prompt * 1.563 / 2
    )
    with pytest.raises(ValueError, match="cache_hit_share must be >= 0 and < 1"):
        rc.attended_per_computed_token(4989, 608e9, 168e9, 1.0)


def test_decode_terms_by_hand():
    b, ctx, layout = 100.0, 4000.0, rc.DEEPSEEK_DECODE
    memory = (671e9 / 144 + b * ctx * KV_DS) / BW
    assert rc.decode_throughput(DS, H800, layout, b, ctx) == pytest.approx(b / memory)
    assert rc.decode_throughput(DS, H800, layout, b, ctx) == pytest.approx(
        tm.throughput(DS, H800, b * 144, ctx, "native", 144) / 144
    )
    replicated = (SHARED + ROUTED * 288 / 256 / 144 + b * ctx * KV_DS) / BW
    assert rc.decode_throughput(DS, H800, layout, b, ctx, ["replicated"]) == pytest.approx(
        b / replicated
    )
    comm = b * 8 * 7168 * 3 * 58 * 136 / 144 / 50e9
    assert rc.decode_throughput(DS, H800, layout, b, ctx, ["all_to_all"]) == pytest.approx(
        b / max(memory, comm)
    )
    serial = rc.decode_throughput(DS, H800, layout, b, ctx, ["all_to_all"], overlap=False)
    assert serial == pytest.approx(b / (memory + comm))
    compute = b * 2 * 37e9 / C8 + b * ATTN_DS * ctx / C16
    assert rc.decode_throughput(DS, H800, layout, b, ctx, ["attention"]) == pytest.approx(
        b / max(memory, compute)
    )
    e = tm.CALIBRATED
    slow = max(memory / e.mem_efficiency, b * 2 * 37e9 / C8 / e.compute_efficiency)
    assert rc.decode_throughput(DS, H800, layout, b, ctx, ["efficiencies"]) == pytest.approx(
        b / slow
    )
    drafted = max(memory, 2 * b * 2 * 37e9 / C8)
    assert rc.decode_throughput(DS, H800, layout, b, ctx, ["mtp"]) == pytest.approx(
        b * 1.875 / drafted
    )


def test_prefill_terms_by_hand():
    tokens, attended, layout = 16384.0, 3000.0, rc.DEEPSEEK_PREFILL
    assert rc.prefill_throughput(DS, H800, layout, tokens, attended) == pytest.approx(
        C8 / (2 * 37e9)
    )
    compute = tokens * (2 * 37e9 / C8 + ATTN_DS * attended / C16)
    assert rc.prefill_throughput(DS, H800, layout, tokens, attended, ["attention"]) == (
        pytest.approx(tokens / compute)
    )
    remote = 3 * (1 - 0.75**8)  # remote nodes per token, forwarding inside the node
    comm = tokens * 7168 * 3 * 58 * remote / 50e9
    got = rc.prefill_throughput(DS, H800, layout, tokens, attended, ["all_to_all"])
    assert got == pytest.approx(tokens / max(tokens * 2 * 37e9 / C8, comm))


def test_shapley_shares_add_up_and_are_fair():
    shares = rc.shapley_shares(lambda on: 64.0 / (2 ** len(on)) / (3 if "c" in on else 1), "abc")
    assert sum(shares.values()) == pytest.approx(math.log(64 / (64 / 8 / 3)))
    assert shares["a"] == pytest.approx(math.log(2)) and shares["c"] == pytest.approx(math.log(6))
    # a term that only acts with another one is split between them
    both = rc.shapley_shares(lambda on: 8.0 if on == {"a", "b"} else 16.0, ["a", "b"])
    assert both == pytest.approx({"a": math.log(2) / 2, "b": math.log(2) / 2})
    assert rc.shapley_shares(lambda on: 1.0, []) == {}


@pytest.mark.parametrize(
    "name", ["deepseek-decode", "deepseek-prefill", "sglang-decode", "sglang-prefill"]
)
@pytest.mark.parametrize("with_mtp", [False, True])
def test_ledgers_add_up(name, with_mtp):
    ledger = rc.ledgers(with_mtp=with_mtp)[name]
    assert ledger.measured < ledger.bound
    total = sum(ledger.shares.values()) + ledger.unexplained
    assert total == pytest.approx(ledger.gap)
    assert sum(ledger.fraction(t) for t in ledger.terms) + ledger.unexplained_fraction == (
        pytest.approx(1.0)
    )
    assert ("mtp" in ledger.terms) == (with_mtp and ledger.phase == "decode")


def test_deepseek_decode_ledger_numbers():
    d = rc.ledgers()["deepseek-decode"]
    assert d.measured == 1850.0
    b = 14800 / 8 / 21
    assert d.bound == pytest.approx(b / ((671e9 / 144 + b * 4989 * KV_DS) / BW))
    assert 0.2 < d.measured / d.bound < 0.25  # the "about 20%"
    assert all(d.shares[t] > 0 for t in d.terms)


def test_deepseek_day_at_the_bound_by_hand():
    day = fleet.deepseek_day()
    bound = rc.deepseek_day_at()
    decode = 8 * rc.decode_throughput(DS, H800, rc.DEEPSEEK_DECODE, 14800 / 8 / 21, 4989)
    assert bound.decode_nodes == pytest.approx(168e9 / (decode * 86400))
    prefill = 8 * 1978.9e12 / (2 * 37e9)
    assert bound.prefill_nodes == pytest.approx(608e9 * (1 - 0.563) / (prefill * 86400))
    assert bound.cost_usd == pytest.approx(bound.nodes * 8 * 2 * 24)
    assert bound.cost_profit_margin == pytest.approx(day.revenue_usd / bound.cost_usd - 1)
    assert 0.06 < bound.decode_usd_per_million_output < 0.07  # the "about $0.06"
    modelled = rc.deepseek_day_at(rc.TERMS[:-1])
    assert bound.cost_usd < modelled.cost_usd < day.cost_usd
    shares = rc.day_cost_shares()
    assert sum(shares.values()) == pytest.approx(math.log(modelled.cost_usd / bound.cost_usd))


def test_offpeak_revenue():
    assert fleet.offpeak_revenue(300.0, 1 / 3, 0.25) == pytest.approx(225.0)
    assert fleet.offpeak_revenue(300.0, 0.0, 0.25) == 300.0
    with pytest.raises(ValueError, match="price_share must be >= 0 and <= 1"):
        fleet.offpeak_revenue(1.0, 0.5, 1.5)
    hours = tm.measured.measurement("deepseek-offpeak", "offpeak_hours").value
    share = tm.measured.measurement("deepseek-offpeak", "offpeak_price_share_r1").value
    assert (hours, share) == (8.0, 0.25)  # DeepSeek API news, 2025-02-26


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: rc.decode_throughput(DS, H800, rc.DEEPSEEK_DECODE, 1, 1, ["overlap"]),
            "terms must be drawn from",
        ),
        (lambda: rc.EPLayout(12, 8), r"gpus_per_node must divide gpus \(12\)"),
        (lambda: rc.mtp(1.2), "acceptance must be >= 0 and <= 1"),
        (
            lambda: rc.decode_throughput(DS, H800, rc.DEEPSEEK_DECODE, 1, 1, overlap=None),
            "overlap must be True or False",
        ),
        (lambda: rc.compare("nowhere"), "case must be one of"),
        (lambda: rc.decode_throughput(DS, H800, rc.DEEPSEEK_DECODE, 0, 1), "batch_per_gpu"),
    ],
)
def test_bad_inputs_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_measured_over_model_chart(rows):
    fig = tm.plots.measured_over_model_chart(rows)
    left, right = fig.axes[:2]
    drawn = [
        a for a in left.lines if a.get_gid() in ("ratio-first_order", "ratio-first_order-hollow")
    ]
    xs = sorted(x for line in drawn for x in line.get_xdata())
    assert xs == pytest.approx(sorted(r.ratio_first_order for r in rows))
    cal = [a for a in right.lines if str(a.get_gid()).startswith("ratio-calibrated")]
    xs = sorted(x for line in cal for x in line.get_xdata())
    assert xs == pytest.approx(sorted(100 * (r.ratio_calibrated - 1) for r in rows))
    assert [t.get_text() for t in left.get_yticklabels()][0] == rows[0].label  # top row
    with pytest.raises(ValueError, match="comparisons must be a non-empty sequence"):
        tm.plots.measured_over_model_chart([])
