"""Unix ar archives, which is what a Debian .deb (and a modern .ipk) is.

Hand-written: the standard library has no ar reader and the format is 60-byte headers. GNU
(`/` table, `//` long names) and BSD (`#1/len`) long names are read. The control.tar.* and
data.tar.* members of a package open recursively as tar.
"""

from __future__ import annotations

from pathlib import Path

from provenance.extract.base import Format, FormatProblem
from provenance.extract.cpio import _Limited
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAGIC = b"!<arch>\n"


class ArError(FormatProblem):
    kind = ProblemKind.CORRUPT


def detect(head: bytes, name: str) -> bool:
    return head.startswith(MAGIC)


def extract(src: Path, out: SafeRoot) -> None:
    total = src.stat().st_size
    long_names = b""
    with open(src, "rb") as f:
        f.seek(len(MAGIC))
        while True:
            header = f.read(60)
            if not header:
                return
            if len(header) < 60 or header[58:60] != b"`\n":
                raise ArError(f"bad member header at offset {f.tell() - len(header)}")
            raw_name = header[:16].rstrip(b" ")
            try:
                size = int(header[48:58].strip() or b"0")
            except ValueError as exc:
                raise ArError("bad member size") from exc
            start = f.tell()
            if size < 0 or start + size > total:
                raise ArError(f"member {raw_name!r} runs past the end of the archive")
            body_size = size
            if raw_name == b"//":  # GNU long-name table
                long_names = f.read(size)
                name = None
            elif raw_name in (b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED"):
                name = None  # symbol tables: index, not content
            elif raw_name.startswith(b"#1/"):  # BSD: name stored before the data
                n = int(raw_name[3:])
                if n > size:
                    raise ArError("BSD long name longer than its member")
                name = f.read(n).rstrip(b"\x00").decode("utf-8", "surrogateescape")
                body_size = size - n
            elif raw_name.startswith(b"/") and raw_name[1:].isdigit():
                off = int(raw_name[1:])
                end = long_names.find(b"\n", off)
                if off >= len(long_names):
                    raise ArError("long name offset out of range")
                name = long_names[off : end if end >= 0 else None].rstrip(b"/").decode(
                    "utf-8", "surrogateescape")
            else:
                name = raw_name.rstrip(b"/").decode("utf-8", "surrogateescape")
            if name is not None:
                out.write(name, _Limited(f, body_size), body_size)
            f.seek(start + size + (size & 1))  # members are 2-byte aligned


FORMAT = Format("ar", "ar archives: Debian .deb, .ipk, static libraries (hand-written)",
                detect, extract)
