"""The table of contents, the notebooks on disk and the notebooks nbmake runs are one set.

No silent skips (a notebook on disk that the book or nbmake misses) and no dangling entries
(a _toc.yml entry with no file behind it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import NOTEBOOK_DIRS, ROOT, toc_files

SKIP_PARTS = {".ipynb_checkpoints", "_build"}


def notebooks_on_disk() -> set[str]:
    """Notebooks under chapters/ and exercises/, as document names (no suffix)."""
    found = set()
    for folder in NOTEBOOK_DIRS:
        for path in (ROOT / folder).rglob("*.ipynb"):
            if not SKIP_PARTS.intersection(path.parts):
                found.add(path.relative_to(ROOT).with_suffix("").as_posix())
    return found


def notebooks_in_toc() -> set[str]:
    return {doc for doc in toc_files() if (ROOT / f"{doc}.ipynb").is_file()}


def makefile_notebook_dirs() -> list[str]:
    """The folders the Makefile hands to nbmake (its NOTEBOOK_DIRS variable)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^NOTEBOOK_DIRS\s*:?=\s*(.+)$", makefile, flags=re.MULTILINE)
    assert match, "the Makefile defines no NOTEBOOK_DIRS"
    assert re.search(r"--nbmake\b.*\$\(NOTEBOOK_DIRS\)", makefile), (
        "the Makefile's pytest command does not pass $(NOTEBOOK_DIRS) with --nbmake"
    )
    return match.group(1).split()


def test_every_toc_entry_exists() -> None:
    missing = [
        doc
        for doc in toc_files()
        if not any((ROOT / f"{doc}{suffix}").is_file() for suffix in (".md", ".ipynb"))
    ]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_toc_lists_every_notebook_and_nothing_else() -> None:
    on_disk, in_toc = notebooks_on_disk(), notebooks_in_toc()
    assert on_disk, "no notebooks under chapters/ or exercises/"
    assert on_disk - in_toc == set(), f"notebooks missing from _toc.yml: {on_disk - in_toc}"
    outside = in_toc - on_disk
    assert outside == set(), f"_toc.yml notebooks outside {NOTEBOOK_DIRS}: {outside}"


def test_makefile_runs_nbmake_over_the_notebook_folders() -> None:
    assert set(makefile_notebook_dirs()) == set(NOTEBOOK_DIRS)


def test_nbmake_collects_exactly_the_toc_notebooks() -> None:
    """Ask pytest itself which notebooks nbmake would run, with the Makefile's folders."""
    folders = makefile_notebook_dirs()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "--nbmake",
            "-p",
            "no:cacheprovider",
            *folders,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    collected = {
        Path(line.split("::")[0]).with_suffix("").as_posix()
        for line in result.stdout.splitlines()
        if ".ipynb" in line and "::" in line
    }
    assert collected == notebooks_in_toc(), (
        f"nbmake runs {sorted(collected)}\nbut _toc.yml lists {sorted(notebooks_in_toc())}"
    )
