"""Attention layouts, KV bytes per token, and the Model / Hardware dataclasses.

Expected values are typed from /work/shared/FACTS.md §1.3 (b = 2 x layers x KV heads x head
dim x 2 bytes for MHA/GQA; layers x latent x 2 bytes for MLA), never taken from the library.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tokenmath as tm
from tokenmath.specs import AttentionGroup, Hardware, Model, check_precision

pytestmark = pytest.mark.filterwarnings("error")

# FACTS.md §1.3, bytes per token of context at BF16 (asymptotic growth for gpt-oss).
FACTS_KV_BYTES_PER_TOKEN = {
    "deepseek-v3": 61 * (512 + 64) * 2,  # 70,272
    "deepseek-r1": 61 * (512 + 64) * 2,
    "kimi-k2": 61 * (512 + 64) * 2,
    "llama-3.1-8b": 2 * 32 * 8 * 128 * 2,  # 131,072
    "llama-3.1-70b": 2 * 80 * 8 * 128 * 2,  # 327,680
    "llama-3.1-405b": 2 * 126 * 8 * 128 * 2,  # 516,096
    "mixtral-8x7b": 2 * 32 * 8 * 128 * 2,  # 131,072
    "mixtral-8x22b": 2 * 56 * 8 * 128 * 2,  # 229,376
    "qwen3-235b-a22b": 2 * 94 * 4 * 128 * 2,  # 192,512
    "qwen3-30b-a3b": 2 * 48 * 4 * 128 * 2,  # 98,304
    "gpt-oss-120b": 2 * 18 * 8 * 64 * 2,  # 36,864 (full-attention layers only)
    "gpt-oss-20b": 2 * 12 * 8 * 64 * 2,  # 24,576
    "gpt-3-175b": 2 * 96 * 96 * 128 * 2,  # 4,718,592
}


def test_facts_table_covers_every_model_preset():
    assert set(FACTS_KV_BYTES_PER_TOKEN) == set(tm.model_names())


@pytest.mark.parametrize("name", sorted(FACTS_KV_BYTES_PER_TOKEN))
def test_kv_bytes_per_token_matches_facts(name):
    assert tm.kv_bytes_per_token(tm.model(name)) == FACTS_KV_BYTES_PER_TOKEN[name]


def test_headline_kv_figures_spelled_out():
    assert tm.kv_bytes_per_token(tm.model("deepseek-v3")) == 70_272
    assert tm.kv_bytes_per_token(tm.model("llama-3.1-8b")) == 131_072
    assert tm.kv_bytes_per_token(tm.model("llama-3.1-70b")) == 327_680
    assert tm.kv_bytes_per_token(tm.model("llama-3.1-405b")) == 516_096
    assert tm.kv_bytes_per_token(tm.model("qwen3-235b-a22b")) == 192_512
    assert tm.kv_bytes_per_token(tm.model("gpt-oss-120b")) == 36_864
    assert tm.kv_bytes_per_token(tm.model("gpt-3-175b")) == 4_718_592


@pytest.mark.parametrize("name", ["llama-3.1-8b", "deepseek-v3", "gpt-3-175b", "qwen3-235b-a22b"])
@pytest.mark.parametrize("context", [1, 17, 4096, 131_072])
def test_models_without_windows_have_the_same_b_at_every_context(name, context):
    m = tm.model(name)
    b = FACTS_KV_BYTES_PER_TOKEN[name]
    assert tm.kv_bytes_per_token(m, context) == b
    assert tm.kv_bytes_per_sequence(m, context) == b * context


def test_gpt_oss_window_layers_stop_growing_at_128_tokens():
    m = tm.model("gpt-oss-120b")
    per_half = 2 * 18 * 8 * 64 * 2  # 36,864 bytes per token in each half of the layers
    window_cap = per_half * 128  # 4,718,592 bytes per sequence (FACTS §1.3)
    assert window_cap == 4_718_592
    assert tm.kv_bytes_per_sequence(m, 100) == 2 * per_half * 100
    assert tm.kv_bytes_per_sequence(m, 128) == 2 * per_half * 128
    assert tm.kv_bytes_per_sequence(m, 1000) == per_half * 1000 + window_cap
    assert tm.kv_bytes_per_sequence(m, 131_072) == per_half * 131_072 + window_cap
    # the average b falls from the naive all-full 73,728 towards the asymptotic 36,864
    assert tm.kv_bytes_per_token(m, 64) == 73_728
    assert tm.kv_bytes_per_token(m, 1000) == pytest.approx(36_864 + window_cap / 1000)


def gemma_3n_like() -> Model:
    """Gemma 3n E4B's cache layout (FACTS §1.1): 35 layers, every fifth global, 2 KV heads of
    256; sliding window 512; the last 15 layers reuse earlier caches. Layers 0-19 store KV:
    4 global and 16 local. Parameter counts are placeholders (unverified, FACTS §6 item 13)."""
    return Model(
        name="gemma-3n-like",
        total_params=8e9,
        active_params=4e9,
        attention=(
            AttentionGroup(layers=4, kind="gqa", kv_heads=2, head_dim=256),
            AttentionGroup(layers=16, kind="gqa", kv_heads=2, head_dim=256, window=512),
            AttentionGroup(layers=3, kind="gqa", kv_heads=2, head_dim=256, shares_kv=True),
            AttentionGroup(
                layers=12, kind="gqa", kv_heads=2, head_dim=256, window=512, shares_kv=True
            ),
        ),
        context_limit=32_768,
    )


def test_gemma_3n_shared_kv_layout_by_hand():
    m = gemma_3n_like()
    assert m.layers == 35
    b_global = 2 * 4 * 2 * 256 * 2  # 8,192 bytes per token (FACTS §1.3)
    local_cap = 16 * 2 * 2 * 256 * 2 * 512  # 16,777,216 bytes per sequence
    assert b_global == 8_192 and local_cap == 16_777_216
    assert tm.kv_bytes_per_token(m) == b_global
    assert tm.kv_bytes_per_sequence(m, 32_768) == b_global * 32_768 + local_cap
    assert tm.kv_bytes_per_sequence(m, 100) == (b_global + 32_768) * 100
    # without sharing, the 7 global and 28 local layers would all store their own cache
    unshared = dataclasses.replace(
        m,
        attention=(
            AttentionGroup(layers=7, kind="gqa", kv_heads=2, head_dim=256),
            AttentionGroup(layers=28, kind="gqa", kv_heads=2, head_dim=256, window=512),
        ),
    )
    assert tm.kv_bytes_per_token(unshared) == 14_336


def test_attention_group_bytes_per_token_by_kind():
    assert AttentionGroup(layers=2, kind="mha", kv_heads=4, head_dim=8).bytes_per_token == 256
    assert AttentionGroup(layers=2, kind="mqa", kv_heads=1, head_dim=8).bytes_per_token == 64
    mla = AttentionGroup(layers=3, kind="mla", latent_dim=576)
    assert mla.elements_per_token_per_layer == 576
    assert mla.bytes_per_token == 3 * 576 * 2
    gqa = AttentionGroup(layers=2, kind="gqa", kv_heads=1, head_dim=8)
    assert gqa.cache_bytes_per_token("fp8") == 32 == gqa.bytes_per_token / 2
    shared = AttentionGroup(layers=9, kind="gqa", kv_heads=8, head_dim=128, shares_kv=True)
    assert shared.bytes_per_token == 0


def test_kv_bytes_broadcast_over_context_arrays():
    m = tm.model("llama-3.1-8b")
    out = tm.kv_bytes_per_sequence(m, np.array([[0, 1], [2, 3]]))
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    np.testing.assert_array_equal(out, 131_072 * np.array([[0, 1], [2, 3]]))
    assert isinstance(tm.kv_bytes_per_sequence(m, 5), float)
    assert tm.kv_bytes_per_sequence(m, 0) == 0.0


def test_model_derived_figures():
    m = tm.model("deepseek-v3")
    assert m.inverse_sparsity == pytest.approx(671 / 37)
    assert m.weight_bytes() == 2 * 671e9
    assert m.weight_bytes("bf16") == 2 * 671e9
    assert m.weight_bytes("FP8") == 671e9
    assert m.flops_per_token() == 2 * 37e9
    assert m.layers == 61
    assert tm.FLOPS_PER_ACTIVE_PARAM == 2.0
    assert tm.BYTES_PER_WEIGHT == {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5, "mxfp4": 4.25 / 8}
    assert tm.KV_BYTES_PER_ELEMENT == {"bf16": 2.0, "fp8": 1.0}


def test_hardware_derived_figures():
    hw = tm.hardware("h100-sxm")
    assert hw.flops() == 989.4e12
    assert hw.flops("fp8") == 1978.9e12
    assert hw.ops_per_byte() == pytest.approx(989.4e12 / 3.35e12)
    assert hw.ops_per_byte("fp8") == pytest.approx(1978.9e12 / 3.35e12)


def test_presets_can_be_copied_with_changes():
    hw = tm.hardware("h100-sxm")
    fast = dataclasses.replace(hw, hbm_bytes_per_s=10 * hw.hbm_bytes_per_s)
    assert fast.hbm_bytes_per_s == 33.5e12
    assert fast.flops() == hw.flops()
    assert hw.hbm_bytes_per_s == 3.35e12  # the preset is untouched
    assert fast != hw


def test_presets_are_hashable_and_compare_by_value():
    hw = tm.hardware("h100-sxm")
    same = dataclasses.replace(hw)
    assert same == hw and hash(same) == hash(hw)
    assert len({hw, same, tm.hardware("h200")}) == 2
    m = tm.model("deepseek-v3")
    assert hash(m) == hash(dataclasses.replace(m))


def test_custom_hardware_and_model_work_with_the_roofline():
    hw = Hardware(
        name="toy",
        flops_per_s={"bf16": 1000.0},
        hbm_bytes_per_s=100.0,
        hbm_bytes=1e4,
        usd_per_hour=1.0,
    )
    m = Model(
        name="toy",
        total_params=100.0,
        active_params=10.0,
        attention=(AttentionGroup(layers=1, kind="mla", latent_dim=1),),
        context_limit=10,
    )
    # W = 200 bytes, F = 20 FLOPs, b = 2 bytes/token; BW = 100 B/s, C = 1000 FLOP/s.
    assert tm.step_time_terms(m, hw, 4, 5) == pytest.approx(((200 + 4 * 5 * 2) / 100, 80 / 1000))


def test_check_precision_is_case_insensitive():
    assert check_precision("BF16") == "bf16"
    assert check_precision("fp8") == "fp8"


def test_inverse_sparsity_of_dense_models_is_one():
    for name in ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "gpt-3-175b"):
        assert tm.model(name).inverse_sparsity == 1.0


def test_constants_are_finite():
    for m in tm.MODELS:
        assert math.isfinite(tm.kv_bytes_per_token(m)) and tm.kv_bytes_per_token(m) > 0
