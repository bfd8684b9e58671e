"""tar, plain or gzip/bzip2/xz-compressed, with the standard library's tarfile (streaming)."""

from __future__ import annotations

import lzma
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from isal import isal_zlib

from provenance.extract.base import Format
from provenance.extract.compressed import decompressing
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

_TRAILER_PROBE = 64 << 10
# GNU long-name and PAX header data that tarfile would read whole into memory: real ones hold
# a path or a few attributes. Past this the header is skipped (read through, never kept) and
# the member it describes is refused; the archive goes on with the next member.
MAX_HEADER_DATA = 1 << 20


class _Bounded(tarfile.TarInfo):
    """tarfile's TarInfo with the extended headers bounded (see MAX_HEADER_DATA)."""

    refused: str | None = None

    def _proc_gnulong(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        if self.size <= MAX_HEADER_DATA:
            return super()._proc_gnulong(tar)  # type: ignore[misc]
        return self._skip_header(tar, "GNU long name")

    def _proc_pax(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        if self.size <= MAX_HEADER_DATA:
            return super()._proc_pax(tar)  # type: ignore[misc]
        return self._skip_header(tar, "PAX header")

    def _skip_header(self, tar: tarfile.TarFile, what: str) -> tarfile.TarInfo:
        left = self._block(self.size)  # type: ignore[attr-defined]
        fileobj = tar.fileobj
        assert fileobj is not None
        while left > 0:
            chunk = fileobj.read(min(left, 1 << 20))
            if not chunk:
                raise tarfile.ReadError(f"archive truncated inside a {what}")
            left -= len(chunk)
        try:
            following = self.fromtarfile(tar)
        except tarfile.HeaderError as exc:
            raise tarfile.ReadError(str(exc)) from None
        following.offset = self.offset
        if self.type != tarfile.XGLTYPE:  # a global header describes no one member
            following.refused = (f"its {what} of {self.size} bytes is over the "
                                 f"{MAX_HEADER_DATA}-byte limit; skipped unread")
        return following


def detect(head: bytes, name: str) -> bool:
    if len(head) >= 262 and head[257:262] == b"ustar":
        return True
    lower = name.lower()
    compressed_tar = lower.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"))
    if compressed_tar and head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        return True
    # any other name (.ipk, .crate, .gem's data): look at the first decompressed block
    return _peek_ustar(head)


def _peek_ustar(head: bytes) -> bool:
    try:
        if head.startswith(b"\x1f\x8b"):
            block = zlib.decompressobj(31).decompress(head, 512)
        elif head.startswith(b"\xfd7zXZ\x00"):
            block = lzma.LZMADecompressor().decompress(head, 512)
        else:
            return False
    except (zlib.error, lzma.LZMAError, EOFError):
        return False
    return block[257:262] == b"ustar"


def _decompressed(raw: BinaryIO) -> BinaryIO:
    """The tar stream inside `raw`. Decompressed here, not by tarfile: tarfile's own stream
    keeps each decoded burst whole and re-copies it on every 10 KiB read, which is quadratic on
    a highly compressed member (a 96 MiB run of zeros in a .tar.xz never finished)."""
    stream = decompressing(raw)
    return raw if stream is None else stream


def _advance(tf: tarfile.TarFile, check_time: Callable[[], None]) -> None:
    """Read on to the next header. tarfile would seek there by reading block after block with
    no end check, forever when a header declares more data than the stream holds (2^60)."""
    fileobj = tf.fileobj
    assert fileobj is not None
    while (left := tf.offset - fileobj.tell()) > 0:
        check_time()
        if not fileobj.read(min(left, 1 << 20)):
            raise tarfile.ReadError("unexpected end of data: a member runs past the archive")


# What a broken or truncated tar stream raises while it is read
# (isal's stubs declare its error an instance, not a class)
INFLATE_ERROR: type[Exception] = isal_zlib.error  # type: ignore[assignment]
BROKEN = (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error, INFLATE_ERROR)


@contextmanager
def open_stream(src: Path) -> Iterator[tarfile.TarFile]:
    """`src` (plain, gzip, bzip2 or xz) as a streaming TarFile with bounded extended headers;
    walk it with `members`. For any reader of untrusted tarballs, not only extraction."""
    with open(src, "rb") as raw, _decompressed(raw) as stream, tarfile.open(
            fileobj=stream, mode="r|", tarinfo=_Bounded) as tf:
        yield tf


def members(tf: tarfile.TarFile, check_time: Callable[[], None] = lambda: None
            ) -> Iterator[tarfile.TarInfo]:
    """Each header of a stream from `open_stream`, in order; `tf.extractfile(member)` reads a
    member's data while it is the current one. Headers are not kept, and the stream is read on
    to the next header by this reader, which stops at the end of the data. A member whose
    extended header was too long to read has `refused` set (the reason)."""
    while (member := tf.next()) is not None:
        # tarfile keeps every header it read; a stream needs none of them
        tf.members.clear()  # type: ignore[attr-defined]
        yield member
        _advance(tf, check_time)


def extract(src: Path, out: SafeRoot) -> None:
    # "r|" streams: members are read in order, never seeking, so a bomb cannot make us
    # decompress the whole archive twice.
    with open_stream(src) as tf:
        try:
            for member in members(tf, out.check_time):
                refused = getattr(member, "refused", None)
                if refused is not None:
                    out.refuse(member.name, refused, ProblemKind.LIMIT)
                elif member.isdir():
                    out.mkdir(member.name)
                elif member.issym():
                    out.link(member.name, member.linkname)
                elif member.islnk():
                    out.link(member.name, member.linkname, hard=True)
                elif member.isfile():
                    data = tf.extractfile(member)
                    if data is not None:
                        out.write(member.name, data, member.size)
                else:
                    out.refuse(member.name, "device node or FIFO")
        except BROKEN as exc:
            out.problem(f"archive truncated or corrupt: {exc}", ProblemKind.TRUNCATED)
            return
        # tarfile ends quietly at the first bad header after the first: what follows the end
        # marker must be zero padding, or members were lost
        try:
            rest = tf.fileobj.read(_TRAILER_PROBE) if tf.fileobj is not None else b""
        except BROKEN as exc:
            out.problem(f"archive truncated or corrupt after its last member: {exc}",
                        ProblemKind.TRUNCATED)
            return
        if rest.strip(b"\0"):
            out.problem("archive stops at a corrupt header; members after it are lost",
                        ProblemKind.CORRUPT)


FORMAT = Format("tar", "tar, plain or gzip/bzip2/xz-compressed (stdlib tarfile)", detect, extract,
                through_members=True)
