"""`provenance enrich --fill-supplier`: the maker into empty suppliers, never over a declared
one, contradictions reported, CPE vendor hints from the vendor catalog
(provenance/enrich/supplier.py)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sbom_helpers import props
from typer.testing import CliRunner

from provenance.cli import app
from provenance.enrich import SUPPLIER_MIN, enrich
from provenance.enrich.supplier import check_supplier
from provenance.model import Attribution, Evidence, Relationship, Verdict
from provenance.signatureset import SignatureError, SignatureSet, load_vendor
from provenance.signatureset import lint as siglint

FIX = Path(__file__).parent / "fixtures" / "sbom"
SYFT = FIX / "syft-image-cdx-1.6.json"
POLICIES = ("us-ndaa-889",)
AS_OF = date(2026, 1, 1)
HUAWEI = "Huawei Technologies Co., Ltd."
DAHUA = "Zhejiang Dahua Technology Co., Ltd."


def _attr(vendor: str, conf: float, rel: Relationship = Relationship.MADE_BY,
          technique: str = "manifest-analysis") -> tuple[Attribution, ...]:
    ev = Evidence(technique, "manifest", f"{vendor}-detail", "x.json#c", "rule", conf)
    return (Attribution(vendor, rel, conf, (ev,)),)


# -- the rule, pure ----------------------------------------------------------------------------


def test_empty_supplier_is_filled_with_the_maker_and_its_evidence(sigset: SignatureSet) -> None:
    check = check_supplier({"name": "x"}, _attr("huawei", 0.94), sigset)
    assert check.supplier == {"name": HUAWEI, "url": ["https://huawei.com"],
                              "address": {"country": "CN"}}
    assert check.conflict is None
    names = [p["name"] for p in check.properties]
    assert names == ["provenance:supplier-source", "provenance:cpe-vendor"]
    source = json.loads(check.properties[0]["value"])
    assert source == {"vendor": "huawei", "relationship": "made-by", "confidence": 0.94,
                      "evidence": ["manifest-analysis: manifest huawei-detail"]}
    assert check.properties[1]["value"] == "huawei"


def test_threshold_is_inclusive_and_documented(sigset: SignatureSet) -> None:
    assert SUPPLIER_MIN == 0.9
    assert check_supplier({}, _attr("huawei", SUPPLIER_MIN), sigset).supplier is not None
    below = check_supplier({}, _attr("huawei", 0.89), sigset)
    assert below.supplier is None and not below.properties


@pytest.mark.parametrize("rel", [Relationship.OEM, Relationship.LINEAGE,
                                 Relationship.SUPPORTS, Relationship.CONTRIBUTED])
def test_only_made_by_names_a_supplier(sigset: SignatureSet, rel: Relationship) -> None:
    check = check_supplier({}, _attr("dahua", 0.97, rel), sigset)
    assert check.supplier is None and not check.properties and check.conflict is None


def test_vendor_without_domain_or_cpe_name(sigset: SignatureSet) -> None:
    vendor = sigset.vendors["ingenic"]
    assert not vendor.domains and not vendor.cpe_vendors
    check = check_supplier({}, _attr("ingenic", 0.95), sigset)
    assert check.supplier == {"name": vendor.name, "address": {"country": vendor.country}}
    assert [p["name"] for p in check.properties] == ["provenance:supplier-source"]


@pytest.mark.parametrize("declared", [HUAWEI, "HUAWEI TECHNOLOGIES CO.,LTD",
                                      "HiSilicon Technologies Co., Ltd.", "HuaweiCloud_SDK"])
def test_a_declared_supplier_of_the_family_is_kept_quietly(
    sigset: SignatureSet, declared: str
) -> None:
    check = check_supplier({"supplier": {"name": declared}}, _attr("huawei", 0.95), sigset)
    assert check.supplier is None and check.conflict is None
    assert [p["name"] for p in check.properties] == ["provenance:cpe-vendor"]


def test_a_contradicted_declared_supplier_is_kept_and_reported(sigset: SignatureSet) -> None:
    check = check_supplier({"supplier": {"name": "Acme Vision Systems Ltd."}},
                           _attr("dahua", 0.95, technique="binary-analysis"), sigset)
    assert check.supplier is None
    assert check.conflict == f"declared Acme Vision Systems Ltd., evidence shows {DAHUA} " \
                             "(made-by 0.95)"
    assert [(p["name"], p["value"]) for p in check.properties] == [
        ("provenance:supplier-conflict", check.conflict),
        ("provenance:cpe-vendor", "dahuasecurity")]
    # a hostile name is quoted on one printable line, bounded
    hostile = check_supplier({"supplier": {"name": "Acme\x1b[2J\n" + "x" * 500}},
                             _attr("dahua", 0.95), sigset)
    assert hostile.conflict is not None and hostile.conflict.isprintable()
    assert hostile.conflict.startswith("declared Acme [2J x")
    assert len(hostile.conflict) < 300
    # weak evidence contradicts nothing; NOASSERTION and a supplier without a name declare nothing
    assert check_supplier({"supplier": {"name": "Acme"}}, _attr("dahua", 0.8), sigset) \
        .conflict is None
    for supplier in ({"name": "NOASSERTION"}, {"url": ["https://acme.example"]}, "Acme"):
        check = check_supplier({"supplier": supplier}, _attr("dahua", 0.95), sigset)
        assert check.conflict is None and check.supplier is None


# -- the vendor catalog's CPE names ------------------------------------------------------------


def test_cpe_vendor_names_are_sourced_data(sigset: SignatureSet) -> None:
    known = {vid: [c.value for c in v.cpe_vendors] for vid, v in sigset.vendors.items()
             if v.cpe_vendors}
    assert known == {"dahua": ["dahuasecurity"], "hikvision": ["hikvision"],
                     "huawei": ["huawei"]}
    for vid in known:
        vendor = sigset.vendors[vid]
        for fact in vendor.cpe_vendors:
            assert fact.value in vendor.sources[fact.source]  # the citation shows the name


def _vendor_file(tmp_path: Path, **changes: Any) -> Path:
    data = {"id": "acme", "name": "Acme Ltd.", "country": "DE", "country_source": "own",
            "sources": {"own": "the test"}, **changes}
    path = tmp_path / "acme.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_cpe_vendors_need_a_source_and_the_nvd_spelling(
    tmp_path: Path, sigset: SignatureSet
) -> None:
    vendor = load_vendor(_vendor_file(tmp_path, cpe_vendors=[{"value": "acme", "source": "own"}]))
    assert [c.value for c in vendor.cpe_vendors] == ["acme"]
    with pytest.raises(SignatureError, match="cpe_vendors"):
        load_vendor(_vendor_file(tmp_path, cpe_vendors=[{"value": "acme", "source": "x"}]))
    with pytest.raises(SignatureError, match="cpe_vendors"):
        load_vendor(_vendor_file(tmp_path, cpe_vendors=[{"value": "acme"}]))
    bad = load_vendor(_vendor_file(tmp_path, cpe_vendors=[
        {"value": "Acme Security", "source": "own"}, {"value": "acme*", "source": "own"}]))
    found = list(siglint.MalformedIdentifier().check(siglint.Context(sigset), bad))
    assert len(found) == 2 and all("cpe_vendors" in m for m in found)


# -- through enrich --------------------------------------------------------------------------


def _syft(tmp_path: Path, **suppliers: dict[str, Any]) -> Path:
    """The Syft fixture with declared suppliers on some components (by name)."""
    doc = json.loads(SYFT.read_text())
    for comp in doc["components"]:
        if comp["name"] in suppliers:
            comp["supplier"] = suppliers[comp["name"]]
    path = tmp_path / "syft.json"
    path.write_text(json.dumps(doc))
    return path


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["components"]}


def test_fill_supplier_on_a_syft_sbom(sigset: SignatureSet) -> None:
    doc, findings, _ = enrich(SYFT, sigset, POLICIES, AS_OF, fill_supplier=True)
    comps = _by_name(doc)
    core = comps["huaweicloudsdkcore"]
    assert core["supplier"]["name"] == HUAWEI
    source = json.loads(props(core, "supplier-source")[0])
    assert source["confidence"] >= SUPPLIER_MIN
    assert any("hwcloudsdk@huawei.com" in e for e in source["evidence"])  # Syft's author
    # the npm SDK is Huawei's by its scope alone (0.80): attributed, flagged, not supplied
    npm = comps["huaweicloud-sdk-core"]
    assert props(npm, "vendor") == ["huawei"] and "supplier" not in npm
    assert not props(npm, "supplier-source") and not props(npm, "cpe-vendor")
    for name in ("six", "tslib", "libc6", "debian", "huawei-solar", "dahua"):
        assert "supplier" not in comps[name] and not props(comps[name], "supplier-source")
    meta = doc["metadata"]["component"]
    assert props(meta, "supplier-filled") == ["1"] and props(meta, "supplier-conflicts") == ["0"]
    assert props(meta, "supplier-threshold") == ["0.90"]
    assert all(f.level == Verdict.RESTRICTED for f in findings)


def test_without_the_flag_nothing_about_suppliers_is_written(sigset: SignatureSet) -> None:
    doc, _, _ = enrich(SYFT, sigset, POLICIES, AS_OF)
    for comp in doc["components"]:
        assert "supplier" not in comp
        assert not {p["name"] for p in comp.get("properties", [])} & {
            "provenance:supplier-source", "provenance:supplier-conflict",
            "provenance:cpe-vendor"}
    assert not props(doc["metadata"]["component"], "supplier-filled")


def test_declared_suppliers_are_never_overwritten(tmp_path: Path, sigset: SignatureSet) -> None:
    # Syft's --source-supplier writes one integrator's name on every component
    acme = {"name": "Acme Integrations GmbH"}
    own = {"name": "HUAWEI TECHNOLOGIES CO.,LTD", "url": ["https://www.huawei.com/"]}
    path = _syft(tmp_path, huaweicloudsdkcore=acme, six=acme,
                 **{"huaweicloud-sdk-core": own})
    doc, findings, _ = enrich(path, sigset, POLICIES, AS_OF, fill_supplier=True)
    comps = _by_name(doc)
    core = comps["huaweicloudsdkcore"]
    assert core["supplier"] == acme
    assert props(core, "supplier-conflict") == [
        f"declared Acme Integrations GmbH, evidence shows {HUAWEI} (made-by 0.94)"]
    assert props(core, "verdict") == ["restricted"]  # the review adds to, not replaces, it
    assert comps["six"]["supplier"] == acme and not props(comps["six"], "supplier-conflict")
    assert comps["huaweicloud-sdk-core"]["supplier"] == own
    assert not props(comps["huaweicloud-sdk-core"], "supplier-conflict")
    reviews = [f for f in findings if f.level == Verdict.REVIEW]
    assert [(f.vendor, f.rationale) for f in reviews] == [
        ("huawei", f"supplier contradicted: declared Acme Integrations GmbH, evidence shows "
                   f"{HUAWEI} (made-by 0.94)")]
    assert props(doc["metadata"]["component"], "supplier-conflicts") == ["1"]


def test_a_relabelled_component_is_reported_once(sigset: SignatureSet) -> None:
    from test_enrich import ARTIFACTS

    doc, findings, _ = enrich(FIX / "camera-spdx-2.3.spdx.json", sigset, POLICIES, AS_OF,
                              ARTIFACTS, fill_supplier=True)
    firmware = {c["bom-ref"]: c for c in doc["components"]}["SPDXRef-Package-firmware"]
    assert firmware["supplier"]["name"] == "Acme Vision Systems Ltd."
    assert props(firmware, "supplier-conflict")[0].startswith(
        f"declared Acme Vision Systems Ltd., evidence shows {DAHUA}")
    assert props(firmware, "cpe-vendor") == ["dahuasecurity"]
    assert props(firmware, "relabelled")
    reviews = [f for f in findings if f.level == Verdict.REVIEW]
    assert len(reviews) == 1 and reviews[0].rationale.startswith("relabelled:")


def test_cli_fill_supplier(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    result = CliRunner().invoke(app, ["enrich", str(SYFT), "--fill-supplier", "-o", str(out),
                                      "-p", "us-ndaa-889", "--as-of", "2026-01-01",
                                      "--fail-on", "never", "-q"])
    assert result.exit_code == 0, result.output
    core = _by_name(json.loads(out.read_text()))["huaweicloudsdkcore"]
    assert core["supplier"]["name"] == HUAWEI
    help_text = CliRunner().invoke(app, ["enrich", "--help"]).output
    assert "--fill-supplier" in help_text and "0.9" in help_text
