"""What a format handler is: a name, a detector over the first bytes, and an extractor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provenance.extract.saferoot import SafeRoot

HEAD_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    doc: str  # one line for the README's format table
    detect: Callable[[bytes, str], bool]  # (first HEAD_SIZE bytes, file name) -> is it this format?
    extract: Callable[[Path, SafeRoot], None]  # write members through the SafeRoot; raise on failure
