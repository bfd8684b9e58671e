"""SARIF 2.1.0: validated against the vendored OASIS schema; one result per finding."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
from test_report_build import clean_result, sample_result

from provenance.report import sarif


def _schema():
    path = resources.files("provenance.report") / "schemas" / "sarif-schema-2.1.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _validate(doc):
    schema = _schema()
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors[:5]]


def test_schema_is_the_oasis_one_and_catches_errors():
    schema = _schema()
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    doc = sarif.to_dict(sample_result())
    doc["runs"][0]["results"][0]["level"] = "fatal"
    validator = jsonschema.Draft4Validator(schema)
    assert list(validator.iter_errors(doc))


def test_validates_against_sarif_schema():
    for result in (sample_result(), sample_result(waived=True), clean_result()):
        _validate(json.loads(sarif.render(result)))


def test_one_result_per_finding_with_levels_rules_and_entries():
    result = sample_result()
    run = sarif.to_dict(result)["runs"][0]
    assert len(run["results"]) == len(result.findings) == 2
    first, second = run["results"]
    assert (first["ruleId"], first["level"]) == ("hisilicon/made-by", "error")
    assert (second["ruleId"], second["level"]) == ("hisilicon/lineage", "warning")
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["hisilicon/made-by", "hisilicon/lineage"]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"]
    uri = first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "fw%20image.tar.gz!/rootfs/usr/lib/libmpi.so"
    props = first["properties"]
    assert props["signatureRule"] == "hisilicon_mpp_version"
    assert props["policyEntries"][0]["policy"] == "us-ndaa-889"
    assert props["policyEntries"][0]["inForce"] == "2019-08-13"
    assert "suppressions" not in first
    assert run["properties"]["verdict"] == "restricted"
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "warning"


def test_waived_finding_is_suppressed_not_dropped():
    run = sarif.to_dict(sample_result(waived=True))["runs"][0]
    first = next(r for r in run["results"] if r["ruleId"] == "hisilicon/made-by")
    assert run["results"][-1] is first  # live groups come first
    assert first["level"] == "error"
    assert first["suppressions"] == [{"kind": "external", "status": "accepted",
                                      "justification": "Lab unit (approved by J. Doe, "
                                                       "expires 2030-01-01)"}]


def test_clean_scan_has_no_results():
    run = sarif.to_dict(clean_result())["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []


def test_rules_rank_by_security_severity_and_results_point_at_the_evidence():
    doc = sarif.to_dict(sample_result())
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    severity = {r["id"]: r["properties"]["security-severity"] for r in rules}
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    for rid, level in levels.items():
        assert severity[rid] == {"error": "9.0", "warning": "5.0"}[level]
    assert "security" in run["tool"]["driver"]["rules"][0]["properties"]["tags"]
    mpi = next(r for r in run["results"] if r["ruleId"] == "hisilicon/made-by")
    where = mpi["locations"][0]["physicalLocation"]
    # the deciding evidence sits at 0x1f40 in this very file: the result says where
    assert where["artifactLocation"]["uri"].endswith("libmpi.so")
    assert where["region"] == {"byteOffset": 0x1F40}
    related = mpi["relatedLocations"]
    assert [r["id"] for r in related] == list(range(1, len(related) + 1)) and len(related) == 3
    assert all(r["physicalLocation"]["artifactLocation"]["uri"] == where["artifactLocation"]["uri"]
               for r in related)
    _validate(doc)


def test_evidence_locations_become_physical_locations():
    chain = "fw.bin!/rootfs/lib/libx.so"
    assert sarif._physical("libx.so@0x10", chain) == {
        "artifactLocation": {"uri": "fw.bin!/rootfs/lib/libx.so"}, "region": {"byteOffset": 16}}
    assert sarif._physical("libx.so#symbols", chain) == {
        "artifactLocation": {"uri": "fw.bin!/rootfs/lib/libx.so"}}
    other = sarif._physical("fw.bin!/rootfs/etc/init.d/rcS@0x0", chain)
    assert other["artifactLocation"]["uri"] == "fw.bin!/rootfs/etc/init.d/rcS"
