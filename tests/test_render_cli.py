"""`provenance render` and `provenance policies` sub-apps, through typer's CliRunner."""

from __future__ import annotations

import json

from test_report_build import sample_result
from typer.testing import CliRunner

from provenance.cli import app
from provenance.commands import policies, render
from provenance.report import FORMATS, cyclonedx

runner = CliRunner()


def _saved(tmp_path):
    path = tmp_path / "report.cdx.json"
    path.write_text(cyclonedx.render(sample_result()), encoding="utf-8")
    return path


def test_render_every_format_without_rescanning(tmp_path):
    report = _saved(tmp_path)
    for fmt in FORMATS:
        out = tmp_path / f"out.{fmt}"
        done = runner.invoke(app, ["render", str(report), "--format", fmt, "--output", str(out)])
        assert done.exit_code == 0, (fmt, done.output)
        assert out.read_text(encoding="utf-8").strip(), fmt
    assert json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"][0][
        "ruleId"] == "hisilicon/made-by"
    assert "libmpi.so" in (tmp_path / "out.html").read_text()
    # cyclonedx-json re-rendered is the same document
    assert (tmp_path / "out.cyclonedx-json").read_text() == report.read_text()


def test_render_to_stdout_default_table(tmp_path):
    done = runner.invoke(app, ["render", str(_saved(tmp_path))])
    assert done.exit_code == 0
    assert "verdict: RESTRICTED" in done.stdout and "hisilicon" in done.stdout


def test_render_errors(tmp_path):
    report = _saved(tmp_path)
    done = runner.invoke(app, ["render", str(report), "--format", "pdf"])
    assert done.exit_code == 2 and "unknown format pdf" in done.output
    done = runner.invoke(app, ["render", str(tmp_path / "missing.json")])
    assert done.exit_code == 3 and "cannot read" in done.output
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert runner.invoke(app, ["render", str(bad)]).exit_code == 3
    spdx = tmp_path / "spdx.json"
    spdx.write_text(json.dumps({"spdxVersion": "SPDX-2.3"}))
    done = runner.invoke(app, ["render", str(spdx)])
    assert done.exit_code == 3 and "not a CycloneDX" in done.output


def test_render_registers_as_a_subcommand(tmp_path):
    import typer

    main = typer.Typer()
    main.command("render")(render.render)

    @main.command()
    def other() -> None:
        """A second command, so `render` is a sub-command as in the real CLI."""

    done = runner.invoke(main, ["render", str(_saved(tmp_path)), "-f", "markdown"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("# provenance report")


def _sigdir(tmp_path):
    """A user's own signature directory with one policy over a vendor that is built in."""
    pol = tmp_path / "sig" / "policies"
    pol.mkdir(parents=True)
    (pol / "acme-internal.yml").write_text(
        "id: acme-internal\nname: ACME internal ban\njurisdiction: XX\n"
        "source: 'ACME security policy 7 [acme]'\nentities:\n"
        "  - {entity: HiSilicon, vendors: [hisilicon], in_force: '2024-01-01', "
        "source: 'ACME 7.1 [acme]'}\n"
        "restricted: {relationships: [made-by], min_confidence: 0.5}\n"
        "review: {relationships: [lineage], min_confidence: 0.3}\n")
    return tmp_path / "sig"


def test_policies_list_and_show(tmp_path):
    done = runner.invoke(policies.app, ["list"])
    assert done.exit_code == 0, done.output
    assert "* us-ndaa-889" in done.stdout
    done = runner.invoke(policies.app, ["show", "us-ndaa-889"])
    assert done.exit_code == 0
    assert "Huawei Technologies Company" in done.stdout and "in force: 2019-08-13" in done.stdout
    restricted = "restricted: made-by, signed-by, contains, oem, part at confidence >= 0.70"
    assert restricted in done.stdout
    done = runner.invoke(policies.app, ["show", "nope"])
    assert done.exit_code == 2 and "unknown policy nope" in done.output


def test_users_own_policy_works_like_a_builtin(tmp_path):
    sig = _sigdir(tmp_path)
    done = runner.invoke(policies.app, ["list", "--signatures", str(sig)])
    assert done.exit_code == 0 and "acme-internal" in done.stdout
    done = runner.invoke(policies.app, ["show", "acme-internal", "--signatures", str(sig)])
    assert done.exit_code == 0 and "review: lineage at confidence >= 0.30" in done.stdout


def test_policies_invalid_signature_set_exits_3(tmp_path):
    pol = tmp_path / "sig" / "policies"
    pol.mkdir(parents=True)
    (pol / "broken.yml").write_text("id: other\n")
    done = runner.invoke(policies.app, ["list", "--signatures", str(tmp_path / "sig")])
    assert done.exit_code == 3 and "invalid signature set" in done.output
