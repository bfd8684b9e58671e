"""Stage 2: read what a blob declares about itself, each fact tagged with where it was found.

An identifier is a (name, detect, read) triple over the blob's head and path. Readers never
raise on bad content: what they could not read becomes a Problem next to what they did read.
"""

from __future__ import annotations

from pathlib import Path

from provenance.identify import elf, pe
from provenance.identify.base import Identifier
from provenance.model import Artifact, Facts, Problem

IDENTIFIERS: tuple[Identifier, ...] = (elf.IDENTIFIER, pe.IDENTIFIER)

__all__ = ["IDENTIFIERS", "identify"]


def identify(artifact: Artifact, head: bytes) -> tuple[Facts, tuple[Problem, ...]]:
    """Facts about one blob. `head` is its first bytes (at least 4 KiB when it has them)."""
    local: Path | None = artifact.local
    if local is None:
        return Facts(format=artifact.kind), ()
    for ident in IDENTIFIERS:
        if ident.detect(head):
            try:
                return ident.read(local, artifact.path)
            except Exception as exc:  # hostile input: a parser bug must not stop the scan
                problem = Problem(artifact.path, "identify", f"{ident.name}: {exc}", "corrupt")
                return Facts(format=ident.name), (problem,)
    return Facts(format=artifact.kind), ()
