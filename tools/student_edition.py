"""Write the student edition of the exercises: every solution removed, the checkers kept.

Each exercise notebook gates its worked solutions between two sphinx-exercise markers, a
markdown cell holding ``{solution-start}`` and one holding ``{solution-end}``; the cells
between them are tagged ``solution``. The student edition drops both markers and everything
between them (and any stray cell tagged ``solution``), clears outputs and execution counts,
adds a one-line note under the title, and writes the notebooks to ``--out``
(default ``_build/student``). The ``my_answer`` cells and the ``tm.answers.check`` calls stay.

    python tools/student_edition.py --out _build/student
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT / "exercises"
DEFAULT_OUT = ROOT / "_build" / "student"
NOTEBOOK_GLOB = "q*.ipynb"
SOLUTION_TAG = "solution"

# A directive opening line: ```{solution-start} label  or  :::{solution-start} label
_START = re.compile(r"^\s*(`{3,}|:{3,})\{solution-start\}", re.MULTILINE)
_END = re.compile(r"^\s*(`{3,}|:{3,})\{solution-end\}", re.MULTILINE)

STUDENT_NOTE = (
    "*Student edition: the worked solutions are not included. Use the check under each "
    "part: it says whether your answer is right, or gives a hint.*"
)


def is_solution_start(cell: nbformat.NotebookNode) -> bool:
    """True for the markdown cell that opens a gated solution."""
    return cell.cell_type == "markdown" and bool(_START.search(cell.source))


def is_solution_end(cell: nbformat.NotebookNode) -> bool:
    """True for the markdown cell that closes a gated solution."""
    return cell.cell_type == "markdown" and bool(_END.search(cell.source))


def is_tagged_solution(cell: nbformat.NotebookNode) -> bool:
    """True for a cell carrying the ``solution`` tag."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def strip_solutions(
    nb: nbformat.NotebookNode, name: str = "notebook"
) -> tuple[nbformat.NotebookNode, list[nbformat.NotebookNode]]:
    """A copy of ``nb`` without its solutions, and the list of cells removed.

    Raises ``ValueError`` (naming ``name`` and the cell number) when the markers do not pair
    up: a start inside a solution, an end outside one, or a solution left open.
    """
    kept, removed = [], []
    open_at: int | None = None
    for index, cell in enumerate(nb.cells, start=1):
        if is_solution_start(cell):
            if open_at is not None:
                raise ValueError(
                    f"{name}: cell {index} opens a solution inside the one opened at cell {open_at}"
                )
            open_at = index
            removed.append(cell)
        elif is_solution_end(cell):
            if open_at is None:
                raise ValueError(f"{name}: cell {index} closes a solution that was never opened")
            open_at = None
            removed.append(cell)
        elif open_at is not None or is_tagged_solution(cell):
            removed.append(cell)
        else:
            kept.append(cell)
    if open_at is not None:
        raise ValueError(f"{name}: the solution opened at cell {open_at} is never closed")
    student = copy.deepcopy(nb)
    student.cells = copy.deepcopy(kept)
    return student, removed


def clear_outputs(nb: nbformat.NotebookNode) -> None:
    """Remove every output and execution count, in place."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def _note_cell(seed: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(STUDENT_NOTE)
    cell.id = "student-" + hashlib.sha1(seed.encode()).hexdigest()[:8]
    return cell


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student edition of one exercise notebook (solutions out, outputs cleared, note in)."""
    student, _ = strip_solutions(nb, name)
    clear_outputs(student)
    student.cells.insert(1 if student.cells else 0, _note_cell(name))
    nbformat.validate(student)
    return student


def write_student_edition(src: Path = DEFAULT_SRC, out: Path = DEFAULT_OUT) -> list[Path]:
    """Write the student edition of every ``q*.ipynb`` under ``src`` into ``out``.

    Returns the paths written. Raises ``ValueError`` if ``src`` holds no exercise notebooks.
    """
    src, out = Path(src), Path(out)
    sources = sorted(src.glob(NOTEBOOK_GLOB))
    if not sources:
        raise ValueError(f"src must hold exercise notebooks ({NOTEBOOK_GLOB}); none in {src}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        target = out / path.name
        nbformat.write(student_notebook(nb, path.name), target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="exercise notebooks")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    written = write_student_edition(args.src, args.out)
    print(f"wrote {len(written)} student notebooks to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
