"""The decode roofline: step time, cost per token and what follows from them.

For one decode step of ``batch`` sequences, each holding ``context`` tokens, on a replica of
``gpus`` accelerators, under the first-order assumptions
(:data:`~tokenmath.assumptions.FIRST_ORDER`)::

    weight traffic  W  = total_params x bytes per weight                 [bytes]
    KV traffic         = batch x kv_bytes_per_sequence(context)            [bytes]
                         (= batch x context x b without sliding windows)
    compute            = batch x 2 x active_params                         [FLOPs]
    T_memory  = (W + KV traffic) / (gpus x BW)                              [s]
    T_compute = compute / (gpus x C)                                        [s]
    T         = max(T_memory, T_compute)                                    [s]
    cost per output token = gpus x T / batch                       [GPU-seconds]

The KV term sits inside the memory term, as in the seed essay. ``assume=`` switches on
refinements (:class:`~tokenmath.assumptions.Assumptions`): ``W`` becomes the shared weights plus
the routed experts a batch is expected to touch; compute gains the attention arithmetic over the
cache; ``BW`` and ``C`` are scaled by achieved efficiencies. With speculative decoding (multi-token
prediction) each sequence runs ``1 + d`` tokens through the model per step (``d`` drafts: the
compute and the tokens routed to experts grow by that factor, the weight and cache reads do not)
and gains ``1 + a`` of them (``a`` accepted drafts), so the cost per token and the throughput
count ``batch x (1 + a)`` tokens per step. The roofline does not ask whether
the batch fits in memory: :func:`max_batch` answers that separately. Every function broadcasts
``batch`` and ``context`` as numpy arrays; a 0-d result comes back as a plain ``float``.
Derivations: chapters 2 to 4 of the book, and the chapter on what the first-order model leaves
out.

The arguments mean the same thing in every function:

* ``model``, ``hw``: a :class:`~tokenmath.specs.Model` and a
  :class:`~tokenmath.specs.Hardware` (presets: :func:`tokenmath.presets.model`,
  :func:`tokenmath.presets.hardware`);
* ``batch``: sequences decoded together in one step, > 0 (an average need not be whole);
* ``context``: tokens of context each sequence holds, >= 0;
* ``precision``: the weights' format, ``"bf16"``, ``"fp8"``, ``"fp4"``, ``"mxfp4"`` or
  ``"native"`` (the released checkpoint's), which sets the bytes per weight and the peak
  FLOP/s (:func:`~tokenmath.specs.compute_precision`);
* ``gpus``: accelerators in one replica, splitting its weights and work, a whole number
  from 1 to 10^6;
* ``kv_precision`` (keyword): the KV cache's format, ``"bf16"`` or ``"fp8"``;
* ``assume`` (keyword): an :class:`~tokenmath.assumptions.Assumptions`, default
  :data:`~tokenmath.assumptions.FIRST_ORDER`.

Bad values raise ``ValueError`` naming the argument, the value and the valid range.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _validate as v
from .assumptions import FIRST_ORDER, Assumptions, check_assumptions
from .specs import (
    Hardware,
    Model,
    attention_flops_per_token,
    check_hardware,
    check_kv_precision,
    check_model,
    check_precision,
    compute_precision,
    kv_bytes_per_sequence,
    routed_share_read,
)

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6

REGION_MEMORY = "memory-bound"
REGION_COMPUTE = "compute-bound"

#: Bisection steps for the batches that have no closed form (expected expert reads):
#: each halves the bracket, so 80 steps resolve any float64 batch.
_BISECTION_STEPS = 80


class CostTerms(NamedTuple):
    """The three parts of the cost of one output token, each in GPU-seconds per token.

    ``weights`` falls as 1/batch (the hyperbola; with expected expert reads a little
    slower); ``kv`` and ``compute`` do not depend on the batch. The cost per token is
    ``max(weights + kv, compute)``.
    """

    weights: float | np.ndarray
    kv: float | np.ndarray
    compute: float | np.ndarray


class _Step(NamedTuple):
    """One decode step's traffic and work, before they are turned into time."""

    batch: np.ndarray  # sequences, broadcast with the context
    weight_bytes: float | np.ndarray  # read once per step (an array if it depends on batch)
    kv_bytes: np.ndarray  # per sequence, broadcast with the batch
    flops: float | np.ndarray  # per sequence (an array if attention arithmetic is on)
    bw: float  # achieved HBM bytes/s per GPU
    peak: float  # achieved FLOP/s per GPU


def _rates(model: Model, hw: Hardware, precision: str, assume: Assumptions):
    """Checked inputs, the compute mode's achieved FLOP/s and the achieved bytes/s."""
    check_model(model)
    check_hardware(hw)
    check_assumptions(assume)
    mode = compute_precision(model, hw, precision)
    peak = hw.flops_per_s[mode] * assume.compute_efficiency
    return peak, hw.hbm_bytes_per_s * assume.mem_efficiency


def _flops_per_sequence(model: Model, context: np.ndarray, assume: Assumptions):
    """FLOPs per sequence per step: 2 x active, plus attention arithmetic if assumed, for each
    of the ``assume.verified_tokens`` tokens the sequence runs through the model."""
    if not assume.attention_flops:
        return assume.verified_tokens * model.flops_per_token()
    per_token = model.flops_per_token() + np.asarray(attention_flops_per_token(model, context))
    return assume.verified_tokens * per_token


def _weight_bytes(model: Model, precision: str, batch: np.ndarray, assume: Assumptions):
    """Weight bytes one step reads: all, or the shared part plus the expected experts."""
    if assume.expert_reads == "all" or model.routed_params == 0:
        return model.weight_bytes(precision)
    return model.weight_bytes(precision, np.asarray(routed_share_read(model, batch)))


def _step(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str,
    kv_precision: str,
    assume: Assumptions,
) -> _Step:
    peak, bw = _rates(model, hw, precision, assume)
    b_raw = v.positive("batch", batch)
    ctx = v.non_negative("context", context)
    kv_seq = np.asarray(kv_bytes_per_sequence(model, ctx, kv_precision))
    b, kv_seq = v.broadcast(batch=b_raw, context=kv_seq)
    return _Step(
        batch=b,
        weight_bytes=_weight_bytes(model, precision, b_raw * assume.verified_tokens, assume),
        kv_bytes=kv_seq,
        flops=_flops_per_sequence(model, ctx, assume),
        bw=bw,
        peak=peak,
    )


def step_time_terms(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """``(T_memory, T_compute)`` of one decode step, in seconds.

    >>> from tokenmath import model, hardware
    >>> t_mem, t_comp = step_time_terms(model("llama-3.1-8b"), hardware("h100-sxm"), 1, 0)
    >>> round(t_mem * 1e3, 3), round(t_comp * 1e6, 2)   # ms, microseconds
    (4.794, 16.23)
    """
    n_gpus = v.gpu_count(gpus)
    st = _step(model, hw, batch, context, precision, kv_precision, assume)
    with v.no_overflow("batch", "context"):
        t_memory = (st.weight_bytes + st.batch * st.kv_bytes) / (n_gpus * st.bw)
        t_compute = st.batch * st.flops / (n_gpus * st.peak)
    t_memory, t_compute = np.broadcast_arrays(t_memory, t_compute)
    return v.scalar_or_array(t_memory), v.scalar_or_array(t_compute)


def step_time(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Seconds per decode step: ``max(T_memory, T_compute)``.

    Each sequence in the batch gets one token per step, so this is also the time between
    two tokens that a user sees (the latency view); with accepted draft tokens
    (``assume.accepted_tokens``) a step gives ``assume.tokens_per_step`` tokens, and the
    time per token is this divided by that.

    >>> from tokenmath import model, hardware
    >>> round(step_time(model("deepseek-v3"), hardware("h100-sxm"), 1, 0), 3)
    0.401
    """
    t_memory, t_compute = step_time_terms(
        model, hw, batch, context, precision, gpus, kv_precision=kv_precision, assume=assume
    )
    return v.scalar_or_array(np.maximum(t_memory, t_compute))


def cost_terms(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> CostTerms:
    """Weight, KV and compute parts of the cost per token, each in GPU-seconds per token.

    These do not depend on how many GPUs share a replica: n GPUs finish a step n times
    faster, and n GPUs are paid for.

    >>> from tokenmath import model, hardware
    >>> t = cost_terms(model("deepseek-v3"), hardware("h100-sxm"), 1000, 0)
    >>> round(t.weights * 1e6, 1), t.kv, round(t.compute * 1e6, 1)  # microseconds
    (400.6, 0.0, 74.8)
    """
    weights, kv, compute = _per_token_terms(
        model, hw, batch, context, precision, kv_precision, assume
    )
    weights, kv, compute = np.broadcast_arrays(weights, kv, compute)
    return CostTerms(*(v.scalar_or_array(np.array(x)) for x in (weights, kv, compute)))


def _per_token_terms(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str,
    kv_precision: str,
    assume: Assumptions,
):
    """Weight, KV and compute terms in GPU-s/token (arrays that broadcast together)."""
    st = _step(model, hw, batch, context, precision, kv_precision, assume)
    per_step = assume.tokens_per_step  # tokens each sequence gains per step
    with v.no_overflow("batch", "context"):
        weights = (st.weight_bytes / st.bw) / st.batch / per_step
        kv = st.kv_bytes / st.bw / per_step
        compute = st.flops / st.peak / per_step
    return weights, kv, compute


def cost_per_token(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """GPU-seconds per output token: ``gpus x step_time / (batch x tokens per step)``.

    Computed as ``max(weights + kv, compute)`` of :func:`cost_terms`, which is the same
    quantity (dividing each term of the step time by ``batch / gpus``); written this way it
    never dips below :func:`cost_floor` by rounding. It does not depend on ``gpus``: n GPUs
    finish a step n times faster and n GPUs are paid for (``gpus`` is only validated).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(cost_per_token(m, hw, 1, 0) / cost_per_token(m, hw, 10_000, 0))
    5356
    """
    v.gpu_count(gpus)
    weights, kv, compute = _per_token_terms(
        model, hw, batch, context, precision, kv_precision, assume
    )
    total = np.asarray(weights + kv)
    in_place = total.ndim and total.shape == np.broadcast_shapes(total.shape, np.shape(compute))
    return v.scalar_or_array(np.maximum(total, compute, out=total if in_place else None))


def cost_floor(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """GPU-seconds per token as the batch grows without bound: ``max(kv, compute)``.

    >>> from tokenmath import model, hardware
    >>> round(cost_floor(model("deepseek-v3"), hardware("h100-sxm")) * 1e6, 2)  # microseconds
    74.79
    """
    t = cost_terms(model, hw, 1.0, context, precision, kv_precision=kv_precision, assume=assume)
    return v.scalar_or_array(np.maximum(t.kv, t.compute))


def sweet_spot(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Batch at which the memory branch of the step time meets the compute branch.

    Solves ``(W + B·kv)/BW = B·F/C`` for ``B``: ``(W/BW) / (F/C - kv/BW)``, with ``F`` the
    FLOPs per token and ``kv`` the KV bytes per sequence. At ``context=0`` and BF16 this is
    ``C/BW x total/active``, the seed essay's "300 x inverse sparsity". With expected expert
    reads ``W`` grows with ``B`` and the crossing is found by bisection. Returns ``math.inf``
    where the KV line lies on or above the compute line: no batch is compute-bound then.
    The same batch is where step time starts to rise (the latency view).

    >>> from tokenmath import model, hardware
    >>> round(sweet_spot(model("deepseek-v3"), hardware("h100-sxm")))
    5356
    >>> sweet_spot(model("llama-3.1-8b"), hardware("h100-sxm"), context=1_000_000)
    inf
    """
    t = cost_terms(model, hw, 1.0, context, precision, kv_precision=kv_precision, assume=assume)
    # GPU-seconds per sequence per step, compute - KV (the terms are per token gained)
    gap = (np.asarray(t.compute) - np.asarray(t.kv)) * assume.tokens_per_step
    open_ = gap > 0
    safe_gap = np.where(open_, gap, 1.0)
    bw = hw.hbm_bytes_per_s * assume.mem_efficiency
    with v.no_overflow("context"):
        all_weights = np.where(open_, model.weight_bytes(precision) / bw / safe_gap, math.inf)
    if assume.expert_reads == "all" or model.routed_params == 0:
        return v.scalar_or_array(all_weights)

    def memory_minus_compute(batch):
        """Seconds by which the weight read outlasts the batch's net compute; convex in B."""
        share = routed_share_read(model, batch * assume.verified_tokens)
        return model.weight_bytes(precision, share) / bw - batch * safe_gap

    bound = np.where(open_, all_weights, 1.0)  # the all-weights crossing brackets the root
    return v.scalar_or_array(np.where(open_, _bisect_root(memory_minus_compute, bound), math.inf))


def _bisect_root(f, high: np.ndarray, low: np.ndarray | float = 0.0) -> np.ndarray:
    """The batch in (low, high] where ``f`` turns from positive to <= 0, elementwise.

    ``f`` must be positive just above ``low`` and <= 0 at ``high``, with one sign change
    between.
    """
    hi = np.array(high, dtype=float)
    lo = np.broadcast_to(np.asarray(low, dtype=float), hi.shape).copy()
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = np.asarray(f(np.maximum(mid, np.finfo(float).tiny))) > 0
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return hi


def critical_context(
    model: Model,
    hw: Hardware,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float:
    """Context [tokens] at which the KV line reaches the compute line.

    At this context or beyond, reading one sequence's cache takes at least as long as its
    share of compute, so no batch is compute-bound and :func:`sweet_spot` is ``math.inf``.
    Below it the sweet spot is finite. ``math.inf`` when the cache stops growing (only
    sliding-window or shared layers) before it gets there, or when the attention arithmetic
    grows as fast as the cache reads. Solved exactly: both lines grow piecewise linearly
    with the context, with a kink at each sliding window.

    >>> from tokenmath import model, hardware, REFINED
    >>> round(critical_context(model("deepseek-v3"), hardware("h100-sxm")))
    3566
    >>> round(critical_context(model("deepseek-v3"), hardware("h100-sxm"), assume=REFINED))
    19659
    """
    peak, bw = _rates(model, hw, precision, assume)
    kv = check_kv_precision(kv_precision)
    verified = assume.verified_tokens  # tokens per sequence per step, drafts included
    target = verified * model.flops_per_token() / peak  # s of weight arithmetic per sequence

    def seconds_per_cached_token(g) -> float:
        """How much the KV line outgrows the compute line per token this group attends to."""
        read = g.cache_bytes_per_token(kv) / bw
        if not assume.attention_flops:
            return read
        return read - verified * g.layers * g.attention_flops_per_token_per_layer / peak

    stops = sorted({g.window for g in model.attention if g.window is not None})
    start, held = 0.0, 0.0  # context and KV-minus-attention seconds at the segment's start
    for end in [*stops, math.inf]:
        growth = sum(
            seconds_per_cached_token(g)
            for g in model.attention
            if g.window is None or g.window > start
        )
        if growth > 0 and held + growth * (end - start) >= target:
            return start + (target - held) / growth
        if math.isinf(end):
            return math.inf
        held += growth * (end - start)
        start = end
    return math.inf  # pragma: no cover (the loop always returns)


def region(
    model: Model,
    hw: Hardware,
    batch: v.ArrayLike,
    context: v.ArrayLike,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> str | np.ndarray:
    """``"memory-bound"`` below the sweet spot, ``"compute-bound"`` at or above it.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> region(m, hw, 64, 0), region(m, hw, 10_000, 0)
    ('memory-bound', 'compute-bound')
    """
    t_memory, t_compute = step_time_terms(
        model, hw, batch, context, precision, kv_precision=kv_precision, assume=assume
    )
    out = np.where(np.asarray(t_compute) >= np.asarray(t_memory), REGION_COMPUTE, REGION_MEMORY)
    return str(out) if out.ndim == 0 else out


def batch1_penalty(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike = 0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """How many times more a token costs at batch 1 than at the cost floor.

    In the first-order model at context 0 this is ``C/BW x total/active`` (5,356 for
    DeepSeek-V3 on an H100); with expected expert reads a lone sequence reads only its own
    experts and the penalty falls toward ``C/BW``.

    >>> from tokenmath import model, hardware, REFINED
    >>> round(batch1_penalty(model("deepseek-v3"), hardware("h100-sxm")))
    5356
    >>> round(batch1_penalty(model("deepseek-v3"), hardware("h100-sxm"), assume=REFINED))
    300
    """
    kw = {"kv_precision": kv_precision, "assume": assume}
    ratio = np.asarray(cost_per_token(model, hw, 1.0, context, precision, **kw)) / np.asarray(
        cost_floor(model, hw, context, precision, **kw)
    )
    return v.scalar_or_array(ratio)


def max_batch(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike,
    gpus: int = 1,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Largest batch whose weights and KV caches fit in the replica's HBM.

    ``floor((gpus x HBM - weights) / kv_bytes_per_sequence(context))``; 0 when the weights
    alone do not fit, ``math.inf`` at ``context=0`` (no cache to hold). Every weight must be
    resident whatever a step reads, so ``assume`` does not change the answer (it is checked
    and accepted for a uniform signature). Activations, framework overhead and
    fragmentation are ignored, so real limits are lower.

    >>> from tokenmath import model, hardware
    >>> max_batch(model("llama-3.1-8b"), hardware("h100-sxm"), context=8192)
    59.0
    >>> max_batch(model("deepseek-v3"), hardware("h100-sxm"), context=8192)
    0.0
    """
    check_hardware(hw)
    check_assumptions(assume)
    n_gpus = v.gpu_count(gpus)
    kv_seq = np.asarray(kv_bytes_per_sequence(model, context, kv_precision))
    free = n_gpus * hw.hbm_bytes - model.weight_bytes(check_precision(precision))
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
    >>> min_gpus(model("gpt-oss-120b"), hardware("h100-sxm"), "native")  # MXFP4 experts
    1
    """
    check_model(model)
    check_hardware(hw)
    return int(math.ceil(model.weight_bytes(check_precision(precision)) / hw.hbm_bytes))


def usd_per_million_tokens(
    gpu_seconds_per_token: v.ArrayLike, usd_per_gpu_hour: v.ArrayLike
) -> float | np.ndarray:
    """Dollars per million tokens from GPU-seconds per token and a price per GPU-hour.

    >>> usd_per_million_tokens(3.6e-3, 2.0)   # 3.6 ms of GPU time a token at $2/h, x 10^6
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
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Tokens per second that one replica produces: ``batch x tokens per step / step_time``.

    >>> from tokenmath import model, hardware
    >>> round(throughput(model("deepseek-v3"), hardware("h100-sxm"), 64, 0))  # tokens/s
    160
    """
    t = step_time(
        model, hw, batch, context, precision, gpus, kv_precision=kv_precision, assume=assume
    )
    tokens = v.positive("batch", batch) * assume.tokens_per_step
    return v.scalar_or_array(tokens / np.asarray(t))
