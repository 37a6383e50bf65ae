"""The student edition keeps every exercise and checker and leaks no solution text."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SOURCES = sorted(EXERCISES.glob("q*.ipynb"))
CHECK_CALL = re.compile(r'tm\.answers\.check\("(q\d+[a-z])", my_answer\)')
# Lines this short or without a letter or digit (")", "$$", "else:") say nothing about a
# solution; every longer line of a removed cell must be gone from the student edition.
MIN_LINE_CHARS = 16
# Executed end to end with every answer left as None: a light one and one with a figure.
RUN_NOTEBOOKS = ("q4_ten_x_bandwidth.ipynb", "q8_dedicated_bill.ipynb")


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "student_edition", ROOT / "tools" / "student_edition.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    out = tmp_path_factory.mktemp("student")
    assert tool.main(["--src", str(EXERCISES), "--out", str(out)]) == 0
    return {p.name: nbformat.read(p, as_version=nbformat.NO_CONVERT) for p in out.iterdir()}


def solution_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells from each solution-start marker to its solution-end marker, found here
    independently of the tool, plus any cell tagged ``solution``."""
    cells, inside = [], False
    for cell in nb.cells:
        opens = cell.cell_type == "markdown" and "{solution-start}" in cell.source
        closes = cell.cell_type == "markdown" and "{solution-end}" in cell.source
        if opens:
            inside = True
        if inside or "solution" in cell.metadata.get("tags", []):
            cells.append(cell)
        if closes:
            inside = False
    return cells


def telling_lines(cells: list[nbformat.NotebookNode]) -> set[str]:
    return {
        line.strip()
        for cell in cells
        for line in cell.source.splitlines()
        if len(line.strip()) >= MIN_LINE_CHARS and re.search(r"[A-Za-z0-9]", line)
    }


def test_sources_were_found() -> None:
    assert len(SOURCES) >= 11, [p.name for p in SOURCES]  # q1-q8 and Part II's


def test_every_source_has_solutions() -> None:
    for path in SOURCES:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        assert len(solution_cells(nb)) >= 3, path.name


def test_one_student_notebook_per_exercise(edition) -> None:
    assert sorted(edition) == [p.name for p in SOURCES]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_solution_survives(edition, path: Path) -> None:
    source = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    student = edition[path.name]
    text = "\n".join(cell.source for cell in student.cells)
    assert not any("solution" in cell.metadata.get("tags", []) for cell in student.cells)
    assert "{solution-start}" not in text and "{solution-end}" not in text
    removed = solution_cells(source)
    problem_text = "\n".join(c.source for c in source.cells if c not in removed)
    # A line the problem itself also shows (an import, "for chip in chips") is no secret.
    lines = {line for line in telling_lines(removed) if line not in problem_text}
    assert len(lines) >= 10, f"{path.name}: too little solution text found to look for"
    leaked = sorted(line for line in lines if line in text)
    assert not leaked, f"{path.name}: solution lines in the student edition: {leaked[:3]}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_student_notebook_is_valid_and_keeps_checks(edition, path: Path) -> None:
    source = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    student = edition[path.name]
    nbformat.validate(student)
    assert student.metadata["kernelspec"]["name"] == "python3"
    source_checks = CHECK_CALL.findall("\n".join(c.source for c in source.cells))
    student_checks = CHECK_CALL.findall("\n".join(c.source for c in student.cells))
    assert student_checks == source_checks and len(student_checks) >= 3
    assert "{exercise-start}" in "\n".join(c.source for c in student.cells)
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    ids = [cell.id for cell in student.cells]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", RUN_NOTEBOOKS)
def test_student_notebook_runs_with_no_answers(edition, name: str, tmp_path: Path) -> None:
    nb = edition[name]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    printed = "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    checks = CHECK_CALL.findall("\n".join(cell.source for cell in nb.cells))
    assert printed.count("No answer yet") == len(checks) >= 3
    assert "Correct." not in printed


def _nb(*sources: tuple[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for kind, text in sources:
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(text))
    return nb


def test_strip_removes_markers_between_and_tagged_cells() -> None:
    nb = _nb(
        ("md", "# Title"),
        ("code", "my_answer = None"),
        ("md", "```{solution-start} ex-a\n:class: dropdown\n```"),
        ("code", "secret = 42"),
        ("md", "```{solution-end}\n```"),
        ("md", ":::{solution-start} ex-b\n:::"),
        ("md", "the meaning"),
        ("md", ":::{solution-end}\n:::"),
        ("code", "stray = 1"),
    )
    nb.cells[-1].metadata["tags"] = ["solution"]
    student, removed = tool.strip_solutions(nb)
    assert [c.source for c in student.cells] == ["# Title", "my_answer = None"]
    assert len(removed) == 7


@pytest.mark.parametrize(
    "cells, message",
    [
        ((("md", "```{solution-start} a\n```"),), "never closed"),
        ((("md", "```{solution-end}\n```"),), "never opened"),
        (
            (("md", "```{solution-start} a\n```"), ("md", "```{solution-start} b\n```")),
            "inside",
        ),
    ],
)
def test_unbalanced_markers_raise(cells, message) -> None:
    with pytest.raises(ValueError, match=message):
        tool.strip_solutions(_nb(*cells), "bad.ipynb")


def test_empty_source_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="src must hold"):
        tool.write_student_edition(tmp_path, tmp_path / "out")
