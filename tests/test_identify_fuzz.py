"""Hypothesis fuzzing of every hand-written identify parser: hostile bytes give facts and
Problems, never an exception. PROVENANCE_FUZZ_EXAMPLES raises the count for a long campaign."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import identify_fixtures as fx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.identify import (
    apksig,
    axml,
    certs,
    copyright,
    dtb,
    fwheaders,
    gobuild,
    manifest_debian,
    manifest_npm,
    manifest_python,
    modinfo,
    rpm,
    sbom,
    zipped,
)
from provenance.identify.base import Sink

EXAMPLES = int(os.environ.get("PROVENANCE_FUZZ_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """The seed truncated, with bytes flipped, or random bytes behind its magic."""
    flips = st.lists(st.tuples(st.integers(0, max(0, len(seed) - 1)), st.integers(0, 255)),
                     max_size=8)

    def apply(args: tuple[int, list[tuple[int, int]], bytes]) -> bytes:
        cut, changes, tail = args
        data = bytearray(seed[:cut])
        for pos, val in changes:
            if pos < len(data):
                data[pos] = val
        return bytes(data) + tail

    return st.tuples(st.integers(0, len(seed)), flips, st.binary(max_size=64)).map(apply)


def seeds() -> dict[str, bytes]:
    out = {
        "axml": fx.axml("com.huawei.hwid", "1.0", 1),
        "uimage": fx.uimage(), "updateapp": fx.update_app(), "digicap": fx.digicap(),
        "zte": fx.zte_config(), "cdx": fx.cdx_json(), "cdxxml": fx.cdx_xml(),
        "spdx": fx.spdx_json(), "spdxtv": fx.SPDX_TV.encode(),
        "metadata": fx.PY_METADATA.encode(), "control": fx.DEB_CONTROL.encode(),
        "dtb": (b"\xd0\x0d\xfe\xed\x00\x00\x00\x60\x00\x00\x00\x38\x00\x00\x00\x58"
                b"\x00\x00\x00\x28\x00\x00\x00\x11\x00\x00\x00\x10\x00\x00\x00\x00"
                b"\x00\x00\x00\x08\x00\x00\x00\x20" + b"\0" * 16
                + b"\0\0\0\x01\0\0\0\0\0\0\0\x03\0\0\0\x04\0\0\0\0a,b\0\0\0\0\x02\0\0\0\x09"
                + b"model\0\0\0"),
        "modinfo": b"author=X\0alias=usb:v12D1p1001d*\0alias=pci:v000019E5d0000A250sv*\0",
        "go": gobuild.MAGIC + b"\x08\x02" + b"\0" * 16 + b"\x08go1.21.0" + b"\x05path\tx",
        "copyright": b"\0Copyright (c) 2019 Huawei Technologies Co., Ltd. All rights reserved.",
        "pem": b"-----BEGIN CERTIFICATE-----\n" + b"MIIB" * 40 + b"\n-----END CERTIFICATE-----",
        "der": b"\x30\x82\x01\x00\x30\x82\x00\xf0" + b"\x02\x01\x00" * 80,
        "ar": b"!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n",
        "sigblock": fx.apk_signing_block(b"\x30\x82\x00\x10" + b"\0" * 16),
    }
    return out


SEEDS = seeds()


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@SETTINGS
@given(data=mutated(SEEDS["axml"]))
def test_axml(data: bytes) -> None:
    with contextlib.suppress(axml.AxmlError):  # documented: callers make it a Problem
        axml.manifest_attributes(data)


@SETTINGS
@given(data=st.one_of(mutated(SEEDS["modinfo"]), st.binary(max_size=512)))
def test_modinfo(data: bytes) -> None:
    modinfo.parse(data, Sink("x"), "#.modinfo")


@SETTINGS
@given(data=st.one_of(mutated(SEEDS["copyright"]), st.binary(max_size=512),
                      st.text(max_size=300).map(str.encode)))
def test_copyright(data: bytes) -> None:
    sink = Sink("x")
    copyright.scan(data, sink)
    assert len({f.value for f in sink.facts if f.key == "copyright.text"}) <= 50


@SETTINGS
@given(data=st.one_of(mutated(SEEDS["dtb"]), mutated(SEEDS["go"])))
def test_dtb_and_go(data: bytes) -> None:
    dtb.parse(data, Sink("x"))
    dtb.compatible_strings(data, Sink("x"), 0, "#.rodata")
    gobuild.parse(data, Sink("x"), "#.go.buildinfo")


@SETTINGS
@given(data=st.one_of(mutated(SEEDS["pem"]), mutated(SEEDS["der"]), st.binary(max_size=512)))
def test_cert_scan(data: bytes) -> None:
    certs.scan(data, Sink("x"))
    certs.pkcs7_certs(data)


@SETTINGS
@given(data=mutated(SEEDS["sigblock"]))
def test_apk_signing_block(data: bytes) -> None:
    with contextlib.suppress(ValueError):  # documented: the zip reader makes it a Problem
        apksig.signer_certs(data[8:-24])


FILE_CASES = [
    ("uImage", "uimage", fwheaders.read), ("UPDATE.APP", "updateapp", fwheaders.read),
    ("digicap.dav", "digicap", fwheaders.read), ("config.bin", "zte", fwheaders.read),
    ("bom.json", "cdx", sbom.read), ("bom.xml", "cdxxml", sbom.read),
    ("spdx.json", "spdx", sbom.read), ("x.spdx", "spdxtv", sbom.read),
    ("METADATA", "metadata", manifest_python.read), ("control", "control", manifest_debian.read),
    ("package.json", "cdx", manifest_npm.read), ("x.deb", "ar", manifest_debian.read),
    ("x.rpm", "ar", rpm.read), ("x.apk", "axml", zipped.read),
]


# @given on the test itself (not on an inner function), so Hypothesis reports each case's
# statistics and the fuzz campaign can count its inputs
@pytest.mark.parametrize(("name", "seed", "reader"), FILE_CASES)
@SETTINGS
@given(draw=st.data())
def test_file_readers(tmp_path: Path, name: str, seed: str, reader: Callable[..., Any],
                      draw: st.DataObject) -> None:
    data = draw.draw(mutated(SEEDS[seed]))
    facts, problems = reader(_file(tmp_path, name, data), name)
    assert facts.format
    assert all(p.stage == "identify" for p in problems)


# --- SBOM: the hand-written parts around the libraries (sbom_read, sbom) ----------------------

SBOM_KEYS = ["packages", "files", "relationships", "documentDescribes", "creationInfo",
             "creators", "created", "SPDXID", "name", "fileName", "versionInfo", "supplier",
             "originator", "checksums", "algorithm", "checksumValue", "externalRefs",
             "referenceType", "referenceLocator", "referenceCategory", "homepage",
             "downloadLocation", "copyrightText", "licenseDeclared", "primaryPackagePurpose",
             "spdxElementId", "relationshipType", "relatedSpdxElement", "@graph", "@context",
             "type", "spdxId", "software_packageVersion", "software_packageUrl", "suppliedBy",
             "verifiedUsing", "hashValue", "externalIdentifier", "externalIdentifierType",
             "identifier", "from", "to", "components", "metadata", "component", "bom-ref",
             "purl", "publisher", "version"]
SBOM_WORDS = ["software_Package", "Package", "File", "SpdxDocument", "Relationship",
              "Organization: Acme (a@b)", "Person: x", "Tool: t", "NOASSERTION", "SHA256",
              "DEPENDS_ON", "DESCRIBES", "DEPENDENCY_OF", "purl", "cpe23", "email", "SPDXRef-1",
              "SPDXRef-DOCUMENT", "https://x.example/a", "file", "dependsOn"]
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(SBOM_WORDS),
                         st.text(max_size=12))
sbom_json = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(SBOM_KEYS), inner, max_size=6)),
    max_leaves=40)
sbom_docs = st.dictionaries(st.sampled_from(SBOM_KEYS), sbom_json, max_size=8)


@SETTINGS
@given(doc=sbom_docs)
def test_spdx_and_cyclonedx_dicts(doc: dict[str, Any]) -> None:
    """The SPDX 2 / SPDX 3 to CycloneDX mappings and the facts walk over hostile dicts."""
    from provenance.identify import sbom_read

    locations: dict[str, str] = {}
    out, problems = sbom_read.spdx2_to_cdx(doc, "x", 50, locations)
    json.dumps(out)
    assert all(p.stage == "identify" for p in problems)
    with contextlib.suppress(sbom_read.SbomError):  # documented: no @graph array
        sbom_read.spdx3_to_cdx(doc, "x", 50, {})
    for family in ("CycloneDX", "SPDX"):
        sink = Sink("x")
        sbom.facts(sbom_read.SbomInput(doc, family, (), family, "1", locations), sink)
        sbom.facts(sbom_read.SbomInput(out, family, (), family, "1", locations), sink)


@SETTINGS
@given(text=st.one_of(mutated(SEEDS["spdxtv"]).map(lambda b: b.decode("utf-8", "replace")),
                      st.lists(st.sampled_from(["PackageName: a", "FileName: f", "SPDXID: x",
                                                "ExternalRef: a b", "PackageChecksum: SHA1",
                                                "Relationship: a", "Creator: Tool: t",
                                                "PackageSupplier: <text>a", "</text>", "x:y",
                                                "SPDXVersion: SPDX-2.3", "# c"]),
                               max_size=30).map("\n".join)))
def test_spdx_tagvalue_lenient(text: str) -> None:
    from provenance.identify import sbom_read

    doc = sbom_read.tagvalue_to_json(text)
    sbom_read.spdx2_to_cdx(doc, "x")


@pytest.mark.parametrize(("name", "seed"), [
    ("bom.xml", "cdxxml12"), ("bad.xml", "cdxgizmo"), ("x.spdx.jsonld", "spdx3"),
])
@SETTINGS
@given(draw=st.data())
def test_sbom_library_fallbacks(tmp_path: Path, name: str, seed: str,
                                draw: st.DataObject) -> None:
    """Documents the libraries refuse (mutated XML with a component type the model rejects,
    SPDX 3) go through the hand-written fallbacks: facts and Problems, never an exception."""
    data = draw.draw(mutated(SBOM_SEEDS[seed]))
    facts, problems = sbom.read(_file(tmp_path, name, data), name)
    assert facts.format == "sbom"
    assert not [p for p in problems if p.kind == "error"]  # no reader bug caught


SBOM_SEEDS = {
    "cdxxml12": fx.cdx_xml("1.2"),
    "cdxgizmo": fx.cdx_xml("1.4").replace(b'type="library" bom-ref', b'type="gizmo" bom-ref'),
    "spdx3": (Path(__file__).parent / "fixtures" / "sbom" / "camera-spdx-3.0.jsonld").read_bytes(),
}
