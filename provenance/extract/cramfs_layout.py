"""CramFS images that dissect.cramfs cannot read as they are, rewritten into the layout it reads.

dissect.cramfs reads little-endian images whose superblock is at offset 0. Firmware also holds
big-endian images (MIPS and PowerPC devices; `mkfs.cramfs -N big`) and images padded with 512
bytes of boot code in front (`mkfs.cramfs -p`; offsets stay counted from the padded start).
Like `cramfsswap`, this rewrites a copy: every superblock word, inode and block pointer
byte-swapped, and the superblock copied to offset 0 (the padding is boot code, unused by the
filesystem). File data (zlib streams) and names are byte strings and stay as they are.

Hand-written (no library swaps CramFS). The walk is bounded: every offset is checked against the
image, each directory is visited once, and the entry count is capped, so a hostile image fails
with a FormatProblem, never a loop or an out-of-range read.
"""

from __future__ import annotations

import struct

from provenance.extract.base import FormatProblem, Unsupported

MAGIC_LE = b"\x45\x3d\xcd\x28"
MAGIC_BE = b"\x28\xcd\x3d\x45"
PAD = 512  # `mkfs.cramfs -p`: the superblock after 512 bytes of boot code
SUPER = 64  # superblock without its root inode
INODE = 12
BLOCK = 4096
MAX_IMAGE = 256 << 20  # the kernel's own limit for a CramFS image
MAX_ENTRIES = 1 << 20
# flags this reader understands: fsid v2, sorted dirs, holes, shifted root offset
KNOWN_FLAGS = 0x1 | 0x2 | 0x100 | 0x400


def layout(head: bytes) -> tuple[int, bool] | None:
    """(superblock offset, big-endian) when `head` starts a CramFS image, else None."""
    for offset in (0, PAD):
        magic = head[offset : offset + 4]
        if magic in (MAGIC_LE, MAGIC_BE):
            return offset, magic == MAGIC_BE
    return None


def readable(head: bytes) -> bool:
    """Whether dissect reads the image as it is (little-endian, superblock at 0)."""
    return head.startswith(MAGIC_LE)


def _swap_inode(word0: int, word1: int, word2: int) -> bytes:
    """A big-endian inode (bitfields packed from the top) as the little-endian one."""
    mode, uid = word0 >> 16, word0 & 0xFFFF
    size, gid = word1 >> 8, word1 & 0xFF
    namelen, offset = word2 >> 26, word2 & 0x3FFFFFF
    return struct.pack("<III", mode | uid << 16, size | gid << 24, namelen | offset << 6)


def normalise(data: bytes) -> bytes:
    """A little-endian copy with the superblock at offset 0; raises FormatProblem."""
    found = layout(data[: PAD + 4])
    if found is None:
        raise FormatProblem("not a CramFS image")
    base, big = found
    if len(data) > MAX_IMAGE:
        raise Unsupported(f"CramFS image over {MAX_IMAGE >> 20} MiB")
    if len(data) < base + SUPER + INODE:
        raise FormatProblem("CramFS superblock truncated")
    out = bytearray(data)
    if not big:
        out[: SUPER + INODE] = data[base : base + SUPER + INODE]
        return bytes(out)
    u32 = struct.Struct(">I")
    flags = u32.unpack_from(data, base + 8)[0]
    if flags & ~KNOWN_FLAGS:
        raise Unsupported(f"CramFS flags 0x{flags:x} (block pointer extensions)")

    def word(at: int) -> int:
        if at < 0 or at + 4 > len(data):
            raise FormatProblem(f"CramFS offset 0x{at:x} past the end of the image")
        return int(u32.unpack_from(data, at)[0])

    def inode(at: int) -> tuple[int, int, int, int]:
        """Swap the inode at `at` in place; (mode, size, name length, data offset)."""
        w0, w1, w2 = word(at), word(at + 4), word(at + 8)
        out[at : at + INODE] = _swap_inode(w0, w1, w2)
        return w0 >> 16, w1 >> 8, (w2 >> 26) * 4, (w2 & 0x3FFFFFF) * 4

    for at in range(base, base + 16, 4):  # magic, size, flags, future
        out[at : at + 4] = struct.pack("<I", word(at))
    for at in range(base + 32, base + 48, 4):  # fsid: crc, edition, blocks, files
        out[at : at + 4] = struct.pack("<I", word(at))
    directories = [inode(base + SUPER)]
    seen: set[int] = set()
    entries = 0
    while directories:
        _, size, _, offset = directories.pop()
        if offset in seen or not size:
            continue
        seen.add(offset)
        at, end = offset, offset + size
        while at < end:
            entries += 1
            if entries > MAX_ENTRIES:
                raise FormatProblem("CramFS has more than a million directory entries")
            child = inode(at)
            kind = child[0] & 0o170000
            if kind == 0o040000:
                directories.append(child)
            elif kind in (0o100000, 0o120000) and child[1]:  # file or symlink data
                blocks = (child[1] + BLOCK - 1) // BLOCK
                for pointer in range(child[3], child[3] + 4 * blocks, 4):
                    out[pointer : pointer + 4] = struct.pack("<I", word(pointer))
            at += INODE + child[2]
    if base:
        out[:SUPER + INODE] = out[base : base + SUPER + INODE]
    return bytes(out)
