"""Mach-O with LIEF: install name, exported and imported symbols, build version, the code
signature's team id and signer (read from the SuperBlob: CodeDirectory team id, CMS blob
certificates), and the Objective-C classes and Swift modules the file defines or only uses
(from its symbol table, so object files in a static library count too)."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

from provenance.identify import certs
from provenance.identify.base import MAX_SYMBOLS, Identifier, Sink, enum_name, lief_reader
from provenance.model import Facts, Problem, ProblemKind

MAGICS = (b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe",
          b"\xca\xfe\xba\xbe")
SUPERBLOB, CODEDIRECTORY, CMS = 0xFADE0CC0, 0xFADE0C02, 0xFADE0B01
OBJC_CLASS = "_OBJC_CLASS_$_"
# a Swift symbol's module: `$s` + <length><identifier> (`$s15LCMessageModule0A…`); `$sSo…`
# (an imported Objective-C name) and `$sS…` (the standard library) have no length there
SWIFT_MODULE = re.compile(r"_?\$s(\d{1,3})")
MAX_NAMES = 256  # distinct classes or modules of each kind kept per file


def detect(head: bytes, name: str) -> bool:
    # CAFEBABE is also a Java class file: those have a major version >= 45 at bytes 6-7
    if head.startswith(b"\xca\xfe\xba\xbe"):
        return len(head) >= 8 and 0 < int.from_bytes(head[4:8], "big") < 45
    return head.startswith(MAGICS)


def code_signature(blob: bytes, sink: Sink, where: str) -> str | None:
    """Team id and CMS signer facts from a code-signature SuperBlob; returns the signer O/CN."""
    if len(blob) < 12:
        return None
    magic, _, count = struct.unpack_from(">III", blob, 0)
    if magic != SUPERBLOB:
        sink.problem("code signature: not a SuperBlob")
        return None
    signer = None
    for i in range(min(count, 64)):
        if 12 + 8 * i + 8 > len(blob):
            sink.problem("code signature: index truncated", ProblemKind.TRUNCATED)
            break
        _, offset = struct.unpack_from(">II", blob, 12 + 8 * i)
        if offset + 8 > len(blob):
            continue
        sub_magic, length = struct.unpack_from(">II", blob, offset)
        sub = blob[offset : offset + length]
        if sub_magic == CODEDIRECTORY and len(sub) >= 52:
            version = struct.unpack_from(">I", sub, 8)[0]
            ident_off = struct.unpack_from(">I", sub, 20)[0]
            sink.add("macho.identifier", sub[ident_off : ident_off + 256].split(b"\0")[0],
                     f"{where}/CodeDirectory")
            if version >= 0x20200 and len(sub) >= 52:
                team_off = struct.unpack_from(">I", sub, 48)[0]
                if 0 < team_off < len(sub):
                    sink.add("macho.team_id", sub[team_off : team_off + 64].split(b"\0")[0],
                             f"{where}/CodeDirectory")
        elif sub_magic == CMS and len(sub) > 8:
            for cert in certs.pkcs7_certs(bytes(sub[8:]))[:10]:
                certs.cert_facts(sink, "macho", cert, f"{where}/CMS", "signer", "issuer")
                parts = {f.key: f.value for f in sink.facts if f.location.endswith("/CMS")}
                signer = signer or parts.get("macho.signer.O") or parts.get("macho.signer.CN")
    return signer


N_STAB, N_TYPE, N_UNDF, N_SECT = 0xE0, 0x0E, 0x0, 0xE  # nlist n_type bits


def code_names(symbols: Any) -> dict[str, dict[str, None]]:
    """Objective-C classes and Swift modules in a symbol table: defined here (`_OBJC_CLASS_$_X`
    in a section, `$s<n>Module…` code or data) or used from elsewhere (undefined)."""
    out: dict[str, dict[str, None]] = {k: {} for k in (
        "macho.objc_class", "macho.objc_class_ref", "macho.swift_module",
        "macho.swift_module_ref")}
    for kept, symbol in enumerate(symbols):
        if kept >= 20 * MAX_SYMBOLS:
            break
        kind = symbol.raw_type
        if kind & N_STAB or kind & N_TYPE not in (N_UNDF, N_SECT):
            continue  # debugging entries, absolute and indirect symbols
        name = symbol.name
        ref = kind & N_TYPE == N_UNDF
        if name.startswith(OBJC_CLASS):
            cls = name[len(OBJC_CLASS):]
            if cls and not cls.startswith("_Tt"):  # a Swift class: its module says more
                key = "macho.objc_class_ref" if ref else "macho.objc_class"
                if len(out[key]) < MAX_NAMES:
                    out[key][cls[:200]] = None
            continue
        found = SWIFT_MODULE.match(name)
        if found:
            n, start = int(found.group(1)), found.end()
            module = name[start : start + n]
            if len(module) == n and module.isidentifier():
                key = "macho.swift_module_ref" if ref else "macho.swift_module"
                if len(out[key]) < MAX_NAMES:
                    out[key][module] = None
    return out


@lief_reader
def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    import lief

    sink = Sink(where)
    fat = lief.MachO.parse(str(path))
    if fat is None or fat.size == 0:
        sink.problem("Mach-O headers unreadable")
        return sink.result("macho")
    name = arch = signer = None
    for index in range(min(fat.size, 8)):
        binary: Any = fat.at(index)
        slice_at = f"#slice[{index}]"
        cpu = enum_name(binary.header.cpu_type).lower()
        arch = arch or cpu
        sink.add("macho.cpu", cpu, slice_at)
        for command in list(binary.commands)[:512]:  # LIEF 1.0 has no id_dylib accessor
            if command.command == lief.MachO.LoadCommand.TYPE.ID_DYLIB:
                name = name or command.name
                sink.add("macho.install_name", command.name, f"{slice_at}/LC_ID_DYLIB")
        for lib in list(binary.libraries)[:256]:
            if lib.command != lief.MachO.LoadCommand.TYPE.ID_DYLIB:  # its own name, not a dep
                sink.add("macho.dylib", lib.name, f"{slice_at}/LC_LOAD_DYLIB")
        for key, symbols in (("macho.export", binary.exported_symbols),
                             ("macho.import", binary.imported_symbols)):
            for kept, symbol in enumerate(symbols):
                if kept >= MAX_SYMBOLS:
                    sink.problem(f"{key}: more than {MAX_SYMBOLS} names, the rest not kept",
                                 ProblemKind.LIMIT)
                    break
                if symbol.name:
                    sink.add(key, symbol.name, f"{slice_at}/symbols")
        names = code_names(binary.symbols)
        for key, found in names.items():
            for value in found:
                if key.endswith("_ref") and value in names[key[:-4]]:
                    continue  # defined in another object of this file: its own
                sink.add(key, value, f"{slice_at}/symbols")
        if binary.has_build_version:
            bv = binary.build_version
            sink.add("macho.platform", enum_name(bv.platform), f"{slice_at}/LC_BUILD_VERSION")
            sink.add("macho.minos", ".".join(map(str, bv.minos)), f"{slice_at}/LC_BUILD_VERSION")
            sink.add("macho.sdk", ".".join(map(str, bv.sdk)), f"{slice_at}/LC_BUILD_VERSION")
        if binary.has_code_signature:
            blob = bytes(binary.code_signature.content)
            signer = code_signature(blob, sink, f"{slice_at}/LC_CODE_SIGNATURE") or signer
    facts, problems = sink.result("macho", name=name, supplier=signer)
    return Facts(facts.format, arch, facts.items, facts.name, None, None, facts.supplier), problems


IDENTIFIER = Identifier("macho", detect, read, content_scan=True)
ORDER = 40  # place in detection (identify/__init__.py): lower is tried first
