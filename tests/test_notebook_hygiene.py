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


# --------------------------------------------------------------------------- glue plumbing

HIDDEN_ON_SITE = {"remove-cell", "remove-input"}


def visible_glue_cells(nb: nbformat.NotebookNode) -> list[str]:
    """Code cells the site shows whose code glues numbers for the prose: plumbing that belongs
    in a hidden ``tm.book.glue_all({...})`` cell (tagged remove-cell) instead."""
    found = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or HIDDEN_ON_SITE & set(cell.metadata.get("tags", [])):
            continue
        if "glue(" in cell.source or "glue_all(" in cell.source:
            found.append(f"cell {index} ({cell.get('id')})")
    return found


BOOK_NOTEBOOKS = [p for p in NOTEBOOKS if p.parent.name in ("chapters", "exercises")]


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_glue_plumbing_is_out_of_the_readers_way(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    shown = visible_glue_cells(nb)
    assert not shown, (
        f"{path.relative_to(ROOT)}: glue calls in cells the site shows: {shown}; move them to "
        "a tm.book.glue_all({...}) cell tagged remove-cell"
    )


def test_glue_check_catches_a_visible_glue_line() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('x = 1\nglue("ch9_x", x, display=False)'),
        nbformat.v4.new_code_cell(
            'tm.book.glue_all({"ch9_x": x})', metadata={"tags": ["remove-cell"]}
        ),
    ]
    assert len(visible_glue_cells(nb)) == 1
