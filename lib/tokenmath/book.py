"""Plumbing for the book's notebooks: glue many numbers at once, and show a table.

Nothing here computes anything or holds any text of the book: the notebooks say what to glue
and what a table holds; these helpers only hand it to the site builder or the notebook.

- :func:`glue_all` stores ``{name: value}`` pairs for the ``{glue:text}`` roles of a page's
  prose, one call instead of one ``glue(...)`` line per number.
- :func:`table` shows rows as a Markdown table: every table of the book goes through it, so
  they all look the same on the site (the theme's table style) and in JupyterLab;
  :func:`escape` makes a cell of plain text (a source, a price) show as typed.

>>> t = table([["h100-sxm", 989.4], ["b200", 2250.0]], ["accelerator", "TFLOP/s"])
>>> print(t.data)
| accelerator | TFLOP/s |
|:---|---:|
| h100-sxm | 989.4 |
| b200 | 2250.0 |
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

#: A glue name: letters, digits and underscores, starting with a letter (``ch4_sweet_spot``).
GLUE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

#: A cell that reads as a number: digits with optional sign, separators, decimals, a leading
#: currency sign, a trailing percent or unit-free suffix such as "x" ("1,234.5", "$0.42",
#: "12%", "-3", "2.5x").
NUMBER = re.compile(r"[-+−]?\$?[\d,]*\.?\d+(e[-+]?\d+)?\s*[%x×]?\Z", re.IGNORECASE)


def glue_all(values: Mapping[str, Any]) -> None:
    """Glue each ``name: value`` of ``values`` for the prose of the page, without showing it.

    The same as ``myst_nb.glue(name, value, display=False)`` for every pair. Outside a build
    (no ``myst_nb`` installed) it does nothing: glued values are read only by the site builder.

    Raises ValueError for a name that is not a string of letters, digits and underscores.
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"values must be a dict {{name: value}}; got {values!r}")
    for name in values:
        if not isinstance(name, str) or not GLUE_NAME.match(name):
            raise ValueError(
                f"glue names must be letters, digits and underscores, starting with a letter "
                f"(e.g. 'ch4_sweet_spot'); got {name!r}"
            )
    try:
        from myst_nb import glue  # imported on use: `import tokenmath` stays light
    except ImportError:  # pragma: no cover - only without the book's build tools
        return
    for name, value in values.items():
        glue(name, value, display=False)


#: Characters that Markdown (MyST) would read as markup in a table cell of plain text.
MARKDOWN_SPECIALS = str.maketrans({c: "\\" + c for c in "\\`*_$[]<>"})


def escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped, to show it as plain text in a
    :func:`table` (a source that says "$2.79 per hour" must not start a formula). A pipe
    needs nothing here: :func:`table` escapes it in every cell.

    >>> print(escape("RunPod, $2.79/h; Lambda, $2.86/h"))
    RunPod, \\$2.79/h; Lambda, \\$2.86/h
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {text!r}")
    return text.translate(MARKDOWN_SPECIALS)


def _cell(value: Any) -> str:
    """A table cell as Markdown text: one line, pipes escaped."""
    text = value if isinstance(value, str) else f"{value}"
    return " ".join(text.split()).replace("|", r"\|")


def _is_number(text: str) -> bool:
    return bool(NUMBER.match(text.replace(" ", "")))


def column_alignment(rows: Sequence[Sequence[str]], columns: int) -> str:
    """``"l"`` or ``"r"`` per column: right for a column whose every non-empty cell reads as a
    number (so that digits line up), left otherwise."""
    out = []
    for j in range(columns):
        cells = [row[j] for row in rows if row[j] not in ("", "-", "none", "—")]
        out.append("r" if cells and all(_is_number(c) for c in cells) else "l")
    return "".join(out)


def table_markdown(
    rows: Sequence[Sequence[Any]], headers: Sequence[Any], *, align: str | None = None
) -> str:
    """The Markdown (pipe table) text of :func:`table`."""
    head = [_cell(h) for h in headers]
    if not head:
        raise ValueError("headers must name at least one column; got an empty list")
    body = []
    for i, row in enumerate(rows):
        cells = [_cell(c) for c in row]
        if len(cells) != len(head):
            raise ValueError(
                f"rows[{i}] has {len(cells)} cells but headers name {len(head)} columns"
            )
        body.append(cells)
    if align is None:
        align = column_alignment(body, len(head))
    if len(align) != len(head) or set(align) - set("lrc"):
        raise ValueError(
            f"align must be one of 'l', 'r', 'c' per column ({len(head)} columns); got {align!r}"
        )
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(rule[a] for a in align) + "|",
        *("| " + " | ".join(cells) + " |" for cells in body),
    ]
    return "\n".join(lines)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[Any], *, align: str | None = None):
    """Show ``rows`` under ``headers`` as a table, the book's one table style.

    Cells are shown as given (format numbers before: ``f"{x:,.1f}"``); ``$...$`` math works
    in cells and headers. ``align`` is one letter per column, ``l``, ``r`` or ``c``; by default
    columns of numbers are right-aligned and the others left-aligned. Returns an
    :class:`IPython.display.Markdown` (the site renders it as MyST, see _config.yml's
    ``nb_render_markdown_format``). ValueError for a row of the wrong length or a bad ``align``.
    """
    from IPython.display import Markdown  # imported on use: `import tokenmath` stays light

    return Markdown(table_markdown(rows, headers, align=align))
