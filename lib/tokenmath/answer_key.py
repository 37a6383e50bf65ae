"""The answer key of the book's exercises: how each expected answer is computed.

Teacher side only. Every expected answer is computed from an exercise's literal givens
(:data:`tokenmath.answers.GIVENS`) by the library (:mod:`tokenmath.roofline`,
:mod:`tokenmath.serving`) when it is needed, never typed in. :mod:`tokenmath.answers` uses this
module when it is installed; the student kit (``make student``) builds its wheel without it and
ships a sealed key instead (salted hashes of the answers, see :func:`sealed_key`), so a
student's install holds no computation that returns an answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import kvcache, serving
from . import prefill as pf
from . import roofline as rf
from .answers import (
    GIVENS,
    SEAL_ITERATIONS,
    seal,
    shape_of,
    tokens_for_expected,
    walk_items,
    walk_members,
)
from .assumptions import FIRST_ORDER, REFINED, Assumptions
from .presets import hardware, model, model_names
from .roofline import SECONDS_PER_HOUR, TOKENS_PER_MILLION
from .specs import (
    AttentionGroup,
    Hardware,
    Model,
    batch_for_routed_share,
    kv_bytes_per_token,
    routed_share_read,
)

__all__ = ["QUESTIONS", "expected", "sealed_key"]

MICRO = 1e6  # GPU-seconds -> GPU-microseconds


@dataclass(frozen=True)
class _Question:
    """One checkable answer: how to compute it from the givens, its unit, a hint."""

    compute: Callable[[], Any]
    unit: str
    hint: str
    rtol: float = 0.02


_REGISTRY: dict[str, _Question] = {}


def _question(qid: str, unit: str, hint: str, rtol: float = 0.02):
    """Register the decorated zero-argument function as the answer to ``qid``."""

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        _REGISTRY[qid] = _Question(fn, unit, hint, rtol)
        return fn

    return register


def _usd_per_m(gpu_s_per_token: float, hw: Hardware) -> float:
    return float(rf.usd_per_million_tokens(gpu_s_per_token, hw.usd_per_hour))


# --- Exercise 1: a provider near the floor ------------------------------------------------


def _q1():
    g = GIVENS["q1"]
    m, hw = model(g["MODEL"]), hardware(g["HARDWARE"])
    floor = rf.cost_floor(m, hw, g["CONTEXT_TOKENS"])  # GPU-s per token
    usd_per_gpu_hour = g["FLOOR_USD_PER_M"] / float(rf.usd_per_million_tokens(floor, 1.0))
    return g, m, replace(hw, usd_per_hour=usd_per_gpu_hour)


@_question(
    "q1a",
    "USD per GPU-hour",
    "Turn the floor in GPU-seconds per token into dollars per million tokens at $1 per "
    "GPU-hour, then scale.",
)
def _q1a() -> float:
    return _q1()[2].usd_per_hour


@_question(
    "q1b",
    "sequences in the batch",
    "On the hyperbola the cost per token is (weight time)/B plus the KV term; set it equal "
    "to the price in GPU-seconds and solve for B.",
)
def _q1b() -> float:
    g, m, hw = _q1()
    price_gpu_s = g["PRICE_USD_PER_M"] / _usd_per_m(1.0, hw)
    return serving.batch_for_cost(m, hw, price_gpu_s, g["CONTEXT_TOKENS"])


@_question(
    "q1c",
    "fraction of the price (0.25 for 25 %)",
    "At the sweet spot the cost is the floor; margin = (price - cost) / price.",
)
def _q1c() -> float:
    g, m, hw = _q1()
    ctx = g["CONTEXT_TOKENS"]
    cost = _usd_per_m(rf.cost_per_token(m, hw, rf.sweet_spot(m, hw, ctx), ctx), hw)
    return (g["PRICE_USD_PER_M"] - cost) / g["PRICE_USD_PER_M"]


def _q1_cost_after_fall_usd_per_m(context) -> float:
    g, m, hw = _q1()
    batch = rf.sweet_spot(m, hw, context) * (1.0 - g["TRAFFIC_FALL"])
    return _usd_per_m(rf.cost_per_token(m, hw, batch, context), hw)


@_question(
    "q1d",
    "USD per million tokens",
    "Half the traffic means half the batch: evaluate the cost curve at half the sweet spot.",
)
def _q1d() -> float:
    return _q1_cost_after_fall_usd_per_m(GIVENS["q1"]["CONTEXT_TOKENS"])


@_question(
    "q1e",
    "fraction of the price (negative for a loss)",
    "Use the cost from (d) in margin = (price - cost) / price.",
)
def _q1e() -> float:
    price = GIVENS["q1"]["PRICE_USD_PER_M"]
    return (price - _q1d()) / price


# --- Exercise 2: the KV line at or above the compute line ----------------------------------


@_question(
    "q2a",
    "tokens of context",
    "Set L x b / BW equal to the compute line 2 N_active / C and solve for L.",
)
def _q2a() -> float:
    g = GIVENS["q2"]
    return rf.critical_context(model(g["MODEL"]), hardware(g["HARDWARE"]))


@_question(
    "q2b",
    "sequences in the batch (math.inf if none)",
    "Ask whether the hyperbola plus the KV line ever meets the compute line at this context.",
)
def _q2b() -> float:
    g = GIVENS["q2"]
    return rf.sweet_spot(model(g["MODEL"]), hardware(g["HARDWARE"]), g["LONG_CONTEXT_TOKENS"])


@_question(
    "q2c",
    "GPU-microseconds per token",
    "As B grows the hyperbola vanishes; the floor is whichever constant line is higher.",
)
def _q2c() -> float:
    g = GIVENS["q2"]
    m, hw = model(g["MODEL"]), hardware(g["HARDWARE"])
    return rf.cost_floor(m, hw, g["LONG_CONTEXT_TOKENS"]) * MICRO


@_question(
    "q2d",
    "a collection of preset names",
    "A model keeps a sweet spot only while its crossover context exceeds the chat length; "
    "compute the crossover for every preset in tm.model_names().",
)
def _q2d() -> frozenset[str]:
    g = GIVENS["q2"]
    hw = hardware(g["HARDWARE"])
    chat = g["CHAT_CONTEXT_TOKENS"]
    return frozenset(n for n in model_names() if rf.critical_context(model(n), hw) > chat)


@_question(
    "q2e",
    "a count of presets",
    "Compare each preset's crossover context with its own m.context_limit.",
    rtol=0.0,
)
def _q2e() -> int:
    hw = hardware(GIVENS["q2"]["HARDWARE"])
    return sum(rf.critical_context(model(n), hw) <= model(n).context_limit for n in model_names())


# --- Exercise 3: short chats against long conversations ------------------------------------


def _q3_cases():
    g = GIVENS["q3"]
    m, hw = model(g["MODEL"]), hardware(g["HARDWARE"])
    return m, hw, ((g["A_CONTEXT_TOKENS"], g["A_BATCH"]), (g["B_CONTEXT_TOKENS"], g["B_BATCH"]))


@_question(
    "q3a",
    "USD per million tokens, as (A, B)",
    "Each floor is the higher of the two constant lines at that provider's context.",
)
def _q3a() -> tuple[float, float]:
    m, hw, cases = _q3_cases()
    return tuple(_usd_per_m(rf.cost_floor(m, hw, ctx), hw) for ctx, _ in cases)


@_question(
    "q3b",
    "USD per million tokens, as (A, B)",
    "Evaluate the cost per token at each provider's own batch and context, then convert.",
)
def _q3b() -> tuple[float, float]:
    m, hw, cases = _q3_cases()
    return tuple(_usd_per_m(rf.cost_per_token(m, hw, b, ctx), hw) for ctx, b in cases)


@_question(
    "q3c",
    "cost multiple (new cost / old cost), as (A, B)",
    "Halve each batch, keep each context, and divide the new cost by the old one.",
)
def _q3c() -> tuple[float, float]:
    m, hw, cases = _q3_cases()
    keep = 1.0 - GIVENS["q3"]["TRAFFIC_FALL"]
    return tuple(
        float(rf.cost_per_token(m, hw, b * keep, ctx) / rf.cost_per_token(m, hw, b, ctx))
        for ctx, b in cases
    )


@_question(
    "q3d",
    'a provider, "A" or "B"',
    "Fragile means a larger relative jump in cost per token when traffic falls: compare "
    "your two multiples from (c), at the batches the givens state.",
)
def _q3d() -> str:
    mult_a, mult_b = _q3c()
    return "A" if mult_a > mult_b else "B"


# --- Exercise 4: ten times the bandwidth ---------------------------------------------------


def _q4():
    g = GIVENS["q4"]
    m, hw = model(g["MODEL"]), hardware(g["HARDWARE"])
    fast = replace(
        hw,
        name=f"{hw.name}-{g['BANDWIDTH_FACTOR']}x-bw",
        hbm_bytes_per_s=g["BANDWIDTH_FACTOR"] * hw.hbm_bytes_per_s,
    )
    return g, m, fast


@_question(
    "q4a",
    "FLOPs per byte",
    "Only the denominator of C/BW changed.",
)
def _q4a() -> float:
    return _q4()[2].ops_per_byte()


@_question(
    "q4b",
    "sequences in the batch",
    "The sweet spot scales with C/BW; what did the bandwidth change do to that ratio?",
)
def _q4b() -> float:
    _, m, fast = _q4()
    return rf.sweet_spot(m, fast, 0)


@_question(
    "q4c",
    "GPU-microseconds per token",
    "Recompute both constant lines on the new chip at this context; the floor is the higher.",
)
def _q4c() -> float:
    g, m, fast = _q4()
    return rf.cost_floor(m, fast, g["LONG_CONTEXT_TOKENS"]) * MICRO


@_question(
    "q4d",
    "times the floor",
    "The batch-1 penalty is cost at B = 1 divided by the floor, with every weight read at "
    "B = 1 (the chapters' first-order model).",
)
def _q4d() -> float:
    _, m, fast = _q4()
    return rf.batch1_penalty(m, fast, 0)


# --- Exercise 5: three GPU generations ------------------------------------------------------


def _q5():
    g = GIVENS["q5"]
    return g, model(g["MODEL"]), tuple(hardware(h) for h in g["HARDWARES"])


@_question(
    "q5a",
    "FLOPs per byte, as (A100, H100, B200)",
    "Dense BF16 FLOP/s divided by HBM bytes per second, for each chip.",
)
def _q5a() -> tuple[float, ...]:
    _, _, hws = _q5()
    return tuple(h.ops_per_byte() for h in hws)


@_question(
    "q5b",
    "sequences in the batch, as (A100, H100, B200)",
    "Use the sweet spot at the stated context, not the context-0 rule of thumb.",
)
def _q5b() -> tuple[float, ...]:
    g, m, hws = _q5()
    return tuple(rf.sweet_spot(m, h, g["CONTEXT_TOKENS"]) for h in hws)


@_question(
    "q5c",
    "USD per million tokens, as (A100, H100, B200)",
    "Floor in GPU-seconds per token times each chip's own preset price per hour.",
)
def _q5c() -> tuple[float, ...]:
    g, m, hws = _q5()
    return tuple(_usd_per_m(rf.cost_floor(m, h, g["CONTEXT_TOKENS"]), h) for h in hws)


@_question(
    "q5d",
    "a ratio (A100 cost / B200 cost)",
    "At a small batch the hyperbola dominates: compare dollars per million tokens at that "
    "batch on the two chips.",
)
def _q5d() -> float:
    g, m, hws = _q5()
    a100, b200 = hws[0], hws[-1]
    ctx, batch = g["CONTEXT_TOKENS"], g["SMALL_BATCH"]
    return _usd_per_m(rf.cost_per_token(m, a100, batch, ctx), a100) / _usd_per_m(
        rf.cost_per_token(m, b200, batch, ctx), b200
    )


# --- Exercise 6: FP8 weights ------------------------------------------------------------------


def _q6():
    g = GIVENS["q6"]
    return g, model(g["MODEL"]), hardware(g["HARDWARE"])


@_question(
    "q6a",
    "sequences in the batch",
    "Both the weight bytes and the compute time per token change by the same factor.",
)
def _q6a() -> float:
    _, m, hw = _q6()
    return rf.sweet_spot(m, hw, 0, "fp8")


@_question(
    "q6b",
    "GPU-microseconds per token",
    "The floor at context 0 is the compute line: FLOPs per token over the FP8 FLOP/s.",
)
def _q6b() -> float:
    _, m, hw = _q6()
    return rf.cost_floor(m, hw, 0, "fp8") * MICRO


@_question(
    "q6c",
    "sequences in the batch",
    "The KV cache stays at two bytes per element, so the KV line does not move while the "
    "compute line drops.",
)
def _q6c() -> float:
    g, m, hw = _q6()
    return rf.sweet_spot(m, hw, g["CONTEXT_TOKENS"], "fp8")


@_question(
    "q6d",
    "whole GPUs, as (BF16, FP8)",
    "Weight bytes over one GPU's HBM, rounded up.",
    rtol=0.0,
)
def _q6d() -> tuple[int, int]:
    _, m, hw = _q6()
    return rf.min_gpus(m, hw, "bf16"), rf.min_gpus(m, hw, "fp8")


@_question(
    "q6e",
    "tokens of context",
    "Set the KV line equal to the new compute line and solve for the context.",
)
def _q6e() -> float:
    _, m, hw = _q6()
    return rf.critical_context(m, hw, "fp8")


# --- Exercise 7: pricing a fast tier --------------------------------------------------------


def _q7():
    g = GIVENS["q7"]
    m, hw = model(g["MODEL"]), hardware(g["HARDWARE"])
    ctx = g["CONTEXT_TOKENS"]
    return g, m, hw, ctx, rf.sweet_spot(m, hw, ctx)


@_question(
    "q7a",
    "tokens per second per user",
    "Each user gets one token per decode step: take the step time at the base batch.",
)
def _q7a() -> float:
    g, m, hw, ctx, base = _q7()
    return 1.0 / rf.step_time(m, hw, base, ctx, gpus=g["GPUS"])


@_question(
    "q7b",
    "times faster",
    "No batch is faster than a batch of one: divide the base step time by that floor.",
)
def _q7b() -> float:
    _, m, hw, ctx, base = _q7()
    return float(rf.step_time(m, hw, base, ctx) / serving.latency_floor(m, hw, ctx))


def _q7_fast_batch(speedup: float) -> float:
    _, m, hw, ctx, base = _q7()
    target_s = rf.step_time(m, hw, base, ctx) / speedup
    return float(serving.batch_for_step_time(m, hw, target_s, ctx))


@_question(
    "q7c",
    "sequences in the batch",
    "Below the sweet spot the step time is the weight read plus B times one cache read; "
    "set it to half the base step time.",
)
def _q7c() -> float:
    return _q7_fast_batch(GIVENS["q7"]["TARGET_SPEEDUP"])


@_question(
    "q7d",
    "times the base price per token",
    "Cost per token is step time over batch: compare the fast and base batches.",
)
def _q7d() -> float:
    _, m, hw, ctx, base = _q7()
    return float(serving.fast_tier(m, hw, base, _q7c(), ctx).price_multiple)


@_question(
    "q7e",
    "True or False",
    "Compare the stretch speedup with the largest speedup from (b).",
    rtol=0.0,
)
def _q7e() -> bool:
    return bool(GIVENS["q7"]["STRETCH_SPEEDUP"] <= _q7b())


# --- Exercise 8: a dedicated deployment's bill ----------------------------------------------


def _q8():
    g = GIVENS["q8"]
    m, hw = model(g["MODEL"]), hardware(g["HARDWARE"])
    return g, m, replace(hw, usd_per_hour=g["USD_PER_GPU_HOUR"])


@_question(
    "q8a",
    "USD per month",
    "GPUs x price per GPU-hour x hours in the month.",
)
def _q8a() -> float:
    g = GIVENS["q8"]
    return g["GPUS"] * g["USD_PER_GPU_HOUR"] * g["HOURS_PER_MONTH"]


@_question(
    "q8b",
    "USD per million tokens",
    "Divide the monthly bill by the tokens generated in a month, counted in millions.",
)
def _q8b() -> float:
    g = GIVENS["q8"]
    tokens_per_month = g["DEMAND_TOKENS_PER_S"] * SECONDS_PER_HOUR * g["HOURS_PER_MONTH"]
    return _q8a() / (tokens_per_month / TOKENS_PER_MILLION)


@_question(
    "q8c",
    "sequences in the batch (an average)",
    "Little's law: the batch equals the demand times the step time at that batch.",
)
def _q8c() -> float:
    g, m, hw = _q8()
    return serving.batch_for_demand(
        m, hw, g["DEMAND_TOKENS_PER_S"], g["CONTEXT_TOKENS"], gpus=g["GPUS"]
    )


@_question(
    "q8d",
    "times the shared provider's cost",
    "A shared provider at the sweet spot pays the floor; price that at the same GPU rate.",
)
def _q8d() -> float:
    g, m, hw = _q8()
    return _q8b() / _usd_per_m(rf.cost_floor(m, hw, g["CONTEXT_TOKENS"]), hw)


@_question(
    "q8e",
    "tokens per second",
    "The dedicated cost per token is the replica's hourly price over its tokens per hour; "
    "set it equal to the provider's price.",
)
def _q8e() -> float:
    g = GIVENS["q8"]
    usd_per_s = g["GPUS"] * g["USD_PER_GPU_HOUR"] / SECONDS_PER_HOUR
    return usd_per_s / (g["PROVIDER_USD_PER_M"] / TOKENS_PER_MILLION)


# --- Reading the key -------------------------------------------------------------------------

#: Every checkable part: how to compute its answer, its unit, a hint and its tolerance.
# --- Exercise 9: a routed engine at batch 1 ---------------------------------------------------

#: Expected expert reads alone (the refinement exercise 9 is about).
_ROUTED = Assumptions(expert_reads="expected")


def _q9():
    g = GIVENS["q9"]
    return g, model(g["MODEL"]), hardware(g["HARDWARE"]), g["PRECISION"]


@_question(
    "q9a",
    "fraction of the routed weights (0.25 for 25 %)",
    "One token picks k of the E routed experts in every MoE layer.",
)
def _q9a() -> float:
    _, m, _, _ = _q9()
    return routed_share_read(m, 1)


@_question(
    "q9b",
    "times the cost floor, as (every weight read, routed experts only)",
    "Divide the batch-1 cost by the floor twice: once reading every weight, once reading the "
    "shared weights plus k/E of the routed ones.",
)
def _q9b() -> tuple[float, float]:
    _, m, hw, prec = _q9()
    return tuple(rf.batch1_penalty(m, hw, 0, prec, assume=a) for a in (FIRST_ORDER, _ROUTED))


@_question(
    "q9c",
    "sequences in the batch, as (90 %, 99 %)",
    "Set 1 - (1 - k/E)^B equal to each share and solve for B with logarithms.",
)
def _q9c() -> tuple[float, float]:
    g, m, _, _ = _q9()
    return tuple(float(batch_for_routed_share(m, share)) for share in g["SHARES"])


@_question(
    "q9d",
    "a ratio (first-order cost / routed cost)",
    "At context 0 both costs are weight bytes over BW over B: compare all the weights with the "
    "shared ones plus the expected share of the routed ones at this batch.",
)
def _q9d() -> float:
    g, m, hw, prec = _q9()
    first, routed = (
        rf.cost_per_token(m, hw, g["SMALL_BATCH"], 0, prec, assume=a)
        for a in (FIRST_ORDER, _ROUTED)
    )
    return float(first / routed)


@_question(
    "q9e",
    "milliseconds, as (every weight read, routed experts only)",
    "The fastest step is batch 1: the weights it reads over the replica's combined bandwidth.",
)
def _q9e() -> tuple[float, float]:
    g, m, hw, prec = _q9()
    return tuple(
        float(serving.latency_floor(m, hw, 0, prec, g["GPUS"], assume=a)) * 1e3
        for a in (FIRST_ORDER, _ROUTED)
    )


@_question(
    "q9f",
    "times faster (step at the sweet spot / step at batch 1)",
    "The sweet spot reads every expert; batch 1 reads one token's. Compare the two step times.",
)
def _q9f() -> float:
    _, m, hw, prec = _q9()
    return serving.slowdown_at_sweet_spot(m, hw, 0, prec, assume=_ROUTED)


# --- Exercise 10: formats, fit and an FP8 cache on a B200 server ------------------------------


def _q10():
    g = GIVENS["q10"]
    return g, model(g["MODEL"]), hardware(g["HARDWARE"])


@_question(
    "q10a",
    "whole GPUs, as (BF16, FP8, FP4)",
    "Weight bytes at each format over one GPU's HBM, rounded up.",
    rtol=0.0,
)
def _q10a() -> tuple[int, int, int]:
    _, m, hw = _q10()
    return tuple(rf.min_gpus(m, hw, p) for p in ("bf16", "fp8", "fp4"))


@_question(
    "q10b",
    "GPU-microseconds per token, as (FP8, FP4)",
    "At context 0 the floor is the compute line: FLOPs per token over the peak of the format's "
    "tensor-core mode.",
)
def _q10b() -> tuple[float, float]:
    _, m, hw = _q10()
    return tuple(float(rf.cost_floor(m, hw, 0, p)) * MICRO for p in ("fp8", "fp4"))


@_question(
    "q10c",
    "times the cost floor, as (every weight read, routed experts)",
    "Both the weight read and the floor change with the format; the penalty is their ratio.",
)
def _q10c() -> tuple[float, float]:
    _, m, hw = _q10()
    return tuple(rf.batch1_penalty(m, hw, 0, "fp4", assume=a) for a in (FIRST_ORDER, _ROUTED))


@_question(
    "q10d",
    "tokens of context, as (BF16 cache, FP8 cache)",
    "With attention arithmetic both lines grow with the context: L_max = (2 N_active / C) / "
    "(b / BW - a / C), with b the cache bytes per token at each cache format.",
)
def _q10d() -> tuple[float, float]:
    _, m, hw = _q10()
    return tuple(
        rf.critical_context(m, hw, "native", kv_precision=kv, assume=REFINED)
        for kv in ("bf16", "fp8")
    )


def _q10_fit_and_spot(kv: str) -> tuple[float, float]:
    g, m, hw = _q10()
    ctx, kw = g["CONTEXT_TOKENS"], {"kv_precision": kv, "assume": REFINED}
    fit = rf.max_batch(m, hw, ctx, g["GPUS"], "native", kv_precision=kv)
    return float(fit), float(rf.sweet_spot(m, hw, ctx, "native", **kw))


@_question(
    "q10e",
    "sequences, as (largest batch that fits, sweet-spot batch)",
    "Free HBM after the weights over one sequence's FP8 cache; then the refined sweet spot at "
    "this context with the FP8 cache.",
)
def _q10e() -> tuple[float, float]:
    return _q10_fit_and_spot("fp8")


@_question(
    "q10f",
    "times the cost floor, as (BF16 cache, FP8 cache)",
    "Run each server at the largest batch that fits and divide its cost per token by the floor "
    "at this context.",
)
def _q10f() -> tuple[float, float]:
    g, m, hw = _q10()
    ctx = g["CONTEXT_TOKENS"]
    return tuple(
        float(
            serving.premium_over_floor(
                m, hw, _q10_fit_and_spot(kv)[0], ctx, "native", kv_precision=kv, assume=REFINED
            )
        )
        for kv in ("bf16", "fp8")
    )


# --- Exercise 11: three caches for one model ---------------------------------------------


def _q11_variants() -> dict[str, Model]:
    """The exercise's model with each number of KV heads in ``GIVENS["q11"]["KV_HEADS"]``."""
    g = GIVENS["q11"]
    base = model(g["MODEL"])
    (group,) = base.attention
    return {
        kind: replace(
            base, name=f"{base.name}-{kind}", attention=(replace(group, kind=kind, kv_heads=n),)
        )
        for kind, n in g["KV_HEADS"].items()
    }


@_question(
    "q11a",
    "bytes per token, one value per design in the order MHA, GQA, MQA",
    "Each layer caches a key and a value of head_dim elements per KV head, 2 bytes each.",
)
def _q11a() -> tuple[float, ...]:
    return tuple(kv_bytes_per_token(m) for m in _q11_variants().values())


@_question(
    "q11b",
    "tokens of context, one value per design in the order MHA, GQA, MQA",
    "L_max is where L x b / BW reaches 2 N_active / C: it scales as 1 / b.",
)
def _q11b() -> tuple[float, ...]:
    hw = hardware(GIVENS["q11"]["HARDWARE"])
    return tuple(rf.critical_context(m, hw) for m in _q11_variants().values())


@_question(
    "q11c",
    "sequences, one value per design in the order MHA, GQA, MQA",
    "Free memory (GPUs x HBM minus the BF16 weights) over one sequence's cache, rounded down.",
    rtol=0.0,
)
def _q11c() -> tuple[float, ...]:
    g = GIVENS["q11"]
    hw = hardware(g["HARDWARE"])
    ctx, gpus = g["CONTEXT_TOKENS"], g["GPUS"]
    return tuple(rf.max_batch(m, hw, ctx, gpus) for m in _q11_variants().values())


@_question(
    "q11d",
    "tokens of context",
    "With an FP8 cache each element takes 1 byte: divide the free memory by the new b.",
)
def _q11d() -> float:
    g = GIVENS["q11"]
    gqa = _q11_variants()["gqa"]
    return kvcache.cache_capacity_tokens(
        gqa, hardware(g["HARDWARE"]), g["GPUS"], kv_precision="fp8"
    )


@_question(
    "q11e",
    "a whole number of GPUs",
    "Find the sweet spot at the given context, then add GPUs until max_batch reaches it.",
    rtol=0.0,
)
def _q11e() -> int:
    g = GIVENS["q11"]
    mqa, hw, ctx = _q11_variants()["mqa"], hardware(g["HARDWARE"]), g["CONTEXT_TOKENS"]
    spot = rf.sweet_spot(mqa, hw, ctx)
    gpus = rf.min_gpus(mqa, hw)
    while rf.max_batch(mqa, hw, ctx, gpus) < spot:
        gpus += 1
    return gpus


# --- Exercise 12: an X-ray of a long-context price tier -----------------------------------


def _q12():
    g = GIVENS["q12"]
    ratio = g["LONG_TIER_USD_PER_M"]["output"] / g["SHORT_TIER_USD_PER_M"]["output"]
    return g, model(g["STAND_IN"]), hardware(g["HARDWARE"]), ratio


@_question(
    "q12a",
    "times the short tier's price",
    "Decode writes output tokens: divide the long tier's output price by the short tier's.",
)
def _q12a() -> float:
    return _q12()[3]


@_question(
    "q12b",
    "tokens of context",
    "Past the knee the floor grows in proportion to L; the request costs r times the floor, "
    "so the knee lies at L / r.",
)
def _q12b() -> float:
    g, m, hw, ratio = _q12()
    b = kvcache.implied_kv_bytes_per_token(m, hw, ratio, g["LONG_CONTEXT_TOKENS"])
    latent = round(b / 2)  # BF16 elements of a one-layer cache of b bytes per token
    implied = replace(m, attention=(AttentionGroup(layers=1, kind="mla", latent_dim=latent),))
    return rf.critical_context(implied, hw)


@_question(
    "q12c",
    "bytes per token",
    "Solve L b / BW = r x 2 N_active / C for b, with the stand-in's weights and the chip.",
)
def _q12c() -> float:
    g, m, hw, ratio = _q12()
    return kvcache.implied_kv_bytes_per_token(m, hw, ratio, g["LONG_CONTEXT_TOKENS"])


@_question(
    "q12d",
    "times the implied b",
    "Divide the stand-in's own b (tm.kv_bytes_per_token) by the b the tier implies.",
)
def _q12d() -> float:
    return kv_bytes_per_token(_q12()[1]) / _q12c()


@_question(
    "q12e",
    "True or False",
    "With tm.REFINED the compute line grows with the context by itself; compare its growth "
    "from a short context to the long one with the price ratio.",
)
def _q12e() -> bool:
    g, m, hw, ratio = _q12()
    contexts = np.array([0.0, g["LONG_CONTEXT_TOKENS"]])
    compute = np.asarray(rf.cost_terms(m, hw, 1.0, contexts, assume=REFINED).compute)
    return bool(compute[1] / compute[0] < ratio)


# --- Exercise 16: a batch and a utilisation backed out of published throughputs ----------
# The published figures are read from the data (tm.measurements), not typed here.


def _q16_row(metric: str, case_key: str = "CASE"):
    from .measured import measurement

    return measurement(GIVENS["q16"][case_key], metric)


@_question(
    "q16a",
    "sequences per GPU (an average)",
    "Little's law: sequences in service = tokens per second through one GPU / tokens per "
    "second each request receives (take the middle of the published range).",
)
def _q16a() -> float:
    decode = _q16_row("decode_throughput")
    speed = 0.5 * (_q16_row("output_speed_min").value + _q16_row("output_speed_max").value)
    return decode.value / decode.chips_per_node / speed


@_question(
    "q16b",
    "output tokens per second per GPU",
    "One decode unit holds the batch of every GPU: throughput of the unit at that batch and "
    "the day's average context, divided by its GPUs.",
)
def _q16b() -> float:
    g = GIVENS["q16"]
    m, hw, n = model(g["MODEL"]), hardware(g["HARDWARE"]), g["DECODE_GPUS"]
    context = _q16_row("decode_throughput").context
    unit = rf.throughput(
        m, hw, _q16a() * n, context, g["PRECISION"], n, kv_precision=g["KV_PRECISION"]
    )
    return unit / n


@_question(
    "q16c",
    "fraction of the bound (0.25 for 25 %)",
    "Measured tokens per second per GPU over the bound of part (b).",
)
def _q16c() -> float:
    decode = _q16_row("decode_throughput")
    return decode.value / decode.chips_per_node / _q16b()


@_question(
    "q16d",
    "tokens per second per request",
    "Little's law the other way round: each request's speed = tokens per second through one "
    "GPU / sequences it holds.",
)
def _q16d() -> float:
    rows = [
        r
        for r in _measurements(GIVENS["q16"]["SGLANG_CASE"], "decode_throughput")
        if r.kind == "measured"
    ]
    row = rows[0]
    return row.value / row.chips_per_node / row.batch


def _measurements(case: str, metric: str):
    from .measured import measurements

    return measurements(case=case, metric=metric)


# --- Exercise 17: the 545% after night discounts, at the calibrated cost -------------------


def _q17_value(case_key: str, metric: str) -> float:
    from .measured import measurement

    return measurement(GIVENS["q17"][case_key], metric).value


def _q17_revenue() -> float:
    from . import fleet

    day = fleet.deepseek_day()
    share = _q17_value("OFFPEAK_CASE", "offpeak_hours") / day.hours  # tokens spread evenly
    price = _q17_value("OFFPEAK_CASE", "offpeak_price_share_r1")
    return float(fleet.offpeak_revenue(day.revenue_usd, share, price))


@_question(
    "q17a",
    "USD per day",
    "If tokens arrive evenly, the share billed at the discount is the window's hours over the "
    "day's; those tokens bring only the discounted share of their list price.",
)
def _q17a() -> float:
    return _q17_revenue()


@_question(
    "q17b",
    "fraction (2.0 for a margin of 200 %)",
    "Cost profit margin = (revenue - cost) / cost, with the discounted revenue and the "
    "published cost of the day.",
)
def _q17b() -> float:
    from . import fleet

    cost = fleet.deepseek_day().cost_usd
    return (_q17_revenue() - cost) / cost


@_question(
    "q17c",
    "USD per day",
    "Serve the day's computed input tokens and output tokens at the calibrated model's "
    "throughputs per node (the chapter's four terms), count the busy nodes, price them.",
)
def _q17c() -> float:
    from . import reconcile

    return reconcile.deepseek_day_at(reconcile.TERMS[:-1]).cost_usd


@_question(
    "q17d",
    "fraction (2.0 for a margin of 200 %)",
    "The margin formula again, with the discounted revenue of (a) and the cost of (c).",
)
def _q17d() -> float:
    cost = _q17c()
    return (_q17_revenue() - cost) / cost


# --- Exercise 13: the cheapest prompt for a RAG workload -------------------------------------


def _q13():
    g = GIVENS["q13"]
    return g, model(g["MODEL"]), hardware(g["HARDWARE"])


def _q13_prompts() -> np.ndarray:
    """Prompt lengths [tokens] with 0 to MAX_PASSAGES passages after the question."""
    g = GIVENS["q13"]
    return g["QUESTION_TOKENS"] + g["PASSAGE_TOKENS"] * np.arange(g["MAX_PASSAGES"] + 1.0)


@_question(
    "q13a",
    "tokens in the prompt",
    "GPU time per input token falls while the weight read is shared by more tokens and rises "
    "once the attention arithmetic grows faster: where do the two branches meet?",
)
def _q13a() -> float:
    g, m, hw = _q13()
    return pf.prefill_crossover_tokens(m, hw, g["PRECISION"], assume=g["ASSUME"])


@_question(
    "q13b",
    "passages (a whole number)",
    "Price the prompt of each passage count with tm.cost_per_input_token and take the cheapest.",
    rtol=0.0,
)
def _q13b() -> int:
    g, m, hw = _q13()
    per_token = pf.cost_per_input_token(
        m, hw, _q13_prompts(), 1, g["PRECISION"], assume=g["ASSUME"]
    )
    return int(np.argmin(per_token))


def _q13_request() -> pf.RequestCost:
    g, m, hw = _q13()
    prompt = float(_q13_prompts()[_q13b()])
    return pf.request_cost(
        m,
        hw,
        prompt,
        g["OUTPUT_TOKENS"],
        g["DECODE_BATCH"],
        g["PRECISION"],
        usd_per_gpu_hour=g["USD_PER_GPU_HOUR"],
        assume=g["ASSUME"],
    )


@_question(
    "q13c",
    "USD per thousand requests",
    "The prefill of the prompt alone, then one decode step's share per output token after the "
    "first; tm.prefill.request_cost does both.",
)
def _q13c() -> float:
    return float(_q13_request().usd) * 1000


@_question(
    "q13d",
    "a fraction of the request's GPU time (0 to 1)",
    "Compare the prefill's GPU-seconds with the whole request's.",
)
def _q13d() -> float:
    cost = _q13_request()
    return float(cost.prefill_gpu_s / cost.gpu_s)


# --- Exercise 14: a 50% cache-hit rate -------------------------------------------------------


def _q14_cost(cached: float) -> float:
    """GPU-seconds of one request with ``cached`` input tokens from the cache (reload included)."""
    g = GIVENS["q14"]
    m, hw = model(g["MODEL"]), hardware(g["HARDWARE"])
    kw = {"prefill_batch": g["PREFILL_BATCH"]}
    cost = pf.request_cost(
        m,
        hw,
        g["INPUT_TOKENS"],
        g["OUTPUT_TOKENS"],
        g["DECODE_BATCH"],
        g["PRECISION"],
        cached_tokens=cached,
        **kw,
    )
    if cached == 0:
        return float(cost.gpu_s)
    hit = pf.cache_hit_saving(
        m,
        hw,
        g["INPUT_TOKENS"],
        cached,
        g["PRECISION"],
        reload_bytes_per_s=g["RELOAD_BYTES_PER_S"],
        **kw,
    )
    return float(cost.gpu_s + hit.reload)


def _q14_bill(cached: float) -> float:
    """USD a customer pays at the list prices for one request."""
    g = GIVENS["q14"]
    hit, miss, out = g["LIST_USD_PER_M"]
    tokens = cached * hit + (g["INPUT_TOKENS"] - cached) * miss + g["OUTPUT_TOKENS"] * out
    return tokens / TOKENS_PER_MILLION


def _q14_cached() -> float:
    g = GIVENS["q14"]
    return g["HIT_RATE"] * g["INPUT_TOKENS"]


@_question(
    "q14a",
    "GPU-seconds per request",
    "The request's share of its prefill pass, then one decode step's share per output token "
    "after the first.",
)
def _q14a() -> float:
    return _q14_cost(0.0)


@_question(
    "q14b",
    "GPU-seconds per request",
    "Prefill only the tokens past the cached prefix, and add the time to bring the prefix's "
    "cache back over the link.",
)
def _q14b() -> float:
    return _q14_cost(_q14_cached())


@_question(
    "q14c",
    "a fraction of the cost without hits (0 to 1)",
    "1 minus the cost with hits over the cost without.",
)
def _q14c() -> float:
    return 1.0 - _q14b() / _q14a()


@_question(
    "q14d",
    "a fraction of the bill without hits (0 to 1)",
    "Bill the cached tokens at the hit price, the rest at the miss price, the output at the "
    "output price.",
)
def _q14d() -> float:
    return 1.0 - _q14_bill(_q14_cached()) / _q14_bill(0.0)


@_question(
    "q14e",
    "True or False",
    "Compare your answers to (c) and (d).",
)
def _q14e() -> bool:
    return bool(_q14c() > _q14d())


# --- Exercise 15: is a price list's ratio physical? -----------------------------------------


def _q15():
    g = GIVENS["q15"]
    return g, model(g["MODEL"]), hardware(g["HARDWARE"])


def _q15_list_ratio() -> float:
    _, miss, out = GIVENS["q15"]["LIST_USD_PER_M"]
    return out / miss


@_question(
    "q15a",
    "output tokens' cost in input tokens (a ratio)",
    "Decode at the largest batch whose caches fit in the replica (tm.max_batch), then compare "
    "tm.cost_per_token with tm.cost_per_input_token.",
)
def _q15a() -> float:
    g, m, hw = _q15()
    batch = rf.max_batch(m, hw, g["CONTEXT_TOKENS"], g["GPUS"], g["PRECISION"])
    prices = pf.token_prices(
        m,
        hw,
        g["PROMPT_TOKENS"],
        batch,
        g["CONTEXT_TOKENS"],
        g["PRECISION"],
        g["GPUS"],
        prefill_batch=g["PREFILL_BATCH"],
    )
    return float(prices.ratio)


@_question(
    "q15b",
    "sequences in the decode batch",
    "The ratio is B*_0/B + L/L_crit (sweet spot at context 0, critical context); solve it for B.",
)
def _q15b() -> float:
    g, m, hw = _q15()
    spot = rf.sweet_spot(m, hw, 0, g["PRECISION"])
    cache_term = g["CONTEXT_TOKENS"] / rf.critical_context(m, hw, g["PRECISION"])
    return float(spot / (_q15_list_ratio() - cache_term))


@_question(
    "q15c",
    "True or False",
    "Compare that batch with the largest batch whose caches fit (tm.max_batch).",
)
def _q15c() -> bool:
    g, m, hw = _q15()
    fits = rf.max_batch(m, hw, g["CONTEXT_TOKENS"], g["GPUS"], g["PRECISION"])
    return bool(0 < _q15b() <= fits)


# --- The checker ---------------------------------------------------------------------------

_UNIT_SLIPS: dict[float, str] = {
    1e-9: "1e9",
    1e-6: "1e6",
    1e-3: "1000",
    1e-2: "100",
    1e2: "100",
    1e3: "1000",
    1e6: "1e6",
    1e9: "1e9",
    SECONDS_PER_HOUR: "3600",
    1 / SECONDS_PER_HOUR: "3600",
}


QUESTIONS: dict[str, _Question] = _REGISTRY


def expected(qid: str) -> Any:
    """The answer to part ``qid``, computed now from the givens (a float, tuple, set, ...)."""
    value = _REGISTRY[qid].compute()
    return float(value) if isinstance(value, np.floating | np.ndarray) else value


def _right_tokens(value: Any, rtol: float) -> list[tuple[str, list[str]]]:
    return [(path, tokens_for_expected(leaf, rtol)) for path, leaf in walk_items(value)]


def sealed_key(salt: str | None = None, iterations: int = SEAL_ITERATIONS) -> dict[str, Any]:
    """The sealed key for the student kit: no answer, only salted hashes of what counts as right.

    For each part: its unit, hint, tolerance and the kind of answer (``shape``); for each item,
    the hashes of the tokens that count as right (:func:`tokenmath.answers.tokens_for_expected`:
    the cells of the number line within the tolerance, or the one right string, truth value or
    set of names); for a set of names, the hashes of its members and its size (the checker's
    hints say whether names are missing or do not belong). ``salt`` is hex; a random one by
    default, so every kit has its own hashes.
    """
    salt = os.urandom(16).hex() if salt is None else salt
    questions = {}
    for qid, q in sorted(_REGISTRY.items()):
        value = expected(qid)
        hashes = {
            path: sorted(seal(salt, iterations, qid, path, t) for t in tokens)
            for path, tokens in _right_tokens(value, q.rtol)
        }
        members = {
            path: sorted(seal(salt, iterations, qid, path + "#member", n.lower()) for n in names)
            for path, names in walk_members(value)
        }
        sizes = {path: len(names) for path, names in walk_members(value)}
        questions[qid] = {
            "unit": q.unit,
            "hint": q.hint,
            "rtol": q.rtol,
            "shape": shape_of(value),
            "hashes": hashes,
            "members": members,
            "sizes": sizes,
        }
    return {"salt": salt, "iterations": iterations, "questions": questions}
