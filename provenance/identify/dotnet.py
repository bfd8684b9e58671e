"""The namespaces a managed (.NET) PE defines and the ones it only uses, read from its CLI
metadata (ECMA-335 §II.24-25): the `#~` table stream's TypeDef rows name the types the assembly
defines, its TypeRef rows the types it uses from other assemblies. A pure function over the
file's bytes; pe.read() hands it the CLR header's file offset.

Only the first three tables are read (Module, TypeRef, TypeDef): their row layout depends on
the heap index sizes and on the row counts of a handful of other tables, all in the stream's
header, so no other table has to be understood. Every offset is checked against the buffer:
the input is untrusted.
"""

from __future__ import annotations

import mmap
import struct

Buffer = bytes | mmap.mmap  # the file, read or memory-mapped

MAX_NAMES = 256  # distinct namespaces of each kind kept per assembly
MAX_ROWS = 1 << 22  # more rows than any real assembly has: a corrupt count
MAX_READ = 1 << 16  # TypeRef and TypeDef rows read at most (the names kept are fewer)
MAX_NAME = 200

# table numbers (ECMA-335 §II.22)
MODULE, TYPEREF, TYPEDEF, FIELD, METHODDEF = 0x00, 0x01, 0x02, 0x04, 0x06
MODULEREF, TYPESPEC, ASSEMBLYREF = 0x1A, 0x1B, 0x23


class MetadataError(ValueError):
    """The metadata is not there or not readable."""


def _u16(data: Buffer, at: int) -> int:
    if at < 0 or at + 2 > len(data):
        raise MetadataError(f"read past the end at {at}")
    return int(struct.unpack_from("<H", data, at)[0])


def _u32(data: Buffer, at: int) -> int:
    if at < 0 or at + 4 > len(data):
        raise MetadataError(f"read past the end at {at}")
    return int(struct.unpack_from("<I", data, at)[0])


def _streams(data: Buffer, root: int) -> dict[str, tuple[int, int]]:
    """Stream name -> (file offset, size), from the metadata root at `root` ("BSJB")."""
    if _u32(data, root) != 0x424A5342:
        raise MetadataError("no metadata root (BSJB)")
    length = _u32(data, root + 12)
    if length > 255:
        raise MetadataError("version string too long")
    at = root + 16 + ((length + 3) & ~3)
    count = _u16(data, at + 2)
    at += 4
    out: dict[str, tuple[int, int]] = {}
    for _ in range(min(count, 16)):
        offset, size = _u32(data, at), _u32(data, at + 4)
        end = data.find(b"\0", at + 8, at + 8 + 32)
        if end < 0:
            raise MetadataError("stream name unterminated")
        name = data[at + 8 : end].decode("ascii", "replace")
        at = (end + 1 + 3) & ~3
        if root + offset + size > len(data):
            raise MetadataError(f"stream {name} past the end")
        out.setdefault(name, (root + offset, size))
    return out


def _string(data: Buffer, heap: tuple[int, int], index: int) -> str:
    start, size = heap
    if index >= size:
        raise MetadataError("string index past the heap")
    end = data.find(b"\0", start + index, start + min(size, index + MAX_NAME + 1))
    end = end if end >= 0 else start + min(size, index + MAX_NAME)
    return data[start + index : end].decode("utf-8", "replace")


def read_namespaces(data: Buffer, root: int) -> tuple[str, list[str], list[str]]:
    """(module name, namespaces defined, namespaces only referenced), from the metadata root
    at file offset `root`. Raises MetadataError on what cannot be read."""
    streams = _streams(data, root)
    tables = streams.get("#~") or streams.get("#-")
    strings = streams.get("#Strings")
    if tables is None or strings is None:
        raise MetadataError("no table or string stream")
    at = tables[0]
    heaps = data[at + 6] if at + 6 < len(data) else 0
    valid = _u32(data, at + 8) | _u32(data, at + 12) << 32
    at += 24
    rows = [0] * 64
    for table in range(64):
        if valid >> table & 1:
            rows[table] = _u32(data, at)
            if rows[table] > MAX_ROWS:
                raise MetadataError(f"table 0x{table:02x}: {rows[table]} rows")
            at += 4
    if heaps & 0x40:  # an extra 4 bytes in some edit-and-continue streams
        at += 4
    sidx = 4 if heaps & 1 else 2
    gidx = 4 if heaps & 2 else 2

    def coded(tag_bits: int, *tables_: int) -> int:
        return 2 if max(rows[t] for t in tables_) < 1 << (16 - tag_bits) else 4

    def simple(table: int) -> int:
        return 2 if rows[table] < 1 << 16 else 4

    def index(at: int, size: int) -> int:
        return _u16(data, at) if size == 2 else _u32(data, at)

    module_row = 2 + sidx + 3 * gidx
    scope = coded(2, MODULE, MODULEREF, ASSEMBLYREF, TYPEREF)
    typeref_row = scope + 2 * sidx
    extends = coded(2, TYPEDEF, TYPEREF, TYPESPEC)
    typedef_row = 4 + 2 * sidx + extends + simple(FIELD) + simple(METHODDEF)
    module = _string(data, strings, index(at + 2, sidx)) if rows[MODULE] else ""
    at += rows[MODULE] * module_row
    used: dict[str, None] = {}
    for i in range(min(rows[TYPEREF], MAX_READ)):
        row = at + i * typeref_row
        name = _string(data, strings, index(row + scope + sidx, sidx))
        if name and len(used) < MAX_NAMES:
            used[name] = None
    at += rows[TYPEREF] * typeref_row
    defined: dict[str, None] = {}
    for i in range(min(rows[TYPEDEF], MAX_READ)):
        row = at + i * typedef_row
        name = _string(data, strings, index(row + 4 + sidx, sidx))
        if name and len(defined) < MAX_NAMES:
            defined[name] = None
    return module, list(defined), [n for n in used if n not in defined]


def metadata_root(data: Buffer, cli_header: int) -> int:
    """The metadata root's RVA, from the CLI header at file offset `cli_header`."""
    return _u32(data, cli_header + 8)
