"""Stage 1: unpack the input recursively into a tree of Artifacts, through one SafeRoot.

Every blob found ends up in the tree: extracted, or opaque with the reason. A container that
fails midway keeps what it yielded plus a Problem, and the walk goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import os
import posixpath
import stat
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from provenance.extract import (
    ar,
    cab,
    compressed,
    cpio,
    filesystems,
    firmware,
    installers,
    iso,
    msi,
    romfs,
    rpm,
    sevenzip,
    tar,
    ubi,
    zip,
)
from provenance.extract.base import HEAD_SIZE, Format, FormatProblem
from provenance.extract.limits import Budget, LimitExceeded, Limits, memory_message
from provenance.extract.saferoot import SafeRoot, excerpt, hash_file, hash_input
from provenance.model import CHAIN_SEP, Artifact, Problem, ProblemKind, Stage, chain_str

# Order matters: the first format whose detector accepts the head wins. Exact magic numbers
# first; tar before gzip so a .tar.gz is read as one archive, not as a gzip holding a tar; the
# detectors that need a look at the whole file (MSI, installers) and lzma-alone, which has no
# magic, come last among ours. The firmware formats (boot, vendor, carving) follow.
EXTRACTORS: tuple[Format, ...] = (
    zip.FORMAT,
    tar.FORMAT,
    sevenzip.FORMAT,
    rpm.FORMAT,
    ar.FORMAT,
    cpio.FORMAT,
    cab.FORMAT,
    iso.FORMAT,
    filesystems.SQUASHFS,
    filesystems.CRAMFS,
    filesystems.JFFS2,
    ubi.UBI,
    ubi.UBIFS,
    filesystems.EXTFS,
    filesystems.FAT,
    romfs.FORMAT,
    compressed.GZIP,
    compressed.BZIP2,
    compressed.XZ,
    compressed.ZSTD,
    compressed.LZ4,
    msi.FORMAT,
    installers.NSIS,
    installers.INNO,
    compressed.LZMA,
    *firmware.FORMATS,
)

__all__ = ["EXTRACTORS", "Limits", "detect", "extract", "hash_file"]


def detect(head: bytes, name: str, path: Path | None = None) -> Format | None:
    """The first registered format that accepts the head (and the file, when it asks to look)."""
    for fmt in EXTRACTORS:
        try:
            if not fmt.detect(head, name):
                continue
            if fmt.confirm is not None and (path is None or not fmt.confirm(path)):
                continue
        except Exception:  # a detector must never stop the scan; treat as "not this format"
            continue
        return fmt
    return None


OnNode = Callable[[Artifact], None]
# Starts taking a file's (SHA-256, size, first HEAD_SIZE bytes), possibly in another process:
# the input is unpacked while its digest is being taken
Digest = Callable[[Path], "Future[tuple[str, int, bytes]]"]


def digest_here(path: Path) -> Future[tuple[str, int, bytes]]:
    """The input's digest, taken now, in this process."""
    taken: Future[tuple[str, int, bytes]] = Future()
    try:
        taken.set_result(hash_input(path))
    except OSError as exc:
        taken.set_exception(exc)
    return taken


_TAKING = "(being hashed)"  # the input's SHA-256 while its digest is still being taken


def _taken(taking: Future[tuple[str, int, bytes]], path: Path) -> tuple[str, int, bytes]:
    try:
        return taking.result()
    except OSError:
        raise
    except Exception:  # the process that took it is gone (a broken or stopped pool): here
        return hash_input(path)


ENTROPY_OPAQUE = 7.5  # bits per byte: above this an unknown input is likely encrypted/compressed
ENTROPY_MIN_SIZE = 64 << 10


@dataclass
class _Walk:
    work: Path
    budget: Budget
    problems: list[Problem] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    on_node: OnNode | None = None  # told of every finished blob, so analysis can start early
    # containers unpacked so far, by SHA-256: their tree and the problems found inside
    unpacked: dict[str, tuple[Artifact, list[Problem]]] = field(default_factory=dict)
    deferred: list[Exception] = field(default_factory=list)  # raised by `on_node` mid-container
    digest: Digest = digest_here  # of the input (depth 0)

    def done(self, artifact: Artifact) -> Artifact:
        if self.on_node is not None and artifact.local is not None and (
                artifact.kind != "directory"):
            self.on_node(artifact)
        return artifact

    # -- nodes ----------------------------------------------------------------------------------
    def node(self, local: Path, chain: tuple[str, ...], depth: int) -> Artifact:
        try:
            st = local.lstat()
        except OSError as exc:
            return self.unreadable(chain, depth, f"cannot stat: {exc.strerror}")
        if stat.S_ISLNK(st.st_mode):
            return Artifact(chain, _EMPTY, 0, "symlink", depth, symlink_target=os.readlink(local))
        if stat.S_ISDIR(st.st_mode):
            return self.directory(local, chain, depth)
        if not stat.S_ISREG(st.st_mode):
            where = chain_str(chain)
            self.problems.append(Problem(where, Stage.EXTRACT, "not a regular file",
                                         ProblemKind.UNSAFE))
            return Artifact(chain, _EMPTY, 0, "special", depth, opaque="not a regular file")
        if depth == 0:
            return self.root(local, chain, st.st_size)
        try:
            sha, size, head = hash_file(local)
        except OSError as exc:
            return self.unreadable(chain, depth, f"cannot read: {exc.strerror}")
        fmt = detect(head, chain[-1], local)
        if fmt is None:
            return self.done(self.plain(local, chain, depth, sha, size))
        return self.classified(local, chain, depth, fmt, sha, size)

    def root(self, local: Path, chain: tuple[str, ...], size: int) -> Artifact:
        """The input file, unpacked while its digest is taken (`digest`, in a worker for a
        large input: hashing the 439 MiB ext4 image of the rootfs benchmark took 0.35 s that
        nothing else ran beside). Its SHA-256 is set once the unpacking is done."""
        taking = self.digest(local)
        try:
            if taking.done():
                sha, size, head = taking.result()
            else:
                sha = _TAKING
                with open(local, "rb") as f:
                    head = f.read(HEAD_SIZE)
        except OSError as exc:
            return self.unreadable(chain, 0, f"cannot read: {exc.strerror}")
        fmt = detect(head, chain[-1], local)
        artifact = (self.plain(local, chain, 0, sha, size) if fmt is None
                    else self.unpack(local, chain, 0, fmt, sha, size))
        if sha == _TAKING:
            try:
                sha, size, _ = _taken(taking, local)
            except OSError as exc:
                return self.unreadable(chain, 0, f"cannot read: {exc.strerror}")
            artifact = dataclasses.replace(artifact, sha256=sha, size=size)
        return self.done(artifact)

    def classified(self, local: Path, chain: tuple[str, ...], depth: int, fmt: Format, sha: str,
                   size: int) -> Artifact:
        """A blob that `fmt` claims: unpacked (within the depth limit, once per content)."""
        first = self.unpacked.get(sha)
        if first is not None and first[0].depth == depth:
            return self.again(first, chain)
        return self.done(self.unpack(local, chain, depth, fmt, sha, size))

    def unpack(self, local: Path, chain: tuple[str, ...], depth: int, fmt: Format, sha: str,
               size: int) -> Artifact:
        """`classified`'s work, not yet handed on (`done`)."""
        if depth >= self.budget.limits.max_depth:
            reason = f"nesting depth limit ({self.budget.limits.max_depth}) reached"
            self.problems.append(Problem(chain_str(chain), Stage.EXTRACT, reason,
                                         ProblemKind.LIMIT))
            return Artifact(chain, sha, size, fmt.name, depth, local=local, opaque=reason)
        start = len(self.problems)
        artifact = self.container(local, chain, depth, fmt, sha, size)
        self.unpacked[sha] = (artifact, self.problems[start:])
        return artifact

    def early(self, root: SafeRoot, chain: tuple[str, ...], depth: int
              ) -> dict[str, Artifact | tuple[Format, str, int]]:
        """Classify each member as soon as the container has written it, from the digest and
        head the SafeRoot took on the way: a plain file is finished (handed to analysis) while
        the container is still unpacking the rest, and no member is read back to be hashed.
        Returns what the walk after the unpacking takes from: member -> its finished Artifact,
        or (format, SHA-256, size) of a member to unpack in its turn.

        Members are finished in the order the container writes them, which a given input
        fixes: the analysis (the first blob of each content is the one analysed) is the same
        every run."""
        seen: dict[str, Artifact | tuple[Format, str, int]] = {}

        def finished(rel: str, local: Path, sha: str, size: int, head: bytes) -> None:
            fmt = detect(head, rel, local)
            if fmt is not None:
                seen[rel] = (fmt, sha, size)
                return
            artifact = self.plain(local, (*chain, rel), depth + 1, sha, size)
            try:
                self.done(artifact)
            except Exception as exc:  # the analysis', not the container's: raised after it
                self.deferred.append(exc)
                return
            seen[rel] = artifact

        root.on_member = finished
        return seen

    def again(self, first: tuple[Artifact, list[Problem]], chain: tuple[str, ...]) -> Artifact:
        """A container identical to one already unpacked at the same depth (same SHA-256): its
        tree and problems, under this one's path; nothing is unpacked or written again (the
        nested zip bomb is the same few containers many times over). Its blobs were analysed
        with the first copy's: the analysis is keyed by content."""
        tree, problems = first
        old, new = chain_str(tree.chain), chain_str(chain)
        # a copy lists as much as the first: it counts against the file limit as if written
        # (16 copies of 16 copies... would otherwise list 16^n blobs, and as many problems)
        cost = len(tree.walk()) + len(problems)
        limits = self.budget.limits
        if self.budget.files + cost > limits.max_files:
            reason = (f"identical to {excerpt(old)}, already unpacked; not listed again: the "
                      f"file count limit ({limits.max_files}) would be passed")
            self.problems.append(Problem(new, Stage.EXTRACT, reason, ProblemKind.LIMIT))
            return Artifact(chain, tree.sha256, tree.size, tree.kind, tree.depth,
                            local=tree.local, opaque=reason)
        self.budget.files += cost
        for p in problems:
            if p.location == old or p.location.startswith(old + CHAIN_SEP):
                self.problems.append(dataclasses.replace(p, location=new + p.location[len(old):]))
        return _rebase(tree, len(tree.chain), chain)

    def plain(self, local: Path, chain: tuple[str, ...], depth: int, sha: str, size: int
              ) -> Artifact:
        return Artifact(chain, sha, size, "file", depth, local=local)

    def unreadable(self, chain: tuple[str, ...], depth: int, reason: str) -> Artifact:
        self.problems.append(Problem(chain_str(chain), Stage.EXTRACT, reason, ProblemKind.ERROR))
        return Artifact(chain, _EMPTY, 0, "unreadable", depth, opaque=reason)

    def directory(self, local: Path, chain: tuple[str, ...], depth: int) -> Artifact:
        unreadable: list[tuple[str, str]] = []
        children = tuple(
            self.node(path, (*chain[:-1], f"{chain[-1]}/{rel}"), depth)
            for rel, path in _files_under(local, unreadable)
        )
        for rel, reason in unreadable:  # a gap the verdict cannot see into: said, never skipped
            where = (*chain[:-1], f"{chain[-1]}/{rel}".rstrip("/"))
            self.problems.append(Problem(chain_str(where), Stage.EXTRACT,
                                         f"cannot read directory: {reason}", ProblemKind.ERROR))
        digest = hashlib.sha256()
        for child in children:
            digest.update(f"{child.chain[-1]}\0{child.sha256}\n".encode())
        size = sum(c.size for c in children)
        return Artifact(chain, digest.hexdigest(), size, "directory", depth, local, children)

    def container(
        self, local: Path, chain: tuple[str, ...], depth: int, fmt: Format, sha: str, size: int
    ) -> Artifact:
        where = chain_str(chain)
        dest = self.work / f"{next(self.counter):06d}.{fmt.name}"
        root = SafeRoot(dest, self.budget, where, size)
        early = self.early(root, chain, depth)
        opaque = None
        try:
            fmt.extract(local, root)
        except LimitExceeded as exc:
            opaque = f"stopped at a limit: {_one_line(exc, root)}"
            root.problem(_one_line(exc, root), ProblemKind.LIMIT)
        except FormatProblem as exc:
            opaque = f"cannot unpack as {fmt.name}: {_one_line(exc, root)}"
            root.problem(opaque, exc.kind)
        except RecursionError:
            opaque = f"cannot unpack as {fmt.name}: structure nested too deeply"
            root.problem(opaque, ProblemKind.CORRUPT)
        except MemoryError:  # the scan's memory ceiling: this container alone is given up
            opaque = memory_message(f"cannot unpack as {fmt.name}")
            root.problem(opaque, ProblemKind.LIMIT)
        except Exception as exc:  # a corrupt container must not stop the scan
            opaque = f"cannot unpack as {fmt.name}: {_one_line(exc, root)}"
            root.problem(opaque, ProblemKind.CORRUPT)
        for rel in _link_loops(root.links):
            root.problem("symlink loop (kept as metadata, never followed)", ProblemKind.CORRUPT,
                         rel)
        self.problems.extend(root.problems)
        root.on_member = None
        if self.deferred:
            raise self.deferred.pop()
        children = []
        for rel, path in _files_under(dest):
            if rel in root.links:
                continue
            seen = early.pop(rel, None)
            if isinstance(seen, Artifact):
                children.append(seen)
            elif seen is not None:
                children.append(self.classified(path, (*chain, rel), depth + 1, *seen))
            else:  # not written through the SafeRoot (an external tool's), or unreadable
                children.append(self.node(path, (*chain, rel), depth + 1))
        for rel, target in sorted(root.links.items()):
            children.append(Artifact((*chain, rel), _EMPTY, 0, "symlink", depth + 1,
                                     symlink_target=target))
        if opaque is None and not children:
            # every member refused at a limit (a single-stream bomb): nothing of it was seen
            limit = next((p for p in root.problems if p.kind == ProblemKind.LIMIT), None)
            if limit is not None:
                opaque = f"stopped at a limit: {limit.message}"
        if opaque and not children:
            return Artifact(chain, sha, size, fmt.name, depth, local=local, opaque=opaque)
        if fmt.name == "flash" and not children and not root.problems:
            # the carver found nothing it knows in this blob: it is a plain file, not a dump
            return self.plain(local, chain, depth, sha, size)
        children.sort(key=lambda a: a.chain)
        unpacked = (fmt.through_members and opaque is None and not root.problems
                    and bool(children))
        return Artifact(chain, sha, size, fmt.name, depth, local, tuple(children), opaque,
                        unpacked=unpacked)


_EMPTY = hashlib.sha256(b"").hexdigest()


def _rebase(tree: Artifact, cut: int, chain: tuple[str, ...]) -> Artifact:
    """`tree` with the first `cut` parts of every chain replaced by `chain`."""
    children = tuple(_rebase(c, cut, chain) for c in tree.children)
    return dataclasses.replace(tree, chain=(*chain, *tree.chain[cut:]), children=children)


def _link_loops(links: dict[str, str]) -> list[str]:
    """Members whose symlink chain (inside this container) comes back to itself."""
    loops = []
    for start in sorted(links):
        seen = {start}
        current = start
        for _ in range(64):
            target = links[current]
            base = "" if target.startswith("/") else posixpath.dirname(current)
            nxt = posixpath.normpath(posixpath.join(base, target.lstrip("/")))
            if nxt not in links:
                break
            if nxt in seen:
                loops.append(start)
                break
            seen.add(nxt)
            current = nxt
        else:
            loops.append(start)
    return loops


def _one_line(exc: BaseException, root: SafeRoot) -> str:
    """The first line of an error, bounded and without local paths (an OSError names its
    file, a library may quote the input)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return excerpt(root.scrub(text[0] if text else type(exc).__name__))


def _files_under(top: Path, unreadable: list[tuple[str, str]] | None = None
                 ) -> list[tuple[str, Path]]:
    """Every non-directory under `top` (symlinks included, never followed), sorted by path; a
    directory that cannot be listed goes to `unreadable` as (relative path, reason).

    Iterative: an input directory tree may be thousands of levels deep (os.walk recurses)."""
    out: list[tuple[str, Path]] = []
    stack = [(top, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            if unreadable is not None:
                unreadable.append((prefix, exc.strerror or type(exc).__name__))
            continue
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), rel + "/"))
            else:  # files, and links (to directories too): an entry, never descended into
                out.append((rel, Path(entry.path)))
    out.sort()
    return out


def file_entropy(path: Path, sample: int = 4 << 20) -> float:
    """Shannon entropy (bits per byte) of the first `sample` bytes."""
    with open(path, "rb") as f:
        data = f.read(sample)
    if not data:
        return 0.0
    counts = Counter(data)
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def extract(
    path: Path, work: Path, limits: Limits | None = None, on_node: OnNode | None = None,
    on_write: Callable[[str, int, int], None] | None = None, digest: Digest = digest_here,
) -> tuple[Artifact, tuple[Problem, ...]]:
    """Unpack `path` (file or directory) under `work`. Never raises on bad content.

    `on_node` is called with every finished blob (a container after its members), in a fixed
    order, while the walk goes on: the pipeline starts analysing them before the walk ends.
    `on_write` is told (container being unpacked, files written, bytes written) as members
    are written, for a progress display. `digest` takes the input file's digest.
    """
    walk = _Walk(work, Budget(limits or Limits(), on_write=on_write), on_node=on_node,
                 digest=digest)
    root = walk.node(path, (path.name or str(path),), 0)
    opaque = _unknown_input(root)
    if opaque is not None:
        walk.problems.append(Problem(root.path, Stage.EXTRACT, opaque,
                                     ProblemKind.ENCRYPTED_OR_COMPRESSED))
        root = dataclasses.replace(root, kind="unknown", opaque=opaque)
    return root, tuple(walk.problems)


# Executables and objects identification reads: dense, but known, whatever their entropy
_KNOWN_HEADS = (b"\x7fELF", b"MZ", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
                b"\xca\xfe\xba\xbe", b"dex\n", b"\xd0\x0d\xfe\xed")


def _unknown_input(root: Artifact) -> str | None:
    """Why the input itself could not be examined, when no format claims it and its bytes look
    encrypted or compressed (nothing inside it was seen). Only the input: packed members of a
    package or image (images, compressed data) are ordinary."""
    if root.kind != "file" or root.local is None or root.size < ENTROPY_MIN_SIZE:
        return None
    with open(root.local, "rb") as f:
        if f.read(8).startswith(_KNOWN_HEADS):
            return None
    bits = file_entropy(root.local)
    if bits <= ENTROPY_OPAQUE:
        return None
    return f"unknown format; entropy {bits:.2f} bits/byte: likely encrypted or compressed"
