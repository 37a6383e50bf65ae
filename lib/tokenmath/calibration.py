"""The model calibrated on measurements: :data:`CALIBRATED`, how it was fitted, and how well.

The first-order roofline runs memory and tensor cores at their datasheet peaks. Real kernels
do not, and serving frameworks add work of their own. This module fits the two efficiencies
of :class:`~tokenmath.assumptions.Assumptions` (``mem_efficiency``, ``compute_efficiency``)
and one communication constant to the vLLM batch sweeps that ship with the library
(``tm.measurements(case="vllm-llama-70b")`` and ``"vllm-llama-8b"``), end to end:

* each run submits ``batch`` requests of ``input_tokens`` prompt tokens and times until every
  one has its ``output_tokens``; its measured throughput is ``batch x output_tokens /
  elapsed`` (the total, not the per-request figure, which is a mean of each request's own
  speed);
* the model times the same run as :func:`tokenmath.serving.static_batch_time` (one prefill
  pass over every prompt, then the decode steps), in **waves**: a batch larger than
  :func:`tokenmath.roofline.max_batch` at the final context does not fit in memory, and
  vLLM queues the rest, so the run is ``ceil(batch / fitting)`` static batches one after
  another (:func:`sweep_seconds`);
* with tensor parallelism (the 70B run is split over 4 GPUs) each layer of each pass ends in
  two all-reduces (:func:`tokenmath.parallel.tensor_parallel_seconds`): their bytes cross
  NVLink at the preset's scale-up bandwidth, and each also costs a fixed latency, the third
  fitted constant (:data:`ALLREDUCE_LATENCY_S`).

The fit (:func:`fit`) minimises the squared log residuals ``log(measured / predicted)`` over
all twenty points: a coarse grid over the two efficiencies, then damped Gauss-Newton steps
with a numerical Jacobian (numpy only). The 8B run's GPU is not stated by its source; the
fit assumes the H100 SXM of the 70B run (:data:`ASSUMED_CHIP`).

Why the third constant: with the two efficiencies alone the residuals split by model, every
70B point over-predicted and every 8B point under-predicted (:func:`fit` with
``tensor_parallel=False``); the one difference in conditions is that the 70B run reduces
across 4 GPUs 160 times per step and the 8B run never does. :func:`out_of_sample` fits on one
run and predicts the other.

The fitted numbers are stored below as constants (a test refits and reproduces them), so
importing this module reads no data and runs no fit.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from itertools import product
from typing import NamedTuple

import numpy as np

from . import _validate as v
from .assumptions import FIRST_ORDER, Assumptions
from .measured import Measurement, measurements
from .parallel import ALLREDUCES_PER_LAYER, tensor_parallel_seconds
from .prefill import decode_contexts, prefill_terms
from .presets import hardware, model
from .roofline import max_batch, step_time_terms
from .serving import static_batch_time
from .specs import Hardware, Model

__all__ = [
    "ALLREDUCE_LATENCY_S",
    "ASSUMED_CHIP",
    "CALIBRATED",
    "COMPUTE_EFFICIENCY",
    "FIT_CASES",
    "MEM_EFFICIENCY",
    "PROVENANCE",
    "Fit",
    "OutOfSample",
    "Provenance",
    "SweepPoint",
    "fit",
    "out_of_sample",
    "predicted_throughput",
    "residuals",
    "sweep_points",
    "sweep_seconds",
    "waves",
]

#: The measured runs the calibration is fitted to (case ids of ``tm.measurements``).
FIT_CASES = ("vllm-llama-70b", "vllm-llama-8b")

#: Accelerators the sources do not state, and what the calibration assumes for them. The
#: 8B run's repository runs its other experiments on H100 SXM; an H100 PCIe (2 TB/s) is
#: ruled out by the run itself, which reads the weights faster than that card's bound.
ASSUMED_CHIP = {"vllm-llama-8b": "h100-sxm"}

# --- The fitted constants (reproduced by tests/test_calibration.py) ------------------------

#: Achieved share of the HBM bandwidth, fitted to the vLLM sweeps.
MEM_EFFICIENCY = 0.6449
#: Achieved share of the dense BF16 tensor peak, fitted to the vLLM sweeps.
COMPUTE_EFFICIENCY = 0.3978
#: Seconds each tensor-parallel all-reduce costs beyond its bytes, fitted to the vLLM sweeps.
ALLREDUCE_LATENCY_S = 11.9e-6

#: The calibrated assumptions, the first-order model's physics at the fitted efficiencies.
CALIBRATED = Assumptions(mem_efficiency=MEM_EFFICIENCY, compute_efficiency=COMPUTE_EFFICIENCY)


@dataclass(frozen=True)
class Provenance:
    """Where :data:`CALIBRATED` comes from: the points, the method, the quality of the fit."""

    #: Ids of the measurements fitted (``tm.measurements`` rows).
    points: tuple[str, ...]
    #: How the constants were fitted.
    method: str
    #: Root mean square of log(measured / predicted) over the points at the stored constants.
    rms_log_residual: float
    #: Largest absolute log(measured / predicted) over the points at the stored constants.
    max_abs_log_residual: float


def _fit_point_ids() -> tuple[str, ...]:
    return tuple(p.id for p in sweep_points())


#: Where ``CALIBRATED`` comes from (the residuals are those of the stored constants).
PROVENANCE = Provenance(
    points=(
        *(f"vllm-llama-70b/b{b}/throughput" for b in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)),
        *(f"vllm-llama-8b/b{b}/throughput" for b in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)),
    ),
    method=(
        "least squares on log(measured / predicted total output throughput), end to end "
        "(static_batch_time in waves of max_batch, plus tensor-parallel all-reduces); "
        "grid over the two efficiencies, then damped Gauss-Newton with a numerical Jacobian"
    ),
    rms_log_residual=0.0289,
    max_abs_log_residual=0.0599,
)


# --- The points ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPoint:
    """One measured run of a batch sweep, with the conditions the model needs."""

    #: The ``tm.measurements`` row id of its total output throughput.
    id: str
    #: The case id.
    case: str
    model: Model
    hw: Hardware
    #: GPUs in the replica (tensor parallelism).
    gpus: int
    #: Requests submitted at once.
    batch: int
    #: Prompt tokens per request.
    input_tokens: float
    #: Output tokens per request, the run's mean (a request may stop early).
    output_tokens: float
    #: Measured total output throughput, tokens per second.
    measured: float

    @property
    def whole_output_tokens(self) -> int:
        """The mean output length rounded to whole tokens, as the model decodes them."""
        return max(1, round(self.output_tokens))


def _chip(row: Measurement) -> Hardware:
    name = ASSUMED_CHIP.get(row.case, row.chip)
    return hardware(name)


def sweep_points(case: str | None = None) -> list[SweepPoint]:
    """The measured total throughputs of the calibration's sweeps (:data:`FIT_CASES`).

    ``case`` keeps one of them. The 8B run's accelerator is :data:`ASSUMED_CHIP`'s.

    >>> points = sweep_points("vllm-llama-70b")
    >>> len(points), points[0].batch, points[0].gpus, points[0].hw.name
    (10, 1, 4, 'h100-sxm')
    """
    cases = FIT_CASES if case is None else (v_case(case),)
    points = []
    for name in cases:
        for row in measurements(case=name, metric="output_throughput"):
            points.append(
                SweepPoint(
                    id=row.id,
                    case=row.case,
                    model=model(row.model),
                    hw=_chip(row),
                    gpus=int(row.chips),
                    batch=int(row.batch),
                    input_tokens=float(row.input_tokens),
                    output_tokens=float(row.output_tokens),
                    measured=row.value,
                )
            )
    return points


def v_case(case: str) -> str:
    """``case`` if it is one of :data:`FIT_CASES`, else ``ValueError``."""
    if case not in FIT_CASES:
        valid = ", ".join(repr(c) for c in FIT_CASES)
        raise ValueError(f"case must be one of {valid}; got {v.echo(case)}")
    return case


# --- The end-to-end model ------------------------------------------------------------------


def waves(batch: int, fitting: float) -> np.ndarray:
    """Sizes of the static batches a run of ``batch`` requests splits into when only
    ``fitting`` fit in memory at once: full waves, then the rest.

    >>> waves(512, 233).tolist(), waves(64, 233).tolist()
    ([233.0, 233.0, 46.0], [64.0])
    """
    total = v.positive_int("batch", batch)
    room = (
        math.floor(v.non_negative_scalar("fitting", fitting)) if math.isfinite(fitting) else total
    )
    if room < 1:
        raise ValueError(f"fitting must be >= 1 (not even one request fits); got {fitting!r}")
    full, rest = divmod(total, room) if room < total else (0, total)
    return np.array([float(room)] * full + ([float(rest)] if rest else []))


def sweep_seconds(
    point: SweepPoint,
    assume: Assumptions = FIRST_ORDER,
    *,
    allreduce_latency_s: float | None = None,
    respect_memory: bool = True,
) -> float:
    """Seconds the model predicts for one measured run, end to end.

    The run's requests are served as :func:`waves` of what fits in memory at its final
    context (``respect_memory=False``: as one static batch), each wave a
    :func:`~tokenmath.serving.static_batch_time` at ``assume``. ``allreduce_latency_s``:
    ``None`` leaves tensor-parallel communication out (the bound); a number adds, for each
    pass, :func:`~tokenmath.parallel.tensor_parallel_seconds` with that latency per
    all-reduce (the calibrated prediction).

    >>> p = sweep_points("vllm-llama-70b")[0]     # batch 1, measured in 5.57 s
    >>> bound = sweep_seconds(p)
    >>> calibrated = sweep_seconds(p, CALIBRATED, allreduce_latency_s=ALLREDUCE_LATENCY_S)
    >>> round(bound, 2), round(calibrated, 2)
    (3.24, 5.68)
    """
    m, hw, n = point.model, point.hw, point.gpus
    out = point.whole_output_tokens
    if respect_memory:
        fitting = float(max_batch(m, hw, point.input_tokens + out, n))
        sizes = waves(point.batch, fitting)
    else:
        sizes = np.array([float(point.batch)])
    seconds = np.asarray(
        static_batch_time(m, hw, sizes, point.input_tokens, out, "bf16", n, assume=assume)
    )
    if allreduce_latency_s is not None and n > 1:
        latency = v.non_negative_scalar("allreduce_latency_s", allreduce_latency_s)
        prefill = tensor_parallel_seconds(m, hw, sizes * point.input_tokens, n, latency_s=latency)
        step = tensor_parallel_seconds(m, hw, sizes, n, latency_s=latency)
        seconds = seconds + np.asarray(prefill) + (out - 1) * np.asarray(step)
    return float(np.sum(seconds))


def predicted_throughput(
    point: SweepPoint,
    assume: Assumptions = FIRST_ORDER,
    *,
    allreduce_latency_s: float | None = None,
    respect_memory: bool = True,
) -> float:
    """Output tokens per second the model predicts for ``point``: ``batch x output_tokens /``
    :func:`sweep_seconds`. With the defaults this is the first-order bound.

    >>> p = sweep_points("vllm-llama-8b")[0]
    >>> round(predicted_throughput(p)), round(p.measured)
    (201, 131)
    """
    seconds = sweep_seconds(
        point, assume, allreduce_latency_s=allreduce_latency_s, respect_memory=respect_memory
    )
    return point.batch * point.output_tokens / seconds


def residuals(
    points: list[SweepPoint] | None = None,
    assume: Assumptions = CALIBRATED,
    *,
    allreduce_latency_s: float | None = ALLREDUCE_LATENCY_S,
) -> np.ndarray:
    """``log(measured / predicted)`` for each point (default: every sweep point, at the
    calibrated constants). Positive: the run was faster than predicted.

    >>> r = residuals()
    >>> len(r), bool(abs(r).max() < 0.07)
    (20, True)
    """
    pts = sweep_points() if points is None else points
    predicted = [
        predicted_throughput(p, assume, allreduce_latency_s=allreduce_latency_s) for p in pts
    ]
    return np.log(np.array([p.measured for p in pts]) / np.array(predicted))


# --- The fit -------------------------------------------------------------------------------


class _Residuals:
    """The two summaries of a ``residuals`` tuple of log(measured / predicted)."""

    residuals: tuple[float, ...]

    @property
    def rms(self) -> float:
        """Root mean square of the log residuals (0.03 is about 3%)."""
        return float(np.sqrt(np.mean(np.square(self.residuals))))

    @property
    def max_abs(self) -> float:
        """Largest absolute log residual."""
        return float(np.max(np.abs(self.residuals)))


@dataclass(frozen=True)
class Fit(_Residuals):
    """The result of :func:`fit`: constants, the points used and their residuals."""

    mem_efficiency: float
    compute_efficiency: float
    #: Seconds per tensor-parallel all-reduce; ``None`` when communication was left out.
    allreduce_latency_s: float | None
    #: Ids of the points fitted.
    points: tuple[str, ...]
    #: log(measured / predicted) for each point, in the order of ``points``.
    residuals: tuple[float, ...]

    @property
    def assume(self) -> Assumptions:
        """The fitted efficiencies as :class:`~tokenmath.assumptions.Assumptions`."""
        return replace(
            FIRST_ORDER,
            mem_efficiency=self.mem_efficiency,
            compute_efficiency=self.compute_efficiency,
        )


_GRID = np.linspace(0.2, 1.0, 9)  # efficiencies tried before the refinement
_LATENCY_UNIT = 1e-6  # the latency is fitted in microseconds (well-scaled steps)
_STEPS = 100
_DAMPING = 1e-10
_TOLERANCE = 1e-9  # relative fall in the squared residuals that ends the fit


class _Passes(NamedTuple):
    """One run's passes at the datasheet rates: what :func:`sweep_seconds` sums, taken apart
    so that a fit can rescale it. The efficiencies divide the memory and compute times of
    each pass (that is what they mean), so ``seconds = sum(max(memory / mem_eff, compute /
    comp_eff)) + all-reduce bytes + latency x all-reduces``."""

    memory: np.ndarray  # seconds of each pass (prefill passes, decode steps) at full bandwidth
    compute: np.ndarray  # seconds of each pass at the dense peak
    allreduce_bytes_s: float  # seconds of tensor-parallel all-reduce bytes in the run
    allreduces: float  # tensor-parallel all-reduces in the run

    def seconds(self, mem_efficiency: float, compute_efficiency: float, latency_s) -> float:
        busy = np.maximum(self.memory / mem_efficiency, self.compute / compute_efficiency)
        if latency_s is None:
            return float(np.sum(busy))
        return float(np.sum(busy)) + self.allreduce_bytes_s + latency_s * self.allreduces


@functools.cache
def _passes(point: SweepPoint) -> _Passes:
    m, hw, n, out = point.model, point.hw, point.gpus, point.whole_output_tokens
    sizes = waves(point.batch, float(max_batch(m, hw, point.input_tokens + out, n)))
    contexts, steps = decode_contexts(point.input_tokens, out)
    memory, compute = [], []
    for size in sizes:
        pre = prefill_terms(m, hw, point.input_tokens, size, "bf16", n)
        dec = step_time_terms(m, hw, size, contexts[steps > 0], "bf16", n)
        memory += [np.atleast_1d(pre[0]), np.atleast_1d(dec[0])]
        compute += [np.atleast_1d(pre[1]), np.atleast_1d(dec[1])]
    passes = len(sizes) * (1 + int(np.sum(steps)))
    if n > 1:
        prefill_bytes = tensor_parallel_seconds(m, hw, sizes * point.input_tokens, n)
        step_bytes = tensor_parallel_seconds(m, hw, sizes, n)
        allreduce_s = float(np.sum(prefill_bytes) + np.sum(steps) * np.sum(step_bytes))
        allreduces = float(ALLREDUCES_PER_LAYER * m.layers * passes)
    else:
        allreduce_s = allreduces = 0.0
    return _Passes(np.concatenate(memory), np.concatenate(compute), allreduce_s, allreduces)


def _log_residuals(points, params, tensor_parallel: bool) -> np.ndarray:
    """log(measured / predicted) at ``params`` (efficiencies, latency in microseconds), from
    the runs' passes taken apart once (the same numbers as :func:`residuals`)."""
    latency = params[2] * _LATENCY_UNIT if tensor_parallel else None
    predicted = [
        p.batch * p.output_tokens / _passes(p).seconds(params[0], params[1], latency)
        for p in points
    ]
    return np.log(np.array([p.measured for p in points]) / np.array(predicted))


def _clip(params: np.ndarray) -> np.ndarray:
    """Efficiencies into [0.01, 1], the latency to >= 0."""
    out = params.copy()
    out[:2] = np.clip(out[:2], 0.01, 1.0)
    if out.size > 2:
        out[2] = max(out[2], 0.0)
    return out


def fit(
    points: list[SweepPoint] | None = None,
    *,
    tensor_parallel: bool = True,
    fit_latency: bool = True,
) -> Fit:
    """Fit the efficiencies (and the all-reduce latency) to ``points`` (default: every sweep
    point) by least squares on log throughput.

    ``tensor_parallel``: count the tensor-parallel all-reduces (their bytes over the scale-up
    link, and a latency each); ``False`` leaves communication out (two constants only).
    ``fit_latency``: fit the latency (else it stays 0 and only the bytes count). A run
    without tensor parallelism says nothing about the latency: when no point has more than
    one GPU it is not fitted either way.

    >>> f = fit()
    >>> round(f.mem_efficiency, 3), round(f.compute_efficiency, 3), round(f.rms, 3)
    (0.645, 0.398, 0.029)
    """
    pts = sweep_points() if points is None else list(points)
    if not pts:
        raise ValueError("points must hold at least one SweepPoint; got none")
    for name, flag in (("tensor_parallel", tensor_parallel), ("fit_latency", fit_latency)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be True or False; got {v.echo(flag)}")
    with_latency = tensor_parallel and fit_latency and any(p.gpus > 1 for p in pts)
    best = None
    for mem, comp in product(_GRID, _GRID):
        trial = np.array([mem, comp, 0.0] if tensor_parallel else [mem, comp])
        cost = float(np.sum(_log_residuals(pts, trial, tensor_parallel) ** 2))
        if best is None or cost < best[0]:
            best = (cost, trial)
    cost, params = best
    free = 3 if with_latency else 2
    damping = _DAMPING
    r = _log_residuals(pts, params, tensor_parallel)
    for _ in range(_STEPS):
        jac = np.empty((r.size, free))
        for j in range(free):
            h = 1e-4 * max(abs(params[j]), 1e-2)
            if j < 2 and params[j] + h > 1.0:  # an efficiency at its bound: step inward
                h = -h
            bumped = params.copy()
            bumped[j] += h
            jac[:, j] = (_log_residuals(pts, bumped, tensor_parallel) - r) / h
        gradient = jac.T @ r
        # a parameter held at its bound by the gradient stays there (projected steps)
        upper = np.array([1.0, 1.0, np.inf])[:free]
        lower = np.array([0.01, 0.01, 0.0])[:free]
        held = ((params[:free] >= upper) & (gradient < 0)) | (
            (params[:free] <= lower) & (gradient > 0)
        )
        moving = np.flatnonzero(~held)
        if moving.size == 0:
            break
        normal = jac[:, moving].T @ jac[:, moving]
        scale = np.diag(np.diag(normal) + 1e-12)
        while damping < 1e6:  # Levenberg-Marquardt: damp until a step lowers the cost
            trial = params.copy()
            trial[moving] += np.linalg.solve(normal + damping * scale, -gradient[moving])
            trial = _clip(trial)
            trial_r = _log_residuals(pts, trial, tensor_parallel)
            trial_cost = float(np.sum(trial_r**2))
            if trial_cost < cost:
                break
            damping *= 10.0
        else:
            break
        converged = cost - trial_cost < _TOLERANCE * cost
        params, r, cost = trial, trial_r, trial_cost
        damping = max(damping / 3.0, _DAMPING)
        if converged:
            break
    latency = float(params[2] * _LATENCY_UNIT) if tensor_parallel else None
    final = _log_residuals(pts, params, tensor_parallel)
    return Fit(
        mem_efficiency=float(params[0]),
        compute_efficiency=float(params[1]),
        allreduce_latency_s=latency,
        points=tuple(p.id for p in pts),
        residuals=tuple(float(x) for x in final),
    )


@dataclass(frozen=True)
class OutOfSample(_Residuals):
    """One run predicted by a fit that did not see it."""

    #: The case fitted, and the case predicted.
    fitted_on: str
    predicted: str
    fit: Fit
    #: log(measured / predicted) for each point of the predicted case.
    residuals: tuple[float, ...]


def out_of_sample(*, tensor_parallel: bool = True, fit_latency: bool = False) -> list[OutOfSample]:
    """Fit on each sweep alone and predict the other: one :class:`OutOfSample` per direction
    (8B to 70B, then 70B to 8B), with :func:`fit`'s options.

    The default counts the all-reduces' bytes and fits no latency: a single-GPU run cannot
    see the latency, and one tensor-parallel run alone cannot tell a slow memory from slow
    collectives (fitting both on the 70B run pushes the memory efficiency to its bound).
    """
    results = []
    for train, test in ((FIT_CASES[1], FIT_CASES[0]), (FIT_CASES[0], FIT_CASES[1])):
        fitted = fit(sweep_points(train), tensor_parallel=tensor_parallel, fit_latency=fit_latency)
        held_out = sweep_points(test)
        r = residuals(held_out, fitted.assume, allreduce_latency_s=fitted.allreduce_latency_s)
        results.append(OutOfSample(train, test, fitted, tuple(float(x) for x in r)))
    return results
