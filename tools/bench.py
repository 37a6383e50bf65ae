"""Timing benchmarks of the tokenmath library (run by `make bench`).

Prints, against the budgets of issue 3:

* ``import tokenmath``: seconds in a fresh interpreter (best of several), and whether
  sympy, matplotlib or ipywidgets came along (they must not);
* ``cost_per_token`` over 10^6 (batch, context) points in one vectorized call (median),
  under the first-order assumptions and under ``tm.REFINED`` with an FP8 cache (issue 7);
* the same computation as a Python loop, one call per point (10^4 points, scaled to
  10^6), and the speedup of the vectorized call over it;
* ``prefill_time`` over 10^6 (prompt length, prompts per pass, cached prefix) points in one
  call, first-order and ``tm.REFINED`` with an FP8 cache (issue 8: under 50 ms).

Benchmarks are reported, not enforced: each line says PASS or MISS and the script exits 0.
Usage: ``python tools/bench.py [--points N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import tokenmath as tm

HEAVY_MODULES = ("sympy", "matplotlib", "ipywidgets")
IMPORT_BUDGET_S = 0.3
VECTOR_BUDGET_S = 0.050
SPEEDUP_BUDGET = 100.0

_IMPORT_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t0
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(json.dumps({{"seconds": elapsed, "heavy": heavy}}))
"""


def import_time(module: str, runs: int) -> tuple[float, list[str]]:
    """Best time to import ``module`` over ``runs`` fresh interpreters, and heavy modules seen."""
    probe_code = _IMPORT_PROBE.format(module=module, heavy=HEAVY_MODULES)
    best, heavy = float("inf"), set()
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", probe_code], capture_output=True, text=True, check=True
        )
        probe = json.loads(out.stdout)
        best = min(best, probe["seconds"])
        heavy.update(probe["heavy"])
    return best, sorted(heavy)


def points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random (batch, context) pairs: batch 1 to 10^4, context 0 to 128K tokens."""
    rng = np.random.default_rng(seed)
    return rng.uniform(1.0, 1e4, n), rng.uniform(0.0, 131_072.0, n)


def prefill_points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random prefill passes: prompts of 1 to 128K tokens, 1 to 64 prompts a pass,
    up to 90% of each prompt cached."""
    rng = np.random.default_rng(seed)
    prompt = rng.uniform(1.0, 131_072.0, n)
    return prompt, rng.uniform(1.0, 64.0, n), prompt * rng.uniform(0.0, 0.9, n)


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="vectorized points")
    parser.add_argument("--loop-points", type=int, default=10_000, help="points in the loop")
    parser.add_argument("--repeats", type=int, default=11, help="repeats (median)")
    parser.add_argument("--import-runs", type=int, default=7, help="fresh interpreters")
    args = parser.parse_args(argv)

    m, hw = tm.model("deepseek-v3"), tm.hardware("h100-sxm")
    t_import, heavy = import_time("tokenmath", args.import_runs)
    t_numpy, _ = import_time("numpy", args.import_runs)

    batch, context = points(args.points)
    tm.cost_per_token(m, hw, batch, context)  # warm up
    t_vector = median_seconds(lambda: tm.cost_per_token(m, hw, batch, context), args.repeats)
    t_vector_1e6 = t_vector * 1e6 / args.points
    refined = {"assume": tm.REFINED, "kv_precision": "fp8"}
    tm.cost_per_token(m, hw, batch, context, **refined)  # warm up
    t_refined = median_seconds(
        lambda: tm.cost_per_token(m, hw, batch, context, **refined), args.repeats
    )
    t_refined_1e6 = t_refined * 1e6 / args.points

    prompt, per_pass, cached = prefill_points(args.points)
    t_prefill = {}
    for label, kw in (("first-order", {}), ("refined", refined)):
        tm.prefill_time(m, hw, prompt, per_pass, cached_tokens=cached, **kw)  # warm up
        t_prefill[label] = median_seconds(
            lambda kw=kw: tm.prefill_time(m, hw, prompt, per_pass, cached_tokens=cached, **kw),
            args.repeats,
        )

    loop_b, loop_c = batch[: args.loop_points].tolist(), context[: args.loop_points].tolist()

    def loop() -> list[float]:
        return [tm.cost_per_token(m, hw, b, c) for b, c in zip(loop_b, loop_c, strict=True)]

    n_loop = len(loop_b)
    same = np.array(loop()) == tm.cost_per_token(m, hw, batch[:n_loop], context[:n_loop])
    t_loop = median_seconds(loop, max(3, args.repeats // 4))
    t_loop_1e6 = t_loop * 1e6 / n_loop
    speedup = t_loop_1e6 / t_vector_1e6

    rows = [
        (
            f"import tokenmath (best of {args.import_runs} fresh runs)",
            f"{t_import * 1e3:.1f} ms",
            f"< {IMPORT_BUDGET_S * 1e3:.0f} ms",
            verdict(t_import < IMPORT_BUDGET_S),
        ),
        (
            "numpy alone, for comparison (its one dependency)",
            f"{t_numpy * 1e3:.1f} ms",
            "",
            "",
        ),
        (
            "heavy modules imported by tokenmath",
            ", ".join(heavy) if heavy else "none",
            "none of " + "/".join(HEAVY_MODULES),
            verdict(not heavy),
        ),
        (
            f"cost_per_token, {args.points:,} points, one call (median of {args.repeats})",
            f"{t_vector * 1e3:.1f} ms",
            f"< {VECTOR_BUDGET_S * 1e3:.0f} ms per 10^6",
            verdict(t_vector_1e6 < VECTOR_BUDGET_S),
        ),
        (
            f"same, assume=tm.REFINED, kv_precision='fp8' (median of {args.repeats})",
            f"{t_refined * 1e3:.1f} ms",
            f"< {VECTOR_BUDGET_S * 1e3:.0f} ms per 10^6",
            verdict(t_refined_1e6 < VECTOR_BUDGET_S),
        ),
        (
            f"same, Python loop, one call per point ({n_loop:,} points, x{1e6 / n_loop:g})",
            f"{t_loop_1e6:.2f} s per 10^6",
            "",
            "",
        ),
        (
            "speedup of the vectorized call",
            f"{speedup:,.0f}x",
            f">= {SPEEDUP_BUDGET:.0f}x",
            verdict(speedup >= SPEEDUP_BUDGET),
        ),
        *(
            (
                f"prefill_time, {args.points:,} points, one call, {label} "
                f"(median of {args.repeats})",
                f"{seconds * 1e3:.1f} ms",
                f"< {VECTOR_BUDGET_S * 1e3:.0f} ms per 10^6",
                verdict(seconds * 1e6 / args.points < VECTOR_BUDGET_S),
            )
            for label, seconds in t_prefill.items()
        ),
        (
            "loop and vectorized results identical",
            str(bool(same.all())),
            "",
            verdict(same.all()),
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("benchmark", "measured", "budget", "")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print(f"tokenmath {tm.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (timings are noisy on a shared machine)")
    print("model deepseek-v3 on h100-sxm; batch 1..1e4, context 0..131,072 tokens\n")
    for i, row in enumerate([header, *rows]):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
