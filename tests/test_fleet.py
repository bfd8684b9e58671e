"""Fleet scans: one report per input plus a summary; the same on a Dask cluster."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from test_analysis import make_tar, tree_files
from typer.testing import CliRunner

from provenance.cli import app
from provenance.pipeline import ScanOptions, UsageError, fleet
from provenance.pipeline.blobs import AnalysisOptions


@pytest.fixture
def images(tmp_path: Path, restricted_sample: Path, clean_sample: Path) -> Path:
    top = tmp_path / "images"
    top.mkdir()
    shutil.copy(restricted_sample, top / restricted_sample.name)
    shutil.copy(clean_sample, top / clean_sample.name)
    make_tar(top / "generated.tar.gz", tree_files(12))
    return top


def _options(tmp_path: Path) -> ScanOptions:
    return ScanOptions(reproducible=True,
                       analysis=AnalysisOptions(jobs=1, cache_dir=tmp_path / "cache"))


def _reports(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.cdx.json"))}


def test_scan_many_local(images: Path, tmp_path: Path, sigset) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"# fleet\nimages/ipcam-hi3516ev200.tar.gz\n{images}/router-clean.zip\n"
                       "\nimages/missing.bin\n")
    out = tmp_path / "out"
    rows = fleet.scan_many(listing, out, sigset, _options(tmp_path))
    assert [r.verdict for r in rows] == ["restricted", "clear", None]
    assert rows[0].restricted_vendors == ("hisilicon",)
    assert rows[0].coverage == "complete" and rows[0].report == "ipcam-hi3516ev200.tar.gz.cdx.json"
    assert rows[2].error and "no such file" in rows[2].error and rows[2].report is None
    assert set(_reports(out)) == {"ipcam-hi3516ev200.tar.gz.cdx.json", "router-clean.zip.cdx.json"}
    summary = json.loads((out / fleet.SUMMARY_JSON).read_text())
    assert summary[0]["restricted_vendors"] == ["hisilicon"]
    with open(out / fleet.SUMMARY_CSV, newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["verdict"] for t in table] == ["restricted", "clear", ""]
    assert table[0]["restricted_vendors"] == "hisilicon"
    assert list(table[0]) == list(fleet.FIELDS)


def test_duplicate_names_get_numbered(tmp_path: Path) -> None:
    assert fleet.report_names([Path("a/fw.bin"), Path("b/fw.bin"), Path("c/x")]) == \
        ["fw.bin.cdx.json", "fw.bin.2.cdx.json", "x.cdx.json"]


def test_unknown_policy_is_a_usage_error(images: Path, tmp_path: Path, sigset) -> None:
    with pytest.raises(UsageError):
        fleet.scan_many(images, tmp_path / "out", sigset,
                        replace(_options(tmp_path), policies=("no-such-list",)))


# On a Dask cluster: tests/test_fleet_cluster.py (dask scheduler and workers as processes).


def test_cli(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["fleet", str(images), "--out-dir", str(out), "--reproducible",
                                      "--jobs", "1", "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 1, result.output  # one input is restricted
    assert "3 input(s)" in result.output
    assert (out / fleet.SUMMARY_CSV).exists() and len(_reports(out)) == 3
    bad = CliRunner().invoke(app, ["fleet", str(images), "--out-dir", str(out), "--policy", "nope"])
    assert bad.exit_code == 2
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(images / "router-clean.zip", clean)
    ok = CliRunner().invoke(app, ["fleet", str(clean), "--out-dir", str(out), "--no-cache"])
    assert ok.exit_code == 0, ok.output


WAIVER = ("waivers:\n  - path: '*/rootfs/*'\n    vendor: hisilicon\n"
          "    justification: camera replaced in Q3, tracked in ticket 42\n"
          "    approver: ciso@example.org\n    expires: 2999-01-01\n"
          # the camera as a whole is built on a HiSilicon SoC (its `part` finding)
          "  - path: '*.tar.gz'\n    vendor: hisilicon\n"
          "    justification: camera replaced in Q3, tracked in ticket 42\n"
          "    approver: ciso@example.org\n    expires: 2999-01-01\n")


def test_cli_verdict_options_as_for_scan(tmp_path: Path, restricted_sample: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(restricted_sample, images / restricted_sample.name)
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(WAIVER)

    def run(*args: str):
        return CliRunner().invoke(app, ["fleet", str(images), "--out-dir", str(tmp_path / "o"),
                                        "-j", "1", "--cache-dir", str(tmp_path / "c"), *args])

    def verdicts() -> list[str | None]:
        rows = json.loads((tmp_path / "o" / fleet.SUMMARY_JSON).read_text())
        return [r["verdict"] for r in rows]

    assert run().exit_code == 1
    assert run("--fail-on", "never").exit_code == 0
    assert verdicts() == ["restricted"]
    assert run("--as-of", "2001-01-01").exit_code == 0  # before any list was in force
    assert verdicts() == ["clear"]
    done = run("--waivers", str(waivers))
    assert done.exit_code == 0, done.output
    assert verdicts() == ["clear"]
    assert "waived" in (tmp_path / "o" / f"{restricted_sample.name}.cdx.json").read_text()
    assert run("--as-of", "yesterday").exit_code == 2
    (tmp_path / "bad.yml").write_text("waivers: [{vendor: x}]\n")
    assert run("--waivers", str(tmp_path / "bad.yml")).exit_code == 2


def test_cli_error_input_is_exit_3_unless_the_gate_fails(tmp_path: Path,
                                                         restricted_sample: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"{tmp_path / 'missing.bin'}\n")
    common = ["--out-dir", str(tmp_path / "o"), "-j", "1", "--cache-dir", str(tmp_path / "c")]
    assert CliRunner().invoke(app, ["fleet", str(listing), *common]).exit_code == 3
    listing.write_text(f"{tmp_path / 'missing.bin'}\n{restricted_sample}\n")
    assert CliRunner().invoke(app, ["fleet", str(listing), *common]).exit_code == 1
    never = CliRunner().invoke(app, ["fleet", str(listing), *common, "--fail-on", "never"])
    assert never.exit_code == 3
