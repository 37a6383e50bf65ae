"""Browser tests of the layout readers see, at a laptop's width and a phone's.

Every page listed in ``_toc.yml`` is opened in Debian's Chromium at 1280 x 800 and at 390 x 844
(one browser, one tab per width, reused from page to page). A page passes when

- it never scrolls sideways: the document is no wider than the window;
- no formula, table, figure or block of code is cut off: whatever is wider than its box sits
  in a box that scrolls sideways on its own (allowed on a phone); at 1280 px everything fits
  its column without scrolling;
- its figures are sharp: each image has at least twice as many pixels as the CSS pixels it is
  shown in (or is an SVG);
- its figure numbers make sense: "Fig. 4.2" in chapter 4, no number on pages outside the
  numbered chapters;
- its tables share one style;
- on pages with folded solutions, a click anywhere on a solution's header (its title text
  included) opens the solution, and a second click closes it, without leaving the page.

Run time: about half a second per page and width (see the closing note in the test report).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import yaml
from conftest import CHROMIUM_ARGS, ROOT, toc_files
from playwright.sync_api import Page, sync_playwright

PAGES = toc_files()
#: (width, height) of the windows: a laptop and a phone, in CSS pixels.
WINDOWS = {"laptop": (1280, 800), "phone": (390, 844)}
#: Pixels of an image per CSS pixel it is shown in.
MIN_IMAGE_DENSITY = 2.0


def numbered_chapters(toc_path=ROOT / "_toc.yml") -> dict[str, int]:
    """Document name -> chapter number, for the parts of _toc.yml marked ``numbered``."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    numbers: dict[str, int] = {}
    for part in toc.get("parts", []):
        if part.get("numbered"):
            for chapter in part.get("chapters", []):
                doc = str(chapter["file"]).removesuffix(".ipynb").removesuffix(".md")
                numbers[doc] = len(numbers) + 1
    return numbers


CHAPTER_NUMBER = numbered_chapters()

# What a page shows that is too wide for its box: each item's content box is compared with
# every ancestor up to the article. An ancestor inside the article that scrolls sideways
# (overflow-x auto or scroll) holds the item in a box of its own: "scrolls". An ancestor
# narrower than the content that does not scroll cuts it off: "clipped". Content past the
# window's right edge is clipped too.
OVERFLOW_JS = """
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('article');
  const width = document.documentElement.clientWidth;
  const SLACK = 3;  // pixels: an italic letter's overhang is not a formula cut off
  const items = [];
  const add = (el, content, kind) => items.push([el, content || el, kind]);
  article.querySelectorAll('mjx-container').forEach(el =>
    add(el, el.querySelector(':scope > mjx-math'),
        el.getAttribute('display') === 'true' ? 'display math' : 'inline math'));
  article.querySelectorAll('table').forEach(el => add(el, el, 'table'));
  article.querySelectorAll('img').forEach(el => add(el, el, 'image'));
  article.querySelectorAll('figure').forEach(el => add(el, el, 'figure'));
  article.querySelectorAll('pre').forEach(el => add(el, el, 'code'));
  // A formula is described by its TeX source (MathJax keeps it with the typeset container).
  const tex = new Map();
  if (window.MathJax && MathJax.startup && MathJax.startup.document)
    for (const item of MathJax.startup.document.getMathItemsWithin(document.body))
      tex.set(item.typesetRoot, item.math);
  const describe = (el, content) =>
    (tex.get(el) || el.getAttribute('alt') || content.textContent || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 70);
  const out = {pageWidth: document.documentElement.scrollWidth, windowWidth: width,
               clipped: [], scrolls: []};
  for (const [el, content, kind] of items) {
    const box = content.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // hidden (a folded solution)
    // A <pre> scrolls itself: compare what it holds with its own width.
    if (kind === 'code') {
      if (content.scrollWidth > content.clientWidth + SLACK)
        out.scrolls.push([kind, describe(el, content), content.scrollWidth, content.clientWidth]);
      continue;
    }
    let verdict = null, held = false;
    for (let a = content.parentElement; a && a !== document.body; a = a.parentElement) {
      const overflowX = getComputedStyle(a).overflowX;
      const own = (overflowX === 'auto' || overflowX === 'scroll') && a !== article
                  && article.contains(a);
      const r = a.getBoundingClientRect();
      const wider = box.right > r.right + SLACK || box.left < r.left - SLACK;
      if (own) {
        held = true;
        if (box.width > a.clientWidth + SLACK)
          verdict = ['scrolls', Math.round(box.width), Math.round(a.clientWidth)];
        break;
      }
      if (wider) { verdict = ['clipped', Math.round(box.width), Math.round(r.width)]; break; }
      if (a === article) break;
    }
    if (!held && !verdict && box.right > width + SLACK)
      verdict = ['clipped', Math.round(box.right), width];
    if (verdict) {
      const [how, w, room] = verdict;
      (how === 'clipped' ? out.clipped : out.scrolls).push([kind, describe(el, content), w, room]);
    }
  }
  // What sticks out past the window's right edge, outside any box that scrolls or clips (the
  // deepest such elements): why a page scrolls sideways.
  const contained = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    return false;
  };
  const past = el => el.getBoundingClientRect().right > width + SLACK;
  out.pastWindow = [...document.body.querySelectorAll('*')]
    .filter(el => past(el) && ![...el.children].some(past) && !contained(el))
    .slice(0, 5)
    .map(el => `${el.tagName.toLowerCase()}.${(el.className || '').toString().split(' ')[0]}: `
               + (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 60));
  return out;
}
"""

IMAGES_JS = """
() => [...document.querySelectorAll('article img')].map(img => {
  const r = img.getBoundingClientRect();
  return [img.getAttribute('src'), img.naturalWidth, r.width];
})
"""

CAPTIONS_JS = """
() => [...document.querySelectorAll('article figcaption, article caption')]
  .map(c => (c.querySelector('.caption-number') || {textContent: ''}).textContent.trim())
"""

# The computed style that makes a table look like the book's: font size, borders, padding.
# The in-browser explorer's readouts (a table of labels and live values inside its controls,
# assets/explorer) are part of that widget, not a table of the book, and keep its own style.
TABLE_STYLE_JS = """
() => [...document.querySelectorAll('article table')]
  .filter(t => !t.closest('.tm-web-explorer'))
  .map(t => {
  const th = t.querySelector('th'), td = t.querySelector('td');
  const s = (el, keys) => el ? keys.map(k => getComputedStyle(el)[k]).join(' ') : '';
  return [t.textContent.replace(/\\s+/g, ' ').trim().slice(0, 50),
          [s(t, ['fontSize', 'borderCollapse']),
           s(th, ['borderBottomWidth', 'borderBottomStyle', 'paddingLeft']),
           s(td, ['borderBottomWidth', 'borderBottomStyle', 'paddingLeft'])].join(' | ')];
})
"""


@dataclass
class LayoutReport:
    """What one page shows at one window width."""

    page_width: int
    window_width: int
    past_window: list[str]
    clipped: list[list]
    scrolls: list[list]
    images: list[list]
    captions: list[str]
    tables: list[list]
    solutions: int  # folded solutions on the page
    solution_problems: list[str]  # what went wrong clicking their headers (laptop only)


@pytest.fixture(scope="module")
def tabs(chromium_path: str) -> Iterator[dict[str, Page]]:
    """One Chromium, one tab per window size; each tab is reused for every page."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            out = {}
            for name, (width, height) in WINDOWS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                out[name] = context.new_page()
            yield out
        finally:
            browser.close()


def load(page: Page, url: str) -> None:
    """Open ``url`` and wait until MathJax has typeset it (the layout depends on that)."""
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} did not load"
    page.evaluate(
        "() => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " ? MathJax.startup.promise.then(() => true) : true"
    )


@pytest.fixture(scope="module")
def layout_of(tabs: dict[str, Page], site_url: str) -> Callable[[str, str], LayoutReport]:
    """``layout_of(window, doc)`` visits a page once per window; its tests share the report."""

    @functools.cache
    def visit(window: str, doc: str) -> LayoutReport:
        page, url = tabs[window], f"{site_url}{doc}.html"
        load(page, url)
        overflow = page.evaluate(OVERFLOW_JS)
        return LayoutReport(
            page_width=overflow["pageWidth"],
            window_width=overflow["windowWidth"],
            past_window=overflow["pastWindow"],
            clipped=overflow["clipped"],
            scrolls=overflow["scrolls"],
            images=page.evaluate(IMAGES_JS),
            captions=page.evaluate(CAPTIONS_JS),
            tables=page.evaluate(TABLE_STYLE_JS),
            solutions=page.locator("article div.solution.dropdown").count(),
            # Last: opening solutions changes the layout measured above.
            solution_problems=(solution_header_problems(page, url) if window == "laptop" else []),
        )

    return visit


def listing(items: list[list]) -> str:
    return "\n".join(f"  {kind}: {what!r} is {w} px in {room} px" for kind, what, w, room in items)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("doc", PAGES)
def test_page_never_scrolls_sideways(layout_of, window: str, doc: str) -> None:
    report = layout_of(window, doc)
    assert report.page_width <= report.window_width, (
        f"{doc} at {window} width: the page is {report.page_width} px wide in a "
        f"{report.window_width} px window; past its right edge: {report.past_window}"
    )


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("doc", PAGES)
def test_nothing_is_cut_off(layout_of, window: str, doc: str) -> None:
    """A formula, table or figure wider than its box scrolls inside a box of its own: on a
    phone that is allowed; on a laptop everything fits its column outright."""
    report = layout_of(window, doc)
    assert not report.clipped, f"{doc} at {window} width, cut off:\n{listing(report.clipped)}"
    if window == "laptop":
        assert not report.scrolls, (
            f"{doc} at 1280 px, too wide for the column (break the formula with aligned, "
            f"narrow the table):\n{listing(report.scrolls)}"
        )


@pytest.mark.parametrize("doc", PAGES)
def test_figures_are_sharp(layout_of, doc: str) -> None:
    blurry = [
        f"{src}: {natural} px shown in {shown:.0f} px"
        for src, natural, shown in layout_of("laptop", doc).images
        if not src.lower().endswith(".svg") and natural < MIN_IMAGE_DENSITY * shown
    ]
    assert not blurry, f"{doc}: images with fewer than {MIN_IMAGE_DENSITY}x pixels: {blurry}"


@pytest.mark.parametrize("doc", PAGES)
def test_figure_numbers_belong_to_their_chapter(layout_of, doc: str) -> None:
    """Figures in chapter 4 are 4.1, 4.2, ...; pages outside the numbered chapters (the
    explorer, the exercises, the reference) number nothing."""
    numbers = [n for n in layout_of("laptop", doc).captions if n]
    chapter = CHAPTER_NUMBER.get(doc)
    if chapter is None:
        assert not numbers, f"{doc} is not a numbered chapter but shows {numbers}"
    else:
        wrong = [n for n in numbers if not n.split()[-1].startswith(f"{chapter}.")]
        assert not wrong, f"{doc} is chapter {chapter} but shows {wrong}"


def test_one_table_style_across_the_book(layout_of) -> None:
    styles: dict[str, list[str]] = {}
    for doc in PAGES:
        for text, style in layout_of("laptop", doc).tables:
            styles.setdefault(style, []).append(f"{doc}: {text}")
    assert styles, "no tables found on any page"
    assert len(styles) == 1, "tables in more than one style:\n" + "\n".join(
        f"  {style}: {len(where)} tables, e.g. {where[0]!r}" for style, where in styles.items()
    )


def solution_header_problems(page: Page, url: str) -> list[str]:
    """Click each folded solution's title text twice: it must open in place, then close."""
    problems = []
    solutions = page.locator("article div.solution.dropdown")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        body = solution.locator(":scope > :not(.admonition-title)").first
        title_text = solution.locator(":scope > .admonition-title .solution-of")
        if title_text.count() != 1:
            problems.append(f"solution {i + 1}: its title still links away (no .solution-of)")
            continue
        if body.is_visible():
            problems.append(f"solution {i + 1}: visible before its header is clicked")
            continue
        title_text.click()
        if page.url != url:
            problems.append(f"solution {i + 1}: a click on its title went to {page.url}")
            load(page, url)
            continue
        if not body.is_visible():
            problems.append(f"solution {i + 1}: a click on its title text left it closed")
        title_text.click()
        if body.is_visible():
            problems.append(f"solution {i + 1}: a second click left it open")
    return problems


SOLUTION_PAGES = [d for d in PAGES if d.startswith(("chapters/", "exercises/q"))]


@pytest.mark.parametrize("doc", SOLUTION_PAGES)
def test_solution_header_opens_and_closes_it(layout_of, doc: str) -> None:
    """The header's biggest target is its title text ("Solution to Exercise 4.2"): a click
    there opens the solution in place (it used to jump back to the exercise), and closes it."""
    report = layout_of("laptop", doc)
    if doc.startswith("exercises/"):
        assert report.solutions, f"{doc}: no folded solution"
    assert not report.solution_problems, f"{doc}:\n" + "\n".join(report.solution_problems)
