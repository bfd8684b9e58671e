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
    first = run["results"][0]
    assert first["level"] == "error"
    assert first["suppressions"] == [{"kind": "external", "status": "accepted",
                                      "justification": "Lab unit (approved by J. Doe, "
                                                       "expires 2030-01-01)"}]


def test_clean_scan_has_no_results():
    run = sarif.to_dict(clean_result())["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
