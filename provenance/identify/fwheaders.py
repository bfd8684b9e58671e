"""Firmware container headers (uImage, Huawei UPDATE.APP and HWNP, Hikvision digicap, Dahua DH
zip, ZTE config.bin): header-level facts, read by the containers' own parsers.

Nothing is parsed here. A blob is a container's when the extractor would unpack it as that
container: the first of the firmware formats, in their detection order, whose detector accepts
the head is a `Container` (extract/firmware/_container.py). Its header reader then writes the
facts; the extractor's validator and the facts can never disagree, so a look-alike (`55 AA 5A A5`
in a RAM-test fill) that the extractor refuses is not an UPDATE.APP here either.

A vendor's container adds, first, what it declares about its maker once its header validated:
`container.format` (the extractor's format name, `huawei-update-app`), `container.vendor` (the
vendor whose format it is, `huawei`) and `container.relationship` (`made-by`).
"""

from __future__ import annotations

from pathlib import Path

from provenance.extract.base import HEAD_SIZE
from provenance.extract.firmware import CONTAINERS, FORMATS
from provenance.extract.firmware._container import Container
from provenance.identify.base import MAX_FACTS, Identifier, Sink
from provenance.model import Facts, Problem

# Detection order up to the last container: a format before a container that accepts the head
# takes it (as in the walker); the carver, which accepts any binary head, comes after them all.
_ORDER = FORMATS[: max(FORMATS.index(c) for c in CONTAINERS) + 1]
KINDS = frozenset(c.facts_format for c in CONTAINERS)  # the Facts.format values read here
FALLBACK = "firmware-header"  # read called on a blob no container claims (the fuzz tests do)


def claim(head: bytes, name: str) -> Container | None:
    """The container the extractor would unpack this head as, if it is one."""
    for fmt in _ORDER:
        try:
            accepted = fmt.detect(head, name)
        except Exception:  # as in the walker: a detector that fails says "not mine"
            continue
        if accepted:
            return fmt if isinstance(fmt, Container) else None
    return None


def detect(head: bytes, name: str) -> bool:
    return claim(head, name) is not None


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    with open(path, "rb") as f:
        head = f.read(HEAD_SIZE)
    container = claim(head, path.name)
    if container is None or container.header is None:
        return sink.result(FALLBACK)
    header = Sink(where)
    found = container.header(path, header)
    if container.vendor and found.own:  # the declaration first, then what the header says
        at = f"@0x{container.offset:x}"
        sink.add("container.format", container.name, at)
        sink.add("container.vendor", container.vendor, at)
        sink.add("container.relationship", container.relationship.value, at)
    sink.facts += header.facts[: MAX_FACTS - len(sink.facts)]
    sink.problems += header.problems
    return sink.result(container.facts_format, name=found.name)


IDENTIFIER = Identifier(FALLBACK, detect, read, formats=KINDS)
ORDER = 100  # place in detection (identify/__init__.py): lower is tried first
