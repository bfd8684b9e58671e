"""What an identifier is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provenance.model import Facts, Problem

MAX_SYMBOLS = 4096  # exported/imported names kept per binary: enough for SDK families, bounded


@dataclass(frozen=True, slots=True)
class Identifier:
    name: str
    detect: Callable[[bytes], bool]
    read: Callable[[Path, str], tuple[Facts, tuple[Problem, ...]]]  # (file, path chain)


def lief_quiet() -> None:
    """Import LIEF lazily (it costs ~280 ms) and silence its logging on hostile input."""
    import lief

    lief.logging.disable()
