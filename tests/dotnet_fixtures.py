"""Minimal CLI metadata (ECMA-335 §II.24) for the .NET reader's tests: a metadata root with a
`#~` table stream (Module, TypeRef, TypeDef) and a `#Strings` heap, written from the spec's row
layouts. `wide` sets the heap-size flag for 4-byte string indexes."""

from __future__ import annotations

import struct


def metadata(typedefs: list[str], typerefs: list[str], wide: bool = False) -> bytes:
    """Metadata whose TypeDefs and TypeRefs are the given `Namespace.Name`s (a <Module> type
    first, as compilers write it). The root starts at offset 0."""
    heap = bytearray(b"\0")
    seen: dict[str, int] = {}

    def s(text: str) -> int:
        if text not in seen:
            seen[text] = len(heap)
            heap.extend(text.encode() + b"\0")
        return seen[text]

    sidx = "I" if wide else "H"
    rows = [1, len(typerefs), len(typedefs) + 1]
    tables = struct.pack("<IBBBBQQ", 0, 2, 0, 1 if wide else 0, 1, 0b111, 0)
    tables += b"".join(struct.pack("<I", n) for n in rows)
    tables += struct.pack(f"<H{sidx}HHH", 0, s("Vendor.dll"), 1, 0, 0)  # Module
    for full in typerefs:  # ResolutionScope: AssemblyRef #1 (tag 2)
        ns, _, name = full.rpartition(".")
        tables += struct.pack(f"<H{sidx}{sidx}", 1 << 2 | 2, s(name), s(ns))
    tables += struct.pack(f"<I{sidx}{sidx}HHH", 0, s("<Module>"), 0, 0, 1, 1)
    for full in typedefs:  # public class extending TypeRef #1 (tag 1)
        ns, _, name = full.rpartition(".")
        tables += struct.pack(f"<I{sidx}{sidx}HHH", 0x100001, s(name), s(ns), 1 << 2 | 1, 1, 1)
    tables += b"\0" * (-len(tables) % 4)
    heap.extend(b"\0" * (-len(heap) % 4))
    version = b"v4.0.30319\0\0"
    headers_size = 8 + 4 + 8 + 12  # "#~\0\0" and "#Strings\0\0\0\0"
    start = 16 + len(version) + 4 + headers_size
    root = struct.pack("<IHHII", 0x424A5342, 1, 1, 0, len(version)) + version
    root += struct.pack("<HH", 0, 2)
    root += struct.pack("<II", start, len(tables)) + b"#~\0\0"
    root += struct.pack("<II", start + len(tables), len(heap)) + b"#Strings\0\0\0\0"
    assert len(root) == start
    return root + tables + bytes(heap)
