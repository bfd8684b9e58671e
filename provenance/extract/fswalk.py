"""One walk for every filesystem reader: directories, files, links, specials, through a SafeRoot.

Hostile images can make a directory contain itself; the walk remembers which directories it
entered (by the reader's inode key) and bounds the path depth, so it always ends.

The walk is two halves: `entries` lists what the image holds, in order, as what to do with each
entry (read nothing but directories and inodes), and `apply` does it through the SafeRoot. `walk`
streams one into the other; an accelerator (accel.py) lists first, has a C tool write the files
the listing allows, then applies the same list, so the limits and problems are the walk's.

A reader that can open a second, independent handle on its image (`fork`) has its small files
read ahead by threads, each on its own handle: the decompressors (lzma, zlib, zstd, lz4) release
the GIL, so both cores unpack. Every entry (files, and the directories, links and refusals
between them) is applied in the walking thread in listing order, so the result does not depend
on the threads.
"""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from provenance.extract.limits import LimitExceeded, cores
from provenance.extract.saferoot import SafeRoot, chunks
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


# What to do with one entry: (op, member path, argument). FILE's and MKDIR's argument is the
# reader's node, LINK's the target, REFUSE's the reason, PROBLEM's (message, kind) with the path
# possibly None.
Entry = tuple[str, Any, Any]
MKDIR, FILE, LINK, OTHER, REFUSE, PROBLEM = "mkdir", "file", "link", "other", "refuse", "problem"
# a member an accelerator wrote already: True when `take(out, path, node)` accounted for it
Take = Callable[[SafeRoot, str, Any], bool]

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
        for chunk in chunks(stream, size):
            if not writer.write(chunk):
                return
    if size is not None and writer.size < size:
        out.problem(f"member truncated: {writer.size} of {size} bytes", ProblemKind.TRUNCATED, path)


def _apply_one(out: SafeRoot, reader: Reader, entry: Entry, take: Take | None = None) -> None:
    op, path, arg = entry
    try:
        if op == FILE:
            if take is None or not take(out, path, arg):
                size = reader.size(arg)  # before open, as the read-ahead does: same errors
                with reader.open(arg) as stream:
                    _copy(out, path, stream, size)
        elif op == MKDIR:
            out.mkdir(path)
        elif op == LINK:
            out.link(path, arg)
        elif op == OTHER:
            out.refuse(path, "device node, FIFO or socket")
        elif op == REFUSE:
            out.refuse(path, arg)
        else:
            out.problem(arg[0], arg[1], path)
    except LimitExceeded:
        raise
    except Exception as exc:  # reader errors on one member: record, keep the rest
        out.problem(f"cannot read member: {exc}", ProblemKind.CORRUPT, path)


class _ReadAhead:
    """Members read by threads in listing order, applied by the walker in that same order."""

    def __init__(self, fork: Callable[[], Callable[[Any], BinaryIO]], threads: int) -> None:
        self.fork = fork
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="fswalk")
        self.queue: deque[tuple[Entry, int | None, Future[bytes] | None]] = deque()
        self.in_flight = 0

    def _read(self, node: Any, size: int) -> bytes:
        opener = getattr(self.local, "open", None)
        if opener is None:
            opener = self.local.open = self.fork()
        with opener(node) as stream:
            return stream.read(size + 1)  # one byte more tells a stream longer than its inode

    def add(self, out: SafeRoot, reader: Reader, entry: Entry) -> None:
        op, path, node = entry
        size = None
        future = None
        if op == FILE:
            try:
                size = reader.size(node)
            except Exception as exc:  # as the serial walk records it, in its turn
                entry = (PROBLEM, path, (f"cannot read member: {exc}", ProblemKind.CORRUPT))
            else:
                if size is not None and size <= AHEAD_MAX_FILE:
                    future = self.pool.submit(self._read, node, size)
                    self.in_flight += size
        if not self.queue and future is None and op != FILE:
            _apply_one(out, reader, entry)  # nothing before it waits: no need to queue
            return
        self.queue.append((entry, size, future))
        while self.queue and (self.in_flight > AHEAD_MAX_BYTES or len(self.queue) > 256):
            self.write_next(out, reader)

    def write_next(self, out: SafeRoot, reader: Reader) -> None:
        entry, size, future = self.queue.popleft()
        _, path, node = entry
        if future is None:
            _apply_one(out, reader, entry)
            return
        self.in_flight -= size or 0
        try:
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
    apply(entries(root, reader, out), reader, out)


def apply(todo: Iterable[Entry], reader: Reader, out: SafeRoot, take: Take | None = None
          ) -> None:
    """Do each entry through `out`, in order. With `take` (an accelerator wrote most files
    already) every entry is applied in this thread; else small files are read ahead."""
    threads = ahead_threads()
    ahead = (_ReadAhead(reader.fork, threads)
             if reader.fork is not None and threads > 1 and take is None else None)
    try:
        for entry in todo:
            if ahead is not None:
                ahead.add(out, reader, entry)
            else:
                _apply_one(out, reader, entry, take)
        while ahead is not None and ahead.queue:
            ahead.write_next(out, reader)
    finally:
        if ahead is not None:
            ahead.close()


def entries(root: Any, reader: Reader, out: SafeRoot) -> Iterator[Entry]:
    """What the tree under `root` holds, in walk order, as what to do with each entry. Reads
    directories and inodes, never file data; checks the time limit at each entry."""
    reached: set[Hashable] = set()
    seen: set[Hashable] = {reader.key(root)}
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        prefix, directory = stack.pop()
        if prefix.count("/") >= MAX_PATH_DEPTH:
            yield PROBLEM, prefix, ("directory nesting too deep; branch skipped", ProblemKind.LIMIT)
            continue
        try:
            listed = list(reader.children(directory))
        except Exception as exc:  # one bad directory must not lose the rest of the image
            yield PROBLEM, prefix or "/", (f"cannot list directory: {exc}", ProblemKind.CORRUPT)
            continue
        for name, node in listed:
            if name in (".", "..", "") or "/" in name:
                if name not in (".", ".."):
                    yield REFUSE, prefix + name, "invalid directory entry name"
                continue
            path = prefix + name
            out.check_time()
            entry: Entry
            try:
                if reader.node_key is not None:
                    reached.add(reader.node_key(node))
                kind = reader.kind(node)
                if kind == "dir":
                    key = reader.key(node)
                    if key in seen:
                        entry = (PROBLEM, path, ("directory loop; not entered again",
                                                 ProblemKind.CORRUPT))
                    else:
                        seen.add(key)
                        stack.append((path + "/", node))
                        entry = (MKDIR, path, node)
                elif kind == "file":
                    entry = (FILE, path, node)
                elif kind == "link":
                    entry = (LINK, path, reader.link(node))
                else:
                    entry = (OTHER, path, None)
            except LimitExceeded:
                raise
            except Exception as exc:  # reader errors on one member: record, keep the rest
                entry = (PROBLEM, path, (f"cannot read member: {exc}", ProblemKind.CORRUPT))
            yield entry
    expected = reader.in_use() if reader.in_use is not None else None
    if expected is not None and len(reached) < expected:
        yield PROBLEM, None, (
            f"{expected - len(reached)} of {expected} nodes in use were not reached from the "
            "root (corrupt directories, or lost files)", ProblemKind.CORRUPT)
