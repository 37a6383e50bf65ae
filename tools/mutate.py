"""Mutation testing of the physics (run by `make mutate`): mutmut 3 on the library's core.

mutmut names a mutant after its file's import path, so it wants the package importable from
its own directory (``src/``), which ``lib/`` is not under that name. This script lays a
scratch copy out as mutmut expects (``_build/mutate/src/tokenmath`` and ``tests/``), runs
``mutmut run`` there on roofline, specs, serving and _validate with the unit tests that
exercise them, and prints the score: killed / (killed + survived). Mutants that time out
count as killed (the mutant broke the code badly enough to hang); "no tests" mutants count
as survived. The list of survivors stays in ``_build/mutate`` for ``mutmut results``.

Usage: ``python tools/mutate.py [--workers N]`` (about 20 minutes with one worker here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "_build" / "mutate"
TARGETS = ["roofline.py", "specs.py", "serving.py", "_validate.py"]
TESTS = [
    "tests/test_roofline.py",
    "tests/test_specs.py",
    "tests/test_serving.py",
    "tests/test_errors.py",
    "tests/test_refinements.py",
    "tests/test_properties.py",
    "tests/test_presets.py",
    "tests/test_prefill.py",
    "tests/test_prefill_errors.py",
    "tests/test_prefill_properties.py",
    "tests/test_mtp.py",
    "tests/test_parallel.py",
    "tests/test_kvcache.py",
    "tests/test_cli.py",
]
KILLED = {"killed", "timeout"}
SURVIVED = {"survived", "no tests"}


def lay_out() -> None:
    """A fresh scratch copy: src/tokenmath, tests/ and a pyproject with mutmut's settings."""
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "lib" / "tokenmath", WORK / "src" / "tokenmath")
    shutil.copytree(ROOT / "tests", WORK / "tests")
    sources = ", ".join(f'"src/tokenmath/{t}"' for t in TARGETS)
    tests = ", ".join(f'"{t}"' for t in TESTS)
    (WORK / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        f"source_paths = [{sources}]\n"
        f"pytest_add_cli_args_test_selection = [{tests}]\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        'also_copy = ["src/", "tests/"]\n'
    )
    (WORK / "mutants").mkdir()


def run(workers: int) -> Counter:
    # each mutant runs the property tests too: a dozen examples find a broken formula
    env = {**os.environ, "PYTHONPATH": "src", "TOKENMATH_HYPOTHESIS_EXAMPLES": "12"}
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run(
        [*mutmut, "run", "--max-children", str(workers)],
        cwd=WORK,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [*mutmut, "results", "--all", "true"],
        cwd=WORK,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Counter(line.rsplit(": ", 1)[1].strip() for line in out.splitlines() if ": " in line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="parallel mutant runs")
    args = parser.parse_args(argv)
    lay_out()
    counts = run(args.workers)
    killed = sum(counts[k] for k in KILLED)
    survived = sum(counts[k] for k in SURVIVED)
    print("mutants by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    score = killed / (killed + survived) if killed + survived else float("nan")
    print(f"mutation score: {killed} killed / {killed + survived} = {score:.1%}")
    print(f"survivors: cd {WORK.relative_to(ROOT)} && PYTHONPATH=src mutmut results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
