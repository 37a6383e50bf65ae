"""Prose that renders in both places: the {eval} convention and its converter.

Every notebook passes ``tools/glue_to_eval.py --check`` (no glue left, each {eval} a name or
``f"{name:spec}"`` assigned by an earlier code cell, no remove-cell code cell, no bare {doc});
the converter turns glue into that form, is idempotent, and refuses what it cannot convert.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import NOTEBOOK_DIRS, ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def _load_tool(name: str):
    """A module of tools/ (not a package), loaded from its file."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


tool = _load_tool("glue_to_eval")
NOTEBOOKS = sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_prose_renders_in_the_site_and_in_jupyterlab(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    problems = tool.check(nb, path)
    assert not problems, "\n".join(problems)


def test_the_build_allows_exactly_the_form_the_check_allows() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "inline"  # {eval} needs a live kernel
    assert config["sphinx"]["config"]["nb_eval_name_regex"] == tool.EVAL_FORM
    form = re.compile(tool.EVAL_FORM)
    for good in ("x", "ch4_x", 'f"{ch4_x:,.0f}"', 'f"{q5_ratio:.1%}"', 'f"{name}"'):
        assert form.match(good), good
    for bad in ("x + 1", 'f"{x / 1e9:.1f}"', "x[0]", 'f"{x}{y}"', "import os", 'f"{x!r}"'):
        assert not form.match(bad), bad


def notebook(*cells) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        new_code_cell(c[5:]) if c.startswith("code:") else new_markdown_cell(c) for c in cells
    ]
    return nb


GLUED = notebook(
    "code:import tokenmath as tm\nfrom myst_nb import glue\n%matplotlib inline",
    "code:spot = 5356.4\nglue('ch9_spot', spot, display=False)  # the sweet spot\n"
    "glue(\n    'ch9_share',\n    0.25,\n    display=False,\n)\nspot",
    "The sweet spot is {glue:text}`ch9_spot:,.0f` ({glue:text}`ch9_share:.0%`), "
    "{glue:text}`ch9_spot`; see {doc}`01_preface`.",
)


def test_glue_becomes_assignments_and_eval_roles(tmp_path: Path) -> None:
    path = tmp_path / "chapters" / "09_new.ipynb"
    path.parent.mkdir()
    (path.parent / "01_preface.ipynb").write_text(
        nbformat.writes(notebook("# Preface and notation\n\nText.")), encoding="utf-8"
    )
    nbformat.write(GLUED, path)
    result = tool.process(path, write=True)
    assert result.problems == [] and result.changed
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source == "import tokenmath as tm\n%matplotlib inline"
    code = nb.cells[1].source
    assert "ch9_spot = spot  # the sweet spot" in code
    assert "ch9_share = 0.25" in code and "glue" not in code
    assert code.endswith("\nspot")  # the cell's shown value is kept
    assert nb.cells[2].source == (
        'The sweet spot is {eval}`f"{ch9_spot:,.0f}"` ({eval}`f"{ch9_share:.0%}"`), '
        '{eval}`f"{ch9_spot}"`; see {doc}`Preface and notation <01_preface>`.'
    )
    # The rewritten code runs and the roles' f-strings give glue's text.
    namespace: dict = {}
    exec(code.replace("%matplotlib inline", ""), namespace)
    assert f"{namespace['ch9_spot']:,.0f}" == "5,356"
    assert f"{namespace['ch9_share']:.0%}" == "25%"
    # Idempotent: a second run changes nothing.
    before = path.read_text(encoding="utf-8")
    again = tool.process(path, write=True)
    assert not again.changed and again.problems == []
    assert path.read_text(encoding="utf-8") == before


def test_glue_all_becomes_one_assignment_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    nb = notebook(
        "code:spot = 5356.4\nratio = 3.0",
        'code:tm.book.glue_all(\n    {\n        "ch9_spot": spot,\n        "ch9_ratio": ratio\n'
        '        / 2,\n        "ratio": ratio,\n    }\n)',
        "Spot {glue:text}`ch9_spot:,.0f`, ratio {glue:text}`ch9_ratio:.2f`.",
    )
    nb.cells[1].metadata["tags"] = ["remove-cell"]
    nbformat.write(nb, path)
    result = tool.process(path, write=True)
    assert result.problems == [] and result.converted_calls == 3
    cells = nbformat.read(path, as_version=4).cells
    # a multi-line entry is bracketed; glue("ratio", ratio) needs no assignment
    assert cells[1].source == "ch9_spot = spot\nch9_ratio = (ratio\n        / 2)"
    assert cells[1].metadata["tags"] == ["remove-input", "remove-output"]
    namespace: dict = {"spot": 5356.4, "ratio": 3.0}
    exec(cells[1].source, namespace)
    assert (namespace["ch9_spot"], namespace["ch9_ratio"]) == (5356.4, 1.5)
    assert cells[2].source == 'Spot {eval}`f"{ch9_spot:,.0f}"`, ratio {eval}`f"{ch9_ratio:.2f}"`.'
    assert not tool.process(path, write=True).changed  # idempotent


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("tm.book.glue_all(values)", "one dict literal"),
        ("tm.book.glue_all({**values})", "not a string literal"),
        ("tm.book.glue_all({'not a name': 1})", "not a Python identifier"),
        ("for v in (1,):\n    tm.book.glue_all({'ch9_x': v})", "inside a loop"),
    ],
)
def test_glue_all_that_cannot_be_converted_is_refused(tmp_path, code, words) -> None:
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook("code:" + code, "{glue:text}`ch9_x`"), path)
    before = path.read_text(encoding="utf-8")
    result = tool.process(path, write=True)
    assert any(words in p for p in result.problems), result.problems
    assert path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("code", "prose", "words"),
    [
        (
            "for k in 'ab':\n    glue(f'ch9_{k}', 1, display=False)",
            "{glue:text}`ch9_a`",
            "inside a loop",
        ),
        ("glue(NAME, 1, display=False)", "{glue:text}`x`", "computes its name"),
        ("glue('ch9_x', 1)", "{glue:text}`ch9_x`", "displays its value"),
        ("glue('ch9_x', 1, display=False)", "{glue:md}`ch9_x`", "only {glue:text}"),
        ("glue('ch9_x', 1, display=False)", "{glue:text}`ch9_other:.1f`", "no cell"),
        (
            "glue('ch9_x', 1, display=False)\nglue('ch9_x', 2, display=False)",
            "{glue:text}`ch9_x`",
            "more than once",
        ),
        ("ch9_x = 5\nglue('ch9_x', 1, display=False)", "{glue:text}`ch9_x`", "already a variable"),
    ],
)
def test_what_cannot_be_converted_faithfully_is_refused(tmp_path, code, prose, words) -> None:
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook("code:" + code, prose), path)
    before = path.read_text(encoding="utf-8")
    result = tool.process(path, write=True)
    assert any(words in p for p in result.problems), result.problems
    assert path.read_text(encoding="utf-8") == before  # all or nothing


def test_values_used_before_they_are_computed_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    nbformat.write(
        notebook(
            "We use {glue:text}`ch9_gpus:d` GPUs.",
            "code:gpus = 32\nglue('ch9_gpus', gpus, display=False)",
            "Now {glue:text}`ch9_gpus:d` is known.",
        ),
        path,
    )
    result = tool.process(path, write=True)
    assert result.changed  # converted, and the forward use is named for a person to move
    assert len(result.problems) == 1
    assert "cell 1" in result.problems[0] and "no earlier code cell" in result.problems[0]


def test_hidden_cells_are_retagged_so_the_inline_build_runs_them(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    nb = notebook("code:x = 1", "Value {eval}`x`.")
    nb.cells[0].metadata["tags"] = ["remove-cell", "other"]
    nbformat.write(nb, path)
    assert tool.check(nb, path) == [
        f"{path} cell 1: tagged remove-cell (the inline build skips it)"
    ]
    result = tool.process(path, write=True)
    assert result.problems == []
    tags = nbformat.read(path, as_version=4).cells[0].metadata["tags"]
    assert tags == ["other", "remove-input", "remove-output"]


def test_the_check_reads_eval_roles_strictly() -> None:
    nb = notebook(
        "code:a = 1\nfor b in range(3):\n    pass\nimport math as c\ndef d():\n    e = 2",
        '{eval}`a` {eval}`f"{b:d}"` {eval}`c` {eval}`d` {eval}`e` {eval}`a + 1`',
    )
    problems = tool.check(nb, Path("n.ipynb"))
    assert len(problems) == 2, problems
    assert "uses e" in problems[0]  # assigned only inside a function
    assert "is not a name" in problems[1]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_prose_still_evaluates_with_the_solutions_removed(path: Path) -> None:
    """A student copy drops the solution cells: no prose left in it may use their values."""
    student, _ = _load_tool("student_edition").strip_solutions(nbformat.read(path, as_version=4))
    problems = tool.check(student, path)
    assert not problems, "\n".join(problems)
