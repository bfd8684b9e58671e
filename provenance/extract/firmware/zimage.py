"""Linux self-decompressing kernels: ARM zImage and x86 bzImage.

The compressed vmlinux sits somewhere after the decompressor stub; bzImage's setup header says
where (payload_offset), zImage does not, so we try each compression magic in order of offset
and keep the first that decompresses to the end of its stream.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator
from pathlib import Path

from provenance.extract.base import Format, Unsupported
from provenance.extract.firmware._io import (
    Blob,
    Corrupt,
    compressed_end,
    decompress_stream,
    write_stream,
)
from provenance.extract.saferoot import SafeRoot

ZIMAGE_MAGIC = 0x016F2818
PAYLOAD_MAGICS = (
    (b"\x1f\x8b\x08", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"BZh", "bzip2"),
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
LZ4_BLOCK = 8 << 20  # the legacy lz4 format's uncompressed block size
MAX_KERNEL = 512 << 20  # a candidate decompressing past this is not a kernel (or is a bomb)
MAX_TRIES = 64


def _arm(head: bytes) -> bool:
    return len(head) >= 0x30 and struct.unpack("<I", head[0x24:0x28])[0] == ZIMAGE_MAGIC


def _x86(head: bytes) -> bool:
    return len(head) >= 0x250 and head[0x202:0x206] == b"HdrS" and head[0x1FE:0x200] == b"\x55\xaa"


def detect(head: bytes, name: str) -> bool:
    return _arm(head) or _x86(head)


def extract(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        head = blob.read(0, min(blob.size, 4096))
        start, end = 0, blob.size
        if _x86(head):
            setup = (head[0x1F1] or 4) + 1
            version = struct.unpack("<H", head[0x206:0x208])[0]
            if version >= 0x208:
                p_off, p_len = struct.unpack("<II", head[0x248:0x250])
                pm = setup * 512
                if blob.has(pm + p_off, p_len) and p_len:
                    start, end = pm + p_off, pm + p_off + p_len
        elif _arm(head):
            z_start, z_end = struct.unpack("<II", head[0x28:0x30])
            if z_start == 0 and 0 < z_end <= blob.size:
                end = z_end
        skipped = _decompress(blob, out, start, end)
        if skipped:
            raise Unsupported(f"kernel payload is {skipped}: no decompressor for it here")


def _decompress(blob: Blob, out: SafeRoot, start: int, end: int) -> str | None:
    hits: list[tuple[int, str]] = []
    for magic, kind in PAYLOAD_MAGICS:
        pos, n = start, 0
        while n < MAX_TRIES and (pos := blob.mm.find(magic, pos, end)) >= 0:
            hits.append((pos, kind))
            pos, n = pos + 1, n + 1
    unsupported = None
    for pos, kind in sorted(hits):
        out.check_time()
        if kind in ("lz4", "zstd"):
            try:
                chunks = _lz4_legacy(blob, pos + 4, end) if kind == "lz4" else _zstd(blob, pos, end)
                first = next(chunks, None)
            except ImportError:
                unsupported = unsupported or f"{kind} payload"
                continue
            if first is None:
                continue
            write_stream(out, "vmlinux", itertools.chain([first], chunks))
            return None
        if compressed_end(blob.mm, pos, end, kind, MAX_KERNEL) is None:
            continue
        write_stream(out, "vmlinux", decompress_stream(blob.mm, pos, end, kind))
        return None
    if unsupported:
        return unsupported
    raise Corrupt("no decompressible kernel payload found")


def _lz4_legacy(blob: Blob, pos: int, end: int) -> Iterator[bytes]:
    """Legacy lz4 (what the kernel uses): u32 compressed size + block, each block <= 8 MiB."""
    import lz4.block

    first = True
    while pos + 4 <= end:
        (n,) = blob.unpack("<I", pos)
        if n == 0x184C2102:  # a new stream header: continue with its blocks
            pos += 4
            continue
        if n == 0 or n > LZ4_BLOCK + LZ4_BLOCK // 255 + 16 or pos + 4 + n > end:
            return  # the kernel appends its size after the blocks: that ends the stream
        try:
            data = lz4.block.decompress(blob.read(pos + 4, n), uncompressed_size=LZ4_BLOCK)
        except lz4.block.LZ4BlockError as exc:
            if first:
                return
            raise Corrupt(f"lz4 block at {pos:#x}: {exc}") from exc
        first = False
        yield data
        pos += 4 + n


def _zstd(blob: Blob, pos: int, end: int) -> Iterator[bytes]:
    """One zstd frame; small input pieces keep each output piece bounded (zstd RLE blocks can
    expand about 32000x), trailing bytes after the frame are ignored."""
    import zstandard

    d = zstandard.ZstdDecompressor().decompressobj()
    first = True
    try:
        while pos < end and not d.eof:
            piece = d.decompress(blob.read(pos, min(1024, end - pos)))
            pos += 1024
            if piece:
                first = False
                yield piece
    except zstandard.ZstdError as exc:
        if not first:
            raise Corrupt(f"zstd stream: {exc}") from exc


FORMAT = Format("zimage", "Linux zImage/bzImage: the compressed vmlinux inside", detect, extract)

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 60
