"""Zip family (zip, jar, apk, aar, whl, ipa) with the standard library's zipfile."""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

_MAX_LINK = 4096  # PATH_MAX: a longer symlink target is no path


def detect(head: bytes, name: str) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def extract(src: Path, out: SafeRoot) -> None:
    with zipfile.ZipFile(src) as zf:
        extract_members(zf, out)


def overlapping(zf: zipfile.ZipFile) -> set[int]:
    """Indexes of the entries whose data starts inside an earlier entry's (Fifield's
    overlapping-file zip bomb: many directory entries, one compressed kernel). Each extent is
    its local header, name, extra field and compressed data, read from the local header."""
    fp = zf.fp
    if fp is None:
        return set()
    spans = []
    for index, info in enumerate(zf.infolist()):
        fp.seek(info.header_offset)
        local = fp.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            continue  # zipfile reports it when the member is opened
        name_len, extra_len = struct.unpack_from("<HH", local, 26)
        end = info.header_offset + 30 + name_len + extra_len + info.compress_size
        spans.append((info.header_offset, end, index))
    spans.sort()
    shared: set[int] = set()
    reach = -1
    for start, end, index in spans:
        if start < reach:
            shared.add(index)
        reach = max(reach, end)
    return shared


def extract_members(zf: zipfile.ZipFile, out: SafeRoot) -> None:
    """Every member through the SafeRoot: links kept as metadata, encrypted and corrupt members
    recorded as Problems while the rest goes on. (Shared with zip-based vendor containers.)"""
    shared = overlapping(zf)
    if shared:
        names = [zf.infolist()[i].filename for i in sorted(shared)[:3]]
        out.problem(f"{len(shared)} entries overlap another entry's data (an overlapping-entry "
                    f"zip bomb), refused unread: {', '.join(map(repr, names))}"
                    + (", ..." if len(shared) > 3 else ""), ProblemKind.CORRUPT)
    for index, info in enumerate(zf.infolist()):
        if index in shared:
            continue
        mode = info.external_attr >> 16
        if not info.filename:  # a NUL at the start of the name leaves nothing (is_dir would fail)
            out.problem(f"member #{index} has an empty name", ProblemKind.CORRUPT)
            continue
        if info.is_dir():
            out.mkdir(info.filename)
            continue
        if stat.S_ISLNK(mode):
            try:
                with zf.open(info) as member:  # a link's target: never more than PATH_MAX
                    target = member.read(_MAX_LINK + 1)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError,
                    RuntimeError) as exc:
                out.problem(f"corrupt member: {exc}", ProblemKind.CORRUPT, info.filename)
                continue
            if len(target) > _MAX_LINK:
                out.refuse(info.filename, f"symlink target declared {info.file_size} bytes, "
                           f"over {_MAX_LINK}; not read", ProblemKind.LIMIT)
                continue
            out.link(info.filename, target.decode("utf-8", "replace"))
            continue
        if info.flag_bits & 0x1:
            out.problem("member is encrypted", ProblemKind.ENCRYPTED, info.filename)
            continue
        try:
            with zf.open(info) as member:
                out.write(info.filename, member, info.file_size)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
            out.problem(f"corrupt member: {exc}", ProblemKind.CORRUPT, info.filename)


FORMAT = Format("zip", "ZIP family: zip, jar, apk, aar, whl, ipa (stdlib zipfile)", detect, extract,
                through_members=True)
