"""Markdown and plain-text table; every registered format renders the bundled samples."""

from __future__ import annotations

import json
from datetime import date

import pytest
import test_report_sarif
from conftest import SAMPLES
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.xml import XmlValidator
from test_report_build import clean_result, sample_result

from provenance import pipeline
from provenance.report import FORMATS, markdown, table
from provenance.report.load import from_cyclonedx


def test_formats_registered():
    assert {"cyclonedx-json", "cyclonedx-xml", "sarif", "html", "markdown", "table"} <= set(FORMATS)


def test_markdown_summary():
    text = markdown.render(sample_result(waived=True))
    assert text.startswith("# provenance report\n")
    assert "**Verdict: 🟡 REVIEW**" in text
    assert "0 restricted, 1 review, 1 waived" in text
    assert "~~🔴 restricted~~ waived: Lab unit" in text
    assert "`fw image.tar.gz!/rootfs/usr/lib/libmpi.so`" in text
    assert "## Not fully examined" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") >= 6 for line in rows)  # no pipe broke a row
    assert "No component is flagged" in markdown.render(clean_result())


def test_table_is_plain_text():
    text = table.render(sample_result())
    assert "\x1b[" not in text
    assert "verdict: RESTRICTED" in text and "hisilicon" in text and "made-by" in text
    assert "Not fully examined" in text


SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".gz", ".zip", ".bin"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_bundled_samples_render_in_every_format(sample, sigset):
    result = pipeline.scan(sample, sigset, pipeline.ScanOptions(as_of=date(2026, 1, 1),
                                                                reproducible=True))
    for name, render in FORMATS.items():
        text = render(result)
        assert text.strip(), name
        if result.findings and name not in ("cyclonedx-json", "cyclonedx-xml"):
            assert result.findings[0].vendor in text, name
    errors = XmlValidator(SchemaVersion.V1_6).validate_str(FORMATS["cyclonedx-xml"](result))
    assert errors is None, errors
    test_report_sarif._validate(json.loads(FORMATS["sarif"](result)))
    back = from_cyclonedx(json.loads(FORMATS["cyclonedx-json"](result)))
    assert back.findings == result.findings and back.verdict == result.verdict


def test_every_format_records_the_as_of_date_and_policies(sigset):
    sample = SAMPLES / "ipcam-hi3516ev200.tar.gz"
    result = pipeline.scan(sample, sigset, pipeline.ScanOptions(as_of=date(2025, 7, 4),
                                                                reproducible=True))
    assert result.as_of == "2025-07-04"
    for name, render in FORMATS.items():
        text = render(result)
        assert "2025-07-04" in text, name
        assert result.policies[0] in text, name
    back = from_cyclonedx(json.loads(FORMATS["cyclonedx-json"](result)))
    assert back.as_of == "2025-07-04"
