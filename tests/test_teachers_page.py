"""The teachers' page: its time estimates cover every exercise and follow the rule it states
(5 minutes to read a page, 5 per one-step part, 10 per multi-step part; 10 per chapter
exercise, 15 with parts (a) to (c))."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "teaching" / "teachers.md").read_text(encoding="utf-8")
CHECK_CALL = re.compile(r'tm\.answers\.check\("(q\d+[a-z])", my_answer\)')
EXERCISE_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise\}[^\n]*\n(?P<body>.*?)\n(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def table_rows(folder: str) -> dict[str, list[int]]:
    """Rows of the page's tables whose first cell links into ``folder``: numbers by page."""
    rows = {}
    pattern = rf"^\| \{{doc\}}`\.\./{folder}/([\w]+)` \|((?: \d+ \|)+)\s*$"
    for name, cells in re.findall(pattern, PAGE, re.MULTILINE):
        rows[name] = [int(c) for c in cells.split("|") if c.strip()]
    return rows


def markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_every_exercise_notebook_has_an_estimate_by_the_rule() -> None:
    rows = table_rows("exercises")
    notebooks = sorted((ROOT / "exercises").glob("q*.ipynb"))
    assert sorted(rows) == [p.stem for p in notebooks]
    for path in notebooks:
        parts, one_step, multi_step, minutes = rows[path.stem]
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert parts == len(CHECK_CALL.findall(source)), path.name
        assert one_step + multi_step == parts, path.name
        assert minutes == 5 + 5 * one_step + 10 * multi_step, path.name


def test_every_chapter_exercise_has_an_estimate_by_the_rule() -> None:
    rows = table_rows("chapters")
    with_exercises = {
        p.stem: [m["body"] for m in EXERCISE_BLOCK.finditer(markdown(p))]
        for p in sorted((ROOT / "chapters").glob("*.ipynb"))
    }
    with_exercises = {k: v for k, v in with_exercises.items() if v}
    assert sorted(rows) == sorted(with_exercises)
    for name, bodies in with_exercises.items():
        count, long, minutes = rows[name]
        assert count == len(bodies), name
        assert long == sum("(c)" in body for body in bodies), name
        assert minutes == 10 * count + 5 * long, name


def test_the_page_says_they_are_estimates() -> None:
    assert "These are estimates, not measurements" in PAGE
