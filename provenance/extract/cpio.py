"""cpio, all four variants: newc (070701), crc (070702), odc (070707) and old binary.

Hand-written: the standard library has no cpio reader, and the format is a flat run of small
headers. Parsing streams from any binary file object, so rpm reuses it on its payload.
"""

from __future__ import annotations

import stat
from pathlib import Path

from provenance.extract.base import Format, FormatProblem
from provenance.extract.saferoot import Readable, SafeRoot
from provenance.model import ProblemKind

_TRAILER = "TRAILER!!!"
_MAX_NAME = 4096  # longer names are skipped (never held) and their member refused
_MAX_LINK = 4096


class CpioError(FormatProblem):
    kind = ProblemKind.CORRUPT


def detect(head: bytes, name: str) -> bool:
    if head[:6] in (b"070701", b"070702", b"070707"):
        return True
    return head[:2] in (b"\xc7\x71", b"\x71\xc7")  # binary magic 070707, either byte order


def _read(stream: Readable, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise CpioError("truncated archive")
    return data


def _skip(stream: Readable, n: int) -> None:
    while n > 0:
        chunk = stream.read(min(n, 1 << 20))
        if not chunk:
            raise CpioError("truncated archive")
        n -= len(chunk)


class _Limited:
    """A window of exactly `size` bytes on the stream, for SafeRoot.write."""

    def __init__(self, stream: Readable, size: int) -> None:
        self.stream = stream
        self.left = size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.stream.read(n)
        if not data:
            raise CpioError("truncated archive")
        self.left -= len(data)
        return data


def _number(field: bytes, base: int) -> int:
    """A fixed-width ASCII number; int() alone would also take signs, spaces and '_'."""
    digits = b"0123456789abcdefABCDEF"[: 10 if base == 8 else 22] if base != 8 else b"01234567"
    if not field or field.strip(digits):
        raise CpioError(f"corrupt header field {field!r}")
    return int(field, base)


def _header(stream: Readable) -> tuple[str | int, int, int, int] | None:
    """(name, mode, file size, alignment) of the next member, None at a clean end. The name is
    its size instead when it is too long to read: the member is refused, the archive goes on."""
    magic = stream.read(6)
    if not magic:
        return None
    if len(magic) < 6 and magic[:2] not in (b"\xc7\x71", b"\x71\xc7"):
        raise CpioError("truncated header")
    if magic in (b"070701", b"070702"):
        fields = _read(stream, 104)
        values = [_number(fields[i : i + 8], 16) for i in range(0, 104, 8)]
        mode, filesize, namesize = values[1], values[6], values[11]
        align = 4
        pad_base = 110
    elif magic == b"070707":
        fields = _read(stream, 70)
        mode = _number(fields[12:18], 8)
        namesize = _number(fields[53:59], 8)
        filesize = _number(fields[59:70], 8)
        align = 1
        pad_base = 76
    elif magic[:2] in (b"\xc7\x71", b"\x71\xc7"):
        little = magic[:2] == b"\xc7\x71"
        rest = magic[2:] + _read(stream, 26 - len(magic))
        words = [int.from_bytes(rest[i : i + 2], "little" if little else "big")
                 for i in range(0, 24, 2)]
        mode = words[2]
        namesize = words[9]
        # the 32-bit size is stored as two 16-bit words, most significant first
        filesize = (words[10] << 16) | words[11]
        align = 2
        pad_base = 26
    else:
        raise CpioError(f"bad magic {magic!r}")
    if namesize == 0:
        raise CpioError("empty member name")
    if namesize > _MAX_NAME:
        _skip(stream, namesize + (-(pad_base + namesize)) % align)
        return namesize, mode, filesize, align
    raw = _read(stream, namesize)
    _skip(stream, (-(pad_base + namesize)) % align)
    name = raw.rstrip(b"\x00").decode("utf-8", "surrogateescape")
    return name, mode, filesize, align


def read_stream(stream: Readable, out: SafeRoot) -> None:
    """Extract every member of a cpio stream through `out`. Raises CpioError when corrupt."""
    while (header := _header(stream)) is not None:
        name, mode, size, align = header
        if name == _TRAILER:
            return
        pad = (-size) % align
        kind = stat.S_IFMT(mode)
        if isinstance(name, int):
            out.problem(f"refused a member whose name is {name} bytes long (limit {_MAX_NAME}); "
                        "skipped unread", ProblemKind.LIMIT)
            _skip(stream, size)
        elif kind == stat.S_IFDIR:
            if name not in (".", "./"):
                out.mkdir(name)
            _skip(stream, size)
        elif kind == stat.S_IFLNK and size > _MAX_LINK:
            out.refuse(name, f"symlink target of {size} bytes (limit {_MAX_LINK}); skipped",
                       ProblemKind.LIMIT)
            _skip(stream, size)
        elif kind == stat.S_IFLNK:
            target = _read(stream, size).decode("utf-8", "surrogateescape")
            out.link(name, target)
        elif kind == stat.S_IFREG or kind == 0:
            # a hard-linked group stores the data once, on its last member; earlier ones are
            # empty and appear as empty files, which is what they hold until then
            body = _Limited(stream, size)
            out.write(name, body, size)
            _skip(stream, body.left)  # a refused member still has to be skipped
        else:
            out.refuse(name, "device node, FIFO or socket")
            _skip(stream, size)
        _skip(stream, pad)
    raise CpioError("archive ends without a trailer")


def extract(src: Path, out: SafeRoot) -> None:
    with open(src, "rb") as stream:
        read_stream(stream, out)


FORMAT = Format("cpio", "cpio: newc, crc, odc and old binary (hand-written)", detect, extract,
                through_members=True)
