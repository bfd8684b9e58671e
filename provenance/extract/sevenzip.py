"""7z archives with py7zr.

py7zr is pure Python over maintained C codecs (pyppmd, pybcj, inflate64, brotli) with manylinux
wheels; libarchive-c would need the system libarchive. py7zr's WriterFactory lets every member
go through the SafeRoot instead of py7zr's own file writing, so limits hold while decoding.
"""

from __future__ import annotations

from pathlib import Path

from provenance.extract.base import Encrypted, Format
from provenance.extract.saferoot import MemberWriter, SafeRoot
from provenance.model import ProblemKind

MAGIC = b"7z\xbc\xaf\x27\x1c"


def detect(head: bytes, name: str) -> bool:
    return head.startswith(MAGIC)


def extract(src: Path, out: SafeRoot) -> None:
    import py7zr
    from py7zr.io import Py7zIO, WriterFactory

    class _Sink(Py7zIO):
        """A member py7zr writes into: the SafeRoot's writer, a small buffer for a symlink's
        target, or nowhere if refused."""

        def __init__(self, writer: MemberWriter | None, link: bytearray | None = None) -> None:
            self.writer = writer
            self.link = link
            self.n = 0

        def write(self, s: bytes | bytearray) -> int:
            self.n += len(s)
            if self.link is not None:
                self.link += s[: max(0, 4096 - len(self.link))]
            elif self.writer is not None and not self.writer.write(s):
                self.writer = None
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return self.n

        def close(self) -> None:
            if self.writer is not None:
                self.writer.close()

    links: dict[str, bytearray] = {}
    sizes: dict[str, int] = {}

    class _Factory(WriterFactory):
        def create(self, filename: str) -> Py7zIO:
            if filename in links:
                return _Sink(None, links[filename])
            return _Sink(out.create(filename, sizes.get(filename)))

    with py7zr.SevenZipFile(src, mode="r") as archive:
        if archive.needs_password():
            raise Encrypted("archive is encrypted")
        wanted = []
        for info in archive.list():
            if info.is_directory:
                out.mkdir(info.filename)
                continue
            if info.is_symlink:
                links[info.filename] = bytearray()  # the target is stored as the data
            else:
                # refused on its declared size before anything is decoded: a member left out
                # of the targets is not decompressed (unless a wanted one follows it in the
                # same solid block, where it is decoded to reach that one, never written)
                refused = out.declared_over(info.uncompressed or 0)
                if refused is not None:
                    out.problem(refused, ProblemKind.LIMIT, info.filename)
                    continue
                sizes[info.filename] = info.uncompressed
            wanted.append(info.filename)
        if wanted:
            archive.extract(targets=wanted, factory=_Factory())
    for name, target in links.items():
        out.link(name, target.decode("utf-8", "surrogateescape"))


FORMAT = Format("7z", "7z archives (py7zr)", detect, extract, through_members=True)
