"""Stored notebooks are sources, not outputs: no outputs, no execution counts, python3 kernel.

The build and nbmake execute every notebook; what is stored in git must be clean so diffs
stay readable and no stale number survives a library change. ``make fmt`` does not fix these:
run ``python tools/strip_outputs.py NOTEBOOK`` (or "Clear All Outputs" in JupyterLab).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

SKIP_PARTS = {".venv", "_build", ".ipynb_checkpoints", "node_modules", ".git", ".jupyter_cache"}


def stored_notebooks() -> list[Path]:
    """Every .ipynb in the repository outside virtualenvs, builds and checkpoints."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in SKIP_PARTS]
        found += [Path(folder) / name for name in files if name.endswith(".ipynb")]
    return sorted(found)


NOTEBOOKS = stored_notebooks()


def test_notebooks_were_found() -> None:
    assert len(NOTEBOOKS) >= 2, f"found only {NOTEBOOKS} under {ROOT}"


def hygiene_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Everything that makes a stored notebook unclean, one line each."""
    problems = []
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        problems.append(f"nbformat {nb.nbformat}.{nb.nbformat_minor} < 4.5 (cell ids need 4.5)")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name is {kernel!r}, not 'python3'")
    if "widgets" in nb.metadata:
        problems.append("notebook metadata stores widget state (an output)")
    for index, cell in enumerate(nb.cells, start=1):
        if not cell.get("id"):
            problems.append(f"cell {index} has no id")
        if cell.cell_type == "code":
            if cell.get("outputs"):
                problems.append(f"cell {index} stores outputs")
            if cell.get("execution_count") is not None:
                problems.append(f"cell {index} stores an execution count")
        if "user_expressions" in cell.get("metadata", {}):
            problems.append(f"cell {index} stores evaluated {{eval}} results (an output)")
    ids = [cell.get("id") for cell in nb.cells]
    if len(ids) != len(set(ids)):
        problems.append("cell ids are not unique")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_is_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    problems = hygiene_problems(nb)
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


def test_hygiene_check_catches_outputs() -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    prose = nbformat.v4.new_markdown_cell("{eval}`x`")
    prose.metadata["user_expressions"] = [{"expression": "x", "result": {"status": "ok"}}]
    nb.cells = [cell, prose]
    assert len(hygiene_problems(nb)) == 3
