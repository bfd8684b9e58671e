"""Windows Installer packages (.msi, .msm, .msp): OLE streams read with olefile.

olefile: pure Python, maintained (oletools), the reference OLE2 reader. Streams are written with
their decoded MSI names; binary table entries (custom-action DLLs) open as whatever they are, and
database tables go under `_tables/`. Embedded cabinets (the payload) are unpacked here, with
cabarchive, so that each file gets its real name from the File table (a cabinet names members
by File key only); a database that cannot be read leaves the keys, with a Problem. The table
reader is hand-written (no PyPI library reads MSI tables): string pool, _Columns, File.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from provenance.extract.base import Format, FormatProblem
from provenance.extract.cab import check_declared
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

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


def _strings(pool: bytes, data: bytes) -> tuple[list[str], int]:
    """The string table (index 0 is the null string) and the width of a string reference."""
    words = struct.unpack(f"<{len(pool) // 2}H", pool[: len(pool) // 2 * 2])
    if len(words) < 2:
        raise ValueError("empty string pool")
    ref_size = 3 if words[1] & 0x8000 else 2
    strings = [""]
    offset = 0
    i = 1
    count = len(words) // 2
    while i < count:
        size, refs = words[2 * i], words[2 * i + 1]
        if size == 0 and refs == 0:
            strings.append("")
            i += 1
            continue
        if size == 0:  # over 64 KiB: the length continues in the next entry
            if 2 * i + 3 >= len(words):
                raise ValueError("string pool cut short")
            size = (words[2 * i + 3] << 16) | words[2 * i + 2]
            i += 2
        else:
            i += 1
        strings.append(data[offset : offset + size].decode("utf-8", "replace"))
        offset += size
    return strings, ref_size


def _table(raw: bytes, widths: list[int]) -> list[list[int]]:
    """Rows of a table stored column by column."""
    row_size = sum(widths)
    if row_size == 0:
        return []
    n = len(raw) // row_size
    columns = []
    offset = 0
    for width in widths:
        values = [int.from_bytes(raw[offset + k * width : offset + (k + 1) * width], "little")
                  for k in range(n)]
        columns.append(values)
        offset += n * width
    return [list(row) for row in zip(*columns, strict=True)]


def file_names(ole: Any) -> dict[str, str]:
    """File key -> long file name, from the File table."""
    def stream(name: str) -> bytes:
        encoded = _encode_name(name)
        return bytes(ole.openstream(encoded).read()) if ole.exists(encoded) else b""

    strings, ref = _strings(stream("_StringPool"), stream("_StringData"))

    def text(index: int) -> str:
        return strings[index] if 0 <= index < len(strings) else ""

    # _Columns: Table (string), Number (int16), Name (string), Type (int16)
    columns: dict[str, list[tuple[int, str, int]]] = {}
    for table, number, name, kind in _table(stream("_Columns"), [ref, 2, ref, 2]):
        columns.setdefault(text(table), []).append((number ^ 0x8000, text(name), kind ^ 0x8000))
    schema = sorted(columns.get("File", []))
    if not schema:
        return {}
    widths = []
    for _, _, kind in schema:
        if kind & 0x0800:  # string column
            widths.append(ref)
        else:
            widths.append(4 if (kind & 0xFF) == 4 else 2)
    names = [name for _, name, _ in schema]
    key_col, name_col = names.index("File"), names.index("FileName")
    out = {}
    for row in _table(stream("File"), widths):
        long_name = text(row[name_col]).split("|")[-1]  # "SHORT~1.TXT|long name.txt"
        out[text(row[key_col])] = long_name
    return out


def _encode_name(name: str) -> str:
    """Inverse of decode_name, for table streams ("!" prefix)."""
    index = {c: i for i, c in enumerate(_ALPHABET)}
    out = [chr(0x4840)]
    i = 0
    while i < len(name):
        a = index[name[i]]
        if i + 1 < len(name) and name[i + 1] in index:
            out.append(chr(0x3800 + a + (index[name[i + 1]] << 6)))
            i += 2
        else:
            out.append(chr(0x4800 + a))
            i += 1
    return "".join(out)


def _unpack_cab(name: str, data: bytes, names: dict[str, str], out: SafeRoot) -> bool:
    from cabarchive import CabArchive
    from cabarchive.errors import CorruptionError, NotSupportedError

    try:
        check_declared(data, out)
        cab = CabArchive(data)
    except (NotSupportedError, CorruptionError, FormatProblem) as exc:
        out.problem(f"embedded cabinet not unpacked ({exc}); kept as is",
                    ProblemKind.UNSUPPORTED, name)
        return False
    used: set[str] = set()
    for key, cabfile in cab.items():
        member = names.get(key) or key
        if member in used:  # two components may ship the same file name
            member = f"{key}/{member}"
        used.add(member)
        out.write_bytes(f"{name}/{member}", cabfile.buf or b"")
    return True


def extract(src: Path, out: SafeRoot) -> None:
    import olefile

    limit = out.budget.limits.max_member_bytes
    with olefile.OleFileIO(str(src)) as ole:
        try:
            names = file_names(ole)
        except (ValueError, IndexError, KeyError, OSError, struct.error) as exc:
            names = {}
            out.problem(f"cannot read the File table ({exc}); cabinet members keep their keys",
                        ProblemKind.CORRUPT)
        for entry in ole.listdir(streams=True, storages=False):
            name = "/".join(decode_name(part) for part in entry)
            if name.startswith("!"):
                name = "_tables/" + name[1:]
            if not name.strip("/"):
                continue
            size = ole.get_size(entry)
            with ole.openstream(entry) as stream:
                if size <= limit and stream.read(8) == b"MSCF\0\0\0\0":
                    stream.seek(0)
                    if _unpack_cab(name, stream.read(), names, out):
                        continue
                stream.seek(0)
                out.write(name, stream, size)


FORMAT = Format("msi", "Windows Installer .msi/.msm/.msp streams and cabinets (olefile)",
                detect, extract, confirm)
