"""Run one submitted notebook and write the answers it gave (``make grade``'s inner step).

``tools/grade.py`` starts this script inside its sandbox, one process per notebook:

    python grade_worker.py SUBMISSION.ipynb RESULT.json --budget SECONDS

It executes the notebook's code cells in order in a fresh kernel, going on after a cell that
fails. A cell that is still running when the time budget is spent is interrupted and the cells
after it are skipped. Each answer the notebook gives to ``tm.answers.check`` is appended by
:mod:`tokenmath.answers` to a log file (named in ``TOKENMATH_ANSWER_LOG``), so answers given
before a crash or a hang still count. The last answer to each part, the errors and the time
taken go to RESULT.json; the answers are judged outside the sandbox, by the grader.

This script needs only nbformat, nbclient and jupyter_client; it imports nothing from the
notebook's kernel.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

#: The environment variable :mod:`tokenmath.answers` reads (``ANSWER_LOG_ENV``).
ANSWER_LOG_ENV = "TOKENMATH_ANSWER_LOG"
#: Seconds kept back from the budget for stopping the kernel.
RESERVE_S = 5.0
#: The most of the answer log that is read (bytes).
MAX_LOG_BYTES = 1_000_000


def _errors(cell: nbformat.NotebookNode, index: int) -> list[dict]:
    return [
        {
            "cell": index,
            "ename": str(out.get("ename", ""))[:80],
            "evalue": str(out.get("evalue", ""))[:200],
        }
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def read_answer_log(path: Path) -> dict:
    """The last answer logged for each part; lines that are not a JSON object are skipped."""
    answers: dict = {}
    if not path.is_file():
        return answers
    with path.open(encoding="utf-8", errors="replace") as log:
        for line in log.read(MAX_LOG_BYTES).splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                answers.update({str(k)[:20]: v for k, v in entry.items()})
    return answers


def _execute(nb: nbformat.NotebookNode, workdir: Path, budget_s: float, result: dict) -> None:
    """Execute the code cells of ``nb`` in order, within the budget; note what went wrong."""
    started = time.monotonic()
    code = [(i, c) for i, c in enumerate(nb.cells, start=1) if c.cell_type == "code"]
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(workdir / "kernel"))
    client = NotebookClient(
        nb, km=km, allow_errors=True, interrupt_on_timeout=True, timeout=int(budget_s),
        error_on_timeout={"ename": "Timeout", "evalue": "time limit reached", "traceback": []},
        resources={"metadata": {"path": str(workdir)}},
    )  # fmt: skip
    with client.setup_kernel():
        for position, (index, cell) in enumerate(code):
            left = budget_s - RESERVE_S - (time.monotonic() - started)
            if left < 1:
                result["timed_out_cell"] = index
                result["skipped_cells"] = len(code) - position
                return
            client.timeout = int(left)
            client.execute_cell(cell, index - 1)
            if time.monotonic() - started >= budget_s - RESERVE_S - 1:
                result["timed_out_cell"] = index  # interrupted: its error is the interrupt
                result["skipped_cells"] = len(code) - position - 1
                return
            result["errors"] += _errors(cell, index)


def run(path: Path, budget_s: float) -> dict:
    """Execute the notebook at ``path`` within ``budget_s`` seconds; return what it answered."""
    started = time.monotonic()
    result: dict = {"errors": [], "timed_out_cell": None, "skipped_cells": 0}
    log = path.parent / "answers.jsonl"
    os.environ[ANSWER_LOG_ENV] = str(log)  # the kernel inherits it
    try:
        _execute(nbformat.read(path, as_version=4), path.parent, budget_s, result)
    except DeadKernelError as exc:
        result["failure"] = f"the kernel died: {exc}"[:300]
    except Exception as exc:  # an unreadable notebook, a kernel that cannot start
        result["failure"] = f"{type(exc).__name__}: {exc}"[:300]
    result["answers"] = read_answer_log(log)
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds for the notebook")
    parser.add_argument("--memory-mb", type=int, default=0, help="address space cap (0: none)")
    args = parser.parse_args(argv)
    if args.memory_mb > 0:  # inherited by the kernel: soft and hard, so it cannot raise it
        limit = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result = run(args.notebook, args.budget)
    args.result.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
