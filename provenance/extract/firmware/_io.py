"""Bounded reading helpers shared by the firmware parsers.

Every offset and length read from a header is untrusted: `Blob` refuses reads past the end of the
file instead of returning short data, and `Range` streams a checked slice into a SafeRoot so no
parser ever holds a whole member in memory.
"""

from __future__ import annotations

import io
import lzma
import math
import mmap
import os
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from provenance.extract.base import FormatProblem
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

CHUNK = 1 << 20


class Corrupt(FormatProblem):
    """The container is unusable: the walker keeps it opaque with this reason."""

    kind = ProblemKind.CORRUPT


class Blob:
    """A read-only memory map of one file with bounds-checked access."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.size = self._file.seek(0, io.SEEK_END)
        self.mm: mmap.mmap | bytes = (
            mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""
        )
        self.max_out = 1 << 30  # most a stream in it is decoded to when measured
        self.check: Callable[[], None] | None = None  # raises when its container's time is up
        self.over: list[int] = []  # offsets of streams that decoded past max_out

    @classmethod
    def of(cls, data: bytes) -> Blob:
        """The same bounded view over bytes in memory (decompressed sections and the like)."""
        blob = cls.__new__(cls)
        blob.path, blob._file, blob.size, blob.mm = Path("<memory>"), None, len(data), data
        blob.max_out, blob.check, blob.over = 1 << 30, None, []
        return blob

    def __enter__(self) -> Blob:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if isinstance(self.mm, mmap.mmap):
            self.mm.close()
        if self._file is not None:
            self._file.close()

    def has(self, off: int, n: int) -> bool:
        return off >= 0 and n >= 0 and off + n <= self.size

    def read(self, off: int, n: int) -> bytes:
        if not self.has(off, n):
            raise Corrupt(f"read of {n} bytes at {off:#x} past the end ({self.size:#x})")
        return bytes(self.mm[off : off + n])

    def unpack(self, fmt: str, off: int) -> tuple[int, ...]:
        return struct.unpack(fmt, self.read(off, struct.calcsize(fmt)))

    def range(self, off: int, n: int) -> Range:
        if not self.has(off, n):
            raise Corrupt(f"region {off:#x}+{n:#x} past the end ({self.size:#x})")
        return Range(self.mm, off, n, self._file.fileno() if self._file is not None else None)


class Range(io.RawIOBase):
    """A readable window [off, off+n) of a buffer, for SafeRoot.write.

    A file-backed window is read with pread, not through the map: every page read through a map
    stays in this process's resident set, so copying out a 500 MiB filesystem would grow it by
    500 MiB."""

    def __init__(self, buf: mmap.mmap | bytes, off: int, n: int, fd: int | None = None) -> None:
        self.buf, self.pos, self.end, self.fd = buf, off, off + n, fd

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self.end - self.pos
        size = min(size, self.end - self.pos, CHUNK)
        if self.fd is not None:
            data = os.pread(self.fd, size, self.pos)
        else:
            data = bytes(self.buf[self.pos : self.pos + size])
        self.pos += len(data)
        return data


class Chunks(io.RawIOBase):
    """A readable stream over a generator of byte chunks (decompressors, unsparse, ...)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        while not self.buf:
            nxt = next(self.chunks, None)
            if nxt is None:
                return b""
            self.buf = nxt
        if size is None or size < 0:
            size = len(self.buf)
        data, self.buf = self.buf[:size], self.buf[size:]
        return data


def put(out: SafeRoot, name: str, blob: Blob, off: int, n: int) -> None:
    """Write blob[off:off+n] as member `name`, or record why not."""
    if not blob.has(off, n):
        out.problem(f"member {off:#x}+{n:#x} runs past the end of the file",
                    ProblemKind.TRUNCATED, name)
        n = max(0, min(n, blob.size - off))
        if n == 0 or off < 0 or off >= blob.size:
            return
    out.write(name, blob.range(off, n), n)


def ascii_name(raw: bytes, fallback: str) -> str:
    """A printable file name out of a NUL-padded header field (never trusted as a path)."""
    text = raw.split(b"\x00", 1)[0].decode("ascii", "replace")
    cleaned = "".join(c if c.isalnum() or c in "._-+" else "_" for c in text).strip(".")
    return cleaned[:64] or fallback


class Namer:
    """Unique member names: a header may name two members alike."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, name: str) -> str:
        base, n = name, 1
        while name.lower() in self.seen:
            n += 1
            stem, dot, ext = base.rpartition(".")
            name = f"{stem}-{n}.{ext}" if dot and stem else f"{base}-{n}"
        self.seen.add(name.lower())
        return name


def entropy(buf: mmap.mmap | bytes, off: int, n: int, sample: int = 4 << 20) -> float:
    """Shannon entropy in bits/byte, sampled evenly in 64 KiB pieces past `sample` bytes."""
    if n <= 0:
        return 0.0
    counts: Counter[int] = Counter()
    if n <= sample:
        counts.update(bytes(buf[off : off + n]))
    else:
        piece = 1 << 16
        step = n // (sample // piece)
        for p in range(off, off + n - piece + 1, step):
            counts.update(bytes(buf[p : p + piece]))
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values())


# -- decompression to a stream, stopping at the end of the compressed data ----------------------


def decompressor(kind: str) -> object:
    if kind == "gzip":
        return zlib.decompressobj(31)
    if kind == "zlib":
        return zlib.decompressobj()
    if kind == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ)
    if kind == "lzma":
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE)
    if kind == "bzip2":
        import bz2

        return bz2.BZ2Decompressor()
    raise Corrupt(f"no decompressor for {kind}")


def _feed(d: Any, data: bytes) -> Iterator[bytes]:
    """Decompress one input chunk in output pieces of at most CHUNK bytes (bombs stay small)."""
    if isinstance(d, type(zlib.decompressobj())):
        out = d.decompress(data, CHUNK)
        if out:
            yield out
        while d.unconsumed_tail and not d.eof:
            out = d.decompress(d.unconsumed_tail, CHUNK)
            if not out:
                return
            yield out
        return
    out = d.decompress(data, CHUNK)
    if out:
        yield out
    while not d.eof and not d.needs_input:
        out = d.decompress(b"", CHUNK)
        if not out:
            return
        yield out


_ERRORS = (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError)


def decompress_stream(buf: mmap.mmap | bytes, off: int, end: int, kind: str) -> Iterator[bytes]:
    """Yield the decompressed bytes of the stream starting at `off` (Corrupt on bad data)."""
    d: Any = decompressor(kind)
    pos = off
    try:
        while pos < end and not d.eof:
            chunk = bytes(buf[pos : min(end, pos + (1 << 16))])
            pos += len(chunk)
            yield from _feed(d, chunk)
    except _ERRORS as exc:
        raise Corrupt(f"{kind} stream at {off:#x}: {exc}") from exc
    if not d.eof:
        raise Corrupt(f"{kind} stream at {off:#x} is truncated")


def compressed_end(
    buf: mmap.mmap | bytes, off: int, end: int, kind: str, max_out: int = 1 << 30,
    check: Callable[[], None] | None = None, over: list[int] | None = None,
) -> int | None:
    """Where the compressed stream at `off` ends, by decompressing and discarding (bounded in
    output, and in time when `check` is given: it raises when the container's time is up).
    None when it is no stream, or decodes past `max_out` (then `off` is added to `over`)."""
    d: Any = decompressor(kind)
    pos, produced = off, 0
    try:
        while pos < end:
            if check is not None:
                check()
            chunk = bytes(buf[pos : min(end, pos + (1 << 16))])
            for piece in _feed(d, chunk):
                produced += len(piece)
                if produced > max_out:
                    if over is not None:
                        over.append(off)
                    return None
            if d.eof:
                return pos + len(chunk) - len(d.unused_data)
            pos += len(chunk)
    except _ERRORS:
        return None
    return None


def write_stream(out: SafeRoot, name: str, chunks: Iterator[bytes]) -> None:
    stream: BinaryIO = Chunks(chunks)  # type: ignore[assignment]
    try:
        out.write(name, stream)
    except Corrupt as exc:
        out.problem(str(exc), ProblemKind.CORRUPT, name)


PADDING = (0x00, 0xFF)


def is_padding(buf: mmap.mmap | bytes, off: int, n: int) -> bool:
    """Is the region all 0x00 or all 0xFF (erased flash)?"""
    if n <= 0:
        return True
    first = buf[off]
    if first not in PADDING:
        return False
    step = 1 << 16
    fill = bytes([first]) * step
    for p in range(off, off + n, step):
        m = min(step, off + n - p)
        if buf[p : p + m] != fill[:m]:
            return False
    return True


def trailer(out: SafeRoot, blob: Blob, end: int) -> None:
    """Bytes after a container's declared end are kept, unless they are only padding."""
    if end < blob.size and not is_padding(blob.mm, end, blob.size - end):
        put(out, f"0x{end:08x}.trailer", blob, end, blob.size - end)
