"""U-Boot legacy uImage: a 64-byte big-endian header, then one image or a multi-file list."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from provenance.extract.firmware._container import Container, FactSink, Header
from provenance.extract.firmware._io import Blob, Corrupt, ascii_name, put, trailer
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAGIC = b"\x27\x05\x19\x56"
HEADER = struct.Struct(">7I4B32s")  # magic hcrc time size load ep dcrc os arch type comp name
TYPE_MULTI = 4
MAX_PARTS = 256
# ih_comp -> suffix, so the walker's detectors see a familiar name as well as familiar bytes
OS = {5: "linux", 17: "u-boot"}  # ih_os values named in facts; others stay numbers
COMP = {0: "bin", 1: "gz", 2: "bz2", 3: "lzma", 4: "lzo", 5: "lz4", 6: "zst"}


def header_ok(head: bytes) -> bool:
    """Magic plus a matching header CRC: a 4-byte magic alone collides in random data."""
    if len(head) < 64 or not head.startswith(MAGIC):
        return False
    return _hcrc(head[:64]) == struct.unpack(">I", head[4:8])[0]


def _hcrc(hdr: bytes) -> int:
    return zlib.crc32(hdr[:4] + b"\0\0\0\0" + hdr[8:64])


def extent(head: bytes) -> int:
    return 64 + HEADER.unpack(head[:64])[3]


def detect(head: bytes, name: str) -> bool:
    return len(head) >= 64 and head.startswith(MAGIC)


def extract(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        hdr = blob.read(0, 64)
        _, hcrc, _, size, _, _, dcrc, _, _, itype, comp, raw_name = HEADER.unpack(hdr)
        if _hcrc(hdr) != hcrc:
            out.problem("uImage header CRC mismatch", ProblemKind.CORRUPT)
        if not blob.has(64, size):
            out.problem(f"data size {size} runs past the end of the file", ProblemKind.TRUNCATED)
            size = blob.size - 64
        elif zlib.crc32(blob.mm[64 : 64 + size]) != dcrc:
            out.problem("uImage data CRC mismatch", ProblemKind.CORRUPT)
        label = ascii_name(raw_name, "image")
        suffix = COMP.get(comp, "bin")
        if itype != TYPE_MULTI:
            put(out, f"{label}.{suffix}", blob, 64, size)
        else:
            _multi(blob, out, size, suffix)
        trailer(out, blob, 64 + size)


def _multi(blob: Blob, out: SafeRoot, size: int, suffix: str) -> None:
    """Multi-file: u32 sizes ending with 0, then each image padded to 4 bytes."""
    sizes: list[int] = []
    pos = 64
    while True:
        if len(sizes) > MAX_PARTS or not blob.has(pos, 4):
            raise Corrupt("multi-file uImage size list is not terminated")
        (n,) = blob.unpack(">I", pos)
        pos += 4
        if n == 0:
            break
        sizes.append(n)
    end = 64 + size
    for i, n in enumerate(sizes):
        if pos + n > end:
            out.problem(f"image {i} runs past the declared data", ProblemKind.TRUNCATED,
                        f"image-{i}")
            n = max(0, end - pos)
        if n:
            put(out, f"image-{i}.{suffix}", blob, pos, n)
        pos += (n + 3) & ~3


def header(src: Path, sink: FactSink) -> Header:
    """The header's image name, OS, architecture, type and data size."""
    with Blob(src) as blob:
        _, _, _, size, _, _, _, os_id, arch, itype, _, raw_name = HEADER.unpack(blob.read(0, 64))
    name = raw_name.split(b"\0", 1)[0]
    sink.add("uimage.name", name, "#ih_name")
    sink.add("uimage.os", OS.get(os_id, str(os_id)), "#ih_os")
    sink.add("uimage.arch", str(arch), "#ih_arch")
    sink.add("uimage.type", str(itype), "#ih_type")
    sink.add("uimage.size", str(size), "#ih_size")
    return Header(name=name.decode("utf-8", "replace") or None)


FORMAT = Container("uimage", "U-Boot legacy uImage, single and multi-file (CRC checked)", detect,
                   extract, header=header, through_members=True,
                   facts=(("`uimage.name` / `.os` / `.arch` / `.type` / `.size`",
                           "U-Boot legacy image header",
                           "`Linux-4.9.37`"),))

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 10
