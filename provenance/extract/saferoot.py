"""The one gate every extracted byte goes through (DESIGN §6).

No path may leave the root: absolute paths, `..`, links pointing out, device nodes and FIFOs are
refused and recorded as Problems. Symbolic and hard links are never created on disk; they are kept
as metadata. Sizes, counts, ratio and time are checked while bytes are copied, so a bomb stops at
the limit instead of after filling the disk.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import shutil
import time
from pathlib import Path
from typing import BinaryIO, Protocol

from provenance.extract.limits import Budget, LimitExceeded
from provenance.model import Problem, ProblemKind, Stage

CHUNK = 1 << 20


class Readable(Protocol):
    """Anything with read(n): files, decompressors, archive member streams."""

    def read(self, n: int = ..., /) -> bytes: ...


class UnsafePath(Exception):
    pass


def clean_member_name(name: str) -> str:
    """Normalise an archive member name, or raise UnsafePath if it would leave the root."""
    if "\x00" in name:
        raise UnsafePath("member name contains a NUL byte")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise UnsafePath(f"absolute member path {name!r}")
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(f"path traversal in member {name!r}")
    if not parts:
        raise UnsafePath(f"empty member name {name!r}")
    return "/".join(parts)


class SafeRoot:
    """A directory that one container is extracted into."""

    def __init__(self, base: Path, budget: Budget, location: str, source_size: int) -> None:
        self.base = base.resolve()
        self.base.mkdir(parents=True, exist_ok=True)
        self.budget = budget
        self.location = location  # path chain of the container, for Problems
        self.source_size = source_size
        self.written = 0
        self.deadline = time.monotonic() + budget.limits.seconds_per_format
        self.problems: list[Problem] = []
        self.links: dict[str, str] = {}  # member -> link target, recorded not created
        self._inside: set[Path] = {self.base}  # directories already proved inside the root

    # -- recording ----------------------------------------------------------------------------
    def problem(self, message: str, kind: ProblemKind = ProblemKind.CORRUPT,
                member: str | None = None) -> None:
        where = f"{self.location}!/{member}" if member else self.location
        self.problems.append(Problem(where, Stage.EXTRACT, message, kind))

    def refuse(self, name: str, reason: str) -> None:
        self.problem(f"refused {name!r}: {reason}", kind=ProblemKind.UNSAFE)

    # -- paths --------------------------------------------------------------------------------
    def target(self, name: str) -> tuple[str, Path]:
        rel = clean_member_name(name)
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
        if os.path.lexists(dest):
            resolved = dest.resolve()
            if resolved != self.base and self.base not in resolved.parents:
                raise UnsafePath(f"member {name!r} resolves outside the extraction root")
            return rel, resolved
        return rel, dest

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"time limit ({self.budget.limits.seconds_per_format:.0f} s) for one container"
            )

    # -- writes -------------------------------------------------------------------------------
    def mkdir(self, name: str) -> None:
        if not name.replace("\\", "/").strip("/").strip("."):  # "." or "./": the root itself
            return
        try:
            _, dest = self.target(name)
        except UnsafePath as exc:
            self.refuse(name, str(exc))
            return
        dest.mkdir(parents=True, exist_ok=True)

    def link(self, name: str, target: str, hard: bool = False) -> None:
        """Record a link. Links are metadata: never created, never followed."""
        try:
            rel, _ = self.target(name)
        except UnsafePath as exc:
            self.refuse(name, str(exc))
            return
        if hard or target.startswith("/"):
            resolved = posixpath.normpath(target.lstrip("/"))
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        if resolved.startswith("..") or (hard and target.startswith("/")):
            kind = "hard link" if hard else "symlink"
            self.refuse(name, f"{kind} points outside the root ({target!r})")
            return
        if rel in self.links or os.path.lexists(self.base / rel):
            first = rel
            rel, _ = self._free_name(rel)
            self.problem(f"duplicate member name; this link is kept as {rel!r}",
                         ProblemKind.DUPLICATE, first)
        self.links[rel] = target

    def create(self, name: str, size: int | None = None) -> MemberWriter | None:
        """Open one member for push-style writing (for readers that write rather than stream).

        Returns None when the member was refused (the reason is recorded). Every write() goes
        through the same limits as `write`.
        """
        self.check_time()
        try:
            rel, dest = self.target(name)
        except UnsafePath as exc:
            self.refuse(name, str(exc))
            return None
        if size is not None and size > self.budget.limits.max_member_bytes:
            self.problem(f"member over the size limit ({size} bytes)", ProblemKind.LIMIT, rel)
            return None
        if dest.is_symlink():  # never write through a link, even one of our own making
            self.problem("member collides with a link", ProblemKind.UNSAFE, rel)
            return None
        if dest.is_dir():
            self.problem("member collides with a directory", ProblemKind.CORRUPT, rel)
            return None
        if dest.exists() or rel in self.links:
            # A second member of the same name (a zip or tar can hold both; readers disagree on
            # which one wins): both are kept and examined, never one silently overwritten.
            first = rel
            rel, dest = self._free_name(rel)
            self.problem(f"duplicate member name; this copy is kept as {rel!r}",
                         ProblemKind.DUPLICATE, first)
        self.budget.add_file()
        # a parent that is a file (member "a" then "a/b") makes mkdir fail: report, do not raise
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            self.problem("member path collides with a file", ProblemKind.CORRUPT, rel)
            return None
        return MemberWriter(self, rel, dest)

    def _free_name(self, rel: str) -> tuple[str, Path]:
        """`dir/name~N.ext`, the first N whose file does not exist yet."""
        head, _, base = rel.rpartition("/")
        stem, dot, ext = base.partition(".") if not base.startswith(".") else (base, "", "")
        for n in itertools.count(2):
            candidate = f"{head}/{stem}~{n}{dot}{ext}" if head else f"{stem}~{n}{dot}{ext}"
            dest = self.base / candidate
            if not os.path.lexists(dest) and candidate not in self.links:
                return candidate, dest
        raise AssertionError("unreachable")

    def write(self, name: str, stream: Readable, size: int | None = None) -> Path | None:
        """Copy one member from `stream`, enforcing every limit. Returns the file written."""
        writer = self.create(name, size)
        if writer is None:
            return None
        with writer:
            while chunk := stream.read(CHUNK):
                if not writer.write(chunk):
                    return None
        return writer.dest

    def write_bytes(self, name: str, data: bytes) -> Path | None:
        import io

        return self.write(name, io.BytesIO(data), len(data))

    def copy_file(self, name: str, src: Path) -> Path | None:
        with open(src, "rb") as f:
            return self.write(name, f, src.stat().st_size)

    def _account(self, n: int) -> None:
        self.written += n
        self.budget.add_bytes(n)
        limits = self.budget.limits
        if (
            self.written > limits.ratio_floor
            and self.written > limits.max_ratio * max(self.source_size, 1)
        ):
            raise LimitExceeded(
                f"compression ratio limit ({limits.max_ratio:.0f}x) exceeded: "
                f"{self.written} bytes out of {self.source_size}"
            )
        self.check_time()


class MemberWriter:
    """One member being written: counts bytes against every limit as they arrive."""

    def __init__(self, root: SafeRoot, rel: str, dest: Path) -> None:
        self.root = root
        self.rel = rel
        self.dest = dest
        self.size = 0
        self.failed = False
        self._fh: BinaryIO | None = open(dest, "wb")  # noqa: SIM115 - closed in close()

    def write(self, data: bytes | bytearray | memoryview) -> bool:
        """Append `data`; False (and the partial file removed) once the member is over a limit.

        Raises LimitExceeded for scan-wide limits (total, ratio, time): the branch stops there.
        """
        if self.failed or self._fh is None:
            return False
        n = len(data)
        if self.size + n > self.root.budget.limits.max_member_bytes:
            self.failed = True
            self._discard()
            self.root.problem("member over the size limit", ProblemKind.LIMIT, self.rel)
            return False
        try:
            self.root._account(n)
        except BaseException:
            self._discard()
            raise
        self.size += n
        self._fh.write(data)
        return True

    def _discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.dest.unlink(missing_ok=True)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> MemberWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
