"""`provenance enrich` over SBOMs made by real producers (tests/fixtures/sbom/README.md)."""

from __future__ import annotations

import atexit
import copy
import io
import json
import shutil
import tarfile
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sbom_helpers import components, props
from typer.testing import CliRunner

from provenance import signatureset
from provenance.cli import app
from provenance.enrich import SbomError, attribute, declared, enrich, looks_like_sbom, relabelling
from provenance.identify.sbom_read import structural_validator
from provenance.model import Attribution, Evidence, Relationship, Verdict
from provenance.signatureset import SignatureSet

FIX = Path(__file__).parent / "fixtures" / "sbom"
ARTIFACTS_FIXED = FIX / "artifacts"  # synthetic camera files (copies of signature samples)


def _wheel(path: Path, name: str, version: str, metadata: str) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}-{version}.dist-info/METADATA",
                    f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{metadata}")
        zf.writestr(f"{name}/__init__.py", "")


def _build_artifacts() -> Path:
    """The --artifacts folder: the camera files plus synthetic stand-ins for the PyPI files.

    The stand-ins carry the real distributions' file names (so they are matched by name, not by
    the SBOMs' SHA-256) and the declared metadata that matters here; no registry file is
    committed.
    """
    top = Path(tempfile.mkdtemp(prefix="provenance-enrich-")) / "artifacts"
    shutil.copytree(ARTIFACTS_FIXED, top)
    _wheel(top / "huaweicloudsdkcore-3.1.219-py3-none-any.whl", "huaweicloudsdkcore", "3.1.219",
           "Author-email: HuaweiCloud SDK <hwcloudsdk@huawei.com>\n")
    _wheel(top / "six-1.17.0-py2.py3-none-any.whl", "six", "1.17.0",
           "Author: Benjamin Peterson\nAuthor-email: benjamin@python.org\n")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tf:
        data = b"Metadata-Version: 2.1\nName: dahua\nVersion: 1.0.5\nAuthor: an individual\n"
        info = tarfile.TarInfo("dahua-1.0.5/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (top / "dahua-1.0.5.tar.gz").write_bytes(raw.getvalue())
    atexit.register(shutil.rmtree, top.parent, True)
    return top


ARTIFACTS = _build_artifacts()
POLICIES = ("us-ndaa-889",)
AS_OF = date(2026, 1, 1)
PY_SBOMS = ["pyenv-cdx-1.6.json", "pyenv-cdx-1.5.json", "pyenv-cdx-1.4.json",
            "pyenv-cdx-1.2.json", "pyenv-cdx-1.3.xml", "pyenv-cdx-1.6.xml",
            "pyenv-spdx-2.3.spdx.json", "pyenv-spdx-2.2.spdx", "pyenv-spdx-3.0.jsonld"]
NPM_SBOMS = ["npm-cdx-1.6.json", "npm-cdx-1.5.json", "npm-cdx-1.4.xml"]
CDX_JSON = [n for n in PY_SBOMS + NPM_SBOMS if n.endswith(".json") and "-cdx-" in n]
ALL = PY_SBOMS + NPM_SBOMS + ["camera-spdx-2.3.spdx.json", "camera-spdx-2.3.spdx",
                              "camera-spdx-3.0.jsonld"]
# one document per reader path: CycloneDX JSON upgraded from 1.2, XML through the library,
# SPDX 2 JSON and tag-value, SPDX 3
STRICT = {"pyenv-cdx-1.2.json", "pyenv-cdx-1.3.xml", "camera-spdx-2.3.spdx.json",
          "camera-spdx-2.3.spdx", "camera-spdx-3.0.jsonld"}


@pytest.fixture(scope="module")
def sigset() -> SignatureSet:
    return signatureset.load()


@pytest.fixture(scope="module")
def validator() -> JsonStrictValidator:
    return JsonStrictValidator(SchemaVersion.V1_6)


_cache: dict[tuple[str, bool], tuple[dict[str, Any], Any, Any]] = {}


def run(name: str, sigset: SignatureSet, artifacts: bool = False) -> tuple[dict[str, Any], Any,
                                                                           Any]:
    key = (name, artifacts)
    if key not in _cache:
        _cache[key] = enrich(FIX / name, sigset, POLICIES, AS_OF,
                             ARTIFACTS if artifacts else None)
    return _cache[key]


def full_name(comp: dict[str, Any]) -> str:
    group = comp.get("group")
    return f"{group}/{comp['name']}" if group else comp["name"]


# -- flags the vendor components and nothing else -------------------------------------------


@pytest.mark.parametrize("name", PY_SBOMS + NPM_SBOMS)
def test_flags_vendor_components_and_nothing_else(name: str, sigset: SignatureSet) -> None:
    doc, findings, _ = run(name, sigset)
    expected = ({"@huaweicloud/huaweicloud-sdk-core"} if name.startswith("npm")
                else {"huaweicloudsdkcore", "huaweicloudsdkiam"})
    comps = components(doc)
    flagged = {full_name(c) for c in comps if props(c, "verdict") != ["clear"]}
    assert flagged == expected
    with_vendor = {full_name(c) for c in comps if props(c, "vendor")}
    assert with_vendor == expected
    for c in comps:
        if full_name(c) in expected:
            assert props(c, "vendor") == ["huawei"]
            assert props(c, "relationship") == ["made-by"]
            assert props(c, "verdict") == ["restricted"]
            assert props(c, "policy") == ["us-ndaa-889"]
            assert float(props(c, "confidence")[0]) >= 0.8
            assert c["manufacturer"]["name"] == "Huawei Technologies Co., Ltd."
            assert c["manufacturer"]["address"]["country"] == "CN"
            assert c["evidence"]["identity"][0]["methods"]
            assert c["evidence"]["occurrences"]
        else:
            assert "manufacturer" not in c
        assert props(c, "location")
    ordinary = {full_name(c) for c in comps} - expected
    assert ordinary >= ({"tslib", "axios"} if name.startswith("npm")
                        else {"six", "idna", "requests", "dahua", "huawei-solar"})
    assert {f.vendor for f in findings} == {"huawei"}
    assert len(findings) == len(expected)
    meta = doc["metadata"]["component"]
    assert props(meta, "verdict") == ["restricted"]
    assert props(meta, "coverage") == ["complete"]


@pytest.mark.parametrize("name", ALL)
def test_output_validates_against_cyclonedx_1_6(
    name: str, sigset: SignatureSet, validator: JsonStrictValidator
) -> None:
    doc, _, problems = run(name, sigset)
    assert doc["specVersion"] == "1.6"
    # enrich checks only the structure unless asked to (`--validate`). The strict check (an
    # Earley-parsed IRI grammar per URL, seconds per document) runs here once per reader path;
    # the other documents take the same path with more URLs in them.
    if name in STRICT:
        assert validator.validate_str(json.dumps(doc)) is None
    else:
        assert not list(structural_validator("1.6").iter_errors(doc))
    assert not problems
    tools = doc["metadata"]["tools"]
    names = ([t["name"] for t in tools] if isinstance(tools, list)
             else [t["name"] for t in tools["components"]])
    assert "provenance" in names


def test_legacy_tools_array_is_kept_and_extended(sigset: SignatureSet) -> None:
    original = json.loads((FIX / "pyenv-cdx-1.2.json").read_text())
    doc, _, _ = run("pyenv-cdx-1.2.json", sigset)
    assert isinstance(original["metadata"]["tools"], list)
    assert doc["metadata"]["tools"][:len(original["metadata"]["tools"])] == \
        original["metadata"]["tools"]
    assert doc["metadata"]["tools"][-1]["name"] == "provenance"


# -- lossless -------------------------------------------------------------------------------


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in leaves(v, (*path, k))] or [(path, {})]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in leaves(v, (*path, i))] or [(path, [])]
    return [(path, value)]


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


@pytest.mark.parametrize("name", CDX_JSON)
def test_cyclonedx_round_trip_loses_nothing(name: str, sigset: SignatureSet) -> None:
    original = json.loads((FIX / name).read_text())
    doc, _, _ = run(name, sigset)
    checked = 0
    for path, value in leaves(original):
        if path in (("specVersion",), ("$schema",)):  # upgraded to 1.6 on purpose
            continue
        got = at(doc, path)
        assert got == value or (value in ({}, []) and isinstance(got, type(value))), path
        checked += 1
    assert checked > 200
    assert len(doc["dependencies"]) == len(original["dependencies"])


def test_round_trip_helper_catches_a_loss(sigset: SignatureSet) -> None:
    # the comparison above would notice a dropped or rewritten value
    original = json.loads((FIX / "npm-cdx-1.6.json").read_text())
    damaged = copy.deepcopy(original)
    damaged["components"][3]["properties"][0]["value"] = "changed"
    assert any(at(damaged, p) != v for p, v in leaves(original))


@pytest.mark.parametrize("name", ["pyenv-spdx-2.3.spdx.json", "pyenv-spdx-2.2.spdx",
                                  "camera-spdx-2.3.spdx.json", "camera-spdx-2.3.spdx"])
def test_spdx_every_package_relationship_and_checksum_is_mapped(
    name: str, sigset: SignatureSet
) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file

    document = parse_file(str(FIX / name))
    doc, _, _ = run(name, sigset)
    by_ref = {c["bom-ref"]: c for c in components(doc)}
    assert len(document.packages) > 2
    for package in document.packages:
        comp = by_ref[package.spdx_id]
        assert comp["name"] == package.name
        assert comp.get("version") == package.version
        hashes = {(h["alg"], h["content"]) for h in comp.get("hashes", [])}
        for checksum in package.checksums:
            alg = {"SHA256": "SHA-256", "SHA1": "SHA-1"}[checksum.algorithm.name]
            assert (alg, checksum.value) in hashes
        for ref in package.external_references:
            mapped = [v.replace("_", "-", 1) for v in props(comp, "spdx-external-ref")]
            assert f"{ref.category.name.replace('_', '-')} {ref.reference_type} {ref.locator}" \
                in mapped
    every = [v for c in [*components(doc), doc["metadata"]["component"]]
             for v in props(c, "spdx-relationship")]
    assert len(document.relationships) > 1
    for rel in document.relationships:
        assert (f"{rel.spdx_element_id} {rel.relationship_type.name} "
                f"{rel.related_spdx_element_id}") in every
    depends = [r for r in document.relationships if r.relationship_type.name == "DEPENDS_ON"]
    edges = {(d["ref"], x) for d in doc["dependencies"] for x in d["dependsOn"]}
    assert {(r.spdx_element_id, r.related_spdx_element_id) for r in depends} <= edges


@pytest.mark.parametrize("name", ["pyenv-cdx-1.3.xml", "npm-cdx-1.4.xml", "pyenv-cdx-1.6.xml"])
def test_cyclonedx_xml_components_and_dependencies_are_mapped(
    name: str, sigset: SignatureSet
) -> None:
    from defusedxml import ElementTree

    root = ElementTree.parse(FIX / name).getroot()
    ns = root.tag.split("}")[0] + "}"
    doc, _, _ = run(name, sigset)
    by_ref = {c["bom-ref"]: c for c in components(doc)}
    xml_components = list(root.find(f"{ns}components").iter(f"{ns}component"))
    assert len(xml_components) == len(by_ref) > 20
    for el in xml_components:
        comp = by_ref[el.get("bom-ref")]
        assert comp["name"] == el.findtext(f"{ns}name")
        assert comp.get("version") == el.findtext(f"{ns}version")
        assert comp.get("purl") == el.findtext(f"{ns}purl")
    deps = root.find(f"{ns}dependencies")
    assert len(doc["dependencies"]) == len(list(deps))


# -- relabelling ------------------------------------------------------------------------------


def _attr(vendor: str, conf: float, technique: str, rel: Relationship = Relationship.MADE_BY
          ) -> Attribution:
    ev = Evidence(technique, "signature", "x", "fw.bin", "rule", conf)
    return Attribution(vendor, rel, conf, (ev,))


def test_relabelling_pure(sigset: SignatureSet) -> None:
    binary = (_attr("dahua", 0.9, "binary-analysis"),)
    found = relabelling("Acme Vision Systems Ltd.", binary, sigset)
    assert found is not None
    assert found[0] == ("declared Acme Vision Systems Ltd., evidence shows "
                        "Zhejiang Dahua Technology Co., Ltd.")
    assert found[1].vendor == "dahua"
    # the declared supplier is the maker (any spelling of it, or its parent)
    assert relabelling("Zhejiang Dahua Technology Co., Ltd.", binary, sigset) is None
    assert relabelling("Huawei Technologies Co., Ltd.",
                       (_attr("hisilicon", 0.9, "binary-analysis"),), sigset) is None
    assert relabelling("HuaweiCloud_SDK", (_attr("huawei", 0.8, "manifest-analysis"),),
                       sigset) is None
    # a package namespace against a distributor's name is no relabelling
    assert relabelling("John Doe", (_attr("huawei", 0.8, "manifest-analysis"),), sigset) is None
    # unless the declaration names another known vendor
    hik = relabelling("Hangzhou Hikvision Digital Technology Co.,Ltd.",
                      (_attr("dahua", 0.8, "manifest-analysis"),), sigset)
    assert hik is not None and hik[1].vendor == "dahua"
    # weak, missing or non-maker evidence and empty declarations say nothing
    assert relabelling("Acme", (_attr("dahua", 0.5, "binary-analysis"),), sigset) is None
    assert relabelling("Acme", (_attr("dahua", 0.9, "binary-analysis",
                                      Relationship.SUPPORTS),), sigset) is None
    assert relabelling("Acme", (), sigset) is None
    assert relabelling("NOASSERTION", binary, sigset) is None
    assert relabelling(None, binary, sigset) is None


@pytest.mark.parametrize("name", ["camera-spdx-2.3.spdx.json", "camera-spdx-2.3.spdx"])
def test_branded_camera_firmware_is_relabelled_dahua(name: str, sigset: SignatureSet) -> None:
    doc, findings, _ = run(name, sigset, artifacts=True)
    by_ref = {c["bom-ref"]: c for c in components(doc)}
    firmware = by_ref["SPDXRef-Package-firmware"]
    assert props(firmware, "relabelled") == [
        "declared Acme Vision Systems Ltd., evidence shows Zhejiang Dahua Technology Co., Ltd."]
    assert firmware["supplier"]["name"] == "Acme Vision Systems Ltd."  # the declaration stays
    assert firmware["manufacturer"]["name"] == "Zhejiang Dahua Technology Co., Ltd."
    assert props(firmware, "verdict") == ["restricted"]
    assert any(o["location"] == "artifacts/AV-IPC200_fw.bin"
               for o in firmware["evidence"]["occurrences"])
    relabels = [f for f in findings if f.relationship == Relationship.OEM]
    assert len(relabels) == 1 and relabels[0].level == Verdict.REVIEW
    assert relabels[0].rationale.startswith("relabelled: declared Acme Vision Systems Ltd.")
    # Dahua's own app declared as Dahua's: made by Dahua, not relabelled
    sonia = by_ref["SPDXRef-Package-sonia"]
    assert props(sonia, "vendor") == ["dahua"] and not props(sonia, "relabelled")
    # the OEM's own web UI (CPE vendor acme-vision) stays clear
    webui = by_ref["SPDXRef-Package-webui"]
    assert props(webui, "verdict") == ["clear"] and not props(webui, "vendor")
    meta = doc["metadata"]["component"]
    assert props(meta, "relabelled") == ["1"]
    assert props(meta, "artifacts-matched") == ["2/4"]


def test_camera_without_artifacts_believes_the_declarations(sigset: SignatureSet) -> None:
    doc, findings, _ = run("camera-spdx-2.3.spdx.json", sigset)
    by_ref = {c["bom-ref"]: c for c in components(doc)}
    assert props(by_ref["SPDXRef-Package-firmware"], "verdict") == ["clear"]
    # a declared Dahua supplier alone is a review, not a restriction
    assert props(by_ref["SPDXRef-Package-sonia"], "verdict") == ["review"]
    assert not [f for f in findings if f.relationship == Relationship.OEM]


def test_artifacts_add_file_evidence_and_keep_false_friends_clear(sigset: SignatureSet) -> None:
    doc, _, _ = run("pyenv-spdx-2.3.spdx.json", sigset, artifacts=True)
    by_name = {c["name"]: c for c in components(doc)}
    core = by_name["huaweicloudsdkcore"]
    assert props(core, "location")[0].endswith(
        "= artifacts/huaweicloudsdkcore-3.1.219-py3-none-any.whl")
    assert any(o["location"].startswith("artifacts/huaweicloudsdkcore")
               and "manifest.email_domain" in o["additionalContext"]
               for o in core["evidence"]["occurrences"])
    assert float(props(core, "confidence")[0]) > 0.9  # namespace and the wheel's author e-mail
    for name in ("six", "dahua", "huawei-solar"):
        assert props(by_name[name], "verdict") == ["clear"], name
        assert not props(by_name[name], "vendor"), name
    assert props(by_name["six"], "location")[0].endswith(
        "= artifacts/six-1.17.0-py2.py3-none-any.whl")


def test_cpe_vendor_is_weak_evidence(sigset: SignatureSet) -> None:
    found = declared({"type": "library", "name": "router-fw",
                      "cpe": "cpe:2.3:o:huawei:router-fw:1.0:*:*:*:*:*:*:*"}, "x#c")
    attributions, _ = attribute(found, sigset, "x#c")
    assert [(a.vendor, a.relationship) for a in attributions] == [("huawei",
                                                                   Relationship.MADE_BY)]
    assert attributions[0].confidence < 0.3  # below any policy's review threshold


# -- errors and partial input ---------------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (b"# provenance\n\nNot an SBOM at all.\n", "not an SBOM"),
    (b'{"name": "app", "version": "1.0.0", "dependencies": {}}', "JSON but not an SBOM"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "2.0"}', "specVersion 2.0"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {}}', "must be an array"),
    (b"<html><body>hi</body></html>", "not a CycloneDX <bom>"),
    (b'{"bomFormat": "CycloneDX", ', "not valid JSON"),
])
def test_not_an_sbom_gives_a_clear_error(
    tmp_path: Path, sigset: SignatureSet, content: bytes, message: str
) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    with pytest.raises(SbomError, match=message):
        enrich(path, sigset, POLICIES, AS_OF)
    assert not looks_like_sbom(path) or b"CycloneDX" in content


def test_partially_invalid_sbom_is_enriched_with_problems(
    tmp_path: Path, sigset: SignatureSet
) -> None:
    doc = json.loads((FIX / "pyenv-cdx-1.6.json").read_text())
    doc["components"][0]["type"] = "gizmo"  # not a CycloneDX component type
    doc["components"].append("not a component")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    out, findings, problems = enrich(path, sigset, POLICIES, AS_OF)
    assert {f.vendor for f in findings} == {"huawei"} and len(findings) == 2
    assert any("schema" in p.message and "gizmo" in p.message for p in problems)
    meta = out["metadata"]["component"]
    assert props(meta, "coverage") == ["partial"]
    listed = [json.loads(v)["message"] for v in props(meta, "problem")]
    assert any("gizmo" in m for m in listed)
    assert out["components"][-1] == "not a component"  # kept, like everything else


def test_validate_checks_formats_too(tmp_path: Path, sigset: SignatureSet) -> None:
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
        {"type": "library", "name": "x", "version": "1",
         "externalReferences": [{"type": "website", "url": "http://exa mple.com/a b"}]}]}
    path = tmp_path / "iri.json"
    path.write_text(json.dumps(doc))
    _, _, structural = enrich(path, sigset, POLICIES, AS_OF)
    assert not [p for p in structural if "exa mple" in p.message]
    _, _, strict = enrich(path, sigset, POLICIES, AS_OF, strict=True)
    assert [p for p in strict if "exa mple" in p.message and "schema" in p.message]
    cli = invoke(str(path), "-o", str(tmp_path / "o.json"), "--validate", "-p", "us-ndaa-889",
                 "--as-of", "2026-01-01", "--fail-on", "never")
    assert cli.exit_code == 0, cli.output
    meta = json.loads((tmp_path / "o.json").read_text())["metadata"]["component"]
    assert props(meta, "coverage") == ["partial"]


def test_declared_manufacturer_is_kept(tmp_path: Path, sigset: SignatureSet) -> None:
    doc = json.loads((FIX / "npm-cdx-1.6.json").read_text())
    doc["components"][0]["manufacturer"] = {"name": "Someone Else GmbH"}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    out, _, _ = enrich(path, sigset, POLICIES, AS_OF)
    comp = out["components"][0]
    assert comp["manufacturer"] == {"name": "Someone Else GmbH"}
    assert json.loads(props(comp, "manufacturer")[0])["name"] == "Huawei Technologies Co., Ltd."


@pytest.mark.parametrize("name", ALL)
def test_looks_like_sbom(name: str) -> None:
    assert looks_like_sbom(FIX / name)


@pytest.mark.parametrize("path", [FIX / "README.md", FIX / "npm-project-package.json",
                                  ARTIFACTS / "six-1.17.0-py2.py3-none-any.whl",
                                  FIX / "make_spdx.py"])
def test_looks_like_sbom_rejects(path: Path) -> None:
    assert not looks_like_sbom(path)


# -- CLI --------------------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["enrich", *args])


def test_cli_writes_enriched_sbom_and_exits_1_on_restricted(tmp_path: Path) -> None:
    out = tmp_path / "enriched.json"
    result = invoke(str(FIX / "npm-cdx-1.6.json"), "--output", str(out), "--policy",
                    "us-ndaa-889", "--as-of", "2026-01-01")
    assert result.exit_code == 1, result.output
    doc = json.loads(out.read_text())
    assert doc["specVersion"] == "1.6"
    assert props(doc["components"][0], "vendor") == ["huawei"]


def test_cli_fail_on_never_and_review(tmp_path: Path) -> None:
    args = [str(FIX / "camera-spdx-2.3.spdx.json"), "-o", str(tmp_path / "o.json"), "-p",
            "us-ndaa-889", "--as-of", "2026-01-01"]
    assert invoke(*args, "--fail-on", "never").exit_code == 0
    # without artifacts the camera SBOM has only a review (Dahua's declared app)
    assert invoke(*args).exit_code == 0
    assert invoke(*args, "--fail-on", "review").exit_code == 1
    with_files = invoke(*args, "--artifacts", str(ARTIFACTS), "--fail-on", "review")
    assert with_files.exit_code == 1


def test_cli_errors(tmp_path: Path) -> None:
    bad = invoke(str(FIX / "README.md"), "-o", str(tmp_path / "x.json"))
    assert bad.exit_code == 3
    assert "not a valid SBOM" in bad.output and "README.md" in bad.output
    assert not (tmp_path / "x.json").exists()
    assert invoke(str(FIX / "npm-cdx-1.6.json"), "-p", "no-such-list").exit_code == 2
    assert invoke(str(FIX / "npm-cdx-1.6.json"), "--as-of", "yesterday").exit_code == 2
    assert invoke(str(FIX / "npm-cdx-1.6.json"), "--artifacts",
                  str(tmp_path / "missing")).exit_code == 2


def test_schema_checks_cover_a_bounded_part_of_a_large_sbom(tmp_path, sigset, monkeypatch):
    from provenance.enrich import write
    from provenance.identify import sbom_read

    # the part checked: the first components in walk order (each list whole before the lists
    # nested in it), nesting kept, the input untouched
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"type": "library", "name": "a", "components": [{"type": "library", "name": "a1"}]},
        {"type": "library", "name": "b"}, {"type": "library", "name": "c"}]}
    before = copy.deepcopy(doc)
    part, cut = sbom_read.checked_part(doc, 3)
    assert cut and doc == before
    assert part["components"] == [{"type": "library", "name": "a", "components": []},
                                  {"type": "library", "name": "b"},
                                  {"type": "library", "name": "c"}]
    assert sbom_read.checked_part(doc, 4) == (doc, False)

    # enrich of more components than are checked: a limit problem each side, and a schema
    # error past the checked part goes unseen (that is the bound), one inside it is reported
    for mod in (sbom_read, write):
        monkeypatch.setattr(mod, "MAX_CHECKED", 5)
    comps = [{"type": "library", "name": f"c{i}", "version": "1"} for i in range(12)]
    comps[2]["type"] = "not-a-type"
    comps[9]["type"] = "also-not-a-type"
    path = tmp_path / "big.cdx.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                                "components": comps}))
    out, _findings, problems = enrich(path, sigset, POLICIES, AS_OF)
    messages = [p.message for p in problems]
    assert any("schema check covered the first 5" in m for m in messages)
    assert sum("'not-a-type'" in m for m in messages) >= 1
    assert not any("also-not-a-type" in m for m in messages)
    assert len(out["components"]) == 12  # every component is still written
