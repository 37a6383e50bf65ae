"""What a model and an accelerator are, as far as decode cost is concerned.

Three frozen dataclasses:

* :class:`AttentionGroup`: a run of decoder layers that share one KV-cache layout
  (multi-head, grouped-query, multi-head latent, optionally a sliding window, or layers
  that reuse another layer's cache and store nothing);
* :class:`Model`: total and active parameters, the attention layout, the context limit;
* :class:`Hardware`: dense FLOP/s per precision, HBM bandwidth and capacity, a dated price.

Conventions used everywhere in the package:

* one decode step costs 2 FLOPs per *active* parameter per sequence (a multiply and an add);
  attention FLOPs are left out;
* a weight takes 2 bytes at ``"bf16"`` and 1 byte at ``"fp8"``; the matching peak is the
  accelerator's dense (no-sparsity) tensor throughput at that precision;
* the KV cache is stored at 2 bytes per element (BF16) unless an :class:`AttentionGroup`
  says otherwise.

Use ``dataclasses.replace`` to copy a preset with changes, e.g. an H100 with ten times
the bandwidth: ``replace(hardware("h100-sxm"), hbm_bytes_per_s=33.5e12)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from . import _validate as v

Precision = Literal["bf16", "fp8"]

#: Bytes that one weight occupies at each supported precision.
BYTES_PER_WEIGHT: dict[str, float] = {"bf16": 2.0, "fp8": 1.0}

#: FLOPs per active parameter per generated token (one multiply-add).
FLOPS_PER_ACTIVE_PARAM = 2.0

AttentionKind = Literal["mha", "gqa", "mqa", "mla"]


def check_precision(precision: str) -> str:
    """Return ``precision`` lower-cased, or raise if it is not one we model."""
    key = str(precision).lower()
    if key not in BYTES_PER_WEIGHT:
        valid = ", ".join(repr(k) for k in BYTES_PER_WEIGHT)
        raise ValueError(f"precision must be one of {valid}; got {precision!r}")
    return key


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string; got {name!r}")


@dataclass(frozen=True)
class AttentionGroup:
    """``layers`` decoder layers that share one KV-cache layout.

    For multi-head (``"mha"``), grouped-query (``"gqa"``) and multi-query (``"mqa"``)
    attention each layer caches a key and a value vector per KV head:
    ``2 * kv_heads * head_dim`` elements per token. For multi-head latent attention
    (``"mla"``) each layer caches one compressed latent of ``latent_dim`` elements per token
    (DeepSeek's ``kv_lora_rank + qk_rope_head_dim``).

    ``window``: a sliding-window layer keeps only the last ``window`` tokens, so its cache
    stops growing there. ``shares_kv=True``: the layers reuse a cache stored by other layers
    and add no bytes (cross-layer KV sharing).

    >>> AttentionGroup(layers=32, kind="gqa", kv_heads=8, head_dim=128).bytes_per_token
    131072.0
    """

    layers: int
    kind: AttentionKind
    kv_heads: int = 0
    head_dim: int = 0
    latent_dim: int = 0
    window: int | None = None
    shares_kv: bool = False
    bytes_per_element: float = 2.0

    def __post_init__(self) -> None:
        v.positive_int("layers", self.layers)
        if self.kind not in ("mha", "gqa", "mqa", "mla"):
            raise ValueError(f"kind must be one of 'mha', 'gqa', 'mqa', 'mla'; got {self.kind!r}")
        if self.kind == "mla":
            v.positive_int("latent_dim", self.latent_dim)
        else:
            v.positive_int("kv_heads", self.kv_heads)
            v.positive_int("head_dim", self.head_dim)
        if self.kind == "mqa" and self.kv_heads != 1:
            raise ValueError(f"kv_heads must be 1 for kind 'mqa'; got {self.kv_heads!r}")
        if self.window is not None:
            v.positive_int("window", self.window)
        v.positive_scalar("bytes_per_element", self.bytes_per_element)

    @property
    def elements_per_token_per_layer(self) -> int:
        """Cached elements per token in one layer of this group."""
        if self.kind == "mla":
            return self.latent_dim
        return 2 * self.kv_heads * self.head_dim

    @property
    def bytes_per_token(self) -> float:
        """Cache bytes one token adds across this group while it is inside the window."""
        if self.shares_kv:
            return 0.0
        return self.layers * self.elements_per_token_per_layer * self.bytes_per_element


@dataclass(frozen=True)
class Model:
    """A decoder-only language model, as decode cost sees it.

    ``total_params`` are the weights read from memory each decode step (all experts of a
    mixture-of-experts model); ``active_params`` are those each token is multiplied by.
    ``attention`` lists the layer groups whose KV cache each sequence carries.
    ``context_limit`` is the longest context the model supports, in tokens.
    """

    name: str
    total_params: float
    active_params: float
    attention: tuple[AttentionGroup, ...]
    context_limit: int
    sources: tuple[str, ...] = ()
    notes: str = ""
    family: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name)
        v.positive_scalar("total_params", self.total_params)
        v.positive_scalar("active_params", self.active_params)
        if self.active_params > self.total_params:
            raise ValueError(
                f"active_params must be <= total_params ({self.total_params:g}); "
                f"got {self.active_params:g}"
            )
        if not self.attention:
            raise ValueError("attention must list at least one AttentionGroup; got none")
        if not all(isinstance(g, AttentionGroup) for g in self.attention):
            raise ValueError("attention must be a tuple of AttentionGroup")
        v.positive_int("context_limit", self.context_limit)

    @property
    def layers(self) -> int:
        """Decoder layers, summed over the attention groups."""
        return sum(g.layers for g in self.attention)

    @property
    def inverse_sparsity(self) -> float:
        """``total_params / active_params``: 1 for a dense model, about 18 for DeepSeek-V3."""
        return self.total_params / self.active_params

    def weight_bytes(self, precision: str = "bf16") -> float:
        """Bytes of weights read in one decode step at ``precision``."""
        return self.total_params * BYTES_PER_WEIGHT[check_precision(precision)]

    def flops_per_token(self) -> float:
        """FLOPs to generate one token: 2 per active parameter (attention left out)."""
        return FLOPS_PER_ACTIVE_PARAM * self.active_params


def kv_bytes_per_sequence(model: Model, context: v.ArrayLike) -> float | np.ndarray:
    """KV-cache bytes that one sequence with ``context`` tokens holds (and each step reads).

    Full-attention layers grow with every token; sliding-window layers stop at their window;
    layers that share another layer's cache add nothing.

    >>> from tokenmath import model
    >>> kv_bytes_per_sequence(model("llama-3.1-8b"), 1000)
    131072000.0
    """
    check_model(model)
    ctx = v.non_negative("context", context)
    growing = sum(g.bytes_per_token for g in model.attention if g.window is None)
    with v.no_overflow("context"):
        total = growing * ctx
        for g in model.attention:
            if g.window is not None and g.bytes_per_token > 0:
                total = total + g.bytes_per_token * np.minimum(ctx, g.window)
    return v.scalar_or_array(total)


def kv_bytes_per_token(model: Model, context: v.ArrayLike | None = None) -> float | np.ndarray:
    """KV-cache bytes per token of context, ``b``, summed over layers.

    With ``context=None`` this is the growth rate for long contexts: the bytes each further
    token adds (sliding-window layers, being full, add none). With a context it is the
    average ``kv_bytes_per_sequence(model, context) / context``, which for a model without
    sliding windows is the same number at every context.

    >>> from tokenmath import model
    >>> kv_bytes_per_token(model("deepseek-v3"))   # 61 layers x 576 latent x 2 bytes
    70272.0
    >>> kv_bytes_per_token(model("gpt-oss-120b"))  # only the 18 full-attention layers grow
    36864.0
    """
    check_model(model)
    if context is None:
        return float(sum(g.bytes_per_token for g in model.attention if g.window is None))
    ctx = v.positive("context", context)
    return v.scalar_or_array(np.asarray(kv_bytes_per_sequence(model, ctx)) / ctx)


@dataclass(frozen=True)
class Hardware:
    """One accelerator: dense peak FLOP/s per precision, HBM bandwidth and capacity, price.

    ``flops_per_s`` maps a precision to dense (no structured sparsity) tensor FLOP/s;
    a precision the chip lacks is simply absent. ``usd_per_hour`` is a typical rental price
    per accelerator-hour on ``price_date`` (prices move fast: treat it as an example).
    """

    name: str
    flops_per_s: dict[str, float]
    hbm_bytes_per_s: float
    hbm_bytes: float
    usd_per_hour: float
    price_date: str = ""
    sources: tuple[str, ...] = ()
    notes: str = ""
    vendor: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.flops_per_s, dict) or not self.flops_per_s:
            raise ValueError("flops_per_s must name at least one precision; got none")
        for prec, flops in self.flops_per_s.items():
            check_precision(prec)
            v.positive_scalar(f"flops_per_s[{prec!r}]", flops)
        v.positive_scalar("hbm_bytes_per_s", self.hbm_bytes_per_s)
        v.positive_scalar("hbm_bytes", self.hbm_bytes)
        v.non_negative_scalar("usd_per_hour", self.usd_per_hour)

    def __hash__(self) -> int:
        # flops_per_s is a dict, so the generated hash would fail; hash its items instead.
        peaks = tuple(sorted(self.flops_per_s.items()))
        return hash((self.name, peaks, self.hbm_bytes_per_s, self.hbm_bytes, self.usd_per_hour))

    def flops(self, precision: str = "bf16") -> float:
        """Dense peak FLOP/s at ``precision``; raises if the chip has no such mode."""
        key = check_precision(precision)
        if key not in self.flops_per_s:
            have = ", ".join(repr(k) for k in self.flops_per_s)
            raise ValueError(
                f"precision {precision!r} is not supported by {self.name} (it has {have})"
            )
        return self.flops_per_s[key]

    def ops_per_byte(self, precision: str = "bf16") -> float:
        """``C / BW``: FLOPs the chip can do in the time it reads one byte (about 295 for an
        H100 SXM at BF16, the seed's "about 300")."""
        return self.flops(precision) / self.hbm_bytes_per_s


def check_model(model: object) -> Model:
    """Return ``model`` if it is a :class:`Model`, else raise a ``ValueError`` saying so."""
    if not isinstance(model, Model):
        raise ValueError(
            f"model must be a tokenmath Model (e.g. tm.model('deepseek-v3')); got {model!r}"
        )
    return model


def check_hardware(hw: object) -> Hardware:
    """Return ``hw`` if it is a :class:`Hardware`, else raise a ``ValueError`` saying so."""
    if not isinstance(hw, Hardware):
        raise ValueError(
            f"hw must be a tokenmath Hardware (e.g. tm.hardware('h100-sxm')); got {hw!r}"
        )
    return hw
