"""Hand-computed checks of every function in tokenmath.roofline.

Figures are typed from FACTS.md, once, in conftest.py (H100 SXM: 989.4e12 FLOP/s BF16,
1978.9e12 FP8, 3.35e12 B/s, 80e9 B; DeepSeek-V3: 671e9 / 37e9 params, b = 70,272;
Llama-3.1-8B: 8.03e9 params, b = 131,072) and combined by the formulas of the seed, not by
calling the library.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tokenmath as tm
from conftest import BW, C_BF16, C_FP8, DS_ACTIVE, DS_B, DS_TOTAL, HBM, L8_B, L8_PARAMS
from tokenmath.specs import AttentionGroup, Hardware, Model

pytestmark = pytest.mark.filterwarnings("error")


def toy() -> tuple[Model, Hardware]:
    """Round numbers: W = 200 bytes, F = 20 FLOPs/token, b = 2 bytes/token, BW = 100 B/s,
    C = 1000 FLOP/s, HBM = 1000 bytes. KV line = 0.02 L s/token, compute line = 0.02."""
    m = Model(
        name="toy",
        total_params=100.0,
        active_params=10.0,
        attention=(AttentionGroup(layers=1, kind="mla", latent_dim=1),),
        context_limit=100,
    )
    hw = Hardware(
        name="toy", flops_per_s={"bf16": 1000.0}, hbm_bytes_per_s=100.0, hbm_bytes=1000.0,
        usd_per_hour=3.6,
    )  # fmt: skip
    return m, hw


def test_step_time_terms_by_hand(l8, h100):
    t_mem, t_comp = tm.step_time_terms(l8, h100, 1, 0)
    assert t_mem == pytest.approx(2 * L8_PARAMS / BW, rel=1e-12)
    assert t_comp == pytest.approx(2 * L8_PARAMS / C_BF16, rel=1e-12)
    t_mem, t_comp = tm.step_time_terms(l8, h100, 4, 1000)
    assert t_mem == pytest.approx((2 * L8_PARAMS + 4 * 1000 * L8_B) / BW, rel=1e-12)
    assert t_comp == pytest.approx(4 * 2 * L8_PARAMS / C_BF16, rel=1e-12)


def test_step_time_terms_fp8_halves_bytes_and_uses_fp8_peak(ds, h100):
    t_mem, t_comp = tm.step_time_terms(ds, h100, 100, 10, precision="fp8")
    assert t_mem == pytest.approx((1 * DS_TOTAL + 100 * 10 * DS_B) / BW, rel=1e-12)
    assert t_comp == pytest.approx(100 * 2 * DS_ACTIVE / C_FP8, rel=1e-12)


def test_step_time_terms_split_over_gpus(ds, h100):
    t_mem, t_comp = tm.step_time_terms(ds, h100, 64, 4096, gpus=8)
    assert t_mem == pytest.approx((2 * DS_TOTAL + 64 * 4096 * DS_B) / (8 * BW), rel=1e-12)
    assert t_comp == pytest.approx(64 * 2 * DS_ACTIVE / (8 * C_BF16), rel=1e-12)


def test_step_time_is_the_larger_term(ds, h100):
    assert tm.step_time(ds, h100, 1, 0) == pytest.approx(2 * DS_TOTAL / BW, rel=1e-12)
    assert tm.step_time(ds, h100, 10_000, 0) == pytest.approx(
        10_000 * 2 * DS_ACTIVE / C_BF16, rel=1e-12
    )


def test_toy_numbers_exactly():
    m, hw = toy()
    assert tm.step_time_terms(m, hw, 5, 3) == pytest.approx(((200 + 5 * 3 * 2) / 100, 0.1))
    assert tm.step_time(m, hw, 5, 3) == pytest.approx(2.3)
    assert tm.cost_per_token(m, hw, 5, 3) == pytest.approx(2.3 / 5)
    terms = tm.cost_terms(m, hw, 5, 3)
    assert terms == pytest.approx((200 / 500, 6 / 100, 20 / 1000))
    # sweet spot at context 0.5: (W/BW) / (F/C - L b/BW) = 2 / (0.02 - 0.01) = 200
    assert tm.sweet_spot(m, hw, 0.5) == pytest.approx(200.0)
    assert tm.cost_floor(m, hw, 0.5) == pytest.approx(0.02)
    assert tm.cost_floor(m, hw, 3) == pytest.approx(0.06)
    assert tm.max_batch(m, hw, 10) == math.floor((1000 - 200) / 20)
    assert tm.min_gpus(m, hw) == 1
    assert tm.throughput(m, hw, 5, 3) == pytest.approx(5 / 2.3)


def test_sweet_spot_is_infinite_when_kv_line_meets_or_exceeds_compute():
    m, hw = toy()
    assert tm.sweet_spot(m, hw, 1) == math.inf  # KV line 0.02 == compute line 0.02
    assert tm.sweet_spot(m, hw, 2) == math.inf  # KV line above
    assert tm.sweet_spot(m, hw, 0.999) < math.inf


def test_region_switches_at_the_sweet_spot():
    m, hw = toy()
    # context 0: sweet spot = (W/BW)/(F/C) = 2 / 0.02 = 100 sequences
    assert tm.sweet_spot(m, hw, 0) == pytest.approx(100)
    assert tm.region(m, hw, 99, 0) == "memory-bound"
    assert tm.region(m, hw, 100, 0) == "compute-bound"
    assert tm.region(m, hw, 1e6, 0) == "compute-bound"
    assert tm.region(m, hw, 1e6, 2) == "memory-bound"
    regions = tm.region(m, hw, np.array([1, 1000]), 0)
    assert list(regions) == ["memory-bound", "compute-bound"]


def test_cost_terms_by_hand(ds, h100):
    t = tm.cost_terms(ds, h100, 1000, 2048)
    assert t.weights == pytest.approx(2 * DS_TOTAL / (1000 * BW), rel=1e-12)
    assert t.kv == pytest.approx(2048 * DS_B / BW, rel=1e-12)
    assert t.compute == pytest.approx(2 * DS_ACTIVE / C_BF16, rel=1e-12)
    assert isinstance(t, tm.CostTerms)


def test_cost_per_token_is_max_of_terms_whatever_the_gpus(ds, h100):
    for gpus in (1, 8, 32):
        for batch, context in ((1, 0), (500, 1000), (20_000, 100)):
            t = tm.cost_terms(ds, h100, batch, context)
            expected = max(t.weights + t.kv, t.compute)
            got = tm.cost_per_token(ds, h100, batch, context, gpus=gpus)
            assert got == pytest.approx(expected, rel=1e-12)


def test_cost_floor_is_compute_or_kv_line(ds, h100):
    assert tm.cost_floor(ds, h100) == pytest.approx(2 * DS_ACTIVE / C_BF16, rel=1e-12)
    assert tm.cost_floor(ds, h100, 100_000) == pytest.approx(100_000 * DS_B / BW, rel=1e-12)


def test_sweet_spot_by_hand_with_kv(ds, h100):
    context = 1000
    expected = (2 * DS_TOTAL / BW) / (2 * DS_ACTIVE / C_BF16 - context * DS_B / BW)
    assert tm.sweet_spot(ds, h100, context) == pytest.approx(expected, rel=1e-12)
    # the KV line crosses the compute line near L = (F/C)/(b/BW)
    crossing = (2 * DS_ACTIVE / C_BF16) / (DS_B / BW)
    assert tm.sweet_spot(ds, h100, crossing * 0.99) < math.inf
    assert tm.sweet_spot(ds, h100, crossing * 1.01) == math.inf


def test_sweet_spot_fp8_on_h100(ds, h100):
    expected = (DS_TOTAL / BW) / (2 * DS_ACTIVE / C_FP8)
    assert tm.sweet_spot(ds, h100, precision="fp8") == pytest.approx(expected, rel=1e-12)


def test_batch1_penalty_is_cost_at_one_over_floor(ds, h100):
    expected = (2 * DS_TOTAL / BW + 500 * DS_B / BW) / (2 * DS_ACTIVE / C_BF16)
    assert tm.batch1_penalty(ds, h100, 500) == pytest.approx(expected, rel=1e-12)


def test_max_batch_by_hand(ds, l8, h100):
    assert tm.max_batch(l8, h100, 8192) == math.floor((HBM - 2 * L8_PARAMS) / (8192 * L8_B))
    assert tm.max_batch(l8, h100, 8192) == 59
    assert tm.max_batch(ds, h100, 8192) == 0  # 1.342 TB of weights on one 80 GB GPU
    assert tm.max_batch(ds, h100, 8192, gpus=8) == 0
    h200 = tm.hardware("h200")
    assert tm.max_batch(ds, h200, 8192, gpus=16) == math.floor(
        (16 * 141e9 - 2 * DS_TOTAL) / (8192 * DS_B)
    )
    assert tm.max_batch(l8, h100, 0) == math.inf
    out = tm.max_batch(l8, h100, np.array([0, 8192]))
    assert out.tolist() == [math.inf, 59]


def test_min_gpus_by_hand(ds, h100):
    assert tm.min_gpus(ds, h100) == math.ceil(2 * DS_TOTAL / HBM) == 17
    assert tm.min_gpus(ds, h100, "fp8") == math.ceil(DS_TOTAL / HBM) == 9


def test_usd_per_million_tokens_by_hand():
    assert tm.usd_per_million_tokens(1e-3, 3.6) == pytest.approx(1.0)
    assert tm.usd_per_million_tokens(3.6e-3, 2.0) == pytest.approx(2.0)
    assert tm.usd_per_million_tokens(1e-3, 0) == 0.0
    out = tm.usd_per_million_tokens(np.array([1e-3, 2e-3]), 3.6)
    np.testing.assert_allclose(out, [1.0, 2.0])


def test_throughput_is_batch_over_step_time(ds, h100):
    assert tm.throughput(ds, h100, 1, 0) == pytest.approx(BW / (2 * DS_TOTAL), rel=1e-12)
    assert tm.throughput(ds, h100, 10_000, 0, gpus=2) == pytest.approx(
        2 * C_BF16 / (2 * DS_ACTIVE), rel=1e-12
    )


def test_broadcasting_and_return_types(ds, h100):
    batch = np.array([1.0, 10.0, 100.0])[:, None]
    context = np.array([0.0, 1000.0])[None, :]
    out = tm.cost_per_token(ds, h100, batch, context)
    assert out.shape == (3, 2)
    for i, b in enumerate(batch[:, 0]):
        for j, c in enumerate(context[0]):
            assert out[i, j] == tm.cost_per_token(ds, h100, float(b), float(c))
    assert isinstance(tm.cost_per_token(ds, h100, 3, 0), float)
    assert isinstance(tm.step_time(ds, h100, 3, 0), float)
    assert isinstance(tm.sweet_spot(ds, h100), float)
    assert isinstance(tm.cost_floor(ds, h100), float)
    assert isinstance(tm.region(ds, h100, 3, 0), str)
    assert tm.sweet_spot(ds, h100, [0, 10**6]).tolist() == [
        tm.sweet_spot(ds, h100, 0),
        math.inf,
    ]
    t = tm.cost_terms(ds, h100, [1, 2], 0)
    assert all(np.shape(x) == (2,) for x in t)


def test_ten_times_bandwidth_moves_the_sweet_spot_down_tenfold(ds, h100):
    # the seed's question 4: 10x BW at fixed C
    fast = dataclasses.replace(h100, hbm_bytes_per_s=10 * BW)
    assert tm.sweet_spot(ds, fast) == pytest.approx(tm.sweet_spot(ds, h100) / 10, rel=1e-12)
    assert tm.batch1_penalty(ds, fast) == pytest.approx(tm.batch1_penalty(ds, h100) / 10)


def test_cost_never_zero_or_negative(ds, h100):
    out = tm.cost_per_token(ds, h100, np.geomspace(1e-3, 1e9, 50), 0)
    assert np.all(out > 0) and np.all(np.isfinite(out))


# --- critical_context: the context at which the sweet spot disappears ---------------------


def test_critical_context_by_hand(ds):
    # L b / BW = 2 N_active / C  =>  L = 2 N_active BW / (C b)
    expected = 2 * DS_ACTIVE * BW / (C_BF16 * DS_B)
    assert tm.critical_context(ds, tm.hardware("h100-sxm")) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", tm.model_names())
def test_sweet_spot_vanishes_at_critical_context(name):
    m, hw = tm.model(name), tm.hardware("h100-sxm")
    crit = tm.critical_context(m, hw)
    assert math.isfinite(tm.sweet_spot(m, hw, crit * (1 - 1e-6)))
    assert math.isinf(tm.sweet_spot(m, hw, crit * (1 + 1e-6)))


def test_critical_context_inside_a_sliding_window():
    # A layer group whose window is far larger than the crossing behaves like full attention.
    full = tm.model("llama-3.1-8b")
    windowed = dataclasses.replace(
        full, attention=(AttentionGroup(32, "gqa", kv_heads=8, head_dim=128, window=100_000),)
    )
    hw = tm.hardware("h100-sxm")
    assert tm.critical_context(windowed, hw) == pytest.approx(tm.critical_context(full, hw))


def test_critical_context_infinite_when_the_cache_stops_growing():
    # Only small sliding windows: the cache per sequence is capped below the compute line.
    m = dataclasses.replace(
        tm.model("llama-3.1-8b"),
        attention=(AttentionGroup(32, "gqa", kv_heads=8, head_dim=128, window=64),),
    )
    assert math.isinf(tm.critical_context(m, tm.hardware("h100-sxm")))
