"""Rewrite notebooks so their prose renders the same on the site and in JupyterLab.

The site (myst-nb, ``nb_execution_mode: inline``) and JupyterLab (jupyterlab-myst) both
evaluate an inline ``{eval}`` role in the kernel that ran the notebook's cells; neither
JupyterLab nor a reader knows what a ``{glue:text}`` role means. This script converts
notebooks written with glue to the ``{eval}`` convention (CONTRIBUTING.md, "Numbers in
prose"):

* a top-level ``glue("ch4_x", EXPR, display=False)`` statement in a code cell becomes the
  assignment ``ch4_x = EXPR`` (the expression's source is kept as written), and a top-level
  ``tm.book.glue_all({"ch4_x": EXPR, ...})`` becomes one such assignment per entry;
* ``{glue:text}`ch4_x:,.0f``` in markdown becomes ``{eval}`f"{ch4_x:,.0f}"```, and
  ``{glue:text}`ch4_x``` becomes ``{eval}`f"{ch4_x}"```: the same text on the site;
* ``from myst_nb import glue`` goes once no glue call is left in the notebook;
* a ``{doc}`path``` with no text of its own gets the target page's title as text
  (``{doc}`Title <path>```): the site shows the same title, and JupyterLab, which cannot
  open the other page to read it, shows the title instead of the path;
* a code cell tagged ``remove-cell`` is re-tagged ``remove-input`` + ``remove-output``: the
  site hides it all the same, but the inline build skips a ``remove-cell`` cell without
  running it, so the prose after it could not use its values.

It is idempotent (a converted notebook has nothing left to convert) and refuses what it
cannot convert faithfully, naming the notebook and cell: a glue call with a computed name, in
a loop, function or branch, or displayed (no ``display=False``); a name glued twice; a glue
role of another kind, or one whose name is glued in another notebook; a glue name that the
notebook already uses as a variable. Those need a person (unroll the loop into named
assignments, ...). A notebook with any refusal is left untouched.

After converting, and with ``--check``, it checks what the two renderers need: every
``{eval}`` is a bare name or ``f"{name:spec}"``, and that name is assigned at the top level of
a code cell *before* the markdown cell (both renderers evaluate a markdown cell when the run
reaches it, so a number computed further down shows as an error).

Usage::

    python tools/glue_to_eval.py                # convert chapters/ and exercises/, then check
    python tools/glue_to_eval.py NOTEBOOK ...   # only these
    python tools/glue_to_eval.py --check        # change nothing; exit 1 on any problem

Run ``make fmt`` afterwards (the assignments keep the glue call's line breaks).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import keyword
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("chapters", "exercises")

#: What an {eval} role may hold: a bare name, or an f-string that formats one name.
EVAL_FORM = r'^(?:[A-Za-z_][A-Za-z0-9_]*|f"\{[A-Za-z_][A-Za-z0-9_]*(?::[^"{}]*)?\}")$'
_EVAL_NAME = re.compile(r'^(?:f"\{)?([A-Za-z_][A-Za-z0-9_]*)')
_EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")
#: Any glue role: {glue}, {glue:}, {glue:text}, {glue:md}, {glue:any}, {glue:figure}.
_GLUE_ROLE = re.compile(r"\{glue(?::([a-z]*))?\}`([^`]*)`")
_GLUE_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue(?::[a-z]*)?\}", re.MULTILINE)
_DOC_NO_TEXT = re.compile(r"\{doc\}`([^`<>]+)`")
_GLUE_IMPORT = re.compile(r"^from myst_nb import glue[ \t]*(?:#.*)?\n?", re.MULTILINE)
#: IPython-only lines (magics, shell escapes): blanked before parsing, kept in the output.
_IPYTHON_LINE = re.compile(r"^[ \t]*[%!].*$", re.MULTILINE)


class Refused(Exception):
    """A notebook this script cannot convert faithfully (the message says where and why)."""


@dataclasses.dataclass
class Result:
    path: Path
    changed: bool = False
    converted_calls: int = 0
    converted_roles: int = 0
    titled_docs: int = 0
    retagged_cells: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)


# -- code cells ------------------------------------------------------------------------------


def parse_cell(source: str) -> ast.Module:
    """The cell's Python, with magics and shell lines blanked (line numbers unchanged)."""
    return ast.parse(_IPYTHON_LINE.sub("", source))


def _is_glue_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "glue") or (
        isinstance(func, ast.Attribute) and func.attr == "glue"
    )


def _glue_arguments(call: ast.Call) -> tuple[ast.AST | None, ast.AST | None, ast.AST | None]:
    """(name, value, display) nodes of ``glue(name, variable, display=True)``."""
    slots = dict(zip(("name", "variable", "display"), call.args, strict=False))
    for kw in call.keywords:
        if kw.arg in ("name", "variable", "display"):
            slots[kw.arg] = kw.value
    return slots.get("name"), slots.get("variable"), slots.get("display")


def _char_offset(line: str, byte_offset: int) -> int:
    """ast gives column offsets in UTF-8 bytes; string slicing needs characters."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8"))


def assigned_names(tree: ast.Module) -> set[str]:
    """Names a cell binds in the notebook's global namespace (assignments, imports, loop
    targets, ``with ... as``, walrus, definitions), outside function and class bodies."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            return
        if isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
            return
        if isinstance(node, ast.GeneratorExp):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def convert_code(source: str, where: str) -> tuple[str, list[str]]:
    """``source`` with each top-level ``glue(name, value, display=False)`` statement turned
    into ``name = value``, and the names converted. Raises :class:`Refused`."""
    tree = parse_cell(source)
    top_level = {id(s.value) for s in tree.body if isinstance(s, ast.Expr)}
    edits: list[tuple[ast.Expr, str, ast.AST]] = []
    for node in ast.walk(tree):
        if not _is_glue_call(node):
            continue
        shown = ast.unparse(node)
        if id(node) not in top_level:
            raise Refused(f"{where}: `{shown}` is inside a loop, function or expression")
        name, value, display = _glue_arguments(node)
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            raise Refused(f"{where}: `{shown}` computes its name; write one assignment per name")
        if not (name.value.isidentifier() and not keyword.iskeyword(name.value)):
            raise Refused(f"{where}: glue name {name.value!r} is not a Python identifier")
        if value is None:
            raise Refused(f"{where}: `{shown}` has no value")
        if not (isinstance(display, ast.Constant) and display.value is False):
            raise Refused(f"{where}: `{shown}` displays its value; add display=False or keep it")
        edits.append((next(s for s in tree.body if getattr(s, "value", None) is node), name, value))

    bulk = [_glue_all_pairs(s, where) for s in tree.body if _is_glue_all_statement(s)]
    for node in ast.walk(tree):
        if _is_glue_all_call(node) and id(node) not in {id(s.value) for s, _ in bulk}:
            shown = ast.unparse(node)
            raise Refused(f"{where}: `{shown}` is inside a loop, function or expression")
    if not edits and not bulk:
        return source, []
    lines = source.split("\n")
    plain = _IPYTHON_LINE.sub("", source)
    rewrites = [(stmt, [(name, value)]) for stmt, name, value in edits] + bulk
    for stmt, pairs in sorted(rewrites, key=lambda e: e[0].lineno, reverse=True):
        first, last = stmt.lineno - 1, stmt.end_lineno - 1
        start = _char_offset(lines[first], stmt.col_offset)
        end = _char_offset(lines[last], stmt.end_col_offset)
        assignment = "\n".join(
            f"{name.value} = {_standalone(ast.get_source_segment(plain, value))}"
            for name, value in pairs
            # glue("x", x): x is already the variable
            if not (isinstance(value, ast.Name) and value.id == name.value)
        )
        new = f"{lines[first][:start]}{assignment}{lines[last][end:]}"
        if not new.strip():
            del lines[first : last + 1]
        else:
            lines[first : last + 1] = new.split("\n")
    return "\n".join(lines), [name.value for _, name, _ in edits] + [
        name.value for _, pairs in bulk for name, _ in pairs
    ]


def _is_glue_all_call(node: ast.AST) -> bool:
    """``tm.book.glue_all(...)`` or ``glue_all(...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "glue_all") or (
        isinstance(func, ast.Attribute) and func.attr == "glue_all"
    )


def _is_glue_all_statement(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and _is_glue_all_call(stmt.value)


GluePairs = list[tuple[ast.Constant, ast.AST]]


def _glue_all_pairs(stmt: ast.Expr, where: str) -> tuple[ast.Expr, GluePairs]:
    """The ``(name, value)`` nodes of a top-level ``glue_all({"name": value, ...})``
    statement. Raises :class:`Refused` unless its one argument is a dict literal whose keys
    are string identifiers (a computed dict has no names to assign)."""
    call = stmt.value
    shown = ast.unparse(call)
    if len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Dict):
        raise Refused(f"{where}: `{shown}` does not take one dict literal; write assignments")
    pairs = []
    for key, value in zip(call.args[0].keys, call.args[0].values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise Refused(f"{where}: `{shown}` has a key that is not a string literal")
        if not (key.value.isidentifier() and not keyword.iskeyword(key.value)):
            raise Refused(f"{where}: glue name {key.value!r} is not a Python identifier")
        pairs.append((key, value))
    return stmt, pairs


def _standalone(expression: str) -> str:
    """``expression`` as the right side of an assignment of its own: an entry of a dict may
    run over lines without brackets of its own, which an assignment needs."""
    try:
        ast.parse(f"_ = {expression}")
    except SyntaxError:
        return f"({expression})"
    return expression


REMOVE_CELL_TAGS = ("remove-cell", "remove_cell")
HIDDEN_BUT_RUN = ["remove-input", "remove-output"]


def retag_removed_code(cell: nbformat.NotebookNode) -> bool:
    """Tag a ``remove-cell`` code cell ``remove-input`` + ``remove-output`` instead (the
    inline build runs it; the site hides it the same). True if the tags changed."""
    tags = cell.metadata.get("tags", [])
    if cell.cell_type != "code" or not any(t in tags for t in REMOVE_CELL_TAGS):
        return False
    kept = [t for t in tags if t not in REMOVE_CELL_TAGS]
    cell.metadata["tags"] = kept + [t for t in HIDDEN_BUT_RUN if t not in kept]
    return True


# -- markdown cells --------------------------------------------------------------------------


def convert_glue_roles(source: str, glued: set[str], where: str) -> tuple[str, int]:
    """``{glue:text}`name:spec``` -> ``{eval}`f"{name:spec}"```. Raises :class:`Refused`."""
    if _GLUE_DIRECTIVE.search(source):
        raise Refused(f"{where}: a glue directive; only {{glue:text}} roles are converted")

    def replace(match: re.Match[str]) -> str:
        kind, content = match.group(1), match.group(2)
        if kind != "text":
            raise Refused(f"{where}: `{match.group(0)}`; only {{glue:text}} roles are converted")
        name, _, spec = content.strip().partition(":")
        if "::" in content or name not in glued:
            raise Refused(f"{where}: `{match.group(0)}`: no cell of this notebook glues {name}")
        if any(ch in spec for ch in '"{}'):
            raise Refused(f"{where}: `{match.group(0)}` has a format spec an f-string cannot hold")
        return f'{{eval}}`f"{{{name}{":" + spec if spec else ""}}}"`'

    return _GLUE_ROLE.subn(replace, source)


def page_title(path: Path) -> str | None:
    """The first ``# Title`` of a notebook or MyST page, or None."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    match = re.search(r"^# +(.+?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def title_doc_roles(source: str, folder: Path) -> tuple[str, int]:
    """``{doc}`path``` -> ``{doc}`Title <path>``` where the target page and its title exist."""

    def replace(match: re.Match[str]) -> str:
        target = match.group(1).strip()
        base = (ROOT / target.lstrip("/")) if target.startswith("/") else folder / target
        for candidate in (base.with_suffix(".ipynb"), base.with_suffix(".md")):
            title = page_title(candidate) if candidate.is_file() else None
            if title and not any(ch in title for ch in "`<>"):
                return f"{{doc}}`{title} <{target}>`"
        return match.group(0)

    return _DOC_NO_TEXT.subn(replace, source)


# -- one notebook ----------------------------------------------------------------------------


def convert(nb: nbformat.NotebookNode, path: Path) -> Result:
    """Convert ``nb`` in place (all or nothing). Raises :class:`Refused`."""
    result = Result(path)
    rel = _rel(path)
    cells = nb.cells
    new_sources: dict[int, str] = {}
    glued: list[str] = []
    for index, cell in enumerate(cells, start=1):
        if cell.cell_type == "code":
            try:
                source, names = convert_code(cell.source, f"{rel} cell {index}")
            except SyntaxError as err:
                raise Refused(f"{rel} cell {index}: cannot parse the code ({err.msg})") from err
            if names:
                new_sources[index] = source
                glued += names
    duplicates = sorted({n for n in glued if glued.count(n) > 1})
    if duplicates:
        raise Refused(f"{rel}: {', '.join(duplicates)} glued more than once")
    if glued:
        # The converted cells now assign the glued names; any other binding is a clash.
        clashes = sorted(n for n in set(glued) if _assignments(cells, new_sources, n) > 1)
        if clashes:
            raise Refused(f"{rel}: {', '.join(clashes)} is already a variable of the notebook")
    for index, cell in enumerate(cells, start=1):
        if cell.cell_type != "markdown":
            continue
        source, roles = convert_glue_roles(cell.source, set(glued), f"{rel} cell {index}")
        source, docs = title_doc_roles(source, path.parent)
        if roles or docs:
            new_sources[index] = source
            result.converted_roles += roles
            result.titled_docs += docs
    result.converted_calls = len(glued)
    for index, source in new_sources.items():
        cells[index - 1].source = source
    result.retagged_cells = sum(retag_removed_code(cell) for cell in cells)
    if glued and not _uses_glue(cells):
        for cell in cells:
            if cell.cell_type == "code" and _GLUE_IMPORT.search(cell.source):
                cell.source = _GLUE_IMPORT.sub("", cell.source).rstrip("\n")
    result.changed = bool(new_sources) or bool(result.retagged_cells)
    return result


def _assignments(cells: list, new_sources: dict[int, str], name: str) -> int:
    """How many code cells bind ``name``, counting each assignment statement to it."""
    count = 0
    for index, cell in enumerate(cells, start=1):
        if cell.cell_type != "code":
            continue
        tree = parse_cell(new_sources.get(index, cell.source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
                count += 1
    return count


def _uses_glue(cells: list) -> bool:
    for cell in cells:
        if cell.cell_type == "code":
            tree = parse_cell(cell.source)
            if any(_is_glue_call(n) or _is_glue_all_call(n) for n in ast.walk(tree)):
                return True
    return False


# -- the check -------------------------------------------------------------------------------


def check(nb: nbformat.NotebookNode, path: Path) -> list[str]:
    """What keeps ``nb`` from rendering in both places, one line each (empty: fine)."""
    rel = _rel(path)
    problems: list[str] = []
    form = re.compile(EVAL_FORM)
    defined: set[str] = set()
    for index, cell in enumerate(nb.cells, start=1):
        where = f"{rel} cell {index}"
        if cell.cell_type == "code":
            if any(t in cell.metadata.get("tags", []) for t in REMOVE_CELL_TAGS):
                problems.append(f"{where}: tagged remove-cell (the inline build skips it)")
            try:
                tree = parse_cell(cell.source)
            except SyntaxError as err:
                problems.append(f"{where}: cannot parse the code ({err.msg})")
                continue
            defined |= assigned_names(tree)
            if any(_is_glue_call(n) or _is_glue_all_call(n) for n in ast.walk(tree)):
                problems.append(f"{where}: calls glue (run tools/glue_to_eval.py)")
            continue
        if cell.cell_type != "markdown":
            continue
        for match in _GLUE_ROLE.finditer(cell.source):
            problems.append(f"{where}: `{match.group(0)}` (run tools/glue_to_eval.py)")
        if _GLUE_DIRECTIVE.search(cell.source):
            problems.append(f"{where}: a glue directive")
        for match in _DOC_NO_TEXT.finditer(cell.source):
            problems.append(f"{where}: `{match.group(0)}` has no text (JupyterLab shows the path)")
        for match in _EVAL_ROLE.finditer(cell.source):
            expr = match.group(1)
            if not form.match(expr):
                problems.append(f'{where}: `{match.group(0)}` is not a name or f"{{name:spec}}"')
                continue
            name = _EVAL_NAME.match(expr).group(1)
            if name not in defined:
                problems.append(
                    f"{where}: `{match.group(0)}` uses {name}, which no earlier code cell assigns"
                )
    return problems


# -- files -----------------------------------------------------------------------------------


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def default_notebooks() -> list[Path]:
    return sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb"))


def process(path: Path, write: bool) -> Result:
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    result = Result(path)
    if write:
        try:
            result = convert(nb, path)
        except Refused as err:
            result.problems.append(f"not converted: {err}")
            return result
        if result.changed:
            nbformat.validate(nb)
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    result.problems += check(nb, path)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/, exercises/")
    parser.add_argument("--check", action="store_true", help="change nothing, report problems")
    args = parser.parse_args(argv)
    paths = args.notebooks or default_notebooks()
    failed = False
    for path in paths:
        result = process(path, write=not args.check)
        if result.changed:
            print(
                f"converted {_rel(path)}: {result.converted_calls} glue calls, "
                f"{result.converted_roles} roles, {result.titled_docs} {{doc}} titles, "
                f"{result.retagged_cells} remove-cell tags"
            )
        for problem in result.problems:
            print(problem, file=sys.stderr)
        failed |= bool(result.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
