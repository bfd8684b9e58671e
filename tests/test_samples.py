"""The bundled samples: generated deterministically, and their reports follow the contract."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from conftest import SAMPLES
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from provenance import pipeline
from provenance.report import cyclonedx

ALL = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".gz", ".zip", ".bin"))


def test_samples_are_regenerated_byte_for_byte():
    result = subprocess.run([sys.executable, str(SAMPLES / "generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_samples_are_small_and_not_executable():
    for path in ALL:
        assert path.stat().st_size < 1 << 20
        assert not path.stat().st_mode & 0o111


@pytest.mark.parametrize("sample", ALL, ids=lambda p: p.name)
def test_report_validates_against_cyclonedx_16(sample, sigset):
    result = pipeline.scan(sample, sigset, pipeline.ScanOptions(as_of=date(2026, 1, 1)))
    text = cyclonedx.render(result)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    doc = json.loads(text)
    names = {p["name"] for p in doc["metadata"]["component"]["properties"]}
    assert {"provenance:verdict", "provenance:coverage"} <= names


def test_restricted_sample_contract(restricted_sample, sigset):
    result = pipeline.scan(restricted_sample, sigset, pipeline.ScanOptions())
    assert result.verdict.value == "restricted"
    doc = cyclonedx.to_dict(result)
    flagged = [c for c in _walk(doc["components"]) if _props(c).get("provenance:verdict")
               == "restricted" and "provenance:vendor" in _props(c)]
    names = {c["name"] for c in flagged}
    assert "libmpi.so" in names
    lib = next(c for c in flagged if c["name"] == "libmpi.so")
    p = _props(lib)
    assert p["provenance:vendor"] == "hisilicon"
    assert p["provenance:vendor-parent"] == "huawei"
    assert p["provenance:relationship"] == "made-by"
    assert float(p["provenance:confidence"]) >= 0.9
    assert p["provenance:policy"] == "us-fcc-covered-list,us-ndaa-889"
    assert p["provenance:location"].endswith("!/rootfs/usr/lib/libmpi.so")
    assert lib["manufacturer"] == {"name": "HiSilicon Technologies Co., Ltd.",
                                   "address": {"country": "CN"}}
    assert lib["hashes"][0]["alg"] == "SHA-256"
    assert lib["evidence"]["identity"][0]["methods"][0]["technique"] == "binary-analysis"
    assert lib["evidence"]["occurrences"][0]["location"].endswith("libmpi.so")
    tools = doc["metadata"]["tools"]["components"]
    assert tools[0]["name"] == "provenance"
    assert tools[1]["hashes"][0]["content"] == result.signature_digest.removeprefix("sha256:")


def test_clean_sample_has_no_findings(clean_sample, sigset):
    result = pipeline.scan(clean_sample, sigset, pipeline.ScanOptions())
    assert result.verdict.value == "clear"
    assert result.findings == ()
    # a README that names a chip maker is recorded as a mention, never as more
    assert all(a.relationship.value == "mentions" for c in result.components()
               for a in c.attributions)


def _props(node):
    return {p["name"]: p["value"] for p in node.get("properties", [])}


def _walk(components):
    for c in components:
        yield c
        yield from _walk(c.get("components", []))
