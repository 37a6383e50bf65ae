"""The KV cache as a quantity of its own: per layer group, per replica, and as read off a price.

Three questions the roofline answers only in passing:

* what each layer group of a model caches per token (:func:`cache_by_group`), the sum of
  which is ``b``, :func:`tokenmath.specs.kv_bytes_per_token`;
* how many tokens of context a replica's memory holds once the weights are in
  (:func:`cache_capacity_tokens`);
* how much more a token costs at a long context than at a short one
  (:func:`cost_multiple`), and, turned around, what ``b`` a given multiple implies
  (:func:`implied_kv_bytes_per_token`): the "X-ray" of a long-context price tier.

Both price functions work on the cost floor of :func:`tokenmath.roofline.cost_floor`, the cost
per token of a provider whose batches are as large as it likes, ``max(KV line, compute line)``.
Derivations: the book's chapter on the KV cache.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _validate as v
from .assumptions import FIRST_ORDER, Assumptions, check_assumptions
from .roofline import cost_floor, cost_terms
from .specs import (
    Hardware,
    Model,
    check_hardware,
    check_kv_precision,
    check_model,
    check_precision,
    kv_bytes_per_token,
)

__all__ = [
    "GroupCache",
    "cache_by_group",
    "cache_capacity_tokens",
    "cost_multiple",
    "implied_kv_bytes_per_token",
]


class GroupCache(NamedTuple):
    """What one layer group of a model caches for each token of context.

    ``elements_per_layer``: cached elements per token in one layer (``2 x kv_heads x
    head_dim``, or the latent for ``"mla"``); ``bytes_per_token``: bytes one token adds across
    the group's layers while it is inside the window, 0 for layers that share another
    layer's cache; ``window``: the sliding window in tokens (``None``: the whole context).
    """

    layers: int
    kind: str
    window: int | None
    shares_kv: bool
    elements_per_layer: int
    bytes_per_token: float


def cache_by_group(model: Model, kv_precision: str = "bf16") -> tuple[GroupCache, ...]:
    """Bytes per token of context that each layer group caches, in the model's order.

    The groups without a window add up to ``b`` (:func:`tokenmath.specs.kv_bytes_per_token`
    with no context); a windowed group adds its ``bytes_per_token`` only for the last
    ``window`` tokens.

    >>> from tokenmath import model
    >>> [(g.layers, g.window, g.bytes_per_token) for g in cache_by_group(model("gpt-oss-120b"))]
    [(18, None, 36864.0), (18, 128, 36864.0)]
    """
    check_model(model)
    kv = check_kv_precision(kv_precision)
    return tuple(
        GroupCache(
            layers=g.layers,
            kind=g.kind,
            window=g.window,
            shares_kv=g.shares_kv,
            elements_per_layer=g.elements_per_token_per_layer,
            bytes_per_token=g.cache_bytes_per_token(kv),
        )
        for g in model.attention
    )


def cache_capacity_tokens(
    model: Model,
    hw: Hardware,
    gpus: int = 1,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    context: v.ArrayLike | None = None,
) -> float | np.ndarray:
    """Tokens of context that fit in a replica's memory once its weights are loaded.

    ``(gpus x HBM - weight bytes) / b``: with ``context=None``, ``b`` is the growth rate of
    long contexts (sliding-window layers, being full, left out); with a ``context`` it is the
    average bytes per token of sequences that long, so windows count in full. The answer is
    not rounded to whole sequences (:func:`tokenmath.roofline.max_batch` counts those). 0
    when the weights alone fill the replica, ``math.inf`` when the cache does not grow.
    Activations and runtime buffers are ignored, so real capacities are lower.

    >>> from tokenmath import model, hardware
    >>> round(cache_capacity_tokens(model("llama-3.1-70b"), hardware("h100-sxm"), 4) / 1e3)
    546
    """
    check_model(model)
    check_hardware(hw)
    n_gpus = v.gpu_count(gpus)
    kv = check_kv_precision(kv_precision)
    free = max(n_gpus * hw.hbm_bytes - model.weight_bytes(check_precision(precision)), 0.0)
    if context is None:
        per_token = np.asarray(kv_bytes_per_token(model, kv_precision=kv))
    else:
        per_token = np.asarray(kv_bytes_per_token(model, context, kv_precision=kv))
    with np.errstate(divide="ignore"):  # no cache growth: unlimited tokens, inf is right
        tokens = np.where(per_token > 0, free / np.where(per_token > 0, per_token, 1.0), math.inf)
    return v.scalar_or_array(tokens)


def cost_multiple(
    model: Model,
    hw: Hardware,
    context: v.ArrayLike,
    base_context: float = 0.0,
    precision: str = "bf16",
    *,
    kv_precision: str = "bf16",
    assume: Assumptions = FIRST_ORDER,
) -> float | np.ndarray:
    """How many times the cost floor at ``base_context`` a token costs at ``context``.

    ``cost_floor(context) / cost_floor(base_context)``: the price ratio a provider that prices
    at its floor would put between a long-context tier and a short one. 1 while both contexts
    lie below :func:`tokenmath.roofline.critical_context` (the compute line hides the cache);
    beyond it the floor is the KV line, which grows with the context.

    >>> from tokenmath import model, hardware
    >>> round(cost_multiple(model("deepseek-v3"), hardware("h100-sxm"), 131_072), 1)
    36.8
    """
    kw = {"kv_precision": kv_precision, "assume": assume}
    base = v.non_negative_scalar("base_context", base_context)
    floor = np.asarray(cost_floor(model, hw, context, precision, **kw))
    return v.scalar_or_array(floor / cost_floor(model, hw, base, precision, **kw))


def implied_kv_bytes_per_token(
    model: Model,
    hw: Hardware,
    multiple: float,
    context: float,
    base_context: float = 0.0,
    precision: str = "bf16",
    *,
    assume: Assumptions = FIRST_ORDER,
) -> float:
    """The ``b`` [bytes per token] for which a token at ``context`` costs ``multiple`` times one
    at ``base_context``, for a model with these weights and attention arithmetic on ``hw``.

    The cost floor is ``max(L b / BW, F(L))``, with ``F`` the compute line per token (the
    weights' 2 FLOPs per active parameter, plus the attention arithmetic when ``assume``
    counts it). Its ratio between the two contexts rises with ``b`` from ``F(context) /
    F(base_context)`` (a cache too small to show) to ``context / base_context`` (a cache that
    dominates both), and in between it is ``context x b / (BW x F(base_context))``; so

        b = multiple x F(base_context) x BW / context.

    Outside that range no single ``b`` fits: a ``multiple`` at the lower end is consistent with
    any smaller cache and one at the upper end with any larger one, so a ``ValueError`` says
    which. The model's own cache layout is not used: ``b`` is what a cache that grows with
    every token would need to hold.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h100-sxm")
    >>> implied_kv_bytes_per_token(m, hw, cost_multiple(m, hw, 65_536), 65_536)
    70272.0
    """
    check_assumptions(assume)
    r = v.positive_scalar("multiple", multiple)
    long_ctx = v.positive_scalar("context", context)
    base = v.non_negative_scalar("base_context", base_context)
    if base >= long_ctx:
        raise ValueError(f"base_context must be < context ({long_ctx:g}); got {base:g}")
    compute = cost_terms(model, hw, 1.0, np.array([base, long_ctx]), precision, assume=assume)
    f_base, f_long = (float(x) for x in np.asarray(compute.compute))
    lowest = f_long / f_base
    highest = long_ctx / base if base > 0 else math.inf
    if not lowest < r < highest:
        raise ValueError(
            f"multiple must be > {lowest:.6g} (the compute line's own growth) and < "
            f"{highest:.6g} (context / base_context) for a cost floor to pin down b; got {r:g}"
        )
    bw = hw.hbm_bytes_per_s * assume.mem_efficiency
    return r * f_base * bw / long_ctx
