"""Sphinx extension: figures are numbered only in numbered chapters.

With ``numfig`` on, Sphinx numbers the figures of a numbered chapter per chapter ("Figure 4.2")
but keeps one running count across every page outside the numbered part of the book, so the
explorer's figures came out as "Figure 1" to "Figure 4" and the first exercise's as "Fig. 5".
This extension takes the numbers away from figures (and captioned tables and code blocks) on
pages that have no chapter number: their captions then read without a number. A page outside
the chapters refers to its own figures with ``{ref}`the chart above <fig-name>` ``; a
``{numref}`` to such a figure fails the strict build ("no number is assigned").
Loaded from _config.yml (``sphinx.local_extensions``); tests/test_layout.py checks the pages.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment


def is_numbered(env: BuildEnvironment, docname: str) -> bool:
    """Whether ``docname`` has a chapter number (it sits in a ``numbered`` part of _toc.yml)."""
    return bool(env.toc_secnumbers.get(docname, {}).get(""))


def drop_unnumbered_figure_numbers(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Forget the figure numbers Sphinx just gave the pages that have no chapter number."""
    for docname in list(env.toc_fignumbers):
        if not is_numbered(env, docname):
            del env.toc_fignumbers[docname]
    return []


def setup(app: Sphinx) -> dict[str, Any]:
    # Sphinx assigns section and figure numbers in its own env-get-updated handler (priority
    # 500); a higher number runs after it.
    app.connect("env-get-updated", drop_unnumbered_figure_numbers, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
