"""Link check of the built site: every internal link and anchor resolves; nothing loads remotely.

Reads the HTML files under ``_build/html`` (no browser, no network). Each internal ``href`` or
``src`` must name a file of the site, and each ``#anchor`` must be an ``id`` (or ``name``) in
the target page. A script, stylesheet, image, font or frame loaded from ``http(s)://`` fails:
the book must read offline.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup
from conftest import SITE_DIR

EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel", "javascript", "data", "ftp"}
# Elements whose URL is fetched when the page loads (as opposed to followed when clicked).
LOADED = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
}


def html_pages() -> list[Path]:
    """Every HTML page of the built site except theme template fragments under _static."""
    if not SITE_DIR.is_dir():
        return []
    return sorted(p for p in SITE_DIR.rglob("*.html") if "_static" not in p.parts)


@functools.cache
def parse(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


@functools.cache
def anchors(page: Path) -> frozenset[str]:
    """Every id and name attribute in ``page``."""
    soup = parse(page)
    ids = {tag["id"] for tag in soup.find_all(id=True)}
    names = {tag["name"] for tag in soup.find_all(attrs={"name": True}) if tag.name == "a"}
    return frozenset(ids | names)


def urls_in(page: Path) -> list[tuple[str, str]]:
    """(tag name, URL) for every href/src/data attribute in ``page``."""
    found = []
    for tag in parse(page).find_all(True):
        for attribute in ("href", "src", "data"):
            value = tag.get(attribute)
            if isinstance(value, str) and value.strip():
                found.append((tag.name, value.strip()))
    return found


def resolve(page: Path, url: str) -> tuple[Path | None, str]:
    """The file an internal ``url`` on ``page`` points to (None if external) and its anchor."""
    parsed = urlparse(url)
    if parsed.scheme in EXTERNAL_SCHEMES or parsed.netloc:
        return None, ""
    if not parsed.path:
        return page, unquote(parsed.fragment)
    target = (page.parent / unquote(parsed.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parsed.fragment)


def link_problems(page: Path) -> list[str]:
    """Broken internal links and anchors of one page."""
    problems = []
    for tag, url in urls_in(page):
        target, fragment = resolve(page, url)
        if target is None:
            continue
        if not target.is_file():
            problems.append(f"<{tag}> {url}: no such file")
        elif fragment and target.suffix == ".html" and fragment not in anchors(target):
            problems.append(f"<{tag}> {url}: no anchor #{fragment} in {target.name}")
    return problems


def remote_loads(page: Path) -> list[str]:
    """URLs that ``page`` would fetch from another host while loading."""
    soup = parse(page)
    remote = []
    for tag_name, attribute in LOADED.items():
        for tag in soup.find_all(tag_name):
            value = tag.get(attribute) or ""
            if urlparse(value).scheme in ("http", "https") or value.startswith("//"):
                remote.append(f"<{tag_name}> {value}")
    for tag in soup.find_all("link", href=True):
        rel = set(tag.get("rel") or [])
        href = tag["href"]
        is_remote = urlparse(href).scheme in ("http", "https") or href.startswith("//")
        if is_remote and rel & {"stylesheet", "preload", "icon", "modulepreload", "prefetch"}:
            remote.append(f"<link rel={' '.join(sorted(rel))}> {href}")
    for tag in soup.find_all("style"):
        if "@import" in tag.get_text() and "http" in tag.get_text():
            remote.append("<style> @import of a remote stylesheet")
    return remote


def site_relative(page: Path) -> str:
    return page.relative_to(SITE_DIR).as_posix()


@pytest.fixture(scope="module")
def pages(site_dir: Path) -> list[Path]:
    found = html_pages()
    assert len(found) >= 3, f"only {len(found)} HTML pages under {site_dir}"
    return found


def test_internal_links_and_anchors_resolve(pages: list[Path]) -> None:
    broken = {site_relative(p): problems for p in pages if (problems := link_problems(p))}
    report = "\n".join(f"{page}: {line}" for page, lines in broken.items() for line in lines)
    assert not broken, f"broken internal links:\n{report}"


def test_no_page_loads_anything_remote(pages: list[Path]) -> None:
    remote = {site_relative(p): loads for p in pages if (loads := remote_loads(p))}
    report = "\n".join(f"{page}: {line}" for page, lines in remote.items() for line in lines)
    assert not remote, f"remote loads (the site must read offline):\n{report}"


def test_no_page_embeds_widget_state(pages: list[Path]) -> None:
    # No widget JavaScript is loaded (explorers have static twins), so saved state is dead weight.
    marker = "application/vnd.jupyter.widget-state+json"
    heavy = [site_relative(p) for p in pages if marker in p.read_text(encoding="utf-8")]
    assert not heavy, f"pages embedding saved widget state: {heavy}"


def test_mathjax_is_bundled(site_dir: Path) -> None:
    assert (site_dir / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_link_checker_catches_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text('<a href="missing.html">x</a><a href="#nowhere">y</a><p id="here"></p>')
    (tmp_path / "b.html").write_text('<a href="a.html#here">ok</a>')
    parse.cache_clear()
    anchors.cache_clear()
    assert len(link_problems(page)) == 2
    assert link_problems(tmp_path / "b.html") == []


def test_remote_load_checker_catches_a_cdn_script(tmp_path: Path) -> None:
    page = tmp_path / "c.html"
    page.write_text(
        '<script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/f.css">'
        '<a href="https://example.org/">a link is fine</a>'
    )
    assert len(remote_loads(page)) == 2
