"""Presets against the project's fact sheet (/work/shared/FACTS.md), and the seed's headline
figures reproduced from them. Expected values are typed from FACTS.md, not from the library.
"""

from __future__ import annotations

import math

import pytest
import tokenmath as tm

pytestmark = pytest.mark.filterwarnings("error")

# FACTS.md §2 / §5: (C_bf16, C_fp8 or None, BW bytes/s, HBM bytes, C/BW at BF16 rounded)
FACTS_HARDWARE = {
    "a100-sxm-80gb": (312e12, None, 2.039e12, 80e9, 153),
    "a100-sxm-40gb": (312e12, None, 1.555e12, 40e9, 201),  # A100 datasheet (MEASUREMENTS §4)
    "h800": (989.4e12, 1978.9e12, 3.35e12, 80e9, 295),  # H100 figures (DeepSeek ISCA-25 §4.1)
    "h100-sxm": (989.4e12, 1978.9e12, 3.35e12, 80e9, 295),
    "h100-pcie": (756e12, 1513e12, 2.0e12, 80e9, 378),
    "h200": (989.4e12, 1978.9e12, 4.8e12, 141e9, 206),
    "b200": (2.25e15, 4.5e15, 8.0e12, 180e9, 281),  # dense FP4: 9 PFLOP/s (HGX, 1,000 W)
    "mi300x": (1307.4e12, 2614.9e12, 5.3e12, 192e9, 247),
    "mi325x": (1307.4e12, 2614.9e12, 6.0e12, 256e9, 218),
    "tpu-v5e": (197e12, None, 0.819e12, 16e9, 241),
    "tpu-v5p": (459e12, 459e12, 2.765e12, 95e9, 166),
    "tpu-v6e": (918e12, None, 1.638e12, 32e9, 560),
}

# FACTS.md §2.1: the range of typical rental prices, USD per accelerator-hour.
FACTS_PRICE_RANGE = {
    "a100-sxm-80gb": (1.49, 2.49),
    "a100-sxm-40gb": (1.84, 1.85),  # AWS p4d capacity block, $14.75 / 8
    "h800": (2.0, 2.0),  # DeepSeek's assumption
    "h100-sxm": (1.65, 4.0),
    "h100-pcie": (1.99, 3.0),
    "h200": (2.25, 5.41),
    "b200": (3.75, 6.0),
    "mi300x": (1.71, 5.0),
    "mi325x": (2.0, 2.25),
    "tpu-v5e": (1.20, 1.20),
    "tpu-v5p": (4.20, 4.20),
    "tpu-v6e": (2.70, 2.70),
}

# FACTS.md §1.2 (reported, or computed where the owner gives a round figure) and §5.
FACTS_MODELS = {  # name: (N_total, N_active, context limit in tokens)
    "deepseek-v3": (671e9, 37e9, 131_072),
    "deepseek-r1": (671e9, 37e9, 131_072),
    "kimi-k2": (1.026e12, 32e9, 131_072),  # 1T reported; 1,026B computed (§1.2)
    "llama-3.1-8b": (8.03e9, 8.03e9, 131_072),
    "llama-3.1-70b": (70.55e9, 70.55e9, 131_072),
    "llama-3.1-405b": (405.85e9, 405.85e9, 131_072),
    "mixtral-8x7b": (46.7e9, 12.9e9, 32_768),
    "mixtral-8x22b": (141e9, 39e9, 65_536),
    "qwen3-235b-a22b": (235e9, 22e9, 131_072),
    "qwen3-30b-a3b": (30.5e9, 3.3e9, 131_072),
    "gpt-oss-120b": (116.8e9, 5.1e9, 131_072),
    "gpt-oss-20b": (20.9e9, 3.6e9, 131_072),
    "gpt-3-175b": (175e9, 175e9, 2_048),
}

REQUIRED_MODELS = {
    "deepseek-v3", "kimi-k2", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
    "mixtral-8x7b", "qwen3-235b-a22b", "gpt-oss-120b", "gpt-3-175b",
}  # fmt: skip
REQUIRED_HARDWARE = {"a100-sxm-80gb", "h100-sxm", "h200", "b200", "mi300x", "tpu-v6e"}


def test_issue_requires_these_presets():
    assert REQUIRED_MODELS <= set(tm.model_names())
    assert REQUIRED_HARDWARE <= set(tm.hardware_names())


def test_fact_tables_cover_every_preset():
    assert set(FACTS_HARDWARE) == set(tm.hardware_names())
    assert set(FACTS_MODELS) == set(tm.model_names())


@pytest.mark.parametrize("name", sorted(FACTS_HARDWARE))
def test_hardware_matches_facts(name):
    c_bf16, c_fp8, bw, hbm, ops_per_byte = FACTS_HARDWARE[name]
    hw = tm.hardware(name)
    assert hw.flops("bf16") == c_bf16
    assert hw.flops_per_s.get("fp8") == c_fp8
    assert hw.hbm_bytes_per_s == bw
    assert hw.hbm_bytes == hbm
    assert round(hw.ops_per_byte("bf16")) == ops_per_byte


@pytest.mark.parametrize("name", sorted(FACTS_PRICE_RANGE))
def test_hardware_price_is_within_the_facts_range_and_dated(name):
    low, high = FACTS_PRICE_RANGE[name]
    hw = tm.hardware(name)
    assert low <= hw.usd_per_hour <= high
    assert hw.price_date.strip()


@pytest.mark.parametrize("name", sorted(FACTS_MODELS))
def test_model_matches_facts(name):
    total, active, context_limit = FACTS_MODELS[name]
    m = tm.model(name)
    assert m.total_params == pytest.approx(total, rel=1e-3)
    assert m.active_params == pytest.approx(active, rel=1e-3)
    assert m.context_limit == context_limit
    assert m.active_params <= m.total_params


@pytest.mark.parametrize("preset", [*tm.MODELS, *tm.HARDWARE], ids=lambda p: p.name)
def test_every_preset_has_sources(preset):
    assert preset.sources, f"{preset.name} has no sources"
    for source in preset.sources:
        assert isinstance(source, str) and len(source.strip()) > 10


def test_hardware_prices_name_their_source():
    for hw in tm.HARDWARE:
        assert any("price" in s.lower() for s in hw.sources), hw.name


def test_names_are_unique_lowercase_and_in_table_order():
    assert tm.model_names() == [m.name for m in tm.MODELS]
    assert tm.hardware_names() == [h.name for h in tm.HARDWARE]
    for names in (tm.model_names(), tm.hardware_names()):
        assert len(names) == len(set(names))
        assert all(n == n.lower().strip() for n in names)


def test_lookup_is_case_insensitive_and_ignores_surrounding_space():
    assert tm.model(" DeepSeek-V3 ") is tm.model("deepseek-v3")
    assert tm.hardware("H100-SXM") is tm.hardware("h100-sxm")


def test_unknown_names_list_the_closest_known_names():
    with pytest.raises(ValueError, match=r"unknown model 'deepseek'.*closest: deepseek-"):
        tm.model("deepseek")
    with pytest.raises(ValueError, match=r"unknown hardware 'h100'.*closest:.*h100-sxm"):
        tm.hardware("h100")
    with pytest.raises(ValueError, match=r"known: .*tpu-v6e"):
        tm.hardware("zzzz")


# --- the seed's headline figures, from the presets ---------------------------------------


def test_h100_ops_per_byte_is_the_seeds_about_300():
    assert tm.hardware("h100-sxm").ops_per_byte("bf16") == pytest.approx(295.3, abs=0.05)


def test_deepseek_v3_inverse_sparsity_is_about_18():
    assert tm.model("deepseek-v3").inverse_sparsity == pytest.approx(18.14, abs=0.005)


def test_deepseek_v3_sweet_spot_is_a_little_over_5000():
    s = tm.sweet_spot(tm.model("deepseek-v3"), tm.hardware("h100-sxm"))
    assert 5_000 < s < 5_500
    assert s == pytest.approx(5356, abs=0.5)
    # at context 0 and BF16 it is C/BW x total/active (2 bytes and 2 FLOPs cancel)
    assert s == pytest.approx(989.4e12 / 3.35e12 * 671 / 37, rel=1e-12)


def test_batch1_penalty_is_the_seeds_roughly_5400x():
    m, hw = tm.model("deepseek-v3"), tm.hardware("h100-sxm")
    penalty = tm.batch1_penalty(m, hw)
    assert penalty == pytest.approx(989.4e12 / 3.35e12 * 671 / 37, rel=1e-12)
    assert 5_000 < penalty < 5_500
    # the seed's "18 x 300 = 5400" is the same product, rounded
    assert round(m.inverse_sparsity) * 300 == 5_400
    assert math.isclose(penalty, tm.sweet_spot(m, hw), rel_tol=1e-12)


# --- experts, native formats and the price policy -----------------------------------------

# Model configurations: (MoE layers, routed experts E, experts per token k, d_model, d_expert,
# expert biases). Typed from each model's config (see the preset sources), not the library.
FACTS_EXPERTS = {
    "deepseek-v3": (58, 256, 8, 7168, 2048, False),
    "deepseek-r1": (58, 256, 8, 7168, 2048, False),
    "kimi-k2": (60, 384, 8, 7168, 2048, False),
    "mixtral-8x7b": (32, 8, 2, 4096, 14336, False),
    "mixtral-8x22b": (56, 8, 2, 6144, 16384, False),
    "qwen3-235b-a22b": (94, 128, 8, 4096, 1536, False),
    "qwen3-30b-a3b": (48, 128, 8, 2048, 768, False),
    "gpt-oss-120b": (36, 128, 4, 2880, 2880, True),
    "gpt-oss-20b": (24, 32, 4, 2880, 2880, True),
}
# gpt-oss's reported active count leaves out the input embedding: vocab 201,088 x 2,880.
ACTIVE_COUNT_LEAVES_OUT = {"gpt-oss-120b": 201_088 * 2880, "gpt-oss-20b": 201_088 * 2880}


def test_expert_table_covers_every_mixture_of_experts_preset():
    moe = {m.name for m in tm.MODELS if m.routed_params > 0}
    assert moe == set(FACTS_EXPERTS)


@pytest.mark.parametrize("name", sorted(FACTS_EXPERTS))
def test_routed_weights_come_from_the_configuration(name):
    layers, experts, per_token, d_model, d_expert, biases = FACTS_EXPERTS[name]
    per_expert = 3 * d_model * d_expert + ((2 * d_expert + d_model) if biases else 0)
    m = tm.model(name)
    assert m.routed_params == layers * experts * per_expert
    assert (m.routed_experts, m.experts_per_token) == (experts, per_token)


@pytest.mark.parametrize("name", sorted(FACTS_EXPERTS))
def test_the_split_reproduces_the_reported_active_count(name):
    """Shared weights plus k/E of the routed ones is N_active, within 2%."""
    m = tm.model(name)
    active = m.shared_params + m.routed_params * m.experts_per_token / m.routed_experts
    active -= ACTIVE_COUNT_LEAVES_OUT.get(name, 0)
    assert active == pytest.approx(m.active_params, rel=0.02)


def test_dense_models_have_no_routed_weights():
    for name in ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "gpt-3-175b"):
        m = tm.model(name)
        assert (m.routed_params, m.routed_experts, m.experts_per_token) == (0.0, 0, 0)
        assert m.shared_params == m.total_params


def test_gpt_oss_120b_native_fits_one_80_gb_gpu_as_its_model_card_says():
    m = tm.model("gpt-oss-120b")
    assert m.weight_formats("native") == ("bf16", "mxfp4")
    assert m.weight_bytes("native") < 80e9 < m.weight_bytes("bf16")
    assert tm.min_gpus(m, tm.hardware("h100-sxm"), "native") == 1
    assert tm.max_batch(m, tm.hardware("h100-sxm"), 8192, 1, "native") > 0


def test_deepseek_v3_native_fp8_fits_eight_h200s():
    m, h200 = tm.model("deepseek-v3"), tm.hardware("h200")
    assert m.weight_formats("native") == ("fp8", "fp8")
    assert tm.max_batch(m, h200, 4096, gpus=8) == 0  # BF16 weights: 1,342 GB > 1,128 GB
    assert tm.max_batch(m, h200, 4096, gpus=8, precision="native") > 100


def test_prices_follow_one_policy():
    """Newer, larger chips of one vendor are not cheaper per hour than older ones."""
    price = {h.name: h.usd_per_hour for h in tm.HARDWARE}
    assert price["a100-sxm-80gb"] < price["h100-sxm"] < price["h200"] < price["b200"]
    for hw in tm.HARDWARE:
        policy = " ".join(hw.sources).lower()
        assert any(w in policy for w in ("midpoint", "list price", "single quote")), hw.name
