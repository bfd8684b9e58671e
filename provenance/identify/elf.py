"""ELF with LIEF: class, machine, type, SONAME, NEEDED, exported symbols, .comment."""

from __future__ import annotations

from pathlib import Path

from provenance.identify.base import MAX_SYMBOLS, Identifier, lief_quiet
from provenance.model import Fact, Facts, Problem


def detect(head: bytes) -> bool:
    return head.startswith(b"\x7fELF")


def _enum(value: object) -> str:
    return str(value).rsplit(".", 1)[-1]


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    lief_quiet()
    import lief

    binary = lief.ELF.parse(str(path))
    if binary is None:
        return Facts("elf"), (Problem(where, "identify", "ELF header unreadable", "corrupt"),)
    header = binary.header
    arch = _enum(header.machine_type).lower()
    facts = [
        Fact("elf.class", _enum(header.identity_class), f"{where}#e_ident"),
        Fact("elf.machine", arch, f"{where}#e_machine"),
        Fact("elf.type", _enum(header.file_type), f"{where}#e_type"),
    ]
    soname = None
    for entry in binary.dynamic_entries:
        if entry.tag == lief.ELF.DynamicEntry.TAG.SONAME:
            soname = entry.name
            facts.append(Fact("elf.soname", soname, f"{where}#DT_SONAME"))
        elif entry.tag == lief.ELF.DynamicEntry.TAG.NEEDED:
            facts.append(Fact("elf.needed", entry.name, f"{where}#DT_NEEDED"))
    seen: set[str] = set()
    for symbol in binary.exported_symbols:
        if symbol.name and symbol.name not in seen and len(seen) < MAX_SYMBOLS:
            seen.add(symbol.name)
            facts.append(Fact("elf.export", symbol.name, f"{where}#dynsym"))
    comment = binary.get_section(".comment")
    if comment is not None:
        for tag in bytes(comment.content).split(b"\0"):
            if tag.strip():
                text = tag.decode("utf-8", "replace")[:200]
                facts.append(Fact("elf.comment", text, f"{where}#.comment"))
    return Facts("elf", arch=arch, items=tuple(facts), name=soname), ()


IDENTIFIER = Identifier("elf", detect, read)
