"""Properties of prefill, chunked prefill and static batches for any model and accelerator.

Hypothesis draws presets and made-up models (random attention layouts with query heads,
sliding windows, shared caches, routed experts) and accelerators, under random assumption
sets, and checks what the chapter on prefill relies on: prefill time never falls as the
prompt grows and never rises as more of it is cached; a static batch is its prefill plus
the sum of its decode steps; chunking never makes the first token come sooner; one request
of a static batch pays a batch-th of it; the first-order physics is what it was.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tokenmath as tm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenmath import prefill, serving
from tokenmath.specs import AttentionGroup, Hardware, Model

pytestmark = pytest.mark.filterwarnings("error")

settings.register_profile(
    "tokenmath-prefill",
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("tokenmath-prefill")

prompts = st.floats(min_value=1.0, max_value=2e6)
fractions = st.floats(min_value=0.0, max_value=0.999)
pass_batches = st.floats(min_value=1.0, max_value=512.0)
gpu_counts = st.integers(min_value=1, max_value=64)


@st.composite
def attention_groups(draw) -> AttentionGroup:
    kind = draw(st.sampled_from(["gqa", "mqa", "mla"]))
    layers = draw(st.integers(1, 96))
    window = draw(st.none() | st.integers(1, 8192))
    shares = draw(st.booleans())
    if kind == "mla":
        latent = draw(st.integers(2, 1024))
        return AttentionGroup(
            layers=layers, kind=kind, latent_dim=latent, rope_dim=draw(st.integers(0, latent - 1)),
            window=window, shares_kv=shares, query_heads=draw(st.integers(1, 128)),
        )  # fmt: skip
    kv_heads = 1 if kind == "mqa" else draw(st.integers(1, 16))
    return AttentionGroup(
        layers=layers, kind=kind, kv_heads=kv_heads, head_dim=draw(st.integers(1, 256)),
        window=window, shares_kv=shares, query_heads=kv_heads * draw(st.integers(1, 8)),
    )  # fmt: skip


@st.composite
def made_up_models(draw) -> Model:
    total = draw(st.floats(1e8, 2e12))
    groups = tuple(draw(st.lists(attention_groups(), min_size=1, max_size=3)))
    if draw(st.booleans()):  # dense
        active = total * draw(st.floats(0.05, 1.0))
        return Model(name="made-up", total_params=total, active_params=active,
                     attention=groups, context_limit=131_072)  # fmt: skip
    experts = draw(st.integers(2, 512))
    per_token = draw(st.integers(1, experts))
    routed = total * draw(st.floats(0.5, 0.98))
    # with every expert active (k = E) this rounds to a hair above the total: clamp it
    active = min(total - routed + routed * per_token / experts, total)
    return Model(name="made-up-moe", total_params=total, active_params=active, attention=groups,
                 context_limit=131_072, routed_params=routed, routed_experts=experts,
                 experts_per_token=per_token)  # fmt: skip


@st.composite
def made_up_hardware(draw) -> Hardware:
    bf16 = draw(st.floats(1e12, 1e16))
    return Hardware(
        name="made-up",
        flops_per_s={"bf16": bf16, "fp8": bf16 * draw(st.floats(1.0, 4.0))},
        hbm_bytes_per_s=draw(st.floats(1e11, 1e14)),
        hbm_bytes=draw(st.floats(1e9, 1e12)),
        usd_per_hour=draw(st.floats(0.0, 100.0)),
    )


assumption_sets = st.builds(
    tm.Assumptions,
    expert_reads=st.sampled_from(["all", "expected"]),
    attention_flops=st.booleans(),
    mem_efficiency=st.floats(0.05, 1.0),
    compute_efficiency=st.floats(0.05, 1.0),
)


@st.composite
def setups(draw):
    """A model, an accelerator, a precision it supports and an assumption set."""
    m = draw(st.sampled_from(tm.MODELS) | made_up_models())
    hw = draw(st.sampled_from(tm.HARDWARE) | made_up_hardware())
    precision = draw(st.sampled_from(sorted(hw.flops_per_s)))
    return m, hw, precision, draw(st.sampled_from([tm.FIRST_ORDER, tm.REFINED]) | assumption_sets)


@given(setups(), prompts, prompts, fractions, pass_batches, gpu_counts)
def test_prefill_time_never_falls_as_the_prompt_grows(setup, p1, p2, share, batch, gpus):
    m, hw, prec, assume = setup
    short, long_ = sorted((p1, p2))
    cached = share * short  # the same cached prefix, shorter than both prompts
    kw = {"cached_tokens": cached, "assume": assume}
    t_short = tm.prefill_time(m, hw, short, batch, prec, gpus, **kw)
    t_long = tm.prefill_time(m, hw, long_, batch, prec, gpus, **kw)
    assert 0 < t_short <= t_long * (1 + 1e-12)
    assert math.isfinite(t_long)


@given(setups(), prompts, fractions, fractions, pass_batches)
def test_a_longer_cached_prefix_never_costs_more(setup, prompt, f1, f2, batch):
    m, hw, prec, assume = setup
    less, more = sorted((f1 * prompt, f2 * prompt))
    kw = {"assume": assume}
    t_less = tm.prefill_time(m, hw, prompt, batch, prec, cached_tokens=less, **kw)
    t_more = tm.prefill_time(m, hw, prompt, batch, prec, cached_tokens=more, **kw)
    assert t_more <= t_less * (1 + 1e-12)
    hit = prefill.cache_hit_saving(m, hw, prompt, more, prec, prefill_batch=batch, assume=assume)
    assert hit.prefill_saved >= -1e-12 * t_less


@given(
    setups(),
    st.floats(1.0, 512.0),
    st.floats(1.0, 3e4),
    st.integers(1, 300),
    gpu_counts,
    st.booleans(),
)
def test_static_batch_is_prefill_plus_every_decode_step(setup, batch, inp, out, gpus, first):
    m, hw, prec, assume = setup
    kw = {"assume": assume}
    total = serving.static_batch_time(
        m, hw, batch, inp, out, prec, gpus, first_token_from_prefill=first, **kw
    )
    steps = out - 1 if first else out
    by_hand = tm.prefill_time(m, hw, inp, batch, prec, gpus, **kw) + sum(
        tm.step_time(m, hw, batch, inp + k, prec, gpus, **kw) for k in range(steps)
    )
    assert total == pytest.approx(by_hand, rel=1e-9)


@given(setups(), st.integers(1, 256), st.floats(1.0, 3e4), st.integers(1, 200))
def test_a_request_of_a_static_batch_pays_a_batch_th(setup, batch, inp, out):
    m, hw, prec, assume = setup
    one = prefill.request_cost(
        m, hw, inp, out, batch, prec, prefill_batch=batch, usd_per_gpu_hour=1.0, assume=assume
    )
    total = serving.static_batch_time(m, hw, batch, inp, out, prec, assume=assume)
    assert one.gpu_s * batch == pytest.approx(total, rel=1e-9)
    assert one.usd == pytest.approx(one.gpu_s / 3600, rel=1e-12)


@given(setups(), prompts, fractions, st.floats(1.0, 1e5), st.floats(0.0, 512.0), gpu_counts)
def test_chunking_never_brings_the_first_token_sooner(setup, prompt, share, chunk, decode, gpus):
    m, hw, prec, assume = setup
    cached = share * prompt
    kw = {"cached_tokens": cached, "decode_batch": decode, "decode_context": 1000.0}
    assume_kw = {"assume": assume}
    one_step = serving.time_to_first_token(m, hw, prompt, prec, gpus, **kw, **assume_kw)
    new = prompt - cached
    if new / chunk > 5_000:
        chunk = new / 5_000  # keep the example small
    chunked = serving.time_to_first_token(
        m, hw, prompt, prec, gpus, chunk_tokens=chunk, **kw, **assume_kw
    )
    assert chunked >= one_step * (1 - 1e-9)
    if decode == 0:  # an idle server: one step is a prefill pass
        alone = tm.prefill_time(m, hw, prompt, 1, prec, gpus, cached_tokens=cached, **assume_kw)
        assert one_step == pytest.approx(alone, rel=1e-12)


@given(setups(), st.floats(1.0, 1e5), st.floats(0.0, 1e5), st.floats(0.0, 4096.0), gpu_counts)
def test_a_mixed_step_costs_less_than_its_parts_apart(setup, chunk, prefix, decode, gpus):
    m, hw, prec, assume = setup
    kw = {"assume": assume}
    mixed = prefill.mixed_step_time(
        m, hw, chunk, decode, 2048.0, prec, gpus, chunk_cached_tokens=prefix, **kw
    )
    alone = tm.prefill_time(m, hw, prefix + chunk, 1, prec, gpus, cached_tokens=prefix, **kw)
    apart = alone + (tm.step_time(m, hw, decode, 2048.0, prec, gpus, **kw) if decode else 0)
    assert alone * (1 - 1e-12) <= mixed <= apart * (1 + 1e-12)


@given(setups(), prompts, pass_batches)
def test_cost_per_input_token_is_gpu_time_over_tokens(setup, prompt, batch):
    m, hw, prec, assume = setup
    per_token = tm.cost_per_input_token(m, hw, prompt, batch, prec, 8, assume=assume)
    pass_s = tm.prefill_time(m, hw, prompt, batch, prec, 1, assume=assume)
    assert per_token * prompt * batch == pytest.approx(pass_s, rel=1e-12)


@given(setups())
def test_crossover_is_where_the_branches_meet(setup):
    m, hw, prec, assume = setup
    cross = tm.prefill_crossover_tokens(m, hw, prec, assume=assume)
    if not math.isfinite(cross):
        t_mem, t_comp = tm.prefill_terms(m, hw, 1e12, 1, prec, assume=assume)
        assert t_mem > t_comp
        return
    below = tm.prefill_terms(m, hw, cross * (1 - 1e-6), 1, prec, assume=assume)
    above = tm.prefill_terms(m, hw, cross * (1 + 1e-6), 1, prec, assume=assume)
    assert below[0] >= below[1] * (1 - 1e-9)
    assert above[0] <= above[1] * (1 + 1e-9)


first_order_setups = st.tuples(
    st.sampled_from(tm.MODELS) | made_up_models(), st.sampled_from(tm.HARDWARE) | made_up_hardware()
)


@given(first_order_setups, prompts, fractions, pass_batches, gpu_counts)
def test_first_order_prefill_is_the_seed_roofline(setup, prompt, share, batch, gpus):
    """Under FIRST_ORDER, a pass is every weight once, the whole cache once, and 2 FLOPs per
    active parameter per new token: nothing else."""
    m, hw = setup
    cached = share * prompt
    t_mem, t_comp = tm.prefill_terms(m, hw, prompt, batch, "bf16", gpus, cached_tokens=cached)
    weights = m.total_params * 2.0
    kv = batch * tm.kv_bytes_per_sequence(m, prompt)
    flops = batch * (prompt - cached) * 2 * m.active_params
    bw, c = gpus * hw.hbm_bytes_per_s, gpus * hw.flops("bf16")
    assert t_mem == pytest.approx((weights + kv) / bw, rel=1e-12)
    assert t_comp == pytest.approx(flops / c, rel=1e-12)


@given(first_order_setups)
def test_first_order_decode_is_untouched(setup):
    """Prefill adds functions; the decode roofline of the earlier chapters is what it was."""
    m, hw = setup
    for batch, context in ((1.0, 0.0), (64.0, 4096.0)):
        t_mem, t_comp = tm.step_time_terms(m, hw, batch, context)
        weights = m.total_params * 2.0
        kv = batch * tm.kv_bytes_per_sequence(m, context)
        assert t_mem == pytest.approx((weights + kv) / hw.hbm_bytes_per_s, rel=1e-12)
        assert t_comp == pytest.approx(batch * 2 * m.active_params / hw.flops("bf16"), rel=1e-12)


def test_vectorised_equals_one_at_a_time() -> None:
    m, hw = tm.model("gpt-oss-120b"), tm.hardware("h100-sxm")
    rng = np.random.default_rng(1)
    p = rng.uniform(1, 1e5, 50)
    c = p * rng.uniform(0, 0.99, 50)
    b = rng.uniform(1, 64, 50)
    got = tm.prefill_time(m, hw, p, b, "native", cached_tokens=c, assume=tm.REFINED)
    for i in range(50):
        one = tm.prefill_time(m, hw, p[i], b[i], "native", cached_tokens=c[i], assume=tm.REFINED)
        assert got[i] == one
