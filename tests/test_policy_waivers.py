"""Waivers: loading (YAML/JSON, clear errors), matching by purl/sha256/glob, expiry, exit code."""

from __future__ import annotations

import json
from datetime import date

import pytest
from test_report_build import sample_result

from provenance.model import Verdict
from provenance.policy import rollup
from provenance.policy.waivers import Waiver, WaiverError, apply_waivers, load_waivers

TODAY = date(2026, 6, 1)


def _waiver(**kw):
    base = {"vendor": "hisilicon", "justification": "Lab unit", "approver": "J. Doe",
            "expires": date(2026, 12, 31)}
    return Waiver(**{**base, **kw})


def _apply(*waivers):
    r = sample_result()
    return r, apply_waivers(r.findings, r.components(), waivers, TODAY)


def test_load_yaml_and_json(tmp_path):
    y = tmp_path / "w.yml"
    y.write_text("waivers:\n  - path: 'fw*!/rootfs/usr/lib/libmpi.so'\n    vendor: hisilicon\n"
                 "    justification: Lab unit\n    approver: J. Doe\n    expires: 2026-12-31\n")
    j = tmp_path / "w.json"
    j.write_text(json.dumps([{"sha256": "A" * 64, "vendor": "*", "policy": "us-ndaa-889",
                              "justification": "x", "approver": "y", "expires": "2027-01-01"}]))
    (wy,) = load_waivers(y)
    assert wy.path == "fw*!/rootfs/usr/lib/libmpi.so" and wy.expires == date(2026, 12, 31)
    (wj,) = load_waivers(j)
    assert wj.sha256 == "a" * 64 and wj.policy == "us-ndaa-889"


@pytest.mark.parametrize("text, message", [
    ("[{vendor: x, justification: j, approver: a, expires: 2026-01-01}]", "purl, sha256 or path"),
    ("[{path: x, justification: j, approver: a, expires: 2026-01-01}]", "vendor is required"),
    ("[{path: x, vendor: v, approver: a, expires: 2026-01-01}]", "justification is required"),
    ("[{path: x, vendor: v, justification: j, expires: 2026-01-01}]", "approver is required"),
    ("[{path: x, vendor: v, justification: j, approver: a, expires: soon}]", "expires must be"),
    ("[{path: x, vendor: v, justification: j, approver: a, expires: 2026-01-01, foo: 1}]",
     "unknown keys"),
    ("[{sha256: abc, vendor: v, justification: j, approver: a, expires: 2026-01-01}]", "64 hex"),
    ("{a: 1}", "expected a list"),
    ("[unclosed", "not YAML or JSON"),
])
def test_bad_files_raise_waiver_error(tmp_path, text, message):
    path = tmp_path / "w.yml"
    path.write_text(text)
    with pytest.raises(WaiverError, match=message):
        load_waivers(path)


def test_missing_file_is_a_waiver_error(tmp_path):
    with pytest.raises(WaiverError, match="cannot read"):
        load_waivers(tmp_path / "nope.yml")


def test_match_by_glob_sha_and_purl():
    _, out = _apply(_waiver(path="*/libmpi.so"))
    assert out[0].waiver == "Lab unit (approved by J. Doe, expires 2026-12-31)"
    assert out[1].waiver is None
    _, out = _apply(_waiver(sha256="c" * 64))
    assert (out[0].waiver, out[1].waiver is not None) == (None, True)
    _, out = _apply(_waiver(purl="pkg:generic/gk"))  # versionless purl: any version
    assert out[1].waiver is not None
    _, out = _apply(_waiver(purl="pkg:generic/gk@1.0"))
    assert out[1].waiver is None


def test_vendor_and_policy_must_match():
    _, out = _apply(_waiver(path="*", vendor="huawei"))
    assert all(f.waiver is None for f in out)
    _, out = _apply(_waiver(path="*", policy="uk-huawei-designation"))
    assert all(f.waiver is None for f in out)
    _, out = _apply(_waiver(path="*", vendor="*", policy="us-ndaa-889"))
    assert all(f.waiver is not None for f in out)


def test_expired_waiver_does_not_apply_and_says_so():
    r, out = _apply(_waiver(path="*/libmpi.so", expires=date(2026, 5, 31)))
    assert out[0].waiver is None
    assert out[0].rationale.endswith("; waiver expired on 2026-05-31 (Lab unit, approved by "
                                     "J. Doe)")
    assert rollup(r.root, out)[r.root.ref] is Verdict.RESTRICTED
    # valid through its expiry day
    _, out = _apply(_waiver(path="*/libmpi.so", expires=TODAY))
    assert out[0].waiver is not None


def test_waived_findings_stay_but_do_not_count():
    r, out = _apply(_waiver(path="*/libmpi.so"))
    assert len(out) == len(r.findings)
    verdicts = rollup(r.root, out)
    assert verdicts[r.root.ref] is Verdict.REVIEW  # only the unwaived lineage finding is left
    assert verdicts[r.findings[0].component] is Verdict.CLEAR
    _, out = _apply(_waiver(path="*", vendor="*"))
    assert rollup(r.root, out)[r.root.ref] is Verdict.CLEAR


def test_waivers_on_a_real_scan(restricted_sample, sigset, tmp_path):
    import dataclasses

    from provenance import pipeline
    from provenance.report import sarif

    result = pipeline.scan(restricted_sample, sigset, pipeline.ScanOptions(as_of=TODAY))
    assert result.verdict is Verdict.RESTRICTED
    path = tmp_path / "waivers.yml"
    path.write_text("- path: '*/usr/lib/libmpi.so'\n  vendor: hisilicon\n"
                    "  justification: bench camera, isolated VLAN\n  approver: CISO\n"
                    "  expires: 2026-12-31\n")
    findings = apply_waivers(result.findings, result.components(), load_waivers(path), TODAY)
    waived = [f for f in findings if f.waiver is not None]
    assert waived and all(f.location.endswith("/usr/lib/libmpi.so") for f in waived)
    assert len(findings) == len(result.findings)
    verdicts = rollup(result.root, findings)
    after = dataclasses.replace(result, findings=findings, verdicts=verdicts,
                                verdict=verdicts[result.root.ref])
    assert all(verdicts[f.component] is Verdict.CLEAR for f in waived)
    # the kernel module is still restricted, so the scan is too
    assert after.verdict is Verdict.RESTRICTED
    run = sarif.to_dict(after)["runs"][0]
    assert any("suppressions" in r for r in run["results"])
