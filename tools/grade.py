"""Grade submitted exercise notebooks: ``make grade SUBMISSIONS=dir``.

Layout of ``dir``: one folder per student holding that student's notebooks
(``dir/alice/q1_provider_margin.ipynb``); a notebook directly in ``dir`` counts as the work
of a student named after the file (``dir/bob.ipynb``).

Each notebook is untrusted code. It runs in its own process tree (``tools/grade_worker.py``
starts a kernel and executes the cells in order, going on after a failing cell), with

- a time budget (``--timeout``, seconds per notebook): a cell still running when it is spent
  is interrupted, the cells after it are skipped, and the answers given so far still count;
  a notebook that cannot be interrupted is killed, with everything it started;
- where Linux user namespaces are available (``unshare``): no network (an empty network
  namespace), its own process namespace, and its own view of the file system: the system's
  folders and the Python environment read-only, the student package of the kit
  (``_build/student/wheels``, which holds no answer key), and an empty working folder. The
  repository, with its solutions and answer key, is not visible. Where ``unshare`` fails the
  grader says so loudly and runs the notebooks without that isolation
  (``--sandbox require`` refuses instead).

The notebook's answers are what it passed to ``tm.answers.check`` (the last call for each
part). They are judged here, outside the sandbox, by the library's own key. The results:

- ``dir/grades.csv``: one row per student, notebook and exercise part, with the status
  ``correct``, ``incorrect`` or ``missing``, the answer given, and a detail (the checker's
  hint, or what went wrong with the notebook);
- ``dir/summary.csv``: one row per student: parts correct, incorrect, missing, score, notes.

    python tools/grade.py SUBMISSIONS [--timeout 120] [--jobs 2] [--kit _build/student]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_KIT = ROOT / "_build" / "student"
WORKER = Path(__file__).with_name("grade_worker.py")
VENV = Path(sys.prefix)
GRADES_FILE, SUMMARY_FILE = "grades.csv", "summary.csv"
STATUSES = ("correct", "incorrect", "missing")
#: Seconds a notebook's process tree gets beyond its budget (kernel start, reading answers)
#: before it is killed.
GRACE_S = 30.0
#: Memory a notebook's kernel may map, in MiB (its RLIMIT_AS).
MEMORY_MB = 4096
CHECK_CALL = re.compile(r"""answers\.check\(\s*["'](q\d+[a-z])["']""")
EXERCISE_FILE = re.compile(r"(q\d+)_")

# Run inside fresh user, mount, network and PID namespaces: build a root of read-only system
# folders, the read-only Python environment and the job folder, bring up loopback (the kernel
# talks to its client over local sockets), and run the command there.
SANDBOX_SCRIPT = r"""
set -eu
PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
root="$1"; job="$2"; binds="$3"; shift 3
mount -t tmpfs -o size=256m,mode=755 tmpfs "$root"
for d in /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc; do
  if [ -L "$d" ]; then ln -s "$(readlink "$d")" "$root$d"
  elif [ -d "$d" ]; then
    mkdir -p "$root$d"; mount --rbind "$d" "$root$d"; mount -o remount,bind,ro "$root$d"
  fi
done
IFS=:
for d in $binds; do
  mkdir -p "$root$d"; mount --bind "$d" "$root$d"; mount -o remount,bind,ro "$root$d"
done
unset IFS
mkdir -p "$root/dev" "$root/proc" "$root/tmp" "$root/job"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount --bind "$job" "$root/job"
ip link set lo up 2>/dev/null || true
exec chroot "$root" /bin/sh -c 'cd /job && exec "$@"' sh "$@"
"""
UNSHARE = [
    "unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
    "--net", "--pid", "--fork", "--kill-child",
]  # fmt: skip


# --- Where notebooks run -----------------------------------------------------------------------


def python_folders() -> list[Path]:
    """The folders the notebooks' Python needs, besides the system's: the environment and
    the interpreter it was made from (a pyenv or conda install lives outside /usr)."""
    system = ("/usr/", "/bin/", "/lib")
    folders = [VENV, Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent]
    unique = []
    for folder in folders:
        if not str(folder).startswith(system) and folder not in unique:
            unique.append(folder)
    return [f for f in unique if not any(f != o and o in f.parents for o in unique)]


def sandbox_command(command: list[str], job: Path, root: Path) -> list[str]:
    """``command`` wrapped to run in the namespaces (paths inside: the job folder is /job)."""
    binds = ":".join(str(f) for f in python_folders())
    return [*UNSHARE, "/bin/sh", "-c", SANDBOX_SCRIPT, "sandbox", str(root), str(job), binds,
            *command]  # fmt: skip


def sandbox_works() -> tuple[bool, str]:
    """Whether a command runs in the sandbox here (tried the way notebooks run), and why not
    when it does not."""
    if shutil.which("unshare") is None:
        return False, "unshare is not installed (util-linux)"
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as tmp:
        job = Path(tmp)
        probe = [str(VENV / "bin" / "python"), "-c", "open('ok', 'w').write('ok')"]
        try:
            status, stderr = run_isolated(probe, job, 60, sandboxed=True)
        except OSError as exc:
            return False, str(exc)
        if status == 0 and (job / "ok").is_file():
            return True, "user, mount, network and PID namespaces"
    return False, (stderr.strip().splitlines() or [f"exit status {status}"])[-1]


def _environment(job: Path) -> dict[str, str]:
    """The whole environment of a notebook's processes: nothing of the teacher's."""
    return {
        "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(job / "home"),
        "PYTHONPATH": str(job / "site"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(job / "home" / ".matplotlib"),
        "IPYTHONDIR": str(job / "home" / ".ipython"),
        "JUPYTER_RUNTIME_DIR": str(job / "home" / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }


def _kill_tree(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run_isolated(
    command: list[str], job: Path, timeout_s: float, sandboxed: bool
) -> tuple[int | None, str]:
    """Run ``command`` (paths relative to the job folder) with the job folder as its working
    folder; return its exit status (``None`` if it was killed at ``timeout_s``) and stderr."""
    inside = Path("/job") if sandboxed else job
    env = _environment(inside)
    for sub in ("home", "home/runtime"):
        (job / sub).mkdir(parents=True, exist_ok=True)
    log = job / "stderr.txt"
    with tempfile.TemporaryDirectory(prefix="grade-root-") as root, log.open("w") as stderr:
        argv = sandbox_command(command, job, Path(root)) if sandboxed else command
        process = subprocess.Popen(
            argv, cwd=job, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=stderr, start_new_session=True,
        )  # fmt: skip
        try:
            status = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            status = None
        finally:
            _kill_tree(process)  # whatever the notebook left running in its process group
            process.wait()
    return status, log.read_text(errors="replace")[-2000:]


# --- One notebook ------------------------------------------------------------------------------


@dataclass
class Run:
    """What running one notebook gave: its answers and what went wrong."""

    answers: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _read_result(path: Path) -> dict:
    if not path.is_file() or path.stat().st_size > 1_000_000:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _problems(result: dict, budget_s: float) -> list[str]:
    problems = []
    if result.get("failure"):
        problems.append(f"did not run: {result['failure']}")
    if result.get("timed_out_cell"):
        problems.append(
            f"time limit ({budget_s:.0f} s) reached in cell {result['timed_out_cell']}; "
            f"{result.get('skipped_cells', 0)} code cells after it skipped"
        )
    errors = [e for e in result.get("errors", []) if isinstance(e, dict)]
    if errors:
        first = errors[0]
        problems.append(
            f"{len(errors)} cell(s) raised an error, first in cell {first.get('cell')}: "
            f"{first.get('ename')}: {str(first.get('evalue'))[:80]}"
        )
    return problems


def run_notebook(notebook: Path, site: Path, budget_s: float, sandboxed: bool) -> Run:
    """Run one submitted notebook in a fresh job folder and read back the answers it gave."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grade-job-") as tmp:
        job = Path(tmp)
        shutil.copy2(notebook, job / "submission.ipynb")
        shutil.copy2(WORKER, job / "grade_worker.py")
        shutil.copytree(site, job / "site")
        python = str(VENV / "bin" / "python")
        command = [python, "grade_worker.py", "submission.ipynb", "result.json",
                   "--budget", str(budget_s), "--memory-mb", str(MEMORY_MB)]  # fmt: skip
        status, stderr = run_isolated(command, job, budget_s + GRACE_S, sandboxed)
        result = _read_result(job / "result.json")
    run = Run(seconds=time.monotonic() - started)
    if status is None:
        run.problems.append(f"killed after {budget_s + GRACE_S:.0f} s: it could not be stopped")
    elif not result:
        run.problems.append(f"no result (exit status {status}): {stderr.strip()[-200:]}")
    run.problems += _problems(result, budget_s)
    answers = result.get("answers")
    run.answers = answers if isinstance(answers, dict) else {}
    return run


# --- Judging ---------------------------------------------------------------------------------


def _library_answers():
    from tokenmath import answers

    if answers._key().kind != "library":
        raise SystemExit("make grade needs the repository's tokenmath (with its answer key)")
    return answers


def judge(qid: str, value) -> tuple[str, str]:
    """``(status, detail)`` of one answer, by the library's key: correct, incorrect, missing."""
    answers = _library_answers()
    if value is None:
        return "missing", ""
    if isinstance(value, dict):
        return "incorrect", f"an answer of a kind the checker does not take: {value}"[:200]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        right = answers.check(qid, value)
    return ("correct" if right else "incorrect"), printed.getvalue().strip()


def expected_parts(notebook: Path, answered: dict) -> list[str]:
    """The parts a notebook is graded on: those its check cells name, every part of the
    exercise its file is named after, and any other known part it answered."""
    known = set(_library_answers().question_ids())
    try:
        text = notebook.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    parts = set(CHECK_CALL.findall(text))
    named = EXERCISE_FILE.match(notebook.name)
    if named:
        parts |= {q for q in known if re.fullmatch(rf"{named.group(1)}[a-z]", q)}
    parts |= set(answered)
    return sorted(parts & known)


# --- Submissions and reports -------------------------------------------------------------------


def find_submissions(folder: Path) -> list[tuple[str, Path]]:
    """``(student, notebook)`` for every submitted notebook under ``folder``."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            for nb in sorted(entry.rglob("*.ipynb")):
                if ".ipynb_checkpoints" not in nb.parts:
                    found.append((entry.name, nb))
        elif entry.suffix == ".ipynb":
            found.append((entry.stem, entry))
    return found


def unpack_student_package(kit: Path, into: Path) -> Path:
    """Unzip the kit's wheel into ``into``; the notebooks import tokenmath from there."""
    wheels = sorted((kit / "wheels").glob("tokenmath-*.whl"))
    if not wheels:
        raise SystemExit(f"no student wheel in {kit / 'wheels'}: run make student first")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extractall(into)
    if (into / "tokenmath" / "answer_key.py").exists():
        raise SystemExit("the kit's wheel holds the answer key: rebuild it with make student")
    return into


def grade(
    folder: Path,
    site: Path,
    budget_s: float = 120.0,
    jobs: int = 2,
    sandboxed: bool = True,
    say: Callable[[str], None] = print,
) -> tuple[list[dict], list[dict]]:
    """Run and judge every submission under ``folder``; write and return the two reports."""
    submissions = find_submissions(folder)
    if not submissions:
        raise SystemExit(f"no notebooks under {folder}")

    def one(item: tuple[str, Path]) -> tuple[str, Path, Run]:
        student, notebook = item
        run = run_notebook(notebook, site, budget_s, sandboxed)
        say(f"  {student}/{notebook.name}: {run.seconds:.1f} s"
            + (f" ({'; '.join(run.problems)})" if run.problems else ""))  # fmt: skip
        return student, notebook, run

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        runs = list(pool.map(one, submissions))
    rows, notes = [], {}
    for student, notebook, run in runs:
        label = notebook.relative_to(folder).as_posix()
        parts = expected_parts(notebook, run.answers)
        if not parts:
            notes.setdefault(student, []).append(f"{label}: no checkable parts (not graded)")
        for problem in run.problems:
            notes.setdefault(student, []).append(f"{label}: {problem}")
        for qid in parts:
            value = run.answers.get(qid)
            status, detail = judge(qid, value)
            if status == "missing" and run.problems:
                detail = "; ".join(run.problems)
            rows.append({
                "student": student, "notebook": label, "part": qid, "status": status,
                "answer": "" if value is None else json.dumps(value)[:200], "detail": detail,
            })  # fmt: skip
    summary = summarize(rows, runs, notes)
    write_csv(folder / GRADES_FILE, rows)
    write_csv(folder / SUMMARY_FILE, summary)
    return rows, summary


def summarize(rows: list[dict], runs: list, notes: dict[str, list[str]]) -> list[dict]:
    """One row per student: notebooks, parts correct / incorrect / missing, score, notes."""
    students = sorted({student for student, _, _ in runs})
    summary = []
    for student in students:
        mine = [r for r in rows if r["student"] == student]
        count = {s: sum(r["status"] == s for r in mine) for s in STATUSES}
        summary.append({
            "student": student,
            "notebooks": sum(s == student for s, _, _ in runs),
            "parts": len(mine), **count,
            "score": f"{count['correct'] / len(mine):.2f}" if mine else "",
            "notes": " | ".join(notes.get(student, [])),
        })  # fmt: skip
    return summary


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of submitted notebooks")
    parser.add_argument("--kit", type=Path, default=DEFAULT_KIT, help="the student kit")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per notebook")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once")
    parser.add_argument(
        "--sandbox",
        choices=("auto", "require", "off"),
        default="auto",
        help="auto: isolate when unshare works, else warn; require: refuse without it",
    )
    args = parser.parse_args(argv)
    folder = args.submissions.resolve()
    if not folder.is_dir():
        raise SystemExit(f"SUBMISSIONS must be a folder of notebooks; got {args.submissions}")
    if args.timeout <= 20:
        raise SystemExit(f"--timeout must be more than 20 seconds; got {args.timeout}")
    _library_answers()
    sandboxed, why = (False, "turned off with --sandbox off")
    if args.sandbox != "off":
        sandboxed, why = sandbox_works()
    if sandboxed:
        print(f"sandbox: {why}; no network")
    elif args.sandbox == "require":
        raise SystemExit(f"the sandbox does not work here ({why}); not grading")
    else:
        print(
            f"WARNING: no sandbox ({why}). The notebooks run with your network and your files; "
            "only the time limit applies. Use --sandbox require to refuse.",
            file=sys.stderr,
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grade-site-") as tmp:
        site = unpack_student_package(args.kit, Path(tmp))
        rows, summary = grade(folder, site, args.timeout, args.jobs, sandboxed)
    print(f"graded {len(rows)} parts of {len(summary)} students in "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    for row in summary:
        print(f"  {row['student']}: {row['correct']}/{row['parts']} correct, "
              f"{row['incorrect']} incorrect, {row['missing']} missing")  # fmt: skip
    print(f"wrote {folder / GRADES_FILE} and {folder / SUMMARY_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
