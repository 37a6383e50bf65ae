"""Sphinx extension: leave the saved ipywidgets state out of the HTML pages.

When a notebook builds a widget (the cost explorer), the executed notebook carries the
widget's state, and myst-nb embeds it in the page as a JSON script for a widget manager to
pick up. This site loads no widget JavaScript (``nb_ipywidgets_js: {}``; explorers are
shown as static twins), so that JSON is dead weight: about 140 KB on each such page.
Loaded from _config.yml (``sphinx.local_extensions``); tests/test_links.py checks that no
page carries widget state.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

#: The key under which myst-nb registers the widget state of a page (myst_nb.core.render).
WIDGET_STATE_KEY = "ipywidgets_state"


def drop_widget_state(app: Sphinx, pagename: str, *_: Any) -> None:
    """Forget the page's widget state before myst-nb adds its scripts to the page."""
    page_data = getattr(app.env, "nb_metadata", {}).get(pagename, {})
    page_data.get("js_files", {}).pop(WIDGET_STATE_KEY, None)


def setup(app: Sphinx) -> dict[str, Any]:
    # myst-nb adds a page's scripts in an html-page-context handler at the default
    # priority (500); a lower number runs first.
    app.connect("html-page-context", drop_widget_state, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
