"""Report options as users of Trivy and Grype write them (issue 16): `-o FILE` takes its format
from the extension, `-f X` alone writes to stdout, and what would be a guess is a usage error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES
from typer.testing import CliRunner

from provenance.cli import app

SAMPLE = str(SAMPLES / "router-clean.zip")


def run(*args: str):
    return CliRunner().invoke(app, ["scan", SAMPLE, "--no-cache", "-q", *args],
                              catch_exceptions=False)


@pytest.mark.parametrize(("name", "marker"), [
    ("r.html", "<!doctype html"), ("r.sarif", '"$schema"'), ("r.cdx.json", '"bomFormat"'),
    ("r.json", '"bomFormat"'), ("r.xml", "<bom "), ("r.md", "# provenance report"),
    ("r.txt", "verdict: CLEAR"),
])
def test_output_extension_names_the_format(tmp_path: Path, name: str, marker: str) -> None:
    result = run("-o", str(tmp_path / name))
    assert result.exit_code == 0, result.output
    assert marker.lower() in (tmp_path / name).read_text(encoding="utf-8")[:4000].lower()


def test_a_sarif_report_named_json_is_sarif() -> None:
    from provenance.commands.common import _format_of

    assert _format_of(Path("x.sarif.json")) == "sarif"
    assert _format_of(Path("X.HTML")) == "html"


def test_unknown_extension_is_a_usage_error(tmp_path: Path) -> None:
    result = run("-o", str(tmp_path / "report.pdf"))
    assert result.exit_code == 2 and "--format" in result.output
    assert not (tmp_path / "report.pdf").exists()


def test_format_alone_writes_to_stdout() -> None:
    result = run("-f", "sarif")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["version"] == "2.1.0"


def test_two_reports_to_stdout_are_a_usage_error(tmp_path: Path) -> None:
    assert run("-f", "sarif", "-f", "html").exit_code == 2
    result = run("-o", "-", "-o", "-", "-f", "sarif", "-f", "html")
    assert result.exit_code == 2 and "stdout" in result.output


def test_explicit_format_wins_over_the_extension(tmp_path: Path) -> None:
    dest = tmp_path / "report.html"
    assert run("-o", str(dest), "-f", "sarif").exit_code == 0
    assert json.loads(dest.read_text(encoding="utf-8"))["version"] == "2.1.0"


@pytest.mark.parametrize("command", ["scan", "render", "enrich", "fleet"])
def test_help_shows_readable_metavars(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "<list[" not in result.output and "<bool>" not in result.output
    assert "<int>" not in result.output and "<str>" not in result.output


def test_shell_completion_is_offered() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "--show-completion" in result.output


def test_summary_in_a_log_is_not_wrapped() -> None:
    result = CliRunner().invoke(app, ["scan", str(SAMPLES / "ipcam-hi3516ev200.tar.gz"),
                                      "--no-cache", "--fail-on", "never"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    path = "ipcam-hi3516ev200.tar.gz!/rootfs/lib/modules/4.9.37/extra/hi3516ev200_sys.ko"
    assert any(line.strip() == f"at: {path}" for line in result.output.splitlines())
    assert "\x1b[" not in result.output  # no colour codes in a log


def test_byte_limits_accept_sizes_as_people_write_them() -> None:
    assert run("--max-total-bytes", "4G", "--max-member-bytes", "512M").exit_code == 0
    result = run("--max-total-bytes", "4Q")
    assert result.exit_code == 2 and "not a size" in result.output
