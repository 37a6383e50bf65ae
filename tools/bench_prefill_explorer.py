"""Time the prefill explorer's redraw after a control change (target: median < 100 ms).

Usage: python tools/bench_prefill_explorer.py [--repeat N]

Like ``tools/bench_explorer.py`` for the cost explorer: each step applies one control change
the way a slider or menu does (``PrefillExplorer.update``: library numbers, the two panels
updated in place, the data blitted over the cached axes, JPEG bytes) and times it. The
changes sweep the prompt length, the prompts per pass, the decode batch, the model, the
accelerator and the precision. Prints the median and 90th percentile of the wall-clock and
CPU time, with PASS/MISS against 100 ms on the wall-clock median.
"""

from __future__ import annotations

import argparse
import os
import statistics

import tokenmath as tm
from bench_explorer import TARGET_MS, percentile, time_changes

#: ~30 control changes, in the order a reader might make them.
CHANGES: list[dict] = [
    *({"prompt": p} for p in (100, 300, 1000, 3000, 8000, 20000, 60000, 120000, 2000)),
    *({"prefill_batch": b} for b in (1, 2, 4, 16, 64, 8)),
    *({"decode_batch": b} for b in (16, 64, 1024, 8192, 256)),
    *(
        {"model": m, "gpus": None, "usd_per_gpu_hour": None, "prompt": 2000}
        for m in ("llama-3.1-70b", "qwen3-235b-a22b", "gpt-oss-120b", "deepseek-v3")
    ),
    *(
        {"hardware": h, "gpus": None, "usd_per_gpu_hour": None}
        for h in ("h200", "b200", "mi300x", "h100-sxm")
    ),
    {"precision": "fp8"},
    {"precision": "native"},
    {"precision": "bf16"},
]

_SLIDERS = {"prompt", "prefill_batch", "decode_batch"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="run the sweep N times")
    args = parser.parse_args()
    explorer = tm.widgets.PrefillExplorer()  # builds and draws once (not timed)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(args.repeat):
        w, c = time_changes(explorer, CHANGES)
        wall, cpu = wall + w, cpu + c
    ms = [t * 1e3 for t in wall]
    cpu_ms = [t * 1e3 for t in cpu]
    median = statistics.median(ms)
    verdict = "PASS" if median < TARGET_MS else "MISS"
    print(
        f"prefill explorer redraw over {len(ms)} control changes: median {median:.1f} ms, "
        f"p90 {percentile(ms, 90):.1f} ms, max {max(ms):.1f} ms (target median < "
        f"{TARGET_MS:.0f} ms: {verdict})"
    )
    changes = CHANGES * args.repeat
    sliders = [t for t, c in zip(ms, changes, strict=True) if set(c) <= _SLIDERS]
    menus = [t for t, c in zip(ms, changes, strict=True) if not set(c) <= _SLIDERS]
    print(
        f"  by control: sliders median {statistics.median(sliders):.1f} ms ({len(sliders)}), "
        f"model/accelerator/precision median {statistics.median(menus):.1f} ms ({len(menus)}); "
        f"axis redraws {explorer.figure.background_redraws}"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"  CPU time per redraw: median {statistics.median(cpu_ms):.1f} ms, p90 "
        f"{percentile(cpu_ms, 90):.1f} ms; load average {load:.2f} on {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
