"""Ctrl-C during a scan: one line (`interrupted`), exit 130, no temporary tree and no worker
process left behind. Driven as a terminal does it: SIGINT to the scan's whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from extract_fixtures import many_files_tar

ROOT = Path(__file__).resolve().parent.parent


def _files_under(top: Path) -> int:
    count = 0
    for _, _, names in os.walk(top):
        count += len(names)
    return count


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_prints_one_line_exits_130_and_leaves_no_tree(tmp_path: Path) -> None:
    archive = many_files_tar(tmp_path / "many.tar", 4000)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from provenance.cli import main; main()", "scan", "-q",
         "--no-cache", "--jobs", "2", str(archive)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        # past the first batches: the tree is being written and the worker pool is running
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if _files_under(tmpdir) > 300:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the scan ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert err.decode().splitlines() == ["interrupted"]
    assert out == b""
    assert list(tmpdir.iterdir()) == [], "the temporary extraction tree was left behind"
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group_alive(proc.pid), "a worker process outlived the interrupted scan"
