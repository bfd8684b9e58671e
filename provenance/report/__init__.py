"""Stage 5: render a ScanResult. Renderers are pure (ScanResult -> text); the CLI writes."""

from __future__ import annotations

from collections.abc import Callable

from provenance.model import ScanResult
from provenance.report import cyclonedx

FORMATS: dict[str, Callable[[ScanResult], str]] = {
    "cyclonedx-json": cyclonedx.render,
}

__all__ = ["FORMATS"]
