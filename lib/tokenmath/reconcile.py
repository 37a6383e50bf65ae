"""The model held against every published measurement, and DeepSeek's day of serving reconciled.

Two questions, both answered with the library's physics and the shipped data
(:func:`tokenmath.measured.measurements`), nothing typed:

1. **How far is each measurement from the model?** :func:`compare` puts every measured (or
   estimated, or simulated) throughput and latency beside the model's first-order bound
   (:data:`~tokenmath.assumptions.FIRST_ORDER`), its refined bound (with the attention
   arithmetic) and the calibrated prediction (:data:`~tokenmath.calibration.CALIBRATED` plus the
   costs of splitting the model across accelerators), under the measurement's own conditions. A
   bound limits speed from above: a measurement faster than its bound means the model or the
   conditions are wrong. 2. **Where does the gap between a large expert-parallel deployment and
   its bound go?** For DeepSeek-V3 served on H800s (DeepSeek's day of production) and SGLang's
   reproduction on H100s, :func:`decode_throughput` and :func:`prefill_throughput` add the terms
   the roofline leaves out, one switch each (:data:`TERMS`):

   ``"attention"``
       the arithmetic of attending to the cache (absorbed MLA) at the BF16 peak: DeepSeek
       runs its core MLA computations in BF16 and its matrix multiplies in FP8;
   ``"replicated"``
       data-parallel attention: every GPU holds and reads a whole copy of the attention,
       shared-expert and dense weights, plus its share of the routed and redundant experts
       (:func:`tokenmath.parallel.weight_bytes_per_gpu`);
   ``"all_to_all"``
       the expert-parallel dispatch (FP8) and combine (BF16) of every token over NVLink and
       InfiniBand (:func:`tokenmath.parallel.expert_parallel_seconds`; prefill forwards inside
       the node, decode sends every copy directly), overlapped with the arithmetic (two
       micro-batches): a step takes the longest of memory, arithmetic and communication;
   ``"efficiencies"``
       memory and arithmetic at the calibrated efficiencies (fitted on vLLM runs of Llama:
       this carries a gap measured on one software stack over to another);
   ``"mtp"``
       multi-token prediction: one drafted token per step, accepted at the middle of the
       range DeepSeek reports (:func:`mtp`). Neither source says it was on.

   :func:`shapley_shares` splits the logarithm of the gap between the bound and the
   measurement among the terms, averaging each term's effect over every order of switching
   them on, so that the shares do not depend on an arbitrary order; :func:`ledgers` does this
   for both phases of both deployments and :func:`deepseek_day_at` recomputes the day's
   fleet, cost and margin with any set of terms.

Units: tokens per second per GPU unless a name says per node; seconds; USD. DeepSeek does not
publish its decode batch; :func:`little_batch` backs it out of the published throughput and
per-request speed (Little's law).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from itertools import permutations

import numpy as np

from . import _validate as v
from . import fleet
from .assumptions import FIRST_ORDER, Assumptions
from .calibration import ALLREDUCE_LATENCY_S, CALIBRATED, predicted_throughput, sweep_points
from .measured import Measurement, measurement, measurements
from .parallel import expert_parallel_seconds, tensor_parallel_seconds, weight_bytes_per_gpu
from .prefill import prefill_attention_flops, prefill_terms, prefill_time
from .presets import hardware, model
from .roofline import step_time, step_time_terms
from .specs import AttentionGroup, Hardware, Model, attention_flops_per_token

__all__ = [
    "DEEPSEEK_DECODE",
    "DEEPSEEK_PREFILL",
    "SGLANG_DECODE",
    "SGLANG_PREFILL",
    "TERMS",
    "Comparison",
    "DayAtModel",
    "EPLayout",
    "Ledger",
    "attended_per_computed_token",
    "compare",
    "day_cost_shares",
    "deepseek_day_at",
    "deepseek_decode_batch",
    "decode_throughput",
    "fastertransformer_model",
    "ledgers",
    "little_batch",
    "mtp",
    "prefill_throughput",
    "shapley_shares",
]

#: The terms that separate an expert-parallel deployment from the roofline.
TERMS = ("attention", "replicated", "all_to_all", "efficiencies", "mtp")


def mtp(acceptance: float | None = None) -> Assumptions:
    """DeepSeek-V3's multi-token prediction as an assumption: one drafted token per step,
    accepted with probability ``acceptance`` (default: the middle of the 85-90% the V3
    report gives, read from the data).

    >>> a = mtp()
    >>> a.draft_tokens, a.accepted_tokens
    (1, 0.875)
    """
    if acceptance is None:
        low = measurement("deepseek-v3-mtp", "mtp_acceptance_min").value
        high = measurement("deepseek-v3-mtp", "mtp_acceptance_max").value
        acceptance = 0.5 * (low + high)
    share = v.non_negative_scalar("acceptance", acceptance)
    if share > 1:
        raise ValueError(f"acceptance must be >= 0 and <= 1; got {share!r}")
    return Assumptions(draft_tokens=1, accepted_tokens=share)


@dataclass(frozen=True)
class EPLayout:
    """An expert-parallel deployment unit: ``gpus`` share the experts, ``gpus_per_node`` to a
    node, ``redundant_experts`` extra expert copies per layer; attention and shared experts
    data-parallel (a copy on every GPU). ``forward_in_node``: the all-to-all crosses the
    network once per remote node and fans out over NVLink (prefill kernels), else each copy
    goes straight to its GPU (decode kernels)."""

    gpus: int
    gpus_per_node: int
    redundant_experts: int = 0
    forward_in_node: bool = False

    def __post_init__(self) -> None:
        n = v.gpu_count(self.gpus)
        per_node = v.gpu_count(self.gpus_per_node, "gpus_per_node")
        if per_node > n or n % per_node:
            raise ValueError(f"gpus_per_node must divide gpus ({n}); got {per_node}")
        v.non_negative_scalar("redundant_experts", self.redundant_experts)


#: DeepSeek's decode unit (day 6), 18 nodes, EP144 and DP144, 32 redundant experts.
DEEPSEEK_DECODE = EPLayout(gpus=144, gpus_per_node=8, redundant_experts=32)
#: DeepSeek's prefill unit (day 6), 4 nodes, EP32 and DP32, 32 redundant experts.
DEEPSEEK_PREFILL = EPLayout(gpus=32, gpus_per_node=8, redundant_experts=32, forward_in_node=True)
#: SGLang's decode deployment, 9 nodes, EP72 with DP attention (redundant experts not stated).
SGLANG_DECODE = EPLayout(gpus=72, gpus_per_node=8)
#: SGLang's prefill deployment, 4 nodes, EP32 with DP attention.
SGLANG_PREFILL = EPLayout(gpus=32, gpus_per_node=8, forward_in_node=True)


def _check_terms(terms: Iterable[str]) -> frozenset[str]:
    if isinstance(terms, str):
        terms = (terms,)
    chosen = frozenset(terms)
    unknown = chosen - set(TERMS)
    if unknown:
        valid = ", ".join(repr(t) for t in TERMS)
        raise ValueError(f"terms must be drawn from {valid}; got {sorted(unknown)!r}")
    return chosen


def _assumptions(terms: frozenset[str], calibrated: Assumptions, drafts: Assumptions):
    """The roofline's share of ``terms``: the efficiencies and the drafted tokens."""
    assume = FIRST_ORDER
    if "efficiencies" in terms:
        assume = replace(
            assume,
            mem_efficiency=calibrated.mem_efficiency,
            compute_efficiency=calibrated.compute_efficiency,
        )
    if "mtp" in terms:
        assume = replace(
            assume, draft_tokens=drafts.draft_tokens, accepted_tokens=drafts.accepted_tokens
        )
    return assume


def _extra_weight_seconds(model, hw, layout, precision, assume, terms) -> float:
    """Seconds per pass to read each GPU's replicated weights beyond its roofline share."""
    if "replicated" not in terms:
        return 0.0
    own = weight_bytes_per_gpu(
        model, precision, layout.gpus, redundant_experts=layout.redundant_experts
    )
    extra = own - model.weight_bytes(precision) / layout.gpus
    return extra / (hw.hbm_bytes_per_s * assume.mem_efficiency)


def _attention_seconds(flops_per_gpu: float, hw: Hardware, assume: Assumptions) -> float:
    """Seconds of attention arithmetic at the BF16 peak (DeepSeek's MLA core runs in BF16)."""
    return flops_per_gpu / (hw.flops("bf16") * assume.compute_efficiency)


def _comm_seconds(model, hw, layout: EPLayout, tokens: float, terms) -> float:
    if "all_to_all" not in terms:
        return 0.0
    return float(
        expert_parallel_seconds(
            model,
            hw,
            tokens,
            layout.gpus,
            layout.gpus_per_node,
            forward_in_node=layout.forward_in_node,
        )
    )


def _step_seconds(t_mem, t_comp, t_comm: float, overlap: bool) -> float:
    """A pass's seconds: the longest of its three parts, or with ``overlap=False`` the
    longer of memory and arithmetic plus the communication."""
    if not isinstance(overlap, bool):
        raise ValueError(f"overlap must be True or False; got {v.echo(overlap)}")
    busy = max(float(t_mem), float(t_comp))
    return max(busy, t_comm) if overlap else busy + t_comm


def decode_throughput(
    model: Model,
    hw: Hardware,
    layout: EPLayout,
    batch_per_gpu: float,
    context: float,
    terms: Iterable[str] = (),
    *,
    precision: str = "native",
    kv_precision: str = "bf16",
    calibrated: Assumptions = CALIBRATED,
    drafts: Assumptions | None = None,
    overlap: bool = True,
) -> float:
    """Output tokens per second per GPU of an expert-parallel decode unit, with ``terms`` on.

    With no terms this is the first-order roofline of the whole unit (``layout.gpus`` GPUs, a
    batch of ``batch_per_gpu x gpus`` sequences at ``context``) divided by its GPUs. Each
    term of :data:`TERMS` adds what the module's description says; ``drafts`` is the
    ``"mtp"`` term's assumption (default :func:`mtp`). ``overlap=False`` adds the all-to-all
    to the step instead of hiding it behind memory and arithmetic (no micro-batching).

    >>> from tokenmath import model, hardware
    >>> m, h800 = model("deepseek-v3"), hardware("h800")
    >>> round(decode_throughput(m, h800, DEEPSEEK_DECODE, 128, 4989))
    8657
    >>> round(decode_throughput(m, h800, DEEPSEEK_DECODE, 128, 4989, ["all_to_all"]))
    5306
    """
    chosen = _check_terms(terms)
    batch = v.positive_scalar("batch_per_gpu", batch_per_gpu)
    ctx = v.non_negative_scalar("context", context)
    if "mtp" in chosen and drafts is None:
        drafts = mtp()
    assume = _assumptions(chosen, calibrated, drafts or FIRST_ORDER)
    n = layout.gpus
    t_mem, t_comp = step_time_terms(
        model, hw, batch * n, ctx, precision, n, kv_precision=kv_precision, assume=assume
    )
    t_mem += _extra_weight_seconds(model, hw, layout, precision, assume, chosen)
    tokens_in = batch * assume.verified_tokens  # tokens per GPU through the model per step
    if "attention" in chosen:
        per_token = float(attention_flops_per_token(model, ctx))
        t_comp += _attention_seconds(tokens_in * per_token, hw, assume)
    t_comm = _comm_seconds(model, hw, layout, tokens_in, chosen)
    return batch * assume.tokens_per_step / _step_seconds(t_mem, t_comp, t_comm, overlap)


def prefill_throughput(
    model: Model,
    hw: Hardware,
    layout: EPLayout,
    tokens_per_gpu: float,
    attended_tokens: float,
    terms: Iterable[str] = (),
    *,
    precision: str = "native",
    kv_precision: str = "bf16",
    calibrated: Assumptions = CALIBRATED,
    overlap: bool = True,
) -> float:
    """Computed input tokens per second per GPU of an expert-parallel prefill unit.

    Each GPU runs passes of ``tokens_per_gpu`` new tokens (one weight read per pass); each
    token attends to ``attended_tokens`` tokens on average (:func:`attended_per_computed_token`).
    Terms and ``overlap`` as for :func:`decode_throughput`; ``"mtp"`` does not apply to
    prefill.

    >>> from tokenmath import model, hardware
    >>> m, h800 = model("deepseek-v3"), hardware("h800")
    >>> round(prefill_throughput(m, h800, DEEPSEEK_PREFILL, 16384, 4989))   # C / (2 x 37B)
    26742
    """
    chosen = _check_terms(terms) - {"mtp"}
    tokens = v.positive_scalar("tokens_per_gpu", tokens_per_gpu)
    attended = v.non_negative_scalar("attended_tokens", attended_tokens)
    assume = _assumptions(chosen, calibrated, FIRST_ORDER)
    n = layout.gpus
    t_mem, t_comp = prefill_terms(
        model, hw, tokens, n, precision, n, kv_precision=kv_precision, assume=assume
    )
    t_mem += _extra_weight_seconds(model, hw, layout, precision, assume, chosen)
    if "attention" in chosen:
        per_token = float(attention_flops_per_token(model, attended))
        t_comp += _attention_seconds(tokens * per_token, hw, assume)
    t_comm = _comm_seconds(model, hw, layout, tokens, chosen)
    return tokens / _step_seconds(t_mem, t_comp, t_comm, overlap)


def shapley_shares(
    value: Callable[[frozenset[str]], float], terms: Iterable[str]
) -> dict[str, float]:
    """Each term's share of ``log(value(no terms) / value(all terms))``, averaged over every
    order of switching the terms on (Shapley values); the shares add up to the whole.

    >>> shares = shapley_shares(lambda on: 100.0 / 2 ** len(on), ["a", "b"])
    >>> {k: round(s / math.log(4), 2) for k, s in shares.items()}
    {'a': 0.5, 'b': 0.5}
    """
    names = list(dict.fromkeys(terms))
    if not names:
        return {}
    logs: dict[frozenset[str], float] = {}

    def log_value(on: frozenset[str]) -> float:
        if on not in logs:
            logs[on] = math.log(value(on))
        return logs[on]

    totals = dict.fromkeys(names, 0.0)
    orders = list(permutations(names))
    for order in orders:
        on: frozenset[str] = frozenset()
        for name in order:
            after = on | {name}
            totals[name] += log_value(on) - log_value(after)
            on = after
    return {name: total / len(orders) for name, total in totals.items()}


# --- Little's law and what the data do not state --------------------------------------------


def little_batch(tokens_per_s: v.ArrayLike, tokens_per_s_per_request: v.ArrayLike):
    """Sequences in service from a throughput and each request's own speed (Little's law:
    in service = arrival rate x time in service = tokens/s / tokens/s per request).

    >>> little_batch(1850.0, 20.0)
    92.5
    """
    rate = v.positive("tokens_per_s", tokens_per_s)
    speed = v.positive("tokens_per_s_per_request", tokens_per_s_per_request)
    rate, speed = v.broadcast(tokens_per_s=rate, tokens_per_s_per_request=speed)
    return v.scalar_or_array(rate / speed)


def deepseek_decode_batch() -> float:
    """Sequences per H800 during DeepSeek's decode: the published output tokens per second
    per GPU over the middle of the published per-request speed (:func:`little_batch`)."""
    row = measurement("deepseek-production", "decode_throughput")
    speed = 0.5 * (
        measurement("deepseek-production", "output_speed_min").value
        + measurement("deepseek-production", "output_speed_max").value
    )
    return float(little_batch(row.value / row.chips_per_node, speed))


def attended_per_computed_token(
    kv_length: float, input_tokens: float, output_tokens: float, cache_hit_share: float
) -> float:
    """Tokens a computed prompt token attends to on average, if every request were alike.

    Each request has a prompt of ``P`` tokens whose first ``h P`` are cached, then writes
    ``o P`` tokens (``o`` = output over input tokens). Its decode steps read ``P + o P / 2``
    tokens on average, which the published ``kv_length`` fixes; its computed prompt tokens,
    positions ``h P`` to ``P``, attend to ``(1 + h) P / 2`` on average.

    >>> round(attended_per_computed_token(4989, 608e9, 168e9, 0.563))
    3426
    """
    length = v.positive_scalar("kv_length", kv_length)
    ratio = v.non_negative_scalar("output_tokens", output_tokens) / v.positive_scalar(
        "input_tokens", input_tokens
    )
    hit = v.non_negative_scalar("cache_hit_share", cache_hit_share)
    if hit >= 1:
        raise ValueError(f"cache_hit_share must be >= 0 and < 1; got {hit!r}")
    prompt = length / (1.0 + ratio / 2.0)
    return prompt * (1.0 + hit) / 2.0


def _deepseek(metric: str) -> float:
    return measurement("deepseek-production", metric).value


def _deepseek_prefill_attended() -> float:
    return attended_per_computed_token(
        _deepseek("kv_length_per_output_token"),
        _deepseek("input_tokens"),
        _deepseek("output_tokens"),
        _deepseek("cache_hit_share"),
    )


def _prompt_attended(model: Model, prompt_tokens: float) -> float:
    """Average tokens a prompt's tokens attend to, from the prefill arithmetic ((P+1)/2 for
    full attention)."""
    per_attended = float(attention_flops_per_token(model, 1.0))
    return float(prefill_attention_flops(model, prompt_tokens)) / prompt_tokens / per_attended


def _deepseek_pass_tokens() -> int:
    return measurement("deepseek-production", "prefill_throughput_excl_cache_hit").batch


# --- The ledgers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """A measured throughput beside the model with the gap's terms switched on.

    Throughputs are tokens per second per GPU (output tokens for ``phase="decode"``,
    computed input tokens for ``"prefill"``). ``shares`` splits ``log(bound / measured)``
    among ``terms`` (Shapley values, :func:`shapley_shares`); the rest is
    :attr:`unexplained` (negative when the terms together overshoot the measurement).
    """

    case: str
    phase: str
    #: The conditions assumed, in words.
    conditions: str
    measured: float
    #: The first-order bound.
    bound: float
    #: The model with every term of ``terms`` on.
    modelled: float
    terms: tuple[str, ...]
    shares: dict[str, float]

    @property
    def gap(self) -> float:
        """The whole gap, log(bound / measured), in natural-log units."""
        return math.log(self.bound / self.measured)

    @property
    def unexplained(self) -> float:
        """What the terms leave of the gap, log(modelled / measured)."""
        return math.log(self.modelled / self.measured)

    def fraction(self, term: str) -> float:
        """``term``'s share as a fraction of the whole gap (the fractions of the terms and
        :attr:`unexplained_fraction` add up to 1)."""
        return self.shares[term] / self.gap

    @property
    def unexplained_fraction(self) -> float:
        """The unexplained part as a fraction of the whole gap."""
        return self.unexplained / self.gap


def _ledger(case, phase, conditions, measured, rate, terms) -> Ledger:
    names = tuple(terms)
    return Ledger(
        case=case,
        phase=phase,
        conditions=conditions,
        measured=measured,
        bound=rate(frozenset()),
        modelled=rate(frozenset(names)),
        terms=names,
        shares=shapley_shares(rate, names),
    )


def _measured_row(case: str, metric: str) -> Measurement:
    rows = [r for r in measurements(case=case, metric=metric) if r.kind == "measured"]
    if len(rows) != 1:
        raise ValueError(f"case {case!r} has {len(rows)} measured {metric} rows, not one")
    return rows[0]


def _sglang_prefill_row(prompt_tokens: float) -> Measurement:
    for row in measurements(case="sglang-prefill", metric="prefill_throughput"):
        if row.kind == "measured" and row.input_tokens == prompt_tokens:
            return row
    raise ValueError(f"no measured SGLang prefill at {prompt_tokens!r}-token prompts")


def _sglang_pass_tokens() -> int:
    batches = {r.batch for r in measurements(case="sglang-prefill") if r.batch}
    if len(batches) != 1:
        raise ValueError(f"SGLang's prefill rows state {len(batches)} pass sizes, not one")
    return batches.pop()


@cache
def ledgers(*, with_mtp: bool = False) -> dict[str, Ledger]:
    """The four reconciled throughputs, keyed ``"deepseek-decode"``, ``"deepseek-prefill"``,
    ``"sglang-decode"`` and ``"sglang-prefill"``, with the terms of :data:`TERMS`
    (``"mtp"`` only with ``with_mtp``: neither source says it was on).

    DeepSeek: H800, native FP8 weights, BF16 cache; decode at the day's 4,989-token average
    context and :func:`deepseek_decode_batch` sequences per GPU; prefill in passes of 16,384
    tokens per GPU (SGLang's reading of DeepSeek's profile), cache hits not computed, each
    computed token attending to :func:`attended_per_computed_token`. SGLang: H100, FP8
    weights, BF16 cache; decode at 256 sequences per GPU and 2,000 tokens; prefill of
    2,048-token prompts in passes of 16,384 tokens per GPU.

    >>> d = ledgers()["deepseek-decode"]
    >>> round(d.measured), round(d.bound), round(d.modelled)
    (1850, 8303, 3232)
    """
    m = model("deepseek-v3")
    terms = TERMS if with_mtp else TERMS[:-1]
    prefill_terms_ = TERMS[:-1]
    out: dict[str, Ledger] = {}

    row = measurement("deepseek-production", "decode_throughput")
    h800, batch, ctx = hardware(row.chip), deepseek_decode_batch(), row.context
    out["deepseek-decode"] = _ledger(
        row.case,
        "decode",
        f"{h800.name.upper()}, EP{DEEPSEEK_DECODE.gpus}, {batch:.1f} sequences per GPU "
        f"(Little's law), context {ctx:,.0f} tokens",
        row.value / row.chips_per_node,
        lambda on: decode_throughput(m, h800, DEEPSEEK_DECODE, batch, ctx, on),
        terms,
    )
    row = measurement("deepseek-production", "prefill_throughput")
    computed = row.value * (1.0 - _deepseek("cache_hit_share")) / row.chips_per_node
    passes, attended = _deepseek_pass_tokens(), _deepseek_prefill_attended()
    out["deepseek-prefill"] = _ledger(
        row.case,
        "prefill",
        f"{h800.name.upper()}, EP{DEEPSEEK_PREFILL.gpus}, {passes:,} tokens per GPU per pass, "
        f"each attending to {attended:,.0f} tokens, cache hits not computed",
        computed,
        lambda on: prefill_throughput(m, h800, DEEPSEEK_PREFILL, passes, attended, on),
        prefill_terms_,
    )

    row = _measured_row("sglang-decode", "decode_throughput")
    h100 = hardware(row.chip)
    out["sglang-decode"] = _ledger(
        row.case,
        "decode",
        f"H100, EP{SGLANG_DECODE.gpus}, {row.batch} sequences per GPU, context "
        f"{row.context:,.0f} tokens",
        row.value / row.chips_per_node,
        lambda on: decode_throughput(m, h100, SGLANG_DECODE, row.batch, row.context, on),
        terms,
    )
    prow, passes = _sglang_prefill_row(2048.0), _sglang_pass_tokens()
    attended = _prompt_attended(m, prow.input_tokens)
    out["sglang-prefill"] = _ledger(
        prow.case,
        "prefill",
        f"H100, EP{SGLANG_PREFILL.gpus}, {prow.input_tokens:,.0f}-token prompts, "
        f"{passes:,} tokens per GPU per pass",
        prow.value / prow.chips_per_node,
        lambda on: prefill_throughput(m, h100, SGLANG_PREFILL, passes, attended, on),
        prefill_terms_,
    )
    return out


# --- DeepSeek's day at the model's throughputs -----------------------------------------------


@dataclass(frozen=True)
class DayAtModel:
    """DeepSeek's day had prefill and decode run at the model's throughputs (``terms`` on)."""

    terms: tuple[str, ...]
    #: Computed input tokens per second per node, and output tokens per second per node.
    prefill_tokens_per_s_per_node: float
    decode_tokens_per_s_per_node: float
    #: Nodes kept busy by the day's tokens at those throughputs.
    prefill_nodes: float
    decode_nodes: float
    nodes: float
    #: The day's cost at the lease, and the margin at list prices on it.
    cost_usd: float
    cost_profit_margin: float
    #: USD of decode GPU time per million output tokens.
    decode_usd_per_million_output: float


def deepseek_day_at(terms: Iterable[str] = ()) -> DayAtModel:
    """DeepSeek's day (:func:`tokenmath.fleet.deepseek_day`) at the model's throughputs.

    The day's computed input tokens (cache hits are not computed) and output tokens, served
    at :func:`prefill_throughput` and :func:`decode_throughput` with ``terms`` on, keep this
    many nodes busy; at the published lease they cost this much; against the published
    revenue at list prices that is this margin.

    >>> bound = deepseek_day_at()
    >>> round(bound.nodes, 1), round(bound.cost_usd), round(bound.cost_profit_margin, 1)
    (43.6, 16761, 32.5)
    """
    chosen = _check_terms(terms)
    day = fleet.deepseek_day()
    m = model("deepseek-v3")
    h800 = hardware(measurement("deepseek-production", "decode_throughput").chip)
    ctx = _deepseek("kv_length_per_output_token")
    gpus = day.gpus_per_node
    decode = gpus * decode_throughput(
        m, h800, DEEPSEEK_DECODE, deepseek_decode_batch(), ctx, chosen
    )
    prefill = gpus * prefill_throughput(
        m, h800, DEEPSEEK_PREFILL, _deepseek_pass_tokens(), _deepseek_prefill_attended(), chosen
    )
    seconds = day.hours * fleet.SECONDS_PER_HOUR
    computed = _deepseek("input_tokens") - day.cache_hit_tokens
    prefill_nodes = float(fleet.busy_nodes(computed, prefill, seconds))
    decode_nodes = float(fleet.busy_nodes(_deepseek("output_tokens"), decode, seconds))
    nodes = prefill_nodes + decode_nodes
    cost = float(fleet.daily_cost(nodes, gpus, day.usd_per_gpu_hour, day.hours))
    return DayAtModel(
        terms=tuple(t for t in TERMS if t in chosen),
        prefill_tokens_per_s_per_node=prefill,
        decode_tokens_per_s_per_node=decode,
        prefill_nodes=prefill_nodes,
        decode_nodes=decode_nodes,
        nodes=nodes,
        cost_usd=cost,
        cost_profit_margin=float(fleet.cost_profit_margin(day.revenue_usd, cost)),
        decode_usd_per_million_output=float(
            fleet.usd_per_million_tokens(decode, gpus, day.usd_per_gpu_hour)
        ),
    )


def day_cost_shares(terms: Iterable[str] = TERMS[:-1]) -> dict[str, float]:
    """Each term's share of ``log(cost with the terms / cost at the bound)`` for DeepSeek's
    day (Shapley values over ``terms``)."""
    chosen = tuple(_check_terms(terms))
    return shapley_shares(lambda on: 1.0 / deepseek_day_at(on).cost_usd, chosen)


# --- Every measurement beside the model -----------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One measurement beside the model's first-order bound, refined bound and calibrated
    prediction, all in the measurement's ``unit``.

    ``faster_is_higher``: a throughput (True) or a latency (False). The ratios are speed
    ratios, measured speed over the model's: at most 1 for a bound that holds.
    """

    id: str
    case: str
    kind: str
    metric: str
    unit: str
    #: A short name for tables and figures.
    label: str
    measured: float
    first_order: float
    refined: float
    calibrated: float
    faster_is_higher: bool
    #: What was assumed where the source is silent, in words.
    conditions: str

    def ratio(self, model_value: float) -> float:
        """Measured speed over the speed of ``model_value`` (same unit)."""
        if self.faster_is_higher:
            return self.measured / model_value
        return model_value / self.measured

    @property
    def ratio_first_order(self) -> float:
        return self.ratio(self.first_order)

    @property
    def ratio_refined(self) -> float:
        return self.ratio(self.refined)

    @property
    def ratio_calibrated(self) -> float:
        return self.ratio(self.calibrated)


def fastertransformer_model() -> Model:
    """The 13B dense model of the FasterTransformer measurements (llm-analysis's test-13b:
    40 layers, d_model 5120, 40 heads of 128, multi-head attention), parameter count from
    the data (no preset)."""
    row = measurements(case="fastertransformer-13b")[0]
    return Model(
        name="test-13b",
        total_params=row.model_params,
        active_params=row.model_params,
        attention=(
            AttentionGroup(layers=40, kind="mha", kv_heads=40, head_dim=128, query_heads=40),
        ),
        context_limit=2048,
        hidden_size=5120,
        sources=("cli99/llm-analysis llm_analysis/model_configs/test-13b.json",),
        notes="Built for the FasterTransformer comparison; not a preset.",
    )


def _vllm_comparisons() -> list[Comparison]:
    out = []
    for p in sweep_points():
        gpu_note = "H100 SXM (assumed: not stated)" if p.case == "vllm-llama-8b" else "H100 SXM"
        size = "70B" if "70b" in p.case else "8B"
        out.append(
            Comparison(
                id=p.id,
                case=p.case,
                kind="measured",
                metric="output_throughput",
                unit="tokens/s",
                label=f"vLLM {size} batch {p.batch}",
                measured=p.measured,
                first_order=predicted_throughput(p),
                refined=predicted_throughput(p, replace(FIRST_ORDER, attention_flops=True)),
                calibrated=predicted_throughput(
                    p, CALIBRATED, allreduce_latency_s=ALLREDUCE_LATENCY_S
                ),
                faster_is_higher=True,
                conditions=f"{gpu_note}, BF16, {p.gpus} GPU(s), waves of max_batch",
            )
        )
    return out


def _fastertransformer_ms(m: Model, row: Measurement, assume, latency: float | None) -> float:
    """Milliseconds the model gives for ``row``'s metric: one prompt pass, then one decode
    step per output token (the source's total is the prefill plus ten decode steps)."""
    hw, n = hardware(row.chip), int(row.chips)
    prompt = row.input_tokens
    contexts = prompt + np.arange(int(row.output_tokens))
    pre = float(prefill_time(m, hw, prompt, 1, "bf16", n, assume=assume))
    dec = np.asarray(step_time(m, hw, 1, contexts, "bf16", n, assume=assume))
    if latency is not None:
        pre += float(tensor_parallel_seconds(m, hw, prompt, n, latency_s=latency))
        dec = dec + float(tensor_parallel_seconds(m, hw, 1, n, latency_s=latency))
    if row.metric == "prefill_latency":
        return 1e3 * pre
    if row.metric == "decode_latency_per_token":
        return 1e3 * float(np.mean(dec))
    return 1e3 * (pre + float(np.sum(dec)))


def _fastertransformer_comparisons() -> list[Comparison]:
    m = fastertransformer_model()
    refined = replace(FIRST_ORDER, attention_flops=True)
    part = {"prefill_latency": "prefill", "decode_latency_per_token": "decode"}
    return [
        Comparison(
            id=row.id,
            case=row.case,
            kind=row.kind,
            metric=row.metric,
            unit=row.unit,
            label=f"FT 13B TP{row.chips} {part.get(row.metric, 'total')}",
            measured=row.value,
            first_order=_fastertransformer_ms(m, row, FIRST_ORDER, None),
            refined=_fastertransformer_ms(m, row, refined, None),
            calibrated=_fastertransformer_ms(m, row, CALIBRATED, ALLREDUCE_LATENCY_S),
            faster_is_higher=False,
            conditions="A100 40GB, 16-bit weights (assumed: not stated), batch 1",
        )
        for row in measurements(case="fastertransformer-13b")
    ]


def _ep_comparison(row: Measurement, label: str, conditions: str, per_node) -> Comparison:
    """A throughput of an expert-parallel deployment beside ``per_node(terms)`` [per node]:
    the first-order bound (no terms), the refined bound (attention arithmetic) and the
    calibrated prediction (every term but multi-token prediction)."""
    return Comparison(
        id=row.id,
        case=row.case,
        kind=row.kind,
        metric=row.metric,
        unit=row.unit,
        label=label,
        measured=row.value,
        first_order=per_node(()),
        refined=per_node(("attention",)),
        calibrated=per_node(TERMS[:-1]),
        faster_is_higher=True,
        conditions=conditions,
    )


def _ep_decode(row, label, layout, batch, context, conditions, drafts=None) -> Comparison:
    m, hw = model(row.model), hardware(row.chip)
    extra = ("mtp",) if drafts is not None else ()

    def per_node(on) -> float:
        rate = decode_throughput(m, hw, layout, batch, context, (*on, *extra), drafts=drafts)
        return layout.gpus_per_node * rate

    return _ep_comparison(row, label, conditions, per_node)


def _ep_prefill(row, label, layout, tokens, attended, conditions, computed=1.0) -> Comparison:
    m, hw = model(row.model), hardware(row.chip)

    def per_node(on) -> float:
        rate = prefill_throughput(m, hw, layout, tokens, attended, on)
        return layout.gpus_per_node * rate / computed  # per input token, cache hits included

    return _ep_comparison(row, label, conditions, per_node)


def _expert_parallel_comparisons() -> list[Comparison]:
    m = model("deepseek-v3")
    out = []
    row = measurement("deepseek-production", "decode_throughput")
    batch = deepseek_decode_batch()
    out.append(
        _ep_decode(
            row,
            "DeepSeek decode",
            DEEPSEEK_DECODE,
            batch,
            row.context,
            f"H800, FP8 weights, BF16 cache (assumed), {batch:.0f} per GPU (Little's law)",
        )
    )
    row = measurement("deepseek-production", "prefill_throughput")
    hits = _deepseek("cache_hit_share")
    out.append(
        _ep_prefill(
            row,
            "DeepSeek prefill",
            DEEPSEEK_PREFILL,
            _deepseek_pass_tokens(),
            _deepseek_prefill_attended(),
            "H800, FP8 weights, cache hits counted but not computed",
            computed=1.0 - hits,
        )
    )
    row = measurement("deepseek-profile", "decode_throughput")
    profile_decode = EPLayout(row.chips, row.chips_per_node, redundant_experts=0)
    out.append(
        _ep_decode(
            row,
            "DeepSeek profile decode",
            profile_decode,
            row.batch,
            row.context,
            f"H800, FP8 weights, BF16 cache, EP{row.chips} (assumed: not stated)",
        )
    )
    row = measurement("deepseek-profile", "prefill_throughput")
    out.append(
        _ep_prefill(
            row,
            "DeepSeek profile prefill",
            DEEPSEEK_PREFILL,
            row.batch,
            _prompt_attended(m, row.input_tokens),
            "H800, FP8 weights, EP32 (assumed: not stated)",
        )
    )
    for row in measurements(case="sglang-decode", metric="decode_throughput"):
        simulated = row.kind == "simulated"
        out.append(
            _ep_decode(
                row,
                "SGLang decode" + (" (simulated MTP)" if simulated else ""),
                SGLANG_DECODE,
                row.batch,
                row.context,
                "H100, FP8 weights, BF16 cache (assumed)"
                + (", 1 draft accepted 60% of the time (the source's)" if simulated else ""),
                drafts=mtp(0.6) if simulated else None,
            )
        )
    passes = _sglang_pass_tokens()
    for row in measurements(case="sglang-prefill", metric="prefill_throughput"):
        name = f"{row.input_tokens / 1024:.0f}K" + (" (simulated EPLB)" * (row.kind != "measured"))
        out.append(
            _ep_prefill(
                row,
                f"SGLang prefill {name}",
                SGLANG_PREFILL,
                passes,
                _prompt_attended(m, row.input_tokens),
                f"H100, FP8 weights, {passes:,} tokens per GPU per pass (assumed where not stated)",
            )
        )
    decode_row = _measured_row("sglang-decode", "decode_throughput")
    for row in measurements(case="sglang-headline"):
        if row.metric == "prefill_throughput":
            out.append(
                _ep_prefill(
                    row,
                    "SGLang headline input",
                    SGLANG_PREFILL,
                    passes,
                    _prompt_attended(m, row.input_tokens),
                    "H100, FP8 weights, the prefill deployment",
                )
            )
        elif row.metric == "decode_throughput":
            out.append(
                _ep_decode(
                    row,
                    "SGLang headline output",
                    SGLANG_DECODE,
                    decode_row.batch,
                    row.input_tokens,
                    f"H100, FP8 weights, BF16 cache, batch {decode_row.batch} per GPU "
                    "(the decode table's; assumed)",
                )
            )
    return out


@cache
def _comparisons() -> tuple[Comparison, ...]:
    return (
        *_vllm_comparisons(),
        *_fastertransformer_comparisons(),
        *_expert_parallel_comparisons(),
    )


def compare(case: str | None = None) -> list[Comparison]:
    """Every measured, estimated or simulated throughput and latency of the data beside the
    model (optionally one ``case``), in the data's order of cases.

    The vLLM sweeps are timed end to end (:mod:`tokenmath.calibration`); the
    FasterTransformer runs as one prefill pass and ten decode steps; the expert-parallel
    deployments with :func:`decode_throughput` and :func:`prefill_throughput`, the refined
    bound with the ``"attention"`` term and the calibrated prediction with every term but
    ``"mtp"``. Fleet totals, prices and per-request figures are not throughputs of a
    deployment and are left out (:mod:`tokenmath.fleet` does their arithmetic).

    >>> rows = compare()
    >>> all(r.ratio_first_order <= 1 and r.ratio_refined <= 1 for r in rows)
    True
    """
    rows = list(_comparisons())
    if case is None:
        return rows
    found = [r for r in rows if r.case == case]
    if not found:
        valid = ", ".join(dict.fromkeys(r.case for r in rows))
        raise ValueError(f"case must be one of {valid}; got {v.echo(case)}")
    return found
