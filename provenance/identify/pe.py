"""PE with LIEF: machine, subsystem and the version resource strings."""

from __future__ import annotations

from pathlib import Path

from provenance.identify.base import Identifier, lief_quiet
from provenance.model import Fact, Facts, Problem

VERSION_KEYS = (
    "CompanyName", "ProductName", "FileDescription", "LegalCopyright", "OriginalFilename",
    "FileVersion", "ProductVersion", "InternalName",
)


def detect(head: bytes) -> bool:
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return offset + 4 > len(head) or head[offset : offset + 4] == b"PE\0\0"


def _enum(value: object) -> str:
    return str(value).rsplit(".", 1)[-1]


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    lief_quiet()
    import lief

    binary = lief.PE.parse(str(path))
    if binary is None:
        return Facts("pe"), (Problem(where, "identify", "PE headers unreadable", "corrupt"),)
    arch = _enum(binary.header.machine).lower()
    facts = [
        Fact("pe.machine", arch, f"{where}#FileHeader.Machine"),
        Fact("pe.subsystem", _enum(binary.optional_header.subsystem), f"{where}#OptionalHeader"),
    ]
    problems: list[Problem] = []
    strings: dict[str, str] = {}
    try:
        manager = binary.resources_manager if binary.has_resources else None
        version = manager.version if manager is not None else None
        if version:
            info = version[0] if isinstance(version, list) else version
            sfi = info.string_file_info
            for table in sfi.children if sfi is not None else []:
                for entry in table.entries:
                    if entry.key in VERSION_KEYS and entry.value and entry.key not in strings:
                        strings[entry.key] = entry.value[:300]
    except Exception as exc:  # a broken resource tree must not hide the rest
        problems.append(Problem(where, "identify", f"version resource: {exc}", "corrupt"))
    for key, value in sorted(strings.items()):
        facts.append(Fact(f"pe.version.{key}", value, f"{where}#VS_VERSIONINFO/{key}"))
    name = strings.get("OriginalFilename") or strings.get("InternalName")
    version_str = strings.get("FileVersion") or strings.get("ProductVersion")
    return (
        Facts("pe", arch=arch, items=tuple(facts), name=name, version=version_str,
              supplier=strings.get("CompanyName")),
        tuple(problems),
    )


IDENTIFIER = Identifier("pe", detect, read)
