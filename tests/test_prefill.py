"""Prefill, chunked prefill, static batches and the price of a request, against hand arithmetic.

The figures come from FACTS.md (typed in conftest.py), not from the library: a test fails if
the library's physics drifts from the arithmetic written out here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tokenmath as tm
from conftest import BW, C_BF16, C_FP8, DS_ACTIVE, DS_B, DS_TOTAL, HBM, L8_B, L8_PARAMS
from tokenmath import prefill, serving

pytestmark = pytest.mark.filterwarnings("error")

# Llama-3.1-8B attention arithmetic per attended token, all layers: 32 layers x 32 query
# heads x 2 FLOPs x (128 score + 128 value) elements.
L8_ATTN = 32 * 2 * 32 * (128 + 128)


def test_prefill_terms_by_hand(l8, h100) -> None:
    t_mem, t_comp = tm.prefill_terms(l8, h100, 2048)
    assert math.isclose(t_mem, (2 * L8_PARAMS + 2048 * L8_B) / BW, rel_tol=1e-12)
    assert math.isclose(t_comp, 2048 * 2 * L8_PARAMS / C_BF16, rel_tol=1e-12)
    assert tm.prefill_time(l8, h100, 2048) == max(t_mem, t_comp)


def test_cached_prefix_is_read_not_computed(l8, h100) -> None:
    # three prompts of 2,048 tokens, 1,024 of each cached: the whole cache moves once
    # (prefix read, the rest written); only 3 x 1,024 tokens are computed
    t_mem, t_comp = tm.prefill_terms(l8, h100, 2048, 3, cached_tokens=1024)
    assert math.isclose(t_mem, (2 * L8_PARAMS + 3 * 2048 * L8_B) / BW, rel_tol=1e-12)
    assert math.isclose(t_comp, 3 * 1024 * 2 * L8_PARAMS / C_BF16, rel_tol=1e-12)


def test_gpus_and_fp8_by_hand(ds, h100) -> None:
    t_mem, t_comp = tm.prefill_terms(ds, h100, 4096, 2, "fp8", 8, kv_precision="fp8")
    assert math.isclose(t_mem, (DS_TOTAL + 2 * 4096 * DS_B / 2) / (8 * BW), rel_tol=1e-12)
    assert math.isclose(t_comp, 2 * 4096 * 2 * DS_ACTIVE / (8 * C_FP8), rel_tol=1e-12)


def test_attention_flops_full_and_windowed(l8) -> None:
    # 1 + 2 + ... + 8192 attended tokens
    assert math.isclose(
        prefill.prefill_attention_flops(l8, 8192), L8_ATTN * 8192 * 8193 / 2, rel_tol=1e-12
    )
    # past a cached prefix of 100: positions 101..300
    pairs = sum(range(101, 301))
    assert math.isclose(
        prefill.prefill_attention_flops(l8, 300, 100), L8_ATTN * pairs, rel_tol=1e-12
    )
    gpt = tm.model("gpt-oss-120b")  # 18 full layers and 18 layers with a 128-token window
    per_layer = {g.window: g.layers * g.attention_flops_per_token_per_layer for g in gpt.attention}
    assert set(per_layer) == {None, 128}
    n = 1000
    expected = per_layer[None] * n * (n + 1) / 2 + per_layer[128] * sum(
        min(i, 128) for i in range(1, n + 1)
    )
    assert math.isclose(prefill.prefill_attention_flops(gpt, n), expected, rel_tol=1e-12)


def test_attention_flops_sum_the_decode_counts(ds) -> None:
    # token i attends to i tokens: the decode count at context i, summed over the prompt
    prompt = 777
    by_token = sum(tm.attention_flops_per_token(ds, i) for i in range(1, prompt + 1))
    assert math.isclose(prefill.prefill_attention_flops(ds, prompt), by_token, rel_tol=1e-12)


def test_refined_prefill_by_hand(l8, h100) -> None:
    _, t_comp = tm.prefill_terms(l8, h100, 8192, assume=tm.REFINED)
    flops = 8192 * 2 * L8_PARAMS + L8_ATTN * 8192 * 8193 / 2
    assert math.isclose(t_comp, flops / C_BF16, rel_tol=1e-12)


def test_expected_expert_reads_use_the_tokens_of_the_pass(ds, h100) -> None:
    # one 4-token prompt reads the experts that 4 tokens touch, like a decode batch of 4
    expected = tm.Assumptions(expert_reads="expected")
    t_mem, _ = tm.prefill_terms(ds, h100, 4, assume=expected)
    share = tm.routed_share_read(ds, 4)
    weights = ds.weight_bytes("bf16", share)
    assert math.isclose(t_mem, (weights + 4 * DS_B) / BW, rel_tol=1e-12)
    d_mem, _ = tm.step_time_terms(ds, h100, 4, 0, assume=expected)
    assert math.isclose(t_mem - d_mem, 4 * DS_B / BW, rel_tol=1e-9)


def test_efficiencies_scale_the_rates(l8, h100) -> None:
    slow = tm.Assumptions(mem_efficiency=0.5, compute_efficiency=0.25)
    base = tm.prefill_terms(l8, h100, 1000)
    scaled = tm.prefill_terms(l8, h100, 1000, assume=slow)
    assert math.isclose(scaled[0], 2 * base[0], rel_tol=1e-12)
    assert math.isclose(scaled[1], 4 * base[1], rel_tol=1e-12)


def test_prefill_is_vectorised(ds, h100) -> None:
    prompts = np.array([1, 100, 1000, 10_000, 100_000])
    times = tm.prefill_time(ds, h100, prompts, assume=tm.REFINED)
    assert times.shape == prompts.shape
    for p, t in zip(prompts, times, strict=True):
        assert t == tm.prefill_time(ds, h100, int(p), assume=tm.REFINED)
    grid = tm.prefill_time(ds, h100, prompts[:, None], np.array([1, 4, 16]))
    assert grid.shape == (5, 3)


def test_crossover_by_hand(ds, l8, h100) -> None:
    # (W/BW) / (F/C - b/BW): the cache written per token shifts the decode sweet spot
    ds_cross = (2 * DS_TOTAL / BW) / (2 * DS_ACTIVE / C_BF16 - DS_B / BW)
    assert math.isclose(tm.prefill_crossover_tokens(ds, h100), ds_cross, rel_tol=1e-9)
    l8_cross = (2 * L8_PARAMS / BW) / (2 * L8_PARAMS / C_BF16 - L8_B / BW)
    assert math.isclose(tm.prefill_crossover_tokens(l8, h100), l8_cross, rel_tol=1e-9)
    assert math.isclose(
        tm.prefill_crossover_tokens(ds, h100), tm.sweet_spot(ds, h100), rel_tol=1e-3
    )


def test_crossover_is_the_crossing(ds, h100) -> None:
    for assume in (tm.FIRST_ORDER, tm.REFINED):
        cross = tm.prefill_crossover_tokens(ds, h100, assume=assume)
        below = tm.prefill_terms(ds, h100, cross * 0.99, assume=assume)
        above = tm.prefill_terms(ds, h100, cross * 1.01, assume=assume)
        assert below[0] > below[1] and above[0] < above[1]
    # attention arithmetic and fewer experts read both bring it forward
    assert tm.prefill_crossover_tokens(ds, h100, assume=tm.REFINED) < tm.prefill_crossover_tokens(
        ds, h100
    )


def test_crossover_inf_when_the_cache_outruns_the_arithmetic(h100) -> None:
    tiny = tm.Model(
        name="tiny",
        total_params=1e6,
        active_params=1e6,
        attention=(tm.AttentionGroup(layers=100, kind="mha", kv_heads=64, head_dim=256),),
        context_limit=1000,
    )
    assert math.isinf(tm.prefill_crossover_tokens(tiny, h100))


def test_mixed_step_by_hand(l8, h100) -> None:
    t_mem, t_comp = prefill.mixed_step_terms(l8, h100, 512, 64, 2048, chunk_cached_tokens=1536)
    memory = 2 * L8_PARAMS + 2048 * L8_B + 64 * 2048 * L8_B
    compute = 512 * 2 * L8_PARAMS + 64 * 2 * L8_PARAMS
    assert math.isclose(t_mem, memory / BW, rel_tol=1e-12)
    assert math.isclose(t_comp, compute / C_BF16, rel_tol=1e-12)


def test_mixed_step_without_decode_is_a_prefill_pass(ds, h100) -> None:
    for assume in (tm.FIRST_ORDER, tm.REFINED):
        mixed = prefill.mixed_step_time(
            ds, h100, 1000, 0, 0, chunk_cached_tokens=3000, assume=assume
        )
        alone = tm.prefill_time(ds, h100, 4000, cached_tokens=3000, assume=assume)
        assert math.isclose(mixed, alone, rel_tol=1e-12)


def test_mixed_step_shares_the_weight_read(ds, h100) -> None:
    # one step with both costs less than a prefill pass plus a decode step
    for assume in (tm.FIRST_ORDER, tm.REFINED):
        mixed = prefill.mixed_step_time(ds, h100, 256, 128, 4096, assume=assume)
        apart = tm.prefill_time(ds, h100, 256, assume=assume) + tm.step_time(
            ds, h100, 128, 4096, assume=assume
        )
        assert mixed < apart


def test_static_batch_by_hand(l8, h100) -> None:
    # batch 8, 100 input tokens, 4 output tokens: one prefill pass, 3 decode steps
    t = serving.static_batch_time(l8, h100, 8, 100, 4)
    steps = sum(
        max((2 * L8_PARAMS + 8 * ctx * L8_B) / BW, 8 * 2 * L8_PARAMS / C_BF16)
        for ctx in (100, 101, 102)
    )
    pre = max((2 * L8_PARAMS + 8 * 100 * L8_B) / BW, 800 * 2 * L8_PARAMS / C_BF16)
    assert math.isclose(t, pre + steps, rel_tol=1e-12)
    # without the first token from the prefill: four steps, from context 100
    t4 = serving.static_batch_time(l8, h100, 8, 100, 4, first_token_from_prefill=False)
    step4 = max((2 * L8_PARAMS + 8 * 103 * L8_B) / BW, 8 * 2 * L8_PARAMS / C_BF16)
    assert math.isclose(t4, t + step4, rel_tol=1e-12)
    assert serving.static_batch_time(l8, h100, 8, 100, 1) == tm.prefill_time(l8, h100, 100, 8)


def test_static_batch_vectorised(l8, h100) -> None:
    batches = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    outputs = np.array([1, 2, 300])
    kw = {"gpus": 4, "assume": tm.REFINED}
    grid = serving.static_batch_time(l8, h100, batches[:, None], 2035, outputs, **kw)
    assert grid.shape == (10, 3)
    for i, b in enumerate(batches):
        for j, out in enumerate(outputs):
            one = serving.static_batch_time(l8, h100, int(b), 2035, int(out), **kw)
            assert math.isclose(grid[i, j], one, rel_tol=1e-12)
    phases = serving.static_batch_phases(l8, h100, batches, 2035, 300, **kw)
    assert np.allclose(phases.prefill + phases.decode, grid[:, 2], rtol=1e-12)


def test_cost_per_input_token_by_hand(ds, h100) -> None:
    # compute-bound: the compute floor; memory-bound: the weight read shared by the tokens
    assert math.isclose(
        tm.cost_per_input_token(ds, h100, 100_000), 2 * DS_ACTIVE / C_BF16, rel_tol=1e-3
    )
    short = tm.cost_per_input_token(ds, h100, 100)
    assert math.isclose(short, (2 * DS_TOTAL + 100 * DS_B) / BW / 100, rel_tol=1e-12)
    assert short == tm.cost_per_input_token(ds, h100, 100, gpus=32)


def test_token_prices(ds, h100) -> None:
    p = prefill.token_prices(ds, h100, 2000, 256, usd_per_gpu_hour=2.0)
    assert math.isclose(p.input_gpu_s, tm.cost_per_input_token(ds, h100, 2000), rel_tol=1e-12)
    assert math.isclose(p.output_gpu_s, tm.cost_per_token(ds, h100, 256, 2000), rel_tol=1e-12)
    assert math.isclose(p.ratio, p.output_gpu_s / p.input_gpu_s, rel_tol=1e-12)
    assert math.isclose(p.output_usd_per_m, p.output_gpu_s * 2.0 / 3600 * 1e6, rel_tol=1e-12)
    preset = prefill.token_prices(ds, h100, 2000, 256)
    assert math.isclose(preset.input_usd_per_m, p.input_usd_per_m * h100.usd_per_hour / 2.0)
    # a bigger decode batch makes output cheaper, so the ratio falls toward the floors' ratio
    ratios = prefill.token_prices(ds, h100, 8192, np.array([64, 1024, 16_384]), 8192).ratio
    assert np.all(np.diff(ratios) < 0)


def test_cache_hit_by_hand(l8, h100) -> None:
    # 8,192-token prompt, 6,144 cached: both passes compute-bound, the hit skips 6,144 tokens
    hit = prefill.cache_hit_saving(l8, h100, 8192, 6144, hold_s=60.0, reload_bytes_per_s=50e9)
    assert math.isclose(hit.prefill_saved, 6144 * 2 * L8_PARAMS / C_BF16, rel_tol=1e-12)
    kv = 6144 * L8_B
    assert math.isclose(hit.holding, kv / HBM * 60.0, rel_tol=1e-12)
    assert math.isclose(hit.reload, kv / 50e9, rel_tol=1e-12)
    assert math.isclose(hit.net, hit.prefill_saved - hit.holding - hit.reload, rel_tol=1e-12)
    assert math.isclose(hit.break_even_hold_s, (hit.prefill_saved - hit.reload) / (kv / HBM))


def test_request_cost_by_hand(l8, h100) -> None:
    cost = prefill.request_cost(
        l8, h100, 1000, 3, 16, cached_tokens=400, prefill_batch=2, usd_per_gpu_hour=3.6
    )
    pre = max((2 * L8_PARAMS + 2 * 1000 * L8_B) / BW, 2 * 600 * 2 * L8_PARAMS / C_BF16) / 2
    dec = sum(
        max((2 * L8_PARAMS / 16 + ctx * L8_B) / BW, 2 * L8_PARAMS / C_BF16) for ctx in (1000, 1001)
    )
    assert math.isclose(cost.prefill_gpu_s, pre, rel_tol=1e-12)
    assert math.isclose(cost.decode_gpu_s, dec, rel_tol=1e-12)
    assert math.isclose(cost.usd, (pre + dec) * 3.6 / 3600, rel_tol=1e-12)


def test_request_cost_matches_a_static_batch(l8, h100) -> None:
    # every request of a static batch pays batch-th of each pass and step
    batch, inp, out = 32, 2035, 300
    per_request = prefill.request_cost(l8, h100, inp, out, batch, prefill_batch=batch)
    total = serving.static_batch_time(l8, h100, batch, inp, out)
    assert math.isclose(per_request.gpu_s * batch, total, rel_tol=1e-12)


def test_decode_contexts() -> None:
    ctx, steps = prefill.decode_contexts(np.array([10, 20]), np.array([1, 3]))
    assert ctx.tolist() == [[10.0, 11.0], [20.0, 21.0]]
    assert steps.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    ctx, steps = prefill.decode_contexts(5, 2, first_token_from_prefill=False)
    assert ctx.tolist() == [5.0, 6.0] and steps.tolist() == [1.0, 1.0]


def test_first_order_decode_unchanged(ds, h100) -> None:
    # adding prefill leaves the decode numbers of chapters 2-7 where they were
    assert round(tm.sweet_spot(ds, h100)) == 5356
    assert round(tm.step_time(ds, h100, 1, 0) * 1e3, 1) == 400.6
