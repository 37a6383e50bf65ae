"""Hand-computed checks of tokenmath.serving (latency floor, throughput, demand, tiers)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tokenmath as tm
from conftest import BW, C_BF16, DS_ACTIVE, DS_B, DS_TOTAL, L8_B
from tokenmath import serving

pytestmark = pytest.mark.filterwarnings("error")


def test_serving_is_reachable_lazily_and_directly():
    import tokenmath.serving as direct

    assert tm.serving is direct
    assert direct.FastTier._fields == ("speedup", "price_multiple")


def test_latency_floor_is_one_sequence_step(ds, h100):
    assert serving.latency_floor(ds, h100) == pytest.approx(2 * DS_TOTAL / BW, rel=1e-12)
    assert serving.latency_floor(ds, h100, gpus=8) == pytest.approx(
        2 * DS_TOTAL / (8 * BW), rel=1e-12
    )
    # with a cache, the one sequence's cache is read too
    assert serving.latency_floor(ds, h100, context=10_000) == pytest.approx(
        (2 * DS_TOTAL + 10_000 * DS_B) / BW, rel=1e-12
    )


def test_latency_floor_is_the_minimum_step_time(ds, h100):
    floor = serving.latency_floor(ds, h100, 4096)
    batches = np.geomspace(1, 1e6, 200)
    assert np.all(tm.step_time(ds, h100, batches, 4096) >= floor)


def test_max_throughput_compute_ceiling(ds, h100):
    assert serving.max_throughput(ds, h100) == pytest.approx(C_BF16 / (2 * DS_ACTIVE), rel=1e-12)
    assert serving.max_throughput(ds, h100, gpus=8) == pytest.approx(
        8 * C_BF16 / (2 * DS_ACTIVE), rel=1e-12
    )
    # reached at the sweet spot and held beyond it
    s = tm.sweet_spot(ds, h100)
    assert tm.throughput(ds, h100, s, 0) == pytest.approx(serving.max_throughput(ds, h100))
    assert tm.throughput(ds, h100, 3 * s, 0) == pytest.approx(serving.max_throughput(ds, h100))


def test_max_throughput_kv_ceiling_is_approached_not_reached(h100):
    m = tm.model("llama-3.1-8b")
    context = 1_000_000  # KV line far above the compute line
    assert tm.sweet_spot(m, h100, context) == math.inf
    ceiling = BW / (context * L8_B)
    assert serving.max_throughput(m, h100, context) == pytest.approx(ceiling, rel=1e-12)
    rates = tm.throughput(m, h100, np.geomspace(1, 1e9, 30), context)
    assert np.all(rates < ceiling)
    assert rates[-1] == pytest.approx(ceiling, rel=1e-6)


def test_batch_for_demand_closed_form(ds, h100):
    demand = 1_000.0
    expected = demand * (2 * DS_TOTAL / BW) / (1 - demand * 0.0)
    assert serving.batch_for_demand(ds, h100, demand) == pytest.approx(expected, rel=1e-12)
    demand, context, gpus = 20_000.0, 2_000, 8
    t_w, t_kv = 2 * DS_TOTAL / BW, context * DS_B / BW
    expected = demand * t_w / (gpus - demand * t_kv)
    got = serving.batch_for_demand(ds, h100, demand, context, gpus=gpus)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("context", [0, 1_000, 4_096, 100_000])
@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.99])
def test_batch_for_demand_is_littles_law_fixed_point(ds, h100, context, fraction):
    demand = fraction * serving.max_throughput(ds, h100, context, gpus=8)
    b = serving.batch_for_demand(ds, h100, demand, context, gpus=8)
    assert b == pytest.approx(demand * tm.step_time(ds, h100, b, context, gpus=8), rel=1e-9)
    assert b <= tm.sweet_spot(ds, h100, context) * (1 + 1e-12)


def test_batch_for_demand_broadcasts(ds, h100):
    out = serving.batch_for_demand(ds, h100, [100.0, 1_000.0], [0, 1_000])
    assert out.shape == (2,)
    assert out[0] == serving.batch_for_demand(ds, h100, 100.0, 0)
    assert out[1] == serving.batch_for_demand(ds, h100, 1_000.0, 1_000)


def test_batch_for_demand_at_the_maximum_is_the_sweet_spot(ds, h100):
    top = serving.max_throughput(ds, h100)
    s = tm.sweet_spot(ds, h100)
    assert serving.batch_for_demand(ds, h100, top) == pytest.approx(s, rel=1e-12)
    assert serving.batch_for_demand(ds, h100, top * (1 + 1e-13)) == pytest.approx(s, rel=1e-12)
    s_ctx = tm.sweet_spot(ds, h100, 1000)
    top_ctx = serving.max_throughput(ds, h100, 1000, gpus=8)
    assert serving.batch_for_demand(ds, h100, top_ctx, 1000, gpus=8) == pytest.approx(s_ctx)


def test_batch_for_demand_refuses_demand_above_the_maximum(ds, h100):
    top = serving.max_throughput(ds, h100)
    with pytest.raises(
        ValueError, match=r"tokens_per_s must be at most 13,370.3 tokens/s.*got 13,37"
    ):
        serving.batch_for_demand(ds, h100, top * (1 + 1e-9))
    with pytest.raises(ValueError, match=r"tokens_per_s must be at most.*got 26,740.5"):
        serving.batch_for_demand(ds, h100, 2 * top)
    with pytest.raises(ValueError, match=r"at index 1"):
        serving.batch_for_demand(ds, h100, [1.0, 2 * top])


def test_without_a_sweet_spot_the_maximum_itself_is_refused(h100):
    m = tm.model("llama-3.1-8b")
    top = serving.max_throughput(m, h100, 1_000_000)
    with pytest.raises(ValueError, match=r"tokens_per_s must be below"):
        serving.batch_for_demand(m, h100, top, 1_000_000)


def test_replicas_needed_at_the_sweet_spot(ds, h100):
    top8 = 8 * C_BF16 / (2 * DS_ACTIVE)  # tokens/s of one 8-GPU replica at the sweet spot
    assert serving.replicas_needed(ds, h100, 1e6, gpus=8) == math.ceil(1e6 / top8) == 10
    assert serving.replicas_needed(ds, h100, 1.0, gpus=8) == 1
    exact = 3 * serving.max_throughput(ds, h100, gpus=8)
    assert serving.replicas_needed(ds, h100, exact, gpus=8) == 3
    assert serving.replicas_needed(ds, h100, exact * 1.000001, gpus=8) == 4
    out = serving.replicas_needed(ds, h100, np.array([1.0, 1e6]), gpus=8)
    assert out.tolist() == [1, 10]
    assert isinstance(serving.replicas_needed(ds, h100, 1e6), int)


def test_replicas_needed_without_a_sweet_spot_carries_strictly_less_than_the_ceiling(h100):
    m = tm.model("llama-3.1-8b")
    context = 1_000_000
    top = serving.max_throughput(m, h100, context)
    assert serving.replicas_needed(m, h100, 2 * top, context) == 3
    assert serving.replicas_needed(m, h100, 2.5 * top, context) == 3
    n = serving.replicas_needed(m, h100, 2 * top, context)
    serving.batch_for_demand(m, h100, 2 * top / n, context)  # each replica keeps up


def test_replicas_needed_serve_the_demand_below_the_sweet_spot(ds, h100):
    for demand in (5e3, 1e5, 3.3e6):
        n = serving.replicas_needed(ds, h100, demand, context=1000, gpus=8)
        b = serving.batch_for_demand(ds, h100, demand / n, 1000, gpus=8) if n > 0 else None
        assert b is not None and b <= tm.sweet_spot(ds, h100, 1000)
        if n > 1:  # one fewer would not do
            assert demand / (n - 1) >= serving.max_throughput(ds, h100, 1000, gpus=8)


def test_premium_over_floor(ds, h100):
    s = tm.sweet_spot(ds, h100)
    assert serving.premium_over_floor(ds, h100, 500) == pytest.approx(s / 500, rel=1e-12)
    assert serving.premium_over_floor(ds, h100, s) == pytest.approx(1.0, rel=1e-12)
    assert serving.premium_over_floor(ds, h100, 10 * s) == 1.0
    assert serving.premium_over_floor(ds, h100, 1) == pytest.approx(tm.batch1_penalty(ds, h100))
    out = serving.premium_over_floor(ds, h100, np.geomspace(1, 1e6, 40), 2000)
    assert np.all(out >= 1.0)


def test_fast_tier_by_hand(ds, h100):
    # both batches past the sweet spot: step time proportional to batch, cost at the floor
    tier = serving.fast_tier(ds, h100, base_batch=16_000, fast_batch=8_000)
    assert tier.speedup == pytest.approx(2.0, rel=1e-12)
    assert tier.price_multiple == pytest.approx(1.0, rel=1e-12)
    # both below the sweet spot at context 0: no speed gained, cost scales with 1/batch
    tier = serving.fast_tier(ds, h100, base_batch=5_000, fast_batch=500)
    assert tier.speedup == pytest.approx(1.0, rel=1e-12)
    assert tier.price_multiple == pytest.approx(10.0, rel=1e-12)


def test_fast_tier_speedup_is_bounded_by_the_latency_floor(ds, h100):
    base = 16_000
    bound = tm.step_time(ds, h100, base, 0) / serving.latency_floor(ds, h100)
    tiers = serving.fast_tier(ds, h100, base, np.geomspace(1, base, 50))
    assert np.all(tiers.speedup <= bound * (1 + 1e-12))
    assert tiers.price_multiple.max() == pytest.approx(
        tm.cost_per_token(ds, h100, 1, 0) / tm.cost_per_token(ds, h100, base, 0)
    )


# --- inverses: the batch for a cost target and for a latency target ----------------------


def test_batch_for_cost_by_hand(ds, h100):
    # memory branch: W/(B BW) + L b/BW = c  =>  B = (W/BW) / (c - L b/BW)
    c, ctx = 1e-3, 1024
    expected = (DS_TOTAL * 2 / BW) / (c - ctx * DS_B / BW)
    assert tm.serving.batch_for_cost(ds, h100, c, ctx) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("batch", [1.0, 7.0, 500.0, 3000.0])
def test_batch_for_cost_inverts_cost_per_token(ds, h100, batch):
    cost = tm.cost_per_token(ds, h100, batch, 512)
    assert tm.serving.batch_for_cost(ds, h100, cost, 512) == pytest.approx(batch, rel=1e-9)


def test_batch_for_cost_at_the_floor_is_the_sweet_spot(ds, h100):
    floor = tm.cost_floor(ds, h100, 1024)
    assert tm.serving.batch_for_cost(ds, h100, floor, 1024) == pytest.approx(
        tm.sweet_spot(ds, h100, 1024), rel=1e-9
    )


def test_batch_for_cost_below_the_floor_is_an_error(ds, h100):
    with pytest.raises(ValueError, match=r"gpu_seconds_per_token must be >= the cost floor"):
        tm.serving.batch_for_cost(ds, h100, 0.5 * tm.cost_floor(ds, h100), 0)
    with pytest.raises(ValueError, match="gpu_seconds_per_token"):
        tm.serving.batch_for_cost(ds, h100, -1.0)


@pytest.mark.parametrize(("batch", "context", "gpus"), [(1, 512, 1), (40, 4096, 4), (9000, 0, 8)])
def test_batch_for_step_time_inverts_step_time(ds, h100, batch, context, gpus):
    t = tm.step_time(ds, h100, batch, context, gpus=gpus)
    got = tm.serving.batch_for_step_time(ds, h100, t, context, gpus=gpus)
    assert got == pytest.approx(batch, rel=1e-9)
    # and it is the largest such batch: one sequence more takes longer than the target
    assert tm.step_time(ds, h100, got * (1 + 1e-6) + 1e-9, context, gpus=gpus) > t


def test_batch_for_step_time_below_the_weight_read_is_an_error(ds, h100):
    weight_read_s = DS_TOTAL * 2 / BW
    with pytest.raises(ValueError, match=r"step_time_s must be > the weight read alone"):
        tm.serving.batch_for_step_time(ds, h100, 0.99 * weight_read_s)
    with pytest.raises(ValueError, match="gpus"):
        tm.serving.batch_for_step_time(ds, h100, 1.0, gpus=0)


def test_batch_for_step_time_flat_at_zero_context_reaches_the_sweet_spot(ds, h100):
    # with no cache the step time stays at the weight read up to the sweet spot
    t = tm.step_time(ds, h100, 1, 0)
    assert tm.serving.batch_for_step_time(ds, h100, t, 0) == pytest.approx(
        tm.sweet_spot(ds, h100, 0), rel=1e-9
    )


# --- the step at the sweet spot over the step at batch 1 ---------------------------------------


def test_slowdown_is_one_at_context_zero_with_every_weight_read(ds, h100):
    assert serving.slowdown_at_sweet_spot(ds, h100) == 1.0


@pytest.mark.parametrize("context", [500, 2_000, 3_000])
def test_slowdown_first_order_by_hand(ds, h100, context):
    l_max = 2 * DS_ACTIVE / C_BF16 * BW / DS_B
    weight_read = 2 * DS_TOTAL / BW  # seconds on one GPU
    at_spot = weight_read / (1 - context / l_max)  # exact on the compute branch
    at_one = weight_read + context * DS_B / BW
    assert serving.slowdown_at_sweet_spot(ds, h100, context) == pytest.approx(
        at_spot / at_one, rel=1e-9
    )


def test_slowdown_with_routed_experts_is_the_ratio_of_weight_reads(ds, h100):
    routed = tm.Assumptions(expert_reads="expected")
    read_1 = 2 * (DS_TOTAL - 58 * 256 * 3 * 7168 * 2048 * (1 - 8 / 256))  # bytes at batch 1
    spot = tm.sweet_spot(ds, h100, assume=routed)
    read_spot = ds.weight_bytes("bf16", tm.routed_share_read(ds, spot))
    assert serving.slowdown_at_sweet_spot(ds, h100, assume=routed) == pytest.approx(
        read_spot / read_1, rel=1e-9
    )
    assert serving.fast_tier(ds, h100, spot, 1, assume=routed).speedup == pytest.approx(
        serving.slowdown_at_sweet_spot(ds, h100, assume=routed), rel=1e-12
    )


def test_slowdown_is_unbounded_without_a_sweet_spot_and_broadcasts(ds, h100):
    got = serving.slowdown_at_sweet_spot(ds, h100, [[0.0], [1_000.0], [8_192.0]])
    assert got.shape == (3, 1)
    assert got[0, 0] == 1.0 and 1.0 < got[1, 0] < math.inf and math.isinf(got[2, 0])
    with pytest.raises(ValueError, match=r"^context must be"):
        serving.slowdown_at_sweet_spot(ds, h100, -1)
