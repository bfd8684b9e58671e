"""Stage 5: render a ScanResult. Renderers are pure (ScanResult -> text); the CLI writes."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping

from provenance.model import ScanResult

Renderer = Callable[[ScanResult], str]


class _Registry(Mapping[str, Renderer]):
    """Format name -> renderer, each module imported when its format is first rendered: a
    command that renders nothing (a warm scan writing back remembered reports) does not pay for
    the renderers and what they import (the pipeline, through the CycloneDX writer)."""

    def __init__(self, where: dict[str, tuple[str, str]]) -> None:
        self._where = where

    def __getitem__(self, fmt: str) -> Renderer:
        module, function = self._where[fmt]
        found: Renderer = getattr(importlib.import_module(f"{__name__}.{module}"), function)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


FORMATS: Mapping[str, Renderer] = _Registry({
    "cyclonedx-json": ("cyclonedx", "render"),
    "cyclonedx-xml": ("cyclonedx_xml", "render"),
    "sarif": ("sarif", "render"),
    "html": ("html", "render"),
    "markdown": ("markdown", "render"),
    "table": ("table", "render"),
})

# formats written in pieces as they are rendered (large trees); the others are one string
_STREAMED: Mapping[str, Callable[[ScanResult], Iterable[str]]] = _Registry({
    "cyclonedx-json": ("cyclonedx", "stream"),
})


def stream(fmt: str, result: ScanResult) -> Iterable[str]:
    """The text of `FORMATS[fmt](result)`, in pieces made as the caller writes them."""
    streamed = _STREAMED.get(fmt)
    return streamed(result) if streamed is not None else (FORMATS[fmt](result),)


__all__ = ["FORMATS", "stream"]
