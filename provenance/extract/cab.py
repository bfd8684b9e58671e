"""Microsoft Cabinet (.cab) with cabarchive.

cabarchive: pure Python, maintained (fwupd's author), reads stored and MSZIP folders, which is
what gcab, wixl and most driver packages write. LZX and Quantum folders are refused by the
library and become an "unsupported" Problem. It decodes in memory, every folder whole and then
a copy per file, so the cabinet's own declarations are checked first (`_declared`): the folder
sizes its data blocks declare, folders that share data, and the files' declared sizes, against
a memory bound and the extraction limits, before anything is decoded.
"""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

from provenance.extract.base import Format, FormatProblem, Unsupported
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

# Most bytes cabarchive may hold decoded at once (folders, then each file's copy of them).
MAX_DECODED = 256 << 20


class CabError(FormatProblem):
    kind = ProblemKind.CORRUPT


class CabTooLarge(FormatProblem):
    kind = ProblemKind.LIMIT


def detect(head: bytes, name: str) -> bool:
    return head.startswith(b"MSCF\x00\x00\x00\x00")


def _declared(buf: bytes) -> tuple[int, int]:
    """(bytes the folders declare they decode to, bytes the files declare), read from the
    headers alone. Raises CabError when folders share data (each would be decoded again)."""
    try:
        _size, off_files, _minor, _major, nr_folders, nr_files, flags = struct.unpack_from(
            "<4xxxxxIxxxxIxxxxBBHHH", buf, 0)
        offset = 36
        rsvd_folder = rsvd_block = 0
        if flags & 0x0004:
            rsvd_hdr, rsvd_folder, rsvd_block = struct.unpack_from("<HBB", buf, offset)
            offset += 4 + rsvd_hdr
        spans: list[tuple[int, int]] = []
        folders = 0
        for _ in range(nr_folders):
            start, blocks, _kind = struct.unpack_from("<IHH", buf, offset)
            offset += 8 + rsvd_folder
            at = start
            for _ in range(blocks):
                compressed, uncompressed = struct.unpack_from("<HH", buf, at + 4)
                at += 8 + rsvd_block + compressed
                folders += uncompressed
            spans.append((start, at))
        files = 0
        at = off_files
        for _ in range(nr_files):
            files += struct.unpack_from("<I", buf, at)[0]
            end = buf.find(b"\0", at + 16, at + 16 + 256)
            if end < 0:
                raise CabError("file entry without an end to its name")
            at = end + 1
    except struct.error as exc:
        raise CabError(f"header runs past the end of the cabinet: {exc}") from None
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise CabError("two folders share their data (an overlapping-folder bomb); refused")
    return folders, files


def check_declared(buf: bytes, out: SafeRoot) -> None:
    """Raise (CabError, CabTooLarge) unless the cabinet's declarations fit: its folders share no
    data, and what they and its files declare fits the in-memory bound and the bytes the scan
    may still write."""
    folders, files = _declared(buf)
    bound = min(MAX_DECODED, out.budget.limits.max_total_bytes - out.budget.bytes)
    if folders > bound or files > bound:
        raise CabTooLarge(f"cabinet declares {folders} bytes of folder data and {files} bytes "
                          f"of files, over the {bound}-byte bound for decoding in memory; "
                          "refused before decoding")


def extract(src: Path, out: SafeRoot) -> None:
    from cabarchive import CabArchive
    from cabarchive.errors import NotSupportedError

    limits = out.budget.limits
    if src.stat().st_size > min(limits.max_member_bytes, MAX_DECODED):
        raise CabTooLarge("cabinet larger than the in-memory decoding bound; not loaded")
    buf = src.read_bytes()
    check_declared(buf, out)
    try:
        cab = CabArchive(buf)
    except NotSupportedError as exc:
        raise Unsupported(str(exc)) from exc
    for name, cabfile in cab.items():
        out.write_bytes(name, cabfile.buf or b"")


FORMAT = Format("cab", "Microsoft Cabinet, stored and MSZIP (cabarchive)", detect, extract,
                through_members=True)
