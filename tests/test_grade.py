"""make grade: submitted notebooks run sandboxed and time-limited, and grades.csv says which
parts are correct, incorrect or missing.

The grading run uses three submissions made from the kit: one left unanswered, one answered
(three parts right, one off by a unit factor, and a cell that raises), and one that never
ends after its first answer. It runs in well under a minute on two cores."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from tokenmath import answer_key, answers

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 25.0
TIME_LIMIT_S = 60.0


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


grade = _load("grade")
kit_tool = _load("student_edition")
SANDBOX, WHY_NOT = grade.sandbox_works()
needs_sandbox = pytest.mark.skipif(not SANDBOX, reason=f"no sandbox here: {WHY_NOT}")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The student package as the kit's wheel holds it (staged the same way, without pip)."""
    stage = tmp_path_factory.mktemp("stage")
    kit_tool._stage_package(stage, answer_key.sealed_key(iterations=1_000))
    return stage / "lib"


def kit_notebook(name: str) -> nbformat.NotebookNode:
    source = nbformat.read(ROOT / "exercises" / name, as_version=4)
    return kit_tool.student_notebook(source, name)


def answer(nb: nbformat.NotebookNode, qid: str, code: str) -> int:
    """Put ``code`` in the answer cell of part ``qid``; return the index of its check cell."""
    at = next(i for i, c in enumerate(nb.cells) if f'check("{qid}", my_answer)' in c.source)
    assert nb.cells[at - 1].source.startswith("my_answer = None")
    nb.cells[at - 1].source = code
    return at


def literal(value) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "math.inf"
    return repr(sorted(value) if isinstance(value, frozenset) else value)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, site) -> dict:
    folder = tmp_path_factory.mktemp("submissions")
    for student in ("alice", "bob", "carol"):
        (folder / student).mkdir()
    q4 = "q4_ten_x_bandwidth.ipynb"
    nbformat.write(kit_notebook(q4), folder / "alice" / q4)

    bob = kit_notebook("q4_ten_x_bandwidth.ipynb")
    for qid in ("q4a", "q4b", "q4d"):
        answer(bob, qid, f"my_answer = {literal(answers._expected(qid))}")
    answer(bob, "q4c", f"my_answer = {answers._expected('q4c') * 1000!r}  # ns, not us")
    bob.cells.insert(3, nbformat.v4.new_code_cell("1 / 0  # a cell that fails"))
    nbformat.write(bob, folder / "bob" / "q4_ten_x_bandwidth.ipynb")

    carol = kit_notebook("q8_dedicated_bill.ipynb")
    at = answer(carol, "q8a", f"my_answer = {answers._expected('q8a')!r}")
    carol.cells.insert(at + 1, nbformat.v4.new_code_cell("while True:\n    pass"))
    nbformat.write(carol, folder / "carol" / "q8_dedicated_bill.ipynb")

    started = time.monotonic()
    rows, summary = grade.grade(folder, site, BUDGET_S, jobs=2, sandboxed=SANDBOX, say=print)
    seconds = time.monotonic() - started
    print(f"make grade on 3 submissions: {seconds:.1f} s (sandbox: {SANDBOX})")
    return {"folder": folder, "rows": rows, "summary": summary, "seconds": seconds}


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def statuses(graded: dict, student: str) -> dict[str, str]:
    return {r["part"]: r["status"] for r in read_csv(graded["folder"] / "grades.csv")
            if r["student"] == student}  # fmt: skip


def test_grading_is_quick(graded) -> None:
    assert graded["seconds"] < TIME_LIMIT_S


def test_unanswered_kit_notebook_is_all_missing(graded) -> None:
    assert statuses(graded, "alice") == dict.fromkeys(("q4a", "q4b", "q4c", "q4d"), "missing")


def test_answered_notebook_is_graded_part_by_part(graded) -> None:
    assert statuses(graded, "bob") == {
        "q4a": "correct", "q4b": "correct", "q4c": "incorrect", "q4d": "correct",
    }  # fmt: skip
    (row,) = [r for r in read_csv(graded["folder"] / "grades.csv") if r["part"] == "q4c"
              and r["student"] == "bob"]  # fmt: skip
    assert "factor of 1000" in row["detail"]
    assert math.isclose(json.loads(row["answer"]), answers._expected("q4c") * 1000)


def test_never_ending_notebook_keeps_its_earlier_answers(graded) -> None:
    assert statuses(graded, "carol") == {
        "q8a": "correct", "q8b": "missing", "q8c": "missing", "q8d": "missing", "q8e": "missing",
    }  # fmt: skip
    rows = [r for r in read_csv(graded["folder"] / "grades.csv") if r["student"] == "carol"]
    assert all("time limit" in r["detail"] for r in rows if r["status"] == "missing")


def test_summary_has_one_row_per_student(graded) -> None:
    summary = {r["student"]: r for r in read_csv(graded["folder"] / "summary.csv")}
    assert sorted(summary) == ["alice", "bob", "carol"]
    counts = {
        s: (r["correct"], r["incorrect"], r["missing"], r["score"]) for s, r in summary.items()
    }
    assert counts == {
        "alice": ("0", "0", "4", "0.00"),
        "bob": ("3", "1", "0", "0.75"),
        "carol": ("1", "0", "4", "0.20"),
    }
    assert "ZeroDivisionError" in summary["bob"]["notes"]
    assert "time limit" in summary["carol"]["notes"]


# --- The sandbox ------------------------------------------------------------------------------


def _probe(tmp_path: Path, code: str, timeout_s: float = 60) -> tuple[int | None, dict]:
    job = tmp_path / "job"
    job.mkdir()
    (job / "probe.py").write_text(code)
    status, stderr = grade.run_isolated(
        [str(grade.VENV / "bin" / "python"), "probe.py"], job, timeout_s, sandboxed=True
    )
    out = job / "out.json"
    return status, (json.loads(out.read_text()) if out.exists() else {"stderr": stderr})


@needs_sandbox
def test_sandbox_has_no_network(tmp_path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    threading.Thread(target=lambda: server.accept(), daemon=True).start()
    code = (
        "import json, socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3); r = 'connected'\n"
        "except OSError as e:\n"
        "    r = type(e).__name__\n"
        "json.dump({'result': r}, open('out.json', 'w'))\n"
    )
    try:
        status, out = _probe(tmp_path, code)
    finally:
        server.close()
    assert status == 0 and out["result"] != "connected", out


@needs_sandbox
def test_sandbox_hides_the_repository_and_protects_the_environment(tmp_path) -> None:
    code = (
        "import json, os\n"
        f"key = {str(ROOT / 'lib' / 'tokenmath' / 'answer_key.py')!r}\n"
        f"solutions = {str(ROOT / 'exercises')!r}\n"
        f"venv = {str(grade.VENV)!r}\n"
        "try:\n"
        "    open(os.path.join(venv, 'planted.txt'), 'w'); wrote = True\n"
        "except OSError:\n"
        "    wrote = False\n"
        "json.dump({'key': os.path.exists(key), 'solutions': os.path.exists(solutions),\n"
        "           'venv': os.path.isdir(venv), 'wrote': wrote}, open('out.json', 'w'))\n"
    )
    status, out = _probe(tmp_path, code)
    assert status == 0, out
    assert out == {"key": False, "solutions": False, "venv": True, "wrote": False}
    assert not (grade.VENV / "planted.txt").exists()


@needs_sandbox
def test_sandbox_kills_what_the_notebook_leaves_running(tmp_path) -> None:
    marker = f"{time.time_ns() % 10**9}.5"
    code = (
        "import subprocess\n"
        f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        "while True:\n    pass\n"
    )
    started = time.monotonic()
    status, _ = _probe(tmp_path, code, timeout_s=3)
    assert status is None and time.monotonic() - started < 15
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


# --- Small parts --------------------------------------------------------------------------------


def test_submissions_are_found_per_folder_and_per_file(tmp_path) -> None:
    (tmp_path / "dana" / ".ipynb_checkpoints").mkdir(parents=True)
    files = ["dana/q1_provider_margin.ipynb", "dana/extra/q2.ipynb", "erin.ipynb", "notes.txt"]
    for path in [*files, "dana/.ipynb_checkpoints/q1-checkpoint.ipynb"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("{}")
    found = [(s, p.relative_to(tmp_path).as_posix()) for s, p in grade.find_submissions(tmp_path)]
    assert found == [
        ("dana", "dana/extra/q2.ipynb"),
        ("dana", "dana/q1_provider_margin.ipynb"),
        ("erin", "erin.ipynb"),
    ]


def test_parts_come_from_the_file_name_and_the_check_calls(tmp_path) -> None:
    named = tmp_path / "q3_short_vs_long.ipynb"
    named.write_text("{}")
    assert grade.expected_parts(named, {}) == ["q3a", "q3b", "q3c", "q3d"]
    renamed = tmp_path / "my work.ipynb"
    renamed.write_text('tm.answers.check("q7b", my_answer)\\ntm.answers.check("q7e", x)')
    assert grade.expected_parts(renamed, {"q1a": 1.0, "zz": 2}) == ["q1a", "q7b", "q7e"]


@pytest.mark.parametrize(
    "qid, value, status",
    [
        ("q6d", list(answers._expected("q6d")), "correct"),  # a tuple comes back as a list
        ("q2b", math.inf, "correct"),
        ("q2d", sorted(answers._expected("q2d")), "correct"),
        ("q7e", answers._expected("q7e"), "correct"),
        ("q4b", None, "missing"),
        ("q4b", {"unsupported": "DataFrame"}, "incorrect"),
        ("q4b", "536", "incorrect"),
    ],
)
def test_judge_reads_answers_as_json_gives_them_back(qid, value, status) -> None:
    value = json.loads(json.dumps(value))
    assert grade.judge(qid, value)[0] == status


def test_make_grade_needs_a_folder() -> None:
    """Said before anything is installed or run."""
    done = subprocess.run(
        ["make", "-s", "grade"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "SUBMISSIONS=folder" in done.stdout + done.stderr
