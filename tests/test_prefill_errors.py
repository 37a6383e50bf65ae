"""Prefill, static batches, time to first token and request prices: every bad input is a
ValueError that names the argument (the message starts with it), never a NaN or a warning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tokenmath as tm
from tokenmath import prefill, serving

pytestmark = pytest.mark.filterwarnings("error")

M = tm.model("deepseek-v3")
HW = tm.hardware("h100-sxm")
A100 = tm.hardware("a100-sxm-80gb")
NAN, INF = math.nan, math.inf

#: Each function with every argument it checks, at a good value (overridden one at a time).
CALLS = {
    "prefill_time": (
        lambda prompt_tokens=100, batch=1, cached_tokens=0, gpus=1, precision="bf16": (
            tm.prefill_time(M, HW, prompt_tokens, batch, precision, gpus,
                            cached_tokens=cached_tokens)
        )
    ),
    "prefill_terms": (
        lambda prompt_tokens=100, batch=1, cached_tokens=0, gpus=1, precision="bf16": (
            tm.prefill_terms(M, HW, prompt_tokens, batch, precision, gpus,
                             cached_tokens=cached_tokens)
        )
    ),
    "cost_per_input_token": (
        lambda prompt_tokens=100, batch=1, cached_tokens=0, gpus=1, precision="bf16": (
            tm.cost_per_input_token(M, HW, prompt_tokens, batch, precision, gpus,
                                    cached_tokens=cached_tokens)
        )
    ),
    "prefill_attention_flops": (
        lambda prompt_tokens=100, cached_tokens=0: (
            prefill.prefill_attention_flops(M, prompt_tokens, cached_tokens)
        )
    ),
    "prefill_crossover_tokens": (
        lambda gpus=1, precision="bf16": tm.prefill_crossover_tokens(M, HW, precision, gpus)
    ),
    "mixed_step_time": (
        lambda chunk_tokens=64, decode_batch=8, decode_context=100, chunk_cached_tokens=0,
        gpus=1, precision="bf16": (
            prefill.mixed_step_time(M, HW, chunk_tokens, decode_batch, decode_context,
                                    precision, gpus, chunk_cached_tokens=chunk_cached_tokens)
        )
    ),
    "mixed_step_terms": (
        lambda chunk_tokens=64, decode_batch=8, decode_context=100, chunk_cached_tokens=0,
        gpus=1, precision="bf16": (
            prefill.mixed_step_terms(M, HW, chunk_tokens, decode_batch, decode_context,
                                     precision, gpus, chunk_cached_tokens=chunk_cached_tokens)
        )
    ),
    "token_prices": (
        lambda prompt_tokens=100, decode_batch=8, decode_context=100, prefill_batch=1,
        usd_per_gpu_hour=2.0, gpus=1, precision="bf16": (
            prefill.token_prices(M, HW, prompt_tokens, decode_batch, decode_context, precision,
                                 gpus, prefill_batch=prefill_batch,
                                 usd_per_gpu_hour=usd_per_gpu_hour)
        )
    ),
    "cache_hit_saving": (
        lambda prompt_tokens=100, cached_tokens=50, prefill_batch=1, hold_s=1.0,
        reload_bytes_per_s=1e9, gpus=1, precision="bf16": (
            prefill.cache_hit_saving(M, HW, prompt_tokens, cached_tokens, precision, gpus,
                                     prefill_batch=prefill_batch, hold_s=hold_s,
                                     reload_bytes_per_s=reload_bytes_per_s)
        )
    ),
    "request_cost": (
        lambda input_tokens=100, output_tokens=10, decode_batch=8, cached_tokens=0,
        prefill_batch=1, usd_per_gpu_hour=2.0, gpus=1, precision="bf16": (
            prefill.request_cost(M, HW, input_tokens, output_tokens, decode_batch, precision,
                                 gpus, cached_tokens=cached_tokens, prefill_batch=prefill_batch,
                                 usd_per_gpu_hour=usd_per_gpu_hour)
        )
    ),
    "static_batch_time": (
        lambda batch=4, input_tokens=100, output_tokens=10, first_token_from_prefill=True,
        gpus=1, precision="bf16": (
            serving.static_batch_time(M, HW, batch, input_tokens, output_tokens, precision,
                                      gpus, first_token_from_prefill=first_token_from_prefill)
        )
    ),
    "static_batch_phases": (
        lambda batch=4, input_tokens=100, output_tokens=10, first_token_from_prefill=True,
        gpus=1, precision="bf16": (
            serving.static_batch_phases(M, HW, batch, input_tokens, output_tokens, precision,
                                        gpus, first_token_from_prefill=first_token_from_prefill)
        )
    ),
    "time_to_first_token": (
        lambda prompt_tokens=100, cached_tokens=0, chunk_tokens=32, decode_batch=8,
        decode_context=100, queue_s=0.0, gpus=1, precision="bf16": (
            serving.time_to_first_token(M, HW, prompt_tokens, precision, gpus,
                                        cached_tokens=cached_tokens, chunk_tokens=chunk_tokens,
                                        decode_batch=decode_batch, decode_context=decode_context,
                                        queue_s=queue_s)
        )
    ),
    "decode_contexts": (
        lambda input_tokens=100, output_tokens=10, first_token_from_prefill=True: (
            prefill.decode_contexts(input_tokens, output_tokens,
                                    first_token_from_prefill=first_token_from_prefill)
        )
    ),
}  # fmt: skip

#: Arguments that must be > 0, >= 0, or whole numbers >= 1.
POSITIVE = {
    "prompt_tokens", "batch", "chunk_tokens", "prefill_batch", "input_tokens",
    "reload_bytes_per_s",
}  # fmt: skip
NON_NEGATIVE = {
    "cached_tokens", "decode_context", "chunk_cached_tokens", "hold_s", "queue_s",
    "usd_per_gpu_hour",
}  # fmt: skip
# a decoding batch of 0 means none (a mixed step without decode); elsewhere it must be > 0
DECODE_BATCH_MAY_BE_ZERO = {"mixed_step_time", "mixed_step_terms", "time_to_first_token"}


def arguments(func: str) -> list[str]:
    return list(CALLS[func].__code__.co_varnames[: CALLS[func].__code__.co_argcount])


def cases(kind: set[str]) -> list[tuple[str, str]]:
    return [(f, a) for f in sorted(CALLS) for a in arguments(f) if a in kind]


def test_the_good_values_are_good() -> None:
    for func in CALLS.values():
        func()


@pytest.mark.parametrize(("func", "arg"), cases(POSITIVE))
@pytest.mark.parametrize(
    ("value", "says"),
    [(0, r"> 0; got 0\.0"), (-2, r"> 0; got -2\.0"), (NAN, r"finite \(> 0\); got nan"),
     (INF, r"finite \(> 0\); got inf"), ("x", r"a number")],
)  # fmt: skip
def test_positive_arguments(func, arg, value, says) -> None:
    if arg == "reload_bytes_per_s" and says == "a number":
        says = "a number or an array of numbers"
    with pytest.raises(ValueError, match=rf"^{arg} must be (a single number )?{says}"):
        CALLS[func](**{arg: value})


@pytest.mark.parametrize(("func", "arg"), cases(NON_NEGATIVE))
@pytest.mark.parametrize(
    ("value", "says"),
    [(-1, r">= 0; got -1\.0"), (NAN, r"finite \(>= 0\); got nan"), (INF, r"finite \(>= 0\)")],
)
def test_non_negative_arguments(func, arg, value, says) -> None:
    with pytest.raises(ValueError, match=rf"^{arg} must be {says}"):
        CALLS[func](**{arg: value})


@pytest.mark.parametrize(("func", "arg"), cases({"decode_batch"}))
def test_decode_batch(func, arg) -> None:
    if func in DECODE_BATCH_MAY_BE_ZERO:
        CALLS[func](decode_batch=0)
        with pytest.raises(ValueError, match=r"^decode_batch must be >= 0; got -1\.0"):
            CALLS[func](decode_batch=-1)
    else:
        with pytest.raises(ValueError, match=r"^decode_batch must be > 0; got 0\.0"):
            CALLS[func](decode_batch=0)


@pytest.mark.parametrize(("func", "arg"), cases({"output_tokens"}))
@pytest.mark.parametrize("value", [0, 2.5, -1, NAN, [3, 0.5]])
def test_output_tokens_are_whole(func, arg, value) -> None:
    with pytest.raises(ValueError, match=r"^output_tokens must be (whole numbers >= 1|> 0|fin)"):
        CALLS[func](output_tokens=value)


@pytest.mark.parametrize(("func", "arg"), cases({"first_token_from_prefill"}))
def test_first_token_flag_is_a_bool(func, arg) -> None:
    with pytest.raises(ValueError, match=r"^first_token_from_prefill must be True or False"):
        CALLS[func](first_token_from_prefill="yes")


@pytest.mark.parametrize(("func", "arg"), cases({"cached_tokens"}))
def test_a_cache_hit_leaves_a_token_to_compute(func, arg) -> None:
    big = 200 if func != "cache_hit_saving" else 100
    with pytest.raises(ValueError, match=r"^cached_tokens must be < prompt_tokens \(100\.0\)"):
        if "input_tokens" in arguments(func):
            CALLS[func](cached_tokens=big)
        else:
            CALLS[func](cached_tokens=big, prompt_tokens=100)


def test_cached_prefix_is_checked_elementwise() -> None:
    with pytest.raises(ValueError, match=r"^cached_tokens must be < .* got 300\.0 at index 1$"):
        tm.prefill_time(M, HW, [100, 300], cached_tokens=[10, 300])


@pytest.mark.parametrize(("func", "arg"), cases({"gpus"}))
@pytest.mark.parametrize("value", [0, 1.5, "8", 2_000_000])
def test_gpus(func, arg, value) -> None:
    with pytest.raises(ValueError, match=r"^gpus must be a whole number from 1 to 1,000,000"):
        CALLS[func](gpus=value)


@pytest.mark.parametrize(("func", "arg"), cases({"precision"}))
def test_precision(func, arg) -> None:
    with pytest.raises(ValueError, match=r"^precision must be one of 'bf16', 'fp8'"):
        CALLS[func](precision="int4")


def test_model_hardware_and_assumptions_are_checked() -> None:
    with pytest.raises(ValueError, match=r"^model must be a tokenmath Model"):
        tm.prefill_time("deepseek-v3", HW, 100)
    with pytest.raises(ValueError, match=r"^hw must be a tokenmath Hardware"):
        tm.prefill_time(M, "h100-sxm", 100)
    with pytest.raises(ValueError, match=r"^assume must be a tokenmath Assumptions"):
        tm.prefill_time(M, HW, 100, assume="refined")
    with pytest.raises(ValueError, match=r"^kv_precision must be one of 'bf16', 'fp8'"):
        tm.prefill_time(M, HW, 100, kv_precision="int8")
    with pytest.raises(ValueError, match=r"^precision 'fp8' is not supported by a100-sxm-80gb"):
        tm.prefill_time(M, A100, 100, precision="fp8")
    with pytest.raises(ValueError, match=r"^model must be a tokenmath Model"):
        prefill.prefill_attention_flops("deepseek-v3", 100)


def test_shapes_that_do_not_broadcast() -> None:
    with pytest.raises(ValueError, match=r"^prompt_tokens and cached_tokens must have shapes"):
        tm.prefill_time(M, HW, [100, 200], cached_tokens=[1, 2, 3])


def test_overflow_names_the_inputs() -> None:
    with pytest.raises(ValueError, match=r"^prompt_tokens .*too large"):
        prefill.prefill_attention_flops(M, 1e300)
    with pytest.raises(ValueError, match=r"too large: the bytes or FLOPs overflow"):
        tm.prefill_time(M, HW, 1e300, assume=tm.REFINED)


def test_too_many_chunks() -> None:
    with pytest.raises(ValueError, match=r"^chunk_tokens must split the prompt into at most"):
        serving.time_to_first_token(M, HW, 1e9, chunk_tokens=1)


def test_arrays_come_back_as_arrays_and_scalars_as_floats() -> None:
    assert isinstance(tm.prefill_time(M, HW, 100), float)
    assert isinstance(tm.prefill_time(M, HW, np.array([100, 200])), np.ndarray)
    assert isinstance(serving.static_batch_time(M, HW, 4, 100, 10), float)
    assert isinstance(serving.time_to_first_token(M, HW, 100), float)
