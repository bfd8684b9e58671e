"""The CI files in the repository: action.yml, .pre-commit-hooks.yaml and the Containerfile.

- action.yml: its `run:` steps run in bash as a runner would run them (GITHUB_OUTPUT, _ENV,
  _PATH and _STEP_SUMMARY are temp files; `${{ }}` expressions are evaluated from the inputs
  and earlier steps' outputs; a step without `if: always()` is skipped after a failure). The
  install step installs this checkout for real, offline, into a fresh interpreter that sees the
  test environment's dependencies. The `uses:` steps (setup-python, upload-sarif) are GitHub's
  and only checked to be pinned.
- .pre-commit-hooks.yaml: `pre-commit try-repo` on a fixture git repository. The hooks are
  `language: python` (pre-commit installs the package from PyPI with its dependencies); the test
  runs them as `language: system` against this checkout, since tests do not use the network.
- Containerfile: checked statically (no registry is reachable here to pull a base image): pinned
  bases, a non-root user, nothing fetched, sources that exist, an exec-form entrypoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SBOM = ROOT / "tests" / "fixtures" / "sbom" / "camera-spdx-2.3.spdx.json"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# -- action.yml ------------------------------------------------------------------------------

class Runner:
    """Runs the composite action's `run:` steps as the GitHub runner does, in bash."""

    def __init__(self, tmp: Path, inputs: dict[str, str], action_path: Path, path: str) -> None:
        self.tmp, self.action_path = tmp, action_path
        defaults = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        unknown = set(inputs) - set(defaults)
        assert not unknown, unknown
        self.inputs = {**defaults, **inputs}
        self.outputs: dict[str, dict[str, str]] = {}
        self.files = {n: tmp / n.lower() for n in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH",
                                                   "GITHUB_STEP_SUMMARY")}
        self.workspace = tmp / "workspace"
        self.workspace.mkdir()
        self.env = {"PATH": path, "HOME": str(tmp), "GITHUB_WORKSPACE": str(self.workspace),
                    "GITHUB_ACTION_PATH": str(action_path), "RUNNER_TEMP": str(tmp / "rt"),
                    "CI": "true", "GITHUB_ACTIONS": "true",
                    "LANG": "C.UTF-8", **{k: str(v) for k, v in self.files.items()}}
        for f in self.files.values():
            f.touch()
        self.failed = False
        self.codes: dict[str, int] = {}

    def expr(self, text: str) -> str:
        def one(m: re.Match[str]) -> str:
            e = m.group(1)
            if e.startswith("inputs."):
                return self.inputs[e.removeprefix("inputs.")]
            if e == "github.action_path":
                return str(self.action_path)
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", e)
            if step:
                return self.outputs.get(step[1], {}).get(step[2], "")
            raise AssertionError(f"the test cannot evaluate ${{{{ {e} }}}}")
        return EXPR.sub(one, text)

    def run(self, only: set[str] | None = None) -> None:
        for n, step in enumerate(ACTION["runs"]["steps"]):
            name = step.get("name", step.get("uses", str(n)))
            if "run" not in step or (only is not None and name not in only):
                continue
            if self.failed and "always()" not in str(step.get("if", "")):
                continue
            assert step["shell"] == "bash"
            env = {**os.environ, **self.env,
                   **{k: self.expr(str(v)) for k, v in (step.get("env") or {}).items()}}
            for line in self.files["GITHUB_PATH"].read_text().splitlines()[::-1]:
                env["PATH"] = f"{line}:{env['PATH']}"
            for line in self.files["GITHUB_ENV"].read_text().splitlines():
                key, _, value = line.partition("=")
                env[key] = value
            self.files["GITHUB_OUTPUT"].write_text("")
            script = self.tmp / f"step{n}.sh"
            script.write_text(self.expr(step["run"]))
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                                   str(script)], cwd=self.workspace, env=env,
                                  capture_output=True, text=True, timeout=300)
            self.codes[name] = done.returncode
            self.outputs[step.get("id", name)] = dict(
                line.split("=", 1) for line in self.files["GITHUB_OUTPUT"].read_text()
                .splitlines() if "=" in line)
            if done.returncode:
                self.failed = True
                self.log = done.stdout + done.stderr


def offline_python(tmp: Path) -> Path:
    """A bin directory whose `python` is a fresh interpreter that sees this environment's
    packages (pip, setuptools and provenance's dependencies) but not provenance itself."""
    venv = tmp / "runner-python"
    subprocess.run([Path(sys.base_prefix) / "bin" / "python3", "-m", "venv", "--without-pip",
                    str(venv)], check=True)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def action_checkout(tmp: Path) -> Path:
    """The files `pip install $GITHUB_ACTION_PATH` builds from, copied (a build writes into
    its source tree)."""
    dest = tmp / "action"
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md", "action.yml"):
        shutil.copy(ROOT / name, dest / name)
    for name in ("requirements", "provenance", "signatures"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    return dest


def test_action_is_composite_and_pinned():
    assert ACTION["runs"]["using"] == "composite"
    uses = [s["uses"] for s in ACTION["runs"]["steps"] if "uses" in s]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    for u in uses:
        assert re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", u), u
    for step in ACTION["runs"]["steps"]:
        # inputs reach scripts through env: (GitHub's script-injection guidance), never pasted
        assert "inputs." not in step.get("run", ""), step.get("name")


def test_action_steps_install_scan_summarise_and_gate(tmp_path):
    bin_dir = offline_python(tmp_path)
    runner = Runner(tmp_path, {"path": "fw/ipcam.tar.gz", "waivers": "",
                               "pip-args": "--no-deps --no-build-isolation --no-index"},
                    action_checkout(tmp_path), f"{bin_dir}:/usr/bin:/bin")
    (runner.workspace / "fw").mkdir()
    shutil.copy(SAMPLES / "ipcam-hi3516ev200.tar.gz", runner.workspace / "fw" / "ipcam.tar.gz")
    runner.run()
    assert runner.codes["Install provenance from the action's checkout"] == 0
    assert (bin_dir / "provenance").exists()  # installed from the checkout, not found elsewhere
    assert runner.codes["Scan"] == 0  # the scan step records the exit code and goes on
    out = runner.outputs["scan"]
    assert out["exit-code"] == "1"  # the sample is restricted
    sarif = json.loads((runner.workspace / out["sarif"]).read_text())
    assert sarif["runs"][0]["results"]
    assert json.loads((runner.workspace / out["cyclonedx"]).read_text())["bomFormat"] == \
        "CycloneDX"
    summary = runner.files["GITHUB_STEP_SUMMARY"].read_text()
    assert "hisilicon" in summary.lower()
    assert runner.codes["Gate"] == 1  # the job fails after the SARIF is written


def shim_bin(tmp_path: Path) -> Path:
    """A bin folder whose `provenance` runs this checkout, without installing it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "provenance"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m provenance.cli '
                    '"$@"\n')
    shim.chmod(0o755)
    return bin_dir


def shim_runner(tmp_path: Path, inputs: dict[str, str]) -> Runner:
    """A runner whose `provenance` is this checkout, without installing it."""
    bin_dir = shim_bin(tmp_path)
    (bin_dir / "python").symlink_to(sys.executable)
    return Runner(tmp_path, inputs, ROOT, f"{bin_dir}:/usr/bin:/bin")


AFTER_INSTALL = {"Scan", "Step summary (capped below GitHub's 1 MiB)", "Gate"}


def test_action_without_a_verdict_uploads_nothing_and_fails(tmp_path):
    runner = shim_runner(tmp_path, {"path": "missing.bin"})
    runner.run(only=AFTER_INSTALL)
    assert runner.outputs["scan"] == {"exit-code": "3"}  # no sarif: the upload is skipped
    assert "no report (exit code 3)" in runner.files["GITHUB_STEP_SUMMARY"].read_text()
    assert runner.codes["Gate"] == 3


def test_action_gate_follows_fail_on(tmp_path):
    runner = shim_runner(tmp_path, {"path": "router.zip", "fail-on": "never",
                                    "vex-out": "accepted.openvex.json"})
    shutil.copy(SAMPLES / "router-clean.zip", runner.workspace / "router.zip")
    runner.run(only=AFTER_INSTALL)
    assert runner.outputs["scan"]["exit-code"] == "0"
    assert runner.outputs["scan"]["sarif"] == "provenance-report/provenance.sarif"
    assert runner.codes["Gate"] == 0
    assert "verdict" in runner.files["GITHUB_STEP_SUMMARY"].read_text().lower()


def test_step_summary_is_capped_below_one_mib(tmp_path):
    runner = Runner(tmp_path, {"path": "x"}, ROOT, os.environ["PATH"])
    (bin_dir := tmp_path / "bin").mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    runner.env["PATH"] = f"{bin_dir}:{runner.env['PATH']}"
    report = runner.workspace / "big.md"
    row = "| é | `libmpi.so` | restricted |\n"
    report.write_text("# provenance\n" + row * 200_000, encoding="utf-8")  # 6 MB
    runner.outputs["scan"] = {"markdown": str(report), "exit-code": "1"}
    runner.run(only={"Step summary (capped below GitHub's 1 MiB)"})
    data = runner.files["GITHUB_STEP_SUMMARY"].read_bytes()
    assert 900_000 < len(data) < 1_000_001 < 1 << 20
    text = data.decode("utf-8")  # cut at a line, never inside a character
    body, note = text.split("\n\n_Summary cut at", 1)
    assert body.endswith(row) and "big.md" in note


# -- .pre-commit-hooks.yaml ------------------------------------------------------------------

def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                    "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def hook_env(tmp_path):
    """(hook repository, fixture repository, environment) for `pre-commit try-repo`."""
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists() or shutil.which("git") is None:
        pytest.skip("pre-commit (the dev extra) or git is not installed")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["language"] for h in hooks} == {"python"}  # as published
    for h in hooks:
        h["language"] = "system"
    repo = tmp_path / "hooks"
    repo.mkdir()
    (repo / ".pre-commit-hooks.yaml").write_text(yaml.safe_dump(hooks))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "hooks")
    bin_dir = shim_bin(tmp_path)
    fixture = tmp_path / "product"
    (fixture / "vendor").mkdir(parents=True)
    shutil.copy(SAMPLES / "ipcam-hi3516ev200.tar.gz", fixture / "vendor" / "ipcam.tar.gz")
    shutil.copy(SAMPLES / "router-clean.zip", fixture / "vendor" / "router.zip")
    shutil.copy(SBOM, fixture / "camera.spdx.json")
    (fixture / "README.txt").write_text("firmware bundle\n")
    git(fixture, "init", "-q")
    git(fixture, "add", ".")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env.update(PATH=f"{bin_dir}:{Path(sys.executable).parent}:{env['PATH']}",
               PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    return repo, fixture, env, pre_commit


def try_repo(hook_env, hook: str, **extra: str) -> subprocess.CompletedProcess[str]:
    repo, fixture, env, pre_commit = hook_env
    return subprocess.run([str(pre_commit), "try-repo", str(repo), hook, "--all-files",
                           "--verbose"], cwd=fixture, env={**env, **extra},
                          capture_output=True, text=True, timeout=300)


def test_precommit_binaries_hook_fails_on_the_restricted_file(hook_env):
    done = try_repo(hook_env, "provenance-binaries")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "restricted" in done.stdout.lower() and "ipcam.tar.gz" in done.stdout
    assert "router.zip" in done.stdout  # scanned, and clear
    assert "camera.spdx.json" not in done.stdout and "README" not in done.stdout  # text


def test_precommit_sbom_hook_follows_fail_on(hook_env):
    done = try_repo(hook_env, "provenance-sbom")
    assert done.returncode == 0, done.stdout + done.stderr  # one review finding
    assert "dahua" in done.stdout and "ipcam" not in done.stdout
    done = try_repo(hook_env, "provenance-sbom", PROVENANCE_FAIL_ON="review")
    assert done.returncode == 1


# -- Containerfile ---------------------------------------------------------------------------

def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    return out


def container_problems(text: str, root: Path) -> list[str]:
    """What a reviewer would refuse (hadolint-like rules, written for this file)."""
    problems = []
    steps = instructions(text)
    stages = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    for _, args in (s for s in steps if s[0] == "FROM"):
        image = args.split()[0]
        tag = image.rsplit("/", 1)[-1]
        if "@sha256:" not in image and not re.search(r":\d+\.\d+\.\d+", tag):
            problems.append(f"base not pinned to an exact version or digest: {image}")
    final = steps[stages[-1]:] if stages else steps
    users = [args for word, args in final if word == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the final stage runs as root")
    for word, args in steps:
        if word == "ADD":
            problems.append("ADD (it fetches URLs and unpacks archives): use COPY")
        if word == "RUN" and re.search(r"\b(curl|wget)\b|https?://", args):
            problems.append(f"RUN fetches from the network: {args}")
        if word == "RUN" and "pip install" in args:
            for target in re.findall(r"pip install\s+((?:\S+\s*)+?)(?:&&|$)", args):
                if any(not t.startswith(("/", "-")) for t in target.split()):
                    problems.append(f"pip installs something not from the project: {target}")
        if word == "COPY" and "--from=" not in args:
            for src in args.split()[:-1]:
                if not (root / src).exists():
                    problems.append(f"COPY of a missing path: {src}")
        if word == "ENTRYPOINT" and not args.startswith("["):
            problems.append("ENTRYPOINT in shell form (signals do not reach provenance)")
    return problems


def test_containerfile_follows_the_rules():
    text = (ROOT / "Containerfile").read_text()
    assert container_problems(text, ROOT) == []
    assert "podman build -f Containerfile" in text  # the documented build command


def test_container_rules_can_fail(tmp_path):
    bad = ("FROM python:3.11-slim\nRUN curl -sSL https://example.org/x | sh\n"
           "ADD https://example.org/y /y\nCOPY missing/ /m/\nRUN pip install requests\n"
           "USER root\nENTRYPOINT provenance\n")
    found = container_problems(bad, tmp_path)
    assert len(found) == 7, found
