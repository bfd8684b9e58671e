"""A SquashFS 4 image's inode and directory tables read in one pass, for the accelerator's listing.

Listing an image through dissect's nodes costs about 70 µs an entry (a cstruct parse of each
directory entry and inode header, and a node object each): 0.5 s of the 7,140-file benchmark
and 8 s at 100,000 files, in the main process, before unsquashfs can start. Here both tables
are decompressed whole, with dissect's own block reader (so the bytes are the same), and each
entry is unpacked with `struct`: a few µs.

The nodes mirror what dissect's `INode` gives for the same (block, offset): name, the directory
entry's type and inode number, the inode's header fields, mode, link target, children in the
same order. Nothing is decided differently: whatever dissect would handle in its own way (a
reference past a block's end or past the tables, an inode type it has no structure for, a short
read, an undecodable block) raises `Unlike`, and the caller lists the image with dissect
instead. `Unlike` is a BaseException so that the walk's own handlers, which turn a reader's
error into a Problem, do not catch it.
"""

from __future__ import annotations

import stat
import struct
from collections.abc import Iterator
from typing import Any

# the inode header structures by type (dissect.squashfs.c_squashfs), after the 16-byte base:
# the fields a listing reads, and the header's whole length
_BASE = struct.Struct("<HHHHII")  # inode_type, mode, uid, guid, mtime, inode_number
_DIR = struct.Struct("<IIHHI")  # start_block, nlink, file_size, offset, parent_inode
_LDIR = struct.Struct("<IIIIHHI")  # nlink, file_size, start_block, parent, i_count, offset, xattr
_REG = struct.Struct("<IIII")  # start_block, fragment, offset, file_size
_LREG = struct.Struct("<QqqIIII")  # start_block, file_size, sparse, nlink, fragment, offset, xattr
_SYMLINK = struct.Struct("<II")  # nlink, symlink_size
_DIR_HEADER = struct.Struct("<III")  # count, start_block, inode_number
_DIR_ENTRY = struct.Struct("<HhHH")  # offset, inode_number, type, size
_LENGTHS = {1: 32, 2: 32, 3: 24, 4: 24, 5: 24, 6: 16, 7: 16, 8: 40, 9: 56, 10: 24, 11: 28,
            12: 28, 13: 24, 14: 24}
# dissect.squashfs.c_squashfs.TYPE_MAP: an inode or entry type's S_IF* bits
_TYPES = (None, stat.S_IFDIR, stat.S_IFREG, stat.S_IFLNK, stat.S_IFBLK, stat.S_IFCHR,
          stat.S_IFIFO, stat.S_IFSOCK, stat.S_IFDIR, stat.S_IFREG, stat.S_IFLNK, stat.S_IFBLK,
          stat.S_IFCHR, stat.S_IFIFO, stat.S_IFSOCK)
# a listing's tables beyond these go the dissect way (a hostile table of tiny blocks must not
# keep this loop busy): 100,000 files take about 8 MB in 1,000 blocks
MAX_TABLE_BYTES = 256 << 20
MAX_TABLE_BLOCKS = 1 << 20


class Unlike(BaseException):
    """Something dissect would read its own way: list the image with dissect instead."""


class _Table:
    """One metadata table decompressed whole: offsets of its blocks (relative to the table's
    start, as inodes and directories give them) -> where their bytes begin here."""

    def __init__(self, fs: Any, start: int, end: int) -> None:
        parts: list[bytes] = []
        self.starts: dict[int, tuple[int, int]] = {}  # block -> (position, length)
        block, size = start, 0
        while block < end:
            try:
                following, data = fs._read_block(block)
            except Exception:  # past the table's real end (an index, not a block): stop there
                break
            if not data or following <= block:  # past the end of the file
                break
            self.starts[block - start] = (size, len(data))
            parts.append(data)
            size += len(data)
            if size > MAX_TABLE_BYTES or len(parts) > MAX_TABLE_BLOCKS:
                raise Unlike("metadata table past the listing's bounds")
            block = following
        self.data = b"".join(parts)

    def at(self, block: int, offset: int) -> int:
        """Where (block, offset) is in `data`; past the block's own bytes is dissect's way."""
        found = self.starts.get(block)
        if found is None or offset > found[1]:
            raise Unlike(f"metadata reference ({block}, {offset}) not at a block")
        return found[0] + offset

    def read(self, pos: int, length: int) -> bytes:
        if pos < 0 or pos + length > len(self.data):
            raise Unlike("metadata read past the table")
        return self.data[pos:pos + length]


class Node:
    """What dissect's INode says of one inode, read eagerly: a listing asks all of it."""

    __slots__ = (
        "_dir",
        "_end",
        "_inode_number",
        "_type",
        "block",
        "header",
        "inode_number",
        "mode",
        "name",
        "offset",
    )

    def __init__(self, tables: Tables, block: int, offset: int, name: str | None = None,
                 type: int | None = None, inode_number: int | None = None) -> None:
        self.block, self.offset, self.name = block, offset, name
        self._type, self._inode_number = type, inode_number
        inodes = tables.inodes
        pos = inodes.at(block, offset)
        base = _BASE.unpack(inodes.read(pos, 16))
        kind = base[0]
        length = _LENGTHS.get(kind)
        if length is None:
            raise Unlike(f"inode type {kind}")
        raw = inodes.read(pos, length)
        self.header = _Header(kind, base[1], base[5], raw)
        self._end = pos + length  # where a symlink's target begins
        self._dir: tuple[int, int, int] | None = None
        said = type or kind  # dissect: the directory entry's type, else the inode's
        bits = _TYPES[said] if said < len(_TYPES) else None
        if bits is None:
            raise Unlike(f"entry type {said}")
        self.mode = base[1] | bits
        self.inode_number = inode_number or base[5]
        if bits == stat.S_IFDIR:
            self._dir = self.header.directory()


class _Header:
    """The inode header fields a listing reads (dissect's header attribute names)."""

    __slots__ = ("_raw", "file_size", "inode_number", "inode_type", "mode", "symlink_size")

    file_size: int  # unset (AttributeError) where dissect's structure has no such field
    symlink_size: int

    def __init__(self, kind: int, mode: int, number: int, raw: bytes) -> None:
        self.inode_type, self.mode, self.inode_number, self._raw = kind, mode, number, raw
        if kind == 2:
            self.file_size = _REG.unpack_from(raw, 16)[3]
        elif kind == 9:
            self.file_size = _LREG.unpack_from(raw, 16)[1]
        elif kind == 1:
            self.file_size = _DIR.unpack_from(raw, 16)[2]
        elif kind == 8:
            self.file_size = _LDIR.unpack_from(raw, 16)[1]
        elif kind in (3, 10):
            self.symlink_size = _SYMLINK.unpack_from(raw, 16)[1]

    def directory(self) -> tuple[int, int, int]:
        """(start_block, offset, file_size) of a directory inode's listing."""
        if self.inode_type == 1:
            start, _, size, offset, _ = _DIR.unpack_from(self._raw, 16)
        elif self.inode_type == 8:
            _, size, start, _, _, offset, _ = _LDIR.unpack_from(self._raw, 16)
        else:
            raise Unlike("a directory entry on a non-directory inode")
        return start, offset, size


class Tables:
    """The inode and directory tables of `fs` (a dissect SquashFS), for `Node`s."""

    def __init__(self, fs: Any) -> None:
        sb = fs.sb
        starts = [sb.fragment_table_start, sb.lookup_table_start, sb.id_table_start,
                  sb.xattr_id_table_start, sb.bytes_used]  # -1 where a table is absent
        after = [s for s in starts if s > sb.directory_table_start]
        self.inodes = _Table(fs, sb.inode_table_start, sb.directory_table_start)
        self.directories = _Table(fs, sb.directory_table_start, min(after, default=0))
        self.root = Node(self, sb.root_inode >> 16, sb.root_inode & 0xFFFF, name="/")


def children(tables: Tables, node: Node) -> Iterator[tuple[str, Node]]:
    """(name, node) of each entry, as dissect's `iterdir` lists them."""
    if node._dir is None:
        raise Unlike("not a directory")
    start, offset, size = node._dir
    if size == 3:
        return
    table = tables.directories
    pos = table.at(start, offset)
    read = 0
    while read < size - 3:
        count, block, base = _DIR_HEADER.unpack(table.read(pos, 12))
        pos += 12
        read += 12
        for _ in range(count + 1):
            at, number, kind, length = _DIR_ENTRY.unpack(table.read(pos, 8))
            raw = table.read(pos + 8, length + 1)
            pos += 9 + length
            read += 9 + length
            name = raw.decode(errors="surrogateescape")
            yield name, Node(tables, block, at, name, kind, base + number)


def link(tables: Tables, node: Node) -> str:
    """A symlink's target, as dissect's `link` reads it."""
    size = getattr(node.header, "symlink_size", None)
    if size is None:
        raise Unlike("not a symlink")
    return tables.inodes.read(node._end, size).decode(errors="surrogateescape")
