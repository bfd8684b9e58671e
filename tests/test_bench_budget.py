"""The benchmark's CPU split (`tests/bench_scan.py`): a scan's main process is measured apart
from the workers and C tools it started, which is what the CPU budget line compares."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from bench_scan import _budget, _own_cpu

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_own_cpu_is_the_process_s_own_not_its_children_s() -> None:
    """A parent that burns 0.1 s and waits for a child that burns 0.5 s: its own CPU is about
    0.1 s (the child's 0.5 s counts in its children's fields, which a wrong index would read)."""
    parent = (BURN.format(s=0.1) + "import subprocess, sys\n"
              f"subprocess.run([sys.executable, '-c', {BURN.format(s=0.5)!r}], check=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", parent])
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    own = _own_cpu(proc.pid)
    _, _, usage = os.wait4(proc.pid, 0)
    total = usage.ru_utime + usage.ru_stime
    assert 0.1 <= own < 0.45, own
    assert total >= own + 0.45, (own, total)  # the child's time is in the reaped total
    assert _own_cpu(proc.pid) != _own_cpu(proc.pid)  # reaped: unknown (NaN), not 0


def test_budget_line_states_what_the_target_leaves() -> None:
    floor = {"total": 2.0, "cpu_unpack": 3.0, "cpu_yara": 1.0}
    scan = {"cpu": 9.5, "own": 2.0}
    line = _budget(floor, scan)
    cores = os.cpu_count() or 1
    assert f"{1.5 * 2.0 * cores:.1f}s ({cores} cores x 3.00s)" in line
    assert "main process 2.0s, its workers and C tools 7.5s" in line
