"""Single-stream compression: one member, named after the input; a compressed cpio archive (an
initramfs) gives the archive's members instead, as a tar.gz gives the tar's.

gzip is inflated by ISA-L (`isal`, python-isal: Intel's Intelligent Storage Acceleration
Library, wheels for every major platform; its reader is a port of the standard library's
gzip.py, so framing, multi-member streams and errors are handled alike, only an error's wording
can differ): 2.7 times as fast as zlib here, and a root filesystem holds thousands of gzipped
documents (the rootfs benchmark's 264 MiB cpio.gz: 0.38 s against 1.03 s). bzip2, xz and
lzma-alone come from the standard library. zstd uses `zstandard` (the
reference binding, manylinux wheels, streaming reader with a bounded window) and lz4 frames use
`lz4` (the reference binding, wheels). Both stream: the SafeRoot stops a bomb at its limits
without ever holding the output in memory.
"""

from __future__ import annotations

import bz2
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from isal import igzip, igzip_threaded

from provenance.extract import cpio
from provenance.extract.base import Format
from provenance.extract.saferoot import Readable, SafeRoot

_SUFFIXES = (
    ".gz", ".bz2", ".xz", ".lzma", ".zst", ".zstd", ".lz4", ".tgz", ".tbz2", ".txz", ".tzst",
)
_TAR_SHORT = (".tgz", ".tbz2", ".txz", ".tzst")


def _member_name(src: Path) -> str:
    name = src.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            stem = name[: -len(suffix)]
            if suffix in _TAR_SHORT:
                stem += ".tar"
            return stem or "payload"
    return name + ".out"


def _make(
    name: str, detect: Callable[[bytes, str], bool], opener: Callable[[Path], BinaryIO], doc: str
) -> Format:
    def extract(src: Path, out: SafeRoot) -> None:
        with opener(src) as stream:
            head = _head(stream)
            if head is not None and cpio.detect(head, ""):
                _stream_cpio(_Rewound(head, stream), out)
            elif head is not None:
                out.write(_member_name(src), _Rewound(head, stream))
        if head is None:  # unreadable from its start: the copy from a new stream says why
            with opener(src) as stream:
                out.write(_member_name(src), stream)

    return Format(name, f"{doc}; a cpio inside gives its members", detect, extract,
                  through_members=True)


def _head(stream: BinaryIO) -> bytes | None:
    """The first bytes of the stream, enough to tell a cpio archive (an initramfs: `.cpio.gz`,
    `.cpio.xz`); None when they cannot be read.

    A cpio's members are read straight from the stream, as a tar.gz is read as tar: they are
    the compressed file's members, with no archive written whole in between. Writing and
    hashing that archive first (the rootfs benchmark's 264 MiB cpio) kept the pool idle for
    the first 0.6 s of the scan, and one member over a limit got the whole archive refused
    before it was read again as a stream. The stream is opened once: a root filesystem holds
    a thousand gzipped documents, and each was inflated twice."""
    try:
        return stream.read(6)
    except Exception:  # a broken stream is not known to hold anything
        return None


class _Rewound:
    """A stream read again from its start after its first bytes were taken (`_head`). A read
    gives as many bytes as the stream's would: cpio headers are read to exact lengths."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(n)
        if n < 0:
            data, self._head = self._head + self._stream.read(), b""
            return data
        data, self._head = self._head[:n], self._head[n:]
        return data + self._stream.read(n - len(data)) if len(data) < n else data


def _stream_cpio(stream: Readable, out: SafeRoot) -> None:
    try:
        cpio.read_stream(stream, out)
    except cpio.CpioError as exc:
        out.problem(f"cpio stream: {exc}", exc.kind)


def _magic(magic: bytes) -> Callable[[bytes, str], bool]:
    return lambda head, _name: head.startswith(magic)


def _is_lzma_alone(head: bytes, name: str) -> bool:
    """The .lzma header has no magic: properties byte, dictionary size, 64-bit size.

    Accept only the parameters real encoders emit (lc+lp+pb properties below 225, a dictionary
    of 2^n or 2^n + 2^(n-1) bytes) and a size that is either unknown (all 0xFF) or plausible.
    """
    if len(head) < 13 or head[0] >= 225:
        return False
    dict_size = int.from_bytes(head[1:5], "little")
    if dict_size < 4096 or dict_size > (1 << 30):
        return False
    top = dict_size.bit_length() - 1
    if dict_size not in (1 << top, (1 << top) | (1 << (top - 1))):
        return False
    size = int.from_bytes(head[5:13], "little")
    return size == (1 << 64) - 1 or size < (1 << 40)


class _ZstdReader:
    """Frame-by-frame decoding that notices a stream cut short (zstandard's stream_reader just
    returns EOF there). A .zst may hold several frames, as `zstd` writes for large inputs.

    The decoder object returns all the output of what it is fed, and one 4-byte RLE block
    stands for 128 KiB: input is fed in FEED-byte slices, so one call yields at most
    FEED x 32 Ki bytes (64 MiB), whatever the stream (a whole 64 KiB read was 2 GiB at once)."""

    FEED = 2048

    def __init__(self, src: Path) -> None:
        import zstandard

        self._zstd = zstandard.ZstdDecompressor()
        self._raw = open(src, "rb")  # noqa: SIM115 - closed in close()
        self._obj = self._zstd.decompressobj()
        self._pending = b""
        self._at = 0  # how much of _pending was returned already
        self._tail = b""  # input after a finished frame: the next frame's start
        self._started = False
        self._done = False

    def _piece(self) -> bytes:
        """The next decoded bytes, b"" at a clean end; EOFError when cut inside a frame."""
        while True:
            chunk, self._tail = (self._tail, b"") if self._tail else (
                self._raw.read(self.FEED), b"")
            if not chunk:
                if self._started and not self._obj.eof:
                    raise EOFError("zstd stream is truncated")
                self._done = True
                return b""
            if self._obj.eof:  # the next frame starts here
                self._obj = self._zstd.decompressobj()
            self._started = True
            piece = self._obj.decompress(chunk)
            if self._obj.eof:
                self._tail = self._obj.unused_data
            if piece:
                return piece

    def read(self, n: int = -1) -> bytes:
        want = n if n > 0 else 1 << 20
        while len(self._pending) - self._at < want and not self._done:
            piece = self._piece()
            self._pending, self._at = self._pending[self._at:] + piece, 0
        out = self._pending[self._at:self._at + want]
        self._at += len(out)
        return out

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _ZstdReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_zstd(src: Path) -> BinaryIO:
    return _ZstdReader(src)  # type: ignore[return-value]


def _open_lz4(src: Path) -> BinaryIO:
    import lz4.frame

    return lz4.frame.open(src, "rb")


def decompressing(f: BinaryIO) -> BinaryIO | None:
    """`f`, from where it stands, decompressed by its magic when it is gzip, bzip2 or xz (the
    payloads of tarballs and rpms); None for anything else. `f` is left where it stood."""
    magic = f.read(6)
    f.seek(-len(magic), 1)
    if magic.startswith(b"\x1f\x8b"):
        return igzip.IGzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(f)  # type: ignore[return-value]
    if magic.startswith(b"\xfd7zXZ"):
        return lzma.LZMAFile(f)  # type: ignore[return-value]
    return None


# From this size on, a stream is inflated by a thread of its own (isal's igzip_threaded: two
# 1 MiB blocks ahead, the GIL released) while this one hashes and writes what came before: the
# rootfs benchmark's 264 MiB cpio, inflated, hashed and written, took 0.68 s, now 0.46 s.
THREADED_MIN = 8 << 20


def _open_gzip(src: Path) -> BinaryIO:
    if src.stat().st_size >= THREADED_MIN:
        return igzip_threaded.open(src, "rb", threads=1)
    return igzip.IGzipFile(src, "rb")  # type: ignore[return-value]


def _open_bzip2(src: Path) -> BinaryIO:
    return bz2.BZ2File(src, "rb")  # type: ignore[return-value]


def _open_xz(src: Path) -> BinaryIO:
    return lzma.LZMAFile(src, "rb")  # type: ignore[return-value]


def _open_lzma(src: Path) -> BinaryIO:
    stream = lzma.LZMAFile(src, "rb", format=lzma.FORMAT_ALONE)  # noqa: SIM115
    return stream  # type: ignore[return-value]


GZIP = _make("gzip", _magic(b"\x1f\x8b"), _open_gzip, "gzip stream (isal)")
BZIP2 = _make("bzip2", _magic(b"BZh"), _open_bzip2, "bzip2 stream (stdlib)")
XZ = _make("xz", _magic(b"\xfd7zXZ\x00"), _open_xz, "xz stream (stdlib)")
LZMA = _make(
    "lzma",
    _is_lzma_alone,
    _open_lzma,
    "lzma-alone stream, .lzma (stdlib)",
)
ZSTD = _make("zstd", _magic(b"\x28\xb5\x2f\xfd"), _open_zstd, "Zstandard stream (zstandard)")
LZ4 = _make("lz4", _magic(b"\x04\x22\x4d\x18"), _open_lz4, "LZ4 frame stream (lz4)")
