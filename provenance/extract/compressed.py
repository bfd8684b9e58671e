"""Single-stream compression (gzip, bzip2, xz/lzma): one member, named after the input."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from provenance.extract.base import Format
from provenance.extract.saferoot import SafeRoot

_SUFFIXES = (".gz", ".bz2", ".xz", ".lzma", ".tgz", ".tbz2", ".txz")


def _member_name(src: Path) -> str:
    name = src.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            stem = name[: -len(suffix)]
            if suffix in (".tgz", ".tbz2", ".txz"):
                stem += ".tar"
            return stem or "payload"
    return name + ".out"


def _make(name: str, magic: bytes, opener: Callable[[Path], BinaryIO], doc: str) -> Format:
    def detect(head: bytes, _name: str) -> bool:
        return head.startswith(magic)

    def extract(src: Path, out: SafeRoot) -> None:
        with opener(src) as stream:
            out.write(_member_name(src), stream)

    return Format(name, doc, detect, extract)


GZIP = _make("gzip", b"\x1f\x8b", lambda p: gzip.open(p, "rb"), "gzip stream (stdlib)")
BZIP2 = _make("bzip2", b"BZh", lambda p: bz2.open(p, "rb"), "bzip2 stream (stdlib)")
XZ = _make("xz", b"\xfd7zXZ\x00", lambda p: lzma.open(p, "rb"), "xz stream (stdlib)")
