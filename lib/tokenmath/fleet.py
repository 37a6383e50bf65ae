"""Fleet arithmetic on published figures: a day of serving, its cost, revenue and node split.

Pure arithmetic, no physics: GPU-hours times a price, tokens times list prices, tokens over a
per-node throughput. The published inputs come from :func:`tokenmath.measured.measurements`;
nothing is typed here. :func:`deepseek_day` recomputes the figures of DeepSeek's day of
production (the cost per day, the revenue at R1 list prices, the cost profit margin, the cost
of a million output tokens, and how many nodes prefill and decode kept busy) and
:func:`sglang_decode_cost` the cost per million tokens of SGLang's reproduction on H100.

Units: tokens are tokens (not millions), prices are USD per GPU-hour or USD per million
tokens, throughputs are tokens per second per node. Array arguments broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as v
from .measured import Measurement, measurement, measurements

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6

DEEPSEEK_CASE = "deepseek-production"
SGLANG_DECODE_CASE = "sglang-decode"


def daily_cost(
    nodes: v.ArrayLike,
    gpus_per_node: v.ArrayLike,
    usd_per_gpu_hour: v.ArrayLike,
    hours: v.ArrayLike = 24.0,
) -> float | np.ndarray:
    """USD spent renting ``nodes`` nodes of ``gpus_per_node`` GPUs for ``hours`` hours.

    >>> daily_cost(10, 8, 2.0)
    3840.0
    """
    n = v.non_negative("nodes", nodes)
    g = v.positive("gpus_per_node", gpus_per_node)
    p = v.non_negative("usd_per_gpu_hour", usd_per_gpu_hour)
    h = v.positive("hours", hours)
    n, g, p, h = v.broadcast(nodes=n, gpus_per_node=g, usd_per_gpu_hour=p, hours=h)
    return v.scalar_or_array(n * g * p * h)


def revenue(
    input_tokens: v.ArrayLike,
    cache_hit_tokens: v.ArrayLike,
    output_tokens: v.ArrayLike,
    usd_per_million_hit: v.ArrayLike,
    usd_per_million_miss: v.ArrayLike,
    usd_per_million_output: v.ArrayLike,
) -> float | np.ndarray:
    """USD billed for the tokens at per-million list prices: cached input, other input, output.

    ``cache_hit_tokens`` is the part of ``input_tokens`` served from the prompt cache.

    >>> revenue(3e6, 1e6, 1e6, 0.1, 0.5, 2.0)
    3.1
    """
    i = v.non_negative("input_tokens", input_tokens)
    hit = v.non_negative("cache_hit_tokens", cache_hit_tokens)
    out = v.non_negative("output_tokens", output_tokens)
    prices = {
        "usd_per_million_hit": v.non_negative("usd_per_million_hit", usd_per_million_hit),
        "usd_per_million_miss": v.non_negative("usd_per_million_miss", usd_per_million_miss),
        "usd_per_million_output": v.non_negative("usd_per_million_output", usd_per_million_output),
    }
    i, hit, out, p_hit, p_miss, p_out = v.broadcast(
        input_tokens=i, cache_hit_tokens=hit, output_tokens=out, **prices
    )
    too_many = hit > i
    if too_many.any():
        idx = v.first_index(too_many)
        raise ValueError(
            f"cache_hit_tokens must be <= input_tokens; got {float(hit[idx])!r} "
            f"cache hits of {float(i[idx])!r} input tokens"
        )
    usd = (hit * p_hit + (i - hit) * p_miss + out * p_out) / TOKENS_PER_MILLION
    return v.scalar_or_array(usd)


def cost_profit_margin(revenue_usd: v.ArrayLike, cost_usd: v.ArrayLike) -> float | np.ndarray:
    """Profit over cost, ``(revenue - cost) / cost``, as a fraction (5.45 is 545%).

    >>> cost_profit_margin(300.0, 100.0)
    2.0
    """
    r = v.non_negative("revenue_usd", revenue_usd)
    c = v.positive("cost_usd", cost_usd)
    r, c = v.broadcast(revenue_usd=r, cost_usd=c)
    return v.scalar_or_array(r / c - 1.0)


def offpeak_revenue(
    revenue_usd: v.ArrayLike, share_in_window: v.ArrayLike, price_share: v.ArrayLike
) -> float | np.ndarray:
    """USD billed when ``share_in_window`` of the tokens fall in a discount window where they
    cost ``price_share`` of the list price (0.25: 75% off); ``revenue_usd`` is the bill at
    list prices. Both shares are fractions from 0 to 1.

    >>> offpeak_revenue(300.0, 1 / 3, 0.25)
    225.0
    """
    r = v.non_negative("revenue_usd", revenue_usd)
    shares = {}
    for name, value in (("share_in_window", share_in_window), ("price_share", price_share)):
        arr = v.non_negative(name, value)
        if np.any(arr > 1):
            raise ValueError(f"{name} must be >= 0 and <= 1; got {float(np.max(arr))!r}")
        shares[name] = arr
    r, window, price = v.broadcast(revenue_usd=r, **shares)
    return v.scalar_or_array(r * (1.0 - window * (1.0 - price)))


def usd_per_million_tokens(
    tokens_per_s_per_node: v.ArrayLike,
    gpus_per_node: v.ArrayLike,
    usd_per_gpu_hour: v.ArrayLike,
) -> float | np.ndarray:
    """USD of GPU time per million tokens for a node producing ``tokens_per_s_per_node``.

    >>> round(usd_per_million_tokens(8000, 8, 2.0), 4)
    0.5556
    """
    t = v.positive("tokens_per_s_per_node", tokens_per_s_per_node)
    g = v.positive("gpus_per_node", gpus_per_node)
    p = v.non_negative("usd_per_gpu_hour", usd_per_gpu_hour)
    t, g, p = v.broadcast(tokens_per_s_per_node=t, gpus_per_node=g, usd_per_gpu_hour=p)
    usd_per_node_second = g * p / SECONDS_PER_HOUR
    return v.scalar_or_array(usd_per_node_second / t * TOKENS_PER_MILLION)


def busy_nodes(
    tokens: v.ArrayLike, tokens_per_s_per_node: v.ArrayLike, seconds: v.ArrayLike
) -> float | np.ndarray:
    """Average number of nodes that ``tokens`` keep busy over ``seconds`` at a per-node rate.

    >>> busy_nodes(8.64e9, 1e4, 86_400)
    10.0
    """
    n = v.non_negative("tokens", tokens)
    t = v.positive("tokens_per_s_per_node", tokens_per_s_per_node)
    s = v.positive("seconds", seconds)
    n, t, s = v.broadcast(tokens=n, tokens_per_s_per_node=t, seconds=s)
    return v.scalar_or_array(n / (t * s))


@dataclass(frozen=True)
class DeepSeekDay:
    """DeepSeek's published day of V3/R1 serving, recomputed (see :func:`deepseek_day`).

    Money in USD, throughputs in tokens per second, node counts are averages over the day.
    """

    #: Average nodes in service over the day (published).
    average_nodes: float
    #: GPUs per node (8 H800, published).
    gpus_per_node: float
    #: Assumed lease, USD per GPU-hour (published assumption).
    usd_per_gpu_hour: float
    #: Length of the window, hours.
    hours: float
    #: Cost of the day, average nodes x GPUs per node x lease x hours.
    cost_usd: float
    #: Input tokens served from the cache, input tokens x the published cache-hit share.
    cache_hit_tokens: float
    #: Revenue had every token been billed at DeepSeek-R1 list prices.
    revenue_usd: float
    #: (revenue - cost) / cost.
    cost_profit_margin: float
    #: Output tokens per second per GPU during decode (per-node figure / GPUs per node).
    decode_tokens_per_s_per_gpu: float
    #: USD of decode GPU time per million output tokens, at the lease.
    decode_usd_per_million_output: float
    #: USD of prefill GPU time per million input tokens (cache hits included), at the lease.
    prefill_usd_per_million_input: float
    #: Prefill throughput per node without the cache hits, per-node figure x miss share.
    prefill_tokens_per_s_per_node_excl_cache_hit: float
    #: Nodes kept busy by prefill, input tokens / (prefill throughput x seconds in the day).
    prefill_nodes: float
    #: Nodes kept busy by decode, output tokens / (decode throughput x seconds in the day).
    decode_nodes: float
    #: prefill_nodes + decode_nodes.
    split_nodes: float
    #: split_nodes / average_nodes (1.0 means the split accounts for the whole fleet).
    split_over_average: float


def _published(metric: str, case: str = DEEPSEEK_CASE) -> float:
    return measurement(case, metric).value


def _served_decode_row(case: str) -> Measurement:
    """The one measured (not simulated) decode throughput of ``case``."""
    rows = [r for r in measurements(case=case, metric="decode_throughput") if r.kind == "measured"]
    if len(rows) != 1:
        raise ValueError(f"case {case!r} has {len(rows)} measured decode throughputs, not one")
    return rows[0]


def deepseek_day() -> DeepSeekDay:
    """DeepSeek's day of production (2025-02-27/28) recomputed from the published figures.

    Every input is a row of ``tm.measurements(case="deepseek-production")``; the results
    can be compared with the cost, revenue and margin DeepSeek printed, which the data keeps
    as ``kind="derived"`` rows.

    >>> day = deepseek_day()
    >>> round(day.cost_usd), round(day.cost_profit_margin, 2)
    (87072, 5.45)
    >>> round(day.decode_tokens_per_s_per_gpu), round(day.decode_usd_per_million_output, 2)
    (1850, 0.3)
    >>> round(day.prefill_nodes, 1), round(day.decode_nodes, 1), day.average_nodes
    (95.5, 131.4, 226.75)
    """
    gpus = _published("gpus_per_node")
    lease = _published("lease_price")
    hours = _published("window")
    nodes = _published("nodes_average")
    seconds = hours * SECONDS_PER_HOUR
    input_tokens, output_tokens = _published("input_tokens"), _published("output_tokens")
    hit_share = _published("cache_hit_share")
    prefill_rate, decode_rate = _published("prefill_throughput"), _published("decode_throughput")

    cost = float(daily_cost(nodes, gpus, lease, hours))
    hits = input_tokens * hit_share
    income = float(
        revenue(
            input_tokens,
            hits,
            output_tokens,
            _published("price_input_cache_hit"),
            _published("price_input_cache_miss"),
            _published("price_output"),
        )
    )
    prefill_nodes = float(busy_nodes(input_tokens, prefill_rate, seconds))
    decode_nodes = float(busy_nodes(output_tokens, decode_rate, seconds))
    return DeepSeekDay(
        average_nodes=nodes,
        gpus_per_node=gpus,
        usd_per_gpu_hour=lease,
        hours=hours,
        cost_usd=cost,
        cache_hit_tokens=hits,
        revenue_usd=income,
        cost_profit_margin=float(cost_profit_margin(income, cost)),
        decode_tokens_per_s_per_gpu=decode_rate / gpus,
        decode_usd_per_million_output=float(usd_per_million_tokens(decode_rate, gpus, lease)),
        prefill_usd_per_million_input=float(usd_per_million_tokens(prefill_rate, gpus, lease)),
        prefill_tokens_per_s_per_node_excl_cache_hit=prefill_rate * (1.0 - hit_share),
        prefill_nodes=prefill_nodes,
        decode_nodes=decode_nodes,
        split_nodes=prefill_nodes + decode_nodes,
        split_over_average=(prefill_nodes + decode_nodes) / nodes,
    )


@dataclass(frozen=True)
class DecodeCost:
    """A published decode throughput turned into a cost per million output tokens."""

    #: Output tokens per second per node (published).
    tokens_per_s_per_node: float
    #: GPUs per node.
    gpus_per_node: float
    #: tokens_per_s_per_node / gpus_per_node.
    tokens_per_s_per_gpu: float
    #: The GPU-hour price used, USD.
    usd_per_gpu_hour: float
    #: USD of GPU time per million output tokens.
    usd_per_million_output: float


def sglang_decode_cost(usd_per_gpu_hour: float | None = None) -> DecodeCost:
    """SGLang's measured decode throughput on H100 as USD per million output tokens.

    SGLang's blog quotes a cost per million output tokens (the ``cost_per_million_output``
    row of ``sglang-headline``) but does not state the GPU-hour price behind it; by default
    this uses DeepSeek's published lease (the ``lease_price`` row of
    ``deepseek-production``), at which the quote reproduces.

    >>> cost = sglang_decode_cost()
    >>> round(cost.tokens_per_s_per_gpu), round(cost.usd_per_million_output, 2)
    (2785, 0.2)
    """
    if usd_per_gpu_hour is None:
        usd_per_gpu_hour = _published("lease_price")
    price = v.non_negative_scalar("usd_per_gpu_hour", usd_per_gpu_hour)
    row = _served_decode_row(SGLANG_DECODE_CASE)
    gpus = float(row.chips_per_node)
    return DecodeCost(
        tokens_per_s_per_node=row.value,
        gpus_per_node=gpus,
        tokens_per_s_per_gpu=row.value / gpus,
        usd_per_gpu_hour=price,
        usd_per_million_output=float(usd_per_million_tokens(row.value, gpus, price)),
    )
