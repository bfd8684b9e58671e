"""Big-endian JFFS2 images rewritten little-endian, the byte order dissect.jffs reads.

MIPS and PowerPC devices write JFFS2 in their own byte order (`mkfs.jffs2 -b`). Every node
starts with the same header (magic 0x1985, node type, total length, header CRC); directory
entries and inodes add fixed fields after it. This swaps the header of every node, and the
fields of directory entries and inodes; names and (compressed) data are byte strings and stay.
dissect.jffs does not check node CRCs, so they are swapped like any other word.

Hand-written (no library swaps JFFS2). Nodes are looked for at 4-byte alignment, as the kernel
does; a length that runs past the image or below a header ends that node, and the scan moves on
by 4 bytes, so a hostile image cannot make it loop or read out of range.
"""

from __future__ import annotations

import struct

from provenance.extract.base import FormatProblem, Unsupported

MAGICS = (0x1985, 0x1984)  # current and old magic
DIRENT, INODE = 0xE001, 0xE002
HEADER = struct.Struct(">HHII")  # magic, node type, total length, header CRC
# after the header: pino, version, ino, mctime, nsize, type, unused[2], node_crc, name_crc
DIRENT_FIELDS = struct.Struct(">IIIIBB2sII")
# after the header: ino, version, mode, uid, gid, isize, atime, mtime, ctime, offset, csize,
# dsize, compr, usercompr, flags, data_crc, node_crc
INODE_FIELDS = struct.Struct(">IIIHHIIIIIIIBBHII")
MAX_IMAGE = 512 << 20


def big_endian(head: bytes) -> bool:
    return len(head) >= 4 and int.from_bytes(head[:2], "big") in MAGICS


def _swap(out: bytearray, at: int, layout: struct.Struct) -> None:
    fields = layout.unpack_from(out, at)
    struct.pack_into("<" + layout.format[1:], out, at, *fields)


def to_little_endian(data: bytes) -> bytes:
    """A copy of a big-endian JFFS2 image in little-endian order; raises FormatProblem."""
    if len(data) > MAX_IMAGE:
        raise Unsupported(f"JFFS2 image over {MAX_IMAGE >> 20} MiB")
    if not big_endian(data):
        raise FormatProblem("not a big-endian JFFS2 image")
    out = bytearray(data)
    pos = nodes = 0
    while pos + HEADER.size <= len(data):
        magic, nodetype, totlen, _ = HEADER.unpack_from(data, pos)
        if magic not in MAGICS or totlen < HEADER.size or pos + totlen > len(data):
            pos += 4
            continue
        body = pos + HEADER.size
        if nodetype == DIRENT and totlen >= HEADER.size + DIRENT_FIELDS.size:
            _swap(out, body, DIRENT_FIELDS)
        elif nodetype == INODE and totlen >= HEADER.size + INODE_FIELDS.size:
            _swap(out, body, INODE_FIELDS)
        _swap(out, pos, HEADER)
        nodes += 1
        pos += (totlen + 3) & ~3
    if not nodes:
        raise FormatProblem("no JFFS2 node found")
    return bytes(out)
