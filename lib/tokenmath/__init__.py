"""tokenmath: what one generated token costs, from a model's size and an accelerator's speed.

>>> import tokenmath as tm
>>> m, hw = tm.model("deepseek-v3"), tm.hardware("h100-sxm")
>>> round(tm.sweet_spot(m, hw))
5356

The physics lives in :mod:`tokenmath.roofline` (decode) and :mod:`tokenmath.prefill` (the
prompt pass, input tokens, chunked prefill and the price of a request), its modelling assumptions
(:data:`FIRST_ORDER`, the default, and :data:`REFINED`) in :mod:`tokenmath.assumptions`,
the model and accelerator descriptions in :mod:`tokenmath.specs`, the KV cache per layer
group, per replica and as read off a price in :mod:`tokenmath.kvcache`, the sourced presets in
:mod:`tokenmath.presets`; serving questions (latency floor, throughput, demand, fast
tiers) in :mod:`tokenmath.serving` and the ``tokenmath`` command in :mod:`tokenmath.cli`.
Published measurements of real systems are data (:func:`tokenmath.measured.measurements`,
whose file is read on the first call) and the arithmetic of a day of serving on them is
:mod:`tokenmath.fleet`. What splitting a model across accelerators adds (collectives,
expert-parallel traffic, replicated weights) is :mod:`tokenmath.parallel`; the efficiencies
fitted to measured runs, :data:`CALIBRATED`, and their provenance are
:mod:`tokenmath.calibration`; each measurement set beside the model's bounds, and the
reconciliation of DeepSeek's and SGLang's serving, is :mod:`tokenmath.reconcile`. Serving, the
command, the fleet arithmetic, these three, figures (:mod:`tokenmath.plots`), explorers
(:mod:`tokenmath.widgets`, and the tables of the website's explorer,
:mod:`tokenmath.webexplorer`), answer checkers (:mod:`tokenmath.answers`) and the notebooks'
glue and table helpers (:mod:`tokenmath.book`) are imported on first use (``tm.CALIBRATED``
too), so ``import tokenmath`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from .assumptions import FIRST_ORDER, REFINED, Assumptions
from .kvcache import (
    GroupCache,
    cache_by_group,
    cache_capacity_tokens,
    cost_multiple,
    implied_kv_bytes_per_token,
)
from .measured import Measurement, measurements
from .prefill import (
    cost_per_input_token,
    prefill_crossover_tokens,
    prefill_terms,
    prefill_time,
)
from .presets import HARDWARE, MODELS, hardware, hardware_names, model, model_names
from .roofline import (
    CostTerms,
    batch1_penalty,
    cost_floor,
    cost_per_token,
    cost_terms,
    critical_context,
    max_batch,
    min_gpus,
    region,
    step_time,
    step_time_terms,
    sweet_spot,
    throughput,
    usd_per_million_tokens,
)
from .specs import (
    BYTES_PER_WEIGHT,
    FLOPS_PER_ACTIVE_PARAM,
    KV_BYTES_PER_ELEMENT,
    AttentionGroup,
    Hardware,
    Model,
    attention_flops_per_token,
    batch_for_routed_share,
    compute_precision,
    expected_experts_touched,
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    routed_share_read,
)

__version__ = "0.1.0"

_LAZY = {
    "plots",
    "widgets",
    "webexplorer",
    "answers",
    "book",
    "cli",
    "serving",
    "fleet",
    "parallel",
    "calibration",
    "reconcile",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name == "CALIBRATED":  # fitted constants; importing them pulls in serving
        return importlib.import_module(".calibration", __name__).CALIBRATED
    raise AttributeError(f"module 'tokenmath' has no attribute {name!r}")


__all__ = [
    "BYTES_PER_WEIGHT",
    "CALIBRATED",
    "FIRST_ORDER",
    "FLOPS_PER_ACTIVE_PARAM",
    "HARDWARE",
    "KV_BYTES_PER_ELEMENT",
    "MODELS",
    "REFINED",
    "Assumptions",
    "AttentionGroup",
    "CostTerms",
    "GroupCache",
    "Hardware",
    "Measurement",
    "Model",
    "attention_flops_per_token",
    "batch1_penalty",
    "batch_for_routed_share",
    "cache_by_group",
    "cache_capacity_tokens",
    "compute_precision",
    "cost_floor",
    "cost_multiple",
    "cost_per_input_token",
    "cost_per_token",
    "cost_terms",
    "critical_context",
    "expected_experts_touched",
    "hardware",
    "hardware_names",
    "implied_kv_bytes_per_token",
    "kv_bytes_per_sequence",
    "kv_bytes_per_token",
    "max_batch",
    "measurements",
    "min_gpus",
    "model",
    "model_names",
    "prefill_crossover_tokens",
    "prefill_terms",
    "prefill_time",
    "region",
    "routed_share_read",
    "step_time",
    "step_time_terms",
    "sweet_spot",
    "throughput",
    "usd_per_million_tokens",
]
