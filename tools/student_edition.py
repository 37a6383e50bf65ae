"""Write the class kit: the book's exercises without solutions, and a package with no answer key.

``make student`` runs this. It writes to ``--out`` (default ``_build/student``):

- ``exercises/q*.ipynb``: every exercise notebook, each worked solution removed (the
  ``{solution-start}`` and ``{solution-end}`` markers, everything between them and any cell
  tagged ``solution``); the ``my_answer`` cells and the ``tm.answers.check`` calls stay.
- ``chapters/*.ipynb``: every chapter with its inline exercises' solutions removed and an empty
  cell for the student's work under each exercise, so each inline exercise is read where the
  chapter sets it up and uses the chapter's own variables.
- ``wheels/tokenmath-*.whl``: the library built without :mod:`tokenmath.answer_key`, with a
  sealed key in its place (salted hashes of what counts as right, see
  :func:`tokenmath.answer_key.sealed_key`): ``tm.answers.check`` works, and nothing in the
  package returns or stores an answer.
- ``requirements.txt`` (the pins of ``requirements-lab.txt``) and ``README.md`` (how to
  install, work and hand in).

In every notebook the sphinx-exercise markers become plain Markdown headings ("Exercise 1a:
...", "Exercise 4.2"), ``{doc}`` links become links to the kit's notebooks, outputs are
cleared, and a one-line note says that this is the student edition. Glue roles, ``{eval}``
roles and every other MyST role are left as they are: the solutions are removed by their
markers, whatever the text around them uses.

    python tools/student_edition.py --out _build/student
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import pprint
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT / "exercises"
DEFAULT_CHAPTERS = ROOT / "chapters"
DEFAULT_OUT = ROOT / "_build" / "student"
LAB_REQUIREMENTS = ROOT / "requirements-lab.txt"
NOTEBOOK_GLOB = "q*.ipynb"
SOLUTION_TAG = "solution"
#: Files of the library that the student's wheel must not contain.
TEACHER_ONLY = ("answer_key.py",)

# A directive opening line: ```{solution-start} label  or  :::{solution-start} label
_START = re.compile(r"^\s*(`{3,}|:{3,})\{solution-start\}", re.MULTILINE)
_END = re.compile(r"^\s*(`{3,}|:{3,})\{solution-end\}", re.MULTILINE)
# Directive options (":label: ex-q1-a") and the closing fence of the same length.
_OPTIONS = r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)"
_EXERCISE_START = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise-start\}(?P<title>[^\n]*)\n"
    + _OPTIONS
    + r"(?P=fence)[ \t]*(?:\n|$)",
    re.MULTILINE,
)
_EXERCISE_END = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise-end\}[^\n]*\n(?P=fence)[ \t]*(?:\n|$)", re.MULTILINE
)
_EXERCISE_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise\}(?P<title>[^\n]*)\n"
    + _OPTIONS
    + r"(?P<body>.*?)\n(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_DOC_ROLE = re.compile(r"\{doc\}`(?P<content>[^`]+)`")
_LABEL = re.compile(r":label:\s*(\S+)")

STUDENT_NOTE = (
    "*Student edition: the worked solutions are not included. Use the check under each "
    "part: it says whether your answer is right, or gives a hint.*"
)
CHAPTER_NOTE = (
    "*Student edition: the worked solutions of this chapter's exercises are not included; "
    "each exercise has an empty cell under it for your work.*"
)

KIT_README = """\
# The Price of a Token: student kit

The exercises of the book, without their worked solutions.

- `exercises/`: the exercise notebooks. Each part has a cell `my_answer = None`: put your
  answer there (compute it with `tm` if you like), run it, then run the check below it. The
  check says *Correct.* or gives a hint; it never shows the answer.
- `chapters/`: the chapters, each with its short exercises and an empty cell under each one
  for your work (these have no automatic check).
- `wheels/`: the book's Python library, `tokenmath`.

## Install (once)

Python 3.11 or newer:

```bash
python3 -m venv .venv
.venv/bin/python -m pip install -r requirements.txt wheels/tokenmath-*.whl
.venv/bin/jupyter lab
```

(On Windows: `.venv\\Scripts\\python` and `.venv\\Scripts\\jupyter`.)

## Hand in

Save each exercise notebook you worked on, keep its file name, and hand in the `.ipynb`
files as your teacher asks. Your teacher runs them from top to bottom: make sure they run
that way (Kernel > Restart Kernel and Run All Cells).
"""

WHEEL_README = """\
# tokenmath (student kit)

The library of *The Price of a Token*, built for the student kit: the answer checkers
(`tokenmath.answers.check`) use a sealed key that stores no answer.
"""


# --- Solutions -------------------------------------------------------------------------------


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


# --- Plain Markdown for the exercise markers and page links ----------------------------------


def _heading(title: str) -> str:
    title = title.strip()
    return f"### Exercise {title}".rstrip() + "\n"


def plain_exercise_markers(text: str) -> str:
    """Gated exercise markers as Markdown: the start becomes a heading, the end goes."""
    text = _EXERCISE_START.sub(lambda m: _heading(m["title"]), text)
    return _EXERCISE_END.sub("", text)


def plain_exercise_blocks(text: str, number: str, start: int = 0) -> tuple[str, list[str]]:
    """Each ``{exercise}`` block as a heading and its body; returns the text and the labels.

    ``number`` is the chapter's number and a dot ("4.": the blocks become Exercise 4.1, 4.2,
    ... as on the site) or "" for an unnumbered page (Exercise 1, 2, ...); ``start`` is the
    count of blocks earlier on the page.
    """
    labels: list[str] = []

    def replace(m: re.Match) -> str:
        label = _LABEL.search(m["options"])
        labels.append(label.group(1) if label else "")
        title = f"Exercise {number}{start + len(labels)}"
        if m["title"].strip():
            title += f": {m['title'].strip()}"
        return f"### {title}\n\n{m['body'].strip()}"

    return _EXERCISE_BLOCK.sub(replace, text), labels


def _page_title(path: Path) -> str:
    """The first ``# `` heading of a notebook or Markdown page (its stem if none)."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    found = re.search(r"^# (.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else path.stem


def plain_doc_links(text: str, page: Path, in_kit: set[Path]) -> str:
    """``{doc}`` roles as Markdown links to the kit's notebooks (plain text for other pages).

    ``page`` is the source path of the notebook holding ``text``; ``in_kit`` the source paths
    (resolved) of the notebooks the kit contains, laid out as in the repository.
    """

    def replace(m: re.Match) -> str:
        content = m["content"].strip()
        explicit = re.fullmatch(r"(?P<text>.*?)\s*<(?P<target>[^>]+)>", content, re.DOTALL)
        target = explicit["target"] if explicit else content
        source = (page.parent / target).resolve()
        notebook = source.with_suffix(".ipynb")
        if explicit:
            label = explicit["text"]
        else:
            existing = [p for p in (notebook, source.with_suffix(".md")) if p.exists()]
            label = _page_title(existing[0]) if existing else Path(target).name
        if notebook in in_kit:
            return f"[{label}]({target}.ipynb)"
        return label

    return _DOC_ROLE.sub(replace, text)


# --- Notebooks ---------------------------------------------------------------------------------


def _cell_id(seed: str) -> str:
    return "student-" + hashlib.sha1(seed.encode()).hexdigest()[:8]


def _note_cell(seed: str, text: str = STUDENT_NOTE) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = _cell_id(seed)
    return cell


def _work_cell(seed: str, title: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(f"# {title}: your work here\n")
    cell.id = _cell_id(seed)
    return cell


def _chapter_number(name: str) -> str:
    """'04_cost_chart.ipynb' -> '4.'; '' for a page without a number (the explorer)."""
    found = re.match(r"(\d+)_", name)
    return f"{int(found.group(1))}." if found else ""


def _plain_markdown(
    nb: nbformat.NotebookNode, page: Path, in_kit: set[Path], number: str | None
) -> None:
    """Rewrite the markers and links of every markdown cell, in place; with ``number`` (a
    chapter), also the ``{exercise}`` blocks, each followed by a work cell."""
    cells, count = [], 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            cells.append(cell)
            continue
        cell.source = plain_doc_links(plain_exercise_markers(cell.source), page, in_kit)
        labels: list[str] = []
        if number is not None:
            cell.source, labels = plain_exercise_blocks(cell.source, number, count)
        if cell.source.strip():
            cells.append(cell)
        for label in labels:
            count += 1
            title = f"Exercise {number}{count}"
            cells.append(_work_cell(f"{page.name}:{label}:{count}", title))
    nb.cells = cells


def student_notebook(
    nb: nbformat.NotebookNode,
    name: str = "notebook",
    page: Path | None = None,
    in_kit: set[Path] | None = None,
    chapter: bool = False,
) -> nbformat.NotebookNode:
    """The student edition of one notebook: solutions out, markers as Markdown, outputs
    cleared, a note under the title. ``chapter`` also turns inline ``{exercise}`` blocks into
    headings with a work cell under each."""
    student, _ = strip_solutions(nb, name)
    page = page or Path(name)
    number = _chapter_number(page.name) if chapter else None
    _plain_markdown(student, page, in_kit or set(), number)
    clear_outputs(student)
    note = _note_cell(name, CHAPTER_NOTE if chapter else STUDENT_NOTE)
    student.cells.insert(1 if student.cells else 0, note)
    nbformat.validate(student)
    return student


def _write_notebooks(
    sources: list[Path], out: Path, in_kit: set[Path], chapter: bool
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        target = out / path.name
        nbformat.write(student_notebook(nb, path.name, path, in_kit, chapter), target)
        written.append(target)
    return written


def write_student_edition(
    src: Path = DEFAULT_SRC, out: Path = DEFAULT_OUT, chapters: Path | None = None
) -> list[Path]:
    """Write the student edition of every ``q*.ipynb`` under ``src`` into ``out/exercises``
    and, with ``chapters``, of every chapter notebook into ``out/chapters``.

    Returns the paths written. Raises ``ValueError`` if ``src`` holds no exercise notebooks.
    """
    src, out = Path(src), Path(out)
    exercises = sorted(src.glob(NOTEBOOK_GLOB))
    if not exercises:
        raise ValueError(f"src must hold exercise notebooks ({NOTEBOOK_GLOB}); none in {src}")
    pages = sorted(Path(chapters).glob("*.ipynb")) if chapters else []
    in_kit = {p.resolve() for p in exercises + pages}
    written = _write_notebooks(exercises, out / "exercises", in_kit, chapter=False)
    written += _write_notebooks(pages, out / "chapters", in_kit, chapter=True)
    return written


# --- The wheel -------------------------------------------------------------------------------


def _sealed_key_module(key: dict) -> str:
    return (
        '"""The sealed answer key of this student kit (written by make student).\n\n'
        "Salted PBKDF2 hashes of what counts as right for each part; no answer is stored.\n"
        '"""\n\n'
        f"KEY = {pprint.pformat(key, width=100, sort_dicts=True)}\n"
    )


def _stage_package(stage: Path, key: dict) -> None:
    """Copy the package's build files and library into ``stage``, minus the answer key."""
    for name in ("pyproject.toml", "LICENSE"):
        shutil.copy2(ROOT / name, stage / name)
    (stage / "README.md").write_text(WHEEL_README, encoding="utf-8")
    shutil.copytree(
        ROOT / "lib" / "tokenmath",
        stage / "lib" / "tokenmath",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *TEACHER_ONLY),
    )
    (stage / "lib" / "tokenmath" / "_sealed_key.py").write_text(
        _sealed_key_module(key), encoding="utf-8"
    )


def build_student_wheel(out: Path, key: dict | None = None) -> Path:
    """Build the student wheel into ``out`` (pip, with build isolation) and return its path.

    ``key`` is a sealed key (default: a new one from :func:`tokenmath.answer_key.sealed_key`).
    Raises ``RuntimeError`` if the built wheel holds a teacher-only file.
    """
    from tokenmath import answer_key

    key = answer_key.sealed_key() if key is None else key
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("tokenmath-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="tokenmath-kit-") as tmp:
        stage = Path(tmp)
        _stage_package(stage, key)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
             "--disable-pip-version-check", "--wheel-dir", str(out), str(stage)],
            check=True,
        )  # fmt: skip
    (wheel,) = out.glob("tokenmath-*.whl")
    _refuse_teacher_files(wheel)
    return wheel


def _refuse_teacher_files(wheel: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    leaked = [n for n in names if Path(n).name in TEACHER_ONLY]
    if leaked:
        wheel.unlink()
        raise RuntimeError(f"the student wheel would contain {leaked}; not written")


# --- The kit -----------------------------------------------------------------------------------


def write_kit(out: Path = DEFAULT_OUT, requirements: Path = LAB_REQUIREMENTS) -> dict[str, list]:
    """Write the whole kit into ``out`` (emptied first) and return what it holds."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    notebooks = write_student_edition(DEFAULT_SRC, out, DEFAULT_CHAPTERS)
    wheel = build_student_wheel(out / "wheels")
    pins = requirements.read_text(encoding="utf-8")
    header = f"# The student kit's pins: {requirements.name} of the book's repository.\n"
    (out / "requirements.txt").write_text(header + pins, encoding="utf-8")
    (out / "README.md").write_text(KIT_README, encoding="utf-8")
    return {"notebooks": notebooks, "wheel": [wheel]}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--notebooks-only",
        action="store_true",
        help="only the notebooks (exercises and chapters), no wheel",
    )
    args = parser.parse_args(argv)
    if args.notebooks_only:
        written = write_student_edition(DEFAULT_SRC, args.out, DEFAULT_CHAPTERS)
        print(f"wrote {len(written)} student notebooks to {args.out}")
        return 0
    kit = write_kit(args.out)
    print(
        f"wrote the student kit to {args.out}: {len(kit['notebooks'])} notebooks, "
        f"{kit['wheel'][0].name}, {_size(args.out) / 1e6:.1f} MB in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
