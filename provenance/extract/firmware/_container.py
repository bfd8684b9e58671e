"""Firmware containers whose header identification reads too: one parser per format.

A `Container` is a `Format` (the walker unpacks it) that also reads its own header's facts for
the identify stage (`identify/fwheaders.py`). Its `detect` is the one strict validator: a blob is
unpacked as this container, and its header read as this container's, only when `detect`
accepts the head, so the two stages cannot disagree about what a blob is. The header reader
uses the same module's structures as the extractor.

A vendor's own container also declares its vendor and relationship here, beside the parser (as
a YARA rule's meta does beside its strings). Identification passes the declaration on as the
`container.*` facts of a blob whose header validated, and attribution turns those into evidence
for any vendor of the signature set (`attribute/resolve.py`). The keys its header reader writes
are declared here too (`facts`), so a new vendor container is its module (which registers itself,
see `firmware/__init__.py`), its vendor's YAML (the source it cites), and its test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from provenance.extract.base import Format
from provenance.model import ProblemKind, Relationship


class FactSink(Protocol):
    """Where a header reader writes (identify's `Sink`): `at` is "#field" or "@0xOFFSET"."""

    def add(self, key: str, value: object, at: str = "") -> None: ...

    def problem(self, message: str, kind: ProblemKind = ProblemKind.CORRUPT) -> None: ...


@dataclass(frozen=True, slots=True)
class Header:
    """What a header reader found beyond the facts it wrote."""

    name: str | None = None  # the container's own name (uImage name, ZTE model): Facts.name
    # the vendor's own structure was confirmed; false when only a loose variant of the format
    # matched (a bare ZTE payload header): such a blob is unpacked but says nothing of its maker
    own: bool = True


HeaderReader = Callable[[Path, FactSink], Header]


@dataclass(frozen=True, slots=True)
class Container(Format):
    # Facts.format when identification reads it (default: the format name)
    identified_as: str = ""
    header: HeaderReader | None = None
    # the vendor whose format this is (signatures/vendors/<id>.yml), None for a generic format
    vendor: str | None = None
    relationship: Relationship = Relationship.MADE_BY
    # the key, among its vendor's sources (signatures/vendors/<vendor>.yml), of the public
    # documentation or code its layout was taken from
    source: str | None = None
    offset: int = 0  # where the validated header starts: the location of the vendor claim
    # the fact keys its header reader writes, as rows of the fact-key registry
    # (identify/facts.py): (key cell, what it is, an example), in the table's notation
    facts: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.header is None:
            raise ValueError(f"container {self.name} needs a header reader")

    @property
    def facts_format(self) -> str:
        return self.identified_as or self.name


def at(offset: int) -> str:
    return f"@0x{offset:x}"
