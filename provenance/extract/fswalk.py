"""One walk for every filesystem reader: directories, files, links, specials, through a SafeRoot.

Hostile images can make a directory contain itself; the walk remembers which directories it
entered (by the reader's inode key) and bounds the path depth, so it always ends.

A reader that can open a second, independent handle on its image (`fork`) has its small files
read ahead by threads, each on its own handle: the decompressors (lzma, zlib, zstd, lz4) release
the GIL, so both cores unpack. Writes, limits and problems stay in the walking thread, in the
same order as a serial walk, so the result does not depend on the threads.
"""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from provenance.extract.limits import LimitExceeded, cores
from provenance.extract.saferoot import CHUNK, SafeRoot
from provenance.model import ProblemKind

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
    # a new, independent `open` (own file handle and caches) for a read-ahead thread
    fork: Callable[[], Callable[[Any], BinaryIO]] | None = None


# Read-ahead bounds: files up to this size are read whole by a thread; the bytes in flight are
# capped (memory stays flat whatever the image holds); larger files stream in the walker.
AHEAD_MAX_FILE = 4 << 20
AHEAD_MAX_BYTES = 16 << 20


def ahead_threads() -> int:
    return cores()


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
        out.problem(f"member truncated: {writer.size} of {size} bytes", ProblemKind.TRUNCATED, path)


class _ReadAhead:
    """Members read by threads in walk order, written by the walker in that same order."""

    def __init__(self, fork: Callable[[], Callable[[Any], BinaryIO]], threads: int) -> None:
        self.fork = fork
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="fswalk")
        self.queue: deque[tuple[str, Any, int | None, Future[bytes] | None]] = deque()
        self.in_flight = 0

    def _read(self, node: Any, size: int) -> bytes:
        opener = getattr(self.local, "open", None)
        if opener is None:
            opener = self.local.open = self.fork()
        with opener(node) as stream:
            return stream.read(size + 1)  # one byte more tells a stream longer than its inode

    def add(self, out: SafeRoot, reader: Reader, path: str, node: Any) -> None:
        size = reader.size(node)
        future = None
        if size is not None and size <= AHEAD_MAX_FILE:
            future = self.pool.submit(self._read, node, size)
            self.in_flight += size
        self.queue.append((path, node, size, future))
        while self.queue and (self.in_flight > AHEAD_MAX_BYTES or len(self.queue) > 256):
            self.write_next(out, reader)

    def write_next(self, out: SafeRoot, reader: Reader) -> None:
        path, node, size, future = self.queue.popleft()
        try:
            if future is None:
                with reader.open(node) as stream:
                    _copy(out, path, stream, size)
                return
            self.in_flight -= size or 0
            try:
                data: bytes | None = future.result()
            except Exception:
                data = None
            if data is None or (size is not None and len(data) > size):
                # a failed read, or longer than it says: the serial path, for the same
                # partial file and the same problem as a walk without threads
                with reader.open(node) as stream:
                    _copy(out, path, stream, size)
            else:
                _copy(out, path, io.BytesIO(data), size)
        except LimitExceeded:
            raise
        except Exception as exc:  # reader errors on one member: record, keep the rest
            out.problem(f"cannot read member: {exc}", ProblemKind.CORRUPT, path)

    def close(self) -> None:
        for *_, future in self.queue:
            if future is not None:
                future.cancel()
        self.pool.shutdown(wait=True)


def walk(root: Any, reader: Reader, out: SafeRoot) -> None:
    """Write the tree under `root` into `out`, with one read-ahead thread per core when the
    reader can fork (one core: everything in this thread)."""
    reached: set[Hashable] = set()
    threads = ahead_threads()
    ahead = _ReadAhead(reader.fork, threads) if reader.fork is not None and threads > 1 else None
    try:
        _walk(root, reader, out, reached, ahead)
        while ahead is not None and ahead.queue:
            ahead.write_next(out, reader)
    finally:
        if ahead is not None:
            ahead.close()
    expected = reader.in_use() if reader.in_use is not None else None
    if expected is not None and len(reached) < expected:
        out.problem(
            f"{expected - len(reached)} of {expected} nodes in use were not reached from the "
            "root (corrupt directories, or lost files)", ProblemKind.CORRUPT)


def _walk(root: Any, reader: Reader, out: SafeRoot, reached: set[Hashable],
          ahead: _ReadAhead | None) -> None:
    seen: set[Hashable] = {reader.key(root)}
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        prefix, directory = stack.pop()
        if prefix.count("/") >= MAX_PATH_DEPTH:
            out.problem("directory nesting too deep; branch skipped", ProblemKind.LIMIT, prefix)
            continue
        try:
            entries = list(reader.children(directory))
        except Exception as exc:  # one bad directory must not lose the rest of the image
            out.problem(f"cannot list directory: {exc}", ProblemKind.CORRUPT, prefix or "/")
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
                        out.problem("directory loop; not entered again", ProblemKind.CORRUPT, path)
                        continue
                    seen.add(key)
                    out.mkdir(path)
                    stack.append((path + "/", node))
                elif kind == "file" and ahead is not None:
                    ahead.add(out, reader, path, node)
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
                out.problem(f"cannot read member: {exc}", ProblemKind.CORRUPT, path)
