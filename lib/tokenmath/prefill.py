"""Prefill: the pass that reads a prompt, and what an input token costs.

A prefill pass runs ``batch`` prompts of ``prompt_tokens`` tokens each through the model in
one step. Of each prompt, ``cached_tokens`` already sit in the KV cache (a prompt-cache hit);
the other ``new = prompt_tokens - cached_tokens`` are computed. On a replica of ``gpus``
accelerators, under the first-order assumptions (:data:`~tokenmath.assumptions.FIRST_ORDER`)::

    new tokens in the pass  N  = batch x new                                  [tokens]
    weight traffic          W  = total_params x bytes per weight (once per pass) [bytes]
    KV traffic                 = batch x kv_bytes_per_sequence(prompt_tokens)   [bytes]
                                 (the new tokens' cache written, the cached prefix read)
    compute                    = N x 2 x active_params                          [FLOPs]
                                 (+ batch x prefill_attention_flops if assumed)
    T_memory  = (W + KV traffic) / (gpus x BW)                                  [s]
    T_compute = compute / (gpus x C)                                            [s]
    T         = max(T_memory, T_compute)                                        [s]
    cost per input token = gpus x T / N                                [GPU-seconds]

It is the decode roofline (:mod:`tokenmath.roofline`) with one difference that changes
everything: a decode step gets one token per sequence out of its weight read, a prefill pass
gets every token of every prompt. A pass of a few thousand tokens already does enough
arithmetic to hide the weight read (:func:`prefill_crossover_tokens`), so an input token
costs about the compute floor while an output token at a realistic batch costs several
times more. The same internals are reused: the weight bytes of a pass are
``roofline._weight_bytes`` at ``N`` tokens (every token is routed, so expected expert reads
use :func:`~tokenmath.specs.routed_share_read` at ``N``), the cache bytes
:func:`~tokenmath.specs.kv_bytes_per_sequence` at ``kv_precision``, the efficiencies those
of ``assume``.

The token at position ``i`` of a prompt (1-based) attends to ``i`` tokens, or to its
window if that is shorter; :func:`prefill_attention_flops` sums this in closed form. (A
decode step at context ``L`` counts ``L`` attended tokens: one fewer than the token at
position ``L + 1`` would here, a difference of one token in ``L``.) The attention
arithmetic per attended token is the decode kernels' (for latent attention, the absorbed
form); prefill kernels for latent attention often decompress the cache and do less
arithmetic per pair, so with ``assume.attention_flops`` this is an upper side.

A chunk of prompt and a decode batch can share one step (chunked prefill): one weight read
for both, both caches, both computes (:func:`mixed_step_terms`). A prefill pass is the mixed
step with no decode batch.

Prices at an operating point (:func:`token_prices`), the saving of a prompt-cache hit
(:func:`cache_hit_saving`) and the cost of one whole request (:func:`request_cost`) follow.
Derivations: the book's chapter on prefill and the price of input tokens.

Every function takes ``precision``, ``gpus``, and keyword ``kv_precision`` and ``assume`` as
in :mod:`tokenmath.roofline`; ``prompt_tokens``, ``cached_tokens``, ``batch`` and the other
counts broadcast as numpy arrays (averages need not be whole), and a 0-d result comes back
as a plain ``float``. Bad values raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _validate as v
from .assumptions import FIRST_ORDER, Assumptions
from .roofline import (
    SECONDS_PER_HOUR,
    _bisect_root,
    _flops_per_sequence,
    _rates,
    _weight_bytes,
    cost_per_token,
    usd_per_million_tokens,
)
from .specs import Hardware, Model, check_model, kv_bytes_per_sequence

__all__ = [
    "CacheHit",
    "RequestCost",
    "TokenPrices",
    "cache_hit_saving",
    "cost_per_input_token",
    "decode_contexts",
    "mixed_step_terms",
    "mixed_step_time",
    "prefill_attention_flops",
    "prefill_crossover_tokens",
    "prefill_terms",
    "prefill_time",
    "request_cost",
    "token_prices",
]

#: Largest pass the crossover search considers [tokens]: beyond it no pass is compute-bound.
_MAX_CROSSOVER_TOKENS = 1e15


# --- Attention arithmetic of a prompt -----------------------------------------------------


def _attended_sum(n: np.ndarray, window: int) -> np.ndarray:
    """``sum_{i=1..n} min(i, window)`` in closed form (``n`` may be fractional)."""
    inside = np.minimum(n, window)
    return 0.5 * inside * (inside + 1.0) + np.maximum(n - window, 0.0) * window


def _in_place(ufunc, fresh, other):
    """``ufunc(fresh, other)``, written into ``fresh`` (an array this module made) when it
    already has the result's shape: large passes then make no temporary arrays."""
    if (
        isinstance(fresh, np.ndarray)
        and fresh.ndim
        and fresh.shape == np.broadcast_shapes(fresh.shape, np.shape(other))
    ):
        return ufunc(fresh, other, out=fresh)
    return ufunc(fresh, other)


def _attention_flops(model: Model, prompt, cached, new):
    """Unchecked :func:`prefill_attention_flops`; ``new = prompt - cached``.

    Full-attention layers attend to ``(P(P+1) - c(c+1)) / 2 = new (P + c + 1) / 2`` tokens
    in all; windowed layers are summed per window.
    """
    per_pair: dict[int | None, float] = {}
    for g in model.attention:
        flops = g.layers * g.attention_flops_per_token_per_layer
        per_pair[g.window] = per_pair.get(g.window, 0.0) + flops
    total = np.zeros(np.shape(new))
    if per_pair.get(None):
        total = _in_place(np.multiply, prompt + cached + 1.0, new)
        total = _in_place(np.multiply, total, 0.5 * per_pair[None])
    for window, flops in per_pair.items():
        if window is not None:
            pairs = _attended_sum(prompt, window) - _attended_sum(cached, window)
            total = _in_place(np.add, total, flops * pairs)
    return total


def prefill_attention_flops(
    model: Model, prompt_tokens: v.ArrayLike, cached_tokens: v.ArrayLike = 0
) -> float | np.ndarray:
    """FLOPs of attention arithmetic to prefill one prompt, past its cached prefix.

    The token at position ``i`` attends to ``i`` tokens (itself and those before it), or to
    its layer's window if shorter, at
    :attr:`~tokenmath.specs.AttentionGroup.attention_flops_per_token_per_layer` per attended
    token and layer. Summed over positions ``cached_tokens + 1`` to ``prompt_tokens``: for a
    full-attention layer ``(P(P+1) - c(c+1)) / 2`` attended pairs, the square of the prompt
    that makes long prompts expensive.

    >>> from tokenmath import model
    >>> m = model("llama-3.1-8b")
    >>> prefill_attention_flops(m, 2) / prefill_attention_flops(m, 1)   # 1 + 2 pairs, 1 pair
    3.0
    >>> round(prefill_attention_flops(m, 8192) / 1e12, 2)   # TFLOP for an 8K prompt
    17.59
    """
    check_model(model)
    prompt, cached = _prompt_and_cached(prompt_tokens, cached_tokens)
    with v.no_overflow("prompt_tokens", "cached_tokens"):
        total = _attention_flops(model, prompt, cached, prompt - cached)
    return v.scalar_or_array(np.asarray(total))


def _prompt_and_cached(prompt_tokens: v.ArrayLike, cached_tokens: v.ArrayLike):
    """Checked prompt and cached-prefix lengths, broadcast, each cached < its prompt."""
    prompt = v.positive("prompt_tokens", prompt_tokens)
    cached = v.non_negative("cached_tokens", cached_tokens)
    if prompt.shape != cached.shape:
        prompt, cached = v.broadcast(prompt_tokens=prompt, cached_tokens=cached)
    too_many = cached >= prompt
    if too_many.any():
        i = v.first_index(too_many)
        where = f" at index {i[0] if len(i) == 1 else i}" if i else ""
        raise ValueError(
            f"cached_tokens must be < prompt_tokens ({float(prompt[i])!r}): at least one "
            f"token of a prompt is computed, to give the first output token; got "
            f"{float(cached[i])!r}{where}"
        )
    return prompt, cached


# --- One step: a prefill chunk and a decode batch together ---------------------------------


class _Work(NamedTuple):
    """One step's traffic and work, before they are turned into time."""

    weight_bytes: float | np.ndarray  # read once per step
    kv_bytes: np.ndarray  # cache written and read by the whole step
    flops: np.ndarray  # arithmetic of the whole step
    tokens: np.ndarray  # new prompt tokens in the step (the prefill's share)
    bw: float  # achieved HBM bytes/s per GPU
    peak: float  # achieved FLOP/s per GPU


def _work(
    model: Model,
    hw: Hardware,
    prompt_tokens: v.ArrayLike,
    batch: v.ArrayLike,
    cached_tokens: v.ArrayLike,
    decode_batch: v.ArrayLike,
    decode_context: v.ArrayLike,
    precision: str,
    kv_precision: str,
    assume: Assumptions,
) -> _Work:
    """Bytes and FLOPs of one step: ``batch`` prompts (past their cached prefixes) and
    ``decode_batch`` decoding sequences at ``decode_context``, sharing one weight read.

    The arrays it returns are its own (never an input), so :func:`_times` may overwrite them.
    """
    peak, bw = _rates(model, hw, precision, assume)
    prompt, cached = _prompt_and_cached(prompt_tokens, cached_tokens)
    prompts = v.positive("batch", batch)
    decoding = v.non_negative("decode_batch", decode_batch)
    ctx = v.non_negative("decode_context", decode_context)
    with v.no_overflow("prompt_tokens", "batch", "decode_batch", "decode_context"):
        per_prompt = prompt - cached
        new = per_prompt * prompts
        kv = np.asarray(kv_bytes_per_sequence(model, prompt, kv_precision))
        kv = _in_place(np.multiply, kv, prompts)
        flops = new * model.flops_per_token()
        if assume.attention_flops:
            attention = _attention_flops(model, prompt, cached, per_prompt)
            flops = _in_place(np.add, flops, _in_place(np.multiply, attention, prompts))
        tokens_read = new  # every token is routed: the experts a step touches
        if np.any(decoding > 0):
            kv = kv + decoding * np.asarray(kv_bytes_per_sequence(model, ctx, kv_precision))
            flops = flops + decoding * np.asarray(_flops_per_sequence(model, ctx, assume))
            # every token is routed, drafts included: the experts a step touches
            tokens_read = new + decoding * assume.verified_tokens
        weights = _weight_bytes(model, precision, tokens_read, assume)
    return _Work(weights, kv, flops, new, bw, peak)


def _times(work: _Work, gpus: int) -> tuple[np.ndarray, np.ndarray]:
    """``(T_memory, T_compute)`` [s], unbroadcast; overwrites the work's byte and FLOP arrays."""
    with v.no_overflow("prompt_tokens", "batch"):
        t_memory = _in_place(np.add, work.kv_bytes, work.weight_bytes)
        t_memory = _in_place(np.divide, t_memory, gpus * work.bw)
        t_compute = _in_place(np.divide, work.flops, gpus * work.peak)
    return t_memory, t_compute


def _slower(t_memory: np.ndarray, t_compute: np.ndarray) -> np.ndarray:
    """``max(T_memory, T_compute)``, in place where the shapes allow."""
    return _in_place(np.maximum, np.asarray(t_memory), t_compute)


def prefill_terms(
    model: Model,
    hw: Hardware,
    prompt_tokens: v.ArrayLike,
    batch: v.ArrayLike = 1,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    cached_tokens: v.ArrayLike = 0,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """``(T_memory, T_compute)`` of one prefill pass over ``batch`` prompts, in seconds.

    ``T_memory`` reads the weights once and moves each prompt's cache (the new tokens'
    entries written, the cached prefix read); ``T_compute`` is 2 FLOPs per active parameter
    per new token, plus the attention arithmetic when ``assume.attention_flops``.

    >>> from tokenmath import model, hardware
    >>> t_mem, t_comp = prefill_terms(model("llama-3.1-8b"), hardware("h100-sxm"), 2048)
    >>> round(t_mem * 1e3, 3), round(t_comp * 1e3, 3)   # ms: the weight read, 2048 tokens
    (4.874, 33.243)
    """
    n_gpus = v.gpu_count(gpus)
    work = _work(
        model, hw, prompt_tokens, batch, cached_tokens, 0.0, 0.0, precision, kv_precision, assume
    )
    t_memory, t_compute = np.broadcast_arrays(*_times(work, n_gpus))
    return v.scalar_or_array(t_memory), v.scalar_or_array(t_compute)


def prefill_time(
    model: Model,
    hw: Hardware,
    prompt_tokens: v.ArrayLike,
    batch: v.ArrayLike = 1,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    cached_tokens: v.ArrayLike = 0,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Seconds to prefill ``batch`` prompts of ``prompt_tokens`` tokens in one pass.

    ``max(T_memory, T_compute)`` of :func:`prefill_terms`. ``cached_tokens`` of each prompt
    are already in the cache (a prompt-cache hit) and are not computed; at least one token
    is (``cached_tokens < prompt_tokens``), since the last prompt token's logits give the
    first output token.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(prefill_time(m, hw, 1) * 1e3, 1)      # ms: one token, the weight read
    400.6
    >>> round(prefill_time(m, hw, 8192) * 1e3, 1)   # ms: 8K tokens, compute-bound
    612.7
    """
    n_gpus = v.gpu_count(gpus)
    work = _work(
        model, hw, prompt_tokens, batch, cached_tokens, 0.0, 0.0, precision, kv_precision, assume
    )
    return v.scalar_or_array(np.asarray(_slower(*_times(work, n_gpus))))


def mixed_step_terms(
    model: Model,
    hw: Hardware,
    chunk_tokens: v.ArrayLike,
    decode_batch: v.ArrayLike,
    decode_context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    chunk_cached_tokens: v.ArrayLike = 0,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """``(T_memory, T_compute)`` of one chunked-prefill step, in seconds.

    The step computes ``chunk_tokens`` new tokens of one prompt, whose first
    ``chunk_cached_tokens`` tokens are already cached (earlier chunks, or a cache hit),
    together with one decode step of ``decode_batch`` sequences at ``decode_context``.
    One weight read serves both (with expected expert reads, the experts that all
    ``chunk_tokens + decode_batch`` tokens touch); the memory term adds the chunk's cache
    (prefix read, chunk written) and every decoding sequence's cache; the compute term adds
    both computes. ``decode_batch=0`` gives a prefill pass of one prompt of
    ``chunk_cached_tokens + chunk_tokens`` tokens.

    >>> from tokenmath import model, hardware, step_time_terms
    >>> m, hw = model("llama-3.1-8b"), hardware("h100-sxm")
    >>> t_mem, t_comp = mixed_step_terms(m, hw, 512, 64, 2048)
    >>> d_mem, d_comp = step_time_terms(m, hw, 64, 2048)   # the decode step alone
    >>> round((t_mem - d_mem) * 1e3, 3), round((t_comp - d_comp) * 1e3, 3)   # ms the chunk adds
    (0.02, 8.311)
    """
    n_gpus = v.gpu_count(gpus)
    chunk = v.positive("chunk_tokens", chunk_tokens)
    prefix = v.non_negative("chunk_cached_tokens", chunk_cached_tokens)
    with v.no_overflow("chunk_tokens", "chunk_cached_tokens"):
        prompt = prefix + chunk
    work = _work(
        model,
        hw,
        prompt,
        1.0,
        prefix,
        decode_batch,
        decode_context,
        precision,
        kv_precision,
        assume,
    )
    t_memory, t_compute = np.broadcast_arrays(*_times(work, n_gpus))
    return v.scalar_or_array(t_memory), v.scalar_or_array(t_compute)


def mixed_step_time(
    model: Model,
    hw: Hardware,
    chunk_tokens: v.ArrayLike,
    decode_batch: v.ArrayLike,
    decode_context: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    chunk_cached_tokens: v.ArrayLike = 0,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """Seconds of one chunked-prefill step: ``max`` of :func:`mixed_step_terms`.

    Below the crossover the chunk rides on the decode step's weight read almost for free;
    above it, every chunk token adds its arithmetic to the step that the decoding users wait
    for.

    >>> from tokenmath import model, hardware, step_time
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> decode = step_time(m, hw, 256, 4096, gpus=16)
    >>> round(mixed_step_time(m, hw, 512, 256, 4096, gpus=16) / decode, 4)   # rides free
    1.0
    >>> round(mixed_step_time(m, hw, 8192, 256, 4096, gpus=16) / decode, 2)  # it does not
    1.5
    """
    t_memory, t_compute = mixed_step_terms(
        model,
        hw,
        chunk_tokens,
        decode_batch,
        decode_context,
        precision,
        gpus,
        chunk_cached_tokens=chunk_cached_tokens,
        kv_precision=kv_precision,
        assume=assume,
    )
    return v.scalar_or_array(np.maximum(t_memory, t_compute))


# --- The crossover ------------------------------------------------------------------------


def prefill_crossover_tokens(
    model: Model,
    hw: Hardware,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float:
    """Prompt length [tokens] at which a one-prompt prefill pass turns compute-bound.

    Solves ``T_memory(P) = T_compute(P)`` for one prompt of ``P`` tokens, no cached
    prefix. Without the cache and the attention terms this is ``(W/BW) / (F/C)``
    tokens, ``C/BW x total/active`` at BF16: the decode sweet spot at zero context, because
    a pass of ``P`` tokens does the arithmetic of a decode step of ``P`` sequences for one
    weight read. It counts tokens in a pass however they split into prompts, up to the
    small cache and attention terms. The cache written per token is tiny beside a
    token's arithmetic, so it moves the answer little; attention arithmetic lowers it.
    With expected expert reads the weight read grows with the tokens and the crossing is
    found by bisection. ``gpus`` cancels (both terms divide by it) and is only checked.
    ``math.inf`` where no pass up to 10^15 tokens is compute-bound.

    >>> from tokenmath import model, hardware, sweet_spot
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(prefill_crossover_tokens(m, hw)), round(sweet_spot(m, hw))
    (5358, 5356)
    >>> round(prefill_crossover_tokens(model("llama-3.1-8b"), hw))
    296
    """
    v.gpu_count(gpus)

    def memory_minus_compute(tokens):
        """Seconds by which the pass's memory term outlasts its compute term."""
        t_memory, t_compute = prefill_terms(
            model, hw, tokens, 1.0, precision, kv_precision=kv_precision, assume=assume
        )
        return np.asarray(t_memory) - np.asarray(t_compute)

    # memory - compute is concave in the tokens (the weight read is concave, the cache
    # linear, compute linear or convex) and positive near zero: one sign change at most.
    high = 1.0
    while memory_minus_compute(high) > 0:
        high *= 2.0
        if high > _MAX_CROSSOVER_TOKENS:
            return float("inf")
    low = high / 2.0 if high > 1.0 else 0.0  # positive just above low, <= 0 at high
    return float(_bisect_root(memory_minus_compute, np.asarray(high), low))


# --- Prices --------------------------------------------------------------------------------


def cost_per_input_token(
    model: Model,
    hw: Hardware,
    prompt_tokens: v.ArrayLike,
    batch: v.ArrayLike = 1,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    cached_tokens: v.ArrayLike = 0,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """GPU-seconds per computed input token of a prefill pass: ``gpus x T / N``.

    ``N = batch x (prompt_tokens - cached_tokens)`` tokens share one pass. Like
    :func:`~tokenmath.roofline.cost_per_token` it does not depend on ``gpus``. Above the
    crossover it approaches ``2 x active / C`` (plus attention arithmetic), the compute
    floor of an output token.

    >>> from tokenmath import model, hardware, cost_floor
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(cost_per_input_token(m, hw, 8192) / cost_floor(m, hw), 3)
    1.0
    """
    v.gpu_count(gpus)  # n GPUs finish n times faster and n are paid for: it cancels
    work = _work(
        model, hw, prompt_tokens, batch, cached_tokens, 0.0, 0.0, precision, kv_precision, assume
    )
    seconds = _slower(*_times(work, 1))
    return v.scalar_or_array(np.asarray(_in_place(np.divide, seconds, work.tokens)))


class TokenPrices(NamedTuple):
    """What an input and an output token cost at one operating point.

    ``input_gpu_s``, ``output_gpu_s``: GPU-seconds per computed input token and per output
    token. ``input_usd_per_m``, ``output_usd_per_m``: dollars per million at the price per
    GPU-hour. ``ratio``: output over input, the multiple a price list would charge for
    output tokens if prices followed cost.
    """

    input_gpu_s: float | np.ndarray
    output_gpu_s: float | np.ndarray
    input_usd_per_m: float | np.ndarray
    output_usd_per_m: float | np.ndarray
    ratio: float | np.ndarray


def _price(hw: Hardware, usd_per_gpu_hour: v.ArrayLike | None) -> np.ndarray:
    if usd_per_gpu_hour is None:
        return np.asarray(hw.usd_per_hour)
    return v.non_negative("usd_per_gpu_hour", usd_per_gpu_hour)


def token_prices(
    model: Model,
    hw: Hardware,
    prompt_tokens: v.ArrayLike,
    decode_batch: v.ArrayLike,
    decode_context: v.ArrayLike | None = None,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    prefill_batch: v.ArrayLike = 1,
    usd_per_gpu_hour: v.ArrayLike | None = None,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> TokenPrices:
    """Prices of an input and an output token at an operating point.

    Input: :func:`cost_per_input_token` of passes of ``prefill_batch`` prompts of
    ``prompt_tokens`` tokens. Output: :func:`~tokenmath.roofline.cost_per_token` of decode
    steps of ``decode_batch`` sequences at ``decode_context`` tokens (default: the prompt
    length, where decoding starts). Dollars at ``usd_per_gpu_hour`` (default: the
    accelerator's preset price).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> round(token_prices(m, hw, 2000, decode_batch=256).ratio, 1)   # one prompt per pass
    8.0
    >>> round(token_prices(m, hw, 2000, 256, prefill_batch=8).ratio, 1)   # 16,000 tokens
    21.5
    """
    v.gpu_count(gpus)
    kw = {"kv_precision": kv_precision, "assume": assume}
    v.positive("prompt_tokens", prompt_tokens)  # each argument checked under its own name
    v.positive("prefill_batch", prefill_batch)
    v.positive("decode_batch", decode_batch)
    if decode_context is not None:
        v.non_negative("decode_context", decode_context)
    context = prompt_tokens if decode_context is None else decode_context
    price = _price(hw, usd_per_gpu_hour)
    input_s = np.asarray(
        cost_per_input_token(model, hw, prompt_tokens, prefill_batch, precision, **kw)
    )
    output_s = np.asarray(cost_per_token(model, hw, decode_batch, context, precision, **kw))
    input_s, output_s, price = v.broadcast(
        prompt_tokens=input_s, decode_batch=output_s, usd_per_gpu_hour=price
    )
    return TokenPrices(
        v.scalar_or_array(input_s),
        v.scalar_or_array(output_s),
        usd_per_million_tokens(input_s, price),
        usd_per_million_tokens(output_s, price),
        v.scalar_or_array(output_s / input_s),
    )


class CacheHit(NamedTuple):
    """What one prompt-cache hit saves and what keeping the cache costs, in GPU-seconds.

    ``prefill_saved``: the prefill GPU time the hit skips. ``holding``: the cache's share of
    one accelerator's HBM for the holding time. ``reload``: one accelerator's time to bring
    the cache back over a link (0 without one). ``net``: saved minus both.
    ``break_even_hold_s``: the longest the cache may sit in HBM before holding it costs as
    much as recomputing it.
    """

    prefill_saved: float | np.ndarray
    holding: float | np.ndarray
    reload: float | np.ndarray
    net: float | np.ndarray
    break_even_hold_s: float | np.ndarray


def cache_hit_saving(
    model: Model,
    hw: Hardware,
    prompt_tokens: v.ArrayLike,
    cached_tokens: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    prefill_batch: v.ArrayLike = 1,
    hold_s: v.ArrayLike = 0.0,
    reload_bytes_per_s: float | None = None,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> CacheHit:
    """GPU-seconds one request saves when ``cached_tokens`` of its prompt hit the cache.

    Saved: the GPU time of prefilling ``prompt_tokens`` from scratch minus that of
    prefilling only the tokens past the cached prefix, per request of a pass of
    ``prefill_batch`` prompts. Kept: the prefix's cache (``kv_bytes_per_sequence``) holds
    that share of one accelerator's HBM for ``hold_s`` seconds, billed as that share of the
    accelerator's time; and, if it was moved out of HBM, reading it back over a link of
    ``reload_bytes_per_s`` costs one accelerator that long (a bound: transfers that overlap
    computation cost less).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> hit = cache_hit_saving(m, hw, 8192, 6144, prefill_batch=8)
    >>> round(hit.prefill_saved, 3), round(hit.break_even_hold_s)   # GPU-s; seconds
    (0.46, 85)
    """
    v.gpu_count(gpus)  # GPU-seconds: the replica size cancels
    kw = {"kv_precision": kv_precision, "assume": assume}
    batch = v.positive("prefill_batch", prefill_batch)
    hold = v.non_negative("hold_s", hold_s)
    full = np.asarray(prefill_time(model, hw, prompt_tokens, batch, precision, **kw))
    rest = np.asarray(
        prefill_time(model, hw, prompt_tokens, batch, precision, cached_tokens=cached_tokens, **kw)
    )
    saved = (full - rest) / batch
    share = np.asarray(kv_bytes_per_sequence(model, cached_tokens, kv_precision)) / hw.hbm_bytes
    holding = share * hold
    if reload_bytes_per_s is None:
        reload = np.zeros_like(share)
    else:
        reload = np.asarray(kv_bytes_per_sequence(model, cached_tokens, kv_precision)) / (
            v.positive_scalar("reload_bytes_per_s", reload_bytes_per_s)
        )
    saved, holding, reload, share = v.broadcast(
        prompt_tokens=saved, hold_s=holding, reload_bytes_per_s=reload, cached_tokens=share
    )
    with np.errstate(divide="ignore"):
        break_even = np.where(share > 0, (saved - reload) / np.where(share > 0, share, 1.0), 0.0)
    return CacheHit(
        *(v.scalar_or_array(x) for x in (saved, holding, reload, saved - holding - reload)),
        v.scalar_or_array(np.where(share > 0, np.maximum(break_even, 0.0), np.inf)),
    )


def decode_contexts(
    input_tokens: v.ArrayLike,
    output_tokens: v.ArrayLike,
    *,
    first_token_from_prefill: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Contexts of the decode steps that write ``output_tokens`` after ``input_tokens``.

    Returns ``(contexts, steps)``: ``contexts[..., k]`` is the cache each sequence holds
    when decode step ``k`` starts, and ``steps[..., k]`` says whether that step runs (1.0)
    or lies past the request's last token (0.0), both broadcast with the inputs plus one
    trailing axis of the longest request's steps. With ``first_token_from_prefill`` (as in
    vLLM) the prefill pass's last logits give output token 1, and ``output_tokens - 1``
    decode steps follow at contexts ``input_tokens, ..., input_tokens + output_tokens - 2``;
    otherwise ``output_tokens`` steps at ``input_tokens, ..., input_tokens +
    output_tokens - 1``.

    >>> ctx, steps = decode_contexts(100, 4)
    >>> ctx.tolist(), steps.tolist()
    ([100.0, 101.0, 102.0], [1.0, 1.0, 1.0])
    """
    if not isinstance(first_token_from_prefill, bool):
        raise ValueError(
            "first_token_from_prefill must be True or False; got "
            f"{v.echo(first_token_from_prefill)}"
        )
    inputs = v.positive("input_tokens", input_tokens)
    outputs = _whole("output_tokens", output_tokens)
    inputs, outputs = v.broadcast(input_tokens=inputs, output_tokens=outputs)
    n_steps = outputs - 1.0 if first_token_from_prefill else outputs
    longest = int(n_steps.max()) if n_steps.size else 0
    k = np.arange(longest, dtype=float)
    contexts = inputs[..., None] + k
    steps = (k < n_steps[..., None]).astype(float)
    return contexts, steps


def _whole(name: str, value: v.ArrayLike) -> np.ndarray:
    """``value`` as a float array of whole numbers >= 1."""
    arr = v.positive(name, value)
    bad = (arr != np.floor(arr)) | (arr < 1)
    if bad.any():
        i = v.first_index(bad)
        where = f" at index {i[0] if len(i) == 1 else i}" if i else ""
        raise ValueError(f"{name} must be whole numbers >= 1; got {float(arr[i])!r}{where}")
    return arr


class RequestCost(NamedTuple):
    """GPU-seconds and dollars of one request: its prefill share and its decode steps."""

    prefill_gpu_s: float | np.ndarray
    decode_gpu_s: float | np.ndarray
    gpu_s: float | np.ndarray
    usd: float | np.ndarray


def request_cost(
    model: Model,
    hw: Hardware,
    input_tokens: v.ArrayLike,
    output_tokens: v.ArrayLike,
    decode_batch: v.ArrayLike,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    cached_tokens: v.ArrayLike = 0,
    prefill_batch: v.ArrayLike = 1,
    usd_per_gpu_hour: v.ArrayLike | None = None,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> RequestCost:
    """GPU-seconds and dollars to serve one request with input, cached-input and output tokens.

    Prefill: ``gpus x prefill_time / prefill_batch`` for ``input_tokens`` of which
    ``cached_tokens`` hit the cache. Decode: the request's share of each decode step, one
    :func:`~tokenmath.roofline.cost_per_token` at ``decode_batch`` for each output token
    after the first (which the prefill pass gives), at the context that step reads
    (:func:`decode_contexts`). Dollars at ``usd_per_gpu_hour`` (default: the accelerator's
    preset price). Storage of the cached prefix is not charged here
    (:func:`cache_hit_saving` prices it).

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> cost = request_cost(m, hw, 2000, 300, decode_batch=256)
    >>> round(cost.prefill_gpu_s, 3), round(cost.decode_gpu_s, 3)   # GPU-seconds
    (0.401, 0.481)
    """
    v.gpu_count(gpus)
    kw = {"kv_precision": kv_precision, "assume": assume}
    contexts, steps = decode_contexts(input_tokens, output_tokens)
    per_pass = v.positive("prefill_batch", prefill_batch)
    batch = v.positive("decode_batch", decode_batch)
    pass_s = prefill_time(
        model, hw, input_tokens, per_pass, precision, cached_tokens=cached_tokens, **kw
    )
    prefill_s = np.asarray(pass_s) / per_pass
    per_step = np.asarray(
        cost_per_token(model, hw, np.asarray(batch)[..., None], contexts, precision, **kw)
    )
    decode_s = np.sum(per_step * steps, axis=-1)
    prefill_s, decode_s = v.broadcast(input_tokens=prefill_s, output_tokens=decode_s)
    total = prefill_s + decode_s
    usd = total * _price(hw, usd_per_gpu_hour) / SECONDS_PER_HOUR
    return RequestCost(
        *(v.scalar_or_array(np.asarray(x)) for x in (prefill_s, decode_s, total, usd))
    )
