"""The ``tokenmath`` command: what a token costs, from the shell.

::

    tokenmath presets [--json]
    tokenmath cost MODEL HARDWARE --batch B --context L [--price USD_PER_HOUR]
                   [--precision fp8] [--kv-precision fp8] [--assume refined] [--gpus N] [--json]
    tokenmath sweet-spot MODEL HARDWARE [--context L] [--precision fp8] [--kv-precision fp8]
                   [--assume refined] [--json]

``--assume`` picks a named assumption set: ``first-order`` (the default, the seed's model) or
``refined`` (:data:`tokenmath.assumptions.REFINED`: expected expert reads and attention
arithmetic).

Human output is a small table with units; ``--json`` prints one JSON object (an infinite
sweet spot or batch becomes ``null``). A bad argument prints one line on stderr and exits
with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import assumptions, presets, roofline, specs

EXIT_USAGE = 2

Row = tuple[str, str, str]  # quantity, value, unit


class UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _number(value: float, digits: int = 4) -> str:
    """A readable number: thousands separators for large values, 4 significant digits."""
    if isinstance(value, float) and math.isinf(value):
        return "inf (none)"
    if isinstance(value, int) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _json_number(value: float) -> float | None:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> str:
    lines = ([list(header)] if header else []) + [list(r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def fmt(line: list[str]) -> str:
        first, *rest = line
        right = [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        cells = [first.ljust(widths[0]), *right]
        return "  ".join(cells).rstrip()

    out = [fmt(line) for line in lines]
    if header:
        out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _quantity_table(rows: Sequence[Row]) -> str:
    """Rows of (quantity, value, unit) with values right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{q.ljust(widths[0])}  {val.rjust(widths[1])}  {unit}".rstrip() for q, val, unit in rows
    )


# --- presets -------------------------------------------------------------------------


def _model_record(m: specs.Model) -> dict[str, Any]:
    return {
        "name": m.name,
        "total_params": m.total_params,
        "active_params": m.active_params,
        "inverse_sparsity": m.inverse_sparsity,
        "kv_bytes_per_token": specs.kv_bytes_per_token(m),
        "context_limit_tokens": m.context_limit,
        "sources": list(m.sources),
    }


def _hardware_record(h: specs.Hardware) -> dict[str, Any]:
    return {
        "name": h.name,
        "bf16_flops_per_s": h.flops_per_s.get("bf16"),
        "fp8_flops_per_s": h.flops_per_s.get("fp8"),
        "hbm_bytes_per_s": h.hbm_bytes_per_s,
        "hbm_bytes": h.hbm_bytes,
        "ops_per_byte_bf16": h.ops_per_byte("bf16") if "bf16" in h.flops_per_s else None,
        "usd_per_hour": h.usd_per_hour,
        "price_date": h.price_date,
        "sources": list(h.sources),
    }


def _presets_text() -> str:
    model_rows = [
        [
            m.name,
            f"{m.total_params / 1e9:,.4g}",
            f"{m.active_params / 1e9:,.4g}",
            f"{m.inverse_sparsity:.1f}",
            f"{specs.kv_bytes_per_token(m):,.0f}",
            f"{m.context_limit:,}",
        ]
        for m in presets.MODELS
    ]
    hw_rows = []
    for h in presets.HARDWARE:
        fp8 = h.flops_per_s.get("fp8")
        hw_rows.append(
            [
                h.name,
                f"{h.flops('bf16') / 1e12:,.1f}",
                "-" if fp8 is None else f"{fp8 / 1e12:,.1f}",
                f"{h.hbm_bytes_per_s / 1e12:.3f}",
                f"{h.hbm_bytes / 1e9:,.0f}",
                f"{h.ops_per_byte('bf16'):.0f}",
                f"{h.usd_per_hour:.2f}",
                h.price_date,
            ]
        )
    models = _table(
        model_rows,
        [
            "model",
            "total (B params)",
            "active (B params)",
            "total/active",
            "KV (bytes/token)",
            "context (tokens)",
        ],
    )
    hardware = _table(
        hw_rows,
        [
            "hardware",
            "BF16 (TFLOP/s)",
            "FP8 (TFLOP/s)",
            "HBM (TB/s)",
            "HBM (GB)",
            "C/BW BF16 (FLOP/byte)",
            "price (USD/h)",
            "price date",
        ],
    )
    note = (
        "KV bytes/token: growth per token of context at BF16 (sliding-window layers excluded).\n"
        "FLOP/s are dense (no sparsity). Prices are typical rentals and move fast.\n"
        "Sources: `tokenmath presets --json`."
    )
    return f"Models\n\n{models}\n\nHardware\n\n{hardware}\n\n{note}"


def _cmd_presets(args: argparse.Namespace) -> str:
    if args.json:
        return json.dumps(
            {
                "models": [_model_record(m) for m in presets.MODELS],
                "hardware": [_hardware_record(h) for h in presets.HARDWARE],
            },
            indent=2,
        )
    return _presets_text()


# --- cost ----------------------------------------------------------------------------


#: The named assumption sets the command offers.
ASSUMPTION_SETS = {"first-order": assumptions.FIRST_ORDER, "refined": assumptions.REFINED}


def _assumptions(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments ``kv_precision`` and ``assume`` that the options name."""
    name = args.assume.lower()
    if name not in ASSUMPTION_SETS:
        valid = ", ".join(repr(k) for k in ASSUMPTION_SETS)
        raise ValueError(f"--assume must be one of {valid}; got {specs.echo(args.assume)}")
    return {
        "kv_precision": specs.check_kv_precision(args.kv_precision),
        "assume": ASSUMPTION_SETS[name],
    }


def _cost_record(args: argparse.Namespace) -> dict[str, Any]:
    m, hw = presets.model(args.model), presets.hardware(args.hardware)
    prec = specs.check_precision(args.precision)
    kw = _assumptions(args)
    batch, context, gpus = args.batch, args.context, args.gpus
    price = hw.usd_per_hour if args.price is None else args.price
    t_step = roofline.step_time(m, hw, batch, context, prec, gpus, **kw)
    cost = roofline.cost_per_token(m, hw, batch, context, prec, gpus, **kw)
    floor = roofline.cost_floor(m, hw, context, prec, **kw)
    return {
        "model": m.name,
        "hardware": hw.name,
        "precision": prec,
        "kv_precision": kw["kv_precision"],
        "assumptions": args.assume.lower(),
        "batch": batch,
        "context_tokens": context,
        "gpus": gpus,
        "step_time_s": t_step,
        "tokens_per_s": roofline.throughput(m, hw, batch, context, prec, gpus, **kw),
        "gpu_seconds_per_token": cost,
        "usd_per_gpu_hour": price,
        "price_source": "given" if args.price is not None else f"preset ({hw.price_date})",
        "usd_per_million_tokens": roofline.usd_per_million_tokens(cost, price),
        "region": roofline.region(m, hw, batch, context, prec, **kw),
        "sweet_spot_batch": _json_number(roofline.sweet_spot(m, hw, context, prec, **kw)),
        "floor_gpu_seconds_per_token": floor,
        "floor_usd_per_million_tokens": roofline.usd_per_million_tokens(floor, price),
        "max_batch_in_hbm": _json_number(roofline.max_batch(m, hw, context, gpus, prec, **kw)),
        "min_gpus_for_weights": roofline.min_gpus(m, hw, prec),
        "context_limit_tokens": m.context_limit,
    }


def _sweet_text(sweet: float | None) -> str:
    return "none (KV line above compute)" if sweet is None else _number(sweet)


def _context_note(r: dict[str, Any]) -> str:
    if r["context_tokens"] <= r["context_limit_tokens"]:
        return ""
    return (
        f"\n\nnote: context {_number(r['context_tokens'])} tokens is beyond {r['model']}'s "
        f"limit of {r['context_limit_tokens']:,} tokens (computed anyway)"
    )


def _cost_text(r: dict[str, Any]) -> str:
    sweet = r["sweet_spot_batch"]
    fit = r["max_batch_in_hbm"]
    head = (
        f"{r['model']} on {r['gpus']} x {r['hardware']} at {r['precision']} "
        f"(KV cache {r['kv_precision']}, {r['assumptions']} model), "
        f"batch {_number(r['batch'])}, context {_number(r['context_tokens'])} tokens"
    )
    rows: list[Row] = [
        ("step time", _number(r["step_time_s"] * 1e3), "ms"),
        ("throughput", _number(r["tokens_per_s"]), "tokens/s per replica"),
        ("cost per token", _number(r["gpu_seconds_per_token"] * 1e6), "GPU-microseconds"),
        (
            "cost per million tokens",
            _number(r["usd_per_million_tokens"]),
            f"USD at {r['usd_per_gpu_hour']:.2f} USD/GPU-hour, {r['price_source']}",
        ),
        ("region", r["region"], ""),
        ("sweet spot", _sweet_text(sweet), "batch"),
        ("cost floor", _number(r["floor_gpu_seconds_per_token"] * 1e6), "GPU-microseconds/token"),
        ("cost floor", _number(r["floor_usd_per_million_tokens"]), "USD per million tokens"),
        ("fits in HBM", "any" if fit is None else _number(fit), "sequences at most"),
        ("GPUs to hold the weights", _number(r["min_gpus_for_weights"]), "at least"),
    ]
    return head + "\n\n" + _quantity_table(rows) + _context_note(r)


def _cmd_cost(args: argparse.Namespace) -> str:
    record = _cost_record(args)
    return json.dumps(record, indent=2) if args.json else _cost_text(record)


# --- sweet-spot ----------------------------------------------------------------------


def _sweet_spot_record(args: argparse.Namespace) -> dict[str, Any]:
    m, hw = presets.model(args.model), presets.hardware(args.hardware)
    prec = specs.check_precision(args.precision)
    kw = _assumptions(args)
    context = args.context
    sweet = roofline.sweet_spot(m, hw, context, prec, **kw)
    mode = specs.compute_precision(m, hw, prec)
    return {
        "model": m.name,
        "hardware": hw.name,
        "precision": prec,
        "kv_precision": kw["kv_precision"],
        "assumptions": args.assume.lower(),
        "context_tokens": context,
        "sweet_spot_batch": _json_number(sweet),
        "ops_per_byte": hw.ops_per_byte(mode),
        "inverse_sparsity": m.inverse_sparsity,
        "floor_gpu_seconds_per_token": roofline.cost_floor(m, hw, context, prec, **kw),
        "batch1_penalty": roofline.batch1_penalty(m, hw, context, prec, **kw),
        "context_limit_tokens": m.context_limit,
        "step_time_at_sweet_spot_s": _json_number(
            roofline.step_time(m, hw, sweet, context, prec, **kw)
            if math.isfinite(sweet)
            else math.inf
        ),
    }


def _sweet_spot_text(r: dict[str, Any]) -> str:
    sweet = r["sweet_spot_batch"]
    t_sweet = r["step_time_at_sweet_spot_s"]
    head = (
        f"{r['model']} on {r['hardware']} at {r['precision']} "
        f"(KV cache {r['kv_precision']}, {r['assumptions']} model), "
        f"context {_number(r['context_tokens'])} tokens"
    )
    rows: list[Row] = [
        ("sweet spot", _sweet_text(sweet), "batch"),
        ("C/BW", _number(r["ops_per_byte"]), "FLOP/byte"),
        ("total/active params", _number(r["inverse_sparsity"]), ""),
        ("cost floor", _number(r["floor_gpu_seconds_per_token"] * 1e6), "GPU-microseconds/token"),
        ("batch-1 penalty", _number(r["batch1_penalty"]), "x the floor"),
        ("step time at sweet spot", "-" if t_sweet is None else _number(t_sweet * 1e3), "ms"),
    ]
    return head + "\n\n" + _quantity_table(rows) + _context_note(r)


def _cmd_sweet_spot(args: argparse.Namespace) -> str:
    record = _sweet_spot_record(args)
    return json.dumps(record, indent=2) if args.json else _sweet_spot_text(record)


# --- parser --------------------------------------------------------------------------


def _parser() -> _Parser:
    parser = _Parser(
        prog="tokenmath",
        description="What one generated token costs on a given model and accelerator.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("presets", help="list the model and hardware presets")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_cmd_presets)

    def model_and_hardware(q: argparse.ArgumentParser) -> None:
        q.add_argument("model", help="model preset, e.g. deepseek-v3 (see `tokenmath presets`)")
        q.add_argument("hardware", help="hardware preset, e.g. h100-sxm")
        q.add_argument(
            "--precision",
            default="bf16",
            help="weights: bf16 (default), fp8, fp4, mxfp4 or native (the released checkpoint's)",
        )
        q.add_argument("--kv-precision", default="bf16", help="KV cache: bf16 (default) or fp8")
        q.add_argument(
            "--assume",
            default="first-order",
            help="first-order (default) or refined (expected expert reads, attention FLOPs)",
        )
        q.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("cost", help="step time and cost per token at one batch and context")
    model_and_hardware(p)
    p.add_argument("--batch", type=float, required=True, help="sequences per step (> 0)")
    p.add_argument("--context", type=float, required=True, help="tokens of context (>= 0)")
    p.add_argument("--price", type=float, default=None, help="USD per GPU-hour (>= 0)")
    p.add_argument("--gpus", type=int, default=1, help="GPUs per replica (>= 1)")
    p.set_defaults(run=_cmd_cost)

    p = sub.add_parser("sweet-spot", help="the batch where the cost reaches its floor")
    model_and_hardware(p)
    p.add_argument("--context", type=float, default=0.0, help="tokens of context (>= 0)")
    p.set_defaults(run=_cmd_sweet_spot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, or 2 for a bad argument)."""
    try:
        args = _parser().parse_args(argv)
        text = args.run(args)
    except (UsageError, ValueError) as err:
        message = " ".join(str(err).split())
        print(f"tokenmath: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(text, flush=True)
    except BrokenPipeError:  # e.g. `tokenmath presets | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
