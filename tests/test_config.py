"""Configuration: flags > PROVENANCE_* variables > provenance.toml / .provenance.yaml > defaults,
`config show`, and a config file treated as the untrusted input it is (one line, exit 2).

The precedence is checked twice: by the source `config show` names, and by the exit code of a
real `enrich` whose only finding is at review level (exit 1 only when --fail-on is review).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provenance.cli import app

SBOM = Path(__file__).parent / "fixtures" / "sbom" / "camera-spdx-2.3.spdx.json"  # one review
runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    import os

    for name in [n for n in os.environ if n.startswith("PROVENANCE_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def project(tmp_path) -> Path:
    """project/fw/camera.spdx.json: the config goes in project/."""
    (tmp_path / "fw").mkdir()
    shutil.copy(SBOM, tmp_path / "fw" / SBOM.name)
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def shown(result) -> dict[str, tuple[str, str]]:
    """`config show` rows as {option: (value, source)}."""
    rows = {}
    for line in result.output.splitlines()[1:]:
        name, rest = line.split(None, 1)
        value, source = rest.rsplit("[", 1)
        rows[name] = (value.strip(), source.rstrip("]"))
    return rows


def test_precedence_flags_env_file_defaults(project):
    sbom = str(project / "fw" / SBOM.name)
    enrich = ("enrich", sbom, "-q", "-o", str(project / "out.json"))
    assert run(*enrich).exit_code == 0  # default: fail on restricted only
    (project / "provenance.toml").write_text('fail-on = "review"\n')
    assert run(*enrich).exit_code == 1  # the file
    never = {"PROVENANCE_FAIL_ON": "never"}
    assert run(*enrich, env=never).exit_code == 0  # env over file
    assert run(*enrich, "--fail-on", "review", env=never).exit_code == 1  # flag over env

    show = ("config", "show", "enrich", sbom)
    toml = str(project / "provenance.toml")
    assert shown(run(*show))["fail-on"] == ("review", f"file {toml}")
    assert shown(run(*show, env=never))["fail-on"] == ("never", "env PROVENANCE_FAIL_ON")
    assert shown(run(*show, "--fail-on", "restricted", env=never))["fail-on"] == (
        "restricted", "flag")
    (project / "provenance.toml").unlink()
    assert shown(run(*show))["fail-on"] == ("restricted", "default")


def test_yaml_file_lists_and_relative_paths(project):
    (project / ".provenance.yaml").write_text(
        "policy: [us-ndaa-889]\nwaivers: rules/waivers.yml\nas-of: 2026-01-01\nquiet: true\n")
    out = run("config", "show", "enrich", str(project / "fw" / SBOM.name))
    rows = shown(out)
    assert rows["policy"][0] == "us-ndaa-889"
    assert rows["waivers"][0] == str(project / "rules" / "waivers.yml")  # relative to the file
    assert rows["as-of"][0] == "2026-01-01" and rows["quiet"][0] == "True"
    assert out.output.splitlines()[0].endswith(str(project / ".provenance.yaml"))


def test_env_lists_split_on_spaces(project):
    out = run("config", "show", "scan", str(project / "fw"),
              env={"PROVENANCE_POLICY": "us-ndaa-889 us-fcc-covered-list",
                   "PROVENANCE_NO_CACHE": "true"})
    rows = shown(out)
    assert rows["policy"] == ("us-ndaa-889, us-fcc-covered-list", "env PROVENANCE_POLICY")
    assert rows["no-cache"] == ("True", "env PROVENANCE_NO_CACHE")


def test_a_scanned_directory_does_not_configure_its_own_audit(project):
    (project / "fw" / "provenance.toml").write_text('fail-on = "never"\n')
    (project / "provenance.toml").write_text('fail-on = "review"\n')
    rows = shown(run("config", "show", "scan", str(project / "fw")))
    assert rows["fail-on"] == ("review", f"file {project / 'provenance.toml'}")


def test_help_names_the_variables():
    out = run("scan", "--help", env={"COLUMNS": "300"})
    assert "PROVENANCE_FAIL_ON" in out.output and "PROVENANCE_VEX_OUT" in out.output


@pytest.mark.parametrize("name, text, message", [
    ("provenance.toml", 'fial-on = "never"\n', "unknown key fial-on"),
    ("provenance.toml", '[scan]\nfail-on = "never"\n', "unknown key scan"),
    ("provenance.toml", 'fail-on = "sometimes"\n', "fail-on:"),
    ("provenance.toml", 'policy = "us-ndaa-889"\n', "policy: expected a list"),
    ("provenance.toml", 'quiet = "yes"\n', "quiet: expected true or false"),
    ("provenance.toml", "max-depth = true\n", "max-depth: expected text or a number"),
    ("provenance.toml", "max-depth = 3.5\n", "max-depth:"),
    ("provenance.toml", "jobs = 0\n", "jobs:"),
    ("provenance.toml", "fail-on = \n", "not TOML"),
    ("provenance.toml", "\x00\xff", "not TOML"),
    (".provenance.yaml", "- fail-on\n", "expected a mapping"),
    (".provenance.yaml", "fail-on: [\n", "not YAML"),
    (".provenance.yaml", "\x1b[31mevil: 1\n", "not YAML"),
    ("provenance.toml", '"\\u001b[31mevil" = 1\n', "unknown key \\x1b[31mevil"),
    (".provenance.yaml", "[" * 20000 + "]" * 20000 + "\n", "not YAML"),
])
def test_bad_config_is_one_line_exit_2(project, name, text, message):
    (project / name).write_text(text, encoding="utf-8", errors="surrogateescape")
    # scan takes every option checked here (an SBOM input is enriched)
    out = run("scan", str(project / "fw" / SBOM.name), "-o", str(project / "o.json"))
    assert out.exit_code == 2, out.output
    assert message in out.output
    assert len(out.output.strip().splitlines()) == 1 and "Traceback" not in out.output
    assert not (project / "o.json").exists()


def test_two_config_files_in_one_directory(project):
    (project / "provenance.toml").write_text("")
    (project / ".provenance.yaml").write_text("")
    out = run("enrich", str(project / "fw" / SBOM.name))
    assert out.exit_code == 2 and "keep one config file" in out.output


def test_oversized_config(project):
    (project / "provenance.toml").write_text("# pad\n" * 200_000)
    out = run("enrich", str(project / "fw" / SBOM.name))
    assert out.exit_code == 2 and "bytes" in out.output


def test_config_show_unknown_command():
    out = run("config", "show", "policies")
    assert out.exit_code == 2 and "enrich" in out.output
