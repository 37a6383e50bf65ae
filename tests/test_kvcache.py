"""tokenmath.kvcache and its figures: cache per group, replica capacity, the price X-ray."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import tokenmath as tm
from tokenmath import plots

H100 = tm.hardware("h100-sxm")

# Bytes per token typed from the configurations (FACTS §1.3), not from the library.
B_FACTS = {
    "deepseek-v3": 61 * (512 + 64) * 2,
    "llama-3.1-70b": 2 * 80 * 8 * 128 * 2,
    "gpt-oss-120b": 2 * 18 * 8 * 64 * 2,
    "gpt-3-175b": 2 * 96 * 96 * 128 * 2,
}


def gemma3n() -> tm.Model:
    """Gemma 3n E4B's layout (FACTS §1.1); parameters are placeholders."""

    def group(n, window=None, shared=False):
        return tm.AttentionGroup(
            layers=n, kind="gqa", kv_heads=2, head_dim=256, window=window, shares_kv=shared
        )

    return tm.Model(
        name="gemma-3n-e4b",
        total_params=4e9,
        active_params=4e9,
        context_limit=32_768,
        attention=(group(4), group(16, 512), group(3, None, True), group(12, 512, True)),
    )


# --- cache_by_group ----------------------------------------------------------------------


@pytest.mark.parametrize("name", tm.model_names())
@pytest.mark.parametrize("kv_precision", ["bf16", "fp8"])
def test_groups_without_windows_add_up_to_b(name, kv_precision):
    m = tm.model(name)
    groups = tm.cache_by_group(m, kv_precision)
    assert len(groups) == len(m.attention)
    growing = sum(g.bytes_per_token for g in groups if g.window is None)
    assert growing == tm.kv_bytes_per_token(m, kv_precision=kv_precision)


@pytest.mark.parametrize("name", sorted(B_FACTS))
def test_b_matches_the_configurations(name):
    assert tm.kv_bytes_per_token(tm.model(name)) == B_FACTS[name]
    assert tm.kv_bytes_per_token(tm.model(name), kv_precision="fp8") == B_FACTS[name] / 2


def test_shared_layers_cache_nothing_and_windows_cap():
    m = gemma3n()
    rows = tm.cache_by_group(m)
    assert [r.bytes_per_token for r in rows if r.shares_kv] == [0.0, 0.0]
    assert tm.kv_bytes_per_token(m) == 4 * 2 * 2 * 256 * 2  # 8,192 (FACTS §1.3)
    window_part = 16 * 2 * 2 * 256 * 2 * 512  # 16.8 MB once the window is full
    assert tm.kv_bytes_per_sequence(m, 32_768) == 8_192 * 32_768 + window_part
    assert [r.elements_per_layer for r in rows] == [1024] * 4


def test_cache_by_group_checks_its_inputs():
    with pytest.raises(ValueError, match="model must be a tokenmath Model"):
        tm.cache_by_group("deepseek-v3")
    with pytest.raises(ValueError, match="kv_precision must be one of"):
        tm.cache_by_group(tm.model("deepseek-v3"), "int4")


# --- cache_capacity_tokens ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["llama-3.1-70b", "deepseek-v3", "gpt-oss-120b"])
@pytest.mark.parametrize("context", [1_000, 32_768])
def test_capacity_agrees_with_max_batch(name, context):
    m, hw, gpus = tm.model(name), tm.hardware("h200"), 8
    tokens = tm.cache_capacity_tokens(m, hw, gpus, "fp8", context=context)
    batch = tm.max_batch(m, hw, context, gpus, "fp8")
    assert batch * context <= tokens < (batch + 1) * context


def test_capacity_is_free_memory_over_b():
    m = tm.model("llama-3.1-70b")
    free = 4 * H100.hbm_bytes - m.weight_bytes("bf16")
    assert tm.cache_capacity_tokens(m, H100, 4) == free / B_FACTS["llama-3.1-70b"]
    assert (
        tm.cache_capacity_tokens(m, H100, 4, kv_precision="fp8")
        == 2 * free / B_FACTS["llama-3.1-70b"]
    )


def test_capacity_edges():
    ds = tm.model("deepseek-v3")
    assert tm.cache_capacity_tokens(ds, H100, 8) == 0.0  # the weights alone overflow
    only_windows = replace(
        tm.model("gpt-oss-20b"),
        attention=(tm.AttentionGroup(layers=24, kind="gqa", kv_heads=8, head_dim=64, window=128),),
    )
    assert tm.cache_capacity_tokens(only_windows, H100) == math.inf
    assert math.isfinite(tm.cache_capacity_tokens(only_windows, H100, context=1000))
    contexts = np.array([1_000.0, 10_000.0])
    assert np.shape(tm.cache_capacity_tokens(tm.model("gpt-oss-20b"), H100, context=contexts)) == (
        2,
    )
    with pytest.raises(ValueError, match="gpus must be a whole number"):
        tm.cache_capacity_tokens(ds, H100, 0)
    with pytest.raises(ValueError, match="context must be finite"):
        tm.cache_capacity_tokens(ds, H100, 16, context=math.nan)


# --- cost_multiple and implied_kv_bytes_per_token ----------------------------------------


def test_cost_multiple_is_one_below_the_knee_and_linear_past_it():
    m = tm.model("deepseek-v3")
    knee = tm.critical_context(m, H100)
    assert tm.cost_multiple(m, H100, 0.5 * knee) == 1.0
    assert math.isclose(tm.cost_multiple(m, H100, 4 * knee), 4.0)
    assert math.isclose(tm.cost_multiple(m, H100, 8 * knee, base_context=2 * knee), 4.0)
    curve = tm.cost_multiple(m, H100, np.geomspace(100, 1e6, 50))
    assert np.all(np.diff(curve) >= 0) and curve[0] == 1.0


@pytest.mark.parametrize("name", ["deepseek-v3", "llama-3.1-405b", "qwen3-235b-a22b"])
@pytest.mark.parametrize("hw_name", ["h100-sxm", "tpu-v5p"])
def test_implied_b_recovers_a_models_own_b(name, hw_name):
    m, hw = tm.model(name), tm.hardware(hw_name)
    knee = tm.critical_context(m, hw)
    for long_ctx, base in ((3 * knee, 0.0), (5 * knee, 0.5 * knee)):
        multiple = tm.cost_multiple(m, hw, long_ctx, base)
        implied = tm.implied_kv_bytes_per_token(m, hw, multiple, long_ctx, base)
        assert math.isclose(implied, tm.kv_bytes_per_token(m))


def test_implied_b_is_the_first_order_formula():
    m = tm.model("deepseek-v3")
    b = tm.implied_kv_bytes_per_token(m, H100, 2.0, 256_000)
    compute_line = 2 * m.active_params / H100.flops("bf16")
    assert math.isclose(b, 2.0 * compute_line * H100.hbm_bytes_per_s / 256_000)
    half_bw = replace(H100, hbm_bytes_per_s=H100.hbm_bytes_per_s / 2)
    assert math.isclose(tm.implied_kv_bytes_per_token(m, half_bw, 2.0, 256_000), b / 2)
    # the total parameters never enter the floor
    heavier = replace(m, total_params=2 * m.total_params, routed_params=2 * m.routed_params)
    assert tm.implied_kv_bytes_per_token(heavier, H100, 2.0, 256_000) == b


def test_implied_b_refuses_ratios_that_pin_nothing_down():
    m = tm.model("deepseek-v3")
    # both contexts past the knee: the ratio can only be context / base_context
    with pytest.raises(ValueError, match=r"multiple must be > 1 .* and < 4 "):
        tm.implied_kv_bytes_per_token(m, H100, 4.0, 400_000, 100_000)
    with pytest.raises(ValueError, match="multiple must be > 1"):
        tm.implied_kv_bytes_per_token(m, H100, 1.0, 400_000)  # flat: any small cache
    # with attention arithmetic the compute line alone outgrows a doubling at 128K
    with pytest.raises(ValueError, match="compute line's own growth"):
        tm.implied_kv_bytes_per_token(m, H100, 2.0, 128_000, assume=tm.REFINED)
    with pytest.raises(ValueError, match="base_context must be < context"):
        tm.implied_kv_bytes_per_token(m, H100, 2.0, 1_000, 1_000)
    with pytest.raises(ValueError, match="multiple must be finite"):
        tm.implied_kv_bytes_per_token(m, H100, math.inf, 1_000)


def test_a_refined_model_with_little_attention_is_solvable():
    m = tm.model("deepseek-v3")
    few_heads = replace(
        m,
        attention=(
            tm.AttentionGroup(layers=2, kind="mqa", kv_heads=1, head_dim=128, query_heads=8),
        ),
    )
    # at base context 0 the compute line has no attention part yet: the same b as first order
    refined = tm.implied_kv_bytes_per_token(few_heads, H100, 2.0, 256_000, assume=tm.REFINED)
    assert refined == tm.implied_kv_bytes_per_token(few_heads, H100, 2.0, 256_000)
    # from a base context the short tier's compute line includes attention: a larger b
    args = (few_heads, H100, 2.0, 256_000, 10_000)
    first = tm.implied_kv_bytes_per_token(*args)
    assert tm.implied_kv_bytes_per_token(*args, assume=tm.REFINED) > first


# --- figures -----------------------------------------------------------------------------


def by_gid(ax, gid):
    found = [a for a in (*ax.lines, *ax.patches) if a.get_gid() == gid]
    assert found, gid
    return found


def test_kv_cache_chart_draws_the_library_numbers():
    models = [tm.model(n) for n in tm.model_names()] + [gemma3n()]
    fig = plots.kv_cache_chart(models)
    bars_ax, seq_ax = fig.axes
    widths = sorted(p.get_width() for p in by_gid(bars_ax, "bars-b"))
    assert widths == sorted(tm.kv_bytes_per_token(m) for m in models)
    line = by_gid(seq_ax, "cache-gemma-3n-e4b")[0]
    x, y = (np.asarray(v, float) for v in line.get_data())
    np.testing.assert_allclose(y, tm.kv_bytes_per_sequence(models[-1], x) / 1e9)
    assert x.max() <= 32_768
    # identical caches (DeepSeek-V3, R1, Kimi-K2) share one line and one legend entry
    labels = [t.get_text() for t in seq_ax.get_legend().get_texts()]
    assert "deepseek-v3, deepseek-r1, kimi-k2" in labels
    assert seq_ax.get_xscale() == seq_ax.get_yscale() == "log"


def test_kv_cache_chart_fp8_halves_the_bars():
    m = [tm.model("llama-3.1-8b")]
    bf16 = by_gid(plots.kv_cache_chart(m).axes[0], "bars-b")[0].get_width()
    fp8 = by_gid(plots.kv_cache_chart(m, "fp8").axes[0], "bars-b")[0].get_width()
    assert fp8 == bf16 / 2


def test_cost_multiple_chart_draws_the_multiples_and_the_tiers():
    m = tm.model("llama-3.1-405b")
    fig = plots.cost_multiple_chart([m], H100, price_tiers=[(0, 1.0), (128_000, 2.0)])
    ax = fig.axes[0]
    x, y = (np.asarray(v, float) for v in by_gid(ax, f"multiple-{m.name}")[0].get_data())
    np.testing.assert_allclose(y, tm.cost_multiple(m, H100, x))
    tx, ty = (np.asarray(v, float) for v in by_gid(ax, "price-tiers")[0].get_data())
    assert list(ty) == [1.0, 1.0, 2.0, 2.0] and tx[1] == tx[2] == 128_000


@pytest.mark.parametrize("bad", [(10, 5), "wide", (0, 100)])
def test_figures_reject_bad_context_axes(bad):
    with pytest.raises(ValueError, match="context must be"):
        plots.kv_cache_chart([tm.model("deepseek-v3")], context=bad)
    with pytest.raises(ValueError, match="context must be"):
        plots.cost_multiple_chart([tm.model("deepseek-v3")], H100, context=bad)
