"""Tables for the cost explorer on the book's website, computed by the library at build time.

A static website cannot run Python, and the physics is written once, in this library. So the
website's explorer computes nothing: when the book is built, this module evaluates the library
on a grid (every preset model x accelerator x weight format x KV-cache format x assumption set
x context x batch) and writes the numbers into the site as small JavaScript files holding
JSON, one per model and accelerator, which the explorer page loads when a reader picks them.
The browser only decodes, looks up, formats and draws those numbers.

What one case (a model, an accelerator, a weight format, a KV-cache format and an assumption
set) stores, all from :mod:`tokenmath.roofline`:

* per context and batch: the cost per token [GPU-µs per token] and the step time of the
  replica [ms per decode step];
* per context: the KV and compute terms and the floor [GPU-µs per token], the sweet spot
  [sequences], the batch-1 penalty, the largest batch that fits on the replica [sequences],
  the first batch on the grid that is compute-bound, and the cost and step time at the sweet
  spot (so a drawn curve bends exactly there);
* per batch: the weight term [GPU-µs per token], which does not depend on the context.

Curves are stored as base-10 logarithms rounded to :data:`LOG_STEPS_PER_DECADE` steps per
decade and delta-coded along the batch axis; single values are rounded to
:data:`SIGNIFICANT_DIGITS` significant figures. Either way, a number the page shows is within
:data:`QUANTISATION_TOLERANCE` (relative) of the library's at that grid point.

>>> import tokenmath as tm
>>> m, hw = tm.model("llama-3.1-8b"), tm.hardware("h100-sxm")
>>> tables = explorer_tables(m, hw)
>>> case = tables["cases"]["bf16|bf16|first-order"]
>>> contexts, batches = tables["contexts"], list(batch_grid())
>>> stored = decode_curve(case["cost_us"][contexts.index(0)])[batches.index(64)]
>>> exact = tm.cost_per_token(m, hw, 64, 0) * 1e6  # GPU-microseconds per token
>>> bool(abs(stored / exact - 1) < QUANTISATION_TOLERANCE)
True
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import roofline as rl
from .assumptions import FIRST_ORDER, REFINED, Assumptions
from .presets import hardware, hardware_names, model, model_names
from .specs import Hardware, Model, compute_precision

#: Weight formats the explorer offers, where the chip and the library support them.
WEIGHT_FORMATS = ("bf16", "fp8", "native")
#: KV-cache formats the explorer offers.
KV_FORMATS = ("bf16", "fp8")
#: Assumption sets the explorer offers, by the name the page shows.
ASSUMPTION_SETS: dict[str, Assumptions] = {"first-order": FIRST_ORDER, "refined": REFINED}

#: The batch grid runs from 1 to 2 to this power (two stops per doubling, whole sequences).
LARGEST_BATCH_LOG2 = 20
#: The context grid holds 0, then every power of two from this one to the model's limit [tokens].
SMALLEST_CONTEXT = 128

#: Steps per decade of the quantised logarithm of a curve value.
LOG_STEPS_PER_DECADE = 2500
#: Significant figures of a single stored value.
SIGNIFICANT_DIGITS = 4
#: Largest relative error of a stored value against the library's (4 significant figures).
QUANTISATION_TOLERANCE = 5e-4

MICROSECONDS_PER_SECOND = 1e6
MILLISECONDS_PER_SECOND = 1e3

#: Version of the layout of the files that :func:`write_site_files` writes (bump it on a change).
FILE_FORMAT = 1
#: Global names the generated JavaScript files assign (read by the explorer's script).
INDEX_GLOBAL = "TM_EXPLORER_INDEX"
TABLES_GLOBAL = "TM_EXPLORER_TABLES"


# --------------------------------------------------------------------------- grids


def batch_grid() -> tuple[int, ...]:
    """Batches of the grid [sequences]: every power of two from 1 to 2^20 and the whole
    number half-way (x 1.5) between two of them: 1, 2, 3, 4, 6, 8, 12, ..., 1,048,576.

    >>> batch_grid()[:8], len(batch_grid())
    ((1, 2, 3, 4, 6, 8, 12, 16), 40)
    """
    powers = [2**k for k in range(LARGEST_BATCH_LOG2 + 1)]
    halves = [3 * 2 ** (k - 1) for k in range(1, LARGEST_BATCH_LOG2)]
    return tuple(sorted({*powers, *halves}))


def context_grid(limit: int) -> list[int]:
    """Contexts of the grid [tokens]: 0, every power of two from :data:`SMALLEST_CONTEXT`
    below ``limit``, and ``limit`` itself.

    >>> context_grid(2048)
    [0, 128, 256, 512, 1024, 2048]
    """
    if not (isinstance(limit, int) and limit >= 1):
        raise ValueError(f"limit must be a whole number of tokens >= 1; got {limit!r}")
    values = [0]
    step = SMALLEST_CONTEXT
    while step < limit:
        values.append(step)
        step *= 2
    return [*values, limit]


def weight_formats_offered(model: Model, hw: Hardware) -> list[str]:
    """The weight formats of :data:`WEIGHT_FORMATS` that the library can run on ``hw``: BF16,
    FP8 where the chip has an FP8 mode, and the checkpoint's own formats (``"native"``,
    multiplied in a wider mode where the chip lacks theirs; see
    :func:`tokenmath.specs.compute_precision`).

    >>> weight_formats_offered(model("deepseek-v3"), hardware("a100-sxm-80gb"))
    ['bf16', 'native']
    """
    offered = []
    for precision in WEIGHT_FORMATS:
        try:
            compute_precision(model, hw, precision)
        except ValueError:
            continue
        offered.append(precision)
    return offered


def replica_gpus(model: Model, hw: Hardware, precision: str) -> int:
    """Accelerators in the explorer's replica: the JupyterLab explorer's default, the smallest
    power of two whose memory holds the weights (``tokenmath.widgets.default_gpus``)."""
    from .widgets import default_gpus  # one policy for both explorers

    return default_gpus(model.name, hw.name, precision)


def case_key(precision: str, kv_precision: str, assumption_set: str) -> str:
    """The key of one case in a table: ``"bf16|fp8|refined"``."""
    return f"{precision}|{kv_precision}|{assumption_set}"


# --------------------------------------------------------------------------- values


def case_values(
    model: Model,
    hw: Hardware,
    precision: str,
    kv_precision: str,
    assume: Assumptions,
    contexts: Sequence[int],
    batches: Sequence[int],
) -> dict[str, Any]:
    """Every number the explorer shows for one case, unrounded, from :mod:`~tokenmath.roofline`.

    Arrays indexed ``[context]``, ``[batch]`` or ``[context, batch]``; ``math.inf`` where the
    library says so (no sweet spot, no memory limit at context 0). Keys carry their units.
    """
    gpus = replica_gpus(model, hw, precision)
    kw = {"kv_precision": kv_precision, "assume": assume}
    ctx = np.asarray(contexts, dtype=float)
    b = np.asarray(batches, dtype=float)
    grid_b, grid_ctx = b[None, :], ctx[:, None]
    spot = np.asarray(rl.sweet_spot(model, hw, ctx, precision, **kw), dtype=float)
    spot_batch = np.where(np.isfinite(spot), spot, 1.0)  # a placeholder where there is none
    at_spot = np.isfinite(spot)
    terms = rl.cost_terms(model, hw, 1.0, ctx, precision, **kw)
    compute_bound = np.asarray(
        rl.region(model, hw, grid_b, grid_ctx, precision, **kw) == rl.REGION_COMPUTE
    )
    return {
        "gpus": gpus,
        "compute_mode": compute_precision(model, hw, precision),
        "cost_us": np.asarray(rl.cost_per_token(model, hw, grid_b, grid_ctx, precision, **kw))
        * MICROSECONDS_PER_SECOND,
        "step_ms": np.asarray(rl.step_time(model, hw, grid_b, grid_ctx, precision, gpus, **kw))
        * MILLISECONDS_PER_SECOND,
        "weights_us": np.asarray(rl.cost_terms(model, hw, b, 0, precision, **kw).weights)
        * MICROSECONDS_PER_SECOND,
        "kv_us": np.broadcast_to(terms.kv, ctx.shape) * MICROSECONDS_PER_SECOND,
        "compute_us": np.broadcast_to(terms.compute, ctx.shape) * MICROSECONDS_PER_SECOND,
        "floor_us": np.asarray(rl.cost_floor(model, hw, ctx, precision, **kw))
        * MICROSECONDS_PER_SECOND,
        "sweet_spot": spot,
        "cost_at_sweet_spot_us": np.where(
            at_spot, rl.cost_per_token(model, hw, spot_batch, ctx, precision, **kw), math.inf
        )
        * MICROSECONDS_PER_SECOND,
        "step_at_sweet_spot_ms": np.where(
            at_spot, rl.step_time(model, hw, spot_batch, ctx, precision, gpus, **kw), math.inf
        )
        * MILLISECONDS_PER_SECOND,
        "batch1_penalty": np.asarray(rl.batch1_penalty(model, hw, ctx, precision, **kw)),
        "max_batch": np.asarray(rl.max_batch(model, hw, ctx, gpus, precision, **kw)),
        "compute_from": first_compute_bound(compute_bound),
    }


def first_compute_bound(compute_bound: np.ndarray) -> list[int]:
    """Per context (row), the index of the first compute-bound batch (the row's length if
    none). The library's region switches once, from memory- to compute-bound as the batch
    grows; a row that switches back would make this index wrong, so it raises."""
    rows = np.atleast_2d(compute_bound)
    first = np.where(rows.any(axis=1), rows.argmax(axis=1), rows.shape[1])
    for row, start in zip(rows, first, strict=True):
        if not row[start:].all():
            raise ValueError("region is not memory-bound then compute-bound along the batch")
    return [int(i) for i in first]


# --------------------------------------------------------------------------- encoding


def encode_curve(values: np.ndarray) -> list[int]:
    """Positive values as delta-coded quantised logarithms: the first is
    ``round(LOG_STEPS_PER_DECADE x log10(v))``, each next one the step from the previous.

    >>> encode_curve(np.array([100.0, 10.0, 10.0]))
    [5000, -2500, 0]
    """
    arr = np.asarray(values, dtype=float)
    if not (np.all(np.isfinite(arr)) and np.all(arr > 0)):
        raise ValueError("a curve must hold finite values > 0")
    codes = np.rint(np.log10(arr) * LOG_STEPS_PER_DECADE).astype(np.int64)
    return np.diff(codes, prepend=0).tolist()


def decode_curve(codes: Sequence[int]) -> np.ndarray:
    """The values :func:`encode_curve` stored (the page's script decodes the same way).

    >>> decode_curve([5000, -2500, 0]).tolist()
    [100.0, 10.0, 10.0]
    """
    return 10.0 ** (np.cumsum(np.asarray(codes, dtype=np.int64)) / LOG_STEPS_PER_DECADE)


def round_significant(value: float) -> float | None:
    """``value`` to :data:`SIGNIFICANT_DIGITS` significant figures; ``None`` for infinity
    (JSON has none: the page reads it as "no sweet spot" or "no limit").

    >>> round_significant(1234.567), round_significant(math.inf)
    (1235.0, None)
    """
    if math.isinf(value):
        return None
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _rounded(values: np.ndarray) -> list[float | None]:
    return [round_significant(float(x)) for x in np.ravel(values)]


def encode_case(values: dict[str, Any]) -> dict[str, Any]:
    """One case's numbers (from :func:`case_values`) in the stored, JSON-ready form."""
    return {
        "gpus": values["gpus"],
        "compute_mode": values["compute_mode"],
        "cost_us": [encode_curve(row) for row in values["cost_us"]],
        "step_ms": [encode_curve(row) for row in values["step_ms"]],
        "weights_us": encode_curve(values["weights_us"]),
        **{
            key: _rounded(values[key])
            for key in (
                "kv_us",
                "compute_us",
                "floor_us",
                "sweet_spot",
                "cost_at_sweet_spot_us",
                "step_at_sweet_spot_ms",
                "batch1_penalty",
            )
        },
        # Whole sequences, stored exactly (rounding could round up past what fits).
        "max_batch": [None if math.isinf(x) else int(x) for x in np.ravel(values["max_batch"])],
        "compute_from": values["compute_from"],
    }


# --------------------------------------------------------------------------- tables


def explorer_tables(model: Model, hw: Hardware) -> dict[str, Any]:
    """Every case of one model on one accelerator, stored form: ``contexts`` [tokens] and
    ``cases`` keyed by :func:`case_key`. A case equal to one before it is stored as
    ``{"same_as": key}`` (FP8 and native weights are often one and the same)."""
    contexts = context_grid(model.context_limit)
    batches = batch_grid()
    cases: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for precision in weight_formats_offered(model, hw):
        for kv in KV_FORMATS:
            for name, assume in ASSUMPTION_SETS.items():
                key = case_key(precision, kv, name)
                case = encode_case(case_values(model, hw, precision, kv, assume, contexts, batches))
                text = json.dumps(case, sort_keys=True)
                cases[key] = {"same_as": seen[text]} if text in seen else case
                seen.setdefault(text, key)
    return {"model": model.name, "hardware": hw.name, "contexts": contexts, "cases": cases}


def table_file_name(model_name: str, hardware_name: str) -> str:
    """File of one model and accelerator under ``tables/``: ``deepseek-v3__h100-sxm.js``."""
    return f"{model_name}__{hardware_name}.js"


def _format_label(model: Model, precision: str) -> str:
    """How the menu names a weight format: ``"native (FP8)"``, ``"native (BF16 + MXFP4
    experts)"``."""
    if precision != "native":
        return precision.upper()
    shared, routed = model.weight_formats("native")
    formats = shared.upper() if shared == routed else f"{shared.upper()} + {routed.upper()} experts"
    return f"native ({formats})"


def explorer_index() -> dict[str, Any]:
    """What the page needs before any table: menus, grids, defaults, prices and file names."""
    return {
        "format": FILE_FORMAT,
        "batches": list(batch_grid()),
        "log_steps_per_decade": LOG_STEPS_PER_DECADE,
        "tolerance": QUANTISATION_TOLERANCE,
        "kv_formats": list(KV_FORMATS),
        "assumption_sets": {name: assume.describe() for name, assume in ASSUMPTION_SETS.items()},
        "models": {
            name: {
                "context_limit": model(name).context_limit,
                "contexts": context_grid(model(name).context_limit),
            }
            for name in model_names()
        },
        "hardware": {
            name: {
                "usd_per_gpu_hour": hardware(name).usd_per_hour,
                "price_date": hardware(name).price_date,
                # USD per million tokens for each GPU-microsecond a token costs: a change of
                # units, computed here so that the page multiplies by the library's factor.
                "usd_per_million_per_gpu_us": rl.usd_per_million_tokens(
                    1 / MICROSECONDS_PER_SECOND, hardware(name).usd_per_hour
                ),
            }
            for name in hardware_names()
        },
        "weight_formats": {
            f"{m}/{h}": {
                p: _format_label(model(m), p) for p in weight_formats_offered(model(m), hardware(h))
            }
            for m in model_names()
            for h in hardware_names()
        },
        "tables": {
            f"{m}/{h}": table_file_name(m, h) for m in model_names() for h in hardware_names()
        },
        "defaults": {
            "model": "deepseek-v3",
            "hardware": "h100-sxm",
            "precision": "bf16",
            "kv_precision": "bf16",
            "assumptions": "first-order",
            "context": 0,
            "batch": 64,
        },
    }


def _script(global_name: str, key: str | None, data: dict[str, Any]) -> str:
    """A JavaScript file that stores ``data`` under ``window[global_name]`` (or its ``key``).

    A script file, not a JSON file: a page opened from ``file://`` may load scripts but not
    fetch JSON.
    """
    body = json.dumps(data, separators=(",", ":"), allow_nan=False)
    if key is None:
        return f"window.{global_name}={body};\n"
    return (
        f"window.{global_name}=window.{global_name}||{{}};"
        f"window.{global_name}[{json.dumps(key)}]={body};\n"
    )


def source_fingerprint() -> str:
    """A hash of the library's source and data files and of the file format: the tables
    are rewritten only when it changes."""
    digest = hashlib.sha256(f"format {FILE_FORMAT}".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".csv", ".toml", ".json"):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class WriteReport:
    """What :func:`write_site_files` did: files written (0 when the stamp was current), their
    total size [bytes] and the time it took [s]."""

    files: int
    bytes: int
    seconds: float


STAMP_FILE = "stamp.json"


def write_site_files(folder: str | Path, *, force: bool = False) -> WriteReport:
    """Write ``index.js`` and ``tables/<model>__<accelerator>.js`` for every preset into
    ``folder``. Skipped (and reported as 0 files) when ``folder`` holds tables from the same
    library source, unless ``force``."""
    start = time.perf_counter()
    out = Path(folder)
    stamp = {"fingerprint": source_fingerprint()}
    stamp_path = out / STAMP_FILE
    if not force and stamp_path.is_file() and json.loads(stamp_path.read_text()) == stamp:
        return WriteReport(files=0, bytes=0, seconds=time.perf_counter() - start)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    written = [out / "index.js"]
    written[0].write_text(_script(INDEX_GLOBAL, None, explorer_index()), encoding="utf-8")
    for m in model_names():
        for h in hardware_names():
            path = out / "tables" / table_file_name(m, h)
            tables = explorer_tables(model(m), hardware(h))
            path.write_text(_script(TABLES_GLOBAL, f"{m}/{h}", tables), encoding="utf-8")
            written.append(path)
    stamp_path.write_text(json.dumps(stamp), encoding="utf-8")
    size = sum(p.stat().st_size for p in written)
    return WriteReport(files=len(written), bytes=size, seconds=time.perf_counter() - start)
