"""Windows Installer packages (.msi, .msm, .msp): OLE streams read with olefile.

olefile: pure Python, maintained (oletools), the reference OLE2 reader. Streams are written with
their decoded MSI names; embedded cabinets (the payload) then open recursively as CAB, binary
table entries (custom-action DLLs) as whatever they are. Database tables go under `_tables/`.
"""

from __future__ import annotations

from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.saferoot import SafeRoot

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# root-storage CLSIDs: installer package, merge module/patch, transform
_MSI_CLSIDS = {
    "000C1084-0000-0000-C000-000000000046",
    "000C1086-0000-0000-C000-000000000046",
    "000C1082-0000-0000-C000-000000000046",
}
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._"


def decode_name(name: str) -> str:
    """MSI packs stream names two base-64 characters per UTF-16 code unit (0x3800-0x4840)."""
    out = []
    for ch in name:
        c = ord(ch)
        if 0x3800 <= c < 0x4800:
            c -= 0x3800
            out.append(_ALPHABET[c & 0x3F])
            out.append(_ALPHABET[(c >> 6) & 0x3F])
        elif 0x4800 <= c < 0x4840:
            out.append(_ALPHABET[c - 0x4800])
        elif c == 0x4840:
            out.append("!")  # marks a database table
        elif c < 0x20:
            continue  # \x05SummaryInformation and friends
        else:
            out.append(ch)
    return "".join(out)


def detect(head: bytes, name: str) -> bool:
    return head.startswith(OLE_MAGIC)


def confirm(path: Path) -> bool:
    import olefile

    named = path.suffix.lower() in (".msi", ".msm", ".msp")
    try:
        with olefile.OleFileIO(str(path)) as ole:
            return named or str(ole.root.clsid).upper() in _MSI_CLSIDS
    except Exception:
        return named  # a damaged .msi is still an installer: extract() will say what is wrong


def extract(src: Path, out: SafeRoot) -> None:
    import olefile

    with olefile.OleFileIO(str(src)) as ole:
        for entry in ole.listdir(streams=True, storages=False):
            name = "/".join(decode_name(part) for part in entry)
            if name.startswith("!"):
                name = "_tables/" + name[1:]
            if not name.strip("/"):
                continue
            size = ole.get_size(entry)
            with ole.openstream(entry) as stream:
                out.write(name, stream, size)


FORMAT = Format("msi", "Windows Installer .msi/.msm/.msp streams and cabinets (olefile)",
                detect, extract, confirm)
