"""UEFI firmware volumes (FV header, FFS files, their sections) and capsules (PI spec layouts).

Volumes are walked by hand with every size checked against the volume; files become members
named by GUID, and their sections are emitted one by one (PE32/TE/raw/nested volumes as is,
LZMA GUID-defined sections decompressed), named after the file's UI section when there is one.
"""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.firmware._io import (
    Blob,
    Corrupt,
    Namer,
    ascii_name,
    decompress_stream,
    put,
    trailer,
)
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

FVH = b"_FVH"
MAX_FILES = 10_000
MAX_SECTIONS = 1_000
FFS_ATTRIB_LARGE_FILE = 0x01
FFS_PAD = 0xF0
LZMA_GUID = uuid.UUID("ee4e5898-3914-4259-9d6e-dc7bd79403cf")
CRC32_GUID = uuid.UUID("fc1bcdb0-7d31-49aa-936a-a4600d9dd083")
MAX_NESTING = 8
MAX_LZMA = 256 << 20  # one decompressed LZMA section, held in memory to walk its sections
SECTION_EXT = {0x10: "pe32", 0x11: "pic", 0x12: "te", 0x13: "dxe.depex", 0x14: "ver",
               0x17: "fv", 0x18: "freeform", 0x19: "raw", 0x1B: "pei.depex", 0x1C: "smm.depex"}
SEC_COMPRESSION, SEC_GUID_DEFINED, SEC_UI = 0x01, 0x02, 0x15

CAPSULE_GUIDS = {
    uuid.UUID("3b6686bd-0d76-4030-b70e-b5519e2fc5a0"),  # EFI_CAPSULE_GUID
    uuid.UUID("6dcbd5ed-e82d-4c44-bda1-7194199ad92a"),  # EFI_FMP_CAPSULE_GUID
    uuid.UUID("4a3ca68b-7723-48fb-803d-578cc1fec44d"),  # EDK2 / vendor tools
    uuid.UUID("539182b9-abb5-4391-b69a-e3a943f72fcc"),  # (seen in vendor update capsules)
}
_CAPSULE_GUID_BYTES = frozenset(g.bytes_le for g in CAPSULE_GUIDS)
FMP_GUID = uuid.UUID("6dcbd5ed-e82d-4c44-bda1-7194199ad92a")


def fv_header(buf: bytes) -> tuple[int, int, int] | None:
    """(FvLength, HeaderLength, ExtHeaderOffset) of a volume starting at buf[0], if sane."""
    if len(buf) < 56 or buf[40:44] != FVH:
        return None
    length = struct.unpack("<Q", buf[32:40])[0]
    hlen, _, ext = struct.unpack("<HHH", buf[48:54])
    if hlen < 56 or hlen % 2 or length < hlen or length > 1 << 40:
        return None
    return length, hlen, ext


def detect_fv(head: bytes, name: str) -> bool:
    return fv_header(head) is not None


def extract_fv(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        hdr = fv_header(blob.read(0, min(blob.size, 64)))
        if hdr is None:
            raise Corrupt("bad firmware volume header")
        length, hlen, ext = hdr
        if length > blob.size:
            out.problem(f"volume length {length:#x} past the end of the file",
                        ProblemKind.TRUNCATED)
            length = blob.size
        if sum(struct.unpack(f"<{hlen // 2}H", blob.read(0, hlen))) & 0xFFFF:
            out.problem("volume header checksum mismatch", ProblemKind.CORRUPT)
        first = hlen
        if ext and blob.has(ext, 20):
            first = max(first, ext + blob.unpack("<I", ext + 16)[0])
        _files(blob, out, (first + 7) & ~7, length)
        trailer(out, blob, length)


def _files(blob: Blob, out: SafeRoot, pos: int, end: int) -> None:
    erase = 0xFF  # free space in a volume is erased flash
    names = Namer()
    for _ in range(MAX_FILES):
        if pos + 24 > end:
            return
        hdr = blob.read(pos, 24)
        if hdr == bytes([erase]) * 24:
            return  # free space
        guid = uuid.UUID(bytes_le=hdr[:16])
        ftype, attrs = hdr[18], hdr[19]
        size = int.from_bytes(hdr[20:23], "little")
        hsize = 24
        if attrs & FFS_ATTRIB_LARGE_FILE:
            if pos + 32 > end:
                return
            size, hsize = blob.unpack("<Q", pos + 24)[0], 32
        if size < hsize or pos + size > end:
            out.problem(f"file {guid} at {pos:#x} runs past the volume", ProblemKind.CORRUPT)
            return
        if ftype != FFS_PAD:
            _file(blob, out, names, str(guid), pos + hsize, pos + size)
        pos = (pos + size + 7) & ~7
        out.check_time()
    out.problem(f"more than {MAX_FILES} files in one volume", ProblemKind.LIMIT)


def _sections(blob: Blob, pos: int, end: int) -> list[tuple[int, int, int]]:
    """(type, body offset, body size) for each section in [pos, end), 4-byte aligned."""
    result: list[tuple[int, int, int]] = []
    while pos + 4 <= end and len(result) < MAX_SECTIONS:
        size = int.from_bytes(blob.read(pos, 3), "little")
        stype = blob.mm[pos + 3]
        hsize = 4
        if size == 0xFFFFFF:  # extended size
            if pos + 8 > end:
                break
            size, hsize = blob.unpack("<I", pos + 4)[0], 8
        if size < hsize or pos + size > end:
            break
        result.append((stype, pos + hsize, size - hsize))
        pos = (pos + size + 3) & ~3
    return result


def _file(blob: Blob, out: SafeRoot, names: Namer, guid: str, body: int, end: int) -> None:
    sections = _sections(blob, body, end)
    if not sections or sum(n for _, _, n in sections) == 0:
        put(out, names(f"{guid}.ffs"), blob, body, end - body)
        return
    label = guid
    for stype, off, n in sections:
        if stype == SEC_UI and n >= 2:
            text = blob.read(off, n).decode("utf-16-le", "replace")
            label = f"{guid}-{ascii_name(text.encode('ascii', 'replace'), 'file')}"
    _emit(blob, out, names, label, sections, 0)


def _emit(blob: Blob, out: SafeRoot, names: Namer, label: str,
          sections: list[tuple[int, int, int]], depth: int) -> None:
    """Each leaf section as a member; encapsulations (LZMA, CRC32-guided, uncompressed
    compression sections) are opened so a nested volume comes out as a `.fv` the walker reads."""
    for i, (stype, off, n) in enumerate(sections):
        if stype == SEC_UI:
            continue
        name = f"{label}/{i}"
        inner: Blob | None = None
        if stype == SEC_GUID_DEFINED and n >= 20:
            sguid = uuid.UUID(bytes_le=blob.read(off, 16))
            data_off = blob.unpack("<H", off + 16)[0]
            start = off - 4 + data_off  # DataOffset counts from the section start
            if sguid in (LZMA_GUID, CRC32_GUID) and 20 <= data_off <= n + 4:
                inner = _lzma(blob, out, name, start, off + n) if sguid == LZMA_GUID else blob
                if inner is not None and sguid == CRC32_GUID:
                    sub = _sections(blob, start, off + n)
                    if sub and depth < MAX_NESTING:
                        _emit(blob, out, names, name, sub, depth + 1)
                        continue
                elif inner is not None:
                    sub = _sections(inner, 0, inner.size)
                    if sub and depth < MAX_NESTING:
                        _emit(inner, out, names, name, sub, depth + 1)
                        continue
                    put(out, names(name + ".lzma-section"), inner, 0, inner.size)
                    continue
            put(out, names(f"{name}.{sguid}.guided"), blob, off, n)
        elif stype == SEC_COMPRESSION and n >= 5:
            sub = _sections(blob, off + 5, off + n) if blob.mm[off + 4] == 0 else []
            if blob.mm[off + 4] != 0:
                put(out, names(name + ".compressed"), blob, off, n)
                out.problem("EFI/Tiano-compressed section kept as is", ProblemKind.UNSUPPORTED,
                            name)
            elif sub and depth < MAX_NESTING:
                _emit(blob, out, names, name, sub, depth + 1)
            else:
                put(out, names(name + ".sections"), blob, off + 5, n - 5)
        else:
            put(out, names(f"{name}.{SECTION_EXT.get(stype, f'type{stype:02x}')}"), blob, off, n)


def _lzma(blob: Blob, out: SafeRoot, name: str, start: int, end: int) -> Blob | None:
    """Decompress an LZMA section in memory (bounded), or record why not."""
    data = bytearray()
    try:
        for piece in decompress_stream(blob.mm, start, end, "lzma"):
            data += piece
            if len(data) > MAX_LZMA:
                out.problem(f"LZMA section larger than {MAX_LZMA} bytes", ProblemKind.LIMIT, name)
                return None
            out.check_time()
    except Corrupt as exc:
        out.problem(str(exc), ProblemKind.CORRUPT, name)
        return None
    return Blob.of(bytes(data))


FV = Format("uefi-fv", "UEFI firmware volume: FFS files and sections (LZMA decompressed)",
            detect_fv, extract_fv)

# -- capsules ------------------------------------------------------------------------------------


def capsule_header(head: bytes) -> tuple[uuid.UUID, int, int] | None:
    if len(head) < 28:
        return None
    if head[:16] not in _CAPSULE_GUID_BYTES:  # bytes first: a UUID object per file costs 20 µs
        return None
    hsize, _, isize = struct.unpack("<III", head[16:28])
    if hsize < 28 or isize < hsize:
        return None
    return uuid.UUID(bytes_le=head[:16]), hsize, isize


def detect_capsule(head: bytes, name: str) -> bool:
    return capsule_header(head) is not None


def extract_capsule(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        hdr = capsule_header(blob.read(0, min(blob.size, 28)))
        if hdr is None:
            raise Corrupt("bad capsule header")
        guid, hsize, isize = hdr
        if isize > blob.size:
            out.problem("capsule image size past the end of the file", ProblemKind.TRUNCATED)
            isize = blob.size
        if guid == FMP_GUID and _fmp(blob, out, hsize, isize):
            return
        put(out, "payload.bin", blob, hsize, isize - hsize)


def _fmp(blob: Blob, out: SafeRoot, base: int, end: int) -> bool:
    """FMP capsule: drivers and payload items by offset list; False if the table is not sane."""
    if not blob.has(base, 8):
        return False
    _, drivers, payloads = blob.unpack("<IHH", base)
    count = drivers + payloads
    if count == 0 or count > 256 or not blob.has(base + 8, 8 * count):
        return False
    offsets = list(blob.unpack(f"<{count}Q", base + 8))
    bounds = [*(base + o for o in offsets), end]
    if any(not base + 8 <= b <= end for b in bounds) or bounds != sorted(bounds):
        return False
    for i in range(count):
        start, stop = bounds[i], bounds[i + 1]
        if i < drivers:
            put(out, f"driver-{i}.efi", blob, start, stop - start)
            continue
        version = blob.unpack("<I", start)[0] if blob.has(start, 4) else 0
        hlen = {1: 32, 2: 40}.get(version, 48)
        if not blob.has(start, hlen) or stop - start < hlen:
            out.problem(f"payload {i} header truncated", ProblemKind.TRUNCATED)
            continue
        size = blob.unpack("<I", start + 24)[0]
        type_id = uuid.UUID(bytes_le=blob.read(start + 4, 16))
        put(out, f"payload-{i - drivers}.{type_id}.bin", blob, start + hlen,
            min(size, stop - start - hlen))
    return True


CAPSULE = Format("uefi-capsule", "UEFI capsule (plain and FMP): the payloads",
                 detect_capsule, extract_capsule)

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (CAPSULE, FV)
ORDER = 50
