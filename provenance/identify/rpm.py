"""RPM packages: lead, signature header, then the main header's name/version/vendor tags."""

from __future__ import annotations

import struct
from pathlib import Path

from provenance.identify import manifest
from provenance.identify.base import Identifier, Sink, at
from provenance.model import Facts, Problem, ProblemKind

LEAD = b"\xed\xab\xee\xdb"
HEADER = b"\x8e\xad\xe8\x01"
MAX_INDEX = 4096
MAX_STORE = 64 << 20
TAGS = {1000: "name", 1001: "version", 1002: "release", 1003: "epoch", 1011: "vendor",
        1014: "license", 1015: "packager", 1020: "url", 1021: "os", 1022: "arch",
        1044: "sourcerpm", 1004: "summary", 1010: "distribution"}
STRING_TYPES = (6, 8, 9)  # STRING, STRING_ARRAY, I18NSTRING


def detect(head: bytes, name: str) -> bool:
    return head.startswith(LEAD)


def _header(f: object, offset: int, sink: Sink) -> tuple[dict[int, str], int]:
    """Tags of the header at `offset`; returns (tags, offset just after the header)."""
    read = f.read  # type: ignore[attr-defined]
    f.seek(offset)  # type: ignore[attr-defined]
    intro = read(16)
    if len(intro) < 16 or not intro.startswith(HEADER):
        sink.problem(f"RPM header magic missing at 0x{offset:x}", ProblemKind.CORRUPT)
        return {}, -1
    count, size = struct.unpack(">ii", intro[8:16])
    if not (0 <= count <= MAX_INDEX and 0 <= size <= MAX_STORE):
        sink.problem(f"RPM header too large ({count} entries, {size} bytes)", ProblemKind.LIMIT)
        return {}, -1
    index = read(16 * count)
    store = read(size)
    if len(index) < 16 * count or len(store) < size:
        sink.problem("RPM header truncated", ProblemKind.TRUNCATED)
    tags: dict[int, str] = {}
    for i in range(len(index) // 16):
        tag, typ, off, _ = struct.unpack_from(">iiii", index, 16 * i)
        if tag in TAGS and typ in STRING_TYPES and 0 <= off < len(store):
            end = store.find(b"\0", off)
            tags[tag] = store[off : end if end >= 0 else len(store)].decode("utf-8", "replace")
        elif tag == 1003 and typ == 4 and 0 <= off <= len(store) - 4:
            tags[tag] = str(struct.unpack_from(">i", store, off)[0])
    return tags, offset + 16 + 16 * count + size


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    with open(path, "rb") as f:
        _, after_sig = _header(f, 96, sink)
        if after_sig < 0:
            return sink.result("rpm")
        main_at = after_sig + (-after_sig % 8)  # the signature header is padded to 8 bytes
        tags, _ = _header(f, main_at, sink)
    for tag, value in sorted(tags.items()):
        key = TAGS[tag]
        if key == "packager":
            manifest.person(sink, "packager", value, at(main_at))
        else:
            fact = {"name": "name", "url": "homepage"}.get(key, key)
            sink.add(f"manifest.{fact}", value, at(main_at))
    name, version, release = tags.get(1000), tags.get(1001), tags.get(1002)
    full = f"{version}-{release}" if version and release else version
    quals = {"arch": tags[1022]} if 1022 in tags else {}
    if 1003 in tags:
        quals["epoch"] = tags[1003]
    vendor = tags.get(1011)
    return sink.result("rpm", name=name, version=full, supplier=vendor,
                       purl=manifest.purl("rpm", name, full, None, quals))


IDENTIFIER = Identifier("rpm", detect, read)
ORDER = 70  # place in detection (identify/__init__.py): lower is tried first
