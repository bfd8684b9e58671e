"""Java class files: the class's own name (`this_class`), which says whose package it is in.

A class in `com/hikvision/netsdk/` is Hikvision's code; a class elsewhere that merely refers to
that package is a client. Only the constant pool is walked, bounded by its declared count and
the file's length.
"""

from __future__ import annotations

import struct
from pathlib import Path

from provenance.identify.base import Identifier, Sink
from provenance.model import Facts, Problem

MAX_CLASS = 16 << 20
# constant-pool tag -> fixed size after the tag (1 Utf8 and 7 Class are read; 5/6 take two slots)
_SIZES = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4,
          18: 4, 19: 2, 20: 2}


def detect(head: bytes, name: str) -> bool:
    # CAFEBABE is also a universal Mach-O, whose bytes 4-7 are a small architecture count
    return (head.startswith(b"\xca\xfe\xba\xbe") and len(head) >= 10
            and 45 <= int.from_bytes(head[6:8], "big") < 100)


def this_class(data: bytes) -> str | None:
    """The class's internal name (`com/example/Foo`), or None when the pool does not parse."""
    count = struct.unpack_from(">H", data, 8)[0]
    utf8: dict[int, bytes] = {}
    classes: dict[int, int] = {}
    pos, index = 10, 1
    while index < count:
        if pos >= len(data):
            return None
        tag = data[pos]
        if tag == 1:
            if pos + 3 > len(data):
                return None
            size = struct.unpack_from(">H", data, pos + 1)[0]
            utf8[index] = data[pos + 3 : pos + 3 + size]
            pos += 3 + size
        elif tag in _SIZES:
            if tag == 7 and pos + 3 <= len(data):
                classes[index] = struct.unpack_from(">H", data, pos + 1)[0]
            pos += 1 + _SIZES[tag]
        else:
            return None
        index += 2 if tag in (5, 6) else 1
    if pos + 6 > len(data):
        return None
    own = struct.unpack_from(">H", data, pos + 2)[0]
    name = utf8.get(classes.get(own, -1))
    return name.decode("utf-8", "replace") if name else None


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    with open(path, "rb") as f:
        data = f.read(MAX_CLASS)
    name = this_class(data) if len(data) >= 10 else None
    if name is None:
        sink.problem("class file constant pool unreadable")
        return sink.result("java-class")
    sink.add("java.class", name, "#this_class")
    return sink.result("java-class", name=name.replace("/", "."))


IDENTIFIER = Identifier("java-class", detect, read)
ORDER = 30  # place in detection (identify/__init__.py): lower is tried first
