"""The refinements of the first-order model: assumptions, expert reads, attention arithmetic,
weight and cache precisions. Expected values are computed by hand from the configurations
(typed here), never taken from the library.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
import tokenmath as tm
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenmath import serving
from tokenmath.specs import AttentionGroup

pytestmark = pytest.mark.filterwarnings("error")

DS = tm.model("deepseek-v3")
H100 = tm.hardware("h100-sxm")
C, BW = 989.4e12, 3.35e12
DS_ROUTED = 58 * 256 * 3 * 7168 * 2048  # routed-expert weights from config_671B.json
DS_SHARED = 671e9 - DS_ROUTED
# absorbed MLA: 128 heads x (2 x 576 score + 2 x 512 value) FLOPs per cached token, 61 layers
DS_ATTN_PER_TOKEN = 61 * 128 * (2 * 576 + 2 * 512)
DS_B = 61 * 576 * 2  # KV bytes per token at BF16


# --- Assumptions ---------------------------------------------------------------------------


def test_first_order_is_the_default_and_refined_switches_two_things_on():
    assert tm.FIRST_ORDER == tm.Assumptions()
    assert tm.FIRST_ORDER.describe() == "first-order"
    assert tm.REFINED.expert_reads == "expected" and tm.REFINED.attention_flops is True
    assert (tm.REFINED.mem_efficiency, tm.REFINED.compute_efficiency) == (1.0, 1.0)
    assert tm.REFINED.describe() == "expert_reads='expected', attention_flops=True"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"expert_reads": "some"}, r"^expert_reads must be one of 'all', 'expected'; got 'some'$"),
        ({"attention_flops": 1}, r"^attention_flops must be True or False; got 1$"),
        ({"mem_efficiency": 0}, r"^mem_efficiency must be > 0; got 0\.0$"),
        ({"mem_efficiency": 1.5}, r"^mem_efficiency must be > 0 and <= 1; got 1\.5$"),
        ({"compute_efficiency": math.nan}, r"^compute_efficiency must be finite \(> 0\); got nan$"),
    ],
)
def test_bad_assumptions_name_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        tm.Assumptions(**changes)


def test_assumptions_are_frozen_and_checked_where_used():
    with pytest.raises(dataclasses.FrozenInstanceError):
        tm.REFINED.expert_reads = "all"  # type: ignore[misc]
    with pytest.raises(
        ValueError, match=r"^assume must be a tokenmath Assumptions .*got 'refined'$"
    ):
        tm.cost_per_token(DS, H100, 1, 0, assume="refined")


@pytest.mark.parametrize("name", tm.model_names())
def test_explicit_first_order_equals_the_default_everywhere(name):
    m = tm.model(name)
    batches, contexts = np.geomspace(1, 1e5, 7)[:, None], np.array([0.0, 100.0, 1000.0])
    for func in (tm.step_time, tm.cost_per_token, tm.throughput):
        a = func(m, H100, batches, contexts)
        b = func(m, H100, batches, contexts, assume=tm.FIRST_ORDER, kv_precision="bf16")
        np.testing.assert_array_equal(a, b)
    assert tm.sweet_spot(m, H100, 500) == tm.sweet_spot(m, H100, 500, assume=tm.FIRST_ORDER)


# --- expert reads ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 2, 7, 128, 1000])
def test_expected_share_by_hand(batch):
    share = 1 - (1 - 8 / 256) ** batch
    assert tm.routed_share_read(DS, batch) == pytest.approx(share, rel=1e-12)
    assert tm.expected_experts_touched(DS, batch) == pytest.approx(256 * share, rel=1e-12)


def test_issue_figures_three_percent_at_one_ninety_eight_at_128():
    assert tm.routed_share_read(DS, 1) == pytest.approx(0.03125)
    assert round(tm.routed_share_read(DS, 128), 2) == 0.98


def test_dense_model_reads_everything_and_touches_no_expert():
    m = tm.model("llama-3.1-8b")
    assert tm.routed_share_read(m, 3) == 1.0
    assert tm.expected_experts_touched(m, 3) == 0.0
    assert tm.step_time(m, H100, 3, 10, assume=tm.REFINED) == pytest.approx(
        (2 * 8.03e9 + 3 * 10 * 131_072) / BW, rel=1e-12
    )


def test_expected_reads_step_time_by_hand():
    share = 1 - (1 - 8 / 256) ** 4
    weights = 2 * (DS_SHARED + DS_ROUTED * share)
    expected = (weights + 4 * 100 * DS_B) / BW
    refined = tm.Assumptions(expert_reads="expected")
    assert tm.step_time(DS, H100, 4, 100, assume=refined) == pytest.approx(expected, rel=1e-12)


def test_routed_batch1_penalty_is_about_c_over_bw():
    """The issue's claim: a routed engine pays about C/BW at batch 1, not 5,356x."""
    penalty = tm.batch1_penalty(DS, H100, assume=tm.Assumptions(expert_reads="expected"))
    read = 2 * (DS_SHARED + DS_ROUTED * 8 / 256)  # bytes at batch 1
    assert penalty == pytest.approx((read / BW) / (2 * 37e9 / C), rel=1e-12)
    assert 250 < penalty < 350 < tm.batch1_penalty(DS, H100) / 10


def test_refined_sweet_spot_at_context_zero_is_the_all_weights_one_to_within_a_batch():
    # by B* ~ 5,000 every expert is touched, so the refinement barely moves the sweet spot
    refined = tm.sweet_spot(DS, H100, assume=tm.Assumptions(expert_reads="expected"))
    assert refined == pytest.approx(tm.sweet_spot(DS, H100), abs=1.0)
    assert tm.region(DS, H100, refined * 1.001, 0, assume=tm.REFINED) == "compute-bound"
    assert tm.region(DS, H100, refined * 0.999, 0, assume=tm.REFINED) == "memory-bound"


@pytest.mark.parametrize("context", [0, 1000, 4000])
def test_refined_sweet_spot_is_where_the_two_branches_meet(context):
    b = tm.sweet_spot(DS, H100, context, assume=tm.REFINED)
    t_mem, t_comp = tm.step_time_terms(DS, H100, b, context, assume=tm.REFINED)
    assert t_mem == pytest.approx(t_comp, rel=1e-9)


def test_mixtral_batch1_weights_are_shared_plus_two_of_eight_experts():
    m = tm.model("mixtral-8x7b")
    routed = 32 * 8 * 3 * 4096 * 14336
    read = 2 * (46.7e9 - routed + routed * 2 / 8)
    assert tm.step_time(m, H100, 1, 0, assume=tm.REFINED) == pytest.approx(read / BW, rel=1e-12)


# --- attention arithmetic -------------------------------------------------------------------


def test_mla_attention_flops_by_hand():
    assert tm.attention_flops_per_token(DS, 1) == DS_ATTN_PER_TOKEN
    assert DS_ATTN_PER_TOKEN == pytest.approx(17.0e6, rel=0.01)  # "about 17 MFLOP"
    # 23% of the weight FLOPs at 1k context, equal to them near 4.4k
    assert 1000 * DS_ATTN_PER_TOKEN / (2 * 37e9) == pytest.approx(0.23, abs=0.005)
    assert 2 * 37e9 / DS_ATTN_PER_TOKEN == pytest.approx(4355, abs=1)


def test_gqa_attention_flops_count_query_heads_and_cap_windows():
    m = tm.model("gpt-oss-120b")  # 18 full + 18 window-128 layers, 64 heads of 64
    per_layer = 4 * 64 * 64
    assert tm.attention_flops_per_token(m, 100) == 36 * per_layer * 100
    assert tm.attention_flops_per_token(m, 1000) == 18 * per_layer * 1000 + 18 * per_layer * 128
    m8 = tm.model("llama-3.1-8b")
    assert tm.attention_flops_per_token(m8, [0, 10]).tolist() == [0, 32 * 4 * 32 * 128 * 10]


def test_attention_flops_need_query_heads():
    bare = AttentionGroup(layers=2, kind="gqa", kv_heads=2, head_dim=8)
    with pytest.raises(ValueError, match=r"^query_heads must be given \(> 0\) to count"):
        _ = bare.attention_flops_per_token_per_layer


def test_refined_compute_term_by_hand():
    t = tm.cost_terms(DS, H100, 10, 2000, assume=tm.Assumptions(attention_flops=True))
    assert t.compute == pytest.approx((2 * 37e9 + 2000 * DS_ATTN_PER_TOKEN) / C, rel=1e-12)


def test_critical_context_with_attention_arithmetic_in_closed_form():
    per_token = DS_B / BW - DS_ATTN_PER_TOKEN / C
    expected = (2 * 37e9 / C) / per_token
    got = tm.critical_context(DS, H100, assume=tm.REFINED)
    assert got == pytest.approx(expected, rel=1e-12)
    assert 19_000 < got < 20_500  # "about 20,000" against 3,566 without
    assert tm.sweet_spot(DS, H100, got * 0.999, assume=tm.REFINED) < math.inf
    assert tm.sweet_spot(DS, H100, got * 1.001, assume=tm.REFINED) == math.inf


def test_critical_context_moves_little_for_grouped_query_models():
    m = tm.model("llama-3.1-70b")
    first, refined = tm.critical_context(m, H100), tm.critical_context(m, H100, assume=tm.REFINED)
    assert 1.0 < refined / first < 1.1


def test_critical_context_with_two_window_sizes():
    """Two sliding-window groups (64 and 256 tokens) and a full group: exact piecewise solve."""
    groups = (
        AttentionGroup(layers=4, kind="gqa", kv_heads=8, head_dim=128, window=64),
        AttentionGroup(layers=4, kind="gqa", kv_heads=8, head_dim=128, window=256),
        AttentionGroup(layers=1, kind="gqa", kv_heads=1, head_dim=64),
    )
    m = tm.Model("toy", 1e9, 1e9, groups, 100_000)
    target = BW * 2e9 / C  # cache bytes per sequence at the crossing
    per_layer = 2 * 8 * 128 * 2
    held_256 = 4 * per_layer * 64 + 4 * per_layer * 256 + 2 * 64 * 2 * 256
    expected = 256 + (target - held_256) / (2 * 64 * 2)
    assert tm.critical_context(m, H100) == pytest.approx(expected, rel=1e-12)
    assert tm.kv_bytes_per_sequence(m, expected) == pytest.approx(target, rel=1e-12)


def test_step_at_the_sweet_spot_over_the_weight_read_is_one_over_one_minus_l_over_lmax():
    for name, context in (("deepseek-v3", 2048), ("llama-3.1-70b", 1024)):
        m = tm.model(name)
        l_max = tm.critical_context(m, H100)
        b_star = tm.sweet_spot(m, H100, context)
        weight_read = m.weight_bytes() / BW
        ratio = tm.step_time(m, H100, b_star, context) / weight_read
        assert ratio == pytest.approx(1 / (1 - context / l_max), rel=1e-9)


# --- precisions -----------------------------------------------------------------------------


def test_fp8_cache_halves_the_kv_term_everywhere():
    m = tm.model("llama-3.1-70b")
    assert tm.kv_bytes_per_token(m, kv_precision="fp8") == 327_680 / 2
    t16 = tm.cost_terms(m, H100, 8, 4096)
    t8 = tm.cost_terms(m, H100, 8, 4096, kv_precision="fp8")
    assert t8.kv == pytest.approx(t16.kv / 2) and t8.weights == t16.weights
    assert tm.max_batch(m, H100, 4096, 4, kv_precision="fp8") == math.floor(
        (4 * 80e9 - 2 * 70.55e9) / (4096 * 327_680 / 2)
    )
    assert tm.critical_context(m, H100, kv_precision="fp8") == pytest.approx(
        2 * tm.critical_context(m, H100)
    )
    with pytest.raises(ValueError, match=r"^kv_precision must be one of 'bf16', 'fp8'; got 'fp4'$"):
        tm.step_time(m, H100, 1, 0, kv_precision="fp4")


def test_fp4_on_a_chip_with_fp4_and_without():
    m, b200 = tm.model("llama-3.1-70b"), tm.hardware("b200")
    assert tm.compute_precision(m, b200, "fp4") == "fp4"
    t = tm.cost_terms(m, b200, 1, 0, "fp4")
    assert t.weights == pytest.approx(0.5 * 70.55e9 / 8.0e12)
    assert t.compute == pytest.approx(2 * 70.55e9 / 9.0e15)
    # weight-only 4-bit: stored at half a byte, multiplied at the next wider mode
    assert tm.compute_precision(m, H100, "fp4") == "fp8"
    assert tm.compute_precision(m, tm.hardware("a100-sxm-80gb"), "fp4") == "bf16"
    assert tm.cost_terms(m, H100, 1, 0, "fp4").compute == pytest.approx(2 * 70.55e9 / 1978.9e12)


def test_native_formats_compute_in_the_widest_mode_they_need():
    oss = tm.model("gpt-oss-120b")
    assert tm.compute_precision(oss, tm.hardware("b200"), "native") == "bf16"
    assert tm.compute_precision(DS, H100, "native") == "fp8"
    assert tm.compute_precision(DS, tm.hardware("a100-sxm-80gb"), "native") == "bf16"
    assert tm.step_time(DS, H100, 1, 0, "native") == pytest.approx(671e9 / BW)


def test_fp8_paths_of_the_serving_functions():
    """A mutant that dropped ``precision`` in any of these would fail here."""
    floor8 = 2 * 37e9 / 1978.9e12
    assert tm.batch1_penalty(DS, H100, 0, "fp8") == pytest.approx((671e9 / BW) / floor8)
    assert serving.premium_over_floor(DS, H100, 100, 0, "fp8") == pytest.approx(
        (671e9 / BW / 100) / floor8
    )
    tier = serving.fast_tier(DS, H100, 8000, 400, 0, "fp8")  # 8,000 is past the FP8 sweet spot
    assert tier.price_multiple == pytest.approx((671e9 / BW / 400) / floor8)
    assert tier.speedup == pytest.approx((8000 * floor8) / (671e9 / BW))
    assert serving.batch_for_cost(DS, H100, floor8, 0, "fp8") == pytest.approx(
        (671e9 / BW) / floor8
    )
    # 0.3 s: the memory branch binds ((0.3 - W/BW) / kv < 0.3 / compute)
    assert serving.batch_for_step_time(DS, H100, 0.3, 1000, "fp8") == pytest.approx(
        (0.3 - 671e9 / BW) / (1000 * DS_B / BW)
    )


def test_batch_for_step_time_refuses_a_target_below_the_weight_read_at_any_context():
    read = 2 * 671e9 / BW
    for context in (0, 1000):
        with pytest.raises(ValueError, match=r"^step_time_s must be > the weight read alone"):
            serving.batch_for_step_time(DS, H100, read * 0.9, context)
    assert serving.batch_for_step_time(DS, H100, read * 1.01, 1000) > 0


def test_array_inputs_to_max_batch_and_replicas_needed():
    m = tm.model("llama-3.1-8b")
    fits = tm.max_batch(m, H100, np.array([1024, 8192]))
    assert fits.tolist() == [
        math.floor((80e9 - 2 * 8.03e9) / (1024 * 131_072)),
        math.floor((80e9 - 2 * 8.03e9) / (8192 * 131_072)),
    ]
    ceiling = C / (2 * 37e9)
    n = serving.replicas_needed(DS, H100, np.array([0.5, 1.0, 2.5]) * ceiling)
    assert n.tolist() == [1, 1, 3]


# --- immutable presets and constants ---------------------------------------------------------


def test_presets_and_constants_cannot_be_changed_by_accident():
    with pytest.raises(TypeError):
        tm.hardware("h100-sxm").flops_per_s["bf16"] = 1e12  # type: ignore[index]
    copy = dataclasses.replace(tm.hardware("h100-sxm"), hbm_bytes_per_s=1e12)
    with pytest.raises(TypeError):
        copy.flops_per_s["bf16"] = 1e12  # type: ignore[index]
    with pytest.raises(TypeError):
        tm.BYTES_PER_WEIGHT["bf16"] = 4.0  # type: ignore[index]
    with pytest.raises(TypeError):
        tm.KV_BYTES_PER_ELEMENT["fp8"] = 4.0  # type: ignore[index]
    assert tm.hardware("h100-sxm").flops("bf16") == C
    # a hardware built from a plain dict keeps its own read-only copy
    peaks = {"bf16": 1e15}
    hw = tm.Hardware("x", peaks, 1e12, 1e10, 1.0)
    peaks["bf16"] = 1.0
    assert hw.flops("bf16") == 1e15


def test_a_long_misspelt_name_is_not_echoed_in_full():
    with pytest.raises(ValueError) as err:
        tm.model("x" * 100_000)
    assert len(str(err.value)) < 1_000
    with pytest.raises(ValueError) as err:
        tm.cost_per_token(DS, H100, 1, 0, "y" * 100_000)
    assert len(str(err.value)) < 500


# --- properties under the refined assumptions -------------------------------------------------

# `make mutate` runs these for every mutant: it asks for fewer examples (tools/mutate.py).
EXAMPLES = int(os.environ.get("TOKENMATH_HYPOTHESIS_EXAMPLES", "60"))
MODELS = st.sampled_from([tm.model(n) for n in ("deepseek-v3", "mixtral-8x7b", "gpt-oss-120b")])
CONTEXTS = st.floats(min_value=0, max_value=30_000)
BATCHES = st.floats(min_value=0.5, max_value=2e5)


@settings(max_examples=EXAMPLES, deadline=None)
@given(m=MODELS, context=CONTEXTS, b=BATCHES, grow=st.floats(min_value=1.0, max_value=50.0))
def test_refined_cost_never_rises_with_batch(m, context, b, grow):
    low = tm.cost_per_token(m, H100, b, context, assume=tm.REFINED, kv_precision="fp8")
    high = tm.cost_per_token(m, H100, b * grow, context, assume=tm.REFINED, kv_precision="fp8")
    assert high <= low * (1 + 1e-12)
    assert high >= tm.cost_floor(m, H100, context, assume=tm.REFINED, kv_precision="fp8") * (
        1 - 1e-12
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(m=MODELS, context=CONTEXTS, b=st.floats(min_value=0.5, max_value=5_000))
def test_refined_inverses_invert(m, context, b):
    kw = {"assume": tm.REFINED}
    if b >= tm.sweet_spot(m, H100, context, **kw):
        return
    # Where the weight read has saturated, a batch barely moves the step time and the inverse
    # is ill-conditioned; what must hold is that the batch found gives back the target.
    cost = tm.cost_per_token(m, H100, b, context, **kw)
    back = serving.batch_for_cost(m, H100, cost, context, **kw)
    assert tm.cost_per_token(m, H100, back, context, **kw) == pytest.approx(cost, rel=1e-9)
    step = tm.step_time(m, H100, b, context, gpus=8, **kw)
    back = serving.batch_for_step_time(m, H100, step, context, gpus=8, **kw)
    assert tm.step_time(m, H100, back, context, gpus=8, **kw) == pytest.approx(step, rel=1e-9)
    demand = tm.throughput(m, H100, b, context, gpus=8, **kw)
    back = serving.batch_for_demand(m, H100, demand, context, gpus=8, **kw)
    assert tm.throughput(m, H100, back, context, gpus=8, **kw) == pytest.approx(demand, rel=1e-9)


# --- the batch that reads a share of the routed weights --------------------------------------


@pytest.mark.parametrize("share", [0.03125, 0.5, 0.9, 0.99])
def test_batch_for_routed_share_by_hand(share):
    expected = math.log(1 - share) / math.log(1 - 8 / 256)
    assert tm.batch_for_routed_share(DS, share) == pytest.approx(expected, rel=1e-12)
    assert tm.routed_share_read(DS, expected) == pytest.approx(share, rel=1e-12)


def test_batch_for_routed_share_broadcasts_and_a_whole_share_is_unbounded():
    got = tm.batch_for_routed_share(DS, np.array([[0.9], [1.0]]))
    assert got.shape == (2, 1) and got[0, 0] == pytest.approx(72.525, rel=1e-4)
    assert math.isinf(got[1, 0])
    assert tm.batch_for_routed_share(DS, 0.03125) == pytest.approx(1.0)  # one token: k/E


def test_batch_for_routed_share_when_every_token_reads_every_expert():
    everyone = dataclasses.replace(DS, experts_per_token=256)
    assert tm.batch_for_routed_share(everyone, 0.5) == 1.0


@pytest.mark.parametrize(
    ("share", "message"),
    [
        (0.0, r"^share must be > 0; got 0\.0$"),
        (1.5, r"^share must be > 0 and <= 1; got 1\.5$"),
        (math.nan, r"^share must be finite"),
    ],
)
def test_batch_for_routed_share_rejects_shares_outside_zero_one(share, message):
    with pytest.raises(ValueError, match=message):
        tm.batch_for_routed_share(DS, share)


def test_batch_for_routed_share_refuses_a_dense_model():
    with pytest.raises(ValueError, match=r"^model must be a mixture of experts .*llama-3\.1-8b"):
        tm.batch_for_routed_share(tm.model("llama-3.1-8b"), 0.5)
