"""The command line contract: options, exit codes 0/1/2/3, one-line errors, reports."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from pathlib import Path

from typer.testing import CliRunner

from provenance import __version__
from provenance.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def props(node: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in node.get("properties", [])}


def test_version_and_help():
    result = run("--version")
    assert result.exit_code == 0 and result.output.strip() == f"provenance {__version__}"
    result = run("--help")
    assert result.exit_code == 0 and "scan" in result.output


def test_every_scan_option_has_help_text():
    import typer.main

    group = typer.main.get_command(app)
    command = group.commands["scan"]  # type: ignore[attr-defined]
    options = [p for p in command.params if p.param_type_name == "option"]
    assert len(options) > 10
    assert [p.name for p in options if not p.help] == []


def test_restricted_sample_exits_1(restricted_sample, tmp_path):
    out = tmp_path / "r.json"
    result = run("scan", str(restricted_sample), "--output", str(out), "--quiet")
    assert result.exit_code == 1, result.output
    meta = props(json.loads(out.read_text())["metadata"]["component"])
    assert meta["provenance:verdict"] == "restricted"
    assert meta["provenance:coverage"] == "complete"


def test_clean_sample_exits_0(clean_sample, tmp_path):
    out = tmp_path / "r.json"
    result = run("scan", str(clean_sample), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "verdict: CLEAR" in result.output
    assert props(json.loads(out.read_text())["metadata"]["component"])["provenance:verdict"] == (
        "clear")


def test_fail_on_never_and_review(restricted_sample):
    assert run("scan", str(restricted_sample), "-q", "--fail-on", "never").exit_code == 0
    assert run("scan", str(restricted_sample), "-q", "--fail-on", "review").exit_code == 1


def test_summary_names_the_flagged_component(restricted_sample):
    result = run("scan", str(restricted_sample))
    assert result.exit_code == 1
    assert "RESTRICTED" in result.output and "hisilicon" in result.output
    assert "libmpi.so" in result.output


def test_report_to_stdout_keeps_stdout_json(restricted_sample):
    result = runner.invoke(app, ["scan", str(restricted_sample), "-o", "-", "-q"])
    doc = json.loads(result.stdout)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"


def test_missing_path_exits_3():
    result = run("scan", "/nonexistent/firmware.bin")
    assert result.exit_code == 3
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_unknown_policy_exits_2(clean_sample):
    result = run("scan", str(clean_sample), "--policy", "no-such-list")
    assert result.exit_code == 2
    assert "unknown policy no-such-list" in result.output


def test_usage_errors_exit_2(clean_sample):
    assert run("scan").exit_code == 2
    assert run("scan", str(clean_sample), "--fail-on", "sometimes").exit_code == 2
    assert run("scan", str(clean_sample), "--format", "pdf", "-o", "x").exit_code == 2
    assert run("scan", str(clean_sample), "--as-of", "yesterday").exit_code == 2


def test_invalid_signature_dir_exits_3(clean_sample, tmp_path):
    bad = tmp_path / "sigs"
    (bad / "vendors").mkdir(parents=True)
    (bad / "vendors" / "acme.yml").write_text("id: Acme Corp\n")
    result = run("scan", str(clean_sample), "--signatures", str(bad))
    assert result.exit_code == 3
    assert "invalid signature set" in result.output


def test_extra_signature_dir_adds_a_rule(clean_sample, tmp_path):
    extra = tmp_path / "sigs"
    (extra / "yara" / "acme").mkdir(parents=True)
    (extra / "vendors").mkdir()
    (extra / "vendors" / "acme.yml").write_text(
        "id: acme\nname: Acme Corp\ncountry: US\n"
        "legal_names:\n  - {value: Acme Corp, source: test}\nsources: {test: a test}\n")
    (extra / "yara" / "acme" / "acme_router.yar").write_text(
        'rule acme_router {\n meta:\n  id = "acme_router"\n  vendor = "acme"\n'
        '  relationship = "made-by"\n  confidence = "0.80"\n  component = "ExampleNet"\n'
        '  description = "test"\n  reference = "test"\n strings:\n  $a = "ExampleNet R7"\n'
        ' condition:\n  $a\n}\n')
    out = tmp_path / "r.json"
    result = run("scan", str(clean_sample), "--signatures", str(extra), "-o", str(out), "-q")
    assert result.exit_code == 0  # acme is on no list
    doc = json.loads(out.read_text())
    fwinfo = next(c for c in doc["components"]
                  if props(c)["provenance:location"].endswith("!/fw/README.txt"))
    assert props(fwinfo)["provenance:vendor"] == "acme"
    assert props(fwinfo)["provenance:verdict"] == "clear"


def test_corrupt_member_is_a_problem_and_scan_goes_on(tmp_path, restricted_sample):
    # a tar holding a truncated gzip next to the real camera image
    bad = tmp_path / "bundle.tar"
    blob = restricted_sample.read_bytes()
    with tarfile.open(bad, "w") as tf:
        for name, data in (("broken.tar.gz", blob[: len(blob) // 2]), ("good.tar.gz", blob)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    out = tmp_path / "r.json"
    result = run("scan", str(bad), "-o", str(out), "-q")
    assert result.exit_code == 1  # the good copy is still found and flagged
    doc = json.loads(out.read_text())
    meta = props(doc["metadata"]["component"])
    assert meta["provenance:coverage"] == "partial"
    problems = [p["value"] for p in doc["metadata"]["component"]["properties"]
                if p["name"] == "provenance:problem"]
    assert any("broken.tar.gz" in p for p in problems)


def test_unreadable_input_exits_3(tmp_path):
    fifo = tmp_path / "not-a-file"
    os.mkfifo(fifo)
    result = run("scan", str(fifo))
    assert result.exit_code == 3
    assert "not a regular file" in result.output


def test_broken_symlink_input_exits_3(tmp_path):
    link = tmp_path / "fw.bin"
    link.symlink_to(tmp_path / "missing")
    result = run("scan", str(link))
    assert result.exit_code == 3


def test_symlinked_input_is_followed(tmp_path, restricted_sample):
    link = tmp_path / "fw.tar.gz"
    link.symlink_to(restricted_sample)
    assert run("scan", str(link), "-q").exit_code == 1


def test_reproducible_reports_are_byte_identical(restricted_sample, tmp_path):
    """Two real scans (a cold cache, then none) and a whole-scan cache hit: one report."""
    cache = ["--cache-dir", str(tmp_path / "cache")]
    outs = {"cold": cache, "uncached": ["--no-cache"], "warm": cache}
    for name, how in outs.items():
        result = run("scan", str(restricted_sample), "-o", str(tmp_path / f"{name}.json"), "-q",
                     "--reproducible", *how)
        assert result.exit_code == 1, result.output  # the sample is restricted
    cold = (tmp_path / "cold.json").read_bytes()
    assert (tmp_path / "uncached.json").read_bytes() == cold
    assert (tmp_path / "warm.json").read_bytes() == cold
    assert not re.search(r'"timestamp"', cold.decode())


def test_keep_extracted(restricted_sample, tmp_path):
    keep = tmp_path / "tree"
    run("scan", str(restricted_sample), "-q", "--keep-extracted", str(keep))
    assert any(p.name == "libmpi.so" for p in keep.rglob("*"))


def test_temporary_tree_is_removed(restricted_sample, tmp_path, monkeypatch):
    import tempfile

    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    run("scan", str(restricted_sample), "-q")
    trees = [Path(m) for m in made if Path(m).name.startswith("provenance-")]
    assert trees, "the scan unpacked nothing (answered from a cache?)"
    assert all(t.parent == tmp_path and not t.exists() for t in trees)
    assert not list(Path(tmp_path).glob("provenance-*"))


def test_facts_debug_output(restricted_sample, tmp_path):
    out = tmp_path / "facts.json"
    run("scan", str(restricted_sample), "-q", "--facts", str(out))
    rows = {r["location"].rsplit("!/", 1)[-1]: r for r in json.loads(out.read_text())["components"]}
    lib = rows["rootfs/usr/lib/libmpi.so"]
    assert lib["format"] == "elf" and lib["arch"] == "arm"
    pairs = {(f["key"], f["value"]) for f in lib["facts"]}
    assert ("elf.soname", "libmpi.so") in pairs and ("elf.export", "HI_MPI_SYS_Init") in pairs


def test_require_complete_turns_partial_coverage_into_exit_3(tmp_path, clean_sample):
    bad = tmp_path / "broken.zip"
    bad.write_bytes(clean_sample.read_bytes()[:-200])  # central directory cut off
    assert run("scan", str(clean_sample), "-q", "--require-complete").exit_code == 0
    assert run("scan", str(bad), "-q").exit_code == 0
    result = run("scan", str(bad), "-q", "--require-complete")
    assert result.exit_code == 3 and "coverage is partial" in result.output


def test_waivers_keep_the_finding_but_not_the_failure(restricted_sample, tmp_path):
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(
        "waivers:\n"
        "  - path: '*/rootfs/*'\n    vendor: hisilicon\n"
        "    justification: camera replaced in Q3, tracked in ticket 42\n"
        "    approver: ciso@example.org\n    expires: 2999-01-01\n")
    out = tmp_path / "r.json"
    result = run("scan", str(restricted_sample), "-q", "--waivers", str(waivers), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "waived" in out.read_text()
    expired = tmp_path / "expired.yml"
    expired.write_text(waivers.read_text().replace("2999-01-01", "2020-01-01"))
    assert run("scan", str(restricted_sample), "-q", "--waivers", str(expired)).exit_code == 1
    bad = tmp_path / "bad.yml"
    bad.write_text("waivers: [{vendor: x}]\n")
    assert run("scan", str(restricted_sample), "-q", "--waivers", str(bad)).exit_code == 2


def test_subcommands_are_registered():
    assert "us-ndaa-889" in run("policies", "list").output
    assert run("signatures", "lint").exit_code == 0


def test_scan_on_an_sbom_enriches_it(tmp_path):
    sbom = Path(__file__).parent / "fixtures" / "sbom" / "npm-cdx-1.6.json"
    out = tmp_path / "enriched.json"
    result = run("scan", str(sbom), "-o", str(out), "-q")
    assert result.exit_code == 1  # the @huaweicloud SDK is restricted
    doc = json.loads(out.read_text())
    assert props(doc["metadata"]["component"])["provenance:verdict"] == "restricted"
    # any report format, drawn from the enriched document; two CycloneDX copies are refused
    assert run("scan", str(sbom), "-q", "-f", "sarif", "-o", str(tmp_path / "x")).exit_code == 1
    assert json.loads((tmp_path / "x").read_text())["version"] == "2.1.0"
    assert run("scan", str(sbom), "-o", str(tmp_path / "a.json"),
               "-o", str(tmp_path / "b.json")).exit_code == 2


def test_directory_input_is_walked(tmp_path, restricted_sample, clean_sample):
    top = tmp_path / "delivery"
    (top / "cams").mkdir(parents=True)
    (top / "cams" / restricted_sample.name).write_bytes(restricted_sample.read_bytes())
    (top / clean_sample.name).write_bytes(clean_sample.read_bytes())
    out = tmp_path / "r.json"
    assert run("scan", str(top), "-q", "-o", str(out)).exit_code == 1
    doc = json.loads(out.read_text())
    locations = {props(c)["provenance:location"] for c in doc["components"]
                 if c["type"] != "device"}  # the inferred hardware parts are not files
    assert locations == {"delivery/cams/ipcam-hi3516ev200.tar.gz", "delivery/router-clean.zip"}


def test_scan_enrich_and_fleet_agree_on_the_verdict_options():
    import typer.main

    group = typer.main.get_command(app)
    shared = {"--policy", "--as-of", "--fail-on", "--signatures", "--contributed-as-made-by"}
    helps: dict[str, set[str | None]] = {}
    for name in ("scan", "enrich", "fleet"):
        params = group.commands[name].params  # type: ignore[attr-defined]
        by_flag = {p.opts[0]: p for p in params if p.param_type_name == "option"}
        wanted = shared | {"--waivers"}
        assert wanted <= set(by_flag), name
        for flag in wanted:
            helps.setdefault(flag, set()).add(by_flag[flag].help)
    assert all(len(texts) == 1 for texts in helps.values()), helps


def test_scanning_commands_collect_garbage_rarely(clean_sample, tmp_path):
    """`scan` raises the collector's thresholds and freezes what the imports made (a scan of
    7,140 files spent 0.8 s of its main process in full collections with the defaults). The
    conftest undoes it after the test."""
    import gc

    from provenance.commands.common import GC_THRESHOLDS

    gc.set_threshold(700, 10, 10)
    result = run("scan", str(clean_sample), "-q", "--no-cache", "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 0
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 0


def test_sigterm_is_a_clean_exit_only_while_the_work_runs(clean_sample, tmp_path, monkeypatch):
    """SIGTERM becomes SystemExit during the scan (its temporary tree is removed on the way
    out), and the handler before is back after it: a process running commands in-process must
    not pass it on to the children it forks later (a multiprocessing.Pool's teardown hung on
    it)."""
    import signal

    import pytest

    from provenance import pipeline

    seen = []
    real = pipeline.scan

    def scan(*args, **kwargs):
        seen.append(signal.getsignal(signal.SIGTERM))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "scan", scan)
    before = signal.getsignal(signal.SIGTERM)
    result = run("scan", str(clean_sample), "-q", "--no-cache", "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 0
    assert callable(seen[0]) and seen[0] is not before
    with pytest.raises(SystemExit):
        seen[0](signal.SIGTERM, None)
    assert signal.getsignal(signal.SIGTERM) is before
