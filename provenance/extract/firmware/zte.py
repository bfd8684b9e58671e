"""ZTE router config.bin (catalog F19): optional header, signature block, zlib payload.

Payload types 0 and 1 are zlib blocks, concatenated into `config.xml`; types 2-4 are AES and stay
opaque (no key is ever guessed). The block headers between zlib streams vary between firmware
generations, so each next stream is found by its zlib header within a short window.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from provenance.extract.base import Encrypted
from provenance.extract.firmware._container import Container, FactSink, Header, at
from provenance.extract.firmware._io import (
    Blob,
    Corrupt,
    compressed_end,
    decompress_stream,
    write_stream,
)
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

HEADER_MAGIC = struct.pack(
    ">4I", 0x99999999, 0x44444444, 0x55555555, 0xAAAAAAAA
)
SIG_MAGIC = b"\x04\x03\x02\x01"
PAYLOAD_MAGIC = b"\x01\x02\x03\x04"
AES = {2: "zlib+AES-128-ECB", 3: "zlib+AES-256-CBC", 4: "zlib+AES-256-CBC"}
SEARCH = 64 << 10  # the payload starts within this many bytes
WINDOW = 128  # block header bytes allowed between two zlib streams
MAX_BLOCKS = 1 << 16
PAYLOAD_HEADER = 60  # magic, type, sizes, CRCs and padding: 15 big-endian words


def _zlib_at(buf: bytes, i: int) -> bool:
    return len(buf) >= i + 2 and buf[i] & 0x0F == 8 and (buf[i] << 8 | buf[i + 1]) % 31 == 0


def _find_zlib(buf: bytes) -> int:
    return next((i for i in range(len(buf) - 1) if _zlib_at(buf, i)), -1)


def detect(head: bytes, name: str) -> bool:
    if head.startswith(HEADER_MAGIC) and len(head) >= 128:
        return True
    if head.startswith(SIG_MAGIC + b"\0\0\0\0") and len(head) >= 12:
        n = struct.unpack(">I", head[8:12])[0]
        return 0 < n <= 256 and head[12 : 12 + n].isascii()
    if head.startswith(PAYLOAD_MAGIC) and len(head) >= 8:
        ptype = struct.unpack(">I", head[4:8])[0]
        return ptype in AES or (ptype in (0, 1) and _find_zlib(head[8 : 8 + WINDOW]) >= 0)
    return False


def _signature(blob: Blob) -> tuple[int, int, int]:
    """(start of the signature block search, its offset or -1, its declared model length)."""
    start = 128 if blob.read(0, min(16, blob.size)) == HEADER_MAGIC else 0
    pos = blob.mm.find(SIG_MAGIC, start, min(blob.size, start + SEARCH))
    if pos < 0 or not blob.has(pos, 12):
        return start, -1, 0
    return start, pos, blob.unpack(">I", pos + 8)[0]


def extract(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        start, pos, n = _signature(blob)
        if start and blob.unpack(">I", 16 + 4 * 2)[0] != 4:
            out.problem("unexpected ZTE header version", ProblemKind.CORRUPT)
        if pos >= 0:
            if not blob.has(pos + 12, n) or n > 4096:
                out.problem("signature block runs past the end of the file", ProblemKind.CORRUPT)
            start = pos + 12 + min(n, 4096)
        payload = blob.mm.find(PAYLOAD_MAGIC, start, min(blob.size, start + SEARCH))
        if payload < 0 or not blob.has(payload, 8):
            raise Corrupt("no payload header")
        ptype = blob.unpack(">I", payload + 4)[0]
        if ptype in AES:
            raise Encrypted(f"encrypted (AES): payload type {ptype} ({AES[ptype]})")
        if ptype not in (0, 1):
            raise Corrupt(f"unknown payload type {ptype}")
        write_stream(out, "config.xml", _blocks(blob, payload + 8, out))


def header(src: Path, sink: FactSink) -> Header:
    """The model name in the signature block. ZTE's own layout is a signature block after the
    128-byte header, or one at the start with the payload header after it; a header or a payload
    header alone is only unpacked (the payload magic is four bytes)."""
    with Blob(src) as blob:
        start, pos, n = _signature(blob)
        if pos < 0 and start == 0 and _chained_to_end(blob):
            return Header()  # a bare payload whose block lengths account for every byte
        if pos < 0 or (start == 0 and pos > 0):  # headerless: the block must come first
            return Header(own=False)
        raw = blob.read(pos + 12, max(0, min(n, 64, blob.size - pos - 12))).split(b"\0", 1)[0]
        model = raw.decode("utf-8", "replace")
        sink.add("zte.model", raw, at(pos + 12))
        end = pos + 12 + min(n, 4096)
        payload = blob.mm.find(PAYLOAD_MAGIC, end, min(blob.size, end + SEARCH))
        return Header(name=model or None, own=bool(raw) and (start > 0 or payload >= 0))


def _chained_to_end(blob: Blob) -> bool:
    """A payload header at offset 0 followed by ZTE's block chain (12-byte block headers: plain
    length, stored length, 0 on the last block) that ends exactly at the end of the file: ZTE's
    layout to the byte, where the four-byte magic alone would be a coincidence."""
    if blob.read(0, 4) != PAYLOAD_MAGIC or not blob.has(0, PAYLOAD_HEADER + 12):
        return False
    pos = PAYLOAD_HEADER
    for _ in range(MAX_BLOCKS):
        if not blob.has(pos, 12):
            return False
        plain, stored, following = blob.unpack(">3I", pos)
        end = pos + 12 + stored
        if not 0 < stored <= plain + 64 or end > blob.size:
            return False
        if following == 0:
            return end == blob.size
        pos = end
    return False


def _blocks(blob: Blob, pos: int, out: SafeRoot) -> Iterator[bytes]:
    for n in range(MAX_BLOCKS):
        i = _find_zlib(blob.read(pos, min(WINDOW, blob.size - pos)))
        if i < 0:
            if n == 0:
                raise Corrupt("no zlib stream after the payload header")
            return
        end = compressed_end(blob.mm, pos + i, blob.size, "zlib")
        if end is None:
            if n == 0:
                raise Corrupt("payload is not a valid zlib stream")
            return  # a zlib-looking header in trailing bytes: the config is complete
        yield from decompress_stream(blob.mm, pos + i, end, "zlib")
        pos = end
        out.check_time()


FORMAT = Container("zte-config",
                   "ZTE config.bin: zlib payload (AES variants opaque, catalog F19)", detect,
                   extract, header=header, vendor="zte",
                   facts=(("`zte.model`",
                           "ZTE config.bin signature block model",
                           "`ZXHN H298N`"),))

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 130
