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
# Names are read into memory: a long-name table or a BSD name past these is not read, and the
# members it names are refused (the archive goes on with the others).
_MAX_NAME = 4096
_MAX_TABLE = 16 << 20


class ArError(FormatProblem):
    kind = ProblemKind.CORRUPT


def detect(head: bytes, name: str) -> bool:
    return head.startswith(MAGIC)


def extract(src: Path, out: SafeRoot) -> None:
    total = src.stat().st_size
    long_names: bytes | None = b""
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
            refused = None
            if raw_name == b"//":  # GNU long-name table
                long_names = f.read(size) if size <= _MAX_TABLE else None
                if long_names is None:
                    out.problem(f"long-name table of {size} bytes is over the {_MAX_TABLE}-byte "
                                "limit; the members it names are refused", ProblemKind.LIMIT)
                name = None
            elif raw_name in (b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED"):
                name = None  # symbol tables: index, not content
            elif raw_name.startswith(b"#1/"):  # BSD: name stored before the data
                if not raw_name[3:].isdigit():
                    raise ArError("bad BSD long name length")
                n = int(raw_name[3:])
                if n > size:
                    raise ArError("BSD long name longer than its member")
                if n > _MAX_NAME:
                    name = f"#1/{n}"
                    refused = f"name of {n} bytes is over the {_MAX_NAME}-byte limit"
                else:
                    name = f.read(n).rstrip(b"\x00").decode("utf-8", "surrogateescape")
                body_size = size - n
            elif raw_name.startswith(b"/") and raw_name[1:].isdigit():
                off = int(raw_name[1:])
                if long_names is None:
                    name, refused = raw_name.decode(), "its name is in the refused long-name table"
                else:
                    if off >= len(long_names):
                        raise ArError("long name offset out of range")
                    end = long_names.find(b"\n", off)
                    name = long_names[off : end if end >= 0 else None].rstrip(b"/").decode(
                        "utf-8", "surrogateescape")
            else:
                name = raw_name.rstrip(b"/").decode("utf-8", "surrogateescape")
            if refused is not None:
                out.refuse(name or "", refused, ProblemKind.LIMIT)
            elif name is not None:
                out.write(name, _Limited(f, body_size), body_size)
            f.seek(start + size + (size & 1))  # members are 2-byte aligned


FORMAT = Format("ar", "ar archives: Debian .deb, .ipk, static libraries (hand-written)",
                detect, extract, through_members=True)
