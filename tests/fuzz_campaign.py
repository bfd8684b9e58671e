"""A long fuzz campaign: every hand-written parser's hypothesis tests, for a CPU-time budget each.

The fuzz tests in CI run a few hundred examples per parser; this script runs the same tests
again and again (fresh random seeds, chunks of about a minute) until each parser has had its
budget of CPU time, then prints one line per parser: inputs tried, CPU seconds, failures.
A failing chunk's output is kept under --logs for the fix and the regression test.

    python tests/fuzz_campaign.py --minutes 10 --jobs 2            # every parser
    python tests/fuzz_campaign.py --minutes 1 --only uimage,cpio-newc
    python tests/fuzz_campaign.py --minutes 1 --group identify      # the identify readers

Not a test (pytest does not collect it): it takes hours at the issue's 10 minutes per parser.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARCHIVES = ["cpio-newc", "cpio-odc", "cpio-bin", "ar", "rpm", "romfs", "msi", "cramfs-be",
            "jffs2-be"]
FIRMWARE = ["uimage", "fit", "trx", "android-boot", "android-sparse", "ihex", "srec", "zimage",
            "uefi-fv", "uefi-capsule", "huawei-update-app", "huawei-hwnp", "hikvision-dav",
            "dahua-dhzip", "zte-config", "flash"]
STATS = re.compile(r"(\d+) passing(?: examples?)?, (\d+) failing")


def identify_targets() -> dict[str, list[str]]:
    """Each fuzz test of the identification readers is its own target (ids from pytest)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                          "no:cacheprovider", "tests/test_identify_fuzz.py"], cwd=HERE.parent,
                         capture_output=True, text=True, check=True).stdout
    nodes = [line for line in out.splitlines() if "::" in line]
    return {node.split("::", 1)[1]: [node] for node in nodes}


def targets(group: str = "extract") -> dict[str, list[str]]:
    """Parser name -> the pytest node ids that fuzz it (run in turn)."""
    found: dict[str, list[str]] = {}
    if group in ("extract", "all"):
        found.update({name: [f"tests/test_extract_fuzz.py::test_mutated_fixture[{name}]",
                             f"tests/test_extract_fuzz.py::test_random_body_behind_magic[{name}]"]
                      for name in ARCHIVES})
        found.update({name: [f"tests/test_extract_firmware_fuzz.py::test_fuzz[{name}]"]
                      for name in FIRMWARE})
    if group in ("identify", "all"):
        found.update(identify_targets())
    return found


@dataclass
class Tally:
    name: str
    chunks: int = 0
    inputs: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    failures: int = 0


def run_chunk(node: str, examples: int) -> tuple[int, int, float, str]:
    """One pytest run of `node`: (inputs, return code, CPU seconds of the child, output)."""
    env = dict(os.environ, PROVENANCE_FUZZ_EXAMPLES=str(examples),
               FIRMWARE_FUZZ_EXAMPLES=str(examples))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
           "--hypothesis-show-statistics", node]
    proc = subprocess.Popen(cmd, cwd=HERE.parent, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    # reap the child ourselves: wait4 gives this one child's CPU time (threads run in parallel)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    inputs = sum(int(a) + int(b) for a, b in STATS.findall(out))
    return inputs, proc.returncode or 0, cpu, out


def campaign(name: str, nodes: list[str], budget: float, logs: Path) -> Tally:
    tally = Tally(name)
    examples = 500
    start = time.monotonic()
    while tally.cpu < budget:
        node = nodes[tally.chunks % len(nodes)]
        t0 = time.monotonic()
        inputs, code, cpu, out = run_chunk(node, examples)
        took = time.monotonic() - t0
        tally.chunks += 1
        tally.inputs += inputs
        tally.cpu += cpu
        if code != 0:
            tally.failures += 1
            logs.mkdir(parents=True, exist_ok=True)
            (logs / f"{name}-{tally.chunks}.log").write_text(out)
        # aim for chunks of about a minute (startup is a few seconds)
        rate = inputs / max(took, 1.0)
        examples = max(200, min(examples * 4, 50_000, int(rate * 60)))
        print(f"  {name}: chunk {tally.chunks} {inputs} inputs {cpu:.0f} s rc={code}",
              flush=True)
    tally.wall = time.monotonic() - start
    print(f"DONE {name}: {tally.inputs} inputs, {tally.cpu:.0f} CPU s, {tally.wall:.0f} s, "
          f"{tally.failures} failed chunks", flush=True)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="CPU minutes per parser")
    parser.add_argument("--jobs", type=int, default=2, help="parsers fuzzed at once")
    parser.add_argument("--only", default="", help="comma-separated parser names")
    parser.add_argument("--group", choices=["extract", "identify", "all"], default="extract",
                        help="extraction parsers (default) or identification readers")
    parser.add_argument("--logs", type=Path, default=Path("fuzz-logs"),
                        help="where failing chunks' output goes")
    args = parser.parse_args()
    todo = targets(args.group)
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
    with ThreadPoolExecutor(args.jobs) as pool:
        tallies = list(pool.map(lambda item: campaign(*item, args.minutes * 60, args.logs),
                                todo.items()))
    print(f"\n{'parser':<20}{'inputs':>10}{'CPU s':>8}{'wall s':>8}{'chunks':>8}{'failed':>8}")
    for t in tallies:
        print(f"{t.name:<20}{t.inputs:>10}{t.cpu:>8.0f}{t.wall:>8.0f}{t.chunks:>8}"
              f"{t.failures:>8}")
    total = sum(t.inputs for t in tallies)
    print(f"{'total':<20}{total:>10}{sum(t.cpu for t in tallies):>8.0f}")
    return 1 if any(t.failures for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
