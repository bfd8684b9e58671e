"""romfs (Linux ROM filesystem): hand-written, no maintained PyPI reader exists.

Layout: "-rom1fs-", size, checksum, volume name; then 16-byte-aligned file headers chained by
`next` offsets, each with type bits, spec.info, size, checksum, name and data.
"""

from __future__ import annotations

import struct
from pathlib import Path

from provenance.extract.base import Format, FormatProblem
from provenance.extract.cpio import _Limited
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAGIC = b"-rom1fs-"
_HARDLINK, _DIR, _FILE, _SYMLINK = 0, 1, 2, 3


class RomfsError(FormatProblem):
    kind = ProblemKind.CORRUPT


def detect(head: bytes, name: str) -> bool:
    return head.startswith(MAGIC)


def _name_at(data: bytes, off: int) -> tuple[str, int]:
    """A NUL-terminated name padded to 16 bytes; returns it and the offset after it."""
    end = data.find(b"\x00", off)
    if end < 0:
        raise RomfsError("unterminated name")
    return data[off:end].decode("utf-8", "surrogateescape"), (end + 16) & ~15


def extract(src: Path, out: SafeRoot) -> None:
    total = src.stat().st_size
    with open(src, "rb") as f:
        head = f.read(min(total, 1 << 16))
        if len(head) < 32 or not head.startswith(MAGIC):
            raise RomfsError("no romfs header")
        _, first = _name_at(head, 16)
        visited: set[int] = set()
        stack: list[tuple[str, int]] = [("", first)]

        def header(off: int) -> tuple[int, int, int, str, int]:
            f.seek(off)
            raw = f.read(16 + 256)
            if len(raw) < 17:
                raise RomfsError(f"file header at {off} past the end")
            nxt, spec, size, _ = struct.unpack(">IIII", raw[:16])
            name, data_rel = _name_at(raw, 16)
            return nxt, spec, size, name, off + data_rel

        while stack:
            prefix, off = stack.pop()
            while off:
                if off in visited or off >= total or off % 16:
                    if off in visited:
                        out.problem("header loop; chain not followed again",
                                    ProblemKind.CORRUPT, prefix)
                    else:
                        out.problem(f"bad header offset {off}", ProblemKind.CORRUPT, prefix)
                    break
                visited.add(off)
                out.check_time()
                nxt, spec, size, name, data = header(off)
                kind = nxt & 7
                path = prefix + name
                if name in (".", ".."):
                    pass
                elif data + size > total:
                    out.problem("member runs past the end of the image", ProblemKind.TRUNCATED,
                                path)
                elif kind == _DIR:
                    out.mkdir(path)
                    stack.append((path + "/", spec))
                elif kind == _FILE:
                    f.seek(data)
                    out.write(path, _Limited(f, size), size)
                elif kind == _SYMLINK:
                    f.seek(data)
                    out.link(path, f.read(min(size, 4096)).decode("utf-8", "surrogateescape"))
                elif kind == _HARDLINK:
                    out.problem("hard link recorded, not extracted", ProblemKind.UNSUPPORTED, path)
                else:
                    out.refuse(path, "device node, FIFO or socket")
                off = nxt & ~15


FORMAT = Format("romfs", "romfs, Linux ROM filesystem (hand-written)", detect, extract,
                through_members=True)
