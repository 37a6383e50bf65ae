"""Time the cost explorer's redraw after a control change (target: median < 100 ms).

Usage: python tools/bench_explorer.py [--repeat N]

Each step applies one control change the way a slider or dropdown does
(``CostExplorer.update``: library numbers, figure update in place, render to image bytes)
and times it. The changes sweep the batch, the context, the model and the accelerator.
Prints the median and 90th percentile of the wall-clock time with PASS/MISS against 100 ms,
the same for the CPU time this process spent (what the wall time would be on an idle
machine; the verdict uses the wall time), and the load average: on a shared machine a busy
CPU makes every redraw slower.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import tokenmath as tm

TARGET_MS = 100.0

#: ~30 control changes, in the order a reader might make them.
CHANGES: list[dict] = [
    *({"batch": b} for b in (2, 8, 32, 128, 512, 2048, 4096, 8192, 300, 64)),
    *({"context": c} for c in (256, 1024, 2048, 3072, 4096, 8192, 32768, 512)),
    *(
        {"model": m, "gpus": None, "usd_per_gpu_hour": None}
        for m in ("llama-3.1-70b", "qwen3-235b-a22b", "gpt-oss-120b", "deepseek-v3")
    ),
    *(
        {"hardware": h, "gpus": None, "usd_per_gpu_hour": None}
        for h in ("h200", "b200", "mi300x", "h100-sxm")
    ),
    {"precision": "fp8"},
    {"batch": 1000},
    {"precision": "bf16"},
    {"context": 0},
]


def time_changes(
    explorer: tm.widgets.CostExplorer, changes: list[dict]
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds each change took, in order; raises if one was refused."""
    wall, cpu = [], []
    for change in changes:
        start, start_cpu = time.perf_counter(), time.process_time()
        result = explorer.update(**change)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if result is None:
            raise RuntimeError(f"the explorer refused {change}: {explorer.message_w.value}")
    return wall, cpu


def _is_slider(change: dict) -> bool:
    return set(change) <= {"batch", "context"}


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="run the sweep N times")
    args = parser.parse_args()
    explorer = tm.widgets.CostExplorer()  # builds and draws once (not timed)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(args.repeat):
        w, c = time_changes(explorer, CHANGES)
        wall, cpu = wall + w, cpu + c
    ms = [t * 1e3 for t in wall]
    cpu_ms = [t * 1e3 for t in cpu]
    median, p90 = statistics.median(ms), percentile(ms, 90)
    verdict = "PASS" if median < TARGET_MS else "MISS"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"explorer redraw over {len(ms)} control changes: median {median:.1f} ms, "
        f"p90 {p90:.1f} ms, max {max(ms):.1f} ms (target median < {TARGET_MS:.0f} ms: "
        f"{verdict})"
    )
    sliders = [t for t, c in zip(ms, CHANGES * args.repeat, strict=True) if _is_slider(c)]
    menus = [t for t, c in zip(ms, CHANGES * args.repeat, strict=True) if not _is_slider(c)]
    print(
        f"  by control: batch/context sliders median {statistics.median(sliders):.1f} ms "
        f"({len(sliders)}), model/accelerator/precision median "
        f"{statistics.median(menus):.1f} ms ({len(menus)})"
    )
    print(
        f"  CPU time per redraw: median {statistics.median(cpu_ms):.1f} ms, "
        f"p90 {percentile(cpu_ms, 90):.1f} ms; load average {load:.2f} on "
        f"{os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
