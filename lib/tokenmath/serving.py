"""Serving questions answered with the decode roofline: latency, throughput, demand, tiers.

Everything here is built on :mod:`tokenmath.roofline`; no physics is repeated. Per replica
of ``gpus`` accelerators, the step time of a batch of ``B`` sequences is
``T(B) = max(T_memory(B), T_compute(B))`` with ``T_memory`` growing linearly from the
weight read and ``T_compute`` proportional to ``B``. From that:

* the shortest step a user can see is ``T(1)`` (:func:`latency_floor`);
* one replica's throughput ``B / T(B)`` rises with ``B`` and levels off at
  ``gpus / cost_floor`` tokens per second (:func:`max_throughput`): reached at the sweet
  spot when the compute line lies above the KV line, approached but never reached otherwise;
* a replica that serves a steady demand of ``D`` tokens per second runs, by Little's law,
  at the batch ``B = D x T(B)`` (:func:`batch_for_demand`);
* a static batch takes one prefill pass and then its decode steps
  (:func:`static_batch_time`), and a request waits for its prompt's prefill before its first
  token (:func:`time_to_first_token`), both with :mod:`tokenmath.prefill`.

Every function takes the keyword arguments ``kv_precision`` and ``assume`` of
:mod:`tokenmath.roofline`. Where expected expert reads make the weight traffic grow with the
batch, the inverses (batch for a demand, a cost, a step time) have no closed form and are
solved by bisection, bracketed by the all-weights answer.

Like the roofline, these functions ignore whether the batch fits in memory; compare with
:func:`tokenmath.roofline.max_batch`. ``batch``, ``context`` and ``tokens_per_s`` broadcast
as numpy arrays; a 0-d result comes back as a plain ``float``. The arguments mean what they
mean in :mod:`tokenmath.roofline`; ``tokens_per_s`` is a demand in output tokens per second.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from . import _validate as v
from .assumptions import FIRST_ORDER, Assumptions
from .prefill import _prompt_and_cached, decode_contexts, mixed_step_time, prefill_time
from .roofline import (
    _bisect_root,
    cost_floor,
    cost_per_token,
    cost_terms,
    step_time,
    sweet_spot,
)
from .specs import Hardware, Model, routed_share_read

__all__ = [
    "FastTier",
    "StaticBatchPhases",
    "batch_for_cost",
    "batch_for_demand",
    "batch_for_step_time",
    "fast_tier",
    "latency_floor",
    "max_throughput",
    "premium_over_floor",
    "replicas_needed",
    "slowdown_at_sweet_spot",
    "static_batch_phases",
    "static_batch_time",
    "time_to_first_token",
]

# Relative slack when dividing demand by a replica's capacity, so that a demand of exactly
# n replicas' worth is not rounded up to n + 1 by floating-point error.
_REL_TOL = 1e-12
# Replica counts are returned as 64-bit integers; beyond this the count would not be exact.
_MAX_REPLICAS = 1e15
# Most chunked-prefill steps one time to first token sums (a bound on the work array).
_MAX_CHUNK_STEPS = 100_000


class FastTier(NamedTuple):
    """What a fast tier buys and what it costs, relative to the base batch.

    ``speedup``: how many times faster each user receives tokens (ratio of step times).
    ``price_multiple``: how many times more each token costs in GPU-seconds.
    """

    speedup: float | np.ndarray
    price_multiple: float | np.ndarray


class _Branches(NamedTuple):
    """Batch-1 cost terms as arrays [GPU-s per token gained], and the weight read as a
    function of batch. Times a step's tokens per sequence (``assume.tokens_per_step``) they
    are the GPU-seconds of one step."""

    weights: np.ndarray  # all-weights read, GPU-seconds per step
    kv: np.ndarray  # GPU-seconds per sequence
    compute: np.ndarray  # GPU-seconds per sequence
    expected: bool  # True when the weight read grows with the batch

    def weight_read(self, model: Model, hw: Hardware, precision: str, assume, batch):
        """GPU-seconds to read the weights one step of ``batch`` sequences touches, per token
        each sequence gains (``assume.tokens_per_step``), like the other terms."""
        share = routed_share_read(model, batch * assume.verified_tokens)
        bw = hw.hbm_bytes_per_s * assume.mem_efficiency
        return model.weight_bytes(precision, share) / bw / assume.tokens_per_step


def _branches(model, hw, context, precision, kv_precision, assume) -> _Branches:
    """The batch-1 terms with every weight read (the bracket for the bisections)."""
    all_weights = replace(assume, expert_reads="all")
    t = cost_terms(
        model, hw, 1.0, context, precision, kv_precision=kv_precision, assume=all_weights
    )
    expected = assume.expert_reads == "expected" and model.routed_params > 0
    return _Branches(*(np.asarray(x) for x in t), expected=expected)


def latency_floor(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Shortest time between two tokens that a user can see, in seconds.

    This is the step time of a batch of one sequence: the replica reads every weight (or,
    with expected expert reads, the shared weights and one token's experts) and that one
    sequence's KV cache (or computes, if that takes longer). No batch is faster, because
    step time never falls as the batch grows; and at context 0 in the first-order model it
    is the weight read alone, ``weight bytes / (gpus x BW)``. Only more bandwidth (more GPUs
    per replica, faster memory, fewer bytes per weight) lowers it, or accepted draft tokens
    (``assume.accepted_tokens``): a step then gives ``assume.tokens_per_step`` tokens, and
    the time per token is the step divided by that.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(latency_floor(m, hw) * 1e3, 1)            # ms: 1.342 TB / 3.35 TB/s
    400.6
    >>> round(latency_floor(m, hw, gpus=8) * 1e3, 1)    # ms, on an 8-GPU replica
    50.1
    """
    step = step_time(
        model, hw, 1.0, context, precision, gpus, kv_precision=kv_precision, assume=assume
    )
    return v.scalar_or_array(np.asarray(step) / assume.tokens_per_step)


def max_throughput(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Most tokens per second that one replica can generate, as the batch grows without bound.

    Throughput is ``batch / step_time = gpus / cost_per_token``, so its ceiling is ``gpus /
    cost_floor``. When the compute line lies above the KV line this is ``gpus x C / FLOPs per
    token``, reached at the sweet spot and held beyond it. When the KV line lies on or above the
    compute line it is ``gpus x BW / KV bytes per sequence``, approached as the batch grows but
    never reached.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(max_throughput(m, hw))           # tokens/s: 989.4e12 / (2 x 37e9)
    13370
    >>> round(max_throughput(m, hw, gpus=8))
    106962
    """
    n_gpus = v.gpu_count(gpus)
    floor = cost_floor(model, hw, context, precision, kv_precision=kv_precision, assume=assume)
    return v.scalar_or_array(n_gpus / np.asarray(floor))


def _demand_and_ceiling(
    model: Model,
    hw: Hardware,
    tokens_per_s: v.ArrayLike,
    context: v.ArrayLike,
    precision: str,
    gpus: int,
    kw: dict,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``gpus`` checked, then the demand [tokens/s], one replica's :func:`max_throughput`
    [tokens/s] and whether a finite batch reaches it, all three broadcast together."""
    n_gpus = v.gpu_count(gpus)
    demand = v.positive("tokens_per_s", tokens_per_s)
    ceiling = np.asarray(max_throughput(model, hw, context, precision, n_gpus, **kw))
    reachable = np.isfinite(np.asarray(sweet_spot(model, hw, context, precision, **kw)))
    demand, ceiling = v.broadcast(tokens_per_s=demand, context=ceiling)
    return n_gpus, demand, ceiling, np.broadcast_to(reachable, demand.shape)


def batch_for_demand(
    model: Model,
    hw: Hardware,
    tokens_per_s: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Steady-state batch of one replica that serves ``tokens_per_s`` output tokens per second.

    Each step produces one token for each of the ``B`` sequences in ``T(B)`` seconds, so a
    replica keeps up with a demand ``D`` when ``B / T(B) = D``, that is ``B = D x T(B)``
    (Little's law: sequences in service = arrival rate x time in service); with accepted
    draft tokens a step gives ``assume.tokens_per_step`` tokens per sequence, and
    ``B x tokens per step / T(B) = D``. In the
    first-order model the solution lies on the memory branch,
    ``T(B) = (t_w + B t_kv) / gpus`` with ``t_w`` and ``t_kv`` the weight and KV terms of
    :func:`tokenmath.roofline.cost_terms`, and in closed form::

        B = D x t_w / (gpus - D x t_kv)

    With expected expert reads the weight read grows with ``B`` and the memory branch is
    solved by bisection. The result is an average batch and need not be a whole number. A demand
    equal to :func:`max_throughput` (to a relative 1e-12) is met at the sweet spot.

    Raises ``ValueError`` when ``tokens_per_s`` is above :func:`max_throughput`, or at it
    when no finite batch reaches it: one replica cannot keep up (use
    :func:`replicas_needed`).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(batch_for_demand(m, hw, 1_000), 1)       # 1,000 tokens/s on one H100
    400.6
    >>> round(batch_for_demand(m, hw, 13_000))         # close to the maximum, 13,370
    5208
    >>> round(batch_for_demand(m, hw, max_throughput(m, hw)))  # the sweet spot
    5356
    """
    kw = {"kv_precision": kv_precision, "assume": assume}
    n_gpus, demand, ceiling, reachable = _demand_and_ceiling(
        model, hw, tokens_per_s, context, precision, gpus, kw
    )
    too_much = np.where(reachable, demand > ceiling * (1.0 + _REL_TOL), demand >= ceiling)
    if too_much.any():
        i = v.first_index(too_much)
        bound = "at most" if reachable[i] else "below"
        raise ValueError(
            f"tokens_per_s must be {bound} {float(ceiling[i]):,.6g} tokens/s, the most one "
            f"replica of {n_gpus} x {hw.name} can generate for {model.name} at this context "
            f"and precision; got {float(demand[i]):,.6g}"
            + (f" at index {i[0] if len(i) == 1 else i}" if i else "")
            + " (split the demand: see replicas_needed)"
        )
    demand = np.where(reachable, np.minimum(demand, ceiling), demand)
    br = _branches(model, hw, context, precision, kv_precision, assume)
    spare = n_gpus - demand * br.kv  # > 0 below the ceiling
    memory = demand * br.weights / spare
    if br.expected:

        def short_of_demand(batch):
            """``D x T_memory(B) - B``: positive until the batch is large enough."""
            weight_s = br.weight_read(model, hw, precision, assume, batch)
            return demand * weight_s - batch * spare

        memory = _bisect_root(short_of_demand, memory)
    return v.scalar_or_array(memory)


def replicas_needed(
    model: Model,
    hw: Hardware,
    tokens_per_s: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> int | np.ndarray:
    """Fewest replicas that serve ``tokens_per_s`` with none run beyond its sweet spot.

    A replica at its sweet spot produces :func:`max_throughput` tokens per second, so the answer
    is ``ceil(tokens_per_s / max_throughput)``; with that many replicas each runs at or below
    its sweet spot, where latency is still at its floor. When the KV line lies on or above the
    compute line no finite batch reaches the maximum, so each replica must carry strictly less:
    ``floor(D / max_throughput) + 1``. Each replica holds ``gpus`` accelerators; multiply to
    count GPUs.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> replicas_needed(m, hw, 1_000_000, gpus=8)      # 10^6 tokens/s, 8-GPU replicas
    10
    """
    kw = {"kv_precision": kv_precision, "assume": assume}
    _, demand, ceiling, reachable = _demand_and_ceiling(
        model, hw, tokens_per_s, context, precision, gpus, kw
    )
    ratio = demand / ceiling
    at_sweet_spot = np.ceil(ratio * (1.0 - _REL_TOL))
    below_asymptote = np.floor(ratio * (1.0 + _REL_TOL)) + 1.0
    n = np.maximum(np.where(reachable, at_sweet_spot, below_asymptote), 1.0)
    if np.any(n > _MAX_REPLICAS):
        raise ValueError(
            f"tokens_per_s must need at most {_MAX_REPLICAS:.0e} replicas; got {np.max(demand):g} "
            f"tokens/s, {np.max(n):.3g} replicas' worth"
        )
    n = n.astype(np.int64)
    return int(n) if n.ndim == 0 else n


def premium_over_floor(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """How many times the cost floor a token costs at ``batch``: ``cost(batch) / floor``.

    At least 1; exactly 1 at and beyond the sweet spot. At batch 1
    it is :func:`tokenmath.roofline.batch1_penalty`.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(premium_over_floor(m, hw, 500), 2)     # a small provider's batch
    10.71
    >>> premium_over_floor(m, hw, 10_000)
    1.0
    """
    kw = {"kv_precision": kv_precision, "assume": assume}
    cost = np.asarray(cost_per_token(model, hw, batch, context, precision, **kw))
    floor = np.asarray(cost_floor(model, hw, context, precision, **kw))
    return v.scalar_or_array(cost / floor)


def fast_tier(
    model: Model,
    hw: Hardware,
    base_batch: v.ArrayLike,
    fast_batch: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> FastTier:
    """Speed gained and price paid when the operator runs ``fast_batch`` instead of ``base_batch``.

    ``speedup = step_time(base_batch) / step_time(fast_batch)``: each user's tokens arrive
    that many times faster. ``price_multiple = cost_per_token(fast_batch) /
    cost_per_token(base_batch)``: each token costs that many times more. Shrinking the batch
    below the sweet spot buys no speed in the first-order model at context 0 (the step time
    is already at its floor there) while the price keeps climbing: the speedup is bounded
    by ``step_time(base) / latency_floor``, the price multiple is not.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> tier = fast_tier(m, hw, base_batch=16_000, fast_batch=8_000)  # both past the sweet spot
    >>> round(tier.speedup, 2), round(tier.price_multiple, 2)
    (2.0, 1.0)
    >>> tier = fast_tier(m, hw, base_batch=5_000, fast_batch=500)
    >>> round(tier.speedup, 2), round(tier.price_multiple, 2)
    (1.0, 10.0)
    """
    base = v.positive("base_batch", base_batch)
    fast = v.positive("fast_batch", fast_batch)
    kw = {"kv_precision": kv_precision, "assume": assume}
    t_base = np.asarray(step_time(model, hw, base, context, precision, **kw))
    t_fast = np.asarray(step_time(model, hw, fast, context, precision, **kw))
    c_base = np.asarray(cost_per_token(model, hw, base, context, precision, **kw))
    c_fast = np.asarray(cost_per_token(model, hw, fast, context, precision, **kw))
    return FastTier(v.scalar_or_array(t_base / t_fast), v.scalar_or_array(c_fast / c_base))


def batch_for_cost(
    model: Model,
    hw: Hardware,
    gpu_seconds_per_token: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Smallest batch whose cost per token is ``gpu_seconds_per_token`` [GPU-seconds].

    The inverse of the memory branch ``cost = weights / B + kv``: ``B = weights / (cost - kv)``
    (``weights`` and ``kv`` from :func:`tokenmath.roofline.cost_terms` at batch 1); with
    expected expert reads, by bisection. A target at the floor gives the sweet spot; a result
    below 1 means even one sequence costs less. A target below
    :func:`tokenmath.roofline.cost_floor` is reached by no batch: ValueError.

    >>> from tokenmath import model, hardware, cost_per_token
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(batch_for_cost(m, hw, cost_per_token(m, hw, 500, 0)))
    500
    """
    target = v.positive("gpu_seconds_per_token", gpu_seconds_per_token)
    floor = np.asarray(
        cost_floor(model, hw, context, precision, kv_precision=kv_precision, assume=assume)
    )
    target, floor = v.broadcast(gpu_seconds_per_token=target, context=floor)
    below = target < floor * (1 - _REL_TOL)
    if below.any():
        i = v.first_index(below)
        raise ValueError(
            f"gpu_seconds_per_token must be >= the cost floor ({float(floor[i]):.6g} "
            f"GPU-seconds per token); got {float(target[i]):.6g}"
        )
    br = _branches(model, hw, context, precision, kv_precision, assume)
    tiny = np.finfo(float).tiny
    memory_gap = np.maximum(target - br.kv, tiny)
    memory = br.weights / memory_gap
    if br.expected:

        def above_target(batch):
            """GPU-seconds by which the memory branch at ``batch`` exceeds the target."""
            weight_s = br.weight_read(model, hw, precision, assume, batch)
            return weight_s - batch * memory_gap

        memory = _bisect_root(above_target, memory)
    return v.scalar_or_array(memory)


def batch_for_step_time(
    model: Model,
    hw: Hardware,
    step_time_s: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Largest batch whose decode step takes at most ``step_time_s`` seconds.

    A latency target per token, turned into a batch: both branches of the step time rise
    with the batch, so the answer is the smaller of the two batches at which each branch
    reaches the target (``math.inf`` for the memory branch when there is no cache to grow).
    A target at or below the weight read alone (``weights / (gpus x BW)``; with expected
    expert reads, the shared weights') is met by no batch: ValueError.

    >>> from tokenmath import model, hardware, step_time
    >>> m, hw = model("llama-3.1-70b"), hardware("h100-sxm")
    >>> round(batch_for_step_time(m, hw, step_time(m, hw, 40, 4096, gpus=4), 4096, gpus=4))
    40
    """
    target = v.positive("step_time_s", step_time_s)
    n_gpus = v.gpu_count(gpus)
    br = _branches(model, hw, context, precision, kv_precision, assume)
    least_weights = (
        br.weight_read(model, hw, precision, assume, np.finfo(float).tiny)
        if br.expected
        else br.weights
    )
    per_step = assume.tokens_per_step / n_gpus  # per-token GPU-seconds -> seconds of a step
    budget, weights_s, kv_s, compute_s, least_s = np.broadcast_arrays(
        target,
        br.weights * per_step,
        br.kv * per_step,
        br.compute * per_step,
        np.asarray(least_weights) * per_step,
    )
    # with a cache the weight read alone leaves room for no sequence; without one the step
    # time is flat at the weight read up to the sweet spot
    too_short = np.where(kv_s > 0, budget <= least_s, budget < least_s * (1 - _REL_TOL))
    if too_short.any():
        i = v.first_index(too_short)
        raise ValueError(
            f"step_time_s must be > the weight read alone ({float(least_s[i]):.6g}"
            f" s on {n_gpus} GPU(s)); got {float(target[i] if target.ndim else target):.6g}"
        )
    with np.errstate(divide="ignore", over="ignore"):  # a vanishing cache: no memory limit
        memory = np.where(kv_s > 0, (budget - weights_s) / np.where(kv_s > 0, kv_s, 1.0), np.inf)
    if br.expected:
        memory = _expected_memory_batch(model, hw, precision, assume, br, budget, kv_s, n_gpus)
    compute = budget / compute_s
    return v.scalar_or_array(np.maximum(np.minimum(memory, compute), 0.0))


def _expected_memory_batch(model, hw, precision, assume, br, budget, kv_s, n_gpus):
    """Batch at which the memory branch, with expected expert reads, uses up ``budget`` [s].

    Without a cache the read alone must fill the budget: solve ``1 - (1 - k/E)^B`` for the
    share of routed weights that takes (``inf`` if even all of them fit). With a cache the
    read is >= 0, so ``budget / kv`` brackets the answer for a bisection.
    """
    bw = hw.hbm_bytes_per_s * assume.mem_efficiency
    per_step = assume.tokens_per_step / n_gpus  # per-token GPU-seconds -> seconds of a step
    shared_s = model.weight_bytes(precision, 0.0) / bw / n_gpus
    routed_s = np.asarray(br.weights) * per_step - shared_s
    share = (budget - shared_s) / routed_s
    miss = 1.0 - model.experts_per_token / model.routed_experts
    with np.errstate(divide="ignore", invalid="ignore"):
        routed_tokens = np.log1p(-np.minimum(share, 1.0)) / np.log(miss)
        no_cache = np.where(share >= 1.0, np.inf, routed_tokens / assume.verified_tokens)
    if not np.any(kv_s > 0):
        return no_cache
    safe_kv = np.where(kv_s > 0, kv_s, 1.0)

    def over_budget(batch):
        """Seconds by which the memory branch at ``batch`` falls short of ``budget``."""
        read = br.weight_read(model, hw, precision, assume, batch) * per_step
        return budget - (read + batch * safe_kv)

    # Reading every weight is slowest, reading none but the shared ones or ignoring the cache
    # fastest: the all-weights batch brackets the answer from below, the other two from above.
    with np.errstate(over="ignore"):  # a vanishing cache leaves only the no-cache bound
        low = np.maximum((budget - routed_s - shared_s) / safe_kv, 0.0)
        high = np.minimum((budget - shared_s) / safe_kv, no_cache)
    bounded = (kv_s > 0) & np.isfinite(high)
    root = _bisect_root(over_budget, np.where(bounded, high, 1.0), np.where(bounded, low, 0.0))
    return np.where(bounded, root, np.where(kv_s > 0, np.inf, no_cache))


def slowdown_at_sweet_spot(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """How many times longer a step takes at the sweet spot than at batch 1: ``T(B*) / T(1)``.

    The latency a user gives up when the operator runs at the cost floor, and so the speedup
    ceiling of a fast tier whose base runs at the sweet spot. It does not depend on the
    replica's size. In the first-order model at context 0 it is exactly 1 (the step time is
    flat up to the sweet spot); at context ``L`` the step at the sweet spot is
    ``1 / (1 - L / critical_context)`` times the weight read, a little more than ``T(1)``.
    With expected expert reads ``T(1)`` reads only one token's experts, so the ratio is large
    even at context 0. ``math.inf`` where there is no sweet spot. Derived in the chapter on
    what the first-order model leaves out.

    >>> from tokenmath import model, hardware, REFINED
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> slowdown_at_sweet_spot(m, hw)
    1.0
    >>> round(slowdown_at_sweet_spot(m, hw, 2_000), 2)
    2.28
    >>> round(slowdown_at_sweet_spot(m, hw, assume=REFINED), 1)
    17.9
    """
    kw = {"kv_precision": kv_precision, "assume": assume}
    spot = np.asarray(sweet_spot(model, hw, context, precision, **kw))
    ctx = np.asarray(v.non_negative("context", context))
    spot, ctx = np.broadcast_arrays(spot, ctx)
    finite = np.isfinite(spot)
    at_spot = np.asarray(step_time(model, hw, np.where(finite, spot, 1.0), ctx, precision, **kw))
    at_one = np.asarray(latency_floor(model, hw, ctx, precision, **kw))
    return v.scalar_or_array(np.where(finite, at_spot / at_one, math.inf))


# --- A static batch, end to end ------------------------------------------------------------


class StaticBatchPhases(NamedTuple):
    """Seconds of the two phases of a static batch: one prefill pass, then the decode steps."""

    prefill: float | np.ndarray
    decode: float | np.ndarray


def static_batch_phases(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    input_tokens: v.ArrayLike,
    output_tokens: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    first_token_from_prefill: bool = True,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> StaticBatchPhases:
    """Prefill and decode seconds of one static batch (see :func:`static_batch_time`)."""
    kw = {"kv_precision": kv_precision, "assume": assume}
    contexts, steps = decode_contexts(
        input_tokens, output_tokens, first_token_from_prefill=first_token_from_prefill
    )
    sequences = v.positive("batch", batch)
    prefill_s = np.asarray(prefill_time(model, hw, input_tokens, sequences, precision, gpus, **kw))
    if contexts.shape[-1] == 0:  # one output token each, all from the prefill pass
        decode_s = np.zeros(np.broadcast_shapes(sequences.shape, contexts.shape[:-1]))
    else:
        per_step = np.asarray(
            step_time(model, hw, sequences[..., None], contexts, precision, gpus, **kw)
        )
        # with accepted drafts each step writes tokens_per_step tokens: fewer steps, each
        # at the contexts the tokens it writes would have read (summed per token, divided)
        decode_s = np.sum(per_step * steps, axis=-1) / assume.tokens_per_step
    prefill_s, decode_s = np.broadcast_arrays(prefill_s, decode_s)
    return StaticBatchPhases(v.scalar_or_array(prefill_s), v.scalar_or_array(decode_s))


def static_batch_time(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    input_tokens: v.ArrayLike,
    output_tokens: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    first_token_from_prefill: bool = True,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Seconds to serve one static batch end to end: prefill every prompt, then decode.

    ``batch`` requests of ``input_tokens`` prompt tokens each are prefilled in one pass
    (:func:`tokenmath.prefill.prefill_time`), then decoded together until each has
    ``output_tokens`` tokens (whole numbers >= 1). With ``first_token_from_prefill`` (the
    default, as in vLLM) the prefill pass's last logits give output token 1, so
    ``output_tokens - 1`` decode steps follow, at contexts ``input_tokens``,
    ``input_tokens + 1``, ..., ``input_tokens + output_tokens - 2`` (the cache each step
    reads before adding its token; :func:`tokenmath.prefill.decode_contexts`). With
    ``False``, ``output_tokens`` decode steps from context ``input_tokens``. Each step is
    :func:`tokenmath.roofline.step_time` of the whole batch; the steps are summed in one
    vectorised call. With accepted draft tokens (``assume.accepted_tokens``) each step
    writes ``assume.tokens_per_step`` tokens per sequence, so the sum over tokens is divided
    by that. ``batch``, ``input_tokens`` and ``output_tokens`` broadcast.

    This is how batch sweeps such as vLLM's benchmark are timed (throughput = ``batch x
    output_tokens / static_batch_time``). A server may split a large prefill into several
    passes (each re-reading the weights) and queues batches that do not fit in memory; the
    roofline does neither (compare :func:`tokenmath.roofline.max_batch`).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("llama-3.1-70b"), hardware("h100-sxm")
    >>> t = static_batch_time(m, hw, 64, 2035, 300, gpus=4)
    >>> round(t, 2), round(64 * 300 / t)          # seconds; output tokens per second
    (8.81, 2178)
    """
    phases = static_batch_phases(
        model,
        hw,
        batch,
        input_tokens,
        output_tokens,
        precision,
        gpus,
        first_token_from_prefill=first_token_from_prefill,
        kv_precision=kv_precision,
        assume=assume,
    )
    return v.scalar_or_array(np.asarray(phases.prefill) + np.asarray(phases.decode))


# --- Time to first token -------------------------------------------------------------------


def time_to_first_token(
    model: Model,
    hw: Hardware,
    prompt_tokens: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    cached_tokens: v.ArrayLike = 0,
    chunk_tokens: float | None = None,
    decode_batch: v.ArrayLike = 0,
    decode_context: v.ArrayLike = 0,
    queue_s: v.ArrayLike = 0.0,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Seconds from a request's arrival to its first output token.

    ``queue_s`` (the queueing, not modelled here: what the caller assumes) plus the steps
    that prefill the prompt's ``prompt_tokens - cached_tokens`` new tokens. The last of
    those steps gives the first token (its last position's logits). Each step is a
    :func:`tokenmath.prefill.mixed_step_time`: a chunk of the prompt, past what is cached
    or already computed, sharing the step with a decode batch of ``decode_batch`` sequences
    at ``decode_context`` (0: an idle server). ``chunk_tokens=None`` prefills the whole
    prompt in one step; a number splits it into chunks of at most that many tokens
    (chunked prefill), each step re-reading the weights and the decode batch's caches.

    Queueing is left to the caller because it depends on the load: a request that arrives
    at a random moment while steps of ``T`` seconds run waits ``T/2`` on average for the
    step in flight, and one behind other prompts waits for their prefills.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("llama-3.1-70b"), hardware("h100-sxm")
    >>> round(time_to_first_token(m, hw, 2000, gpus=4) * 1e3)    # ms, idle server
    71
    >>> round(time_to_first_token(m, hw, 2000, gpus=4, chunk_tokens=512, decode_batch=64,
    ...                           decode_context=2000) * 1e3)    # ms, chunks beside decoding
    80
    """
    kw = {"kv_precision": kv_precision, "assume": assume}
    n_gpus = v.gpu_count(gpus)
    prompt, cached = _prompt_and_cached(prompt_tokens, cached_tokens)
    wait = v.non_negative("queue_s", queue_s)
    new = prompt - cached
    if chunk_tokens is None:
        chunk = new  # the whole prompt in one step
    else:
        chunk = np.full_like(new, v.positive_scalar("chunk_tokens", chunk_tokens))
    steps = np.ceil(new / chunk)
    longest = int(steps.max()) if steps.size else 0
    if longest > _MAX_CHUNK_STEPS:
        raise ValueError(
            f"chunk_tokens must split the prompt into at most {_MAX_CHUNK_STEPS:,} steps; got "
            f"{longest:,} steps of {float(chunk.flat[0]):g} tokens"
        )
    k = np.arange(longest, dtype=float)
    done = cached[..., None] + k * chunk[..., None]  # tokens in the cache before step k
    runs = k < steps[..., None]
    size = np.where(runs, np.minimum(prompt[..., None] - done, chunk[..., None]), 1.0)
    times = np.asarray(
        mixed_step_time(
            model,
            hw,
            size,
            np.asarray(decode_batch)[..., None] if np.ndim(decode_batch) else decode_batch,
            np.asarray(decode_context)[..., None] if np.ndim(decode_context) else decode_context,
            precision,
            n_gpus,
            chunk_cached_tokens=np.where(runs, done, 0.0),
            **kw,
        )
    )
    return v.scalar_or_array(wait + np.sum(times * runs, axis=-1))
