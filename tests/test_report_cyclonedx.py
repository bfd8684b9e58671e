"""CycloneDX 1.6 JSON and XML: official-schema validation, the DESIGN §7 contract, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from test_report_build import clean_result, sample_result

from provenance.report import cyclonedx, cyclonedx_xml
from provenance.report.load import ReportError, from_cyclonedx


def _props(node):
    return [(p["name"], p["value"]) for p in node.get("properties", [])]


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.get("components", []))


def test_json_validates_against_official_schema():
    for result in (sample_result(), sample_result(waived=True), clean_result()):
        errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(cyclonedx.render(result))
        assert errors is None, errors


def test_xml_validates_against_official_schema():
    for result in (sample_result(), sample_result(waived=True), clean_result()):
        text = cyclonedx_xml.render(result)
        errors = XmlValidator(SchemaVersion.V1_6).validate_str(text)
        assert errors is None, errors


def test_xml_keeps_compositions_properties_and_evidence():
    text = cyclonedx_xml.render(sample_result())
    assert "<aggregate>incomplete</aggregate>" in text
    assert '<assembly ref="ref-fw_image_tar_gz-rootfs_opt_blob_enc"' in text
    assert 'name="provenance:policy">us-ndaa-889<' in text
    assert "<technique>binary-analysis</technique>" in text
    assert "<country>CN</country>" in text


def test_contract_fields():
    doc = cyclonedx.to_dict(sample_result())
    meta = dict(_props(doc["metadata"]["component"]))
    assert meta["provenance:verdict"] == "restricted"
    assert meta["provenance:coverage"] == "partial"
    tool = doc["metadata"]["tools"]["components"][0]
    assert dict(_props(tool))["provenance:signature-digest"].startswith("sha256:0123")
    comps = {c["name"]: c for c in _walk(doc["components"])}
    lib = comps["libmpi.so"]
    p = dict(_props(lib))
    assert lib["manufacturer"] == {"name": "HiSilicon Technologies Co., Ltd.",
                                   "address": {"country": "CN"}}
    assert lib["hashes"] == [{"alg": "SHA-256", "content": "a" * 64}]
    assert (p["provenance:vendor"], p["provenance:relationship"]) == ("hisilicon", "made-by")
    assert p["provenance:confidence"] == "0.95"
    assert p["provenance:policy"] == "us-ndaa-889"
    assert p["provenance:location"] == "fw image.tar.gz!/rootfs/usr/lib/libmpi.so"
    entry = next(v for k, v in _props(lib) if k == "provenance:policy-entry")
    assert "in force 2019-08-13" in entry and "§889" in entry
    assert lib["evidence"]["copyright"] == [
        {"text": "Copyright (c) HiSilicon Technologies Co., Ltd."}]
    assert lib["evidence"]["occurrences"][0]["offset"] == 0x1F40
    assert comps["busybox"]["supplier"] == {"name": "BusyBox project"}
    assert dict(_props(comps["option.ko"]))["provenance:verdict"] == "clear"
    assert "provenance:policy" not in dict(_props(comps["option.ko"]))
    # the opaque blob and the input holding it are incomplete
    assert doc["compositions"] == [{"aggregate": "incomplete", "assemblies": sorted(
        ["ref-root", "ref-fw_image_tar_gz-rootfs_opt_blob_enc"])}]
    assert all(name.startswith("provenance:") for c in _walk(doc["components"])
               for name, _ in _props(c))


def test_clean_scan_is_complete():
    doc = cyclonedx.to_dict(clean_result())
    assert doc["compositions"] == [{"aggregate": "complete", "assemblies": ["ref-root"]}]


def test_waived_finding_is_listed_but_not_counted():
    doc = cyclonedx.to_dict(sample_result(waived=True))
    lib = next(c for c in _walk(doc["components"]) if c["name"] == "libmpi.so")
    p = dict(_props(lib))
    assert p["provenance:verdict"] == "clear"
    assert "provenance:policy" not in p
    assert "Lab unit" in p["provenance:waiver"]
    assert json.loads(p["provenance:finding"])["waiver"].startswith("Lab unit")


def test_round_trip_is_exact():
    for result in (sample_result(), sample_result(waived=True), clean_result()):
        doc = json.loads(cyclonedx.render(result))
        back = from_cyclonedx(doc)
        assert back.findings == result.findings
        assert back.root == result.root  # facts are not in the report; these have none
        assert back.verdicts == result.verdicts
        assert (back.problems, back.coverage, back.stats, back.policies, back.vendors) == (
            result.problems, result.coverage, result.stats, result.policies, result.vendors)
        assert (back.tool_version, back.signature_digest, back.started) == (
            result.tool_version, result.signature_digest, result.started)
        assert cyclonedx.to_dict(back) == doc


def test_foreign_documents_are_refused():
    import pytest

    for doc in ({"bomFormat": "SPDX"}, {"bomFormat": "CycloneDX", "metadata": {}},
                {"bomFormat": "CycloneDX", "metadata": {"component": {"name": "x"}}}):
        with pytest.raises(ReportError):
            from_cyclonedx(doc)
    doc = cyclonedx.to_dict(sample_result())
    doc["components"][0]["properties"].append(
        {"name": "provenance:finding", "value": "{not json"})
    with pytest.raises(ReportError, match="not JSON"):
        from_cyclonedx(doc)


@pytest.mark.parametrize("indent", [2, None])
def test_streamed_render_is_the_plain_dump(tmp_path: Path, indent: int | None) -> None:
    # render builds the text one component at a time; it must equal the dump of the whole dict,
    # for a nested tree (an archive inside an archive), a single file and a duplicate-name zip
    import io
    import tarfile
    import zipfile

    from provenance import pipeline, signatureset
    from provenance.pipeline.blobs import AnalysisOptions

    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("lib/a.so", b"\x7fELF not really")
        z.writestr("etc/b.conf", b"# Copyright (c) 2020 Huawei Technologies Co., Ltd.\n")
    outer = tmp_path / "outer.tar"
    with tarfile.open(outer, "w") as tar:
        tar.add(inner, arcname="pkg/inner.zip")
        info = tarfile.TarInfo("empty")
        tar.addfile(info, io.BytesIO(b""))
    single = tmp_path / "one.txt"
    single.write_text("hello\n")
    sigset = signatureset.load()
    for path in (outer, single, inner):
        result = pipeline.scan(path, sigset, pipeline.ScanOptions(
            analysis=AnalysisOptions(use_cache=False)))
        whole = cyclonedx.to_dict(result)
        if indent is None:
            expected = json.dumps(whole, separators=(",", ":"), ensure_ascii=False)
        else:
            expected = json.dumps(whole, indent=indent, ensure_ascii=False)
        assert cyclonedx.render(result, indent) == expected + "\n"


@pytest.mark.parametrize("indent", [2, None])
def test_the_fast_encoder_writes_what_the_standard_library_writes(indent: int | None) -> None:
    # _dump uses orjson (C) where json.dumps would be pure Python; the text must not change:
    # every character a file name or a vendor string can bring, and the values orjson refuses
    # (a lone surrogate from an undecodable name, a non-string key, an int past 64 bits) go to
    # json.dumps, the surrogate escaped so the text can be written as UTF-8
    text = "".join(map(chr, range(0xD800))) + "\ue000\u2028\u2029\ufeff\U0001f600\U0010ffff"
    value = {"name": text, "n": [0, -1, 2**63 - 1, 0.85, 1.0, True, None], "e": [{}, []],
             "nested": {"k\"\\": [text[:64]]}}
    if indent is None:
        plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        plain = json.dumps(value, indent=indent, ensure_ascii=False)
    assert cyclonedx._dump(value, indent) == plain
    for refused in ({"name": "a\udcffb"}, {1: "x"}, {"big": 2**70}):
        out = cyclonedx._dump(refused, indent)
        assert json.loads(out) == json.loads(cyclonedx.json_safe(json.dumps(refused)))
        out.encode("utf-8")  # writable: the surrogate is an escape, not a character


def test_dependencies_mirror_the_containment():
    result = sample_result()
    doc = cyclonedx.to_dict(result)
    graph = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}
    for c in result.components():
        if c.children:
            assert graph[c.ref] == [child.ref for child in c.children]
        else:
            assert c.ref not in graph
    refs = {doc["metadata"]["component"]["bom-ref"]}
    stack = list(doc["components"])
    while stack:
        node = stack.pop()
        assert node["bom-ref"] not in refs, "bom-refs are unique"
        refs.add(node["bom-ref"])
        stack.extend(node.get("components", []))
    assert {r for deps in graph.values() for r in deps} | set(graph) <= refs
    # the same graph in XML, where the schema puts it before compositions
    xml = cyclonedx_xml.render(result)
    assert xml.index("<dependencies>") < xml.index("<compositions>")
    assert XmlValidator(SchemaVersion.V1_6).validate_str(xml) is None
