"""Vendor firmware headers, header-level facts only (layouts: reference catalog §4):
uImage name, Huawei UPDATE.APP hardware ids, Hikvision digicap device class / OEM / language,
ZTE config.bin model name. Each reader looks at a bounded prefix of the file."""

from __future__ import annotations

import struct
from pathlib import Path

from provenance.identify.base import Identifier, Sink, at, clean
from provenance.model import Facts, Problem

UIMAGE = b"\x27\x05\x19\x56"
UPDATE_APP = b"\x55\xaa\x5a\xa5"
ZTE = bytes.fromhex("9999999944444444")
ZTE_SIG = b"\x04\x03\x02\x01"
DIGICAP_KEY = bytes.fromhex("BACDBCFED6CADDD3BAB9A3ABBFCBB5BE")
MAX_BLOCKS = 512
UIMAGE_OS = {5: "linux", 17: "u-boot"}


def _digicap(head: bytes) -> bytes:
    return bytes(b ^ DIGICAP_KEY[(i + (i >> 4)) & 0xF] for i, b in enumerate(head[:0x98]))


def detect(head: bytes, name: str) -> bool:
    return (head.startswith((UIMAGE, ZTE)) or head[92:96] == UPDATE_APP
            or _digicap(head[:4]) in (b"SWKH", b"SWKP"))


def _uimage(data: bytes, sink: Sink) -> str | None:
    if len(data) < 64:
        sink.problem("uImage header truncated", "truncated")
        return None
    (size,) = struct.unpack_from(">I", data, 12)
    os_id, arch, typ = data[28:31]
    name = clean(data[32:64].split(b"\0")[0])
    sink.add("uimage.name", name, "#ih_name")
    sink.add("uimage.os", UIMAGE_OS.get(os_id, str(os_id)), "#ih_os")
    sink.add("uimage.arch", str(arch), "#ih_arch")
    sink.add("uimage.type", str(typ), "#ih_type")
    sink.add("uimage.size", str(size), "#ih_size")
    return name or None


def _update_app(path: Path, sink: Sink) -> None:
    seen: set[str] = set()
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        pos = 92
        for _ in range(MAX_BLOCKS):
            f.seek(pos)
            hdr = f.read(98)
            if len(hdr) < 98 or hdr[:4] != UPDATE_APP:
                if pos < size and len(hdr) >= 4:
                    sink.problem(f"UPDATE.APP block magic missing at 0x{pos:x}")
                break
            header_len, _, hwid, _, data_len = struct.unpack_from("<II8sII", hdr, 4)
            part = clean(hdr[60:76].split(b"\0")[0])
            hw = clean(hwid.rstrip(b"\0\xff"))
            if hw and hw not in seen:
                seen.add(hw)
                sink.add("updateapp.hardware_id", hw, at(pos + 12))
            sink.add("updateapp.partition", part, at(pos + 60))
            if header_len < 98:
                sink.problem(f"UPDATE.APP header length {header_len} too small")
                break
            pos += header_len + data_len
            pos += -pos % 4


def _digicap_facts(head: bytes, sink: Sink) -> None:
    hdr = _digicap(head)
    if len(hdr) < 28:
        sink.problem("digicap header truncated", "truncated")
        return
    magic, _, _, files, lang, devclass, oem = struct.unpack_from("<4sIIIIII", hdr, 0)
    sink.add("digicap.magic", magic, "@0x0")
    sink.add("digicap.language", str(lang), "@0x10")
    sink.add("digicap.device_class", f"0x{devclass:x}", "@0x14")
    sink.add("digicap.oem_code", str(oem), "@0x18")
    sink.add("digicap.file_count", str(files), "@0xc")


def _zte(head: bytes, sink: Sink) -> str | None:
    pos = head.find(ZTE_SIG, 0, len(head))
    if pos < 0 or pos + 12 > len(head):
        return None
    (size,) = struct.unpack_from(">I", head, pos + 8)
    model = clean(head[pos + 12 : pos + 12 + min(size, 64)].split(b"\0")[0])
    sink.add("zte.model", model, at(pos + 12))
    return model or None


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(UIMAGE):
        return sink.result("uimage", name=_uimage(head, sink))
    if head[92:96] == UPDATE_APP:
        _update_app(path, sink)
        return sink.result("update.app")
    if head.startswith(ZTE):
        return sink.result("zte-config", name=_zte(head, sink))
    _digicap_facts(head, sink)
    return sink.result("digicap")


IDENTIFIER = Identifier("firmware-header", detect, read)
