"""Stage 5: render a ScanResult. Renderers are pure (ScanResult -> text); the CLI writes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from provenance.model import ScanResult
from provenance.report import cyclonedx, cyclonedx_xml, html, markdown, sarif, table

FORMATS: dict[str, Callable[[ScanResult], str]] = {
    "cyclonedx-json": cyclonedx.render,
    "cyclonedx-xml": cyclonedx_xml.render,
    "sarif": sarif.render,
    "html": html.render,
    "markdown": markdown.render,
    "table": table.render,
}

# formats written in pieces as they are rendered (large trees); the others are one string
_STREAMED: dict[str, Callable[[ScanResult], Iterable[str]]] = {
    "cyclonedx-json": cyclonedx.stream,
}


def stream(fmt: str, result: ScanResult) -> Iterable[str]:
    """The text of `FORMATS[fmt](result)`, in pieces made as the caller writes them."""
    streamed = _STREAMED.get(fmt)
    return streamed(result) if streamed is not None else (FORMATS[fmt](result),)


__all__ = ["FORMATS", "stream"]
