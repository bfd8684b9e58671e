"""Stage 2: read what a blob declares about itself, each fact tagged with where it was found.

An identifier is a (name, detect, read) triple over the blob's head, file name and path. The first
identifier whose `detect` accepts the blob reads it; then the content scanners (copyright
statements, embedded X.509 certificates, MAC addresses) add their facts where the identifier of
the format declares `content_scan` (executables), and on unrecognised blobs that are not
compressed or containers. Readers never raise on bad content: what they could
not read becomes a Problem next to what they did read.

Every fact's location is the blob's path chain plus `#field` (a structure or member path, with
`!/member` for members read inside an archive) or `@0xOFFSET` (a byte offset).

The fact keys, what they mean and an example of each are in `identify/facts.py` (`FACT_TABLE`,
also the README's "Facts read" table); a test fails when a reader emits a key not listed there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from provenance.extract.base import by_order
from provenance.identify import certs, copyright, macaddr
from provenance.identify.base import MAX_FACTS, MAX_SCAN, Identifier, Sink, mapped
from provenance.model import Artifact, Facts, Problem, ProblemKind, Stage


def registered(path: Sequence[str], package: str) -> tuple[Identifier, ...]:
    """Every reader module of this package registers itself: it declares `IDENTIFIER` and
    `ORDER` (its place in detection, lower first), and is found here as unblob finds its
    handlers. Order matters only where detections overlap (structural magics before name-based
    readers); it is explicit, and no two readers share one."""
    return tuple(m.IDENTIFIER for m in by_order(path, package, "IDENTIFIER"))


IDENTIFIERS: tuple[Identifier, ...] = registered(__path__, __name__)

# Facts.format -> whether the content scanners read a blob of that format, as its identifier
# declares; a blob no identifier accepted is looked up by the kind the extractor gave it
CONTENT_SCAN: dict[str, bool] = {fmt: i.content_scan for i in IDENTIFIERS
                                 for fmt in (i.name, *sorted(i.formats))}
SCANNED_FORMATS = frozenset(fmt for fmt, scanned in CONTENT_SCAN.items() if scanned)
# Compressed or packed heads: scanning their bytes for text finds nothing worth a fact.
PACKED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd", b"]\x00\x00", b"7z\xbc\xaf",
          b"PK\x03\x04", b"hsqs", b"sqsh", b"UBI#", b"\x85\x19", b"Rar!", b"\x89PNG", b"\xff\xd8")

__all__ = ["CONTENT_SCAN", "IDENTIFIERS", "facts_to_dict", "identify"]


def identify(artifact: Artifact, head: bytes, content: bytes | None = None,
             present: frozenset[str] | None = None) -> tuple[Facts, tuple[Problem, ...]]:
    """Facts about one blob. `head` is its first bytes (at least 4 KiB when it has them);
    `content`, when the caller read the whole blob, is what the content scanners read instead
    of opening it again; `present`, the anchors the blob holds (`identify.anchors`), when the
    YARA scan said."""
    local: Path | None = artifact.local
    if local is None:
        return Facts(format=artifact.kind), ()
    facts: Facts = Facts(format=artifact.kind)
    problems: tuple[Problem, ...] = ()
    name = artifact.name  # a property, asked of each of some 30 identifiers
    for ident in IDENTIFIERS:
        if ident.detect(head, name):
            try:
                facts, problems = ident.read(local, artifact.path)
            except MemoryError:  # the process's ceiling: the caller gives the blob up
                raise
            except Exception as exc:  # hostile input: a parser bug must not stop the scan
                problem = Problem(artifact.path, Stage.IDENTIFY, f"{ident.name}: {exc}",
                                  ProblemKind.CORRUPT)
                facts, problems = Facts(format=ident.name), (problem,)
            break
    if _scan_content(facts, artifact, head):
        sink = Sink(artifact.path)
        if facts.format not in SCANNED_FORMATS and is_text(head):
            sink.add("content.type", "text", "#head")
        try:
            with (nullcontext(content[:MAX_SCAN]) if content is not None
                  else mapped(local)) as data:
                copyright.scan(data, sink, present)
                certs.scan(data, sink, present)
                if facts.format not in SCANNED_FORMATS:  # configs and environments, not code
                    macaddr.scan(data, sink)
        except Exception as exc:  # OSError on mmap, or a scanner bug: keep what was read
            sink.problem(f"content scan: {exc}", ProblemKind.ERROR)
        if sink.facts:
            room = max(0, MAX_FACTS - len(facts.items))
            facts = dataclasses.replace(facts, items=facts.items + tuple(sink.facts[:room]))
        problems = problems + tuple(sink.problems)
    return facts, problems


def is_text(head: bytes) -> bool:
    """Text (a document, a list, a config), not a binary: no NUL and few control bytes in the
    head. UTF-16 text has NULs and reads as a binary here; its strings are still scanned."""
    if not head or b"\0" in head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))  # in C, not per byte
    return control * 100 <= len(head)


_CONTROL = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B))


def _scan_content(facts: Facts, artifact: Artifact, head: bytes) -> bool:
    declared = CONTENT_SCAN.get(facts.format)
    if declared is not None:
        return declared
    return not artifact.children and not head.startswith(PACKED)


def facts_to_dict(facts: Facts) -> dict[str, Any]:
    """A JSON-friendly rendering: declared fields, then facts grouped by key in reading order."""
    out: dict[str, Any] = {
        k: v for k, v in (("format", facts.format), ("arch", facts.arch), ("name", facts.name),
                          ("version", facts.version), ("purl", facts.purl),
                          ("supplier", facts.supplier)) if v is not None
    }
    grouped: dict[str, list[dict[str, str]]] = {}
    for fact in facts.items:
        grouped.setdefault(fact.key, []).append({"value": fact.value, "location": fact.location})
    out["facts"] = grouped
    return out
