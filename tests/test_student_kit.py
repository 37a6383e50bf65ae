"""The class kit as students get it: its wheel holds no answer key, and its checker still
accepts right answers and rejects wrong ones (run from the unpacked wheel, in a subprocess)."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from tokenmath import answers

ROOT = Path(__file__).resolve().parents[1]
IDS = answers.question_ids()


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load("student_edition")


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kit") / "student"
    tool.write_kit(out)
    return out


@pytest.fixture(scope="module")
def wheel(kit) -> Path:
    (found,) = (kit / "wheels").glob("tokenmath-*.whl")
    return found


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    into = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(wheel).extractall(into)
    return into


def run_in_kit(site: Path, code: str) -> str:
    """Run ``code`` with the kit's tokenmath first on the path; return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300, cwd=site,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_kit_contents(kit, wheel) -> None:
    exercises = sorted(p.name for p in (kit / "exercises").glob("*.ipynb"))
    chapters = sorted(p.name for p in (kit / "chapters").glob("*.ipynb"))
    assert exercises == sorted(p.name for p in (ROOT / "exercises").glob("q*.ipynb"))
    assert chapters == sorted(p.name for p in (ROOT / "chapters").glob("*.ipynb"))
    assert (kit / "README.md").read_text().count("wheels/tokenmath-") == 1
    pins = (kit / "requirements.txt").read_text()
    assert pins.endswith((ROOT / "requirements-lab.txt").read_text())
    assert wheel.name.startswith("tokenmath-") and wheel.stat().st_size < 500_000


def test_wheel_holds_the_library_but_no_answer_key(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {n.split("/", 1)[1] for n in names if n.startswith("tokenmath/")}
    library = {
        p.relative_to(ROOT / "lib" / "tokenmath").as_posix()
        for p in (ROOT / "lib" / "tokenmath").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "answer_key.py" in library
    assert package == (library - {"answer_key.py"}) | {"_sealed_key.py"}


def _renderings(value) -> set[str]:
    """Ways an expected value could be written down, long enough to mean it."""
    if isinstance(value, tuple):
        return set().union(*(_renderings(v) for v in value))
    if isinstance(value, bool | str | frozenset) or math.isinf(value):
        return set()
    forms = {repr(value), f"{value:.6g}", f"{value:.5g}", f"{value:.4f}"}
    return {f for f in forms if len(re.sub(r"[^0-9]", "", f).strip("0")) >= 4}


def test_no_answer_is_written_in_the_wheel(wheel) -> None:
    texts = {
        name: zipfile.ZipFile(wheel).read(name).decode("utf-8", "replace")
        for name in zipfile.ZipFile(wheel).namelist()
    }
    # the sealed key's digests are hashes; a run of hex digits in one proves nothing
    digests = re.compile(r"'[0-9a-f]{32}'")
    assert len(digests.findall(texts["tokenmath/_sealed_key.py"])) >= 200
    texts["tokenmath/_sealed_key.py"] = digests.sub("''", texts["tokenmath/_sealed_key.py"])
    everything = "\n".join(texts.values())
    for marker in ("_REGISTRY", "@_question(", "def _q1a", "def sealed_key("):
        assert marker not in everything, marker
    looked_for = 0
    for qid in IDS:
        for form in _renderings(answers._expected(qid)):
            looked_for += 1
            found = [name for name, text in texts.items() if form in text]
            assert not found, f"{qid}: {form!r} appears in {found}"
    assert looked_for >= 60


def test_kit_checker_has_no_key_to_call(site) -> None:
    out = run_in_kit(
        site,
        "import tokenmath, tokenmath.answers as a\n"
        "print(tokenmath.__file__)\n"
        "print(a._key().kind, hasattr(a, '_REGISTRY'))\n"
        "try:\n    import tokenmath.answer_key\nexcept ImportError:\n    print('no answer_key')\n"
        "try:\n    a._expected('q1a')\nexcept LookupError:\n    print('no expected')\n"
        "try:\n    a.check('q4b', 1.0, rtol=0.5)\nexcept ValueError as e:\n    print('rtol', e)\n",
    )
    lines = out.splitlines()
    assert lines[0].startswith(str(site))
    assert lines[1:4] == ["sealed False", "no answer_key", "no expected"]
    assert lines[4].startswith("rtol rtol must be 0.02")


def _answer_cases() -> list[tuple[str, object, bool]]:
    """(part, answer, right?) for every part: the value, a value 1.5 % off (right within the
    2 % tolerance), and clearly wrong ones (3 % off for numbers, the other choice otherwise)."""
    cases = []
    for qid in IDS:
        e = answers._expected(qid)
        cases.append((qid, e, True))
        if isinstance(e, bool):
            cases.append((qid, not e, False))
        elif isinstance(e, str):
            cases.append((qid, "B" if e == "A" else "A", False))
        elif isinstance(e, frozenset):
            cases.append((qid, sorted(e)[1:], False))
        elif isinstance(e, tuple) and answers._key().meta(qid).rtol > 0:
            cases.append((qid, tuple(x * 1.015 for x in e), True))
            cases.append((qid, tuple(x * 1.03 for x in e), False))
        elif isinstance(e, tuple):
            cases.append((qid, tuple(x + 1 for x in e), False))
        elif math.isinf(e):
            cases.append((qid, 1e6, False))
        elif answers._key().meta(qid).rtol > 0:
            cases += [(qid, e * 1.015, True), (qid, e * 0.985, True), (qid, e * 1.03, False)]
            cases += [(qid, e * 0.97, False), (qid, -e, False)]
        else:
            cases.append((qid, e + 1, False))
    return cases


def _jsonable(value):
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def test_kit_checker_accepts_right_and_rejects_wrong_answers(site) -> None:
    cases = _answer_cases()
    payload = json.dumps([(q, _jsonable(a)) for q, a, _ in cases])
    out = run_in_kit(
        site,
        "import contextlib, io, json, tokenmath.answers as a\n"
        f"cases = json.loads({payload!r})\n"
        "results = []\n"
        "for qid, answer in cases:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        results.append(a.check(qid, answer))\n"
        "print(json.dumps(results))\n",
    )
    results = json.loads(out.splitlines()[-1])
    wrong = [(q, a, want) for (q, a, want), got in zip(cases, results, strict=True) if got != want]
    assert not wrong, wrong[:5]
    assert len(cases) >= 150 and sum(want for *_, want in cases) >= 80


def test_kit_checker_gives_the_same_hints(site) -> None:
    slip = answers._expected("q8b") / 1e6
    sign = -answers._expected("q1e")
    out = run_in_kit(
        site,
        "import tokenmath.answers as a\n"
        f"a.check('q8b', {slip!r}); a.check('q1e', {sign!r}); a.check('q2d', ['deepseek-v3'])\n",
    )
    assert "factor of 1e6" in out and "Check the sign." in out and "missing" in out


def test_kit_notebooks_need_only_the_kit_requirements(kit) -> None:
    """Every module a kit notebook imports is the standard library, tokenmath, or comes from
    a distribution the kit's requirements pin."""
    pinned = {
        re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
        for line in (kit / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    providers = metadata.packages_distributions()
    imported = set()
    for path in kit.rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                imported |= set(re.findall(r"^\s*(?:from|import)\s+(\w+)", cell.source, re.M))
    assert {"tokenmath", "numpy", "sympy"} <= imported
    for module in sorted(imported - set(sys.stdlib_module_names) - {"tokenmath"}):
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        assert dists & pinned, f"{module} (from {dists}) is not in the kit's requirements"
