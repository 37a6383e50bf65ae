"""The book as one PDF: ``make pdf`` writes ``_build/pdf/book.pdf`` (solutions included) and
``_build/pdf/book-student.pdf`` (solutions left out).

How: a strict ``singlehtml`` build of the whole book (into ``_build/pdf/site``, reusing the
site's execution cache, so nothing re-executes that ``make book`` already ran), then Debian's
Chromium prints that page through Playwright. Before printing, the page

- waits for MathJax to typeset every formula;
- opens every solution (or, for the student edition, removes them);
- applies print CSS: no navigation or sidebars, code and outputs wrapped instead of cut,
  tables and figures no wider than the page, each chapter on a new page;
- scales down any display formula or table still wider than the text column, and then
  checks that nothing is wider than the column (the build fails if something is).

jupyter-book's own ``pdfhtml`` builder wants a browser downloaded by Playwright, which this
book does not use (offline); ``hide-input`` cells would break ``singlehtml``
(CONTRIBUTING.md). The build loads one extra local extension, ``tools/singlehtml_handlers.py``.

    python tools/pdf_edition.py [--skip-build] [--no-student]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "pdf"
SITE = OUT / "site"
PAGE = SITE / "_build" / "singlehtml" / "index.html"
CONFIG = OUT / "_config.yml"
BOOK_PDF, STUDENT_PDF = OUT / "book.pdf", OUT / "book-student.pdf"
JB_STRICT = ["-W", "-n", "--keep-going"]
#: Paper and margins. The text column is the paper width less the margins.
PAPER = {
    "format": "A4",
    "margin": {"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
}
COLUMN_PX = round((210 - 30) / 25.4 * 96)  # 180 mm at 96 CSS px per inch
MATHJAX_TIMEOUT_MS = 120_000

PRINT_CSS = """
@page { size: A4; }
@media print {
  .bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
  .bd-footer-article, .bd-footer-content, .prev-next-area, .header-article, .toggle-button,
  .headerlink, #pst-back-to-top, .search-button, .skip-link { display: none !important; }
  html, body { font-size: 10.5pt; }
  .bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container,
  .bd-article { max-width: 100% !important; width: 100% !important; margin: 0 !important;
    padding: 0 !important; }
  pre, .highlight pre, .output pre, .cell_output pre { white-space: pre-wrap !important;
    overflow-wrap: anywhere; word-break: break-word; overflow: visible !important;
    max-height: none !important; }
  div.highlight, .cell_output, .output { overflow: visible !important;
    max-height: none !important; }
  img, svg, figure { max-width: 100% !important; height: auto; }
  figure, .figure, img, table, mjx-container[display="true"], div.cell_input, div.highlight,
  .cell_output { break-inside: avoid; }
  .table-wrapper, .pst-scrollable-table-container { overflow: visible !important; }
  table { max-width: 100% !important; font-size: 90%; }
  table td, table th { overflow-wrap: anywhere; }
  mjx-container[display="true"] { overflow: visible !important; }
  h1, h2, h3 { break-after: avoid; }
  section.pdf-chapter { break-before: page; }
  section.pdf-chapter > h3 { font-size: 1.9em; margin-bottom: 0.8em; }
  .solution.dropdown > *, .toggle-hidden { display: revert !important; }
}
"""

STUDENT_CSS = """
@media print { .solution, .tag_solution, .solution.dropdown { display: none !important; } }
"""

# True once MathJax has loaded (or at once on a page that does not load it).
MATHJAX_READY_JS = """
() => !document.querySelector('script[src*="mathjax" i]') ||
  (window.MathJax && MathJax.startup && MathJax.startup.promise)
"""
MATH_COUNT_JS = """
() => ({
  typeset: document.querySelectorAll('mjx-container').length,
  untypeset: [...document.querySelectorAll('.math')].filter(
    (el) => !el.querySelector('mjx-container') && !el.closest('mjx-container')).length,
})
"""

# Runs in the page: open solutions, mark chapters, shrink what is wider than the column, and
# report what still is (a list of short descriptions).
PREPARE_JS = """
([columnPx, student]) => {
  for (const el of document.querySelectorAll('.toggle-hidden')) {
    el.classList.remove('toggle-hidden');
  }
  for (const d of document.querySelectorAll('details')) d.open = true;
  if (student) for (const el of document.querySelectorAll('.solution, .tag_solution')) el.remove();
  // singlehtml nests each page of the table of contents in a toctree wrapper
  for (const s of document.querySelectorAll('.toctree-wrapper > section')) {
    s.classList.add('pdf-chapter');
  }
  const wide = (el) => el.scrollWidth > el.clientWidth + 1 ||
    el.getBoundingClientRect().right > columnPx + 1;
  for (const el of document.querySelectorAll('mjx-container[display="true"], table')) {
    const over = el.scrollWidth / Math.max(el.parentElement.clientWidth, 1);
    if (over > 1.0) el.style.fontSize = Math.max(Math.floor(100 / over) - 2, 40) + '%';
  }
  const selectors = 'pre, div.highlight, mjx-container[display="true"], table, img, figure, ' +
    '.cell_output, .admonition, p';
  const found = [];
  for (const el of document.querySelectorAll(selectors)) {
    if (el.offsetParent === null) continue;
    if (wide(el)) {
      const text = (el.innerText || el.getAttribute('alt') || '').trim().slice(0, 60);
      found.push(`${el.tagName.toLowerCase()} ${el.scrollWidth}px: ${text}`);
    }
  }
  return found;
}
"""


def write_config() -> Path:
    """The PDF build's ``_config.yml``: the site's, with absolute paths for what the build
    reads relative to the config file, the site's execution cache, and the extra extension."""
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    cfg["execute"]["cache"] = str(ROOT / "_build" / ".jupyter_cache")
    sphinx = cfg.setdefault("sphinx", {})
    local = {k: str(ROOT / v) for k, v in sphinx.get("local_extensions", {}).items()}
    local["singlehtml_handlers"] = str(ROOT / "tools")
    sphinx["local_extensions"] = local
    extensions = sphinx.setdefault("config", {}).setdefault("extensions", [])
    if extensions and "singlehtml_handlers" not in extensions:
        extensions.append("singlehtml_handlers")
    CONFIG.parent.mkdir(parents=True, exist_ok=True)
    CONFIG.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return CONFIG


def build_single_page() -> Path:
    """Strict ``singlehtml`` build of the whole book; returns the page."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--builder", "singlehtml", "--config",
         str(write_config()), "--path-output", str(SITE), *JB_STRICT],
        check=True, cwd=ROOT,
    )  # fmt: skip
    if not PAGE.is_file():
        raise RuntimeError(f"the singlehtml build wrote no {PAGE}")
    return PAGE


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free 127.0.0.1 port for the duration; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def count_pages(pdf: Path) -> int:
    """Pages in a PDF that Chromium wrote (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


def print_page(url: str, target: Path, student: bool = False) -> dict:
    """Print the page at ``url`` to ``target``. Returns ``pages``, ``seconds``, ``overflow``
    (what was still wider than the text column: empty when nothing was), ``typeset``
    (formulas MathJax rendered) and ``untypeset`` (math elements it left as TeX)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("make pdf needs Debian's chromium (apt-get install chromium)")
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": COLUMN_PX, "height": 1200})
        page.emulate_media(media="print")
        page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_function(MATHJAX_READY_JS, timeout=MATHJAX_TIMEOUT_MS)
        page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        math = page.evaluate(MATH_COUNT_JS)
        page.add_style_tag(content=PRINT_CSS + (STUDENT_CSS if student else ""))
        overflow = page.evaluate(PREPARE_JS, [COLUMN_PX, student])
        page.evaluate("() => document.fonts.ready")
        target.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(
            path=str(target), print_background=True, prefer_css_page_size=False,
            display_header_footer=True, header_template="<span></span>",
            footer_template=(
                '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
                '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
            ),
            **PAPER,
        )  # fmt: skip
        browser.close()
    return {
        "pages": count_pages(target),
        "seconds": round(time.monotonic() - started, 1),
        "overflow": overflow,
        **math,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-build", action="store_true", help="print the existing page")
    parser.add_argument("--no-student", action="store_true", help="only the teacher's PDF")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not args.skip_build:
        build_single_page()
    built = time.monotonic() - started
    wide = []
    with served(PAGE.parent) as base:
        jobs = [(BOOK_PDF, False)] + ([] if args.no_student else [(STUDENT_PDF, True)])
        for target, student in jobs:
            report = print_page(base + PAGE.name, target, student)
            wide += report["overflow"]
            size_mb = target.stat().st_size / 1e6
            print(f"{target.relative_to(ROOT)}: {report['pages']} pages, {size_mb:.1f} MB, "
                  f"printed in {report['seconds']} s")  # fmt: skip
    print(f"single-page build {built:.0f} s, total {time.monotonic() - started:.0f} s")
    if wide:
        print("wider than the text column:\n  " + "\n  ".join(sorted(set(wide))), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
