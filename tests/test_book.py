"""tm.book: the notebooks' glue and table plumbing (no physics, no prose)."""

from __future__ import annotations

import pytest
from tokenmath import book


def test_table_is_a_markdown_pipe_table_with_numbers_right_aligned():
    md = book.table_markdown(
        [["h100-sxm", "989.4", "$2.79"], ["b200", "2,250.0", "none"]],
        ["accelerator", "TFLOP/s", "price"],
    )
    lines = md.splitlines()
    assert lines[0] == "| accelerator | TFLOP/s | price |"
    assert lines[1] == "|:---|---:|---:|"  # "none" does not make a column of numbers text
    assert lines[2:] == ["| h100-sxm | 989.4 | $2.79 |", "| b200 | 2,250.0 | none |"]


def test_table_cells_stay_on_one_line_and_pipes_are_escaped():
    md = book.table_markdown([["a | b", "two\nlines"]], ["x", "y"])
    assert md.splitlines()[-1] == r"| a \| b | two lines |"


def test_table_shows_as_markdown():
    shown = book.table([[1, 2]], ["a", "b"], align="lc")
    assert shown._repr_markdown_().splitlines()[1] == "|:---|:---:|"


@pytest.mark.parametrize(
    ("rows", "headers", "align", "message"),
    [
        ([[1, 2, 3]], ["a", "b"], None, r"rows\[0\] has 3 cells"),
        ([[1]], [], None, "headers"),
        ([[1, 2]], ["a", "b"], "l", "align"),
        ([[1, 2]], ["a", "b"], "lx", "align"),
    ],
)
def test_table_rejects_bad_shapes(rows, headers, align, message):
    with pytest.raises(ValueError, match=message):
        book.table_markdown(rows, headers, align=align)


def test_escape_keeps_prices_from_becoming_math():
    assert book.escape("$1.49-$2.49 (x_1)") == r"\$1.49-\$2.49 (x\_1)"
    with pytest.raises(ValueError, match="text"):
        book.escape(2.79)


def test_glue_all_glues_every_value(monkeypatch):
    glued = []
    myst_nb = pytest.importorskip("myst_nb")
    monkeypatch.setattr(
        myst_nb, "glue", lambda name, value, display: glued.append((name, value, display))
    )
    book.glue_all({"ch9_a": 1.5, "ch9_b": "text"})
    assert glued == [("ch9_a", 1.5, False), ("ch9_b", "text", False)]


@pytest.mark.parametrize("values", [{"9lives": 1}, {"ch 4": 1}, {4: 1}, [("a", 1)]])
def test_glue_all_rejects_bad_names(values):
    with pytest.raises(ValueError, match="glue names|dict"):
        book.glue_all(values)
