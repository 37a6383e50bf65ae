"""The explorer that runs in the reader's browser, on the built site, in Chromium.

The page is served from 127.0.0.1 and any request to another host is refused and reported.
Each test moves the controls as a reader would and reads the readouts back: every number
shown must equal the library's at that setting (within the tables' quantisation tolerance,
plus the rounding of the display), each redraw must come within the response budget, and the
page must stay under its weight budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

import pytest
import tokenmath as tm
from conftest import CHROMIUM_ARGS
from playwright.sync_api import Browser, Page, sync_playwright
from tokenmath import webexplorer as we

PAGE = "chapters/explorer.html"
RESPONSE_BUDGET_MS = 100.0
#: A change that misses the budget is timed again (undone, tables forgotten, redone) up to this
#: many times: on a busy shared machine one slow frame is the machine, not the page. Every
#: first try is printed.
RETRIES = 2
PAGE_WEIGHT_BUDGET = 3_000_000  # bytes transferred to show the page, explorer included
STORED_TOL = we.QUANTISATION_TOLERANCE
SHOWN_TOL = 2 * we.QUANTISATION_TOLERANCE  # stored, then shown to 4 significant figures
ASSUME = {"first-order": tm.FIRST_ORDER, "refined": tm.REFINED}

# Change one control, wait until the explorer has redrawn, then for the next frame (when the
# redraw is painted). Returns the milliseconds from the change to that frame.
CHANGE_AND_TIME_JS = """
async ([selector, value]) => {
  const root = document.getElementById('tm-web-explorer');
  const el = root.querySelector(selector);
  const before = root.dataset.renders;
  const drawn = new Promise((resolve) => {
    const watch = new MutationObserver(() => {
      if (root.dataset.renders !== before) { watch.disconnect(); resolve(); }
    });
    watch.observe(root, { attributes: true, attributeFilter: ['data-renders'] });
  });
  const t0 = performance.now();
  el.value = value;
  el.dispatchEvent(new Event(el.type === 'range' ? 'input' : 'change', { bubbles: true }));
  await drawn;
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  return performance.now() - t0;
}
"""

READOUTS_JS = """
() => Object.fromEntries([...document.querySelectorAll('#tm-web-explorer td[data-key]')]
  .map((td) => [td.dataset.key, [td.dataset.value, td.textContent]]))
"""


@dataclass(frozen=True)
class State:
    """The explorer's controls, as the page names them."""

    model: str = "deepseek-v3"
    hardware: str = "h100-sxm"
    precision: str = "bf16"
    kv_precision: str = "bf16"
    assumptions: str = "first-order"
    context: int = 0
    batch: int = 64


def library_readouts(s: State) -> dict[str, float | str | None]:
    """What the page must show for ``s``, from fresh library calls."""
    m, hw = tm.model(s.model), tm.hardware(s.hardware)
    kw = {"kv_precision": s.kv_precision, "assume": ASSUME[s.assumptions]}
    gpus = tm.widgets.default_gpus(m.name, hw.name, s.precision)
    cost = tm.cost_per_token(m, hw, s.batch, s.context, s.precision, **kw)
    floor = tm.cost_floor(m, hw, s.context, s.precision, **kw)
    spot = tm.sweet_spot(m, hw, s.context, s.precision, **kw)
    fits = tm.max_batch(m, hw, s.context, gpus, s.precision, **kw)
    return {
        "step_ms": tm.step_time(m, hw, s.batch, s.context, s.precision, gpus, **kw) * 1e3,
        "cost_us": cost * 1e6,
        "cost_usd": tm.usd_per_million_tokens(cost, hw.usd_per_hour),
        "region": tm.region(m, hw, s.batch, s.context, s.precision, **kw),
        "sweet_spot": None if math.isinf(spot) else spot,
        "floor_us": floor * 1e6,
        "floor_usd": tm.usd_per_million_tokens(floor, hw.usd_per_hour),
        "batch1_penalty": tm.batch1_penalty(m, hw, s.context, s.precision, **kw),
        "max_batch": None if math.isinf(fits) else fits,
        "gpus": gpus,
    }


def first_number(text: str) -> float:
    """The first number in a readout's text: '6,257 GPU-microseconds' -> 6257."""
    match = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    assert match, f"no number in {text!r}"
    return float(match.group().replace(",", ""))


def mismatches(shown: dict[str, list[str]], s: State) -> list[str]:
    """Readouts that differ from the library's numbers for ``s``."""
    want = library_readouts(s)
    wrong = []
    for key, expected in want.items():
        if key == "gpus":
            if f"on {expected} GPU" not in shown["step_ms"][1]:
                wrong.append(f"replica: {shown['step_ms'][1]!r}, want {expected} GPUs")
            continue
        value, text = shown[key]
        if key == "region":
            ok = text == expected
        elif expected is None:
            ok = value == ""
        elif key == "max_batch":
            ok = float(value) == expected and first_number(text) == expected
        else:
            ok = math.isclose(float(value), expected, rel_tol=STORED_TOL) and math.isclose(
                first_number(text), expected, rel_tol=SHOWN_TOL
            )
        if not ok:
            wrong.append(f"{key}: page {value!r} / {text!r}, library {expected!r}")
    return wrong


@dataclass
class Visit:
    """One page load: the page, and what went wrong or was transferred meanwhile."""

    page: Page
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    transferred: dict[str, int] = field(default_factory=dict)

    def bytes_so_far(self) -> int:
        return sum(self.transferred.values())


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        b = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_explorer(browser: Browser, url: str) -> Visit:
    """Load the explorer page with an empty cache, refusing every non-local request."""
    page = browser.new_context().new_page()
    visit = Visit(page)

    def guard(route, request) -> None:  # type: ignore[no-untyped-def]
        parsed = urlparse(request.url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname != "127.0.0.1":
            visit.foreign.append(request.url)
            route.abort()
        else:
            route.continue_()

    def finished(request) -> None:  # type: ignore[no-untyped-def]
        sizes = request.sizes()
        visit.transferred[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]

    page.route("**/*", guard)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: visit.errors.append(str(exc)))
    page.on("requestfailed", lambda r: visit.errors.append(f"failed: {r.url}"))
    page.on("requestfinished", finished)
    page.goto(url, wait_until="load")
    page.wait_for_selector("#tm-web-explorer[data-ready]", timeout=15_000)
    page.wait_for_load_state("networkidle")
    return visit


@pytest.fixture(scope="module")
def visit(browser: Browser, site_url: str) -> Iterator[Visit]:
    v = open_explorer(browser, site_url + PAGE)
    try:
        yield v
    finally:
        v.page.context.close()


def page_state(page: Page) -> State:
    """The controls' values as the explorer holds them."""
    return State(**page.evaluate("() => document.getElementById('tm-web-explorer').explorer.state"))


def change(page: Page, control: str, value: str | int) -> float:
    """Set one control as a reader would; milliseconds until the redraw is painted."""
    if control in ("batch", "context"):
        limit = tm.model(page_state(page).model).context_limit
        grid = we.batch_grid() if control == "batch" else we.context_grid(limit)
        value = list(grid).index(int(value))  # the slider moves over grid indices
    selector = f"[data-control='{control}']"
    return page.evaluate(CHANGE_AND_TIME_JS, [selector, str(value)])


def test_the_page_opens_on_the_books_starting_point(visit: Visit) -> None:
    assert not visit.errors, visit.errors
    assert not visit.foreign, f"requests to other hosts: {visit.foreign}"
    shown = visit.page.evaluate(READOUTS_JS)
    assert not mismatches(shown, State()), mismatches(shown, State())
    batch = visit.page.locator("#tm-web-explorer output[data-out='batch']").text_content()
    assert batch == "64 sequences"
    assert visit.page.locator("#tm-web-explorer svg[data-chart] path.tm-x-total").count() == 1
    assert visit.page.locator("#tm-web-explorer svg[data-chart] path.tm-x-step").count() == 1


def test_page_weight_is_within_budget(visit: Visit) -> None:
    weight = visit.bytes_so_far()
    print(f"explorer page: {len(visit.transferred)} requests, {weight / 1e6:.2f} MB")
    assert weight < PAGE_WEIGHT_BUDGET, f"{weight / 1e6:.2f} MB transferred"
    loaded = [u for u in visit.transferred if "/_static/explorer/" in u]
    assert any(u.endswith("deepseek-v3__h100-sxm.js") for u in loaded), loaded


# Each step changes one control; the readouts are checked against the library after each.
STEPS = [
    ("model", "llama-3.1-70b"),
    ("hardware", "h200"),
    ("context", 8192),
    ("batch", 256),
    ("precision", "fp8"),
    ("kv_precision", "fp8"),
    ("assumptions", "refined"),
    ("model", "gpt-oss-120b"),
    ("precision", "native"),
    ("hardware", "b200"),
    ("context", 131072),
    ("batch", 1),
    ("model", "deepseek-v3"),
    ("hardware", "h100-sxm"),
    ("context", 2048),
    ("batch", 6144),
]


def timed_change(page: Page, control: str, value: str | int, before: State) -> list[float]:
    """Milliseconds of each try at one change (a table the change needs loads afresh in each
    try); stops at the first try within the budget."""
    tries = [change(page, control, value)]
    while tries[-1] >= RESPONSE_BUDGET_MS and len(tries) <= RETRIES:
        change(page, control, getattr(before, control))
        page.evaluate("() => document.getElementById('tm-web-explorer').explorer.forgetTables()")
        tries.append(change(page, control, value))
    return tries


def test_readouts_follow_every_control_within_the_response_budget(visit: Visit) -> None:
    state = page_state(visit.page)
    timings = []
    for control, value in STEPS:
        tries = timed_change(visit.page, control, value, state)
        timings.append((control, value, tries))
        state = replace(state, **{control: value})
        assert page_state(visit.page) == state, f"after {control} = {value}"
        shown = visit.page.evaluate(READOUTS_JS)
        wrong = mismatches(shown, state)
        assert not wrong, f"after {control} = {value}: {wrong}"
    print(
        "response times [ms], each try:",
        "; ".join(f"{c}={v}: {', '.join(f'{t:.1f}' for t in ts)}" for c, v, ts in timings),
    )
    slow = [
        (c, v, [round(t, 1) for t in ts]) for c, v, ts in timings if ts[-1] >= RESPONSE_BUDGET_MS
    ]
    assert not slow, f"redraws over {RESPONSE_BUDGET_MS} ms: {slow}"
    assert not visit.errors, visit.errors
    assert not visit.foreign, visit.foreign


def test_a_chip_without_fp8_falls_back_to_bf16(visit: Visit) -> None:
    change(visit.page, "model", "llama-3.1-8b")
    change(visit.page, "hardware", "h100-sxm")
    change(visit.page, "precision", "fp8")
    change(visit.page, "hardware", "a100-sxm-80gb")
    state = page_state(visit.page)
    options = visit.page.locator("[data-control='precision'] option").all_inner_texts()
    assert state.precision == "bf16" and "FP8" not in options
    message = visit.page.locator("#tm-web-explorer [data-out='message']").text_content()
    assert "BF16" in message
    shown = visit.page.evaluate(READOUTS_JS)
    assert not mismatches(shown, state)


def test_the_explorer_works_from_a_file_url(browser: Browser, site_dir: Path) -> None:
    """Opened from disk, with no server: the tables load as scripts, not with fetch()."""
    visit = open_explorer(browser, (site_dir / PAGE).as_uri())
    try:
        change(visit.page, "model", "qwen3-235b-a22b")
        shown = visit.page.evaluate(READOUTS_JS)
        assert not mismatches(shown, State(model="qwen3-235b-a22b"))
        assert not visit.errors, visit.errors
    finally:
        visit.page.context.close()


def test_no_other_page_loads_the_explorer(site_dir: Path) -> None:
    pages = [p for p in site_dir.rglob("*.html") if "_static" not in p.parts]
    carrying = [
        p.relative_to(site_dir).as_posix()
        for p in pages
        if "_static/explorer/" in p.read_text(encoding="utf-8")
    ]
    assert carrying == [PAGE]
