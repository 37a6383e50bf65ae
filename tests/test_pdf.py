"""make pdf's printing step: math typeset, nothing wider than the text column, pages counted.

The whole-book PDF takes minutes to print, so `make test` prints one built chapter instead
(the same code path: tools/pdf_edition.py on a page of _build/html) and checks the book's PDF
only when `make pdf` has written one."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "chapters/04_cost_chart.html"

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pdf = _load("pdf_edition")


@pytest.fixture(scope="module")
def printed(site_url: str, tmp_path_factory) -> dict[str, dict]:
    """One chapter of the built site, printed with and without its solutions."""
    out = tmp_path_factory.mktemp("pdf")
    return {
        "full": pdf.print_page(site_url + CHAPTER, out / "full.pdf"),
        "student": pdf.print_page(site_url + CHAPTER, out / "student.pdf", student=True),
    }


def test_a_chapter_prints_with_math_typeset_and_nothing_clipped(printed) -> None:
    report = printed["full"]
    assert report["pages"] >= 5
    assert report["typeset"] >= 20 and report["untypeset"] == 0
    assert report["overflow"] == []


def test_the_student_print_leaves_solutions_out(printed) -> None:
    assert 0 < printed["student"]["pages"] < printed["full"]["pages"]
    assert printed["student"]["overflow"] == []


def test_something_too_wide_is_reported(tmp_path) -> None:
    cell = "x" * 400
    (tmp_path / "wide.html").write_text(
        f"<html><body><p>short</p><table><tr><td style='white-space:nowrap'>{cell}</td></tr>"
        "</table></body></html>"
    )
    with pdf.served(tmp_path) as base:
        report = pdf.print_page(base + "wide.html", tmp_path / "wide.pdf")
    assert report["pages"] >= 1
    assert any(item.startswith("table") for item in report["overflow"]), report["overflow"]


def test_the_book_pdf_if_built() -> None:
    if not pdf.BOOK_PDF.exists():
        pytest.skip("no _build/pdf/book.pdf: run make pdf")
    pages = pdf.count_pages(pdf.BOOK_PDF)
    assert pages >= 100
    if pdf.STUDENT_PDF.exists():
        assert 0 < pdf.count_pages(pdf.STUDENT_PDF) < pages
