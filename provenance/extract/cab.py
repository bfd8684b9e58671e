"""Microsoft Cabinet (.cab) with cabarchive.

cabarchive: pure Python, maintained (fwupd's author), reads stored and MSZIP folders, which is
what gcab, wixl and most driver packages write. LZX and Quantum folders are refused by the
library and become an "unsupported" Problem. It parses from memory: the input is bounded by the
per-member limit first, and MSZIP blocks cap at 32 KiB out each, so output is bounded too.
"""

from __future__ import annotations

from pathlib import Path

from provenance.extract.base import Format, Unsupported
from provenance.extract.saferoot import SafeRoot


def detect(head: bytes, name: str) -> bool:
    return head.startswith(b"MSCF\x00\x00\x00\x00")


def extract(src: Path, out: SafeRoot) -> None:
    from cabarchive import CabArchive
    from cabarchive.errors import NotSupportedError

    if src.stat().st_size > out.budget.limits.max_member_bytes:
        raise Unsupported("cabinet larger than the per-member limit; not loaded")
    try:
        cab = CabArchive(src.read_bytes())
    except NotSupportedError as exc:
        raise Unsupported(str(exc)) from exc
    for name, cabfile in cab.items():
        out.write_bytes(name, cabfile.buf or b"")


FORMAT = Format("cab", "Microsoft Cabinet, stored and MSZIP (cabarchive)", detect, extract)
