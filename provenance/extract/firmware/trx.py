"""Broadcom TRX: `HDR0`, length, CRC32, flags/version, then 3 (v1) or 4 (v2) partition offsets."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.firmware._io import Blob, Corrupt, put, trailer
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAGIC = b"HDR0"
NAMES = ("loader", "kernel", "rootfs", "binheader")


def detect(head: bytes, name: str) -> bool:
    if len(head) < 28 or not head.startswith(MAGIC):
        return False
    length, _, _, version = struct.unpack("<IIHH", head[4:16])
    return version in (1, 2) and length >= 28


def extent(head: bytes) -> int:
    return int(struct.unpack("<I", head[4:8])[0])


def extract(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        length, crc, _, version = blob.unpack("<IIHH", 4)
        nparts = 3 if version == 1 else 4
        hdr_len = 16 + 4 * nparts
        if length < hdr_len:
            raise Corrupt(f"TRX length {length} shorter than its header")
        if length > blob.size:
            out.problem(f"TRX length {length} past the end of the file", ProblemKind.TRUNCATED)
            length = blob.size
        # the TRX CRC is a plain CRC32 without the final inversion, over bytes 12..length
        elif zlib.crc32(blob.mm[12:length]) ^ 0xFFFFFFFF != crc:
            out.problem("TRX CRC mismatch", ProblemKind.CORRUPT)
        offsets = [o for o in blob.unpack(f"<{nparts}I", 16)]
        starts = sorted({o for o in offsets if hdr_len <= o < length})
        for o in offsets:
            if o and o not in starts:
                out.problem(f"partition offset {o:#x} outside the image", ProblemKind.CORRUPT)
        for i, o in enumerate(offsets):
            if o not in starts:
                continue
            nxt = next((s for s in starts if s > o), length)
            put(out, f"{i}-{NAMES[i]}.bin", blob, o, nxt - o)
        trailer(out, blob, length)


FORMAT = Format("trx", "Broadcom TRX v1/v2 (CRC checked, partitions by offset)", detect, extract,
                through_members=True)

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 30
