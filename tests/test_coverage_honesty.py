"""What could not be read is said, and makes the scan partial (issue 16, item 5)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from provenance import pipeline
from provenance.model import Coverage, ProblemKind


def test_an_unreadable_folder_is_a_problem_and_the_scan_is_partial(tmp_path, sigset,
                                                                    monkeypatch):
    top = tmp_path / "delivery"
    (top / "ok").mkdir(parents=True)
    (top / "ok" / "a.txt").write_text("hello\n")
    (top / "secret").mkdir()
    (top / "secret" / "b.txt").write_text("hidden\n")
    # the tests run as root, which reads any folder: the folder refuses to be listed here as
    # it does for a non-root user (os.scandir raises PermissionError)
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if not isinstance(path, int) and Path(path).name == "secret":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = pipeline.scan(top, sigset, pipeline.ScanOptions(
        as_of=date(2026, 1, 1), analysis=pipeline.AnalysisOptions(use_cache=False)))
    assert result.coverage is Coverage.PARTIAL
    (problem,) = [p for p in result.problems if "cannot read directory" in p.message]
    assert problem.location == "delivery/secret" and problem.kind is ProblemKind.ERROR
    assert "Permission denied" in problem.message
    assert any(c.path.endswith("ok/a.txt") for c in result.components())


def _deb(data_size: int) -> bytes:
    from identify_fixtures import _ar, tar_bytes

    control = tar_bytes({"./control": b"Package: big-data\nVersion: 1.0\nArchitecture: all\n"
                                      b"Maintainer: A <a@example.org>\nDescription: big\n"})
    data = tar_bytes({"./usr/share/big.bin": os.urandom(data_size)}, "")
    return _ar({"debian-binary": b"2.0\n", "control.tar.gz": control, "data.tar": data})


def test_a_large_deb_is_read_whole_not_reported_truncated(tmp_path):
    from provenance.identify.manifest_debian import read

    big = tmp_path / "big-data_1.0_all.deb"
    big.write_bytes(_deb(17 << 20))  # past the 16 MiB the reader takes of the ar layer
    facts, problems = read(big, big.name)
    assert facts.name == "big-data" and not problems
    cut = tmp_path / "cut.deb"
    cut.write_bytes(big.read_bytes()[: 8 << 20])  # really cut short
    _, problems = read(cut, cut.name)
    assert [p.kind for p in problems] == [ProblemKind.TRUNCATED]


def test_an_sbom_past_enrichs_bound_is_scanned_as_a_file(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from provenance.cli import app
    from provenance.identify import sbom_read

    bom = tmp_path / "bom.cdx.json"
    bom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                               "components": [{"type": "library", "name": "six",
                                               "version": "1.17.0"}]}))
    monkeypatch.setattr(sbom_read, "MAX_SBOM", 16)  # stands in for a 256 MiB SBOM
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["scan", str(bom), "-q", "--no-cache", "-o", str(out)])
    assert result.exit_code == 0, result.output  # a report, not "not a valid SBOM" (exit 3)
    doc = json.loads(out.read_text())
    assert doc["metadata"]["component"]["name"] == "bom.cdx.json"
