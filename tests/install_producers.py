"""Install the SBOM producers tests/test_enrich_producers.py runs, and what they describe.

`python tests/install_producers.py` (run by .ci/run before the tests) installs, pinned, into
`~/.cache/provenance-producers` (or $PROVENANCE_PRODUCERS_CACHE): cyclonedx-py (PyPI
cyclonedx-bom) in a venv of its own, a Python environment of registry packages for it to describe,
and @cyclonedx/cyclonedx-npm and cdxgen with an npm project for them to describe. The tests never
install anything: a producer missing from the cache skips its tests with the reason. Exit 0 even
when a producer cannot be installed here (no npm, no registry): the reason is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# the producers, pinned; and what they describe
CYCLONEDX_BOM = "cyclonedx-bom==7.5.0"
NPM_TOOLS = ("@cyclonedx/cyclonedx-npm@6.0.1", "@cyclonedx/cdxgen@12.8.4")
PY_PACKAGES = ("huaweicloudsdkcore==3.1.219", "six==1.17.0", "idna==3.20", "dahua==1.0.5",
               "huawei-solar==2.5.0")
NODE_PROJECT = {"name": "enrich-fixture-app", "version": "1.0.0", "private": True,
                "license": "Apache-2.0",
                "dependencies": {"@huaweicloud/huaweicloud-sdk-core": "3.1.211",
                                 "tslib": "2.8.1"}}
INSTALL_TIMEOUT = 600
# offline, an install fails fast instead of retrying for minutes
PIP_FAST = ("--timeout", "20", "--retries", "1")
NPM_FAST = ("--fetch-retries=1", "--fetch-timeout=20000")


def cache_dir() -> Path:
    where = os.environ.get("PROVENANCE_PRODUCERS_CACHE")
    return Path(where) if where else Path.home() / ".cache" / "provenance-producers"


def step(marker: Path, *commands: list[str], cwd: Path | None = None) -> str | None:
    """Run `commands` once (`marker` records success); the reason they failed, else None."""
    if marker.exists():
        return None
    for command in commands:
        try:
            done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                                  timeout=INSTALL_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{command[0]}: {exc}"
        if done.returncode != 0:
            return f"{' '.join(command[:4])}: exit {done.returncode}: {done.stderr[-300:]}"
    marker.write_text("ok\n")
    return None


def install(cache: Path) -> dict[str, str | None]:
    """Install every producer; producer group -> why it could not be installed, else None."""
    cache.mkdir(parents=True, exist_ok=True)
    py, pyenv = cache / "cyclonedx-py", cache / "pyenv"
    why = step(cache / "cyclonedx-py.ok", [sys.executable, "-m", "venv", str(py)],
               [str(py / "bin" / "pip"), "install", "-q", *PIP_FAST, CYCLONEDX_BOM])
    why = why or step(cache / "pyenv.ok", [sys.executable, "-m", "venv", str(pyenv)],
                      [str(pyenv / "bin" / "pip"), "install", "-q", *PIP_FAST,
                       "--no-deps", *PY_PACKAGES])
    done: dict[str, str | None] = {"python": why}
    npm = shutil.which("npm")
    tools, project = cache / "npm", cache / "nodeproj"
    if npm is None:
        why = "npm is not installed"
    else:
        why = step(cache / "npm-tools.ok", [npm, "install", "--prefix", str(tools),
                                            "--no-audit", "--no-fund", *NPM_FAST, *NPM_TOOLS])
        project.mkdir(exist_ok=True)
        (project / "package.json").write_text(json.dumps(NODE_PROJECT, indent=2) + "\n")
        why = why or step(cache / "nodeproj.ok", [npm, "install", "--no-audit", "--no-fund",
                                                  "--ignore-scripts", *NPM_FAST], cwd=project)
    done["npm"] = why
    return done


if __name__ == "__main__":
    for group, why in install(cache_dir()).items():
        print(f"{group} producers: {'installed' if why is None else 'not installed: ' + why}")
