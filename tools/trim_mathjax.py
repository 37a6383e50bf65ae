"""Sphinx extension: remove the MathJax bundles this site never loads.

sphinx-mathjax-offline copies all of MathJax 3 (about 24 MB) into ``_static/mathjax``; the
pages load only ``tex-chtml.js``, plus components it fetches on demand from the subfolders
(TeX extensions, the menu, accessibility, the SVG output if a reader picks it in the menu).
The other ready-made combined bundles are never requested, and ``latest.js`` would fetch
MathJax from a CDN. Deleting them after the build makes the site about 15 MB smaller.
Loaded from _config.yml (``sphinx.local_extensions``); the browser tests check that math
still renders on every page.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

#: Top-level files of the MathJax distribution that no page of this book loads.
UNUSED_BUNDLES = (
    "latest.js",
    "mml-chtml.js",
    "mml-svg.js",
    "node-main.js",
    "tex-chtml-full-speech.js",
    "tex-chtml-full.js",
    "tex-mml-chtml.js",
    "tex-mml-svg.js",
    "tex-svg-full.js",
    "tex-svg.js",
)


def remove_unused_bundles(app: Sphinx, exception: Exception | None) -> None:
    """After a successful HTML build, delete the MathJax bundles the pages never load."""
    if exception is not None or app.builder.format != "html":
        return
    mathjax = Path(app.outdir) / "_static" / "mathjax"
    if not (mathjax / "tex-chtml.js").is_file():
        return
    for name in UNUSED_BUNDLES:
        (mathjax / name).unlink(missing_ok=True)


def setup(app: Sphinx) -> dict[str, bool]:
    # Priority 900: run after sphinx-mathjax-offline's own build-finished copy (500).
    app.connect("build-finished", remove_unused_bundles, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
