# ruff: noqa: E501  (the fact-key table below is wide on purpose)
"""Stage 2: read what a blob declares about itself, each fact tagged with where it was found.

An identifier is a (name, detect, read) triple over the blob's head, file name and path. The first
identifier whose `detect` accepts the blob reads it; then, for executables and unrecognised
blobs that are not compressed or containers, the content scanners (copyright statements,
embedded X.509 certificates) add their facts. Readers never raise on bad content: what they could
not read becomes a Problem next to what they did read.

Every fact's location is the blob's path chain plus `#field` (a structure or member path, with
`!/member` for members read inside an archive) or `@0xOFFSET` (a byte offset).

| key | meaning | example |
|---|---|---|
| `elf.class` / `elf.machine` / `elf.type` | ELF header | `ELF64`, `arm`, `DYN` |
| `elf.interpreter` | PT_INTERP | `/lib/ld-uClibc.so.0` |
| `elf.soname` / `elf.needed` | DT_SONAME, DT_NEEDED | `libmpi.so` |
| `elf.rpath` / `elf.runpath` | DT_RPATH / DT_RUNPATH entries, one per path | `/opt/hisi/lib` |
| `elf.build_id` | NT_GNU_BUILD_ID (GNU owner only), hex | `d686...f935` |
| `elf.export` / `elf.import` | dynamic symbol names (each at most 4096) | `HI_MPI_SYS_Init` |
| `elf.comment` | `.comment` strings (toolchain tags) | `GCC: (Hisilicon_v300) 4.9.4` |
| `modinfo.<key>` | kernel module `.modinfo`: author, description, license, vermagic, version, srcversion, name, depends, alias, firmware... | `modinfo.license` = `Proprietary` |
| `modinfo.usb_id` / `modinfo.pci_id` | vendor:product decoded from `alias` (product `*` when any) | `12d1:1001`, `19e5:a250` |
| `modinfo.of_compatible` | compatible decoded from an `of:` alias | `hisilicon,hisi-sys` |
| `go.version` / `go.path` / `go.module` / `go.dep` | Go build info (Go 1.18+) | `go1.19.8`, `example.com/hello@(devel)` |
| `pe.machine` / `pe.subsystem` | PE headers | `amd64`, `WINDOWS_GUI` |
| `pe.version.<Key>` | version resource string (CompanyName, ProductName, FileDescription, LegalCopyright, OriginalFilename, FileVersion, ProductVersion, InternalName) | `Huawei Technologies Co., Ltd.` |
| `pe.pdb` | CodeView PDB path | `HwOs2Ecx64.pdb` |
| `pe.import_dll` / `pe.import` | imported DLLs, `dll!function` | `USER32.dll!MessageBoxA` |
| `pe.export` | exported function names (each at most 4096) | `CLIENT_Init` |
| `pe.signer` / `pe.issuer` | Authenticode signer certificate subject / issuer (RFC 4514) | `CN=...,O=...,C=CN` |
| `pe.signer.O` / `.CN` / `.C` / `.OU`, `pe.issuer.O` / `.CN` / `.C` / `.OU` | their attributes | `Huawei Technologies Co., Ltd.` |
| `pe.signer.serial` / `.not_before` / `.not_after` / `.sha256` | signer certificate serial (hex), validity, fingerprint | `1234abcd` |
| `pe.signature.digest` | digest algorithm | `SHA_256` |
| `pe.signature.verified` / `pe.signature.status` | LIEF verify_signature: `true` when the signed digest and PKCS#7 signature verify (integrity; chain trust is not checked); status flags | `true`, `OK` |
| `macho.cpu` / `macho.install_name` / `macho.dylib` | Mach-O slice CPU, LC_ID_DYLIB, LC_LOAD_DYLIB | `/usr/lib/libhi.dylib` |
| `macho.export` / `macho.import` | exported and imported symbol names (each at most 4096) | `_MV_CC_CreateHandle` |
| `content.type` | `text` for a blob of no structured format whose head is text (documents, lists, configs) | `text` |
| `java.class` | a Java class file's own name (`this_class`) | `com/hikvision/netsdk/HCNetSDK` |
| `macho.platform` / `macho.minos` / `macho.sdk` | LC_BUILD_VERSION | `MACOS`, `11.0.0` |
| `macho.identifier` / `macho.team_id` | code signature CodeDirectory | `ABCDE12345` |
| `macho.signer*` / `macho.issuer*` | CMS signer certificates (as `pe.signer*`) | |
| `apk.package` / `apk.version_name` / `apk.version_code` | binary AndroidManifest.xml | `com.huawei.hwid` |
| `apk.signature.scheme` | `v1` (META-INF/*.RSA/DSA/EC), `v2`, `v3`, `v3.1` (signing block) | `v2` |
| `apk.signer*` / `apk.issuer*`, `jar.signer*` / `jar.issuer*` | signing certificates (as `pe.signer*`); location says which scheme | `Huawei Device Co., Ltd.` |
| `jar.manifest.<Key>` | MANIFEST.MF vendor fields (Implementation-*, Specification-*, Bundle-*, Created-By, Built-By, Automatic-Module-Name) | `jar.manifest.Implementation-Vendor` |
| `maven.groupId` / `maven.artifactId` / `maven.version` / `maven.url` / `maven.name` / `maven.organization.name` / `maven.organization.url` | pom.properties / pom.xml | `com.huawei.agconnect` |
| `manifest.name` / `manifest.version` | declared package name/version (Python, npm, deb, opkg, RPM) | `huaweicloudsdkcore` |
| `manifest.author` / `manifest.maintainer` / `manifest.packager` / `manifest.contributor` | declared people (name part) | `HuaweiCloud SDK` |
| `manifest.<role>_email` / `manifest.email_domain` | their e-mail addresses and lower-cased domains | `huawei.com` |
| `manifest.homepage` / `manifest.repository` / `manifest.url` / `manifest.bugs` | declared URLs | `https://github.com/huaweicloud/...` |
| `manifest.publisher` / `manifest.vendor` / `manifest.license` | npm publisher, RPM vendor, licence | `AO Kaspersky Lab` |
| `manifest.architecture` / `manifest.arch` / `manifest.source` / `manifest.release` / `manifest.epoch` / `manifest.summary` / `manifest.distribution` / `manifest.os` / `manifest.sourcerpm` / `manifest.original_maintainer` | other control / RPM fields | `armhf` |
| `cert.subject` / `cert.issuer` (+ `.O` `.CN` `.C` `.OU`), `cert.serial`, `cert.not_before`, `cert.not_after`, `cert.sha256` | embedded PEM or DER certificates, at their offset | `HUAWEI C2PA ECC384 Root CA E346` |
| `copyright.text` / `copyright.holder` / `copyright.years` | copyright statements (at most 50, first 8 MiB) | `Huawei Technologies Co., Ltd.`, `2019-2021` |
| `dt.version` / `dt.model` / `dt.compatible` / `dt.vendor_prefix` | device tree (DTB, FIT) or `vendor,chip` strings in ELF `.rodata` | `hisilicon,hi3516cv300`, `hisilicon` |
| `net.mac` | a MAC address assigned to a device in a config or environment (`ethaddr=…`); prefix tables are not read | `00:18:82:12:34:56` |
| `uimage.name` / `.os` / `.arch` / `.type` / `.size` | U-Boot legacy image header | `Linux-4.9.37` |
| `updateapp.hardware_id` / `updateapp.partition` | Huawei UPDATE.APP block headers | `HW7x27` |
| `digicap.magic` / `.language` / `.device_class` / `.oem_code` / `.file_count` | Hikvision digicap header (XOR-decoded) | `0x2f` |
| `zte.model` | ZTE config.bin signature block model | `ZXHN H298N` |
| `dahua.hwid` | first line of the `hwid` member of a Dahua "DH" zip | `IPC-HFW4431R-Z:...` |
| `container.format` / `container.vendor` / `container.relationship` | a vendor container whose header passed the extractor's own strict validator, and the maker that structure declares (written first) | `huawei-update-app`, `huawei`, `made-by` |
| `hwnp.products` / `hwnp.version` | Huawei HWNP ONT firmware: product list and version from the validated header | `HG8145V5` |
| `sbom.format` / `sbom.spec_version` / `sbom.component_count` | SBOM document | `CycloneDX`, `1.6`, `3` |
| `sbom.component` / `sbom.purl` / `sbom.supplier` | one per component (at most 5000), read by cyclonedx-python-lib / spdx-tools (identify/sbom_read.py); supplier is the bare name; location `#components[9]`, `#components[1].components[0]`, `#metadata.component` (CycloneDX JSON), `#component[i]` (XML, document order), `#packages[i]` (SPDX JSON), `#package[i]` (tag-value), `#@graph[i]` (SPDX 3) | `requests 2.31.0` |
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from provenance.identify import (
    certs,
    copyright,
    dtb,
    elf,
    fwheaders,
    javaclass,
    macaddr,
    macho,
    manifest_debian,
    manifest_npm,
    manifest_python,
    pe,
    rpm,
    sbom,
    tarball,
    zipped,
)
from provenance.identify.base import MAX_FACTS, Identifier, Sink, mapped
from provenance.model import Artifact, Facts, Problem

# Order matters only where detections overlap: structural magics before name-based readers.
IDENTIFIERS: tuple[Identifier, ...] = (
    elf.IDENTIFIER, pe.IDENTIFIER, javaclass.IDENTIFIER, macho.IDENTIFIER, dtb.IDENTIFIER, zipped.IDENTIFIER,
    rpm.IDENTIFIER, manifest_debian.IDENTIFIER, tarball.IDENTIFIER, fwheaders.IDENTIFIER,
    sbom.IDENTIFIER, manifest_python.IDENTIFIER, manifest_npm.IDENTIFIER,
)
SCANNED_FORMATS = {"elf", "pe", "macho"}
# Compressed or packed heads: scanning their bytes for text finds nothing worth a fact.
PACKED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd", b"]\x00\x00", b"7z\xbc\xaf",
          b"PK\x03\x04", b"hsqs", b"sqsh", b"UBI#", b"\x85\x19", b"Rar!", b"\x89PNG", b"\xff\xd8")

__all__ = ["IDENTIFIERS", "facts_to_dict", "identify"]


def identify(artifact: Artifact, head: bytes) -> tuple[Facts, tuple[Problem, ...]]:
    """Facts about one blob. `head` is its first bytes (at least 4 KiB when it has them)."""
    local: Path | None = artifact.local
    if local is None:
        return Facts(format=artifact.kind), ()
    facts: Facts = Facts(format=artifact.kind)
    problems: tuple[Problem, ...] = ()
    for ident in IDENTIFIERS:
        if ident.detect(head, artifact.name):
            try:
                facts, problems = ident.read(local, artifact.path)
            except Exception as exc:  # hostile input: a parser bug must not stop the scan
                problem = Problem(artifact.path, "identify", f"{ident.name}: {exc}", "corrupt")
                facts, problems = Facts(format=ident.name), (problem,)
            break
    if _scan_content(facts, artifact, head):
        sink = Sink(artifact.path)
        if facts.format not in SCANNED_FORMATS and is_text(head):
            sink.add("content.type", "text", "#head")
        try:
            with mapped(local) as data:
                copyright.scan(data, sink)
                certs.scan(data, sink)
                if facts.format not in SCANNED_FORMATS:  # configs and environments, not code
                    macaddr.scan(data, sink)
        except Exception as exc:  # OSError on mmap, or a scanner bug: keep what was read
            sink.problem(f"content scan: {exc}", "error")
        if sink.facts:
            room = max(0, MAX_FACTS - len(facts.items))
            facts = dataclasses.replace(facts, items=facts.items + tuple(sink.facts[:room]))
        problems = problems + tuple(sink.problems)
    return facts, problems


def is_text(head: bytes) -> bool:
    """Text (a document, a list, a config), not a binary: no NUL and few control bytes in the
    head. UTF-16 text has NULs and reads as a binary here; its strings are still scanned."""
    if not head or b"\0" in head:
        return False
    control = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B))
    return control * 100 <= len(head)


def _scan_content(facts: Facts, artifact: Artifact, head: bytes) -> bool:
    if facts.format in SCANNED_FORMATS:
        return True
    known = {i.name for i in IDENTIFIERS} | fwheaders.KINDS | {
        "dtb", "zip", "tar", "apk", "aar", "jar", "wheel", "sdist", "npm", "deb", "ipk",
        "python-metadata", "java-class"}
    return facts.format not in known and not artifact.children and not head.startswith(PACKED)


def facts_to_dict(facts: Facts) -> dict[str, Any]:
    """A JSON-friendly rendering: declared fields, then facts grouped by key in reading order."""
    out: dict[str, Any] = {
        k: v for k, v in (("format", facts.format), ("arch", facts.arch), ("name", facts.name),
                          ("version", facts.version), ("purl", facts.purl),
                          ("supplier", facts.supplier)) if v is not None
    }
    grouped: dict[str, list[dict[str, str]]] = {}
    for fact in facts.items:
        grouped.setdefault(fact.key, []).append({"value": fact.value, "location": fact.location})
    out["facts"] = grouped
    return out
