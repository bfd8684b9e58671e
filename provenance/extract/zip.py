"""Zip family (zip, jar, apk, aar, whl, ipa) with the standard library's zipfile."""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind


def detect(head: bytes, name: str) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def extract(src: Path, out: SafeRoot) -> None:
    with zipfile.ZipFile(src) as zf:
        extract_members(zf, out)


def extract_members(zf: zipfile.ZipFile, out: SafeRoot) -> None:
    """Every member through the SafeRoot: links kept as metadata, encrypted and corrupt members
    recorded as Problems while the rest goes on. (Shared with zip-based vendor containers.)"""
    for index, info in enumerate(zf.infolist()):
        mode = info.external_attr >> 16
        if not info.filename:  # a NUL at the start of the name leaves nothing (is_dir would fail)
            out.problem(f"member #{index} has an empty name", ProblemKind.CORRUPT)
            continue
        if info.is_dir():
            out.mkdir(info.filename)
            continue
        if stat.S_ISLNK(mode):
            out.link(info.filename, zf.read(info)[:4096].decode("utf-8", "replace"))
            continue
        if info.flag_bits & 0x1:
            out.problem("member is encrypted", ProblemKind.ENCRYPTED, info.filename)
            continue
        try:
            with zf.open(info) as member:
                out.write(info.filename, member, info.file_size)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
            out.problem(f"corrupt member: {exc}", ProblemKind.CORRUPT, info.filename)


FORMAT = Format("zip", "ZIP family: zip, jar, apk, aar, whl, ipa (stdlib zipfile)", detect, extract)
