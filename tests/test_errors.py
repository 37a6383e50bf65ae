"""Every error path: bad input raises ValueError naming the argument, the value and the range.

No NaN, infinity, zero or negative number gets through silently, and no numpy warning leaks
(warnings are errors in this module).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tokenmath as tm
from tokenmath import serving
from tokenmath.specs import AttentionGroup, Hardware, Model, check_precision

pytestmark = pytest.mark.filterwarnings("error")

M = tm.model("deepseek-v3")
HW = tm.hardware("h100-sxm")
A100 = tm.hardware("a100-sxm-80gb")
NAN, INF = math.nan, math.inf

# Functions of (model, hw, batch, context, precision, gpus) with the roofline's signature.
BATCH_FUNCS = {
    "step_time_terms": lambda b=1, c=0, p="bf16", g=1: tm.step_time_terms(M, HW, b, c, p, g),
    "step_time": lambda b=1, c=0, p="bf16", g=1: tm.step_time(M, HW, b, c, p, g),
    "cost_per_token": lambda b=1, c=0, p="bf16", g=1: tm.cost_per_token(M, HW, b, c, p, g),
    "throughput": lambda b=1, c=0, p="bf16", g=1: tm.throughput(M, HW, b, c, p, g),
    "cost_terms": lambda b=1, c=0, p="bf16", g=1: tm.cost_terms(M, HW, b, c, p),
    "region": lambda b=1, c=0, p="bf16", g=1: tm.region(M, HW, b, c, p),
    "premium_over_floor": lambda b=1, c=0, p="bf16", g=1: serving.premium_over_floor(
        M, HW, b, c, p
    ),
    "fast_tier(base)": lambda b=1, c=0, p="bf16", g=1: serving.fast_tier(M, HW, b, 1, c, p),
    "fast_tier(fast)": lambda b=1, c=0, p="bf16", g=1: serving.fast_tier(M, HW, 1, b, c, p),
}

# Functions of (model, hw, context, precision, gpus).
CONTEXT_FUNCS = {
    "cost_floor": lambda c=0, p="bf16", g=1: tm.cost_floor(M, HW, c, p),
    "sweet_spot": lambda c=0, p="bf16", g=1: tm.sweet_spot(M, HW, c, p),
    "batch1_penalty": lambda c=0, p="bf16", g=1: tm.batch1_penalty(M, HW, c, p),
    "max_batch": lambda c=0, p="bf16", g=1: tm.max_batch(M, HW, c, g, p),
    "latency_floor": lambda c=0, p="bf16", g=1: serving.latency_floor(M, HW, c, p, g),
    "max_throughput": lambda c=0, p="bf16", g=1: serving.max_throughput(M, HW, c, p, g),
    "batch_for_demand": lambda c=0, p="bf16", g=1: serving.batch_for_demand(M, HW, 1.0, c, p, g),
    "replicas_needed": lambda c=0, p="bf16", g=1: serving.replicas_needed(M, HW, 1.0, c, p, g),
}
GPU_FUNCS = [
    "step_time_terms", "step_time", "cost_per_token", "throughput",
]  # fmt: skip
GPU_CONTEXT_FUNCS = [
    "max_batch", "latency_floor", "max_throughput", "batch_for_demand", "replicas_needed",
]  # fmt: skip

BAD_BATCHES = [
    (10**400, r"batch must be finite \(at most about 1\.8e308\); got a number too large"),
    (0, r"batch must be > 0; got 0\.0"),
    (-3, r"batch must be > 0; got -3\.0"),
    (NAN, r"batch must be finite \(> 0\); got nan"),
    (INF, r"batch must be finite \(> 0\); got inf"),
    (-INF, r"batch must be finite \(> 0\); got -inf"),
    ([1, 2, -1], r"batch must be > 0; got -1\.0 at index 2"),
    (np.array([[1.0, NAN]]), r"batch must be finite \(> 0\); got nan at index \(0, 1\)"),
    ("ten", r"batch must be a number or an array of numbers; got 'ten'"),
    (None, r"batch must be a number or an array of numbers; got None"),
    (True, r"batch must be a number; got the boolean True"),
]
BAD_CONTEXTS = [
    (10**400, r"context must be finite \(at most about 1\.8e308\); got a number too large"),
    (-1, r"context must be >= 0; got -1\.0"),
    (NAN, r"context must be finite \(>= 0\); got nan"),
    (INF, r"context must be finite \(>= 0\); got inf"),
    ([0, -5], r"context must be >= 0; got -5\.0 at index 1"),
    ("long", r"context must be a number or an array of numbers; got 'long'"),
]
BAD_GPUS = [
    (2_000_000, r"gpus must be a whole number from 1 to 1,000,000; got 2000000"),
    (1e308, r"gpus must be a whole number from 1 to 1,000,000; got 1e\+308"),
    (10**400, r"gpus must be a whole number from 1 to 1,000,000; got 1000000000000000000000000000"),
    (0, r"gpus must be a whole number from 1 to 1,000,000; got 0"),
    (-2, r"gpus must be a whole number from 1 to 1,000,000; got -2"),
    (1.5, r"gpus must be a whole number from 1 to 1,000,000; got 1\.5"),
    (True, r"gpus must be a whole number from 1 to 1,000,000; got True"),
    ("8", r"gpus must be a whole number from 1 to 1,000,000; got '8'"),
]
BAD_PRECISION = r"precision must be one of 'bf16', 'fp8', 'fp4', 'mxfp4', 'native'; got 'int4'"


@pytest.mark.parametrize("func", sorted(BATCH_FUNCS))
@pytest.mark.parametrize(("batch", "message"), BAD_BATCHES)
def test_bad_batch(func, batch, message):
    # fast_tier names which of its two batches is wrong
    name = {"fast_tier(base)": "base_batch", "fast_tier(fast)": "fast_batch"}.get(func, "batch")
    with pytest.raises(ValueError, match="^" + message.replace("batch", name, 1)):
        BATCH_FUNCS[func](b=batch)


@pytest.mark.parametrize("func", sorted(BATCH_FUNCS))
@pytest.mark.parametrize(("context", "message"), BAD_CONTEXTS)
def test_bad_context_with_batch(func, context, message):
    with pytest.raises(ValueError, match="^" + message):
        BATCH_FUNCS[func](c=context)


@pytest.mark.parametrize("func", sorted(CONTEXT_FUNCS))
@pytest.mark.parametrize(("context", "message"), BAD_CONTEXTS)
def test_bad_context(func, context, message):
    with pytest.raises(ValueError, match="^" + message):
        CONTEXT_FUNCS[func](c=context)


@pytest.mark.parametrize("func", sorted(BATCH_FUNCS))
def test_unknown_precision_with_batch(func):
    with pytest.raises(ValueError, match="^" + BAD_PRECISION + "$"):
        BATCH_FUNCS[func](p="int4")


@pytest.mark.parametrize("func", sorted(CONTEXT_FUNCS))
def test_unknown_precision(func):
    with pytest.raises(ValueError, match="^" + BAD_PRECISION + "$"):
        CONTEXT_FUNCS[func](p="int4")


@pytest.mark.parametrize("func", GPU_FUNCS)
@pytest.mark.parametrize(("gpus", "message"), BAD_GPUS)
def test_bad_gpus_with_batch(func, gpus, message):
    with pytest.raises(ValueError, match="^" + message):
        BATCH_FUNCS[func](g=gpus)


@pytest.mark.parametrize("func", GPU_CONTEXT_FUNCS)
@pytest.mark.parametrize(("gpus", "message"), BAD_GPUS)
def test_bad_gpus(func, gpus, message):
    with pytest.raises(ValueError, match="^" + message):
        CONTEXT_FUNCS[func](g=gpus)


ALL_MODEL_HW_CALLS = {
    "step_time_terms": lambda m, hw: tm.step_time_terms(m, hw, 1, 0),
    "step_time": lambda m, hw: tm.step_time(m, hw, 1, 0),
    "cost_terms": lambda m, hw: tm.cost_terms(m, hw, 1, 0),
    "cost_per_token": lambda m, hw: tm.cost_per_token(m, hw, 1, 0),
    "cost_floor": lambda m, hw: tm.cost_floor(m, hw),
    "sweet_spot": lambda m, hw: tm.sweet_spot(m, hw),
    "region": lambda m, hw: tm.region(m, hw, 1, 0),
    "batch1_penalty": lambda m, hw: tm.batch1_penalty(m, hw),
    "max_batch": lambda m, hw: tm.max_batch(m, hw, 0),
    "min_gpus": lambda m, hw: tm.min_gpus(m, hw),
    "throughput": lambda m, hw: tm.throughput(m, hw, 1, 0),
    "latency_floor": lambda m, hw: serving.latency_floor(m, hw),
    "max_throughput": lambda m, hw: serving.max_throughput(m, hw),
    "batch_for_demand": lambda m, hw: serving.batch_for_demand(m, hw, 1.0),
    "replicas_needed": lambda m, hw: serving.replicas_needed(m, hw, 1.0),
    "premium_over_floor": lambda m, hw: serving.premium_over_floor(m, hw, 1),
    "fast_tier": lambda m, hw: serving.fast_tier(m, hw, 2, 1),
}


@pytest.mark.parametrize("func", sorted(ALL_MODEL_HW_CALLS))
def test_model_and_hardware_must_be_tokenmath_objects(func):
    with pytest.raises(ValueError, match=r"^model must be a tokenmath Model .*got 'deepseek-v3'"):
        ALL_MODEL_HW_CALLS[func]("deepseek-v3", HW)
    with pytest.raises(ValueError, match=r"^hw must be a tokenmath Hardware .*got 'h100-sxm'"):
        ALL_MODEL_HW_CALLS[func](M, "h100-sxm")


@pytest.mark.parametrize("func", sorted(set(ALL_MODEL_HW_CALLS) - {"max_batch", "min_gpus"}))
def test_precision_the_chip_lacks(func):
    fp8 = {
        "step_time_terms": lambda: tm.step_time_terms(M, A100, 1, 0, "fp8"),
        "step_time": lambda: tm.step_time(M, A100, 1, 0, "fp8"),
        "cost_terms": lambda: tm.cost_terms(M, A100, 1, 0, "fp8"),
        "cost_per_token": lambda: tm.cost_per_token(M, A100, 1, 0, "fp8"),
        "cost_floor": lambda: tm.cost_floor(M, A100, 0, "fp8"),
        "sweet_spot": lambda: tm.sweet_spot(M, A100, 0, "fp8"),
        "region": lambda: tm.region(M, A100, 1, 0, "fp8"),
        "batch1_penalty": lambda: tm.batch1_penalty(M, A100, 0, "fp8"),
        "throughput": lambda: tm.throughput(M, A100, 1, 0, "fp8"),
        "latency_floor": lambda: serving.latency_floor(M, A100, 0, "fp8"),
        "max_throughput": lambda: serving.max_throughput(M, A100, 0, "fp8"),
        "batch_for_demand": lambda: serving.batch_for_demand(M, A100, 1.0, 0, "fp8"),
        "replicas_needed": lambda: serving.replicas_needed(M, A100, 1.0, 0, "fp8"),
        "premium_over_floor": lambda: serving.premium_over_floor(M, A100, 1, 0, "fp8"),
        "fast_tier": lambda: serving.fast_tier(M, A100, 2, 1, 0, "fp8"),
    }
    with pytest.raises(ValueError, match=r"^precision 'fp8' is not supported by a100-sxm-80gb"):
        fp8[func]()


def test_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"^batch and context must have shapes that broadcast"):
        tm.cost_per_token(M, HW, [1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match=r"; got batch \(2,\), context \(3,\)$"):
        tm.step_time(M, HW, [1, 2], [0, 1, 2])


def test_overflow_is_an_error_not_a_warning():
    with pytest.raises(ValueError, match=r"^batch and context too large"):
        tm.step_time(M, HW, 1e300, 1e10)
    with pytest.raises(ValueError, match=r"^context too large"):
        tm.kv_bytes_per_sequence(M, 1e306)
    with pytest.raises(ValueError, match=r"^gpu_seconds_per_token and usd_per_gpu_hour too large"):
        tm.usd_per_million_tokens(1e300, 1e300)


def test_usd_per_million_tokens_errors():
    with pytest.raises(ValueError, match=r"^usd_per_gpu_hour must be >= 0; got -2\.0"):
        tm.usd_per_million_tokens(1e-3, -2)
    with pytest.raises(ValueError, match=r"^usd_per_gpu_hour must be finite \(>= 0\); got nan"):
        tm.usd_per_million_tokens(1e-3, NAN)
    with pytest.raises(ValueError, match=r"^gpu_seconds_per_token must be > 0; got 0\.0"):
        tm.usd_per_million_tokens(0, 2.0)
    with pytest.raises(ValueError, match=r"^gpu_seconds_per_token must be finite"):
        tm.usd_per_million_tokens(INF, 2.0)


@pytest.mark.parametrize("func", ["batch_for_demand", "replicas_needed"])
@pytest.mark.parametrize(
    ("demand", "message"),
    [
        (0, r"tokens_per_s must be > 0; got 0\.0"),
        (-5, r"tokens_per_s must be > 0; got -5\.0"),
        (NAN, r"tokens_per_s must be finite \(> 0\); got nan"),
        (INF, r"tokens_per_s must be finite \(> 0\); got inf"),
    ],
)
def test_bad_demand(func, demand, message):
    call = getattr(serving, func)
    with pytest.raises(ValueError, match="^" + message):
        call(M, HW, demand)


def test_demand_beyond_one_replica():
    with pytest.raises(
        ValueError, match=r"^tokens_per_s must be at most 13,370\.3 tokens/s.*replicas_needed"
    ):
        serving.batch_for_demand(M, HW, 1e5)


def test_kv_functions_errors():
    with pytest.raises(ValueError, match=r"^context must be > 0; got 0\.0"):
        tm.kv_bytes_per_token(M, 0)
    with pytest.raises(ValueError, match=r"^context must be > 0; got -1\.0"):
        tm.kv_bytes_per_token(M, -1)
    with pytest.raises(ValueError, match=r"^model must be a tokenmath Model"):
        tm.kv_bytes_per_token("deepseek-v3")
    with pytest.raises(ValueError, match=r"^model must be a tokenmath Model"):
        tm.kv_bytes_per_sequence(None, 10)


def test_check_precision():
    with pytest.raises(ValueError, match="^" + BAD_PRECISION + "$"):
        check_precision("int4")
    with pytest.raises(ValueError, match=r"^precision must be one of .*; got None$"):
        check_precision(None)
    with pytest.raises(ValueError, match="^" + BAD_PRECISION + "$"):
        M.weight_bytes("int4")
    with pytest.raises(ValueError, match=r"^precision 'fp4' is not supported by h100-sxm \(it has"):
        HW.ops_per_byte("fp4")
    with pytest.raises(ValueError, match=r"^precision 'native' has no single peak"):
        HW.flops("native")
    with pytest.raises(ValueError, match=r"^precision 'fp8' is not supported by tpu-v6e"):
        tm.hardware("tpu-v6e").flops("fp8")


def test_min_gpus_precision():
    with pytest.raises(ValueError, match="^" + BAD_PRECISION + "$"):
        tm.min_gpus(M, HW, "int4")


def group(**kw):
    base = dict(layers=2, kind="gqa", kv_heads=2, head_dim=8)
    return AttentionGroup(**{**base, **kw})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"layers": 0}, r"layers must be a whole number >= 1; got 0"),
        ({"layers": 2.5}, r"layers must be a whole number >= 1; got 2\.5"),
        ({"kind": "linear"}, r"kind must be one of 'mha', 'gqa', 'mqa', 'mla'; got 'linear'"),
        ({"kv_heads": 0}, r"kv_heads must be a whole number >= 1; got 0"),
        ({"head_dim": -8}, r"head_dim must be a whole number >= 1; got -8"),
        ({"kind": "mqa", "kv_heads": 4}, r"kv_heads must be 1 for kind 'mqa'; got 4"),
        ({"kind": "mla", "latent_dim": 0}, r"latent_dim must be a whole number >= 1; got 0"),
        ({"window": 0}, r"window must be a whole number >= 1; got 0"),
        (
            {"kind": "mla", "latent_dim": 576, "rope_dim": 576},
            r"rope_dim must be >= 0 and < latent_dim \(576\); got 576",
        ),
        ({"query_heads": 3}, r"query_heads must be a multiple of kv_heads \(2\); got 3"),
        ({"query_heads": -1}, r"query_heads must be a whole number >= 1; got -1"),
    ],
)
def test_attention_group_errors(changes, message):
    with pytest.raises(ValueError, match="^" + message):
        group(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, r"name must be a non-empty string; got ''"),
        ({"name": 3}, r"name must be a non-empty string; got 3"),
        ({"total_params": 0}, r"total_params must be > 0; got 0\.0"),
        ({"total_params": NAN}, r"total_params must be finite \(> 0\); got nan"),
        ({"total_params": INF}, r"total_params must be finite \(> 0\); got inf"),
        ({"active_params": -1}, r"active_params must be > 0; got -1\.0"),
        (
            {"active_params": 1e12},
            r"active_params must be <= total_params \(6\.71e\+11\); got 1e\+12",
        ),
        ({"attention": ()}, r"attention must list at least one AttentionGroup; got none"),
        ({"attention": ("mla",)}, r"attention must be a tuple of AttentionGroup"),
        ({"context_limit": 0}, r"context_limit must be a whole number >= 1; got 0"),
        ({"context_limit": 1.5}, r"context_limit must be a whole number >= 1; got 1\.5"),
    ],
)
def test_model_errors(changes, message):
    with pytest.raises(ValueError, match="^" + message):
        dataclasses.replace(M, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, r"name must be a non-empty string; got ' '"),
        ({"flops_per_s": {}}, r"flops_per_s must name at least one precision; got none"),
        ({"flops_per_s": [1e15]}, r"flops_per_s must name at least one precision"),
        (
            {"flops_per_s": {"int8": 1e15}},
            r"flops_per_s precision must be one of 'fp4', 'fp8', 'bf16'; got 'int8'",
        ),
        ({"flops_per_s": {"bf16": 0.0}}, r"flops_per_s\['bf16'\] must be > 0; got 0\.0"),
        ({"flops_per_s": {"bf16": NAN}}, r"flops_per_s\['bf16'\] must be finite"),
        ({"hbm_bytes_per_s": -1}, r"hbm_bytes_per_s must be > 0; got -1\.0"),
        ({"hbm_bytes_per_s": INF}, r"hbm_bytes_per_s must be finite \(> 0\); got inf"),
        ({"hbm_bytes": 0}, r"hbm_bytes must be > 0; got 0\.0"),
        ({"usd_per_hour": -2.5}, r"usd_per_hour must be >= 0; got -2\.5"),
        ({"usd_per_hour": NAN}, r"usd_per_hour must be finite \(>= 0\); got nan"),
        ({"usd_per_hour": [1.0, 2.0]}, r"usd_per_hour must be a single number >= 0"),
    ],
)
def test_hardware_errors(changes, message):
    with pytest.raises(ValueError, match="^" + message):
        dataclasses.replace(HW, **changes)


def test_hardware_built_from_scratch_checks_too():
    with pytest.raises(ValueError, match=r"^hbm_bytes_per_s must be > 0; got 0\.0"):
        Hardware(name="x", flops_per_s={"bf16": 1.0}, hbm_bytes_per_s=0, hbm_bytes=1,
                 usd_per_hour=0)  # fmt: skip
    with pytest.raises(ValueError, match=r"^active_params must be <= total_params"):
        Model(name="x", total_params=1.0, active_params=2.0, attention=(group(),),
              context_limit=8)  # fmt: skip


def test_preset_lookup_errors():
    with pytest.raises(ValueError, match=r"^unknown model 'gpt-5'"):
        tm.model("gpt-5")
    with pytest.raises(ValueError, match=r"^model name must be a string; got None"):
        tm.model(None)
    with pytest.raises(ValueError, match=r"^unknown hardware 'mi300'.*closest: mi300x"):
        tm.hardware("mi300")
    with pytest.raises(ValueError, match=r"^hardware name must be a string; got 5"):
        tm.hardware(5)


def test_no_silent_nan_or_zero_in_results():
    out = tm.cost_per_token(M, HW, np.geomspace(1e-6, 1e9, 100), np.linspace(0, 1e6, 100))
    assert np.all(np.isfinite(out)) and np.all(out > 0)
    assert tm.sweet_spot(M, HW, 1e9) == math.inf


def test_replica_count_too_large_for_an_integer():
    with pytest.raises(ValueError, match=r"^tokens_per_s must need at most 1e\+15 replicas"):
        serving.replicas_needed(M, HW, 1e300)


def test_demand_and_context_shapes_must_broadcast():
    with pytest.raises(ValueError, match=r"^tokens_per_s and context must have shapes"):
        serving.batch_for_demand(M, HW, [1.0, 2.0], [0, 1, 2])
