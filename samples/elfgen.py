"""A tiny, deterministic ELF32 little-endian writer for synthetic samples.

It writes just enough structure for real readers (LIEF, readelf, YARA) to see what a vendor SDK
library or kernel module carries: a SONAME and NEEDED entries, exported dynamic symbols, a
.rodata with strings, a .comment toolchain tag and, for kernel modules, a .modinfo section.
The code bytes are ARM `bx lr` instructions: the files are never meant to run, and are written
without the executable bit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

EM_ARM = 40
EM_MIPS = 8
ET_REL, ET_EXEC, ET_DYN = 1, 2, 3
BASE = 0x10000

# section types and dynamic tags we use
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_HASH, SHT_DYNAMIC, SHT_DYNSYM = 1, 2, 3, 5, 6, 11
DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_SONAME = (
    0, 1, 4, 5, 6, 10, 11, 14)


@dataclass
class ElfSpec:
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)  # go into .rodata, NUL-terminated
    comment: str | None = "GCC: (provenance synthetic) 8.4.0"
    modinfo: dict[str, list[str]] = field(default_factory=dict)  # kernel module key -> values
    machine: int = EM_ARM
    type: int = ET_DYN


class _StrTab:
    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self.index: dict[str, int] = {"": 0}

    def add(self, s: str) -> int:
        if s not in self.index:
            self.index[s] = len(self.data)
            self.data += s.encode() + b"\0"
        return self.index[s]


def _elf_hash(name: str) -> int:
    h = 0
    for c in name.encode():
        h = (h << 4) + c
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


def _align(buf: bytearray, n: int) -> None:
    while len(buf) % n:
        buf.append(0)


def build(spec: ElfSpec) -> bytes:
    dynamic = spec.type != ET_REL
    dynstr = _StrTab()
    names = [dynstr.add(n) for n in spec.needed]
    soname = dynstr.add(spec.soname) if spec.soname else None
    text = b"\x1e\xff\x2f\xe1" * max(1, len(spec.exports))  # bx lr per function
    rodata = b"".join(s.encode() + b"\0" for s in spec.strings)
    modinfo = b"".join(f"{k}={v}".encode() + b"\0" for k, vs in spec.modinfo.items() for v in vs)
    comment = spec.comment.encode() + b"\0" if spec.comment else b""

    body = bytearray(b"\0" * 52)  # ELF header, patched at the end
    phnum = 2 if dynamic else 0
    body += b"\0" * (32 * phnum)
    sections: list[tuple[str, int, int, int, int, int, int, int]] = []
    # (name, type, flags, offset, size, link, info, entsize)

    def place(name: str, stype: int, data: bytes, flags: int = 2, align: int = 4,
              link: int = 0, info: int = 0, entsize: int = 0) -> int:
        _align(body, align)
        off = len(body)
        body.extend(data)
        sections.append((name, stype, flags, off, len(data), link, info, entsize))
        return off

    text_off = place(".text", SHT_PROGBITS, text, flags=6)
    syms = bytearray(b"\0" * 16)
    for i, name in enumerate(spec.exports):
        value = BASE + text_off + 4 * i if dynamic else 4 * i
        # st_name, st_value, st_size, st_info (GLOBAL FUNC), st_other, st_shndx (.text = 1)
        syms += struct.pack("<IIIBBH", dynstr.add(name), value, 4, 0x12, 0, 1)
    nsyms = len(syms) // 16
    if rodata:
        place(".rodata", SHT_PROGBITS, rodata)
    if modinfo:
        place(".modinfo", SHT_PROGBITS, modinfo, align=1)
    # section indexes are position + 1 (index 0 is the null section)
    dynstr_index = len(sections) + 2
    dynsym_off = place(".dynsym" if dynamic else ".symtab", SHT_DYNSYM if dynamic else SHT_SYMTAB,
                       bytes(syms), link=dynstr_index, info=1, entsize=16)
    dynsym_index = len(sections)
    dynstr_off = place(".dynstr" if dynamic else ".strtab", SHT_STRTAB, bytes(dynstr.data),
                       align=1)
    dyn_off = dyn_size = 0
    if dynamic:
        buckets = max(1, nsyms)
        bucket = [0] * buckets
        chain = [0] * nsyms
        for i, name in enumerate(spec.exports, start=1):
            b = _elf_hash(name) % buckets
            chain[i] = bucket[b]
            bucket[b] = i
        hash_off = place(".hash", SHT_HASH, struct.pack(f"<II{buckets}I{nsyms}I", buckets, nsyms,
                                                        *bucket, *chain),
                         link=dynsym_index, entsize=4)
        entries = [(DT_NEEDED, n) for n in names]
        if soname is not None:
            entries.append((DT_SONAME, soname))
        entries += [(DT_HASH, BASE + hash_off), (DT_STRTAB, BASE + dynstr_off),
                    (DT_SYMTAB, BASE + dynsym_off), (DT_STRSZ, len(dynstr.data)),
                    (DT_SYMENT, 16), (DT_NULL, 0)]
        dyn = b"".join(struct.pack("<iI", t, v) for t, v in entries)
        dyn_off = place(".dynamic", SHT_DYNAMIC, dyn, flags=3, link=dynstr_index, entsize=8)
        dyn_size = len(dyn)
    if comment:
        place(".comment", SHT_PROGBITS, comment, flags=0x30, align=1, entsize=1)
    shstr = _StrTab()
    for s in sections:
        shstr.add(s[0])
    shstr.add(".shstrtab")
    sections.append((".shstrtab", SHT_STRTAB, 0, len(body), len(shstr.data), 0, 0, 0))
    body += shstr.data
    _align(body, 4)
    shoff = len(body)
    body += b"\0" * 40  # null section header
    for name, stype, flags, off, size, link, info, entsize in sections:
        addr = BASE + off if dynamic and flags & 2 else 0
        body += struct.pack("<10I", shstr.index[name], stype, flags, addr, off, size, link, info,
                            4 if stype != SHT_STRTAB else 1, entsize)
    file_size = len(body)
    if dynamic:
        # PT_LOAD covering the whole file, then PT_DYNAMIC
        struct.pack_into("<8I", body, 52, 1, 0, BASE, BASE, file_size, file_size, 5, 0x1000)
        struct.pack_into("<8I", body, 84, 2, dyn_off, BASE + dyn_off, BASE + dyn_off, dyn_size,
                         dyn_size, 6, 4)
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\0" * 8
    struct.pack_into("<16sHHIIIIIHHHHHH", body, 0, ident, spec.type, spec.machine, 1,
                     BASE + text_off if spec.type == ET_EXEC else 0, 52 if dynamic else 0, shoff,
                     0x5000000 if spec.machine == EM_ARM else 0, 52, 32, phnum, 40,
                     len(sections) + 1, len(sections))
    return bytes(body)
