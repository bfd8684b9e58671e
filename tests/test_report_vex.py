"""`--vex-out`: waived findings as OpenVEX 0.2.0 and CycloneDX 1.6 VEX, both schema-valid.

The OpenVEX schema is the spec's own (openvex/spec `openvex_json_schema.json`, v0.2.0), kept in
tests/fixtures/vex/ (see its README); CycloneDX is checked by cyclonedx-python-lib's strict
validator. Formats (uri, date-time) are checked too. No network.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema import Draft202012Validator
from test_report_build import sample_result
from typer.testing import CliRunner

from provenance.cli import app
from provenance.policy.waivers import Waiver
from provenance.report import vex

FIXTURES = Path(__file__).parent / "fixtures"
OPENVEX_SCHEMA = json.loads((FIXTURES / "vex" / "openvex_json_schema_0.2.0.json").read_text())
SBOM = FIXTURES / "sbom" / "camera-spdx-2.3.spdx.json"
runner = CliRunner()

LIVE = Waiver(vendor="hisilicon", justification="Lab unit, never deployed.",
              approver="J. Doe (security)", expires=date(2030, 1, 1),
              path="fw image.tar.gz!/rootfs/usr/lib/libmpi.so")


def openvex_errors(doc: dict) -> list[str]:
    checker = Draft202012Validator(OPENVEX_SCHEMA,
                                   format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [e.message for e in checker.iter_errors(doc)]


def cdx_valid(doc: dict) -> None:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    assert error is None, error


def waived_result():
    # as --reproducible writes it: no start time
    return dataclasses.replace(sample_result(waived=True), as_of="2026-06-01", started=None)


def test_schema_check_can_fail():
    # the vendored schema really constrains: a not_affected statement needs an impact
    # statement or a justification, and an unknown status is refused
    doc = vex.openvex(waived_result(), (LIVE,), "0.1.0")
    assert doc is not None and openvex_errors(doc) == []
    del doc["statements"][0]["impact_statement"]
    doc["statements"].append({"vulnerability": {"name": "x"}, "status": "waived"})
    assert len(openvex_errors(doc)) == 2


def test_openvex_states_the_waiver_on_the_component_inside_the_input():
    result = waived_result()
    doc = vex.openvex(result, (LIVE,), "0.1.0")
    assert doc is not None and openvex_errors(doc) == []
    (statement,) = doc["statements"]  # the unwaived lineage finding is not exported
    assert statement["vulnerability"]["name"] == "provenance:hisilicon/made-by"
    assert "us-ndaa-889" in statement["vulnerability"]["description"]
    assert statement["status"] == "not_affected"
    assert "Lab unit" in statement["impact_statement"]
    assert "J. Doe (security)" in statement["impact_statement"]
    assert "2030-01-01" in statement["impact_statement"]
    (product,) = statement["products"]
    assert product["hashes"] == {"sha-256": "f" * 64}  # the scanned input
    assert product["subcomponents"] == [{"hashes": {"sha-256": "a" * 64}}]  # libmpi.so
    assert doc["timestamp"] == "2026-06-01T00:00:00Z"  # --reproducible: the as-of day


def test_cyclonedx_vex_is_self_contained_and_valid():
    doc = vex.cyclonedx_vex(waived_result(), (LIVE,), "0.1.0")
    cdx_valid(doc)
    (vuln,) = doc["vulnerabilities"]
    assert vuln["id"] == "provenance:hisilicon/made-by"
    assert vuln["source"] == {"name": "provenance"}
    assert vuln["analysis"]["state"] == "not_affected"
    (component,) = doc["components"]
    assert vuln["affects"] == [{"ref": component["bom-ref"]}]
    assert component["hashes"] == [{"alg": "SHA-256", "content": "a" * 64}]
    props = {p["name"]: p["value"] for p in vuln["properties"]}
    assert props["provenance:waiver-expires"] == "2030-01-01"
    assert props["provenance:level"] == "restricted"


def test_the_live_waiver_is_named_not_an_expired_one():
    expired = dataclasses.replace(LIVE, approver="Old Approver", expires=date(2026, 1, 1))
    doc = vex.openvex(waived_result(), (expired, LIVE), "0.1.0")
    assert doc is not None
    assert "Old Approver" not in json.dumps(doc)


def test_nothing_waived():
    result = sample_result(waived=False)
    assert vex.openvex(result, (LIVE,), "0.1.0") is None  # OpenVEX needs a statement
    doc = vex.cyclonedx_vex(result, (LIVE,), "0.1.0")
    cdx_valid(doc)
    assert doc["vulnerabilities"] == []


def test_hostile_text_stays_valid():
    w = dataclasses.replace(LIVE, justification="ok\u2028\x1b[31m\"}<script>", approver="\x00")
    result = waived_result()
    root = dataclasses.replace(result.root, purl="pkg:generic/a%20b@1?x=<y>", sha256="zz")
    result = dataclasses.replace(result, root=root)
    doc = vex.openvex(result, (w,), "0.1.0")
    assert doc is not None and openvex_errors(json.loads(vex.render(doc))) == []
    cdx_valid(json.loads(vex.render(vex.cyclonedx_vex(result, (w,), "0.1.0"))))


WAIVERS = """\
- path: "camera-spdx-2.3.spdx.json#components?1?"
  vendor: dahua
  justification: Bench camera, not on the network.
  approver: A. Roe
  expires: 2031-01-01
"""


@pytest.mark.parametrize("command", ["enrich", "scan"])
def test_cli_writes_both_formats_from_an_sbom(tmp_path, command):
    waivers = tmp_path / "w.yml"
    waivers.write_text(WAIVERS)
    ovex, cvex = tmp_path / "out.openvex.json", tmp_path / "out.cdx.json"
    res = runner.invoke(app, [command, str(SBOM), "-o", str(tmp_path / "bom.json"), "-q",
                              "--waivers", str(waivers), "--vex-out", str(ovex),
                              "--vex-out", str(cvex)])
    assert res.exit_code == 0, res.output
    odoc, cdoc = json.loads(ovex.read_text()), json.loads(cvex.read_text())
    assert openvex_errors(odoc) == []
    cdx_valid(cdoc)
    assert [s["vulnerability"]["name"] for s in odoc["statements"]] == ["provenance:dahua/made-by"]
    assert "A. Roe" in odoc["statements"][0]["impact_statement"]
    assert [v["id"] for v in cdoc["vulnerabilities"]] == ["provenance:dahua/made-by"]
    # stated when it was written, not when the SBOM was made
    assert odoc["timestamp"] != json.loads(SBOM.read_text())["creationInfo"]["created"]


def test_cli_scan_writes_vex(tmp_path, restricted_sample):
    waivers = tmp_path / "w.yml"
    waivers.write_text("- path: '*libmpi.so'\n  vendor: hisilicon\n  justification: lab\n"
                       "  approver: J. Doe\n  expires: 2099-01-01\n")
    ovex = tmp_path / "a.openvex.json"
    res = runner.invoke(app, ["scan", str(restricted_sample), "-q", "--reproducible",
                              "--no-cache", "-o", str(tmp_path / "r.cdx.json"),
                              "--waivers", str(waivers), "--vex-out", str(ovex)])
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(ovex.read_text())
    assert openvex_errors(doc) == []
    names = {s["vulnerability"]["name"] for s in doc["statements"]}
    assert names == {"provenance:hisilicon/made-by"}


def test_cli_nothing_waived_writes_no_openvex(tmp_path):
    ovex = tmp_path / "a.openvex.json"
    res = runner.invoke(app, ["enrich", str(SBOM), "-o", str(tmp_path / "b.json"), "-q",
                              "--vex-out", str(ovex)])
    assert res.exit_code == 0
    assert not ovex.exists() and "no waived finding" in res.output


def test_cli_vex_name_must_say_the_format(tmp_path):
    res = runner.invoke(app, ["enrich", str(SBOM), "--vex-out", str(tmp_path / "x.json")])
    assert res.exit_code == 2
    assert ".openvex.json" in res.output and not (tmp_path / "x.json").exists()
