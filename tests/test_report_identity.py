"""CycloneDX file components keep distinct identities in importers that de-duplicate by identity.

Dependency-Track merges the components of an uploaded BOM whose identity is equal: purl, purl
coordinates, CPE, SWID tag id, group, name and version (hashes are not part of it;
`ComponentIdentity.equals` in DependencyTrack/hyades-apiserver). A firmware holds many files of
one name and no version; each distinct content must stay one identity of its own.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from packageurl import PackageURL

from provenance.pipeline import ScanOptions, scan
from provenance.report import cyclonedx, cyclonedx_xml
from provenance.report.load import from_cyclonedx


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return path


def _flat(nodes):
    for n in nodes:
        yield n
        yield from _flat(n.get("components", []))


def _dt_identity(c: dict) -> tuple:
    """Dependency-Track's ComponentIdentity of a CycloneDX component (type COMPONENT)."""
    purl = c.get("purl")
    coordinates = None
    if purl:
        p = PackageURL.from_string(purl)
        coordinates = PackageURL(p.type, p.namespace, p.name, p.version).to_string()
    return (purl, coordinates, c.get("cpe"), (c.get("swid") or {}).get("tagId"),
            c.get("group"), c.get("name"), c.get("version"))


def test_same_name_different_content_are_two_identities(tmp_path: Path, sigset) -> None:
    archive = _tar(tmp_path / "fw.tar", {
        "etc/a/config.json": b'{"mode": "a"}\n',
        "etc/b/config.json": b'{"mode": "b"}\n',
        "etc/c/config.json": b'{"mode": "a"}\n',  # the same bytes as etc/a: the same identity
        "bin/odd name\x1b[2J.sh": b"#!/bin/sh\necho hi\n",
    })
    result = scan(archive, sigset, ScanOptions(reproducible=True))
    text = cyclonedx.render(result)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert XmlValidator(SchemaVersion.V1_6).validate_str(cyclonedx_xml.render(result)) is None
    doc = json.loads(text)
    files = [c for c in _flat(doc["components"]) if c["name"] == "config.json"]
    assert len(files) == 3
    identities = {_dt_identity(c) for c in files}
    assert len(identities) == 2, identities  # a and c share their bytes; b differs
    for c in files:
        purl = PackageURL.from_string(c["purl"])
        sha = next(h["content"] for h in c["hashes"] if h["alg"] == "SHA-256")
        assert (purl.type, purl.name, purl.qualifiers) == (
            "generic", "config.json", {"checksum": f"sha256:{sha}"})
    # bom-refs stay unique, whatever the identities
    refs = [c["bom-ref"] for c in _flat(doc["components"])]
    assert len(refs) == len(set(refs))
    # a hostile name is percent-encoded in the purl, and parses back to the same name
    odd = next(c for c in _flat(doc["components"]) if c["name"].startswith("odd name"))
    assert PackageURL.from_string(odd["purl"]).name == odd["name"]
    assert "\x1b" not in odd["purl"]
    # stable: the same input gives the same document
    again = scan(archive, sigset, ScanOptions(reproducible=True))
    assert cyclonedx.render(again) == text


def test_content_purl_is_not_read_back_as_an_identified_purl(tmp_path: Path, sigset) -> None:
    archive = _tar(tmp_path / "fw.tar", {"a/readme.txt": b"one\n", "b/readme.txt": b"two\n"})
    result = scan(archive, sigset, ScanOptions(reproducible=True))
    doc = cyclonedx.to_dict(result)
    loaded = from_cyclonedx(json.loads(json.dumps(doc)))
    readmes = [c for c in loaded.root.walk() if c.name == "readme.txt"]
    assert len(readmes) == 2 and all(c.purl is None for c in readmes)
    # re-rendered from the loaded report, the identities are the same
    assert cyclonedx.to_dict(loaded)["components"] == doc["components"]


def test_a_declared_purl_is_kept() -> None:
    from dataclasses import replace

    from test_report_build import sample_result

    result = sample_result()
    node = replace(next(c for c in result.root.walk() if not c.children), kind="file",
                   name="libfoo.so", sha256="ab" * 32, purl=None)
    assert cyclonedx.identity_purl(node) == f"pkg:generic/libfoo.so?checksum=sha256:{'ab' * 32}"
    declared = "pkg:deb/debian/libfoo@1.0"
    assert cyclonedx.identity_purl(replace(node, purl=declared)) == declared
    assert cyclonedx.identity_purl(replace(node, kind="symlink")) is None
    assert cyclonedx.identity_purl(replace(node, kind="directory")) is None
