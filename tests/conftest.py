"""Shared fixtures: the repository layout, the table of contents, the built site, and the
presets and FACTS.md figures that the hand-computed library tests use.

The site fixtures serve ``_build/html`` from a thread on a free 127.0.0.1 port and drive
Debian's Chromium through Playwright (never a downloaded browser). ``make test`` always builds
the site before it runs pytest, so a missing site is a failure here, not a skip.

``BOOK_ROOT`` (environment) points the tests at another book folder; it exists only to test
these tests against a scratch book.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import tokenmath as tm
import yaml

ROOT = Path(os.environ.get("BOOK_ROOT", Path(__file__).resolve().parents[1]))
SITE_DIR = ROOT / "_build" / "html"
NOTEBOOK_DIRS = ("chapters", "exercises")

# Figures typed from FACTS.md, not read from the library, for the hand-computed tests.
# H100 SXM: dense FLOP/s at BF16 and FP8, HBM bytes/s, HBM bytes.
C_BF16, C_FP8, BW, HBM = 989.4e12, 1978.9e12, 3.35e12, 80e9
# DeepSeek-V3: total and active parameters, KV bytes per token (61 x 576 x 2).
DS_TOTAL, DS_ACTIVE, DS_B = 671e9, 37e9, 70_272
# Llama-3.1-8B: parameters, KV bytes per token (32 layers x 2 x 8 heads x 128 x 2).
L8_PARAMS, L8_B = 8.03e9, 131_072

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every ``file:``/``root:`` entry of ``_toc.yml``, in reading order, without suffix."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    found: list[str] = [str(toc["root"])]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [f.removesuffix(".ipynb").removesuffix(".md") for f in found]


@pytest.fixture
def ds() -> tm.Model:
    """The DeepSeek-V3 preset."""
    return tm.model("deepseek-v3")


@pytest.fixture
def l8() -> tm.Model:
    """The Llama-3.1-8B preset."""
    return tm.model("llama-3.1-8b")


@pytest.fixture
def h100() -> tm.Hardware:
    """The H100 SXM preset."""
    return tm.hardware("h100-sxm")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The book's repository root."""
    return ROOT


@pytest.fixture(scope="session")
def toc_pages() -> list[str]:
    """Document names listed in ``_toc.yml`` (e.g. ``chapters/04_cost_chart``)."""
    return toc_files()


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """``_build/html``; fails (does not skip) when the site has not been built."""
    if not (SITE_DIR / "index.html").is_file():
        pytest.fail(
            f"The built site is missing ({SITE_DIR / 'index.html'} does not exist). "
            "Build it first: `make book` (make test builds it before running pytest).",
            pytrace=False,
        )
    return SITE_DIR


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence the per-request log lines."""


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    """Base URL (ending in ``/``) of the built site served on a free 127.0.0.1 port."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's Chromium; fails when it is not installed (.ci/run installs it)."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "chromium is not on PATH: install Debian's package (`apt-get install chromium`); "
            "never `playwright install`.",
            pytrace=False,
        )
    return path
