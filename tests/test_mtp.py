"""Speculative decoding (multi-token prediction) as an assumption: ``draft_tokens`` verified
and ``accepted_tokens`` gained per sequence per step. Expected values are computed by hand
from the presets' figures (typed here), never taken from the library.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tokenmath as tm
from tokenmath import prefill, serving

pytestmark = pytest.mark.filterwarnings("error")

LLAMA8 = tm.model("llama-3.1-8b")
DS = tm.model("deepseek-v3")
H100 = tm.hardware("h100-sxm")
C, BW = 989.4e12, 3.35e12
W8 = 8.03e9 * 2  # Llama 3.1 8B weight bytes at BF16
F8 = 2 * 8.03e9  # FLOPs per token
KV8 = 32 * 8 * 128 * 2 * 2  # KV bytes per token, BF16

MTP = tm.Assumptions(draft_tokens=1, accepted_tokens=0.8)


def test_defaults_are_one_token_per_step_and_first_order_is_unchanged():
    assert tm.FIRST_ORDER.draft_tokens == 0 and tm.FIRST_ORDER.accepted_tokens == 0.0
    assert tm.FIRST_ORDER.tokens_per_step == 1.0 and tm.FIRST_ORDER.verified_tokens == 1
    assert tm.FIRST_ORDER.describe() == "first-order"
    assert MTP.describe() == "draft_tokens=1, accepted_tokens=0.8"
    # the seed's numbers, exactly as before
    assert tm.sweet_spot(DS, H100) == 989.4e12 / 3.35e12 * 671 / 37
    assert tm.step_time(LLAMA8, H100, 1, 0) == W8 / BW


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"draft_tokens": -1}, r"^draft_tokens must be a whole number >= 0; got -1$"),
        ({"draft_tokens": 1.5}, r"^draft_tokens must be a whole number >= 0; got 1\.5$"),
        ({"draft_tokens": True}, r"^draft_tokens must be a whole number >= 0; got True$"),
        ({"accepted_tokens": 0.5}, r"^accepted_tokens must be >= 0 and <= draft_tokens \(0\)"),
        ({"draft_tokens": 2, "accepted_tokens": 2.5}, r"<= draft_tokens \(2\); got 2\.5$"),
        ({"draft_tokens": 1, "accepted_tokens": -0.1}, r"^accepted_tokens must be >= 0"),
    ],
)
def test_bad_draft_settings_name_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        tm.Assumptions(**changes)


def test_numpy_integers_are_whole_numbers():
    a = tm.Assumptions(draft_tokens=np.int64(2), accepted_tokens=1.5)
    assert type(a.draft_tokens) is int and a.verified_tokens == 3 and a.tokens_per_step == 2.5


def test_step_time_verifies_drafts_and_throughput_counts_accepted_tokens():
    batch, ctx = 64, 1000
    memory = (W8 + batch * ctx * KV8) / BW  # one read of weights and caches
    compute = batch * 2 * F8 / C  # two tokens per sequence through the model
    t_mem, t_comp = tm.step_time_terms(LLAMA8, H100, batch, ctx, assume=MTP)
    assert math.isclose(t_mem, memory) and math.isclose(t_comp, compute)
    assert math.isclose(tm.throughput(LLAMA8, H100, batch, ctx, assume=MTP), batch * 1.8 / memory)
    assert math.isclose(tm.cost_per_token(LLAMA8, H100, batch, ctx, assume=MTP), memory / 115.2)
    terms = tm.cost_terms(LLAMA8, H100, batch, ctx, assume=MTP)
    assert math.isclose(terms.weights, W8 / BW / batch / 1.8)
    assert math.isclose(terms.kv, ctx * KV8 / BW / 1.8)
    assert math.isclose(terms.compute, 2 * F8 / C / 1.8)


def test_floor_sweet_spot_and_critical_context_with_drafts():
    # at context 0 the sweet spot is where W/BW = B x 2F/C: half the first-order batch
    assert math.isclose(tm.sweet_spot(LLAMA8, H100, assume=MTP), W8 / BW / (2 * F8 / C))
    assert math.isclose(tm.cost_floor(LLAMA8, H100, assume=MTP), 2 * F8 / C / 1.8)
    # the KV line meets a compute line twice as high at twice the context
    assert math.isclose(tm.critical_context(LLAMA8, H100, assume=MTP), 2 * F8 / C * BW / KV8)
    assert math.isclose(
        serving.max_throughput(LLAMA8, H100, assume=MTP), 1.8 / (2 * F8 / C), rel_tol=1e-12
    )


def test_latency_floor_is_the_step_over_tokens_per_step():
    assert math.isclose(serving.latency_floor(LLAMA8, H100, assume=MTP), W8 / BW / 1.8)


def test_expected_expert_reads_route_every_verified_token():
    mtp_refined = dataclasses.replace(tm.REFINED, draft_tokens=1, accepted_tokens=0.9)
    batch = 4
    share = 1 - (1 - 8 / 256) ** (2 * batch)  # 8 tokens routed, not 4
    routed = 58 * 256 * 3 * 7168 * 2048
    weights = (671e9 - routed + routed * share) * 2
    t_mem, _ = tm.step_time_terms(DS, H100, batch, 0, assume=mtp_refined)
    assert math.isclose(t_mem, weights / BW)


@pytest.mark.parametrize(
    "assume",
    [
        MTP,
        tm.Assumptions(expert_reads="expected", draft_tokens=2, accepted_tokens=1.2),
        tm.Assumptions(attention_flops=True, draft_tokens=1, accepted_tokens=0.85),
    ],
    ids=["mtp", "expected-reads", "attention"],
)
@pytest.mark.parametrize("name", ["llama-3.1-8b", "deepseek-v3"])
def test_serving_inverses_invert_the_roofline(name, assume):
    m, ctx, gpus = tm.model(name), 2000, 8
    batch = 37.0
    demand = tm.throughput(m, H100, batch, ctx, gpus=gpus, assume=assume)
    assert math.isclose(
        serving.batch_for_demand(m, H100, demand, ctx, gpus=gpus, assume=assume),
        batch,
        rel_tol=1e-9,
    )
    cost = tm.cost_per_token(m, H100, batch, ctx, assume=assume)
    assert math.isclose(
        serving.batch_for_cost(m, H100, cost, ctx, assume=assume), batch, rel_tol=1e-9
    )
    step = tm.step_time(m, H100, batch, ctx, gpus=gpus, assume=assume)
    found = serving.batch_for_step_time(m, H100, step, ctx, gpus=gpus, assume=assume)
    assert math.isclose(found, batch, rel_tol=1e-9)


def test_batch_for_step_time_without_a_cache_uses_the_routed_tokens():
    mtp_refined = tm.Assumptions(expert_reads="expected", draft_tokens=1, accepted_tokens=0.9)
    step = tm.step_time(DS, H100, 3.0, 0, gpus=16, assume=mtp_refined)
    found = serving.batch_for_step_time(DS, H100, step, 0, gpus=16, assume=mtp_refined)
    assert math.isclose(found, 3.0, rel_tol=1e-9)


def test_static_batch_decodes_tokens_per_step_at_a_time():
    batch, prompt, out = 8, 2000, 101
    plain = serving.static_batch_phases(LLAMA8, H100, batch, prompt, out)
    drafted = serving.static_batch_phases(LLAMA8, H100, batch, prompt, out, assume=MTP)
    assert drafted.prefill == plain.prefill
    steps = [(W8 + batch * (prompt + k) * KV8) / BW for k in range(out - 1)]
    assert math.isclose(drafted.decode, sum(steps) / 1.8)


def test_mixed_step_routes_the_drafts_of_decoding_sequences():
    mtp_refined = tm.Assumptions(expert_reads="expected", draft_tokens=1, accepted_tokens=0.9)
    t_mem, _ = prefill.mixed_step_terms(DS, H100, 1, 3, 0, assume=mtp_refined)
    share = 1 - (1 - 8 / 256) ** (1 + 2 * 3)  # one prompt token, three sequences x two
    routed = 58 * 256 * 3 * 7168 * 2048
    chunk_cache = 61 * 576 * 2  # the prompt token's cache entry, written
    assert math.isclose(t_mem, ((671e9 - routed + routed * share) * 2 + chunk_cache) / BW)


def test_deepseek_mtp_speedup_bound_covers_the_reported_one():
    """V3 report 5.4.3: 85-90% acceptance, 1.8x tokens per second. In the memory-bound
    region the bound's speed-up is 1 + acceptance; the measured one must not exceed it."""
    low, high = (
        tm.measured.measurement("deepseek-v3-mtp", f"mtp_acceptance_{k}") for k in ("min", "max")
    )
    speedup = tm.measured.measurement("deepseek-v3-mtp", "mtp_decode_speedup").value
    h800 = tm.hardware("h800")
    for accepted in (low.value, high.value):
        mtp = tm.Assumptions(draft_tokens=1, accepted_tokens=accepted)
        ratio = tm.throughput(DS, h800, 64, 4989, "native", 144, assume=mtp) / tm.throughput(
            DS, h800, 64, 4989, "native", 144
        )
        assert math.isclose(ratio, 1 + accepted)
        assert speedup <= ratio
