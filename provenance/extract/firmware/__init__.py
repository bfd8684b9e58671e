"""Boot, firmware and vendor containers, and carving of raw flash dumps (hand-written parsers).

Order matters (first detector wins): structured headers with strong checks first, the vendor
containers next, the text formats after them, and `flash` last of all since it accepts any
binary head that nothing else claimed.

The formats that are `Container`s (see `_container.py`) also read their own header for the
identify stage, with the same validator that decides whether they are unpacked; a vendor's
container declares its vendor there too.
"""

from __future__ import annotations

from provenance.extract.base import Format
from provenance.extract.firmware import (
    android,
    carve,
    dahua,
    fdt,
    hexfile,
    hikvision,
    huawei,
    trx,
    uefi,
    uimage,
    zimage,
    zte,
)
from provenance.extract.firmware._container import Container

FORMATS: tuple[Format, ...] = (
    uimage.FORMAT,
    fdt.FIT,
    trx.FORMAT,
    android.BOOT,
    android.SPARSE_FORMAT,
    uefi.CAPSULE,
    uefi.FV,
    zimage.FORMAT,
    huawei.UPDATE_APP,
    huawei.HWNP,
    hikvision.FORMAT,
    dahua.FORMAT,
    zte.FORMAT,
    hexfile.IHEX,
    hexfile.SREC,
    carve.FORMAT,  # keep last
)

# formats whose header identification reads (identify/fwheaders.py), in detection order
CONTAINERS: tuple[Container, ...] = tuple(f for f in FORMATS if isinstance(f, Container))

# formats with a generated fixture and a test in tests/test_extract_firmware.py
FIXTURED: frozenset[str] = frozenset(f.name for f in FORMATS)
