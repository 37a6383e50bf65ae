"""Sphinx extension: the cost explorer that runs in the reader's browser, from the library's
numbers.

The explorer page (chapters/explorer.ipynb) holds a placeholder, ``<div id="tm-web-explorer">``.
At the end of an HTML build this extension writes the explorer's tables into
``_static/explorer/`` (:func:`tokenmath.webexplorer.write_site_files`: every model,
accelerator, format, assumption set, context and batch of its grid, computed by the library;
rewritten only when the library's source changed) and copies the script and stylesheet from
``assets/explorer/`` beside them. Only a page that holds the placeholder gets their tags, so
no other page loads them (Jupyter Book would add every ``.js`` of a source ``_static`` folder
to every page; these files are written to the output only). Loaded from _config.yml
(``sphinx.local_extensions``); tests/test_web_explorer.py checks the page in Chromium.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

#: The builder of the website. The PDF edition's ``singlehtml`` build gets no explorer: a
#: printed page cannot respond, and its static charts are there.
SITE_BUILDER = "html"
#: The placeholder's id, in the explorer page's markdown.
PLACEHOLDER = 'id="tm-web-explorer"'
#: Where the files go, under the site's _static folder.
SUBDIR = "explorer"
#: The script and stylesheet, in the repository.
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "explorer"

logger = logging.getLogger(__name__)


def add_explorer_tags(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give the page that holds the placeholder the explorer's stylesheet and scripts
    (called per page: Sphinx resets the page's files before each page)."""
    if app.builder.name != SITE_BUILDER or PLACEHOLDER not in context.get("body", ""):
        return
    app.add_css_file(f"{SUBDIR}/explorer.css")
    app.add_js_file(f"{SUBDIR}/index.js", loading_method="defer")
    app.add_js_file(f"{SUBDIR}/explorer.js", loading_method="defer")


def write_explorer_files(app: Sphinx, exception: Exception | None) -> None:
    """After a successful HTML build, write the tables and copy the script and stylesheet."""
    if exception is not None or app.builder.name != SITE_BUILDER:
        return
    from tokenmath import webexplorer

    out = Path(app.outdir) / "_static" / SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    for name in ("explorer.js", "explorer.css"):
        shutil.copyfile(ASSETS / name, out / name)
    report = webexplorer.write_site_files(out)
    if report.files:
        logger.info(
            f"web explorer: {report.files} files, {report.bytes / 1e6:.1f} MB of tables "
            f"written in {report.seconds:.1f} s"
        )
    else:
        logger.info("web explorer: tables current (library unchanged)")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", add_explorer_tags)
    app.connect("build-finished", write_explorer_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
