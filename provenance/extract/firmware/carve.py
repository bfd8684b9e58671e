"""Carving of raw flash dumps: find known formats at any offset, keep the gaps as unknown regions.

Candidates come from `mmap.find` per magic, window by window (bounded per magic and in total),
for the magics one YARA pass (`_magics_in`) saw anywhere in the blob; each is validated and
measured by its own header before it is carved, and a carved region hides
the candidates inside it (the walker unpacks those recursively). Gaps that are not padding
(0x00/0xFF) become `0x<start>-0x<end>_entropy<H>.unknown` members; above 7.5 bits/byte they
also get a Problem of kind "encrypted-or-compressed" since we cannot say what they hold.
"""

from __future__ import annotations

import functools
import mmap
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.extract.base import Format, uniform_byte
from provenance.extract.firmware import android, fdt, trx, uefi, uimage
from provenance.extract.firmware._io import Blob, compressed_end, entropy, is_padding, put
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAX_HITS_PER_MAGIC = 1 << 16
MAX_CANDIDATES = 1 << 18
MAX_MEMBERS = 4096
HIGH_ENTROPY = 7.5
BLOCK = 4096  # padding is looked for in aligned blocks of this size
Measure = Callable[[Blob, int], "int | None"]  # start -> end (exclusive), or None if invalid


def _hdr(blob: Blob, off: int, n: int) -> bytes:
    return bytes(blob.mm[off : min(blob.size, off + n)])


def _stream(kind: str) -> Measure:
    # bounded by the blob's output bound and time check (the carver sets both from the limits)
    return lambda blob, off: compressed_end(blob.mm, off, blob.size, kind, blob.max_out,
                                            blob.check, blob.over)


def _uimage(blob: Blob, off: int) -> int | None:
    head = _hdr(blob, off, 64)
    return off + uimage.extent(head) if uimage.header_ok(head) else None


def _squashfs(blob: Blob, off: int) -> int | None:
    head = _hdr(blob, off, 96)
    if len(head) < 96:
        return None
    _, _, block, _, _, block_log, _, _, major = struct.unpack("<IIIIHHHHH", head[4:30])
    used = struct.unpack("<Q", head[40:48])[0]
    if major != 4 or block != 1 << block_log or not 96 <= used <= blob.size - off:
        return None
    return off + used


def _jffs2(order: str) -> Measure:
    magic = struct.pack(order + "H", 0x1985)

    def measure(blob: Blob, off: int) -> int | None:
        """Walk JFFS2 nodes (header CRC checked), skipping erased space between them."""
        if off % 4:
            return None  # nodes are 4-byte aligned in every image mkfs.jffs2 writes
        pos, last = off, None
        while pos + 12 <= blob.size:
            word, _, total, crc = struct.unpack(order + "HHII", _hdr(blob, pos, 12))
            if word == 0x1985 and _jffs2_crc(_hdr(blob, pos, 8)) == crc and total >= 12:
                pos = (pos + total + 3) & ~3
                last = min(pos, blob.size)
                continue
            if last is None:
                return None
            nxt = _after_padding(blob, pos)
            if nxt is None or nxt + 2 > blob.size or _hdr(blob, nxt, 2) != magic:
                break
            pos = nxt
        return last

    return measure


def _jffs2_crc(data: bytes) -> int:
    import zlib

    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF  # crc32 seeded 0, no final inversion


def _after_padding(blob: Blob, pos: int) -> int | None:
    """First 4-byte aligned offset after a run of 0xFF at `pos` (within 1 MiB), if any."""
    end = min(blob.size, pos + (1 << 20))
    i = pos
    while i < end and blob.mm[i] == 0xFF:
        if i % BLOCK == 0 and is_padding(blob.mm, i, min(BLOCK, end - i)):
            i += BLOCK
        else:
            i += 1
    return i & ~3 if i < end and i > pos else None


def _ubi(blob: Blob, off: int) -> int | None:
    head = _hdr(blob, off, 64)
    if len(head) < 64 or head[4] != 1:
        return None
    vid, data = struct.unpack(">II", head[16:24])
    nxt = blob.mm.find(b"UBI#", off + 4, min(blob.size, off + (4 << 20)))
    peb = nxt - off if nxt > 0 else blob.size - off
    if not 0 < vid < data <= peb or peb & (peb - 1):
        return None
    pos = off
    while pos + 4 <= blob.size and _hdr(blob, pos, 4) == b"UBI#":
        pos += peb
    return min(pos, blob.size)


def _cramfs(order: str) -> Measure:
    def measure(blob: Blob, off: int) -> int | None:
        head = _hdr(blob, off, 64)
        if len(head) < 64 or head[16:32] != b"Compressed ROMFS":
            return None
        size = struct.unpack(order + "I", head[4:8])[0]
        return off + size if 64 <= size <= blob.size - off else None

    return measure


def _zip(blob: Blob, off: int) -> int | None:
    eocd = blob.mm.find(b"PK\x05\x06", off)
    if eocd < 0 or eocd + 22 > blob.size:
        return None
    return eocd + 22 + struct.unpack("<H", _hdr(blob, eocd + 20, 2))[0]


def _sevenzip(blob: Blob, off: int) -> int | None:
    head = _hdr(blob, off, 32)
    if len(head) < 32:
        return None
    nxt_off, nxt_size = struct.unpack("<QQ", head[12:28])
    end = off + 32 + nxt_off + nxt_size
    return end if nxt_size and end <= blob.size else None


def _fdt(blob: Blob, off: int) -> int | None:
    hdr = fdt.header(_hdr(blob, off, 40), blob.size - off)
    return off + hdr[0] if hdr else None


def _trx(blob: Blob, off: int) -> int | None:
    head = _hdr(blob, off, 28)
    return off + trx.extent(head) if trx.detect(head, "") and trx.extent(head) <= blob.size - off \
        else None


def _android_boot(blob: Blob, off: int) -> int | None:
    head = _hdr(blob, off, 4096)
    return off + android.boot_extent(head) if android.boot_layout(head) else None


def _fv(blob: Blob, off: int) -> int | None:
    start = off - 40  # the signature sits 40 bytes into the volume header
    hdr = uefi.fv_header(_hdr(blob, start, 64)) if start >= 0 else None
    return start + hdr[0] if hdr and hdr[0] <= blob.size - start else None


def _ext(blob: Blob, off: int) -> int | None:
    start = off - 1080  # superblock at 1024, s_magic 56 bytes into it
    if start < 0:
        return None
    sb = _hdr(blob, start + 1024, 64)
    if len(sb) < 64:
        return None
    blocks, log = struct.unpack("<I", sb[4:8])[0], struct.unpack("<I", sb[24:28])[0]
    if log > 6 or not blocks:
        return None
    end = start + blocks * (1024 << log)
    return end if end <= blob.size else None


# (magic, extension, offset of the magic inside the format, measure)
SIGNATURES: tuple[tuple[bytes, str, int, Measure], ...] = (
    (uimage.MAGIC, "uimage", 0, _uimage),
    (b"hsqs", "squashfs", 0, _squashfs),
    (b"\x85\x19", "jffs2", 0, _jffs2("<")),
    (b"\x19\x85", "jffs2", 0, _jffs2(">")),
    (b"UBI#", "ubi", 0, _ubi),
    (b"\x45\x3d\xcd\x28", "cramfs", 0, _cramfs("<")),
    (b"\x28\xcd\x3d\x45", "cramfs", 0, _cramfs(">")),
    (b"\x1f\x8b\x08", "gz", 0, _stream("gzip")),
    (b"\xfd7zXZ\x00", "xz", 0, _stream("xz")),
    (b"BZh91AY&SY", "bz2", 0, _stream("bzip2")),
    (b"PK\x03\x04", "zip", 0, _zip),
    (b"7z\xbc\xaf\x27\x1c", "7z", 0, _sevenzip),
    (fdt.MAGIC, "dtb", 0, _fdt),
    (trx.MAGIC, "trx", 0, _trx),
    (android.BOOT_MAGIC, "android-boot.img", 0, _android_boot),
    (android.SPARSE_MAGIC, "sparse.img", 0, lambda b, o: android.sparse_extent(b, o)),
    (uefi.FVH, "fv", 40, _fv),
    (b"\x53\xef", "ext", 1080, _ext),
)


# blobs that are not flash dumps even though no extractor claims them: executables, media,
# databases, a bare device tree (a leaf that identification reads), message catalogues and time
# zones. A root filesystem holds thousands of gettext catalogues (magic 0x950412de in either
# byte order, GNU gettext manual, "The Format of GNU MO Files"), and 1 in 17 of those of the
# rootfs benchmark holds a two-byte JFFS2 magic by chance: each was carved for nothing.
# TZif: RFC 8536.
NOT_FLASH = (
    b"\x7fELF", b"MZ", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"dex\n",
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"%PDF", b"SQLite format 3", b"\x00asm",
    b"\xd0\x0d\xfe\xed", b"OggS", b"ID3", b"wOFF", b"wOF2", b"\x00\x01\x00\x00\x00", b"OTTO",
    b"\xde\x12\x04\x95", b"\x95\x04\x12\xde", b"TZif",
)


def detect(head: bytes, name: str) -> bool:
    """Cheap pre-filter; the real decision is whether extract finds anything to carve."""
    if len(head) < 64 or head.startswith(NOT_FLASH):
        return False
    if name.endswith(".unknown"):
        return False  # a gap we carved: it was already scanned and held nothing we know
    text = len(head) - len(head.translate(None, _TEXT_BYTES))  # in C: a per-byte loop was slow
    return text < 0.97 * len(head)  # binary enough; text files are (nearly) all printable


_TEXT_BYTES = bytes([*range(32, 127), 9, 10, 13])


# The dump is searched window by window, and a carved region moves the next window past its
# end: the bytes inside a region are never searched (its own reader unpacks them), which in a
# dump that is mostly one filesystem saves a pass per magic over nearly the whole file.
WINDOW = 4 << 20


@functools.cache
def _magic_rules() -> Any:
    """One YARA rule per signature (rule `m<index>`), compiled once per process."""
    from provenance.signatureset.compile import compile_yara

    source = "\n".join(f"rule m{i} {{ strings: $m = {{ {magic.hex(' ')} }} condition: $m }}"
                       for i, (magic, _, _, _) in enumerate(SIGNATURES))
    return compile_yara({"magics": source})


def _magics_in(data: bytes | mmap.mmap) -> list[int] | None:
    """The indices of the signatures whose magic occurs anywhere in `data`, from one YARA pass
    in fast mode (a string's first instance only: a million matches of a two-byte magic in
    random data cost one object). Each `mmap.find` pass over a magic that is not there reads
    the whole blob: carving a 16 MiB random blob, which holds 4 of the 18 magics, took 0.17 s
    and takes 0.08 s, of which YARA's pass 0.02 to 0.03 s. None: YARA failed, every magic is
    searched."""
    try:
        matches = _magic_rules().match(data=data, fast=True, timeout=60)
    except Exception:  # yara.Error, a timeout, memory: the passes decide, as before
        return None
    return sorted(int(m.rule[1:]) for m in matches)


def _window_hits(blob: Blob, lo: int, hi: int, found: list[int],
                 present: list[int] | None = None) -> list[tuple[int, int]]:
    """(position, signature index) of every magic starting in [lo, hi), bounded per magic;
    `present`: the only signatures whose magic the blob holds, when known."""
    hits: list[tuple[int, int]] = []
    for i in range(len(SIGNATURES)) if present is None else present:
        magic = SIGNATURES[i][0]
        stop = min(blob.size, hi + len(magic) - 1)
        pos = blob.mm.find(magic, lo, stop)
        while pos >= 0 and found[i] < MAX_HITS_PER_MAGIC:
            hits.append((pos, i))
            found[i] += 1
            pos = blob.mm.find(magic, pos + 1, stop)
    hits.sort()
    return hits


def regions(blob: Blob, out: SafeRoot) -> list[tuple[int, int, str]]:
    """Carved (start, end, extension), sorted and non-overlapping."""
    found = [0] * len(SIGNATURES)
    present = _magics_in(blob.mm)
    carved: list[tuple[int, int, str]] = []
    cursor = checked = lo = 0
    while lo < blob.size and checked < MAX_CANDIDATES and len(carved) < MAX_MEMBERS:
        hi = min(blob.size, lo + WINDOW)
        for pos, i in _window_hits(blob, lo, hi, found, present):
            _, ext, delta, measure = SIGNATURES[i]
            start = pos - delta
            if start < cursor:
                continue  # inside a region carved already (or before the dump)
            checked += 1
            end = measure(blob, pos)
            if end is not None and end > start and not (start == 0 and end >= blob.size):
                carved.append((start, end, ext))
                cursor = end
            if checked >= MAX_CANDIDATES or len(carved) >= MAX_MEMBERS:
                break
            if checked % 256 == 0:
                out.check_time()
        out.check_time()
        lo = max(hi, cursor)
    if checked >= MAX_CANDIDATES:
        out.problem(f"carving stopped after {MAX_CANDIDATES} candidates", ProblemKind.LIMIT)
    return carved


def gaps(blob: Blob, carved: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Non-padding stretches between carved regions, split at padding blocks."""
    result: list[tuple[int, int]] = []
    bounds = [0] + [x for s, e, _ in carved for x in (s, e)] + [blob.size]
    for lo, hi in zip(bounds[::2], bounds[1::2], strict=True):
        run: int | None = None
        p = lo
        while p < hi:
            q = min(hi, (p // BLOCK + 1) * BLOCK)
            pad = is_padding(blob.mm, p, q - p)
            if not pad and run is None:
                run = p
            elif pad and run is not None:
                result.append((run, p))
                run = None
            p = q
        if run is not None:
            result.append((run, hi))
    return [_trim(blob, a, b) for a, b in result]


def _trim(blob: Blob, a: int, b: int) -> tuple[int, int]:
    """Drop partial padding at both ends (looking at one block on each side only)."""
    head = bytes(blob.mm[a : min(b, a + BLOCK)])
    if head and head[0] in (0x00, 0xFF):
        a += len(head) - len(head.lstrip(head[:1]))
    tail = bytes(blob.mm[max(a, b - BLOCK) : b])
    if tail and tail[-1] in (0x00, 0xFF):
        b -= len(tail) - len(tail.rstrip(tail[-1:]))
    return a, b


# Every magic in one pattern: a file where none occurs has nothing to carve. One pass of the
# regex engine (it skips to the magics' first bytes) costs a fraction of the 19 `find`s, and
# most binaries in a root filesystem hold no magic at all.
_ANY_MAGIC = re.compile(b"|".join(re.escape(m) for m in sorted(
    {m for m, _, _, _ in SIGNATURES}, key=len, reverse=True)))
_READ_WHOLE = 4 << 20  # smaller files are read, larger mapped: mapping costs more than reading


def has_magic(src: Path) -> bool:
    """Whether any magic the carver knows occurs in the file: without one, `extract` would
    carve nothing and write nothing, so the walker keeps the file a plain leaf and spends no
    container on it. A file of one repeated byte holds none (and is never mapped)."""
    if uniform_byte(src) is not None:
        return False
    with open(src, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size <= _READ_WHOLE:
            return _ANY_MAGIC.search(f.read()) is not None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return _ANY_MAGIC.search(mm) is not None


def extract(src: Path, out: SafeRoot) -> None:
    if uniform_byte(src) is not None:
        return  # erased flash or padding: nothing to carve, and no need to map it all
    with Blob(src) as blob:
        if blob.size < 64:
            return
        # a stream longer than a member may be would be refused anyway: do not decode it all
        blob.max_out = min(blob.max_out, out.budget.limits.max_member_bytes)
        blob.check = out.check_time
        carved = regions(blob, out)
        for off in blob.over[:20]:
            out.problem(f"a compressed stream at 0x{off:x} decodes past {blob.max_out} bytes "
                        "(the member limit); not carved", ProblemKind.LIMIT)
        if not carved:
            return  # not a flash dump we understand: write nothing, claim nothing
        for start, end, ext in carved:
            put(out, f"0x{start:08x}.{ext}", blob, start, end - start)
        for a, b in gaps(blob, carved)[:MAX_MEMBERS]:
            h = entropy(blob.mm, a, b - a)
            name = f"0x{a:08x}-0x{b:08x}_entropy{h:.2f}.unknown"
            put(out, name, blob, a, b - a)
            if h > HIGH_ENTROPY:
                out.problem(f"unknown region of {b - a} bytes with entropy {h:.2f} bits/byte",
                            ProblemKind.ENCRYPTED_OR_COMPRESSED, name)


FORMAT = Format("flash", "Raw flash dump: known formats carved at any offset, gaps kept with "
                "their entropy", detect, extract, confirm=has_magic, through_members=True)

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 1000  # last of all: it accepts any binary head
