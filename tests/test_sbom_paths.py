"""One SBOM, one verdict, whatever the path (issue 12): `scan` of the SBOM, `scan` of a tarball
holding it, and `enrich` read its components through the same mapping and weigh them alike.
Waivers apply on the SBOM paths too, and `render` reads what `enrich` writes."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from provenance.cli import app

AS_OF = "2026-01-01"
POLICY = ("-p", "us-ndaa-889", "--as-of", AS_OF)

# what a vendor's component says about itself in an SBOM
HUAWEI = {"type": "library", "bom-ref": "agc", "group": "com.huawei.agconnect",
          "name": "agconnect-core", "version": "1.9.1",
          "purl": "pkg:maven/com.huawei.agconnect/agconnect-core@1.9.1",
          "supplier": {"name": "Huawei Technologies Co., Ltd."}}
# a third-party component that only talks about the vendor
MENTION = {"type": "library", "bom-ref": "tools", "name": "modem-tools", "version": "0.3.0",
           "description": "Utilities for Huawei and ZTE LTE modems (E3372, MF833)",
           "purl": "pkg:pypi/modem-tools@0.3.0",
           "externalReferences": [
               {"type": "vcs", "url": "https://github.com/example/huawei-modem-tools"},
               {"type": "documentation", "url": "https://example.org/docs/huawei-e3372"}]}
PLAIN = {"type": "library", "bom-ref": "six", "name": "six", "version": "1.17.0",
         "purl": "pkg:pypi/six@1.17.0", "supplier": {"name": "Benjamin Peterson"}}


def sbom(*components: dict[str, Any]) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"component": {"type": "firmware", "bom-ref": "product",
                                       "name": "gateway", "version": "2.0"}},
            "components": [dict(c) for c in components]}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def verdict(path: Path) -> str:
    meta = json.loads(path.read_text())["metadata"]["component"]
    return next(p["value"] for p in meta["properties"] if p["name"] == "provenance:verdict")


def three_paths(tmp_path: Path, doc: dict[str, Any], *more: str) -> dict[str, tuple[int, str]]:
    """(exit code, verdict) of scan of the SBOM, scan of a tarball holding it, and enrich."""
    bom = tmp_path / "bom.cdx.json"
    bom.write_text(json.dumps(doc, indent=1))
    image = tmp_path / "img.tar.gz"
    with tarfile.open(image, "w:gz") as tf:
        tf.add(bom, "rootfs/usr/share/sbom/bom.cdx.json")
    out: dict[str, tuple[int, str]] = {}
    for name, args in (("scan sbom", ("scan", str(bom))),
                       ("scan tarball", ("scan", str(image), "--no-cache")),
                       ("enrich", ("enrich", str(bom)))):
        report = tmp_path / f"{name.replace(' ', '-')}.json"
        result = invoke(*args, "-q", "-o", str(report), *POLICY, *more)
        assert result.exit_code in (0, 1), (name, result.output)
        out[name] = (result.exit_code, verdict(report))
    return out


def test_a_vendor_component_gets_one_verdict_on_every_path(tmp_path: Path) -> None:
    got = three_paths(tmp_path, sbom(PLAIN, HUAWEI))
    assert set(got.values()) == {(1, "restricted")}, got


def test_a_component_that_mentions_a_vendor_stays_clear_on_every_path(tmp_path: Path) -> None:
    got = three_paths(tmp_path, sbom(PLAIN, MENTION))
    assert set(got.values()) == {(0, "clear")}, got


def test_the_tarball_names_the_listed_component(tmp_path: Path) -> None:
    three_paths(tmp_path, sbom(PLAIN, HUAWEI))
    report = json.loads((tmp_path / "scan-tarball.json").read_text())
    stack, found = list(report["components"]), None
    while stack:
        c = stack.pop()
        stack.extend(c.get("components", []))
        if c["name"] == "bom.cdx.json":
            found = c
    assert found is not None
    names = {p["name"]: p["value"] for p in found["properties"]}
    assert names["provenance:vendor"] == "huawei"
    assert names["provenance:relationship"] == "contains"
    attribution = next(a for p in found["properties"] if p["name"] == "provenance:attribution"
                       and (a := json.loads(p["value"]))["relationship"] == "contains")
    assert attribution["confidence"] >= 0.9  # as enrich weighs the component itself
    assert "agconnect-core 1.9.1 is made-by huawei" in attribution["evidence"][0]["detail"]
    assert attribution["evidence"][0]["location"].endswith("bom.cdx.json#components[1]")


@pytest.mark.parametrize("key", ["purl", "path"])
def test_waivers_apply_on_every_path(tmp_path: Path, key: str) -> None:
    waivers = tmp_path / "waivers.yml"
    match = ("purl: 'pkg:maven/com.huawei.agconnect/agconnect-core'" if key == "purl"
             else "path: '*bom.cdx.json*'")
    waivers.write_text(f"waivers:\n  - {match}\n    vendor: huawei\n    justification: lab\n"
                       "    approver: ciso@example.org\n    expires: 2999-01-01\n")
    got = three_paths(tmp_path, sbom(PLAIN, HUAWEI), "--waivers", str(waivers))
    if key == "purl":  # a purl names the listed component, not the document holding it
        assert got == {"scan sbom": (0, "clear"), "scan tarball": (1, "restricted"),
                       "enrich": (0, "clear")}
    else:
        assert set(got.values()) == {(0, "clear")}, got
    enriched = json.loads((tmp_path / "enrich.json").read_text())
    agc = next(c for c in enriched["components"] if c["bom-ref"] == "agc")
    values = [p["value"] for p in agc["properties"] if p["name"] == "provenance:waiver"]
    assert values and "lab (approved by ciso@example.org" in values[0]
    meta = enriched["metadata"]["component"]
    assert {"name": "provenance:waived", "value": "1"} in meta["properties"]


def test_an_expired_waiver_does_not_apply(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yml"
    waivers.write_text("waivers:\n  - path: '*'\n    vendor: huawei\n    justification: old\n"
                       "    approver: ciso@example.org\n    expires: 2020-01-01\n")
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(sbom(HUAWEI)))
    result = invoke("enrich", str(bom), "-q", "-o", str(tmp_path / "o.json"), *POLICY,
                    "--waivers", str(waivers))
    assert result.exit_code == 1
    assert verdict(tmp_path / "o.json") == "restricted"


@pytest.mark.parametrize("fmt, needle", [("html", "<html"), ("sarif", '"version": "2.1.0"'),
                                         ("markdown", "agconnect-core"),
                                         ("table", "agconnect-core")])
def test_render_reads_enriched_output(tmp_path: Path, fmt: str, needle: str) -> None:
    bom = tmp_path / "bom.json"
    doc = sbom(PLAIN, HUAWEI, MENTION)
    del doc["components"][0]["bom-ref"]  # components need no bom-ref in an SBOM
    bom.write_text(json.dumps(doc))
    enriched = tmp_path / "enriched.json"
    assert invoke("enrich", str(bom), "-q", "-o", str(enriched), *POLICY).exit_code == 1
    out = tmp_path / f"out.{fmt}"
    result = invoke("render", str(enriched), "-f", fmt, "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert needle in text
    assert "huawei" in text.lower()


def test_render_keeps_the_enriched_verdicts(tmp_path: Path) -> None:
    from provenance.report.load import from_cyclonedx

    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(sbom(PLAIN, HUAWEI, MENTION)))
    enriched = tmp_path / "enriched.json"
    invoke("enrich", str(bom), "-q", "-o", str(enriched), *POLICY)
    result = from_cyclonedx(json.loads(enriched.read_text()))
    assert result.verdict.value == "restricted"
    by_name = {c.name: c for c in result.root.walk()}
    assert result.verdicts[by_name["agconnect-core"].ref].value == "restricted"
    assert result.verdicts[by_name["six"].ref].value == "clear"
    assert [(f.vendor, f.level.value) for f in result.findings] == [("huawei", "restricted")]


def nested(depth: int) -> dict[str, Any]:
    """An SBOM whose one component chain is `depth` levels deep, Huawei's at the bottom."""
    node: dict[str, Any] = dict(HUAWEI)
    for level in range(depth):
        node = {"type": "library", "name": f"layer{level}", "version": "1", "components": [node]}
    return sbom(node)


def test_components_nested_450_deep_are_read_and_judged(tmp_path: Path) -> None:
    from datetime import date

    from provenance import signatureset
    from provenance.enrich import enrich

    bom = tmp_path / "deep.cdx.json"
    bom.write_text(json.dumps(nested(450)))
    doc, findings, problems = enrich(bom, signatureset.load(), ("us-ndaa-889",),
                                     date.fromisoformat(AS_OF))
    assert [(f.vendor, f.level.value) for f in findings] == [("huawei", "restricted")]
    assert findings[0].location.endswith(".components[0]" * 450)
    # the schema checks recurse with the document: they give up, and say so
    assert any("schema" in p.message and "recursion" in p.message for p in problems)
    assert any(p.kind == "limit" and "nested too deeply" in p.message for p in problems)
    props = {p["name"]: p["value"] for p in doc["metadata"]["component"]["properties"]}
    assert props["provenance:verdict"] == "restricted"
    assert props["provenance:coverage"] == "partial"
    assert props["provenance:components"] == "452"
    enriched = tmp_path / "deep.enriched.json"
    enriched.write_text(json.dumps(doc))
    table = invoke("render", str(enriched), "-f", "table")
    assert table.exit_code == 0 and "restricted" in table.output.lower()


def test_a_deeply_nested_sbom_gets_one_verdict_on_every_path(tmp_path: Path) -> None:
    got = three_paths(tmp_path, nested(450))
    assert set(got.values()) == {(1, "restricted")}, got


def test_repeated_components_are_reported_in_one_pass(tmp_path: Path) -> None:
    from provenance.identify.sbom_read import read_sbom

    many = [dict(PLAIN, name=f"lib{i}", **{"bom-ref": f"r{i}"}) for i in range(3000)]
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(sbom(*many)))
    assert not read_sbom(bom).problems
    bom.write_text(json.dumps(sbom(*many, many[1234])))  # the same component twice
    problems = read_sbom(bom, scan=True).problems
    assert [p.message for p in problems] == [
        "CycloneDX 1.6 schema: array of 3001 items has non-unique elements"]


def test_scan_of_an_sbom_writes_any_report_format(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(sbom(PLAIN, HUAWEI, MENTION)))
    result = invoke("scan", str(bom), "-q", "-f", "html", *POLICY)  # alone: to stdout
    assert result.exit_code == 1 and "<html" in result.stdout and "agconnect-core" in result.stdout
    cdx, sarif = tmp_path / "e.cdx.json", tmp_path / "e.sarif"
    result = invoke("scan", str(bom), "-q", "-o", str(cdx), "-o", str(sarif), *POLICY)
    assert result.exit_code == 1, result.output
    assert verdict(cdx) == "restricted"
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "huawei/made-by"


def test_components_past_the_enrich_bound_are_kept_and_said(tmp_path: Path, monkeypatch) -> None:
    import provenance.enrich as enrich_module

    monkeypatch.setattr(enrich_module, "MAX_ENRICHED", 2)  # stands in for 50,000
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps(sbom(PLAIN, MENTION, HUAWEI)))
    out = tmp_path / "o.json"
    result = invoke("enrich", str(bom), "-q", "-o", str(out), *POLICY)
    assert result.exit_code == 0, result.output  # the Huawei component is past the bound
    doc = json.loads(out.read_text())
    assert [c["name"] for c in doc["components"]] == ["six", "modem-tools", "agconnect-core"]
    props = doc["metadata"]["component"]["properties"]
    assert {p["name"]: p["value"] for p in props}["provenance:coverage"] == "partial"
    said = [p["value"] for p in props if p["name"] == "provenance:problem"]
    assert any("more than 2 components" in value for value in said)
