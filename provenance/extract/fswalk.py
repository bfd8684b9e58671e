"""One walk for every filesystem reader: directories, files, links, specials, through a SafeRoot.

Hostile images can make a directory contain itself; the walk remembers which directories it
entered (by the reader's inode key) and bounds the path depth, so it always ends.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from provenance.extract.limits import LimitExceeded
from provenance.extract.saferoot import CHUNK, SafeRoot

MAX_PATH_DEPTH = 256


@dataclass(frozen=True)
class Reader:
    """How to look at one filesystem's nodes (each reader library has its own API)."""

    children: Callable[[Any], Iterable[tuple[str, Any]]]
    kind: Callable[[Any], str]  # "dir" | "file" | "link" | "other"
    key: Callable[[Any], Hashable]  # identity of a directory, to detect loops
    link: Callable[[Any], str]
    open: Callable[[Any], BinaryIO]
    size: Callable[[Any], int | None]
    # how many nodes the image says are in use, to report what no directory reached
    in_use: Callable[[], int | None] | None = None
    node_key: Callable[[Any], Hashable] | None = None  # identity of any node, for that count


def _copy(out: SafeRoot, path: str, stream: BinaryIO, size: int | None) -> None:
    """Write one file; a reader that returns fewer bytes than the inode says is truncation
    (several readers return short data at the end of a cut image instead of raising)."""
    writer = out.create(path, size)
    if writer is None:
        return
    with writer:
        while chunk := stream.read(CHUNK):
            if not writer.write(chunk):
                return
    if size is not None and writer.size < size:
        out.problem(f"member truncated: {writer.size} of {size} bytes", "truncated", path)


def walk(root: Any, reader: Reader, out: SafeRoot) -> None:
    reached: set[Hashable] = set()
    _walk(root, reader, out, reached)
    expected = reader.in_use() if reader.in_use is not None else None
    if expected is not None and len(reached) < expected:
        out.problem(
            f"{expected - len(reached)} of {expected} nodes in use were not reached from the "
            "root (corrupt directories, or lost files)", "corrupt")


def _walk(root: Any, reader: Reader, out: SafeRoot, reached: set[Hashable]) -> None:
    seen: set[Hashable] = {reader.key(root)}
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        prefix, directory = stack.pop()
        if prefix.count("/") >= MAX_PATH_DEPTH:
            out.problem("directory nesting too deep; branch skipped", "limit", prefix)
            continue
        try:
            entries = list(reader.children(directory))
        except Exception as exc:  # one bad directory must not lose the rest of the image
            out.problem(f"cannot list directory: {exc}", "corrupt", prefix or "/")
            continue
        for name, node in entries:
            if name in (".", "..", "") or "/" in name:
                if name not in (".", ".."):
                    out.refuse(prefix + name, "invalid directory entry name")
                continue
            path = prefix + name
            out.check_time()
            try:
                if reader.node_key is not None:
                    reached.add(reader.node_key(node))
                kind = reader.kind(node)
                if kind == "dir":
                    key = reader.key(node)
                    if key in seen:
                        out.problem("directory loop; not entered again", "corrupt", path)
                        continue
                    seen.add(key)
                    out.mkdir(path)
                    stack.append((path + "/", node))
                elif kind == "file":
                    with reader.open(node) as stream:
                        _copy(out, path, stream, reader.size(node))
                elif kind == "link":
                    out.link(path, reader.link(node))
                else:
                    out.refuse(path, "device node, FIFO or socket")
            except LimitExceeded:
                raise
            except Exception as exc:  # reader errors on one member: record, keep the rest
                out.problem(f"cannot read member: {exc}", "corrupt", path)
