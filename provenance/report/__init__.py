"""Stage 5: render a ScanResult. Renderers are pure (ScanResult -> text); the CLI writes."""

from __future__ import annotations

from collections.abc import Callable

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

__all__ = ["FORMATS"]
