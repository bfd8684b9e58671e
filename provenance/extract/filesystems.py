"""Filesystem images read with the dissect readers: SquashFS, CramFS, JFFS2, ext2/3/4, FAT.

Why dissect (Fox-IT's forensic readers): pure Python, maintained, and they read images without
mounting or external programs. dissect.squashfs decodes gzip, xz, lzma, lzo (dissect.util's own
pure-Python LZO), lz4 and zstd, so no `sasquatch` is needed; measured 2.0 s on a 77 MB xz image
(shared/reference/dependencies.md). Each library exposes the same shape (iterdir, is_dir, open),
and fswalk.py walks all of them through the SafeRoot. SquashFS members are written by
unsquashfs when it is installed, with the same decisions and the same result (accel.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import stat
from collections.abc import Callable, Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, cast

from provenance.extract import accel, cramfs_layout, jffs2_layout, squashfs_tables
from provenance.extract.base import Format, FormatProblem, Unsupported
from provenance.extract.fswalk import FILE, MKDIR, Entry, Reader, apply, entries, walk
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind


def _posix_kind(mode: int) -> str:
    fmt = stat.S_IFMT(mode)
    if fmt == stat.S_IFDIR:
        return "dir"
    if fmt == stat.S_IFREG:
        return "file"
    if fmt == stat.S_IFLNK:
        return "link"
    return "other"


def _named(nodes: Iterable[Any]) -> Iterable[tuple[str, Any]]:
    return ((n.name, n) for n in nodes)


def _inode_reader(key: Callable[[Any], Hashable], **extra: Any) -> Reader:
    """dissect's SquashFS and CramFS nodes: named children, a POSIX mode, link, open, size."""
    return Reader(
        children=lambda n: _named(n.iterdir()),
        kind=lambda n: _posix_kind(n.mode),
        key=key,
        link=lambda n: n.link,
        open=lambda n: n.open(),
        size=lambda n: n.size,
        **extra,
    )


# -- SquashFS -------------------------------------------------------------------------------------

def _squashfs_detect(head: bytes, name: str) -> bool:
    # every SquashFS is claimed, so that an older one is reported as unsupported (opaque, with
    # the reason) instead of passing for a plain file
    return head.startswith((b"hsqs", b"sqsh")) and len(head) >= 30


def _squashfs_version(head: bytes) -> str | None:
    """None for what dissect reads (little-endian version 4), else a description."""
    little = head.startswith(b"hsqs")
    major = int.from_bytes(head[28:30], "little" if little else "big")
    if little and major == 4:
        return None
    order = "little" if little else "big"
    return f"SquashFS {major} ({order}-endian): only little-endian version 4 is read"


# Decompressed blocks dissect keeps per image. Its default, 1024, is 128 MiB at the usual block
# size, for each handle, and the cache is a reference cycle that outlives the walk. File data is
# read once; only metadata and fragment blocks (shared by neighbouring small files) are re-read.
SQUASHFS_BLOCK_CACHE = 64


def _squashfs(fh: BinaryIO, caches: list[Any]) -> Any:
    from dissect.squashfs import SquashFS

    fs = SquashFS(fh)
    fs._read_block = functools.lru_cache(SQUASHFS_BLOCK_CACHE)(
        functools.partial(SquashFS._read_block, fs))
    caches.append(fs._read_block)
    return fs


def _squashfs_extract(src: Path, out: SafeRoot) -> None:
    with open(src, "rb") as f:
        older = _squashfs_version(f.read(32))
    if older is not None:
        raise Unsupported(older)
    handles: list[BinaryIO] = []
    caches: list[Any] = []

    def fork() -> Callable[[Any], BinaryIO]:
        # dissect seeks and caches on one handle: each read-ahead thread gets its own
        fh = open(src, "rb")  # noqa: SIM115 - closed below, after the walk
        handles.append(fh)
        own = _squashfs(fh, caches)
        return lambda n: own.inode(n.block, n.offset).open()

    try:
        with open(src, "rb") as f:
            fs = _squashfs(f, caches)
            reader = _inode_reader(lambda n: n.inode_number, fork=fork)
            if accel.unsquashfs() is None:
                walk(fs.get("/"), reader, out)
            else:
                _squashfs_accelerated(src, fs, reader, out)
    finally:
        for fh in handles:
            fh.close()
        for cache in caches:
            cache.cache_clear()  # free the blocks now, not at the next cyclic collection


class _File(NamedTuple):
    """A file entry kept while unsquashfs runs: what revives its dissect inode, and what the
    inode itself says (type, size, number), or None when it cannot be read. A few hundred bytes
    where the inode object is a few KB: 100,000 files wait here."""

    block: int
    offset: int
    name: str
    type: int | None
    number: int | None
    inode: tuple[int, int, int] | None


def _squashfs_accelerated(src: Path, fs: Any, reader: Reader, out: SafeRoot) -> None:
    """List the image, have unsquashfs write the files the listing allows (accel.py), then
    apply the listing: the same decisions, problems and counts as `walk`."""
    try:  # the tables read in one pass (squashfs_tables.py), else dissect's nodes
        tables = squashfs_tables.Tables(fs)
        closed, todo = _listing(tables.root, _tables_reader(tables, reader), out)
    except squashfs_tables.Unlike:
        closed, todo = _listing(fs.get("/"), reader, out)

    def revive(f: _File) -> Any:
        return fs.inode(f.block, f.offset, f.name, f.type, f.number)

    def inode(f: _File) -> tuple[int, int, int]:
        if f.inode is None:
            raise ValueError("unreadable inode")
        return f.inode

    # (the read-ahead `fork` opens by block and offset, which a _File has too)
    files = dataclasses.replace(reader, open=lambda f: revive(f).open(),
                                size=lambda f: revive(f).size)
    take = accel.prepare(src, todo, out, inode, frozenset(closed))
    try:
        apply(todo, files, out, take)
    finally:
        accel.discard(take, out.base)


def _tables_reader(tables: squashfs_tables.Tables, reader: Reader) -> Reader:
    """`reader` with children and links from the one-pass tables (their nodes have the rest
    of dissect's attributes)."""
    return dataclasses.replace(reader, children=lambda n: squashfs_tables.children(tables, n),
                               link=lambda n: squashfs_tables.link(tables, n))


def _listing(top: Any, reader: Reader, out: SafeRoot) -> tuple[set[str], list[Entry]]:
    """The walk's entries under `top`, each file kept as a _File, and the directories whose
    mode denies their owner something (accel.plan's `closed`). A node is dissect's or
    squashfs_tables' (the same attributes)."""
    closed: set[str] = set()
    if top.mode & 0o700 != 0o700:
        closed.add("")

    def light(entry: Entry) -> Entry:
        op, path, node = entry
        if op == MKDIR:
            with contextlib.suppress(Exception):  # the walk reads nothing more of it
                if node.mode & 0o700 != 0o700:
                    closed.add(path)
            return op, path, None
        if op != FILE:
            return entry
        try:
            h = node.header
            inode: tuple[int, int, int] | None = (h.inode_type, h.file_size, h.inode_number)
        except Exception:  # the walk records it when it reads the file
            inode = None
        return op, path, _File(node.block, node.offset, node.name, node._type,
                               node._inode_number, inode)

    return closed, [light(e) for e in entries(top, reader, out)]


SQUASHFS = Format(
    "squashfs",
    "SquashFS 4: gzip, xz, lzma, lzo, lz4, zstd (dissect.squashfs)",
    _squashfs_detect,
    _squashfs_extract,
    through_members=True,
)

# -- CramFS ---------------------------------------------------------------------------------------

def _cramfs_detect(head: bytes, name: str) -> bool:
    return cramfs_layout.layout(head) is not None


def _cramfs_extract(src: Path, out: SafeRoot) -> None:
    from dissect.cramfs import CramFS

    with open(src, "rb") as f:
        head = f.read(cramfs_layout.PAD + 4)
        f.seek(0)
        image: BinaryIO = f
        if not cramfs_layout.readable(head):  # big-endian or padded: a rewritten copy
            image = io.BytesIO(cramfs_layout.normalise(f.read(cramfs_layout.MAX_IMAGE + 1)))
        fs = CramFS(image)
        walk(fs.root, _inode_reader(lambda n: n.offset), out)


CRAMFS = Format("cramfs", "CramFS, little- and big-endian, padded or not (dissect.cramfs)",
                _cramfs_detect, _cramfs_extract, through_members=True)

# -- JFFS2 ----------------------------------------------------------------------------------------

_JFFS2_NODE_TYPES = {0xE001, 0xE002, 0x2003, 0x2004, 0xE008, 0xE009, 0x2006}


def _jffs2_detect(head: bytes, name: str) -> bool:
    if len(head) < 12:
        return False
    for order in ("little", "big"):
        magic = int.from_bytes(head[0:2], order)
        nodetype = int.from_bytes(head[2:4], order)
        if magic == 0x1985 and nodetype in _JFFS2_NODE_TYPES:
            return True
    return False


class _RawLzo:
    """dissect.jffs 1.6 decompresses LZO nodes as if they had an lzop header; JFFS2 stores raw
    LZO1X. Same pure-Python decoder, told there is no header; a data node holds one page at
    most, so 128 KiB of output room covers every page size in use."""

    @staticmethod
    def decompress(buf: bytes) -> bytes:
        from dissect.util.compression import lzo

        return lzo.decompress(buf, False, 1 << 17)


def _jffs2_extract(src: Path, out: SafeRoot) -> None:
    import dissect.jffs.jffs2 as jffs2_module
    from dissect.jffs import JFFS2

    with open(src, "rb") as f:
        image: BinaryIO = f
        if jffs2_layout.big_endian(f.read(4)):  # dissect reads little-endian: a swapped copy
            f.seek(0)
            image = io.BytesIO(jffs2_layout.to_little_endian(f.read(jffs2_layout.MAX_IMAGE + 1)))
        f.seek(0)
        jffs2_module.lzo = _RawLzo
        fs = JFFS2(image)
        reader = Reader(
            children=lambda n: n.iterdir(),
            kind=lambda n: _posix_kind(n.mode),
            key=lambda n: n.inum,
            link=lambda n: n.link,
            open=lambda n: n.open(),
            size=lambda n: n.size,
        )
        walk(fs.get("/"), reader, out)


JFFS2 = Format("jffs2", "JFFS2, little- and big-endian; zlib, lzo (dissect.jffs)",
               _jffs2_detect, _jffs2_extract, through_members=True)

# -- ext2/3/4 -------------------------------------------------------------------------------------

def _ext_detect(head: bytes, name: str) -> bool:
    return len(head) >= 0x43A and head[0x438:0x43A] == b"\x53\xef"


class _Runs(io.RawIOBase):
    """A file's bytes read straight from the image by its data runs (`os.pread`): dissect's
    RunlistStream reads them through two layers of Python buffering (the 7,140 files of the
    rootfs benchmark: 0.47 s that way, 0.31 s this one, in the walk's own process)."""

    def __init__(self, fd: int, pieces: list[tuple[int | None, int]]) -> None:
        super().__init__()
        self.fd = fd
        self.pieces = pieces[::-1]  # (byte offset, or None for zeros; length), last first

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1, /) -> bytes:
        want = (1 << 62) if n is None or n < 0 else n
        out = []
        while want > 0 and self.pieces:
            offset, length = self.pieces.pop()
            take = min(length, want)
            data = bytes(take) if offset is None else os.pread(self.fd, take, offset)
            if len(data) < take:  # the image ends early: what there is, and no more
                self.pieces.clear()
            elif take < length:
                self.pieces.append((None if offset is None else offset + take, length - take))
            out.append(data)
            want -= len(data)
        return b"".join(out)


def _runs_of(node: Any, fd: int, image_size: int, block_size: int) -> BinaryIO:
    """`node.open()`, read by `_Runs` when its data runs lie inside the image and cover its size
    (an ordinary file); anything else (inline data, a run past the image's end, runs shorter
    than the file) is left to dissect, which has its own answer for each."""
    from dissect.extfs.c_ext import c_ext

    size = node.size
    if node.inode.i_flags & c_ext.EXT4_INLINE_DATA_FL or size <= 0:
        return node.open()
    pieces: list[tuple[int | None, int]] = []
    left = size
    for block, count in node.dataruns():
        if left <= 0:
            break
        length = min(count * block_size, left)
        if block is not None and (block < 0 or block * block_size + length > image_size):
            return node.open()
        pieces.append((None if block is None else block * block_size, length))
        left -= length
    if left > 0:
        return node.open()
    return cast(BinaryIO, _Runs(fd, pieces))


def _ext_extract(src: Path, out: SafeRoot) -> None:
    from dissect.extfs import ExtFS

    with open(src, "rb") as f:
        fs = ExtFS(f)
        sb = fs.sb
        fd, image_size, block_size = f.fileno(), os.fstat(f.fileno()).st_size, fs.block_size

        def in_use() -> int:
            # inodes below s_first_ino are reserved (root, journal, resize...) and always used
            first = sb.s_first_ino if sb.s_rev_level else 11
            return int(sb.s_inodes_count - sb.s_free_inodes_count - (first - 1))

        reader = Reader(
            children=lambda n: ((c.filename, c) for c in n.iterdir()),
            kind=lambda n: _posix_kind(n.filetype),
            key=lambda n: n.inum,
            link=lambda n: n.link,
            open=lambda n: _runs_of(n, fd, image_size, block_size),
            size=lambda n: n.size,
            in_use=in_use,
            node_key=lambda n: n.inum,
        )
        walk(fs.root, reader, out)


EXTFS = Format("ext", "ext2, ext3, ext4 (dissect.extfs)", _ext_detect, _ext_extract,
               through_members=True)

# -- FAT ------------------------------------------------------------------------------------------

def _fat_detect(head: bytes, name: str) -> bool:
    if len(head) < 512 or head[510:512] != b"\x55\xaa" or head[0] not in (0xEB, 0xE9):
        return False
    return head[0x36:0x39] == b"FAT" or head[0x52:0x57] == b"FAT32"


def _fat_extract(src: Path, out: SafeRoot) -> None:
    from dissect.fat import FATFS

    def kind(n: Any) -> str:
        if n.is_volume_id():
            return "skip"
        return "dir" if n.is_directory() else "file"

    def name(n: Any) -> str:
        # short names that differ from upper case only by case are stored as 8.3 with the
        # NT "lower-case base/extension" flags, which dissect.fat does not apply
        if n.ldirents or n.short_name in (".", ".."):
            return str(n.name)
        flags = n.dirent.DIR_NTRes
        base, _, ext = str(n.short_name).partition(".")
        base = base.lower() if flags & 0x08 else base
        ext = ext.lower() if flags & 0x10 else ext
        return f"{base}.{ext}" if ext else base

    def children(n: Any) -> Iterable[tuple[str, Any]]:
        return ((name(c), c) for c in n.iterdir() if not c.is_volume_id())

    with open(src, "rb") as f:
        fs = FATFS(f)
        _bound_chains(fs.fat)
        reader = Reader(
            children=children,
            kind=kind,
            key=lambda n: n.cluster,
            link=lambda n: "",
            open=lambda n: n.open(),
            size=lambda n: n.size,
        )
        walk(fs.root, reader, out)


class ChainLoop(FormatProblem):
    kind = ProblemKind.CORRUPT


def _bound_chains(fat: Any) -> None:
    """dissect.fat follows a cluster chain until an end marker, and lists it whole before a
    byte is read: a chain that loops back on itself never ends (22.9 GiB in an hour on a 1 MB
    image). Here a chain that comes back to a cluster it passed, or runs longer than the table
    has entries, stops with an error on that one file or directory (fswalk records it)."""
    follow = fat.chain

    def chain(cluster: int) -> Iterator[int]:
        seen: set[int] = set()
        for n in follow(cluster):
            if n in seen or len(seen) >= fat.entry_count:
                raise ChainLoop(f"cluster chain loops back to cluster {n}")
            seen.add(n)
            yield n

    fat.chain = chain


FAT = Format("fat", "FAT12, FAT16, FAT32 with long names (dissect.fat)", _fat_detect,
             _fat_extract, through_members=True)
