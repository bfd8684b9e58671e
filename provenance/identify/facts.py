# ruff: noqa: E501  (the fact-key table is wide on purpose)
"""The registry of fact keys: every key a reader may emit, what it means, an example.

`FACT_TABLE` is the README's "Facts read" table (generated from it by tests/update_readme.py).
`registered(key)` says whether a key is listed: a test fails when a reader emits a key that is
not, or when attribution maps one that is not. In the key column, `<name>` stands for one
segment, a trailing `*` for any continuation, and `.X` after a key for a sibling of it.
"""

from __future__ import annotations

import functools
import re

from provenance.extract.firmware import CONTAINERS

_TABLE = """\
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
| `macho.objc_class` / `macho.objc_class_ref` | Objective-C classes the file defines (`_OBJC_CLASS_$_X` in a section) or only uses (undefined), each at most 256 | `LCOpenSDK_PlayWindow` |
| `macho.swift_module` / `macho.swift_module_ref` | Swift modules of the file's defined or undefined `$s` symbols | `LCOpenMediaSDK` |
| `dotnet.module` / `dotnet.namespace` / `dotnet.namespace_ref` | a managed PE's CLI metadata: Module name, TypeDef namespaces (defined), TypeRef namespaces (used only), each at most 256 | `HuaweiCloud.SDK.Core` |
| `content.type` | `text` for a blob of no structured format whose head is text (documents, lists, configs) | `text` |
| `content.uniform` | the one byte value a blob of 1 MiB or more is made of, hex (erased flash, padding); such a blob is not YARA-scanned | `ff` |
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
| `container.format` / `container.vendor` / `container.relationship` | a vendor container whose header passed the extractor's own strict validator, and the maker that structure declares (written first) | `huawei-update-app`, `huawei`, `made-by` |
| `sbom.format` / `sbom.spec_version` / `sbom.component_count` | SBOM document | `CycloneDX`, `1.6`, `3` |
| `sbom.component` | one per component (at most 5000), read by cyclonedx-python-lib / spdx-tools (identify/sbom_read.py): its label, at its location `#components[9]`, `#components[1].components[0]`, `#metadata.component` (CycloneDX JSON), `#component[i]` (XML, document order), `#packages[i]` (SPDX JSON), `#package[i]` (tag-value), `#@graph[i]` (SPDX 3); the component's other facts are at that location or a field of it (`#components[9].supplier.name`) | `requests 2.31.0` |
| `sbom.name` / `sbom.version` / `sbom.purl` / `sbom.cpe` / `sbom.sha256` / `sbom.file_name` | what a component is (`identify/sbom.component_facts`, the mapping `scan` and `enrich` share) | `@huaweicloud/huaweicloud-sdk-core` |
| `sbom.supplier` / `sbom.manufacturer` / `sbom.supplier_email` / `sbom.supplier_url` | who the SBOM declares supplies or makes it (bare names) | `Huawei Technologies Co., Ltd.` |
| `sbom.author` / `sbom.author_email` / `sbom.publisher` / `sbom.homepage` / `sbom.repository` / `sbom.copyright_holder` | who else it names, its URLs, its copyright holders | `https://github.com/huaweicloud/...` |
"""


def _with_containers(table: str) -> str:
    """The table with the rows each firmware container declares beside its header reader
    (`Container.facts`, extract/firmware), in detection order, before the `container.*` row: a
    new container registers its keys in its own module."""
    rows = "".join(f"| {key} | {meaning} | {example} |\n"
                   for c in CONTAINERS for key, meaning, example in c.facts)
    marker = "| `container.format`"
    head, tail = table.split(marker, 1)
    return head + rows + marker + tail


FACT_TABLE = _with_containers(_TABLE)


def _patterns(cell: str) -> list[str]:
    """Regular expressions for the keys named in one table cell. `.X` after `a.b.O` is a
    sibling (`a.b.X`); in a cell with `(+ .X …)` it is a child of each key before it."""
    keys: list[str] = []
    full: list[str] = []
    for token in re.findall(r"`([^`]+)`", cell):
        if not re.fullmatch(r"[A-Za-z0-9_.<>*-]+", token):
            continue  # an example value, not a key
        if not token.startswith("."):
            full.append(token)
            keys.append(token)
        elif "(+" in cell:
            keys += [parent + token for parent in full]
        elif full:
            keys.append(full[-1].rsplit(".", 1)[0] + token)
    out = []
    for key in keys:
        rx = re.escape(key).replace(r"\*", ".*").replace(r"\<", "<").replace(r"\>", ">")
        out.append(re.sub(r"<[^>]+>", "[^.]+", rx))
    return out


@functools.cache
def _compiled() -> re.Pattern[str]:
    keys = [rx for line in FACT_TABLE.splitlines()[2:] if line.startswith("|")
            for rx in _patterns(line.split("|")[1])]
    return re.compile("|".join(f"(?:{rx})" for rx in keys))


def registered(key: str) -> bool:
    """Whether a fact key is in the registry."""
    return _compiled().fullmatch(key) is not None


def facts_markdown() -> str:
    """The README table (kept in sync by a test)."""
    return FACT_TABLE
