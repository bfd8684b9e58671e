"""PE with LIEF: machine, subsystem, version resource, PDB path, imports, exports,
Authenticode, and a managed assembly's namespaces (identify/dotnet.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provenance.identify import certs, dotnet
from provenance.identify.base import MAX_SYMBOLS, Identifier, Sink, enum_name, lief_reader, mapped
from provenance.model import Facts, Problem, ProblemKind

VERSION_KEYS = (
    "CompanyName", "ProductName", "FileDescription", "LegalCopyright", "OriginalFilename",
    "FileVersion", "ProductVersion", "InternalName",
)


def detect(head: bytes, name: str) -> bool:
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return offset + 4 > len(head) or head[offset : offset + 4] == b"PE\0\0"


def _version(binary: Any, sink: Sink) -> dict[str, str]:
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
        sink.problem(f"version resource: {exc}")
    for key, value in sorted(strings.items()):
        sink.add(f"pe.version.{key}", value, f"#VS_VERSIONINFO/{key}")
    return strings


def _imports(binary: Any, sink: Sink) -> None:
    kept = 0
    for lib in binary.imports:
        sink.add("pe.import_dll", lib.name, "#IMAGE_DIRECTORY_ENTRY_IMPORT")
        for entry in lib.entries:
            if kept >= MAX_SYMBOLS:
                sink.problem(f"pe.import: more than {MAX_SYMBOLS} names, the rest not kept",
                             ProblemKind.LIMIT)
                return
            if entry.name:
                kept += 1
                sink.add("pe.import", f"{lib.name}!{entry.name}", "#IMAGE_DIRECTORY_ENTRY_IMPORT")


def _exports(binary: Any, sink: Sink) -> None:
    """Exported function names: an SDK exports its API family, a client imports it."""
    if not binary.has_exports:
        return
    for kept, entry in enumerate(binary.get_export().entries):
        if kept >= MAX_SYMBOLS:
            sink.problem(f"pe.export: more than {MAX_SYMBOLS} names, the rest not kept",
                         ProblemKind.LIMIT)
            return
        if entry.name:
            sink.add("pe.export", entry.name, "#IMAGE_DIRECTORY_ENTRY_EXPORT")


def _authenticode(binary: Any, sink: Sink) -> str | None:
    """Signer/issuer facts of each signature; returns the first signer's O (or CN)."""
    import lief

    supplier = None
    for index, signature in enumerate(binary.signatures):
        where = f"#Authenticode[{index}]"
        sink.add("pe.signature.digest", enum_name(signature.digest_algorithm), where)
        for signer in signature.signers:
            cert = signer.cert
            parsed = certs.load_der(bytes(cert.raw)) if cert is not None else None
            if parsed is not None:
                certs.cert_facts(sink, "pe", parsed, where, "signer", "issuer")
                parts = {f.key: f.value for f in sink.facts if f.location == sink.where + where}
                supplier = supplier or parts.get("pe.signer.O") or parts.get("pe.signer.CN")
            else:
                sink.add("pe.issuer", signer.issuer, where)
                sink.add("pe.signer.serial", bytes(signer.serial_number).hex(), where)
    if binary.has_signatures:
        flags = binary.verify_signature()
        ok = flags == lief.PE.Signature.VERIFICATION_FLAGS.OK
        # integrity of the signed digest and the PKCS#7 signature; not trust in the chain
        sink.add("pe.signature.verified", "true" if ok else "false", "#Authenticode")
        sink.add("pe.signature.status", enum_name(flags), "#Authenticode")
    return supplier


@lief_reader
def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    import lief

    sink = Sink(where)
    binary = lief.PE.parse(str(path))
    if binary is None:
        sink.problem("PE headers unreadable")
        return sink.result("pe")
    arch = enum_name(binary.header.machine).lower()
    sink.add("pe.machine", arch, "#FileHeader.Machine")
    sink.add("pe.subsystem", enum_name(binary.optional_header.subsystem), "#OptionalHeader")
    strings = _version(binary, sink)
    for step, fn in (("debug directory", _pdb), ("imports", _imports), ("exports", _exports)):
        try:
            fn(binary, sink)
        except Exception as exc:  # LIEF raises on some malformed directories
            sink.problem(f"{step}: {exc}")
    try:
        _managed(binary, path, sink)
    except Exception as exc:  # corrupt metadata (MetadataError) or a LIEF lookup failing
        sink.problem(f".NET metadata: {exc}")
    signer = None
    try:
        signer = _authenticode(binary, sink)
    except Exception as exc:
        sink.problem(f"Authenticode: {exc}")
    name = strings.get("OriginalFilename") or strings.get("InternalName")
    version = strings.get("FileVersion") or strings.get("ProductVersion")
    facts, problems = sink.result("pe", name=name, version=version,
                                  supplier=strings.get("CompanyName") or signer)
    return Facts(facts.format, arch, facts.items, facts.name, facts.version, None,
                 facts.supplier), problems


def _managed(binary: Any, path: Path, sink: Sink) -> None:
    """Namespaces a managed assembly defines (TypeDef) and only uses (TypeRef)."""
    import lief

    clr = binary.data_directory(lief.PE.DataDirectory.TYPES.CLR_RUNTIME_HEADER)
    if clr is None or not clr.rva or clr.size < 16:
        return
    with mapped(path) as data:
        header = binary.rva_to_offset(clr.rva)
        root = binary.rva_to_offset(dotnet.metadata_root(data, header))
        module, defined, used = dotnet.read_namespaces(data, root)
    if module:
        sink.add("dotnet.module", module, "#CLI/Module")
    for name in defined:
        sink.add("dotnet.namespace", name, "#CLI/TypeDef")
    for name in used:
        sink.add("dotnet.namespace_ref", name, "#CLI/TypeRef")


def _pdb(binary: Any, sink: Sink) -> None:
    import lief

    for entry in binary.debug if binary.has_debug else []:
        if isinstance(entry, lief.PE.CodeViewPDB) and entry.filename:
            sink.add("pe.pdb", entry.filename, "#IMAGE_DEBUG_TYPE_CODEVIEW")


IDENTIFIER = Identifier("pe", detect, read, content_scan=True)
ORDER = 20  # place in detection (identify/__init__.py): lower is tried first
