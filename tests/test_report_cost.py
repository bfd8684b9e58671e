"""What a scan cost is in the report (issue 14, item 8): peak RSS of the main process and the
workers, bytes written to the extraction tree, seconds per stage, as `provenance:cost:*`
properties, one line of the terminal summary, HTML and Markdown; `--reproducible` leaves it
all out, so the reports stay byte-identical."""

from __future__ import annotations

import json
import resource
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from provenance.cli import app
from provenance.pipeline import cost
from provenance.report.load import from_cyclonedx

MEMBERS = {"a.bin": 300_000, "dir/b.bin": 1_000_000, "dir/c.txt": 4321}


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for i, (name, size) in enumerate(MEMBERS.items()):
            # a fixed date: the same bytes however often it is built
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            zf.writestr(info, bytes([i + 1]) * (size // 2) + bytes(range(256)) * 4
                        + b"x" * (size - size // 2 - 1024))
    return path


def _scan(tmp_path: Path, tag: str, *more: str) -> tuple[str, Path]:
    outputs = [tmp_path / f"{tag}.{ext}" for ext in ("cdx.json", "md", "html")]
    result = CliRunner().invoke(app, [
        "scan", str(_zip(tmp_path / "input.zip")), "--no-cache", "--jobs", "1",
        *[arg for out in outputs for arg in ("-o", str(out))], *more], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output, tmp_path / tag


def _cost(report: Path) -> dict[str, str]:
    props = json.loads(report.read_text())["metadata"]["component"]["properties"]
    return {p["name"].removeprefix("provenance:cost:"): p["value"] for p in props
            if p["name"].startswith("provenance:cost:")}


def test_the_report_records_what_the_scan_cost(tmp_path: Path) -> None:
    output, stem = _scan(tmp_path, "r")
    found = _cost(stem.with_suffix(".cdx.json"))
    # exactly the members' bytes were written, and measured from the files themselves
    assert int(found["bytes-written"]) == sum(MEMBERS.values())
    assert 0 < int(found["disk-bytes"]) <= sum(MEMBERS.values()) + 3 * 4096
    # the kernel's own high-water marks: no more than this process's, and not nothing
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert 0 < int(found["peak-rss-main"]) <= own
    assert int(found["peak-rss-workers"]) >= 0
    stages = [k.removeprefix("seconds-") for k in found if k.startswith("seconds-")]
    assert stages == ["extract", "identify", "attribute", "policy"]
    assert all(float(found[f"seconds-{s}"]) >= 0 for s in stages)
    # the summary's one line adds the time the reports took to write
    [line] = [ln for ln in output.splitlines() if ln.startswith("cost: ")]
    assert "written" in line and ", report " in line
    for ext in ("md", "html"):
        text = stem.with_suffix(f".{ext}").read_text()
        assert "cost: peak RSS" in text and "MiB written" in text
    # read back from the report: the same cost
    loaded = from_cyclonedx(json.loads(stem.with_suffix(".cdx.json").read_text()))
    assert cost.properties(loaded.cost) == [
        (f"cost:{k}", v) for k, v in found.items()]


def test_reproducible_reports_leave_the_cost_out(tmp_path: Path) -> None:
    output, first = _scan(tmp_path, "one", "--reproducible")
    _, second = _scan(tmp_path, "two", "--reproducible")
    for ext in (".cdx.json", ".md", ".html"):
        text = first.with_suffix(ext).read_bytes()
        assert text == second.with_suffix(ext).read_bytes()
        assert b"cost:" not in text
    assert not [ln for ln in output.splitlines() if ln.startswith("cost: ")]


def test_the_clock_charges_each_stage_its_own_time() -> None:
    clock = cost.Clock()
    clock.last -= 2.0
    clock.lap("extract")
    clock.last -= 0.5
    clock.lap("identify")
    clock.last -= 0.25
    clock.lap("extract")  # a stage met again adds up
    assert list(clock.seconds) == ["extract", "identify"]
    assert 2.25 <= clock.seconds["extract"] < 2.4 and 0.5 <= clock.seconds["identify"] < 0.6


def test_no_cost_no_properties_no_line() -> None:
    assert cost.properties(None) == [] and cost.line(None) is None
    assert cost.from_properties({"files": "3"}) is None


def test_a_scan_answered_from_the_cache_costs_only_the_lookup(tmp_path: Path) -> None:
    from provenance import signatureset
    from provenance.pipeline import AnalysisOptions, ScanOptions, scan

    image = _zip(tmp_path / "input.zip")
    options = ScanOptions(analysis=AnalysisOptions(jobs=1, cache_dir=tmp_path / "cache"))
    sigset = signatureset.load(())
    cold = scan(image, sigset, options).cost
    warm = scan(image, sigset, options).cost
    assert cold is not None and warm is not None
    assert list(cold.seconds) == ["extract", "identify", "attribute", "policy"]
    assert list(warm.seconds) == ["cache"] and warm.bytes_written == 0
