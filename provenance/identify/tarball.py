"""Package tarballs read at container level: npm (`package/package.json`) and Python sdists
(`<name>-<version>/PKG-INFO`). Streams at most MAX_MEMBERS members and MAX_BYTES of input."""

from __future__ import annotations

from pathlib import Path

from provenance.extract.tar import BROKEN, members, open_stream
from provenance.identify import manifest_npm, manifest_python
from provenance.identify.base import MAX_MEMBER, Identifier, Sink
from provenance.model import Facts, Problem

MAX_MEMBERS = 256
SUFFIXES = (".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar")


def detect(head: bytes, name: str) -> bool:
    return name.endswith(SUFFIXES) and (
        head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")) or head[257:262] == b"ustar"
    )


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    try:
        # extract.tar's bounded stream: it stops at the data's end (tarfile's own iterator
        # follows a base-256 size to a 2^60 offset) and decodes each member once
        with open_stream(path) as tf:
            for count, member in enumerate(members(tf)):
                if count >= MAX_MEMBERS:
                    break
                parts = member.name.lstrip("./").split("/")
                if not member.isfile() or len(parts) != 2:
                    continue
                if parts == ["package", "package.json"] or parts[1] == "PKG-INFO":
                    handle = tf.extractfile(member)
                    data = handle.read(MAX_MEMBER) if handle else b""
                    if parts[1] == "PKG-INFO":
                        return manifest_python.facts_from(data.decode("utf-8", "replace"), sink,
                                                          f"!/{member.name}", "sdist")
                    return manifest_npm.facts_from(data, sink, f"!/{member.name}")
    except (*BROKEN, ValueError) as exc:
        sink.problem(f"tar: {exc}")
    return sink.result("tar")


IDENTIFIER = Identifier("tarball", detect, read, formats=frozenset({"tar", "sdist", "npm"}))
ORDER = 90  # place in detection (identify/__init__.py): lower is tried first
