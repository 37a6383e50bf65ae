"""The two pin files: requirements-lab.txt (what `make lab` and the student kit install) is a
closed subset of requirements.txt (what `make book` and `make test` install), with the same
versions, and the Makefile installs each where it should."""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
FULL, LAB = ROOT / "requirements.txt", ROOT / "requirements-lab.txt"
#: What the notebooks import or need to run in JupyterLab: must be in the lab pins.
LAB_NEEDS = {"numpy", "matplotlib", "sympy", "tabulate", "ipywidgets", "ipykernel", "jupyterlab"}
#: Build and test tools: must not be in the lab pins. (Sphinx itself comes with myst-nb, which
#: stays while the notebooks import its glue.)
NOT_FOR_LAB = {
    "jupyter-book", "sphinx-book-theme", "sphinx-exercise", "pytest", "pytest-xdist", "nbmake",
    "playwright", "ruff", "hypothesis",
}  # fmt: skip


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            found[normal(name)] = version
    return found


def test_lab_pins_are_full_pins() -> None:
    full, lab = pins(FULL), pins(LAB)
    assert lab, "requirements-lab.txt pins nothing"
    differ = {n: (v, full.get(n)) for n, v in lab.items() if full.get(n) != v}
    assert not differ, f"lab pins missing from requirements.txt or at another version: {differ}"


def test_lab_pins_hold_the_runtime_and_no_build_tools() -> None:
    lab = pins(LAB)
    assert LAB_NEEDS <= set(lab), sorted(LAB_NEEDS - set(lab))
    assert not NOT_FOR_LAB & set(lab), sorted(NOT_FOR_LAB & set(lab))
    assert len(lab) < len(pins(FULL))


def test_lab_pins_are_closed() -> None:
    """Every dependency of a lab package (no extras) is pinned in the lab file too, so
    `pip install -r requirements-lab.txt` installs nothing unpinned."""
    lab = pins(LAB)
    missing = set()
    for name in lab:
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is pinned but not installed in this environment")
        for text in requires:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            if normal(req.name) not in lab:
                missing.add(f"{name} -> {req.name}")
    assert not missing, sorted(missing)


def dry_run(*args: str) -> str:
    done = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_lab_installs_only_the_lab_pins() -> None:
    out = dry_run("-W", "requirements-lab.txt", "lab")
    assert "-r requirements-lab.txt" in out and "-r requirements.txt" not in out
    assert "jupyter lab" in out


def test_make_test_installs_everything() -> None:
    out = dry_run("-W", "requirements.txt", "test")
    assert "-r requirements.txt" in out
