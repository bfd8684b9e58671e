"""Android boot images (header v0-v4) and Android sparse images (unsparsed to the raw image)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.firmware._io import Blob, Corrupt, Range, put, trailer, write_stream
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

BOOT_MAGIC = b"ANDROID!"
PAGE_SIZES = {2048, 4096, 8192, 16384, 32768, 65536, 131072}


def _pages(n: int, page: int) -> int:
    return (n + page - 1) // page * page


def boot_layout(head: bytes) -> list[tuple[str, int, int]] | None:
    """The (name, offset, size) of each section, or None if the header is not sane."""
    if len(head) < 1660 or not head.startswith(BOOT_MAGIC):
        return None
    version = struct.unpack("<I", head[40:44])[0]
    if version >= 3:
        if version > 4:
            return None
        kernel, ramdisk = struct.unpack("<II", head[8:16])
        page = 4096
        parts = [("kernel", kernel), ("ramdisk", ramdisk)]
        if version == 4:
            parts.append(("signature", struct.unpack("<I", head[1580:1584])[0]))
    else:
        kernel, _, ramdisk, _, second, _, _, page = struct.unpack("<8I", head[8:40])
        if page not in PAGE_SIZES:
            return None
        parts = [("kernel", kernel), ("ramdisk", ramdisk), ("second", second)]
        if version in (1, 2):
            parts.append(("recovery_dtbo", struct.unpack("<I", head[1632:1636])[0]))
        if version == 2:
            parts.append(("dtb", struct.unpack("<I", head[1648:1652])[0]))
    out, pos = [], page  # the header occupies the first page
    for name, size in parts:
        if size:
            out.append((name, pos, size))
        pos += _pages(size, page)
    return out


def boot_extent(head: bytes) -> int:
    layout = boot_layout(head) or []
    page = 4096 if struct.unpack("<I", head[40:44])[0] >= 3 else struct.unpack("<I", head[36:40])[0]
    return max([page, *(_pages(o + n, page) for _, o, n in layout)])


def detect_boot(head: bytes, name: str) -> bool:
    return boot_layout(head) is not None


def extract_boot(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        layout = boot_layout(blob.read(0, min(blob.size, 4096)))
        if layout is None:
            raise Corrupt("bad Android boot header")
        for name, off, size in layout:
            if not blob.has(off, size):
                out.problem(f"{name} runs past the end of the file", ProblemKind.TRUNCATED, name)
            put(out, name, blob, off, size)
        trailer(out, blob, boot_extent(blob.read(0, min(blob.size, 4096))))


BOOT = Format("android-boot", "Android boot image v0-v4: kernel, ramdisk, second, dtb",
              detect_boot, extract_boot)

# -- sparse ------------------------------------------------------------------------------------

SPARSE_MAGIC = b"\x3a\xff\x26\xed"
SPARSE = struct.Struct("<IHHHHIIII")
RAW, FILL, DONT_CARE, CRC = 0xCAC1, 0xCAC2, 0xCAC3, 0xCAC4
ZERO = bytes(1 << 20)


def sparse_header(head: bytes) -> tuple[int, int, int, int, int] | None:
    """(file_hdr_sz, chunk_hdr_sz, blk_sz, total_blks, total_chunks) if sane."""
    if len(head) < 28 or not head.startswith(SPARSE_MAGIC):
        return None
    _, major, _, fh, ch, blk, blks, chunks, _ = SPARSE.unpack(head[:28])
    if major != 1 or fh < 28 or ch < 12 or blk == 0 or blk % 4:
        return None
    return fh, ch, blk, blks, chunks


def detect_sparse(head: bytes, name: str) -> bool:
    return sparse_header(head) is not None


def _chunks(blob: Blob, out: SafeRoot) -> Iterator[bytes]:
    hdr = sparse_header(blob.read(0, 28))
    assert hdr is not None
    fh, ch, blk, blks, nchunks = hdr
    pos, written = fh, 0
    for i in range(nchunks):
        ctype, _, csz, total = blob.unpack("<HHII", pos)
        body, n = pos + ch, total - ch
        if n < 0 or not blob.has(body, n):
            raise Corrupt(f"chunk {i} runs past the end of the file")
        out_len = csz * blk
        if written + out_len > blks * blk:
            raise Corrupt(f"chunk {i} writes past the declared {blks} blocks")
        if ctype == RAW:
            if n != out_len:
                raise Corrupt(f"raw chunk {i} size mismatch")
            raw = Range(blob.mm, body, n)
            while piece := raw.read(1 << 20):
                yield piece
        elif ctype == FILL:
            if n != 4:
                raise Corrupt(f"fill chunk {i} size mismatch")
            pattern = blob.read(body, 4) * ((1 << 20) // 4)
            yield from _repeat(pattern, out_len)
        elif ctype == DONT_CARE:
            yield from _repeat(ZERO, out_len)
        elif ctype != CRC:
            raise Corrupt(f"unknown chunk type {ctype:#x}")
        if ctype != CRC:
            written += out_len
        pos = body + n
    if written < blks * blk:  # a short table means a short image: pad so offsets stay true
        yield from _repeat(ZERO, blks * blk - written)


def _repeat(pattern: bytes, n: int) -> Iterator[bytes]:
    while n > 0:
        yield pattern[: min(n, len(pattern))]
        n -= len(pattern)


def sparse_extent(blob: Blob, off: int) -> int | None:
    """End of the sparse image starting at `off`, walking only chunk headers."""
    hdr = sparse_header(blob.read(off, 28)) if blob.has(off, 28) else None
    if hdr is None:
        return None
    fh, ch, _, _, nchunks = hdr
    pos = off + fh
    for _ in range(min(nchunks, 1 << 20)):
        if not blob.has(pos, 12):
            return None
        total = blob.unpack("<I", pos + 8)[0]
        if total < ch or not blob.has(pos, total):
            return None
        pos += total
    return pos


def extract_sparse(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        if sparse_header(blob.read(0, 28)) is None:
            raise Corrupt("bad sparse header")
        blks, blk = blob.unpack("<I", 16)[0], blob.unpack("<I", 12)[0]
        if blks * blk > out.budget.limits.max_member_bytes:
            raise Corrupt(f"unsparsed size {blks * blk} over the member size limit")
        write_stream(out, "unsparsed.img", _chunks(blob, out))


SPARSE_FORMAT = Format("android-sparse", "Android sparse image, unsparsed to the raw image",
                       detect_sparse, extract_sparse, through_members=True)

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (BOOT, SPARSE_FORMAT)
ORDER = 40
