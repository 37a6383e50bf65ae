"""Answer checkers for the book's exercises: right, or a hint, never the answer.

Each exercise notebook under ``exercises/`` states its givens literally; ``GIVENS``
holds the same values, and every expected answer is computed from them by the library
(:mod:`tokenmath.roofline`, :mod:`tokenmath.serving`) when it is checked, never typed in.

>>> check("q4b", 1.0)
Not yet. Hint: The sweet spot scales with C/BW; what did the bandwidth change do to that ratio?
False
>>> check("q4b", None)
No answer yet: set my_answer in the cell above and run both cells again.
False

A reader's answer may be a number, ``math.inf``, a string, a boolean, a tuple of numbers
(several items asked for at once) or a collection of preset names, as the question says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from numbers import Real
from typing import Any

import numpy as np

from . import prefill as pf
from . import roofline as rf
from . import serving
from .assumptions import REFINED
from .presets import hardware, model, model_names
from .roofline import SECONDS_PER_HOUR, TOKENS_PER_MILLION
from .specs import Hardware

__all__ = ["GIVENS", "check", "question_ids", "unit"]

MICRO = 1e6  # GPU-seconds -> GPU-microseconds

#: The literal givens of each exercise, exactly as its notebook's givens cell states them.
GIVENS: dict[str, dict[str, Any]] = {
    "q1": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "CONTEXT_TOKENS": 0,
        "PRICE_USD_PER_M": 0.50,
        "FLOOR_USD_PER_M": 0.30,
        "TRAFFIC_FALL": 0.50,
    },
    "q2": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "LONG_CONTEXT_TOKENS": 8_192,
        "CHAT_CONTEXT_TOKENS": 3_000,
    },
    "q3": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "A_CONTEXT_TOKENS": 1_000,
        "A_BATCH": 4_000,
        "B_CONTEXT_TOKENS": 32_000,
        "B_BATCH": 256,
        "TRAFFIC_FALL": 0.50,
    },
    "q4": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "BANDWIDTH_FACTOR": 10,
        "LONG_CONTEXT_TOKENS": 8_192,
    },
    "q5": {
        "MODEL": "deepseek-v3",
        "HARDWARES": ("a100-sxm-80gb", "h100-sxm", "b200"),
        "CONTEXT_TOKENS": 1_000,
        "SMALL_BATCH": 64,
    },
    "q6": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "CONTEXT_TOKENS": 1_000,
    },
    "q7": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "GPUS": 48,
        "CONTEXT_TOKENS": 2_000,
        "TARGET_SPEEDUP": 2.0,
        "STRETCH_SPEEDUP": 3.0,
    },
    "q8": {
        "MODEL": "llama-3.1-70b",
        "HARDWARE": "h100-sxm",
        "GPUS": 4,
        "USD_PER_GPU_HOUR": 2.79,
        "HOURS_PER_MONTH": 730,
        "DEMAND_TOKENS_PER_S": 200,
        "CONTEXT_TOKENS": 1_000,
        "PROVIDER_USD_PER_M": 0.90,
    },
    "q13": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h800",
        "PRECISION": "native",
        "ASSUME": REFINED,
        "QUESTION_TOKENS": 300,
        "PASSAGE_TOKENS": 512,
        "MAX_PASSAGES": 40,
        "OUTPUT_TOKENS": 400,
        "DECODE_BATCH": 20_000,
        "USD_PER_GPU_HOUR": 2.0,
    },
    "q14": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h800",
        "PRECISION": "native",
        "INPUT_TOKENS": 6_000,
        "OUTPUT_TOKENS": 500,
        "HIT_RATE": 0.5,
        "PREFILL_BATCH": 8,
        "DECODE_BATCH": 20_000,
        "RELOAD_BYTES_PER_S": 50e9,
        "LIST_USD_PER_M": (0.14, 0.55, 2.19),
    },
    "q15": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h800",
        "PRECISION": "native",
        "GPUS": 144,
        "PROMPT_TOKENS": 2_000,
        "PREFILL_BATCH": 16,
        "CONTEXT_TOKENS": 4_989,
        "LIST_USD_PER_M": (0.07, 0.27, 1.10),
    },
}


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


def _exercise_order(question_id: str) -> tuple[int, str]:
    """Sort key: exercise number, then part (``"q9f"`` before ``"q10a"``)."""
    number = question_id[1:].rstrip("abcdefghijklmnopqrstuvwxyz")
    return int(number), question_id


def question_ids() -> list[str]:
    """Every checkable question id, e.g. ``"q1a"``, in exercise order (``q9f`` before
    ``q10a``)."""
    return sorted(_REGISTRY, key=_exercise_order)


def unit(question_id: str) -> str:
    """The unit or form in which ``question_id`` expects its answer."""
    return _lookup(question_id).unit


def _lookup(question_id: str) -> _Question:
    key = str(question_id).strip().lower()
    if key not in _REGISTRY:
        raise ValueError(
            f"question_id must be one of {', '.join(question_ids())}; got {question_id!r}"
        )
    return _REGISTRY[key]


def _expected(question_id: str) -> Any:
    """The library's answer (for tests and solutions' own checks; never printed)."""
    value = _lookup(question_id).compute()
    return float(value) if isinstance(value, np.floating | np.ndarray) else value


def _is_number(x: Any) -> bool:
    return isinstance(x, Real | np.number) and not isinstance(x, bool | np.bool_)


def _close(answer: float, expected: float, rtol: float) -> bool:
    if math.isinf(expected) or math.isinf(answer):
        return answer == expected
    return abs(answer - expected) <= rtol * abs(expected) + 1e-12


def _number_hint(answer: float, expected: float, q: _Question, rtol: float) -> str:
    if math.isinf(expected) or math.isinf(answer) or math.isnan(answer):
        return q.hint
    if expected != 0 and _close(-answer, expected, rtol):
        return "Check the sign."
    if expected != 0 and answer != 0:
        for factor, label in _UNIT_SLIPS.items():
            if _close(answer * factor, expected, rtol):
                return f"Off by a factor of {label}; the unit asked for: {q.unit}."
    return q.hint


def _judge(answer: Any, expected: Any, q: _Question, rtol: float) -> tuple[bool, str]:
    """``(right, hint)`` for one answer; the hint never contains ``expected``."""
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer.item()
    if isinstance(expected, bool):
        if not isinstance(answer, bool | np.bool_):
            return False, "Answer True or False."
        return bool(answer) == expected, q.hint
    if isinstance(expected, str):
        if not isinstance(answer, str):
            return False, f"Answer with a string: {q.unit}."
        return answer.strip().lower() == expected.lower(), q.hint
    if isinstance(expected, frozenset):
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            return False, f"Answer with a list or set of names: {q.unit}."
        given = {str(a).strip().lower() for a in answer}
        if given == expected:
            return True, ""
        extra, missing = given - expected, expected - given
        # say which way the list is off, not by how many: a count would give part of it away
        parts = ["some names do not belong"] if extra else []
        parts += ["some names are missing"] if missing else []
        return False, f"{' and '.join(parts).capitalize()}. {q.hint}"
    if isinstance(expected, tuple):
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            return False, f"Answer with {len(expected)} values: {q.unit}."
        items = list(answer)
        if len(items) != len(expected):
            return False, f"Answer with {len(expected)} values: {q.unit}."
        for i, (a, e) in enumerate(zip(items, expected, strict=True), start=1):
            right, hint = _judge(a, e, q, rtol)
            if not right:
                return False, f"Item {i} is off. {hint}"
        return True, ""
    if not _is_number(answer):
        return False, f"Answer with a number: {q.unit}."
    a, e = float(answer), float(expected)
    if _close(a, e, rtol):
        return True, ""
    return False, _number_hint(a, e, q, rtol)


def check(question_id: str, answer: Any, *, rtol: float | None = None) -> bool:
    """Say whether ``answer`` to exercise part ``question_id`` is right; never reveal it.

    Prints ``"Correct."`` or a short hint and returns ``True`` or ``False``. ``None``
    (no answer yet) prints a reminder and returns ``False``. Numbers count as right within
    a relative tolerance (``rtol``, 2 % unless the question needs an exact count), so
    rounded intermediate values are fine; the unit is the one the question states
    (``unit()``), and an answer off by a common unit factor gets a hint saying so.

    Raises ``ValueError`` for an unknown ``question_id`` (listing the valid ones) or a
    negative ``rtol``.

    >>> check("q6d", (17, 9))
    Correct.
    True
    """
    q = _lookup(question_id)
    if rtol is not None and (not _is_number(rtol) or not rtol >= 0 or math.isinf(rtol)):
        raise ValueError(f"rtol must be a finite number >= 0; got {rtol!r}")
    if answer is None:
        print("No answer yet: set my_answer in the cell above and run both cells again.")
        return False
    tol = q.rtol if rtol is None else float(rtol)
    right, hint = _judge(answer, _expected(question_id), q, tol)
    print("Correct." if right else f"Not yet. Hint: {hint}")
    return right
