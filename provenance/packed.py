"""A remembered report as it is stored: one JSON header line (what the exit code needs), then
the report's UTF-8 text, the whole zlib-compressed. Written by `pipeline.memo`; read back by it
and by `provenance.direct`, which must not import the pipeline.

Written by ISA-L's deflate (`isal_zlib`, as the result cache's entries are): at level 1 it packs
the rootfs benchmark's 7.5 MB report in 5.5 ms where zlib took 27 ms, in the scan's serial
tail, and smaller. The entry is still a zlib stream, read back by `zlib`.
"""

from __future__ import annotations

import codecs
import json
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from isal import isal_zlib

PIECE = 1 << 20  # bytes decompressed and written at a time: an 80 MB report never exists whole


def pack(head: dict[str, Any], pieces: Iterable[str], done: list[bytes]) -> Iterator[str]:
    """`pieces` as they come; once the last has been taken, the packed entry is appended to
    `done` (a report whose writing failed half-way is never packed)."""
    packer = isal_zlib.compressobj(1)
    out = [packer.compress(json.dumps(head).encode() + b"\n")]
    for piece in pieces:
        out.append(packer.compress(piece.encode("utf-8")))
        yield piece
    out.append(packer.flush())
    done.append(b"".join(out))


def head(blob: bytes) -> dict[str, Any]:
    """The header, once the whole entry is known to decompress (a damaged one must fail here,
    not half-way through writing a report): ValueError or zlib.error otherwise."""
    pieces = _pieces(blob, PIECE)
    line, newline, _ = next(pieces).partition(b"\n")
    if not newline:
        raise ValueError("no header")
    for _ in pieces:
        pass
    found = json.loads(line)
    if not isinstance(found, dict):
        raise ValueError("header is not a mapping")
    return found


def text(blob: bytes) -> Iterator[str]:
    """The report after the header line, in pieces of up to PIECE bytes of UTF-8."""
    decode = codecs.getincrementaldecoder("utf-8")()
    header = True
    for data in _pieces(blob, PIECE):
        if header:
            data = data.partition(b"\n")[2]
            header = False
        if data:
            yield decode.decode(data)
    rest = decode.decode(b"", final=True)
    if rest:
        yield rest


def _pieces(blob: bytes, size: int) -> Iterator[bytes]:
    """The decompressed entry, `size` bytes at a time."""
    unpack = zlib.decompressobj()
    data = unpack.decompress(blob, size)
    while data:
        yield data
        data = unpack.decompress(unpack.unconsumed_tail, size) if unpack.unconsumed_tail else b""
    yield unpack.flush()
    if not unpack.eof:
        raise zlib.error("truncated entry")
