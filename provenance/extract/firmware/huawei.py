"""Huawei UPDATE.APP (catalog F1) and HWNP ONT firmware (catalog F4).

`55 AA 5A A5` alone is a common test pattern (catalog §6), so an UPDATE.APP is only accepted
when the 92 leading zero bytes, the header version, header_len and the name and blank fields of
its first block all check out; the same check decides whether identification reads its header.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from provenance.extract.firmware._container import Container, FactSink, Header, at
from provenance.extract.firmware._io import Blob, Corrupt, Namer, ascii_name, put
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

APP_MAGIC = b"\x55\xaa\x5a\xa5"
APP_BLOCK = struct.Struct("<4sII8sII16s16s16s16sHHH")  # 98 bytes, then the CRC table
APP_START = 92
MAX_BLOCKS = 4096


class AppBlock(NamedTuple):
    hlen: int
    dlen: int
    hardware_id: bytes
    name: bytes


def _name_ok(raw: bytes) -> bool:
    text = raw.split(b"\x00", 1)[0]
    return bool(text) and all(0x20 < c < 0x7F for c in text) and not raw[len(text) :].strip(b"\0")


def _block(head: bytes) -> AppBlock | None:
    """A block header if every field is plausible."""
    if len(head) < APP_BLOCK.size or not head.startswith(APP_MAGIC):
        return None
    _, hlen, one, hwid, _, dlen, _, _, name, blank, _, _, _ = APP_BLOCK.unpack(
        head[: APP_BLOCK.size])
    if one != 1 or not APP_BLOCK.size <= hlen <= 1 << 20 or blank.strip(b"\0"):
        return None
    if not _name_ok(name):
        return None
    return AppBlock(hlen, dlen, hwid, name)


def _blocks(blob: Blob) -> Iterator[tuple[int, AppBlock | None]]:
    """(offset, block) for each block header in file order, then (offset, None) where a block
    was due and none is. Ends at the end of the file and after MAX_BLOCKS."""
    pos = APP_START
    for _ in range(MAX_BLOCKS):
        if pos >= blob.size:
            return
        block = _block(blob.read(pos, min(APP_BLOCK.size, blob.size - pos)))
        yield pos, block
        if block is None:
            return
        pos = (pos + block.hlen + block.dlen + 3) & ~3


def detect_app(head: bytes, name: str) -> bool:
    return head[:APP_START] == bytes(APP_START) and _block(head[APP_START:]) is not None


def extract_app(src: Path, out: SafeRoot) -> None:
    names = Namer()
    with Blob(src) as blob:
        count = 0
        for pos, block in _blocks(blob):
            if block is None:
                rest = blob.size - pos
                if rest >= 4 and blob.read(pos, min(rest, 4096)).strip(b"\0\xff"):
                    out.problem(f"no block header at {pos:#x}; {rest} bytes left",
                                ProblemKind.CORRUPT)
                break
            label = names(ascii_name(block.name, "block") + ".img")
            if not blob.has(pos + block.hlen, block.dlen):
                out.problem("block data runs past the end of the file", ProblemKind.TRUNCATED,
                            label)
                put(out, label, blob, pos + block.hlen, blob.size - pos - block.hlen)
                break
            put(out, label, blob, pos + block.hlen, block.dlen)
            count += 1
            out.check_time()
        if count == 0:
            raise Corrupt("no valid UPDATE.APP block")


def app_header(src: Path, sink: FactSink) -> Header:
    """Each block's hardware id (once per distinct id) and partition name."""
    seen: set[bytes] = set()
    with Blob(src) as blob:
        for pos, block in _blocks(blob):
            if block is None:
                break
            hwid = block.hardware_id.rstrip(b"\0\xff")
            if hwid and hwid not in seen:
                seen.add(hwid)
                sink.add("updateapp.hardware_id", hwid, at(pos + 12))
            sink.add("updateapp.partition", block.name.split(b"\0", 1)[0], at(pos + 60))
    return Header()


UPDATE_APP = Container("huawei-update-app",
                       "Huawei UPDATE.APP (block headers validated, catalog F1)", detect_app,
                       extract_app, identified_as="update.app", header=app_header,
                       vendor="huawei", offset=APP_START,
                       facts=(("`updateapp.hardware_id` / `updateapp.partition`",
                               "Huawei UPDATE.APP block headers",
                               "`HW7x27`"),))

# -- HWNP ------------------------------------------------------------------------------------------

HWNP_MAGIC = b"HWNP"
ITEM = struct.Struct("IIII256s16s64sII")  # iter crc32 data_off data_sz path section version
ITEM_SIZE = 360


def _hwnp_header(head: bytes) -> tuple[str, int, int, int] | None:
    """(byte order, item count, product-list size, header end) in whichever order is sane."""
    if len(head) < 36 or not head.startswith(HWNP_MAGIC):
        return None
    for order in (">", "<"):
        count = struct.unpack(order + "I", head[20:24])[0]
        prod_sz = struct.unpack(order + "H", head[26:28])[0]
        item_sz = struct.unpack(order + "I", head[28:32])[0]
        if item_sz == ITEM_SIZE and 0 < count <= 1024:
            return order, count, prod_sz, 36 + prod_sz
    return None


def detect_hwnp(head: bytes, name: str) -> bool:
    return _hwnp_header(head) is not None


def _hwnp_table(blob: Blob) -> tuple[struct.Struct, int, int, int]:
    """(item struct, item count, product-list size, item table offset); the table must fit."""
    hdr = _hwnp_header(blob.read(0, min(blob.size, 36)))
    if hdr is None:
        raise Corrupt("bad HWNP header")
    order, count, prod_sz, items = hdr
    if not blob.has(items, count * ITEM_SIZE):
        raise Corrupt("HWNP item table runs past the end of the file")
    return struct.Struct(order + ITEM.format), count, prod_sz, items


def extract_hwnp(src: Path, out: SafeRoot) -> None:
    names = Namer()
    with Blob(src) as blob:
        item, count, _, items = _hwnp_table(blob)
        for i in range(count):
            _, crc, off, size, path, section, _, _, _ = item.unpack(
                blob.read(items + i * ITEM_SIZE, ITEM_SIZE))
            where = path.split(b"\0", 1)[0].decode("ascii", "replace")
            scheme, _, rest = where.partition(":")
            rel = (rest or scheme).lstrip("/") or ascii_name(section, f"item-{i}")
            label = names(f"{scheme}/{rel}" if rest else rel)
            if not blob.has(off, size):
                out.problem(f"item {off:#x}+{size:#x} runs past the end of the file",
                            ProblemKind.TRUNCATED, label)
                continue
            if zlib.crc32(blob.mm[off : off + size]) != crc:
                out.problem("item CRC32 mismatch", ProblemKind.CORRUPT, label)
            put(out, label, blob, off, size)


def hwnp_header(src: Path, sink: FactSink) -> Header:
    """The product list (board ids) and the items' distinct versions. Only an image whose
    item table fits in the file is the vendor's own."""
    with Blob(src) as blob:
        try:
            item, count, prod_sz, items = _hwnp_table(blob)
        except Corrupt:  # the walker reports why it cannot unpack it
            return Header(own=False)
        sink.add("hwnp.products", blob.read(36, prod_sz).split(b"\0", 1)[0], at(36))
        seen: set[bytes] = set()
        for i in range(count):
            version = item.unpack(blob.read(items + i * ITEM_SIZE, ITEM_SIZE))[6]
            version = version.split(b"\0", 1)[0]
            if version and version not in seen:
                seen.add(version)
                sink.add("hwnp.version", version, at(items + i * ITEM_SIZE + 288))
    return Header()


HWNP = Container("huawei-hwnp", "Huawei HWNP ONT firmware: items by path (catalog F4)",
                 detect_hwnp, extract_hwnp, header=hwnp_header, vendor="huawei",
                 facts=(("`hwnp.products` / `hwnp.version`",
                         "Huawei HWNP ONT firmware: product list and version from the "
                         "validated header",
                         "`HG8145V5`"),))

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (UPDATE_APP, HWNP)
ORDER = 100
