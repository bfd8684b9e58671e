"""Dahua firmware (catalog F17): a zip whose `PK` signatures were rewritten to `DH`.

The file is read through a view that patches the signatures back on the fly (nothing is copied),
then handed to the zip reader.
"""

from __future__ import annotations

import bisect
import io
import struct
import zipfile
import zlib
from pathlib import Path

from provenance.extract.firmware._container import Container, FactSink, Header
from provenance.extract.firmware._io import Blob, Corrupt
from provenance.extract.saferoot import SafeRoot
from provenance.extract.zip import extract_members


class Patched(io.RawIOBase):
    """Seekable read-only view of a file where the 2 bytes at each offset in `patches` read `PK`.

    Only real header positions are patched (found from the end-of-central-directory record and
    the central directory), so a `DH\x03\x04` inside compressed data is left alone.
    """

    def __init__(self, blob: Blob, patches: set[int]) -> None:
        self.blob, self.pos, self.patches = blob, 0, sorted(patches)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, off: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.blob.size}[whence]
        self.pos = max(0, base + off)
        return self.pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        start = self.pos
        stop = min(self.blob.size, start + len(b))
        if start >= stop:
            return 0
        data = bytearray(self.blob.mm[start:stop])
        lo = bisect.bisect_left(self.patches, start - 1)
        for p in self.patches[lo : bisect.bisect_left(self.patches, stop)]:
            for i, c in enumerate(b"PK"):
                if start <= p + i < stop:
                    data[p + i - start] = c
        b[: len(data)] = data
        self.pos = stop
        return len(data)


def detect(head: bytes, name: str) -> bool:
    return head.startswith(b"DH\x03\x04")


def _directory_patches(blob: Blob) -> set[int]:
    """Offset 0, the end-of-central-directory record and every central directory entry."""
    patches = {0}
    tail = max(0, blob.size - 22 - 0xFFFF)
    eocd = max(blob.mm.rfind(b"DH\x05\x06", tail), blob.mm.rfind(b"PK\x05\x06", tail))
    if eocd < 0 or not blob.has(eocd, 22):
        raise Corrupt("no end-of-central-directory record")
    patches.add(eocd)
    cd_size, cd_off = struct.unpack("<II", blob.read(eocd + 12, 8))
    if not blob.has(cd_off, cd_size):
        raise Corrupt("central directory outside the file")
    pos, end = cd_off, cd_off + cd_size
    while pos + 46 <= end and blob.read(pos + 2, 2) == b"\x01\x02":
        patches.add(pos)
        n, m, k = struct.unpack("<HHH", blob.read(pos + 28, 6))
        (local,) = struct.unpack("<I", blob.read(pos + 42, 4))
        if blob.has(local, 4) and blob.read(local, 4) in (b"DH\x03\x04", b"PK\x03\x04"):
            patches.add(local)
        pos += 46 + n + m + k
    return patches


def extract(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        patches = _directory_patches(blob)
        with zipfile.ZipFile(io.BufferedReader(Patched(blob, patches))) as zf:
            extract_members(zf, out)  # the same member handling as any zip


def header(src: Path, sink: FactSink) -> Header:
    """The first line of the `hwid` member, read through the same patched view. Only a file
    whose zip directory reads and names its hardware is Dahua's: `DH\x03\x04` is four bytes."""
    hwid = b""
    with Blob(src) as blob:
        try:
            patches = _directory_patches(blob)
            with zipfile.ZipFile(io.BufferedReader(Patched(blob, patches))) as zf:
                if "hwid" in zf.NameToInfo:
                    with zf.open("hwid") as member:
                        hwid = member.read(4096).split(b"\n", 1)[0]
        except (Corrupt, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError,
                NotImplementedError, zlib.error) as exc:
            sink.problem(f"zip: {exc}")
    sink.add("dahua.hwid", hwid, "!/hwid")
    return Header(own=bool(hwid.strip()))


FORMAT = Container("dahua-dhzip", "Dahua firmware: zip with DH signatures (catalog F17)", detect,
                   extract, identified_as="dahua-fw", header=header, vendor="dahua",
                   facts=(("`dahua.hwid`",
                           'first line of the `hwid` member of a Dahua "DH" zip',
                           "`IPC-HFW4431R-Z:...`"),))

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 120
