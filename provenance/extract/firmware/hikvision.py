"""Hikvision digicap.dav / .mav (catalog F14): XOR-obfuscated header, then a file table.

Only the header (and its file table) is obfuscated; the files themselves are stored as is.
Tools disagree on the order of offset and size in a table entry, so both are tried and the one
whose entries all fit inside the file wins.
"""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

from provenance.extract.firmware._container import Container, FactSink, Header, at
from provenance.extract.firmware._io import Blob, Corrupt, Namer, ascii_name, put
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

KEY = bytes.fromhex("BACDBCFED6CADDD3BAB9A3ABBFCBB5BE")
MAGIC = b"SWKH"
TABLE = 0x40
ENTRY = 44  # 32-byte name + three u32
MAX_FILES = 256
MAX_HEADER = TABLE + MAX_FILES * ENTRY


def deobfuscate(data: bytes) -> bytes:
    return bytes(b ^ KEY[(i + (i >> 4)) & 0xF] for i, b in enumerate(data))


obfuscate = deobfuscate  # XOR is its own inverse (the test fixture uses this name)
_OBFUSCATED_MAGIC = obfuscate(MAGIC)


def _header(head: bytes) -> tuple[int, int] | None:
    """(header length, file count) from the de-obfuscated fixed header, if sane."""
    if len(head) < TABLE or head[:4] != _OBFUSCATED_MAGIC:  # every blob is asked: bytes first
        return None
    plain = deobfuscate(head[:16])
    hlen, count = struct.unpack("<II", plain[8:16])
    if not 0 < count <= MAX_FILES or not TABLE + count * ENTRY <= hlen <= MAX_HEADER + 4096:
        return None
    return hlen, count


def detect(head: bytes, name: str) -> bool:
    return _header(head) is not None


def extract(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        hdr = _header(blob.read(0, min(blob.size, TABLE)))
        if hdr is None:
            raise Corrupt("bad digicap header")
        hlen, count = hdr
        plain = deobfuscate(blob.read(0, TABLE + count * ENTRY))
        entries: list[tuple[bytes, int, int]] = [
            (plain[p : p + 32], *struct.unpack("<II", plain[p + 32 : p + 40]))
            for p in range(TABLE, TABLE + count * ENTRY, ENTRY)
        ]

        order = _order(entries, hlen, blob.size)
        if order is None:
            out.problem("file table entries do not fit the file; kept those that do",
                        ProblemKind.CORRUPT)
            order = 0
        names = Namer()
        for raw, a, b in entries:
            off, size = (a, b) if order == 0 else (b, a)
            label = names(ascii_name(raw, "file"))
            if not blob.has(off, size) or off < hlen:
                out.problem(f"entry {off:#x}+{size:#x} outside the file", ProblemKind.CORRUPT,
                            label)
                continue
            put(out, label, blob, off, size)


def _order(entries: list[tuple[bytes, int, int]], hlen: int, size: int) -> int | None:
    """0 if entries read (offset, size), 1 if (size, offset): the one whose regions all lie
    after the header without overlapping; when both do, the one whose data starts right there."""
    ok = []
    for order in (0, 1):
        spans = sorted((a, b) if order == 0 else (b, a) for _, a, b in entries)
        if all(off >= hlen and off + n <= size for off, n in spans) and all(
            a + n <= b for (a, n), (b, _) in itertools.pairwise(spans)
        ):
            ok.append((spans[0][0] != hlen, order))
    return min(ok)[1] if ok else None


def header(src: Path, sink: FactSink) -> Header:
    """The de-obfuscated fixed header (`detect` accepted it): device class, OEM code, language
    and file count (catalog F14: magic, checksum, header length, file count, language, device
    class, OEM code)."""
    with Blob(src) as blob:
        plain = deobfuscate(blob.read(0, 28))
    magic, _, _, files, language, device_class, oem = struct.unpack_from("<4sIIIIII", plain)
    sink.add("digicap.device_class", f"0x{device_class:x}", at(0x14))
    sink.add("digicap.oem_code", str(oem), at(0x18))
    sink.add("digicap.language", str(language), at(0x10))
    sink.add("digicap.file_count", str(files), at(0xC))
    sink.add("digicap.magic", magic, at(0))
    return Header()


FORMAT = Container("hikvision-dav", "Hikvision digicap.dav: de-obfuscated header and file table "
                   "(catalog F14)", detect, extract, identified_as="digicap", header=header,
                   vendor="hikvision",
                   facts=(("`digicap.magic` / `.language` / `.device_class` / `.oem_code` / "
                           "`.file_count`",
                           "Hikvision digicap header (XOR-decoded)",
                           "`0x2f`"),))

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 110
