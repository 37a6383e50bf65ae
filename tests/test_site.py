"""Browser tests of the built site: what a reader actually sees, offline.

Every page listed in ``_toc.yml`` is opened in Debian's Chromium (through Playwright) from a
local server on 127.0.0.1. A page passes when it loads with no console error, no failed or
4xx/5xx request and no request to any other host; its math is typeset by the bundled MathJax;
every image in the article has alt text that describes it; and, on exercise pages, every
solution stays hidden until its toggle button is clicked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import pytest
from conftest import CHROMIUM_ARGS, toc_files
from playwright.sync_api import BrowserContext, Page, sync_playwright

PAGES = toc_files()
LOCAL_HOST = "127.0.0.1"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".gif", ".webp")


@dataclass
class PageProblems:
    """What went wrong while one page loaded."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            *(f"console error: {m}" for m in self.console_errors),
            *(f"uncaught exception: {m}" for m in self.page_errors),
            *(f"failed request: {m}" for m in self.failed_requests),
            *(f"request to a non-local host: {m}" for m in self.foreign_requests),
        ]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def chromium(chromium_path: str) -> Iterator[BrowserContext]:
    """One headless Chromium context (a fresh profile, shared cache) for this module.

    Module-scoped, so the browser closes before later test modules run.
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context()
        finally:
            browser.close()


def open_page(context: BrowserContext, url: str) -> tuple[Page, PageProblems]:
    """Load ``url`` in a new tab, recording every problem, and wait for MathJax."""
    problems = PageProblems()
    page = context.new_page()

    def guard(route, request) -> None:  # type: ignore[no-untyped-def]
        parsed = urlparse(request.url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname != LOCAL_HOST:
            problems.foreign_requests.append(request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.on(
        "console",
        lambda msg: problems.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.page_errors.append(str(exc)))
    page.on(
        "requestfailed",
        lambda req: problems.failed_requests.append(f"{req.url} ({req.failure})"),
    )
    page.on(
        "response",
        lambda resp: (
            problems.failed_requests.append(f"{resp.url} (HTTP {resp.status})")
            if resp.status >= 400
            else None
        ),
    )
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} did not load"
    # MathJax 3 loads deferred; wait until it has typeset the page (if the page loads it).
    page.evaluate(
        "() => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " ? MathJax.startup.promise.then(() => true) : true"
    )
    page.wait_for_load_state("networkidle")
    return page, problems


# Text that only shows up when math was not typeset: raw TeX delimiters or commands.
RAW_MATH = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\[A-Za-z]{2,}")

VISIBLE_PROSE_JS = """
() => {
  const article = document.querySelector('article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .cell_input')
      .forEach(el => el.remove());
  return copy.textContent;
}
"""

UNTYPESET_MATH_JS = """
() => [...document.querySelectorAll('article .math')]
  .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60))
"""

WIDGET_VIEWS = (
    "article script[type='application/vnd.jupyter.widget-view+json'],"
    " article .jupyter-widgets, article .widget-area"
)

IMAGES_JS = """
() => [...document.querySelectorAll('article img')]
  .map(img => [img.getAttribute('alt'), img.getAttribute('src'), img.naturalWidth])
"""


@dataclass
class PageReport:
    """Everything the tests check about one page, gathered in a single visit."""

    problems: PageProblems
    math_elements: int
    typeset_elements: int
    untypeset_math: list[str]
    raw_tex: list[str]
    images: list[tuple[str | None, str, int]]
    solutions: list[str]  # one line per solution: "ok" or what went wrong
    widget_views: int  # ipywidgets outputs rendered on the page (dead controls offline)


def check_solutions(page: Page) -> list[str]:
    """Click each solution's toggle; report whether it was hidden before and shown after."""
    results = []
    solutions = page.locator("article div.solution")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        body = solution.locator(":scope > :not(.admonition-title)")
        if body.count() == 0:
            results.append(f"solution {i + 1} is empty")
        elif "dropdown" not in (solution.get_attribute("class") or ""):
            results.append(f"solution {i + 1} is not a dropdown (add `:class: dropdown`)")
        elif body.first.is_visible():
            results.append(f"solution {i + 1} is visible before its button is clicked")
        else:
            solution.locator("button.toggle-button").first.click()
            try:
                body.first.wait_for(state="visible", timeout=5000)
                results.append("ok")
            except Exception:  # noqa: BLE001 (Playwright raises its own TimeoutError)
                results.append(f"solution {i + 1} stays hidden after its button is clicked")
    return results


def inspect_page(context: BrowserContext, url: str) -> PageReport:
    """Visit ``url`` once and gather what every test below checks."""
    page, problems = open_page(context, url)
    try:
        report = PageReport(
            problems=problems,
            math_elements=page.locator("article .math").count(),
            typeset_elements=page.locator("article mjx-container").count(),
            untypeset_math=page.evaluate(UNTYPESET_MATH_JS),
            raw_tex=RAW_MATH.findall(page.evaluate(VISIBLE_PROSE_JS)),
            images=[tuple(image) for image in page.evaluate(IMAGES_JS)],
            solutions=check_solutions(page),
            widget_views=page.locator(WIDGET_VIEWS).count(),
        )
        page.wait_for_timeout(100)  # let clicks settle so late console errors are caught
        return report
    finally:
        page.close()


@pytest.fixture(scope="module")
def report_of(chromium: BrowserContext, site_url: str) -> Callable[[str], PageReport]:
    """``report_of(doc)`` visits a page once; the tests of that page share the report."""

    @functools.cache
    def visit(doc: str) -> PageReport:
        return inspect_page(chromium, f"{site_url}{doc}.html")

    return visit


@pytest.mark.parametrize("doc", PAGES)
def test_page_loads_cleanly_offline(report_of: Callable[[str], PageReport], doc: str) -> None:
    problems = report_of(doc).problems.report()
    assert not problems, f"{doc}.html:\n{problems}"


@pytest.mark.parametrize("doc", PAGES)
def test_math_is_typeset(report_of: Callable[[str], PageReport], doc: str) -> None:
    report = report_of(doc)
    assert not report.untypeset_math, (
        f"{doc}: {len(report.untypeset_math)} of {report.math_elements} math elements "
        f"not typeset by MathJax: {report.untypeset_math[:3]}"
    )
    assert report.typeset_elements >= report.math_elements
    assert not report.raw_tex, f"{doc}: raw TeX left in the visible text: {report.raw_tex[:5]}"


def test_raw_tex_detector() -> None:
    assert RAW_MATH.findall(r"A Proof for the Queuing Formula: $L = \lambda W$")
    assert RAW_MATH.findall(r"see \(x^2\) and $$y$$")
    assert not RAW_MATH.findall("It costs $2 per hour, or $0.50 per million tokens.")


def alt_problem(alt: str | None, src: str) -> str | None:
    """Why an image's alt text does not describe it, or None when it does."""
    if alt is None or not alt.strip():
        return "no alt text"
    text = alt.strip()
    name = PurePosixPath(urlparse(src).path).name
    if text == name or text.lower().endswith(IMAGE_SUFFIXES):
        return f"alt text is a file name ({text!r})"
    if len(text.split()) < 3:
        return f"alt text too short to describe a figure ({text!r})"
    return None


@pytest.mark.parametrize("doc", PAGES)
def test_images_have_descriptive_alt_text(report_of: Callable[[str], PageReport], doc: str) -> None:
    images = report_of(doc).images
    bad = [f"{src}: {why}" for alt, src, _ in images if (why := alt_problem(alt, src))]
    broken = [src for _, src, width in images if not width]
    assert not bad, f"{doc}: " + "; ".join(bad)
    assert not broken, f"{doc}: images that did not load: {broken}"


def test_alt_checker_rejects_file_names() -> None:
    assert alt_problem("3466461d.png", "../_images/3466461d.png") is not None
    assert alt_problem("", "a.png") is not None
    assert alt_problem("Cost per token falls with batch.", "a.png") is None


EXERCISE_PAGES = [d for d in PAGES if d.startswith("exercises/") and d != "exercises/index"]
CHAPTER_PAGES = [d for d in PAGES if d.startswith("chapters/")]


@pytest.mark.parametrize("doc", CHAPTER_PAGES + EXERCISE_PAGES)
def test_solutions_hidden_until_clicked(report_of: Callable[[str], PageReport], doc: str) -> None:
    solutions = report_of(doc).solutions
    if doc in EXERCISE_PAGES:
        assert solutions, f"{doc}: an exercise page with no solution"
    wrong = [line for line in solutions if line != "ok"]
    assert not wrong, f"{doc}: " + "; ".join(wrong)


@pytest.mark.parametrize("doc", PAGES)
def test_no_dead_widget_controls(report_of: Callable[[str], PageReport], doc: str) -> None:
    """Widgets do nothing without a kernel: their cells are tagged remove-output, and the page
    shows the static twin instead."""
    views = report_of(doc).widget_views
    assert views == 0, f"{doc}: {views} widget outputs on the static page (tag remove-output)"


def test_pages_read_from_a_file_url_too(chromium: BrowserContext, site_dir: Path) -> None:
    """README says a reader may open _build/html/index.html directly: no server at all."""
    doc = next((d for d in CHAPTER_PAGES if d != "chapters/explorer"), PAGES[0])
    page = chromium.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda req: errors.append(f"failed: {req.url}"))
    try:
        page.goto((site_dir / f"{doc}.html").as_uri(), wait_until="load")
        page.evaluate(
            "() => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
            " ? MathJax.startup.promise.then(() => true) : true"
        )
        untypeset = page.evaluate(UNTYPESET_MATH_JS)
        assert not errors, f"{doc} from file://: {errors}"
        assert not untypeset, f"{doc} from file://: math not typeset: {untypeset[:3]}"
    finally:
        page.close()
