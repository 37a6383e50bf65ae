"""Sphinx extension for the PDF build: let ``singlehtml`` render every node ``html`` renders.

Sphinx looks up node visitors by builder name and falls back to the builder's format
(``html``) only when no extension registered a single handler under the builder's own name.
sphinx-exercise registers its nodes for ``singlehtml`` too, so that fallback stops and the
``singlehtml`` build fails on the first node that other extensions registered for ``html`` only
(sphinx-design's dropdowns: "unknown node type: dropdown_main"). This copies the ``html``
handlers that ``singlehtml`` lacks when the builder starts. ``tools/pdf_edition.py`` adds it to
the PDF build's configuration; the site's build does not load it.
"""

from __future__ import annotations

from typing import Any


def share_html_handlers(app: Any) -> None:
    """Give ``singlehtml`` every ``html`` node handler it has none of its own for."""
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", share_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
