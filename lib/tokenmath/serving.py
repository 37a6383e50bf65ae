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
  at the batch ``B = D x T(B)`` (:func:`batch_for_demand`).

Like the roofline, these functions ignore whether the batch fits in memory; compare with
:func:`tokenmath.roofline.max_batch`. ``batch``, ``context`` and ``tokens_per_s`` broadcast
as numpy arrays; a 0-d result comes back as a plain ``float``. The arguments mean what they
mean in :mod:`tokenmath.roofline`; ``tokens_per_s`` is a demand in output tokens per second.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _validate as v
from .roofline import cost_floor, cost_per_token, cost_terms, step_time, sweet_spot
from .specs import Hardware, Model

__all__ = [
    "FastTier",
    "batch_for_cost",
    "batch_for_demand",
    "batch_for_step_time",
    "fast_tier",
    "latency_floor",
    "max_throughput",
    "premium_over_floor",
    "replicas_needed",
]

# Relative slack when dividing demand by a replica's capacity, so that a demand of exactly
# n replicas' worth is not rounded up to n + 1 by floating-point error.
_REL_TOL = 1e-12
# Replica counts are returned as 64-bit integers; beyond this the count would not be exact.
_MAX_REPLICAS = 1e15


class FastTier(NamedTuple):
    """What a fast tier buys and what it costs, relative to the base batch.

    ``speedup``: how many times faster each user receives tokens (ratio of step times).
    ``price_multiple``: how many times more each token costs in GPU-seconds.
    """

    speedup: float | np.ndarray
    price_multiple: float | np.ndarray


def latency_floor(
    model: Model, hw: Hardware, context: v.ArrayLike = 0, precision: str = "bf16", gpus: int = 1
) -> float | np.ndarray:
    """Shortest time between two tokens that a user can see, in seconds.

    This is the step time of a batch of one sequence: the replica reads every weight and
    that one sequence's KV cache (or computes, if that takes longer). No batch is faster,
    because step time never falls as the batch grows; and at context 0 it is the weight
    read alone, ``weight bytes / (gpus x BW)``. Only more bandwidth (more GPUs per replica,
    faster memory, fewer bytes per weight) lowers it.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(latency_floor(m, hw) * 1e3, 1)            # ms: 1.342 TB / 3.35 TB/s
    400.6
    >>> round(latency_floor(m, hw, gpus=8) * 1e3, 1)    # ms, on an 8-GPU replica
    50.1
    """
    return step_time(model, hw, 1.0, context, precision, gpus)


def max_throughput(
    model: Model, hw: Hardware, context: v.ArrayLike = 0, precision: str = "bf16", gpus: int = 1
) -> float | np.ndarray:
    """Most tokens per second that one replica can generate, as the batch grows without bound.

    Throughput is ``batch / step_time = gpus / cost_per_token``, so its ceiling is
    ``gpus / cost_floor``. When the compute line lies above the KV line this is
    ``gpus x C / FLOPs per token``, reached at the sweet spot and held beyond it. When the
    KV line lies on or above the compute line it is ``gpus x BW / KV bytes per sequence``,
    approached as the batch grows but never reached.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(max_throughput(m, hw))           # tokens/s: 989.4e12 / (2 x 37e9)
    13370
    >>> round(max_throughput(m, hw, gpus=8))
    106962
    """
    n_gpus = v.positive_int("gpus", gpus)
    return v.scalar_or_array(n_gpus / np.asarray(cost_floor(model, hw, context, precision)))


def _demand_and_ceiling(
    model: Model,
    hw: Hardware,
    tokens_per_s: v.ArrayLike,
    context: v.ArrayLike,
    precision: str,
    gpus: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``gpus`` checked, then the demand [tokens/s], one replica's :func:`max_throughput`
    [tokens/s] and whether a sweet spot reaches it, all three broadcast together."""
    n_gpus = v.positive_int("gpus", gpus)
    demand = v.positive("tokens_per_s", tokens_per_s)
    ceiling = np.asarray(max_throughput(model, hw, context, precision, n_gpus))
    reachable = np.isfinite(np.asarray(sweet_spot(model, hw, context, precision)))
    demand, ceiling = v.broadcast(tokens_per_s=demand, context=ceiling)
    return n_gpus, demand, ceiling, np.broadcast_to(reachable, demand.shape)


def batch_for_demand(
    model: Model,
    hw: Hardware,
    tokens_per_s: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
) -> float | np.ndarray:
    """Steady-state batch of one replica that serves ``tokens_per_s`` output tokens per second.

    Each step produces one token for each of the ``B`` sequences in ``T(B)`` seconds, so a
    replica keeps up with a demand ``D`` when ``B / T(B) = D``, that is ``B = D x T(B)``
    (Little's law: sequences in service = arrival rate x time in service). Below the
    replica's maximum throughput the solution lies on the memory branch,
    ``T(B) = (t_w + B t_kv) / gpus`` with ``t_w`` and ``t_kv`` the weight and KV terms of
    :func:`tokenmath.roofline.cost_terms`, and in closed form::

        B = D x t_w / (gpus - D x t_kv)

    The result is an average batch and need not be a whole number. A demand equal to
    :func:`max_throughput` (to a relative 1e-12) is met at the sweet spot, the smallest batch
    that reaches it.

    Raises ``ValueError`` when ``tokens_per_s`` is above :func:`max_throughput`, or at it
    when there is no sweet spot (the ceiling is then approached but never reached): one
    replica cannot keep up (use :func:`replicas_needed`).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(batch_for_demand(m, hw, 1_000), 1)       # 1,000 tokens/s on one H100
    400.6
    >>> round(batch_for_demand(m, hw, 13_000))         # close to the maximum, 13,370
    5208
    >>> round(batch_for_demand(m, hw, max_throughput(m, hw)))  # the sweet spot
    5356
    """
    n_gpus, demand, ceiling, reachable = _demand_and_ceiling(
        model, hw, tokens_per_s, context, precision, gpus
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
    t = cost_terms(model, hw, 1.0, context, precision)
    t_weights, t_kv = np.asarray(t.weights), np.asarray(t.kv)
    return v.scalar_or_array(demand * t_weights / (n_gpus - demand * t_kv))


def replicas_needed(
    model: Model,
    hw: Hardware,
    tokens_per_s: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
) -> int | np.ndarray:
    """Fewest replicas that serve ``tokens_per_s`` with none run beyond its sweet spot.

    A replica at its sweet spot produces :func:`max_throughput` tokens per second, so the
    answer is ``ceil(tokens_per_s / max_throughput)``; with that many replicas each runs at
    or below its sweet spot, where latency is still at its floor. When the KV line lies on
    or above the compute line there is no sweet spot and no finite batch reaches the
    maximum, so each replica must carry strictly less: ``floor(D / max_throughput) + 1``.
    Each replica holds ``gpus`` accelerators; multiply to count GPUs.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> replicas_needed(m, hw, 1_000_000, gpus=8)      # 10^6 tokens/s, 8-GPU replicas
    10
    """
    _, demand, ceiling, reachable = _demand_and_ceiling(
        model, hw, tokens_per_s, context, precision, gpus
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
) -> float | np.ndarray:
    """How many times the cost floor a token costs at ``batch``: ``cost(batch) / floor``.

    At least 1; exactly 1 at and beyond the sweet spot. At batch 1 it is
    :func:`tokenmath.roofline.batch1_penalty`.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(premium_over_floor(m, hw, 500), 2)     # a small provider's batch
    10.71
    >>> premium_over_floor(m, hw, 10_000)
    1.0
    """
    cost = np.asarray(cost_per_token(model, hw, batch, context, precision))
    floor = np.asarray(cost_floor(model, hw, context, precision))
    return v.scalar_or_array(cost / floor)


def fast_tier(
    model: Model,
    hw: Hardware,
    base_batch: v.ArrayLike,
    fast_batch: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
) -> FastTier:
    """Speed gained and price paid when the operator runs ``fast_batch`` instead of ``base_batch``.

    ``speedup = step_time(base_batch) / step_time(fast_batch)``: each user's tokens arrive
    that many times faster. ``price_multiple = cost_per_token(fast_batch) /
    cost_per_token(base_batch)``: each token costs that many times more. Shrinking the batch
    below the sweet spot buys no speed (the step time is already at its floor there) while
    the price keeps climbing: the speedup is bounded by ``step_time(base) /
    latency_floor``, the price multiple is not.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> tier = fast_tier(m, hw, base_batch=16_000, fast_batch=8_000)  # both past the sweet spot
    >>> round(tier.speedup, 2), round(tier.price_multiple, 2)
    (2.0, 1.0)
    >>> tier = fast_tier(m, hw, base_batch=5_000, fast_batch=500)
    >>> round(tier.speedup, 2), round(tier.price_multiple, 2)
    (1.0, 10.0)
    """
    t_base = np.asarray(step_time(model, hw, base_batch, context, precision))
    t_fast = np.asarray(step_time(model, hw, fast_batch, context, precision))
    c_base = np.asarray(cost_per_token(model, hw, base_batch, context, precision))
    c_fast = np.asarray(cost_per_token(model, hw, fast_batch, context, precision))
    return FastTier(v.scalar_or_array(t_base / t_fast), v.scalar_or_array(c_fast / c_base))


def batch_for_cost(
    model: Model,
    hw: Hardware,
    gpu_seconds_per_token: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
) -> float | np.ndarray:
    """Smallest batch whose cost per token is ``gpu_seconds_per_token`` [GPU-seconds].

    The inverse of the memory branch ``cost = weights / B + kv``: ``B = weights / (cost - kv)``
    (``weights`` and ``kv`` from :func:`tokenmath.roofline.cost_terms` at batch 1). A target
    at the floor gives the sweet spot; a result below 1 means even one sequence costs less.
    A target below :func:`tokenmath.roofline.cost_floor` is reached by no batch: ValueError.

    >>> from tokenmath import model, hardware, cost_per_token
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(batch_for_cost(m, hw, cost_per_token(m, hw, 500, 0)))
    500
    """
    target = v.positive("gpu_seconds_per_token", gpu_seconds_per_token)
    t = cost_terms(model, hw, 1.0, context, precision)
    floor = np.asarray(cost_floor(model, hw, context, precision))
    target, floor = v.broadcast(gpu_seconds_per_token=target, context=floor)
    below = target < floor * (1 - _REL_TOL)
    if below.any():
        i = v.first_index(below)
        raise ValueError(
            f"gpu_seconds_per_token must be >= the cost floor ({float(floor[i]):.6g} "
            f"GPU-seconds per token); got {float(target[i]):.6g}"
        )
    gap = np.maximum(target - np.asarray(t.kv), np.finfo(float).tiny)
    return v.scalar_or_array(np.asarray(t.weights) / gap)


def batch_for_step_time(
    model: Model,
    hw: Hardware,
    step_time_s: v.ArrayLike,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    gpus: int = 1,
) -> float | np.ndarray:
    """Largest batch whose decode step takes at most ``step_time_s`` seconds.

    A latency target per token, turned into a batch: both branches of the step time rise
    with the batch, so the answer is the smaller of the two batches at which each branch
    reaches the target (``math.inf`` for the memory branch when there is no cache). A target
    below the weight read alone (``weights / (gpus x BW)``) is met by no batch: ValueError.

    >>> from tokenmath import model, hardware, step_time
    >>> m, hw = model("llama-3.1-70b"), hardware("h100-sxm")
    >>> round(batch_for_step_time(m, hw, step_time(m, hw, 40, 4096, gpus=4), 4096, gpus=4))
    40
    """
    target = v.positive("step_time_s", step_time_s)
    n_gpus = v.positive_int("gpus", gpus)
    t = cost_terms(model, hw, 1.0, context, precision)  # GPU-seconds per token at batch 1
    target, weights_s, kv_s, compute_s = np.broadcast_arrays(
        target,
        *(np.asarray(x) / n_gpus for x in t),  # seconds per replica at batch 1
    )
    # with a cache, the weight read alone leaves room for no sequence; without one, the step
    # time is flat at the weight read up to the sweet spot
    too_short = np.where(kv_s > 0, target <= weights_s, target < weights_s * (1 - _REL_TOL))
    if too_short.any():
        i = v.first_index(too_short)
        raise ValueError(
            f"step_time_s must be > the weight read alone ({float(weights_s[i]):.6g} s on "
            f"{n_gpus} GPU(s)); got {float(target[i]):.6g}"
        )
    with np.errstate(divide="ignore"):
        memory_branch = np.where(
            kv_s > 0, (target - weights_s) / np.where(kv_s > 0, kv_s, 1.0), np.inf
        )
    compute_branch = target / compute_s
    return v.scalar_or_array(np.minimum(memory_branch, compute_branch))
