"""The kit's notebooks: every exercise and checker kept, no solution text, plain Markdown
markers, and nothing left that needs a removed solution cell."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
CHAPTERS = ROOT / "chapters"
SOURCES = sorted(EXERCISES.glob("q*.ipynb"))
CHAPTER_SOURCES = sorted(CHAPTERS.glob("*.ipynb"))
ALL_SOURCES = [("exercises", p) for p in SOURCES] + [("chapters", p) for p in CHAPTER_SOURCES]
CHECK_CALL = re.compile(r'tm\.answers\.check\("(q\d+[a-z])", my_answer\)')
EXERCISE_BLOCK = re.compile(r"^(`{3,}|:{3,})\{exercise\}", re.MULTILINE)
# Lines this short or without a letter or digit (")", "$$", "else:") say nothing about a
# solution; every longer line of a removed cell must be gone from the student edition.
MIN_LINE_CHARS = 16
# Executed end to end with every answer left as None: a light one and one with a figure,
# and the chapter with the most inline exercises.
RUN_NOTEBOOKS = ("exercises/q4_ten_x_bandwidth.ipynb", "exercises/q8_dedicated_bill.ipynb")
RUN_CHAPTER = "chapters/04_cost_chart.ipynb"
DIRECTIVES = ("{solution-start}", "{solution-end}", "{exercise-start}", "{exercise-end}")


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "student_edition", ROOT / "tools" / "student_edition.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def kit_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    tool.write_student_edition(EXERCISES, out, CHAPTERS)
    return out


@pytest.fixture(scope="module")
def edition(kit_dir) -> dict[str, nbformat.NotebookNode]:
    return {
        p.relative_to(kit_dir).as_posix(): nbformat.read(p, as_version=nbformat.NO_CONVERT)
        for p in kit_dir.rglob("*.ipynb")
    }


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


def text_of(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def test_sources_were_found() -> None:
    assert len(SOURCES) >= 8, [p.name for p in SOURCES]  # q1..q8, plus the Part II ones
    assert len(CHAPTER_SOURCES) >= 7, [p.name for p in CHAPTER_SOURCES]


def test_every_source_has_solutions() -> None:
    for _, path in ALL_SOURCES:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        if path.parent == EXERCISES or EXERCISE_BLOCK.search(text_of(nb)):
            assert len(solution_cells(nb)) >= 3, path.name


def test_one_student_notebook_per_source(edition) -> None:
    assert sorted(edition) == sorted(f"{folder}/{p.name}" for folder, p in ALL_SOURCES)


@pytest.mark.parametrize("folder, path", ALL_SOURCES, ids=lambda x: getattr(x, "name", x))
def test_no_solution_survives(edition, folder: str, path: Path) -> None:
    source = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    student = edition[f"{folder}/{path.name}"]
    text = text_of(student)
    assert not any("solution" in cell.metadata.get("tags", []) for cell in student.cells)
    for directive in DIRECTIVES:
        assert directive not in text, f"{path.name}: {directive} left in the kit"
    assert not EXERCISE_BLOCK.search(text), f"{path.name}: an {{exercise}} block left in the kit"
    removed = solution_cells(source)
    if not removed:
        return
    problem_text = text_of(source.__class__(cells=[c for c in source.cells if c not in removed]))
    # A line the problem itself also shows (an import, "for chip in chips") is no secret.
    lines = {line for line in telling_lines(removed) if line not in problem_text}
    assert len(lines) >= 3, f"{path.name}: too little solution text found to look for"
    leaked = sorted(line for line in lines if line in text)
    assert not leaked, f"{path.name}: solution lines in the student edition: {leaked[:3]}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_exercise_notebook_keeps_its_parts_and_checks(edition, path: Path) -> None:
    source = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    student = edition[f"exercises/{path.name}"]
    nbformat.validate(student)
    assert student.metadata["kernelspec"]["name"] == "python3"
    source_checks = CHECK_CALL.findall(text_of(source))
    assert CHECK_CALL.findall(text_of(student)) == source_checks and len(source_checks) >= 3
    # each gated exercise became one "### Exercise 1a: title" heading, in order
    starts = re.findall(r"\{exercise-start\}\s*([^\n]*)", text_of(source))
    headings = re.findall(r"^### Exercise (.*)$", text_of(student), re.MULTILINE)
    assert headings == [s.strip() for s in starts] and len(headings) == len(source_checks)
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    ids = [cell.id for cell in student.cells]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", CHAPTER_SOURCES, ids=lambda p: p.name)
def test_chapter_exercises_become_headings_with_a_work_cell(edition, path: Path) -> None:
    source = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    student = edition[f"chapters/{path.name}"]
    nbformat.validate(student)
    count = len(EXERCISE_BLOCK.findall(text_of(source)))
    number = re.match(r"(\d+)_", path.name)
    prefix = f"{int(number.group(1))}." if number else ""
    expected = [f"Exercise {prefix}{k}" for k in range(1, count + 1)]
    headings = re.findall(r"^### (Exercise [\d.]+)", text_of(student), re.MULTILINE)
    assert headings == expected
    for title in expected:
        at = next(i for i, c in enumerate(student.cells) if f"### {title}\n" in c.source + "\n")
        after = student.cells[at + 1]
        assert after.cell_type == "code" and after.source.startswith(f"# {title}: your work")
    ids = [cell.id for cell in student.cells]
    assert len(ids) == len(set(ids))


def _names(code: str) -> tuple[set[str], set[str]]:
    """Names a code cell assigns (or imports) and names it reads."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # IPython magics
        return set(), set()
    stored, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            stored.add(node.name)
        elif isinstance(node, ast.alias):
            stored.add((node.asname or node.name).split(".")[0])
    return stored, loaded


@pytest.mark.parametrize("folder, path", ALL_SOURCES, ids=lambda x: getattr(x, "name", x))
def test_nothing_kept_needs_a_removed_cell(edition, folder: str, path: Path) -> None:
    """No kept cell reads a variable, or shows a glue value, that only a solution defined."""
    source = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    removed = solution_cells(source)
    only_removed = set().union(*(_names(c.source)[0] for c in removed if c.cell_type == "code"))
    student = edition[f"{folder}/{path.name}"]
    kept_code = [c.source for c in student.cells if c.cell_type == "code"]
    kept_stored = set().union(*(_names(code)[0] for code in kept_code))
    missing = only_removed - kept_stored
    used = set().union(*(_names(code)[1] for code in kept_code))
    assert not (missing & used), f"{path.name}: kept cells use {sorted(missing & used)}"
    code = "\n".join(kept_code)
    glued = set(re.findall(r"""glue\(\s*["']([^"']+)["']""", code))
    # names built in a loop, glue(f"ch6_stretch_{name}", ...): any name with that prefix
    prefixes = tuple(re.findall(r"""glue\(\s*f["']([^"'{]+)\{""", code))
    markdown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    shown = set(re.findall(r"\{glue(?::text)?\}`([^`:]+)", markdown))
    unset = {name for name in shown - glued if not (prefixes and name.startswith(prefixes))}
    assert not unset, f"{path.name}: prose shows glue never set: {sorted(unset)}"


def test_doc_links_point_to_kit_notebooks(kit_dir, edition) -> None:
    links = 0
    for name, nb in edition.items():
        text = text_of(nb)
        assert "{doc}" not in text, name
        for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", text):
            assert (kit_dir / name).parent.joinpath(target).resolve().is_file(), (name, target)
            links += 1
    assert links >= 10


@pytest.mark.parametrize("name", RUN_NOTEBOOKS)
def test_exercise_notebook_runs_with_no_answers(edition, name: str, tmp_path: Path) -> None:
    nb = edition[name]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    printed = "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    checks = CHECK_CALL.findall(text_of(nb))
    assert printed.count("No answer yet") == len(checks) >= 3
    assert "Correct." not in printed


def test_chapter_runs_without_its_solutions(edition, tmp_path: Path) -> None:
    nb = edition[RUN_CHAPTER]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    work = [c for c in nb.cells if c.cell_type == "code" and "your work here" in c.source]
    assert len(work) >= 3


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


def test_markers_become_markdown_whatever_the_roles() -> None:
    """Glue roles and {eval} roles pass through untouched; only the markers change."""
    text = (
        ":::{exercise-start} 2b: A title\n:label: ex-q2-b\n:nonumber:\n:::\n\n"
        "It costs {glue:text}`q2_cost:.2f` or {eval}`f'{cost:.2f}'` dollars.\n"
        "```{exercise-end}\n```\n"
    )
    plain = tool.plain_exercise_markers(text)
    assert plain.startswith("### Exercise 2b: A title\n")
    assert "{glue:text}`q2_cost:.2f`" in plain and "{eval}`f'{cost:.2f}'`" in plain
    assert "exercise-end" not in plain and ":label:" not in plain
    block = "Before.\n\n:::{exercise}\n:label: ex-ch4-x\nDo {eval}`n` things.\n:::\n\nAfter."
    plain, labels = tool.plain_exercise_blocks(block, "4.", start=2)
    assert labels == ["ex-ch4-x"]
    assert plain == "Before.\n\n### Exercise 4.3\n\nDo {eval}`n` things.\n\nAfter."


def test_empty_source_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="src must hold"):
        tool.write_student_edition(tmp_path, tmp_path / "out")
