"""The decode roofline: step time, cost per token and what follows from them.

For one decode step of ``batch`` sequences, each holding ``context`` tokens, on a replica of
``gpus`` accelerators at ``precision``::

    weight traffic  W  = total_params x bytes per weight                 [bytes]
    KV traffic         = batch x kv_bytes_per_sequence(context)            [bytes]
                         (= batch x context x b without sliding windows)
    compute            = batch x 2 x active_params                         [FLOPs]
    T_memory  = (W + KV traffic) / (gpus x BW)                              [s]
    T_compute = compute / (gpus x C)                                        [s]
    T         = max(T_memory, T_compute)                                    [s]
    cost per output token = gpus x T / batch                       [GPU-seconds]

The KV term sits inside the memory term, as in the seed text. The roofline does not ask
whether the batch fits in memory: :func:`max_batch` answers that separately.
Every function broadcasts ``batch`` and ``context`` as numpy arrays; a 0-d result comes
back as a plain ``float``. Derivations: chapters 2 to 4 of the book.

The arguments mean the same thing in every function:

* ``model``, ``hw``: a :class:`~tokenmath.specs.Model` and a
  :class:`~tokenmath.specs.Hardware` (presets: :func:`tokenmath.presets.model`,
  :func:`tokenmath.presets.hardware`);
* ``batch``: sequences decoded together in one step, > 0 (an average need not be whole);
* ``context``: tokens of context each sequence holds, >= 0;
* ``precision``: ``"bf16"`` or ``"fp8"``, which sets the bytes per weight and the peak FLOP/s;
* ``gpus``: accelerators in one replica, splitting its weights and work, a whole number >= 1.

Bad values raise ``ValueError`` naming the argument, the value and the valid range.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _validate as v
from .specs import (
    Hardware,
    Model,
    check_hardware,
    check_model,
    check_precision,
    kv_bytes_per_sequence,
)

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6

REGION_MEMORY = "memory-bound"
REGION_COMPUTE = "compute-bound"


class CostTerms(NamedTuple):
    """The three parts of the cost of one output token, each in GPU-seconds per token.

    ``weights`` falls as 1/batch (the hyperbola); ``kv`` and ``compute`` do not depend on
    the batch. The cost per token is ``max(weights + kv, compute)``.
    """

    weights: float | np.ndarray
    kv: float | np.ndarray
    compute: float | np.ndarray


def _inputs(model: Model, hw: Hardware, precision: str) -> tuple[str, float, float]:
    check_model(model)
    check_hardware(hw)
    prec = check_precision(precision)
    return prec, hw.flops(prec), hw.hbm_bytes_per_s


def _batch_and_cache(
    model: Model, batch: v.ArrayLike, context: v.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` [sequences] and the KV bytes per sequence at ``context``, broadcast together."""
    return v.broadcast(
        batch=v.positive("batch", batch), context=np.asarray(kv_bytes_per_sequence(model, context))
    )


def step_time_terms(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """``(T_memory, T_compute)`` of one decode step, in seconds.

    >>> from tokenmath import model, hardware
    >>> t_mem, t_comp = step_time_terms(model("llama-3.1-8b"), hardware("h100-sxm"), 1, 0)
    >>> round(t_mem * 1e3, 3), round(t_comp * 1e6, 2)   # ms, microseconds
    (4.794, 16.23)
    """
    prec, flops, bw = _inputs(model, hw, precision)
    n_gpus = v.positive_int("gpus", gpus)
    b, kv_seq = _batch_and_cache(model, batch, context)
    with v.no_overflow("batch", "context"):
        t_memory = (model.weight_bytes(prec) + b * kv_seq) / (n_gpus * bw)
        t_compute = b * model.flops_per_token() / (n_gpus * flops)
    return v.scalar_or_array(t_memory), v.scalar_or_array(t_compute)


def step_time(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
) -> float | np.ndarray:
    """Seconds per decode step: ``max(T_memory, T_compute)``.

    Each sequence in the batch gets one token per step, so this is also the time between
    two tokens that a user sees (the latency view).

    >>> from tokenmath import model, hardware
    >>> round(step_time(model("deepseek-v3"), hardware("h100-sxm"), 1, 0), 3)
    0.401
    """
    t_memory, t_compute = step_time_terms(model, hw, batch, context, precision, gpus)
    return v.scalar_or_array(np.maximum(t_memory, t_compute))


def cost_terms(
    model: Model, hw: Hardware, batch: v.ArrayLike, context: v.ArrayLike, precision: str = "bf16"
) -> CostTerms:
    """Weight, KV and compute parts of the cost per token, each in GPU-seconds per token.

    These do not depend on how many GPUs share a replica: n GPUs finish a step n times
    faster, and n GPUs are paid for.

    >>> from tokenmath import model, hardware
    >>> t = cost_terms(model("deepseek-v3"), hardware("h100-sxm"), 1000, 0)
    >>> round(t.weights * 1e6, 1), t.kv, round(t.compute * 1e6, 1)  # microseconds
    (400.6, 0.0, 74.8)
    """
    weights, kv, compute = _per_token_terms(model, hw, batch, context, precision)
    compute = np.full(np.shape(weights), compute)
    return CostTerms(v.scalar_or_array(weights), v.scalar_or_array(kv), v.scalar_or_array(compute))


def _per_token_terms(
    model: Model, hw: Hardware, batch: v.ArrayLike, context: v.ArrayLike, precision: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weight and KV terms (broadcast arrays) and the compute term (a float), GPU-s/token."""
    prec, flops, bw = _inputs(model, hw, precision)
    b, kv_seq = _batch_and_cache(model, batch, context)
    with v.no_overflow("batch", "context"):
        weights = (model.weight_bytes(prec) / bw) / b
        kv = kv_seq / bw
    return weights, kv, model.flops_per_token() / flops


def cost_per_token(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
) -> float | np.ndarray:
    """GPU-seconds per output token: ``gpus x step_time / batch``.

    Computed as ``max(weights + kv, compute)`` of :func:`cost_terms`, which is the same
    quantity (dividing each term of the step time by ``batch / gpus``); written this way it
    never dips below :func:`cost_floor` by rounding. It does not depend on ``gpus``: n GPUs
    finish a step n times faster and n GPUs are paid for (``gpus`` is only validated).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(cost_per_token(m, hw, 1, 0) / cost_per_token(m, hw, 10_000, 0))
    5356
    """
    v.positive_int("gpus", gpus)
    weights, kv, compute = _per_token_terms(model, hw, batch, context, precision)
    total = weights + kv
    return v.scalar_or_array(np.maximum(total, compute, out=total if total.ndim else None))


def cost_floor(
    model: Model, hw: Hardware, context: v.ArrayLike = 0, precision: str = "bf16"
) -> float | np.ndarray:
    """GPU-seconds per token as the batch grows without bound: ``max(kv, compute)``.

    >>> from tokenmath import model, hardware
    >>> round(cost_floor(model("deepseek-v3"), hardware("h100-sxm")) * 1e6, 2)  # microseconds
    74.79
    """
    t = cost_terms(model, hw, 1.0, context, precision)
    return v.scalar_or_array(np.maximum(t.kv, t.compute))


def sweet_spot(
    model: Model, hw: Hardware, context: v.ArrayLike = 0, precision: str = "bf16"
) -> float | np.ndarray:
    """Batch at which the memory branch of the cost meets the compute floor.

    Solves ``(W + B·kv)/BW = B·F/C`` for ``B``: ``(W/BW) / (F/C - kv/BW)``, with ``F`` the
    FLOPs per token and ``kv`` the KV bytes per sequence. At ``context=0`` and BF16 this is
    ``C/BW x total/active``, the seed's "300 x inverse sparsity". Returns ``math.inf`` where
    the KV line lies on or above the compute line: no batch is compute-bound then.
    The same batch is where step time starts to rise (the latency view).

    >>> from tokenmath import model, hardware
    >>> round(sweet_spot(model("deepseek-v3"), hardware("h100-sxm")))
    5356
    >>> sweet_spot(model("llama-3.1-8b"), hardware("h100-sxm"), context=1_000_000)
    inf
    """
    t = cost_terms(model, hw, 1.0, context, precision)
    gap = np.asarray(t.compute) - np.asarray(t.kv)
    with v.no_overflow("context"):
        b = np.where(gap > 0, np.asarray(t.weights) / np.where(gap > 0, gap, 1.0), math.inf)
    return v.scalar_or_array(b)


def critical_context(model: Model, hw: Hardware, precision: str = "bf16") -> float:
    """Context [tokens] at which the KV line reaches the compute line.

    At this context or beyond, reading one sequence's cache takes at least as long as its
    share of compute, so no batch is compute-bound and :func:`sweet_spot` is ``math.inf``.
    Below it the sweet spot is finite. ``math.inf`` when the cache stops growing (only
    sliding-window or shared layers) before it gets there. Solved exactly: the cache of one
    sequence grows piecewise linearly, with a kink at each sliding window.

    >>> from tokenmath import model, hardware
    >>> round(critical_context(model("deepseek-v3"), hardware("h100-sxm")))
    3566
    """
    _, flops, bw = _inputs(model, hw, precision)
    target = bw * model.flops_per_token() / flops  # cache bytes per sequence at the crossing
    stops = sorted({g.window for g in model.attention if g.window is not None})
    start, held = 0.0, 0.0  # context and cache bytes at the start of the current segment
    for end in [*stops, math.inf]:
        growth = sum(
            g.bytes_per_token for g in model.attention if g.window is None or g.window > start
        )
        if growth > 0 and held + growth * (end - start) >= target:
            return start + (target - held) / growth
        if math.isinf(end):
            return math.inf
        held += growth * (end - start)
        start = end
    return math.inf  # pragma: no cover (the loop always returns)


def region(
    model: Model, hw: Hardware, batch: v.ArrayLike, context: v.ArrayLike, precision: str = "bf16"
) -> str | np.ndarray:
    """``"memory-bound"`` below the sweet spot, ``"compute-bound"`` at or above it.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> region(m, hw, 64, 0), region(m, hw, 10_000, 0)
    ('memory-bound', 'compute-bound')
    """
    t_memory, t_compute = step_time_terms(model, hw, batch, context, precision)
    out = np.where(np.asarray(t_compute) >= np.asarray(t_memory), REGION_COMPUTE, REGION_MEMORY)
    return str(out) if out.ndim == 0 else out


def batch1_penalty(
    model: Model, hw: Hardware, context: v.ArrayLike = 0, precision: str = "bf16"
) -> float | np.ndarray:
    """How many times more a token costs at batch 1 than at the cost floor.

    >>> from tokenmath import model, hardware
    >>> round(batch1_penalty(model("deepseek-v3"), hardware("h100-sxm")))
    5356
    """
    ratio = np.asarray(cost_per_token(model, hw, 1.0, context, precision)) / np.asarray(
        cost_floor(model, hw, context, precision)
    )
    return v.scalar_or_array(ratio)


def max_batch(
    model: Model, hw: Hardware, context: v.ArrayLike, gpus: int = 1, precision: str = "bf16"
) -> float | np.ndarray:
    """Largest batch whose weights and KV caches fit in the replica's HBM.

    ``floor((gpus x HBM - weights) / kv_bytes_per_sequence(context))``; 0 when the weights
    alone do not fit, ``math.inf`` at ``context=0`` (no cache to hold). Activations,
    framework overhead and fragmentation are ignored, so real limits are lower.

    >>> from tokenmath import model, hardware
    >>> max_batch(model("llama-3.1-8b"), hardware("h100-sxm"), context=8192)
    59.0
    >>> max_batch(model("deepseek-v3"), hardware("h100-sxm"), context=8192)
    0.0
    """
    check_hardware(hw)
    prec = check_precision(precision)
    n_gpus = v.positive_int("gpus", gpus)
    kv_seq = np.asarray(kv_bytes_per_sequence(model, context))
    free = n_gpus * hw.hbm_bytes - model.weight_bytes(prec)
    with np.errstate(over="ignore"):  # a vanishing cache fits without limit: inf is right
        fits = np.where(
            kv_seq > 0, np.floor(max(free, 0.0) / np.where(kv_seq > 0, kv_seq, 1.0)), math.inf
        )
    if free <= 0:
        fits = np.zeros_like(kv_seq)
    return v.scalar_or_array(fits)


def min_gpus(model: Model, hw: Hardware, precision: str = "bf16") -> int:
    """Fewest accelerators whose combined HBM holds the weights (no room left for KV).

    >>> from tokenmath import model, hardware
    >>> min_gpus(model("deepseek-v3"), hardware("h100-sxm"))
    17
    """
    check_model(model)
    check_hardware(hw)
    return int(math.ceil(model.weight_bytes(check_precision(precision)) / hw.hbm_bytes))


def usd_per_million_tokens(
    gpu_seconds_per_token: v.ArrayLike, usd_per_gpu_hour: v.ArrayLike
) -> float | np.ndarray:
    """Dollars per million tokens from GPU-seconds per token and a price per GPU-hour.

    >>> usd_per_million_tokens(3.6e-3, 2.0)   # 1 ms of GPU time at $2/h, x 10^6
    2.0
    """
    seconds = v.positive("gpu_seconds_per_token", gpu_seconds_per_token)
    price = v.non_negative("usd_per_gpu_hour", usd_per_gpu_hour)
    with v.no_overflow("gpu_seconds_per_token", "usd_per_gpu_hour"):
        usd = seconds * price / SECONDS_PER_HOUR * TOKENS_PER_MILLION
    return v.scalar_or_array(usd)


def throughput(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
) -> float | np.ndarray:
    """Tokens per second that one replica produces: ``batch / step_time``.

    >>> from tokenmath import model, hardware
    >>> round(throughput(model("deepseek-v3"), hardware("h100-sxm"), 64, 0))  # tokens/s
    160
    """
    t = step_time(model, hw, batch, context, precision, gpus)
    return v.scalar_or_array(v.positive("batch", batch) / np.asarray(t))
