"""Strip notebooks to clean sources: no outputs, no execution counts, no widget state, no
inline-expression results (jupyterlab-myst stores each markdown cell's evaluated ``{eval}``
roles in its ``user_expressions`` metadata when a reader saves a run notebook).

Usage: ``python tools/strip_outputs.py [NOTEBOOK ...]`` (default: every notebook under
chapters/ and exercises/). Also upgrades to nbformat 4.5, gives every cell an id and sets the
kernelspec to ``python3``, which is what tests/test_notebook_hygiene.py checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.validator import normalize

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return ``nb`` without outputs, execution counts or widget state, with cell ids."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("user_expressions", None)
    nb.nbformat, nb.nbformat_minor = 4, max(nb.nbformat_minor, 5)
    _, nb = normalize(nb)  # adds missing cell ids (nbformat >= 4.5)
    nb = nbformat.from_dict(nb)
    nbformat.validate(nb)
    return nb


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(
        p for folder in ("chapters", "exercises") for p in (ROOT / folder).glob("*.ipynb")
    )
    for path in paths:
        before = path.read_text(encoding="utf-8")
        nb = strip(nbformat.reads(before, as_version=4))
        after = nbformat.writes(nb) + "\n"
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
