"""Properties of the cost model that must hold for every model, accelerator, batch and context.

Hypothesis draws presets and made-up models and accelerators (random attention layouts,
sliding windows, shared caches; random FLOP/s and bandwidth) and checks the shape of the
curves the book draws: cost per token falls with batch to a floor reached at the sweet
spot, step time is continuous and never falls, the sweet spot is the crossover, GPUs per
replica change speed but not GPU-seconds per token, and the serving batch is a fixed point.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import tokenmath as tm
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from tokenmath import serving
from tokenmath.specs import AttentionGroup, Hardware, Model

pytestmark = pytest.mark.filterwarnings("error")

# `make mutate` runs these for every mutant: it asks for fewer examples (tools/mutate.py).
EXAMPLES = int(os.environ.get("TOKENMATH_HYPOTHESIS_EXAMPLES", "100"))
settings.register_profile(
    "tokenmath", deadline=None, max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("tokenmath")

batches = st.floats(min_value=1e-3, max_value=1e7, allow_nan=False, allow_infinity=False)
# short contexts are where sweet spots exist; long ones where the KV line takes over
contexts = (
    st.just(0.0)
    | st.floats(min_value=0.0, max_value=4096.0)
    | st.floats(min_value=0.0, max_value=2e6)
)
gpu_counts = st.integers(min_value=1, max_value=256)


@st.composite
def attention_groups(draw) -> AttentionGroup:
    kind = draw(st.sampled_from(["mha", "gqa", "mqa", "mla"]))
    layers = draw(st.integers(1, 128))
    window = draw(st.none() | st.integers(1, 8192))
    shares = draw(st.booleans())
    if kind == "mla":
        return AttentionGroup(
            layers=layers, kind=kind, latent_dim=draw(st.integers(1, 2048)), window=window,
            shares_kv=shares,
        )  # fmt: skip
    kv_heads = 1 if kind == "mqa" else draw(st.integers(1, 128))
    return AttentionGroup(
        layers=layers, kind=kind, kv_heads=kv_heads, head_dim=draw(st.integers(1, 256)),
        window=window, shares_kv=shares,
    )  # fmt: skip


@st.composite
def made_up_models(draw) -> Model:
    total = draw(st.floats(1e6, 3e12))
    active = total * draw(st.floats(1e-3, 1.0))
    groups = tuple(draw(st.lists(attention_groups(), min_size=1, max_size=4)))
    return Model(name="made-up", total_params=total, active_params=active, attention=groups,
                 context_limit=131_072)  # fmt: skip


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


models = st.sampled_from(tm.MODELS) | made_up_models()


@st.composite
def setups(draw) -> tuple[Model, Hardware, str]:
    """A model, an accelerator and a precision that accelerator supports."""
    hw = draw(st.sampled_from(tm.HARDWARE) | made_up_hardware())
    precision = draw(st.sampled_from(sorted(hw.flops_per_s)))
    return draw(models), hw, precision


@given(setups(), batches, batches, contexts)
def test_cost_per_token_never_rises_with_batch(setup, b1, b2, context):
    m, hw, prec = setup
    low, high = sorted((b1, b2))
    assert tm.cost_per_token(m, hw, high, context, prec) <= tm.cost_per_token(
        m, hw, low, context, prec
    )


@given(setups(), contexts, st.floats(1.0, 1e3))
def test_cost_equals_the_floor_at_and_beyond_the_sweet_spot(setup, context, factor):
    m, hw, prec = setup
    s = tm.sweet_spot(m, hw, context, prec)
    assume(math.isfinite(s) and s * factor < 1e12)
    floor = tm.cost_floor(m, hw, context, prec)
    assert tm.cost_per_token(m, hw, s * factor, context, prec) == pytest.approx(floor, rel=1e-12)
    assert tm.cost_per_token(m, hw, s * factor, context, prec) >= floor


@given(setups(), batches, contexts)
def test_cost_never_below_floor_and_premium_at_least_one(setup, batch, context):
    m, hw, prec = setup
    floor = tm.cost_floor(m, hw, context, prec)
    cost = tm.cost_per_token(m, hw, batch, context, prec)
    assert 0 < floor <= cost and math.isfinite(cost)
    assert serving.premium_over_floor(m, hw, batch, context, prec) >= 1.0


@given(setups(), batches, batches, contexts, contexts, gpu_counts)
def test_step_time_never_falls_with_batch_or_context(setup, b1, b2, c1, c2, gpus):
    m, hw, prec = setup
    (b_lo, b_hi), (c_lo, c_hi) = sorted((b1, b2)), sorted((c1, c2))
    t = tm.step_time(m, hw, b_lo, c_lo, prec, gpus)
    assert t <= tm.step_time(m, hw, b_hi, c_lo, prec, gpus)
    assert t <= tm.step_time(m, hw, b_lo, c_hi, prec, gpus)


@given(setups(), batches, contexts, st.floats(1e-9, 1e-4))
def test_step_time_is_continuous_in_batch_and_context(setup, batch, context, delta):
    """Step time is piecewise linear with batch x slope <= T and context x slope <= T, so a
    relative nudge of delta moves it by at most delta x T (plus rounding)."""
    m, hw, prec = setup
    t = tm.step_time(m, hw, batch, context, prec)
    t_batch = tm.step_time(m, hw, batch * (1 + delta), context, prec)
    t_context = tm.step_time(m, hw, batch, context * (1 + delta) + delta, prec)
    bound = (delta + 1e-12) * max(t_batch, t_context) * (1 + 1e-9)
    assert abs(t_batch - t) <= bound + 1e-15 * t
    # the additive +delta token at context 0 adds at most batch x delta x b_max / BW
    extra = batch * delta * tm.kv_bytes_per_sequence(m, 1.0) / hw.hbm_bytes_per_s
    assert abs(t_context - t) <= bound + extra + 1e-15 * t


@given(setups(), contexts)
def test_sweet_spot_is_the_numerical_crossover(setup, context):
    m, hw, prec = setup
    s = tm.sweet_spot(m, hw, context, prec)
    t = tm.cost_terms(m, hw, 1.0, context, prec)
    if not math.isfinite(s):
        event("no sweet spot")
        assert t.kv >= t.compute  # KV line on or above the compute line
        return
    event("finite sweet spot")
    assume(s < 1e8)
    t_mem, t_comp = tm.step_time_terms(m, hw, s, context, prec)
    assert t_mem == pytest.approx(t_comp, rel=1e-6)
    below = tm.step_time_terms(m, hw, s * (1 - 1e-4), context, prec)
    above = tm.step_time_terms(m, hw, s * (1 + 1e-4), context, prec)
    assert below[0] > below[1] and above[1] > above[0]
    assert tm.region(m, hw, s * (1 - 1e-4), context, prec) == "memory-bound"
    assert tm.region(m, hw, s * (1 + 1e-4), context, prec) == "compute-bound"


@given(setups(), batches, contexts, gpu_counts)
def test_doubling_gpus_halves_step_time_not_gpu_seconds(setup, batch, context, gpus):
    m, hw, prec = setup
    t1 = tm.step_time(m, hw, batch, context, prec, gpus)
    t2 = tm.step_time(m, hw, batch, context, prec, 2 * gpus)
    assert t2 == pytest.approx(t1 / 2, rel=1e-12)
    c1 = tm.cost_per_token(m, hw, batch, context, prec, gpus)
    assert c1 == tm.cost_per_token(m, hw, batch, context, prec, 2 * gpus)
    # cost per token is gpus x step time / batch
    assert c1 == pytest.approx(gpus * t1 / batch, rel=1e-12)
    assert c1 == pytest.approx(2 * gpus * t2 / batch, rel=1e-12)


@given(setups(), contexts, gpu_counts, st.floats(1e-6, 0.999))
def test_batch_for_demand_is_a_fixed_point(setup, context, gpus, fraction):
    m, hw, prec = setup
    demand = fraction * serving.max_throughput(m, hw, context, prec, gpus)
    b = serving.batch_for_demand(m, hw, demand, context, prec, gpus)
    assume(b < 1e12)
    assert b > 0
    assert b == pytest.approx(demand * tm.step_time(m, hw, b, context, prec, gpus), rel=1e-9)
    assert tm.throughput(m, hw, b, context, prec, gpus) == pytest.approx(demand, rel=1e-9)


@given(setups(), contexts, st.floats(1.0, 10.0))
def test_demand_above_the_maximum_is_refused(setup, context, factor):
    m, hw, prec = setup
    top = serving.max_throughput(m, hw, context, prec)
    has_sweet_spot = math.isfinite(tm.sweet_spot(m, hw, context, prec))
    if has_sweet_spot and factor < 1 + 1e-9:
        s = serving.batch_for_demand(m, hw, top * factor, context, prec)
        assert s == pytest.approx(tm.sweet_spot(m, hw, context, prec), rel=1e-9)
        return
    with pytest.raises(ValueError, match="tokens_per_s"):
        serving.batch_for_demand(m, hw, top * factor, context, prec)


@given(setups(), st.floats(1e-3, 1e9), contexts, gpu_counts)
def test_each_of_the_replicas_needed_keeps_up_below_its_sweet_spot(setup, demand, context, gpus):
    m, hw, prec = setup
    n = serving.replicas_needed(m, hw, demand, context, prec, gpus)
    b = serving.batch_for_demand(m, hw, demand / n, context, prec, gpus)
    assert 0 < b <= tm.sweet_spot(m, hw, context, prec) * (1 + 1e-9)


@given(setups(), st.floats(1e-3, 1e9), contexts, gpu_counts)
def test_replicas_needed_is_the_fewest_that_keep_up(setup, demand, context, gpus):
    m, hw, prec = setup
    n = serving.replicas_needed(m, hw, demand, context, prec, gpus)
    assume(n < 10**9)
    top = serving.max_throughput(m, hw, context, prec, gpus)
    assert n >= 1
    assert demand / n <= top * (1 + 1e-9)
    if n > 1:
        assert demand / (n - 1) >= top * (1 - 1e-9)


@given(setups(), st.lists(batches, min_size=1, max_size=8), contexts)
def test_arrays_give_the_same_numbers_as_scalars(setup, batch_list, context):
    m, hw, prec = setup
    out = tm.cost_per_token(m, hw, np.array(batch_list), context, prec)
    for b, got in zip(batch_list, out, strict=True):
        assert got == tm.cost_per_token(m, hw, b, context, prec)


@given(setups(), contexts, st.integers(1, 64))
def test_max_batch_is_the_largest_that_fits(setup, context, gpus):
    m, hw, prec = setup
    n = tm.max_batch(m, hw, context, gpus, prec)
    room = gpus * hw.hbm_bytes - m.weight_bytes(prec)
    per_seq = tm.kv_bytes_per_sequence(m, context)
    if room <= 0:
        assert n == 0
    elif per_seq == 0:
        assert n == math.inf
    else:
        assume(n < 1e15)
        assert n * per_seq <= room * (1 + 1e-12)
        assert (n + 1) * per_seq > room * (1 - 1e-12)
