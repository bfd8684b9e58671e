"""RPM packages: lead, signature header, main header, then a compressed cpio payload.

Hand-written header walk (no maintained pure-Python reader; the `rpm` bindings need the system
library): only what is needed to find the payload and its compressor is parsed. The payload
compressor is taken from its magic, not from the header, and the cpio is read by cpio.py.
"""

from __future__ import annotations

import lzma
import struct
from pathlib import Path
from typing import BinaryIO

from provenance.extract.base import Format, FormatProblem, Unsupported
from provenance.extract.compressed import decompressing
from provenance.extract.cpio import read_stream
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

LEAD_MAGIC = b"\xed\xab\xee\xdb"
HEADER_MAGIC = b"\x8e\xad\xe8\x01"
_MAX_INDEX = 1 << 16
_MAX_STORE = 64 << 20


class RpmError(FormatProblem):
    kind = ProblemKind.CORRUPT


def detect(head: bytes, name: str) -> bool:
    return head.startswith(LEAD_MAGIC)


def _skip_header(f: BinaryIO, align: bool) -> None:
    start = f.tell()
    intro = f.read(16)
    if len(intro) < 16 or intro[:4] != HEADER_MAGIC:
        raise RpmError(f"no header structure at offset {start}")
    nindex, hsize = struct.unpack(">II", intro[8:16])
    if nindex > _MAX_INDEX or hsize > _MAX_STORE:
        raise RpmError(f"implausible header ({nindex} entries, {hsize} bytes)")
    length = 16 + 16 * nindex + hsize
    if align:
        length += (-length) % 8  # the signature header is padded to 8 bytes
    f.seek(start + length)


def _open_payload(f: BinaryIO) -> BinaryIO:
    stream = decompressing(f)
    if stream is not None:
        return stream
    magic = f.read(6)
    f.seek(-len(magic), 1)
    if magic.startswith(b"\x28\xb5\x2f\xfd"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
    if magic.startswith(b"\x5d\x00\x00"):
        return lzma.LZMAFile(f, format=lzma.FORMAT_ALONE)  # type: ignore[return-value]
    if magic.startswith(b"07070"):
        return f
    raise Unsupported(f"unknown payload compression (magic {magic.hex()})")


def extract(src: Path, out: SafeRoot) -> None:
    with open(src, "rb") as f:
        if f.read(96)[:4] != LEAD_MAGIC:
            raise RpmError("no RPM lead")
        _skip_header(f, align=True)  # signature
        _skip_header(f, align=False)  # main header
        with _open_payload(f) as payload:
            read_stream(payload, out)


FORMAT = Format("rpm", "RPM packages: header and cpio payload, any compression (hand-written)",
                detect, extract)
