"""Zip-based packages read at container level: APK, AAR, JAR, wheel, and Dahua's "DH" zip.

The walker also extracts these; here only the declaring members are read (manifest, signature
files, pom, METADATA, hwid), each bounded to MAX_MEMBER bytes.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from provenance.identify import apksig, axml, certs, manifest, manifest_python
from provenance.identify.base import MAX_MEMBER, Identifier, Sink
from provenance.model import Facts, Problem

MAX_ENTRIES = 200_000
MF_KEYS = ("Implementation-Title", "Implementation-Version", "Implementation-Vendor",
           "Implementation-Vendor-Id", "Implementation-URL", "Specification-Title",
           "Specification-Vendor", "Specification-Version", "Bundle-Name", "Bundle-SymbolicName",
           "Bundle-Vendor", "Bundle-Version", "Bundle-DocURL", "Automatic-Module-Name",
           "Created-By", "Built-By")
SIG_FILE = re.compile(r"^META-INF/[^/]+\.(?:RSA|DSA|EC)$", re.I)
POM_PROPS = re.compile(r"^META-INF/maven/[^/]+/[^/]+/pom\.properties$")
POM_XML = re.compile(r"^META-INF/maven/[^/]+/[^/]+/pom\.xml$")
METADATA = re.compile(r"^[^/]+\.dist-info/METADATA$|^EGG-INFO/PKG-INFO$")


def detect(head: bytes, name: str) -> bool:
    # a Dahua "DH" zip is the firmware container's (extract/firmware/dahua.py), read there
    return head.startswith(b"PK\x03\x04")


def _member(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as handle:
        return handle.read(MAX_MEMBER)


def _jar_manifest(text: str, sink: Sink) -> dict[str, str]:
    fields = {k: v[0] for k, v in manifest.rfc822(text.replace("\r\n", "\n")).items()}
    for key in MF_KEYS:
        if key in fields:
            sink.add(f"jar.manifest.{key}", fields[key], f"!/META-INF/MANIFEST.MF#{key}")
    return fields


def _signer(sink: Sink, prefix: str, der_certs: list[Any], where: str) -> str | None:
    supplier = None
    for cert in der_certs[:10]:
        certs.cert_facts(sink, prefix, cert, where, "signer", "issuer")
        parts = {f.key: f.value for f in sink.facts if f.location == sink.where + where}
        supplier = supplier or parts.get(f"{prefix}.signer.O") or parts.get(f"{prefix}.signer.CN")
    return supplier


def _pom_xml(data: bytes, sink: Sink, at: str) -> dict[str, str]:
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(data)
    except Exception as exc:  # defusedxml refuses entities; malformed XML
        sink.problem(f"pom.xml: {exc}")
        return {}
    out: dict[str, str] = {}
    for child in list(root)[:200]:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag in ("groupId", "artifactId", "version", "url", "name") and child.text:
            out[tag] = child.text.strip()
        elif tag == "organization":
            for sub in child:
                if sub.text:
                    out["organization." + sub.tag.rsplit("}", 1)[-1]] = sub.text.strip()
        elif tag == "parent" and "groupId" not in out:
            for sub in child:
                if sub.tag.endswith("groupId") and sub.text:
                    out.setdefault("groupId", sub.text.strip())
    for key, value in out.items():
        sink.add(f"maven.{key}", value, f"{at}#{key}")
    return out


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    with open(path, "rb") as raw:
        try:
            zf = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            sink.problem(f"zip: {exc}")
            return sink.result("zip")
        with zf:
            try:
                return _read_zip(zf, raw, path, sink)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError,
                    RuntimeError, NotImplementedError) as exc:
                sink.problem(f"zip member: {exc}")
                return sink.result("zip")


def _read_zip(zf: zipfile.ZipFile, raw: Any, path: Path,
              sink: Sink) -> tuple[Facts, tuple[Problem, ...]]:
    names = [info.filename for _, info in zip(range(MAX_ENTRIES), zf.infolist(), strict=False)]
    present = set(names)
    fmt, name, version, supplier, purl = "zip", None, None, None, None
    if "AndroidManifest.xml" in present:
        fmt = "apk" if "classes.dex" in present or "resources.arsc" in present else "aar"
        data = _member(zf, "AndroidManifest.xml")
        attrs: dict[str, str] = {}
        if data.lstrip()[:1] == b"<":  # AARs carry the manifest as text XML
            match = re.search(rb'\spackage="([^"]{1,200})"', data)
            attrs = {"package": match.group(1).decode("utf-8", "replace")} if match else {}
        else:
            try:
                attrs = axml.manifest_attributes(data)
            except axml.AxmlError as exc:
                sink.problem(f"AndroidManifest.xml: {exc}")
        name, version = attrs.get("package"), attrs.get("versionName")
        sink.add("apk.package", name, "!/AndroidManifest.xml#package")
        sink.add("apk.version_name", version, "!/AndroidManifest.xml#versionName")
        sink.add("apk.version_code", attrs.get("versionCode"), "!/AndroidManifest.xml#versionCode")
    if "META-INF/MANIFEST.MF" in present:
        fmt = "jar" if fmt == "zip" else fmt
        fields = _jar_manifest(_member(zf, "META-INF/MANIFEST.MF").decode("utf-8", "replace"), sink)
        supplier = fields.get("Implementation-Vendor") or fields.get("Bundle-Vendor")
        if fmt == "jar":
            name = fields.get("Implementation-Title") or fields.get("Bundle-SymbolicName")
            version = fields.get("Implementation-Version") or fields.get("Bundle-Version")
    prefix = "apk" if fmt == "apk" else "jar"
    for member in [n for n in names if SIG_FILE.match(n)][:5]:
        found = certs.pkcs7_certs(_member(zf, member))
        if found:
            sink.add(f"{prefix}.signature.scheme", "v1", f"!/{member}")
        supplier = _signer(sink, prefix, found, f"!/{member}") or supplier
    if fmt == "apk":
        try:
            pairs = apksig.block(raw, path.stat().st_size)
            for scheme, der in apksig.signer_certs(pairs) if pairs else []:
                cert = certs.load_der(der)
                if cert is not None:
                    sink.add("apk.signature.scheme", scheme, "#APK-Signing-Block")
                    found_by = _signer(sink, "apk", [cert], f"#APK-Signing-Block/{scheme}")
                    supplier = supplier or found_by
        except (ValueError, OSError) as exc:
            sink.problem(f"APK signing block: {exc}")
    for member in [n for n in names if POM_PROPS.match(n)][:3]:
        props = dict(
            line.split("=", 1) for line in _member(zf, member).decode("utf-8", "replace")
            .splitlines() if "=" in line and not line.startswith("#")
        )
        for key in ("groupId", "artifactId", "version"):
            sink.add(f"maven.{key}", props.get(key, "").strip(), f"!/{member}#{key}")
        group, artifact = props.get("groupId", "").strip(), props.get("artifactId", "").strip()
        version = props.get("version", "").strip() or version
        name = artifact or name
        purl = purl or manifest.purl("maven", artifact, version, group)
    for member in [n for n in names if POM_XML.match(n)][:3]:
        pom = _pom_xml(_member(zf, member), sink, f"!/{member}")
        purl = purl or manifest.purl("maven", pom.get("artifactId"), pom.get("version"),
                                     pom.get("groupId"))
        supplier = supplier or pom.get("organization.name")
    meta = next((n for n in names if METADATA.match(n)), None)
    if meta is not None:
        text = _member(zf, meta).decode("utf-8", "replace")
        return manifest_python.facts_from(text, sink, f"!/{meta}", "wheel")
    return sink.result(fmt, name=name, version=version, supplier=supplier, purl=purl)


IDENTIFIER = Identifier("zip", detect, read, formats=frozenset({"apk", "aar", "jar", "wheel"}))
ORDER = 60  # place in detection (identify/__init__.py): lower is tried first
