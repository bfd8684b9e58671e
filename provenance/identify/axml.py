"""Android binary XML (compiled AndroidManifest.xml): just enough to read the <manifest>
element's attributes (package, versionName, versionCode). Bounded by the buffer it is given."""

from __future__ import annotations

import struct

RES_XML, RES_STRING_POOL, RES_XML_START_ELEMENT = 0x0003, 0x0001, 0x0102
MAX_STRINGS = 65_536
MAX_CHUNKS = 100_000
ATTR_IDS = {0x0101021B: "versionCode", 0x0101021C: "versionName"}
TYPE_STRING, TYPE_INT_DEC, TYPE_INT_HEX = 0x03, 0x10, 0x11


class AxmlError(ValueError):
    pass


def _strings(data: bytes, pos: int) -> list[str]:
    _, header_size, size, count, _, flags, strings_start, _ = struct.unpack_from("<HHIIIIII",
                                                                                 data, pos)
    if count > MAX_STRINGS:
        raise AxmlError("string pool too large")
    utf8 = bool(flags & 0x100)
    out = []
    base = pos + strings_start
    end = pos + size
    for i in range(count):
        (off,) = struct.unpack_from("<I", data, pos + header_size + 4 * i)
        at = base + off
        if at >= end or at >= len(data):
            out.append("")
            continue
        if utf8:
            at += 2 if data[at] & 0x80 else 1  # length in characters
            n = data[at]
            if n & 0x80:
                n = ((n & 0x7F) << 8) | data[at + 1]
                at += 1
            at += 1
            out.append(data[at : at + n].decode("utf-8", "replace"))
        else:
            (n,) = struct.unpack_from("<H", data, at)
            if n & 0x8000:
                n = ((n & 0x7FFF) << 16) | struct.unpack_from("<H", data, at + 2)[0]
                at += 2
            out.append(data[at + 2 : at + 2 + 2 * min(n, 4096)].decode("utf-16-le", "replace"))
    return out


def manifest_attributes(data: bytes) -> dict[str, str]:
    """Attributes of the first element (<manifest>) by name; raises AxmlError when unreadable."""
    try:
        return _manifest(data)
    except (struct.error, IndexError) as exc:
        raise AxmlError(f"truncated: {exc}") from exc


def _manifest(data: bytes) -> dict[str, str]:
    if len(data) < 8 or struct.unpack_from("<H", data, 0)[0] != RES_XML:
        raise AxmlError("not binary XML")
    pos = struct.unpack_from("<H", data, 2)[0]
    strings: list[str] = []
    resource_ids: list[int] = []
    for _ in range(MAX_CHUNKS):
        if pos + 8 > len(data):
            break
        typ, header_size, size = struct.unpack_from("<HHI", data, pos)
        if size < 8 or header_size > size:
            raise AxmlError(f"bad chunk at 0x{pos:x}")
        if typ == RES_STRING_POOL:
            strings = _strings(data, pos)
        elif typ == 0x0180:  # resource map: attribute name index -> android resource id
            n = min((size - header_size) // 4, MAX_STRINGS)
            resource_ids = list(struct.unpack_from(f"<{n}I", data, pos + header_size))
        elif typ == RES_XML_START_ELEMENT:
            return _attributes(data, pos + header_size, strings, resource_ids)
        pos += size
    raise AxmlError("no element found")


def _attributes(data: bytes, pos: int, strings: list[str], ids: list[int]) -> dict[str, str]:
    _, _, attr_start, attr_size, count = struct.unpack_from("<IIHHH", data, pos)
    out: dict[str, str] = {}

    def text(index: int) -> str:
        return strings[index] if 0 <= index < len(strings) else ""

    for i in range(min(count, 256)):
        at = pos + attr_start + i * max(attr_size, 20)
        _, name, raw, _, _, typ, value = struct.unpack_from("<IIIHBBI", data, at)
        key = ATTR_IDS.get(ids[name], text(name)) if name < len(ids) else text(name)
        if raw != 0xFFFFFFFF:
            out[key] = text(raw)
        elif typ == TYPE_STRING:
            out[key] = text(value)
        elif typ in (TYPE_INT_DEC, TYPE_INT_HEX):
            out[key] = str(value)
    return out
