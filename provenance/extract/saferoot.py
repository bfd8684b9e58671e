"""The one gate every extracted byte goes through (DESIGN §6).

No path may leave the root: absolute paths, `..`, links pointing out, device nodes and FIFOs are
refused and recorded as Problems. Symbolic and hard links are never created on disk; they are kept
as metadata. Sizes, counts, ratio and time are checked while bytes are copied, so a bomb stops at
the limit instead of after filling the disk.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import posixpath
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from provenance.extract.limits import Budget, LimitExceeded
from provenance.model import Problem, ProblemKind, Stage

CHUNK = 1 << 20
# Aligned blocks of zeros this long are not written but skipped (a hole): a bomb of zeros, an
# erased partition or a sparse image costs no disk, and reading it back costs no disk I/O.
# The limits still count them: a member is as large as it says, holes or not.
HOLE = 64 << 10
_ZEROS = bytes(HOLE)
# What format detection reads of a blob. Enough for every magic at a small offset (the ext
# superblock's is at 0x438); formats whose marker lies further (ISO 9660 at 0x8001) look
# again with `confirm`.
HEAD_SIZE = 4096
# Told of each member written whole: (member, file, SHA-256, size, first HEAD_SIZE bytes)
Finished = Callable[[str, Path, str, int, bytes], None]


_last_input: tuple[tuple[int, ...], tuple[str, int, bytes]] | None = None


def hash_input(path: Path) -> tuple[str, int, bytes]:
    """`hash_file` of a scan's input, remembered while the file is unchanged (same device,
    inode, size, modification and change times): the pipeline hashes it for the whole-scan
    cache key, then extraction for the root artifact, and a 1 GiB image is read once, not
    twice. One input is remembered, until `forget_input` (the end of its scan): a file put
    in its place later, whose times a coarse file system might not tell apart, is read."""
    global _last_input
    found = remembered_input(path)
    if found is None:
        st = path.stat()
        found = hash_file(path)
        _last_input = (_stamp(st), found)
    return found


def remembered_input(path: Path) -> tuple[str, int, bytes] | None:
    """What `hash_input` remembers of this unchanged file, if it does."""
    last = _last_input
    if last is None:
        return None
    try:
        stamp = _stamp(path.stat())
    except OSError:
        return None
    return last[1] if last[0] == stamp else None


def _stamp(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def forget_input() -> None:
    global _last_input
    _last_input = None


def hash_file(path: Path) -> tuple[str, int, bytes]:
    """SHA-256, size and the first HEAD_SIZE bytes, streaming."""
    h = hashlib.sha256()
    size = 0
    head = b""
    with open(path, "rb", buffering=0) as f:
        for chunk in chunks(f, os.fstat(f.fileno()).st_size):
            if not head:
                head = chunk[:HEAD_SIZE]
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size, head


def chunks(stream: Readable, size: int | None = None) -> Iterator[bytes]:
    """All of `stream`, in reads no larger than the `size` it says it holds (plus a byte, to see
    its end), never past CHUNK: a read asks for memory as large as it may return, and reading
    a 2 KB file in CHUNK reads (one, then one more for its end) took 22 us where this takes 5.
    Past `size`, or without one, it reads CHUNK at a time."""
    left = -1 if size is None else size  # what the stream still says it holds; -1: unknown
    while chunk := stream.read(CHUNK if left < 0 else min(left, CHUNK - 1) + 1):
        yield chunk
        if left >= 0:
            left = max(left - len(chunk), -1)


class Readable(Protocol):
    """Anything with read(n): files, decompressors, archive member streams."""

    def read(self, n: int = ..., /) -> bytes: ...


# Member names past these are refused (a Problem), never handed to the OS: a component over
# NAME_MAX or a path near PATH_MAX makes every later call fail with ENAMETOOLONG, and a path
# hundreds of directories deep would make recursive helpers (mkdir's parents, os.walk) overflow.
MAX_COMPONENT_BYTES = 255
MAX_NAME_BYTES = 3072  # leaves room under PATH_MAX (4096) for the work directory
MAX_NAME_DEPTH = 256
EXCERPT = 200  # longest piece of input text quoted in a Problem


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """`text` cut to `limit` characters, saying how long it was: a Problem quotes input, and a
    1 GiB name must not make a 1 GB report."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class UnsafePath(Exception):
    kind: ProblemKind = ProblemKind.UNSAFE


class NameTooLong(UnsafePath):
    kind = ProblemKind.LIMIT


def clean_member_name(name: str) -> str:
    """Normalise an archive member name, or raise UnsafePath if it would leave the root (or
    NameTooLong past the name limits)."""
    if "\x00" in name:
        raise UnsafePath("member name contains a NUL byte")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise UnsafePath(f"absolute member path {_shown(name)}")
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(f"path traversal in member {_shown(name)}")
    if not parts:
        raise UnsafePath(f"empty member name {_shown(name)}")
    size = len(unified.encode("utf-8", "surrogateescape"))
    if size > MAX_NAME_BYTES:
        raise NameTooLong(f"member name of {size} bytes is over the {MAX_NAME_BYTES}-byte limit")
    if len(parts) > MAX_NAME_DEPTH:
        raise NameTooLong(f"member path {len(parts)} directories deep is over the "
                          f"{MAX_NAME_DEPTH}-level limit")
    # a name no longer than a component may be has no component too long (most names)
    longest = (size if size <= MAX_COMPONENT_BYTES
               else max(len(p.encode("utf-8", "surrogateescape")) for p in parts))
    if longest > MAX_COMPONENT_BYTES:
        raise NameTooLong(f"a name component of {longest} bytes is over the "
                          f"{MAX_COMPONENT_BYTES}-byte limit")
    return "/".join(parts)


def _shown(name: str) -> str:
    """A refused name as a problem quotes it (made only for a refusal: most names pass)."""
    return repr(excerpt(name))


class SafeRoot:
    """A directory that one container is extracted into."""

    def __init__(self, base: Path, budget: Budget, location: str, source_size: int) -> None:
        self.base = base.resolve()
        self.base.mkdir(parents=True, exist_ok=True)
        self.budget = budget
        self.location = location  # path chain of the container, for Problems
        self.source_size = source_size
        self.written = 0
        self.deadline = min(time.monotonic() + budget.limits.seconds_per_format,
                            budget.deadline)
        self.problems: list[Problem] = []
        self.links: dict[str, str] = {}  # member -> link target, recorded not created
        self._inside: set[Path] = {self.base}  # directories already proved inside the root
        self._made: set[Path] = set()  # directories members were written into
        self._through: set[str] = set()  # links a member path was seen to run through
        self._refused_links: dict[str, str] = {}  # links refused for pointing out of the root
        self._copies: dict[str, int] = {}  # name -> last N given to a duplicate, `name~N`
        # the walker's hook: a member is classified (and analysed) while the rest are written
        self.on_member: Finished | None = None

    # -- recording ----------------------------------------------------------------------------
    def problem(self, message: str, kind: ProblemKind = ProblemKind.CORRUPT,
                member: str | None = None) -> None:
        where = f"{self.location}!/{excerpt(member)}" if member else self.location
        self.problems.append(Problem(where, Stage.EXTRACT, excerpt(self.scrub(message), 400),
                                     kind))

    def scrub(self, text: str) -> str:
        """`text` without this machine's extraction paths (an OSError names the file it failed
        on): a report says where in the input, never where in a temporary directory."""
        base = str(self.base)
        return text.replace(base + "/", "").replace(base, ".").replace(str(self.base.parent),
                                                                       "<work>")

    def refuse(self, name: str, reason: str, kind: ProblemKind = ProblemKind.UNSAFE) -> None:
        self.problem(f"refused {excerpt(name)!r}: {reason}", kind=kind)

    # -- paths --------------------------------------------------------------------------------
    def target(self, name: str) -> tuple[str, Path]:
        rel, dest, _ = self._place(name)
        return rel, dest

    def _place(self, name: str, look: bool = True) -> tuple[str, Path, bool]:
        """`target`, and whether something of that name was there already (one lstat that
        spares `create` three more on the usual new member; none when not asked to `look`)."""
        rel = clean_member_name(name)
        if self.links or self._refused_links:
            self._through_link(rel)
        dest = self.base / rel
        # Resolve the member's directory once (the root never holds a link of ours, but a
        # directory must be proved inside before anything is written under it); the member
        # itself is resolved too when it exists already, since it may be a link.
        parent = dest.parent
        if parent not in self._inside:
            resolved = parent.resolve()
            if resolved != self.base and self.base not in resolved.parents:
                raise UnsafePath(f"member {name!r} resolves outside the extraction root")
            self._inside.add(parent)
        if look and os.path.lexists(dest):
            resolved = dest.resolve()
            if resolved != self.base and self.base not in resolved.parents:
                raise UnsafePath(f"member {name!r} resolves outside the extraction root")
            return rel, resolved, True
        return rel, dest, False

    def _through_link(self, rel: str) -> None:
        """A member whose path runs through a link of this archive (`link` -> /tmp, then
        `link/file`) is written inside the root, the link never followed; but the archive meant
        it elsewhere, so it is recorded, once per link."""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            target = self.links.get(prefix, self._refused_links.get(prefix))
            if target is not None:
                if prefix not in self._through:
                    self._through.add(prefix)
                    self.problem(
                        f"member path runs through the symlink {excerpt(prefix)!r} (to "
                        f"{excerpt(target)!r}); kept inside the root, the link not followed",
                        ProblemKind.UNSAFE, rel)
                return

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            limits = self.budget.limits
            if self.deadline >= self.budget.deadline:
                raise LimitExceeded(
                    f"time limit ({limits.max_seconds:.0f} s) for the whole extraction")
            raise LimitExceeded(f"time limit ({limits.seconds_per_format:.0f} s) for one container")

    # -- writes -------------------------------------------------------------------------------
    def mkdir(self, name: str) -> None:
        if not name.replace("\\", "/").strip("/").strip("."):  # "." or "./": the root itself
            return
        try:
            _, dest = self.target(name)
        except UnsafePath as exc:
            self.refuse(name, str(exc), exc.kind)
            return
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file of that name already: keep going with the others
            self.problem(f"cannot create directory: {exc.strerror}", ProblemKind.CORRUPT,
                         clean_member_name(name))

    def link(self, name: str, target: str, hard: bool = False) -> None:
        """Record a link. Links are metadata: never created, never followed."""
        try:
            rel, _ = self.target(name)
        except UnsafePath as exc:
            self.refuse(name, str(exc), exc.kind)
            return
        if hard or target.startswith("/"):
            resolved = posixpath.normpath(target.lstrip("/"))
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        if resolved.startswith("..") or (hard and target.startswith("/")):
            kind = "hard link" if hard else "symlink"
            self.refuse(name, f"{kind} points outside the root ({excerpt(target)!r})")
            self._refused_links[rel] = target
            return
        if rel in self.links or os.path.lexists(self.base / rel):
            first = rel
            rel, _ = self._free_name(rel)
            self.problem(f"duplicate member name; this link is kept as {rel!r}",
                         ProblemKind.DUPLICATE, first)
        self.links[rel] = target

    def create(self, name: str, size: int | None = None) -> MemberWriter | None:
        """Open one member for push-style writing (for readers that write rather than stream).

        Returns None when the member was refused (the reason is recorded), and the caller goes
        on with the next member: a refused member never hides the ones after it. Every write()
        goes through the same limits as `write`.
        """
        self.check_time()
        try:
            # the usual member is new: no lstat to say so, the exclusive open does (each call
            # that leaves the interpreter waits for the read-ahead threads to give it back)
            rel, dest, there = self._place(name, look=False)
        except UnsafePath as exc:
            self.refuse(name, str(exc), exc.kind)
            return None
        except OSError as exc:
            self.problem(f"cannot place member: {exc.strerror}", ProblemKind.CORRUPT,
                         excerpt(name))
            return None
        if size is not None:
            refused = self.declared_over(size)
            if refused is not None:
                self.problem(refused, ProblemKind.LIMIT, rel)
                return None
        try:
            try:
                return self._open(rel, dest, there)
            except FileExistsError:  # the name is taken: see by what, as `_place` does
                rel, dest, there = self._place(name)
                return self._open(rel, dest, there)
        except UnsafePath as exc:
            self.refuse(name, str(exc), exc.kind)
            return None
        except OSError as exc:  # one member the OS will not take: record it, keep the rest
            self.problem(f"cannot write member: {exc.strerror}", ProblemKind.CORRUPT, rel)
            return None

    def declared_over(self, size: int) -> str | None:
        """Why a member of this declared size is refused before a byte is written, if it is:
        it would pass the member limit, the scan's total, or the container's ratio."""
        limits = self.budget.limits
        if size > limits.max_member_bytes:
            return (f"declared size {size} bytes is over the member limit "
                    f"({limits.max_member_bytes} bytes); refused before writing")
        left = limits.max_total_bytes - self.budget.bytes
        if size > left:
            return (f"declared size {size} bytes would pass the total limit "
                    f"({limits.max_total_bytes} bytes, {max(left, 0)} left); refused before "
                    "writing")
        if self._over_ratio(size):
            return (f"declared size {size} bytes would pass the compression ratio limit "
                    f"({limits.max_ratio:.0f}x of {self.source_size} bytes); refused before "
                    "writing")
        return None

    def _open(self, rel: str, dest: Path, there: bool = True) -> MemberWriter | None:
        if there and dest.is_symlink():  # never write through a link, even one of our own
            self.problem("member collides with a link", ProblemKind.UNSAFE, rel)
            return None
        if there and dest.is_dir():
            self.problem("member collides with a directory", ProblemKind.CORRUPT, rel)
            return None
        if (there and dest.exists()) or rel in self.links:
            # A second member of the same name (a zip or tar can hold both; readers disagree on
            # which one wins): both are kept and examined, never one silently overwritten.
            first = rel
            rel, dest = self._free_name(rel)
            self.problem(f"duplicate member name; this copy is kept as {rel!r}",
                         ProblemKind.DUPLICATE, first)
        self.budget.add_file()
        self.budget.wrote(self.location)
        # a parent that is a file (member "a" then "a/b") makes mkdir fail: report, do not raise
        if dest.parent not in self._made:
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                self.problem("member path collides with a file", ProblemKind.CORRUPT, rel)
                return None
            self._made.add(dest.parent)  # directories are never removed: no mkdir again
        try:
            return MemberWriter(self, rel, dest)
        except FileExistsError:
            self.budget.files -= 1  # not written: the caller looks again, and counts it then
            raise

    def _free_name(self, rel: str) -> tuple[str, Path]:
        """`dir/name~N.ext`, the first N whose file does not exist yet."""
        head, _, base = rel.rpartition("/")
        stem, dot, ext = base.partition(".") if not base.startswith(".") else (base, "", "")
        # start after the last copy of this name: 100,000 entries of one name stay linear
        for n in itertools.count(self._copies.get(rel, 1) + 1):
            candidate = f"{head}/{stem}~{n}{dot}{ext}" if head else f"{stem}~{n}{dot}{ext}"
            dest = self.base / candidate
            if not os.path.lexists(dest) and candidate not in self.links:
                self._copies[rel] = n
                return candidate, dest
        raise AssertionError("unreachable")

    def write(self, name: str, stream: Readable, size: int | None = None) -> Path | None:
        """Copy one member from `stream`, enforcing every limit. Returns the file written."""
        writer = self.create(name, size)
        if writer is None:
            return None
        with writer:
            for chunk in chunks(stream, size):
                if not writer.write(chunk):
                    return None
        return writer.dest

    def write_bytes(self, name: str, data: bytes) -> Path | None:
        import io

        return self.write(name, io.BytesIO(data), len(data))

    def copy_file(self, name: str, src: Path) -> Path | None:
        with open(src, "rb") as f:
            return self.write(name, f, src.stat().st_size)

    def _over_ratio(self, member_size: int) -> bool:
        """One member expanding past max_ratio times its whole container (beyond the floor).
        Judged per member, so that a bomb member is refused and an ordinary one after it is not
        (the total limit bounds what many members together may write)."""
        limits = self.budget.limits
        return member_size > limits.ratio_floor and member_size > limits.max_ratio * max(
            self.source_size, 1)

    def _account(self, n: int, member_size: int) -> str | None:
        """Count `n` more bytes of a member now `member_size` bytes long; why they may not be
        written, if they may not (the member is then refused, its bytes given back, and the
        container goes on with its next member). Raises LimitExceeded when time is up: that
        stops the whole container."""
        self.check_time()
        limits = self.budget.limits
        if self.budget.bytes + n > limits.max_total_bytes:
            return f"total size limit ({limits.max_total_bytes} bytes) reached"
        if self._over_ratio(member_size + n):
            return (f"compression ratio limit ({limits.max_ratio:.0f}x) exceeded: "
                    f"{member_size + n} bytes out of {self.source_size}")
        self.written += n
        self.budget.bytes += n
        self.budget.wrote(self.location)
        return None

    def _give_back(self, n: int) -> None:
        """A refused member's bytes are removed from disk: they no longer count."""
        self.written -= n
        self.budget.bytes -= n

    def adopt(self, name: str, size: int) -> bool:
        """Count a member an accelerator (accel.py: unsquashfs) already wrote at its place, a
        new regular file of `size` bytes checked by the caller, as `create` and `write` would:
        same refusals, same file and byte counts. False when refused; the caller removes it.
        The caller vouches that no other member or link has, or is on, this path."""
        self.check_time()
        try:
            rel = clean_member_name(name)
        except UnsafePath as exc:
            self.refuse(name, str(exc), exc.kind)
            return False
        refused = self.declared_over(size)
        if refused is not None:
            self.problem(refused, ProblemKind.LIMIT, rel)
            return False
        self.budget.add_file()
        self.budget.wrote(self.location)
        refused = self._account(size, 0) if size else None  # passes: declared_over just did
        if refused is not None:
            self.problem(f"{refused}; member refused after 0 bytes, the rest of the container "
                         "goes on", ProblemKind.LIMIT, rel)
            return False
        if self.on_member is not None:  # finished in its turn, as a member written here is
            dest = self.base / rel
            try:
                sha, written, head = hash_file(dest)
            except OSError:
                return True  # the walker reads it again, and records why it cannot
            self.on_member(rel, dest, sha, written, head)
        return True


class MemberWriter:
    """One member being written: counts bytes against every limit as they arrive."""

    def __init__(self, root: SafeRoot, rel: str, dest: Path) -> None:
        self.root = root
        self.rel = rel
        self.dest = dest
        self.size = 0
        self.failed = False
        self.holes = 0  # bytes skipped as holes
        self._tail = bytearray()  # the last block, while it is shorter than HOLE
        # digest and head as the bytes go by: the walker need not read the member back
        self._sha = hashlib.sha256()
        self._head = b""
        # exclusive: never onto anything already there (a file, a directory, a link)
        self._fh: BinaryIO | None = open(dest, "xb")  # noqa: SIM115 - closed in close()

    def write(self, data: bytes | bytearray | memoryview) -> bool:
        """Append `data`; False (and the partial file removed) once the member is over a limit.

        Raises LimitExceeded for scan-wide limits (total, ratio, time): the branch stops there.
        """
        if self.failed or self._fh is None:
            return False
        n = len(data)
        limit = self.root.budget.limits.max_member_bytes
        try:
            refused = (f"member over the size limit ({limit} bytes)"
                       if self.size + n > limit else self.root._account(n, self.size))
        except BaseException:
            self._discard()
            raise
        if refused is not None:
            self.failed = True
            kept = self.size
            self._discard()
            self.root.problem(f"{refused}; member refused after {kept} bytes, the rest "
                              "of the container goes on", ProblemKind.LIMIT, self.rel)
            return False
        self._put(data, self._fh)
        self._sha.update(data)
        if len(self._head) < HEAD_SIZE:
            self._head += memoryview(data).cast("B")[: HEAD_SIZE - len(self._head)].tobytes()
        return True

    def _put(self, data: bytes | bytearray | memoryview, fh: BinaryIO) -> None:
        """Append `data`, its zero blocks (aligned on the file, whatever the chunks a reader
        hands over) as holes; a block begun and not finished waits in `_tail`."""
        view = memoryview(data).cast("B")
        self.size += len(view)
        if self._tail:
            take = HOLE - len(self._tail)
            self._tail += view[:take]
            view = view[take:]
            if len(self._tail) < HOLE:
                return
            if self._tail == _ZEROS:
                self._skip(fh)
            else:
                fh.write(self._tail)
            self._tail = bytearray()
        whole = len(view) - len(view) % HOLE
        start = 0  # first byte neither written nor skipped yet
        for offset in range(0, whole, HOLE):
            end = offset + HOLE
            # two bytes decide for almost every block that holds data, without a copy
            if view[offset] == 0 and view[end - 1] == 0 and view[offset:end].tobytes() == _ZEROS:
                if start < offset:
                    fh.write(view[start:offset])
                self._skip(fh)
                start = end
        if start < whole:
            fh.write(view[start:whole])
        self._tail += view[whole:]

    def _skip(self, fh: BinaryIO) -> None:
        fh.seek(HOLE, os.SEEK_CUR)
        self.holes += HOLE

    def _discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.dest.unlink(missing_ok=True)
        self.root._give_back(self.size)
        self.size = 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.write(self._tail)
            if self.holes:  # it may end in a hole, which no write has extended it over
                self._fh.truncate(self.size)
            self._fh.close()
            self._fh = None
            if self.root.on_member is not None and not self.failed:
                self.root.on_member(self.rel, self.dest, self._sha.hexdigest(), self.size,
                                    self._head)

    def __enter__(self) -> MemberWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
