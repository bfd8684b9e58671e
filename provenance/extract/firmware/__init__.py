"""Boot, firmware and vendor containers, and carving of raw flash dumps (hand-written parsers)."""

from __future__ import annotations

from provenance.extract.base import Format

FORMATS: tuple[Format, ...] = ()
