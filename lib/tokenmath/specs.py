"""What a model and an accelerator are, as far as decode cost is concerned.

Three frozen dataclasses:

* :class:`AttentionGroup`: a run of decoder layers that share one KV-cache layout
  (multi-head, grouped-query, multi-head latent, optionally a sliding window, or layers
  that reuse another layer's cache and store nothing);
* :class:`Model`: total and active parameters, the attention layout, the context limit;
* :class:`Hardware`: dense FLOP/s per precision, HBM bandwidth and capacity, a dated price.

Conventions used everywhere in the package:

* one decode step costs 2 FLOPs per *active* parameter per sequence (a multiply and an add);
  the attention arithmetic over the cache is left out unless an assumption set asks for it
  (:func:`attention_flops_per_token`, :class:`tokenmath.assumptions.Assumptions`);
* a weight takes 2 bytes at ``"bf16"``, 1 byte at ``"fp8"``, half a byte at ``"fp4"`` and
  4.25 bits at ``"mxfp4"`` (4-bit values plus one 8-bit scale per block of 32); the matching
  peak is the accelerator's dense (no-sparsity) tensor throughput at that precision
  (:func:`compute_precision` says which peak a format uses on a chip without it);
  ``"native"`` means the formats the model's released checkpoint uses;
* the KV cache is stored at 2 bytes per element (``kv_precision="bf16"``) or 1
  (``kv_precision="fp8"``).

Use ``dataclasses.replace`` to copy a preset with changes, e.g. an H100 with ten times
the bandwidth: ``replace(hardware("h100-sxm"), hbm_bytes_per_s=33.5e12)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from . import _validate as v
from ._validate import echo

Precision = Literal["bf16", "fp8", "fp4", "mxfp4", "native"]

#: Bytes that one weight occupies at each weight format (read-only). ``"mxfp4"`` is the OCP
#: microscaling format: 32 four-bit values share one 8-bit scale, 4.25 bits per weight.
BYTES_PER_WEIGHT: Mapping[str, float] = MappingProxyType(
    {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5, "mxfp4": 4.25 / 8}
)

#: Fields that make a copy of a model dense, as in ``replace(m, total_params=x, **NO_EXPERTS)``,
#: for a copy whose weights no longer split into shared and routed ones.
NO_EXPERTS: Mapping[str, float] = MappingProxyType(
    {"routed_params": 0.0, "routed_experts": 0, "experts_per_token": 0, "moe_layers": 0}
)

#: The weight precision that means "as the model was released" (see
#: :meth:`Model.weight_formats`).
NATIVE = "native"

#: Bytes per cached element at each KV-cache precision (read-only).
KV_BYTES_PER_ELEMENT: Mapping[str, float] = MappingProxyType({"bf16": 2.0, "fp8": 1.0})

#: The tensor-core mode a weight format computes in, when the chip has that mode.
_COMPUTE_MODE = MappingProxyType({"bf16": "bf16", "fp8": "fp8", "fp4": "fp4", "mxfp4": "fp4"})

#: Width order of the compute modes, narrowest first.
_WIDTH = ("fp4", "fp8", "bf16")

#: FLOPs per active parameter per generated token (one multiply-add).
FLOPS_PER_ACTIVE_PARAM = 2.0

AttentionKind = Literal["mha", "gqa", "mqa", "mla"]


def _check_choice(name: str, value: object, choices) -> str:
    key = value.lower() if isinstance(value, str) else None
    if key not in choices:
        valid = ", ".join(repr(k) for k in choices)
        raise ValueError(f"{name} must be one of {valid}; got {echo(value)}")
    return key


def check_precision(precision: str) -> str:
    """Return the weight ``precision`` lower-cased, or raise if it is not one we model."""
    return _check_choice("precision", precision, (*BYTES_PER_WEIGHT, NATIVE))


def check_kv_precision(kv_precision: str) -> str:
    """Return ``kv_precision`` lower-cased, or raise if it is not ``"bf16"`` or ``"fp8"``."""
    return _check_choice("kv_precision", kv_precision, KV_BYTES_PER_ELEMENT)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string; got {echo(name)}")


@dataclass(frozen=True)
class AttentionGroup:
    """``layers`` decoder layers that share one KV-cache layout.

    For multi-head (``"mha"``), grouped-query (``"gqa"``) and multi-query (``"mqa"``)
    attention each layer caches a key and a value vector per KV head:
    ``2 * kv_heads * head_dim`` elements per token. For multi-head latent attention
    (``"mla"``) each layer caches one compressed latent of ``latent_dim`` elements per token
    (DeepSeek's ``kv_lora_rank + qk_rope_head_dim``), of which ``rope_dim`` carry the rotary
    position part of the keys and take no part in the values.

    ``window``: a sliding-window layer keeps only the last ``window`` tokens, so its cache
    stops growing there. ``shares_kv=True``: the layers reuse a cache stored by other layers
    and add no bytes (cross-layer KV sharing). ``query_heads``: attention heads per layer,
    needed only for the attention arithmetic (:attr:`attention_flops_per_token_per_layer`).

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
    query_heads: int = 0
    rope_dim: int = 0

    def __post_init__(self) -> None:
        v.positive_int("layers", self.layers)
        if self.kind not in ("mha", "gqa", "mqa", "mla"):
            raise ValueError(
                f"kind must be one of 'mha', 'gqa', 'mqa', 'mla'; got {echo(self.kind)}"
            )
        if self.kind == "mla":
            v.positive_int("latent_dim", self.latent_dim)
            if not 0 <= self.rope_dim < self.latent_dim:
                raise ValueError(
                    f"rope_dim must be >= 0 and < latent_dim ({self.latent_dim}); "
                    f"got {echo(self.rope_dim)}"
                )
        else:
            v.positive_int("kv_heads", self.kv_heads)
            v.positive_int("head_dim", self.head_dim)
        if self.kind == "mqa" and self.kv_heads != 1:
            raise ValueError(f"kv_heads must be 1 for kind 'mqa'; got {echo(self.kv_heads)}")
        if self.window is not None:
            v.positive_int("window", self.window)
        if self.query_heads != 0:
            v.positive_int("query_heads", self.query_heads)
            if self.kind != "mla" and self.query_heads % self.kv_heads:
                raise ValueError(
                    f"query_heads must be a multiple of kv_heads ({self.kv_heads}); "
                    f"got {echo(self.query_heads)}"
                )

    @property
    def elements_per_token_per_layer(self) -> int:
        """Cached elements per token in one layer of this group."""
        if self.kind == "mla":
            return self.latent_dim
        return 2 * self.kv_heads * self.head_dim

    def cache_bytes_per_token(self, kv_precision: str = "bf16") -> float:
        """Cache bytes one token adds across this group while it is inside the window."""
        if self.shares_kv:
            return 0.0
        per_element = KV_BYTES_PER_ELEMENT[check_kv_precision(kv_precision)]
        return self.layers * self.elements_per_token_per_layer * per_element

    @property
    def bytes_per_token(self) -> float:
        """:meth:`cache_bytes_per_token` with a BF16 cache (2 bytes per element)."""
        return self.cache_bytes_per_token("bf16")

    @property
    def attention_flops_per_token_per_layer(self) -> float:
        """FLOPs one decode step spends on one cached token in one layer of this group.

        Each query head takes a dot product with the cached key (2 FLOPs per element) and
        adds the cached value weighted by its score (2 FLOPs per element). Grouped-query
        heads read the same key and value, so the count goes by *query* heads. Latent
        attention in the absorbed form that decode kernels run scores each query head against
        the whole latent (``latent_dim``) and sums values in the latent's non-rotary part
        (``latent_dim - rope_dim``). Layers that share another layer's cache still do this
        arithmetic.

        >>> AttentionGroup(layers=1, kind="mla", latent_dim=576, rope_dim=64,
        ...                query_heads=128).attention_flops_per_token_per_layer
        278528.0
        """
        if self.query_heads == 0:
            raise ValueError(
                "query_heads must be given (> 0) to count attention FLOPs; this "
                f"{self.kind} group has none"
            )
        if self.kind == "mla":
            score, value = self.latent_dim, self.latent_dim - self.rope_dim
        else:
            score = value = self.head_dim
        return 2.0 * self.query_heads * (score + value)


@dataclass(frozen=True)
class Model:
    """A decoder-only language model, as decode cost sees it.

    ``total_params`` are all the weights (every expert of a mixture-of-experts model);
    ``active_params`` are those each token is multiplied by. ``attention`` lists the layer
    groups whose KV cache each sequence carries. ``context_limit`` is the longest context
    the model supports, in tokens.

    A mixture-of-experts model also says how its weights split: ``routed_params`` are the
    weights of all routed experts in all layers (the part a token reads only a share of),
    ``routed_experts`` the experts per layer (E) and ``experts_per_token`` those each token
    is routed to (k). Everything else, :attr:`shared_params` (attention, dense layers,
    shared experts, embeddings, output head), is read by every step. A dense model leaves
    the three at 0.

    ``native_precision`` is the format of the released checkpoint's weights outside the
    routed experts, ``native_expert_precision`` that of the routed experts (empty: the
    same); ``precision="native"`` reads them.

    ``hidden_size`` is the width of the residual stream (``d_model``): the activations one
    token hands from layer to layer, which is what parallel serving sends between
    accelerators (:mod:`tokenmath.parallel`). ``moe_layers`` counts the layers with routed
    experts. Both are 0 where the preset does not give them.
    """

    name: str
    total_params: float
    active_params: float
    attention: tuple[AttentionGroup, ...]
    context_limit: int
    sources: tuple[str, ...] = ()
    notes: str = ""
    family: str = ""
    routed_params: float = 0.0
    routed_experts: int = 0
    experts_per_token: int = 0
    native_precision: str = "bf16"
    native_expert_precision: str = ""
    hidden_size: int = 0
    moe_layers: int = 0

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
        self._check_experts()
        _check_choice("native_precision", self.native_precision, BYTES_PER_WEIGHT)
        if self.native_expert_precision:
            _check_choice("native_expert_precision", self.native_expert_precision, BYTES_PER_WEIGHT)
        if self.hidden_size != 0:
            v.positive_int("hidden_size", self.hidden_size)
        if self.moe_layers != 0:
            moe = v.positive_int("moe_layers", self.moe_layers)
            if self.routed_params == 0:
                raise ValueError(f"moe_layers must be 0 for a dense model; got {moe}")

    def _check_experts(self) -> None:
        routed = v.non_negative_scalar("routed_params", self.routed_params)
        if routed == 0:
            if self.routed_experts or self.experts_per_token:
                raise ValueError(
                    "routed_params must be > 0 when routed_experts or experts_per_token is set; "
                    "got 0"
                )
            return
        if routed >= self.total_params:
            raise ValueError(
                f"routed_params must be < total_params ({self.total_params:g}); got {routed:g} "
                "(a dense copy of a mixture of experts: add **tokenmath.specs.NO_EXPERTS)"
            )
        experts = v.positive_int("routed_experts", self.routed_experts)
        per_token = v.positive_int("experts_per_token", self.experts_per_token)
        if per_token > experts:
            raise ValueError(
                f"experts_per_token must be <= routed_experts ({experts}); got {per_token}"
            )

    @property
    def layers(self) -> int:
        """Decoder layers, summed over the attention groups."""
        return sum(g.layers for g in self.attention)

    @property
    def inverse_sparsity(self) -> float:
        """``total_params / active_params``: 1 for a dense model, about 18 for DeepSeek-V3."""
        return self.total_params / self.active_params

    @property
    def shared_params(self) -> float:
        """Weights every decode step reads whatever the routing (all but the routed experts)."""
        return self.total_params - self.routed_params

    def weight_formats(self, precision: str = "bf16") -> tuple[str, str]:
        """``(shared, routed)`` storage formats of the weights at ``precision``."""
        prec = check_precision(precision)
        if prec != NATIVE:
            return prec, prec
        return self.native_precision, self.native_expert_precision or self.native_precision

    def weight_bytes(self, precision: str = "bf16", routed_share: v.ArrayLike = 1.0):
        """Bytes of weights read in one decode step at ``precision`` [bytes].

        ``routed_share`` is the share of the routed experts' weights the step reads (1: all
        of them, the first-order model; see :func:`routed_share_read`). It broadcasts.

        >>> from tokenmath import model
        >>> model("deepseek-v3").weight_bytes("fp8") / 1e9          # GB
        671.0
        >>> round(model("gpt-oss-120b").weight_bytes("native") / 1e9, 1)  # MXFP4 experts
        65.1
        """
        shared_fmt, routed_fmt = self.weight_formats(precision)
        shared = self.shared_params * BYTES_PER_WEIGHT[shared_fmt]
        if self.routed_params == 0:
            return shared if np.ndim(routed_share) == 0 else np.full(np.shape(routed_share), shared)
        routed = self.routed_params * BYTES_PER_WEIGHT[routed_fmt]
        if np.ndim(routed_share) == 0 and float(routed_share) == 1.0:
            return shared + routed
        return shared + routed * np.asarray(routed_share, dtype=float)

    def flops_per_token(self) -> float:
        """FLOPs to generate one token from the weights: 2 per active parameter."""
        return FLOPS_PER_ACTIVE_PARAM * self.active_params


def expected_experts_touched(model: Model, batch: v.ArrayLike) -> float | np.ndarray:
    """Distinct routed experts per layer that a step of ``batch`` sequences reads, expected.

    Each of the ``batch`` tokens picks ``k`` of the ``E`` routed experts. With uniform,
    independent routing an expert escapes one token with probability ``1 - k/E``, so it is
    touched by at least one with ``1 - (1 - k/E)^batch``, and ``E`` times that are read.
    Real routers are not uniform (load balancing pushes them toward it); the book derives
    this in the chapter on what the first-order model leaves out. 0 for a dense model.

    >>> from tokenmath import model
    >>> round(expected_experts_touched(model("deepseek-v3"), 1), 6)
    8.0
    >>> round(float(expected_experts_touched(model("deepseek-v3"), 128)), 1)
    251.6
    """
    check_model(model)
    share = routed_share_read(model, batch)
    return v.scalar_or_array(model.routed_experts * np.asarray(share))


def routed_share_read(model: Model, batch: v.ArrayLike) -> float | np.ndarray:
    """Expected share of the routed experts' weights a step of ``batch`` sequences reads.

    ``1 - (1 - k/E)^batch`` (see :func:`expected_experts_touched`): ``k/E`` at batch 1,
    close to 1 once the batch is several times ``E/k``. 1 for a dense model (all its
    weights are shared). ``batch`` may be an average and need not be whole.

    >>> from tokenmath import model
    >>> round(routed_share_read(model("deepseek-v3"), 1), 4)        # 8 of 256 experts
    0.0312
    >>> round(float(routed_share_read(model("deepseek-v3"), 128)), 3)
    0.983
    """
    check_model(model)
    b = v.positive("batch", batch)
    if model.routed_params == 0:
        return v.scalar_or_array(np.ones_like(b))
    miss = 1.0 - model.experts_per_token / model.routed_experts
    with np.errstate(under="ignore"):
        share = -np.expm1(b * np.log(miss)) if miss > 0 else np.ones_like(b)
    return v.scalar_or_array(share)


def batch_for_routed_share(model: Model, share: v.ArrayLike) -> float | np.ndarray:
    """Batch at which a step is expected to read ``share`` of the routed experts' weights.

    The inverse of :func:`routed_share_read`: solving ``1 - (1 - k/E)^B = share`` for ``B``
    gives ``log(1 - share) / log(1 - k/E)`` sequences (an average, not a whole batch).
    ``share`` must lie in (0, 1]; a share of 1 is reached only as the batch grows without
    bound (``math.inf``), unless every token reads every expert (``k = E``: batch 1 reads
    all). Raises for a dense model, whose every step reads all its weights.

    >>> from tokenmath import model
    >>> round(batch_for_routed_share(model("deepseek-v3"), 0.99), 1)
    145.1
    """
    check_model(model)
    if model.routed_params == 0:
        raise ValueError(
            f"model must be a mixture of experts (routed_experts > 0); {model.name} is dense "
            "and reads all its weights at every batch"
        )
    wanted = v.positive("share", share)
    if np.any(wanted > 1.0):
        i = v.first_index(wanted > 1.0)
        raise ValueError(f"share must be > 0 and <= 1; got {float(wanted[i]):g}")
    miss = 1.0 - model.experts_per_token / model.routed_experts
    if miss == 0:
        return v.scalar_or_array(np.ones_like(wanted))
    with np.errstate(divide="ignore"):  # a share of 1: log(0) = -inf, an unbounded batch
        batch = np.log1p(-wanted) / np.log(miss)
    return v.scalar_or_array(batch)


def attention_flops_per_token(model: Model, context: v.ArrayLike) -> float | np.ndarray:
    """FLOPs of attention arithmetic for one new token that attends to ``context`` tokens.

    The sum over layer groups of :attr:`AttentionGroup.attention_flops_per_token_per_layer`
    x layers x the tokens each layer attends to (``context``, or its window if shorter).

    >>> from tokenmath import model
    >>> round(attention_flops_per_token(model("deepseek-v3"), 1) / 1e6, 2)  # MFLOP per token
    16.99
    """
    check_model(model)
    ctx = v.non_negative("context", context)
    total = np.zeros_like(ctx)
    with v.no_overflow("context"):
        for g in model.attention:
            seen = ctx if g.window is None else np.minimum(ctx, g.window)
            total = total + g.layers * g.attention_flops_per_token_per_layer * seen
    return v.scalar_or_array(total)


def kv_bytes_per_sequence(
    model: Model, context: v.ArrayLike, kv_precision: str = "bf16"
) -> float | np.ndarray:
    """KV-cache bytes that one sequence with ``context`` tokens holds (and each step reads).

    Full-attention layers grow with every token; sliding-window layers stop at their window;
    layers that share another layer's cache add nothing. ``kv_precision``: ``"bf16"`` (2
    bytes per cached element) or ``"fp8"`` (1).

    >>> from tokenmath import model
    >>> kv_bytes_per_sequence(model("llama-3.1-8b"), 1000)
    131072000.0
    >>> kv_bytes_per_sequence(model("llama-3.1-8b"), 1000, kv_precision="fp8")
    65536000.0
    """
    check_model(model)
    kv = check_kv_precision(kv_precision)
    ctx = v.non_negative("context", context)
    growing = sum(g.cache_bytes_per_token(kv) for g in model.attention if g.window is None)
    with v.no_overflow("context"):
        total = growing * ctx
        for g in model.attention:
            if g.window is not None and g.cache_bytes_per_token(kv) > 0:
                total = total + g.cache_bytes_per_token(kv) * np.minimum(ctx, g.window)
    return v.scalar_or_array(total)


def kv_bytes_per_token(
    model: Model, context: v.ArrayLike | None = None, kv_precision: str = "bf16"
) -> float | np.ndarray:
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
    kv = check_kv_precision(kv_precision)
    if context is None:
        return float(sum(g.cache_bytes_per_token(kv) for g in model.attention if g.window is None))
    ctx = v.positive("context", context)
    return v.scalar_or_array(np.asarray(kv_bytes_per_sequence(model, ctx, kv)) / ctx)


@dataclass(frozen=True)
class Hardware:
    """One accelerator: dense peak FLOP/s per precision, HBM bandwidth and capacity, price.

    ``flops_per_s`` maps a tensor-core mode (``"bf16"``, ``"fp8"``, ``"fp4"``) to dense (no
    structured sparsity) FLOP/s; a mode the chip lacks is simply absent. It is stored
    read-only, so a preset cannot be changed by accident; copy one with
    ``dataclasses.replace(hw, flops_per_s={...})``. ``usd_per_hour`` is a typical rental
    price per accelerator-hour on ``price_date`` (prices move fast: treat it as an example).
    ``scaleup_bytes_per_s`` (NVLink or similar, inside a node) and ``scaleout_bytes_per_s``
    (the network between nodes) are per accelerator and per direction; 0 where not given.
    """

    name: str
    flops_per_s: Mapping[str, float]
    hbm_bytes_per_s: float
    hbm_bytes: float
    usd_per_hour: float
    price_date: str = ""
    sources: tuple[str, ...] = ()
    notes: str = ""
    vendor: str = ""
    scaleup_bytes_per_s: float = 0.0
    scaleout_bytes_per_s: float = 0.0

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.flops_per_s, Mapping) or not self.flops_per_s:
            raise ValueError("flops_per_s must name at least one precision; got none")
        for mode, flops in self.flops_per_s.items():
            _check_choice("flops_per_s precision", mode, _WIDTH)
            v.positive_scalar(f"flops_per_s[{mode!r}]", flops)
        object.__setattr__(self, "flops_per_s", MappingProxyType(dict(self.flops_per_s)))
        v.positive_scalar("hbm_bytes_per_s", self.hbm_bytes_per_s)
        v.positive_scalar("hbm_bytes", self.hbm_bytes)
        v.non_negative_scalar("usd_per_hour", self.usd_per_hour)
        v.non_negative_scalar("scaleup_bytes_per_s", self.scaleup_bytes_per_s)
        v.non_negative_scalar("scaleout_bytes_per_s", self.scaleout_bytes_per_s)

    def __hash__(self) -> int:
        # flops_per_s is a mapping, so the generated hash would fail; hash its items instead.
        peaks = tuple(sorted(self.flops_per_s.items()))
        return hash((self.name, peaks, self.hbm_bytes_per_s, self.hbm_bytes, self.usd_per_hour))

    def flops(self, precision: str = "bf16") -> float:
        """Dense peak FLOP/s in the tensor-core mode of ``precision``; raises if the chip has
        no such mode (``"mxfp4"`` uses the ``"fp4"`` mode; for ``"native"`` and weight-only
        formats see :func:`compute_precision`)."""
        key = check_precision(precision)
        if key == NATIVE:
            raise ValueError(
                "precision 'native' has no single peak: use compute_precision(model, hw, "
                "'native') to find the mode a model's released formats compute in"
            )
        mode = _COMPUTE_MODE[key]
        if mode not in self.flops_per_s:
            have = ", ".join(repr(k) for k in self.flops_per_s)
            raise ValueError(
                f"precision {precision!r} is not supported by {self.name} (it has {have})"
            )
        return self.flops_per_s[mode]

    def ops_per_byte(self, precision: str = "bf16") -> float:
        """``C / BW``: FLOPs the chip can do in the time it reads one byte (about 295 for an
        H100 SXM at BF16, the seed essay's "about 300")."""
        return self.flops(precision) / self.hbm_bytes_per_s


def compute_precision(model: Model, hw: Hardware, precision: str = "bf16") -> str:
    """The tensor-core mode (``"bf16"``, ``"fp8"`` or ``"fp4"``) a decode step runs in.

    ``"bf16"`` and ``"fp8"`` compute in their own mode and raise if the chip lacks it.
    A 4-bit format (``"fp4"``, ``"mxfp4"``) on a chip without FP4 tensor cores is modelled
    as *weight-only* quantization: the weights are stored and read at 4 bits but widened
    and multiplied in the chip's next wider mode (FP8, else BF16). ``"native"`` reads the
    checkpoint's formats and computes in the widest mode any of them needs (gpt-oss's BF16
    attention sets BF16 for its MXFP4 experts too), each widened the same way when missing.

    >>> from tokenmath import model, hardware
    >>> compute_precision(model("deepseek-v3"), hardware("h100-sxm"), "native")
    'fp8'
    >>> compute_precision(model("llama-3.1-8b"), hardware("h100-sxm"), "fp4")  # weight-only
    'fp8'
    """
    check_model(model)
    check_hardware(hw)
    prec = check_precision(precision)
    if prec in ("bf16", "fp8"):
        hw.flops(prec)  # raises if the chip lacks the mode
        return prec
    modes = [_available_mode(hw, _COMPUTE_MODE[f]) for f in model.weight_formats(prec)]
    return max(modes, key=_WIDTH.index)


def _available_mode(hw: Hardware, mode: str) -> str:
    """``mode`` if the chip has it, else the next wider mode it has."""
    for wider in _WIDTH[_WIDTH.index(mode) :]:
        if wider in hw.flops_per_s:
            return wider
    have = ", ".join(repr(k) for k in hw.flops_per_s)
    raise ValueError(f"{hw.name} has no tensor-core mode as wide as {mode!r} (it has {have})")


def check_model(model: object) -> Model:
    """Return ``model`` if it is a :class:`Model`, else raise a ``ValueError`` saying so."""
    if not isinstance(model, Model):
        raise ValueError(
            f"model must be a tokenmath Model (e.g. tm.model('deepseek-v3')); got {echo(model)}"
        )
    return model


def check_hardware(hw: object) -> Hardware:
    """Return ``hw`` if it is a :class:`Hardware`, else raise a ``ValueError`` saying so."""
    if not isinstance(hw, Hardware):
        raise ValueError(
            f"hw must be a tokenmath Hardware (e.g. tm.hardware('h100-sxm')); got {echo(hw)}"
        )
    return hw
