"""The notebooks read in JupyterLab: rendered MyST prose with the computed numbers in it.

Starts JupyterLab from this environment (jupyterlab-myst installed by requirements.txt) on a
free 127.0.0.1 port with a token, over a scratch copy of chapters/ and exercises/ (so nothing
it saves reaches the repository), opens a chapter, an exercise and the explorer in Debian's
Chromium, runs all cells, and reads what a reader sees:

* every {eval} role was evaluated by the kernel without error, and its value is in the
  rendered text of its cell; a few numbers computed here from the library are there too;
* no raw markup survives: no glue or eval role, no ``:::{`` or `````{`` directive, no
  ``(label)=`` line, no role name in braces;
* no cell failed, and no request left 127.0.0.1;
* the explorer opens at the batch the prose quotes (the readout shows the prose's price), its
  batch slider is wide, and its readouts carry their units.

``LAB_SCREENSHOTS=dir`` saves a screenshot of each notebook there.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import tokenmath as tm
from conftest import CHROMIUM_ARGS, NOTEBOOK_DIRS, ROOT
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

LOCAL = "127.0.0.1"
START_TIMEOUT_S = 90
RUN_TIMEOUT_MS = 120_000
# Raw MyST a reader must never see in rendered prose.
RAW_MARKUP = re.compile(
    r"\{(?:glue|eval|doc|ref|numref|cite|exercise|solution|admonition|dropdown)[:a-z-]*\}"
    r"|:::|```|\([A-Za-z0-9_-]+\)="
)

END_MARKER = re.compile(r"^\s*(`{3,}|:{3,})\{(solution|exercise)-end\}\s*\1\s*$")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return sock.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(
        f"{base}{path}", method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (127.0.0.1 only)
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a JupyterLab server on a scratch copy of the notebooks."""
    root = tmp_path_factory.mktemp("lab-root")
    for folder in NOTEBOOK_DIRS:
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("*.ipynb_*"))
    home = tmp_path_factory.mktemp("lab-home")
    # The kernels' Unix sockets live in the runtime folder, and a socket path may not exceed
    # 107 bytes: under pytest-xdist tmp_path is long enough to break that, so use a short one.
    runtime = Path(tempfile.mkdtemp(prefix="lab-rt-"))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),  # no user settings or workspaces leak in
        JUPYTER_RUNTIME_DIR=str(runtime),
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={LOCAL}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        # Kernels talk over Unix sockets: no TCP ports to race for with the notebooks that
        # nbmake runs at the same time (a clash kills a kernel: "Address already in use").
        "--KernelManager.transport=ipc",
        f"--LabApp.app_settings_dir={ROOT / 'lab-settings'}",  # as `make lab` does
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands from the test
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{LOCAL}:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()}")
                time.sleep(0.2)
        yield base, token
    finally:
        try:
            for kernel in _api(base, token, "/api/kernels") or []:
                _api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="module")
def lab_page(lab, chromium_path: str) -> Iterator[tuple[Page, list[str]]]:
    """JupyterLab loaded in Chromium; the list collects requests to any other host."""
    base, token = lab
    foreign: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})

            def guard(route, request) -> None:  # type: ignore[no-untyped-def]
                if request.url.startswith(("data:", "blob:", f"{base}/", f"ws://{LOCAL}:")):
                    route.continue_()
                else:
                    foreign.append(request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(f"{base}/lab?token={token}")
            page.wait_for_function("() => window.jupyterapp !== undefined", timeout=90_000)
            page.evaluate("window.jupyterapp.started.then(() => true)")
            yield page, foreign
        finally:
            browser.close()


# Where Run All stands: code cells not run yet, markdown cells still showing an {eval} role
# as its expression (jupyterlab-myst shows the code until the kernel's reply is in).
RUN_STATE = """
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets;
  const notRun = cells.map((c, i) => [c, i + 1]).filter(([c]) => c.model.type === 'code'
    && c.model.executionCount === null && c.model.sharedModel.getSource().trim() !== '')
    .map(([, i]) => i);
  const pending = cells.map((c, i) => [c, i + 1]).filter(([c]) => c.model.type === 'markdown'
    && [...c.node.querySelectorAll('.myst code')].some(e => e.textContent.startsWith('f"{')))
    .map(([, i]) => i);
  const kernel = w.sessionContext.session.kernel.status;
  const state = {notRun, pending, kernel, done: !notRun.length && !pending.length
    && kernel === 'idle'};
"""


def open_and_run(page: Page, path: str) -> list[dict]:
    """Open ``path``, wait for its kernel, run all cells; return each cell's state."""
    page.evaluate(
        "path => window.jupyterapp.commands.execute('docmanager:open', {path}).then(() => true)",
        path,
    )
    page.wait_for_function(
        """path => {
          const w = window.jupyterapp.shell.currentWidget;
          const k = w && w.context && w.context.path === path && w.sessionContext.session
            && w.sessionContext.session.kernel;
          return k && k.status === 'idle';
        }""",
        arg=path,
        timeout=RUN_TIMEOUT_MS,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells').then(() => true)")
    try:
        page.wait_for_function(
            f"() => {{ {RUN_STATE} return state.done; }}", timeout=RUN_TIMEOUT_MS
        )
    except PlaywrightTimeout:
        state = page.evaluate(f"() => {{ {RUN_STATE} return state; }}")
        pytest.fail(f"{path}: Run All did not finish: {state}", pytrace=False)
    return page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.widgets.map(c => {
          const prose = c.node.querySelector('.myst');
          // what a reader reads: without KaTeX's hidden MathML copy (and its TeX source)
          const visible = prose ? prose.cloneNode(true) : null;
          if (visible) visible.querySelectorAll('.katex-mathml').forEach(e => e.remove());
          return {
            type: c.model.type,
            source: c.model.sharedModel.getSource(),
            expressions: c.model.getMetadata('user_expressions') || [],
            rendered: prose !== null,
            text: visible ? visible.textContent : '',
            unevaluated: prose ? [...prose.querySelectorAll('code')].map(e => e.textContent)
              .filter(t => t.startsWith('f"{')) : [],
            errors: [...c.node.querySelectorAll(
              '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
              .map(e => e.textContent).filter(t => t.includes('Error')),
          };
        })"""
    )


def shown(result: dict) -> str:
    """The text jupyterlab-myst shows for an evaluated expression (quotes stripped)."""
    text = result["data"]["text/plain"]
    return re.sub(r"""^(["'])(.*)\1$""", r"\2", text)


def check_rendered(cells: list[dict], path: str) -> str:
    """Assert the prose of ``cells`` is rendered and evaluated; return all of its text."""
    evaluated = 0
    for index, cell in enumerate(cells, start=1):
        where = f"{path} cell {index}"
        assert not cell["errors"], f"{where} failed: {cell['errors'][0][:500]}"
        if cell["type"] != "markdown":
            continue
        assert cell["rendered"], f"{where}: markdown not rendered by jupyterlab-myst"
        if not END_MARKER.match(cell["source"]):  # a solution's end draws an empty box
            assert cell["text"].strip(), f"{where}: rendered markdown is empty"
        raw = RAW_MARKUP.search(cell["text"])
        assert raw is None, f"{where} shows raw markup {raw.group(0)!r}: {cell['text'][:300]}"
        assert not cell["unevaluated"], f"{where}: not evaluated: {cell['unevaluated']}"
        roles = set(re.findall(r"\{eval\}`([^`]*)`", cell["source"]))
        results = {e["expression"]: e["result"] for e in cell["expressions"]}
        assert roles <= set(results), f"{where}: no result for {roles - set(results)}"
        for expression in roles:
            result = results[expression]
            assert result["status"] == "ok", f"{where}: {expression} -> {result}"
            assert shown(result) in cell["text"], f"{where}: {shown(result)!r} not shown"
            evaluated += 1
    assert evaluated >= 5, f"{path}: only {evaluated} {{eval}} roles"
    return " ".join(" ".join(c["text"].split()) for c in cells if c["type"] == "markdown")


def screenshot(page: Page, path: str) -> None:
    folder = os.environ.get("LAB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / (Path(path).stem + ".png")))


DS, H100 = tm.model("deepseek-v3"), tm.hardware("h100-sxm")


def usd_per_million(cost: float, hw: tm.Hardware = H100) -> float:
    return tm.usd_per_million_tokens(cost, hw.usd_per_hour)


def _numbers_ch5() -> list[str]:
    penalty = tm.batch1_penalty(DS, H100, 0, "bf16")
    floor_usd = usd_per_million(tm.cost_floor(DS, H100, 0, "bf16"))
    return [f"{penalty:,.0f}", f"{floor_usd:.3f}"]


def _numbers_q5() -> list[str]:
    chips = ("a100-sxm-80gb", "h100-sxm", "b200")
    return [f"{tm.sweet_spot(DS, tm.hardware(chip), 1_000):,.0f}" for chip in chips]


# (notebook, numbers computed here from the library, phrases, a cell to show in the screenshot)
PAGES = [
    (
        "chapters/05_three_questions.ipynb",
        _numbers_ch5,
        ["Question 1: what does a batch of one cost?", "Takeaway", "Solution to Exercise"],
        "Takeaway",
    ),
    (
        "exercises/q5_gpu_generations.ipynb",
        _numbers_q5,
        ["Start of Exercise", "Solution to Exercise"],  # gated exercises and solutions
        "fills its arithmetic",
    ),
]


@pytest.mark.parametrize(("path", "numbers", "phrases", "anchor"), PAGES, ids=[p[0] for p in PAGES])
def test_a_page_reads_in_jupyterlab(lab_page, path, numbers, phrases, anchor) -> None:
    page, foreign = lab_page
    text = check_rendered(open_and_run(page, path), path)
    for expected in [*numbers(), *phrases]:
        assert expected in text, expected
    page.locator(".jp-MarkdownCell .myst", has_text=anchor).first.scroll_into_view_if_needed()
    screenshot(page, path)
    assert foreign == []


def test_the_explorer_opens_where_the_prose_says(lab_page) -> None:
    page, foreign = lab_page
    path = "chapters/explorer.ipynb"
    text = check_rendered(open_and_run(page, path), path)
    batch_usd = usd_per_million(tm.cost_per_token(DS, H100, 64, 0))
    assert "batch of 64 " in text and f"${batch_usd:.2f} per million tokens" in text
    slider = page.locator(".widget-slider", has=page.locator("label", has_text="batch B"))
    slider.wait_for(timeout=60_000)
    assert slider.locator(".widget-readout").inner_text().strip() == "64"
    readout = page.locator(".widget-html", has_text="step time at this batch").first
    readout_text = readout.inner_text()
    # The kernel's state after the browser drew the slider: the price the prose quotes.
    assert f"${batch_usd:.2f} per million tokens" in readout_text
    assert "GPU-seconds per million tokens" in readout_text.split("floor", 1)[1]
    track = slider.locator(".slider-container").bounding_box()
    assert track is not None and track["width"] >= 500, track  # was 130 px for six decades
    slider.scroll_into_view_if_needed()
    screenshot(page, path)
    assert foreign == []
