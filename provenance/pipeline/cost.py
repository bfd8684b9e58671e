"""What a scan cost the machine (issue 14, item 8): peak resident memory of the scanning
process and of its workers, bytes written into the extraction tree (and what they took on disk),
and wall-clock seconds per stage. The report records it, so a user can see what an input cost;
`--reproducible` leaves it out, as it leaves out the timestamp.

The stages are the main process's phases, end to end: `extract` (unpacking; the workers identify
and scan the blobs already out meanwhile), `identify` (waiting for the rest of identification and
the YARA scans, then parts inference), `attribute` (attributions built up the tree), `policy`
(the lists applied, waivers, roll-up) and `report` (writing the reports). A report cannot hold
the time taken to write itself: `report` is measured by the CLI and shown in its summary line.

Peak memory is read from the kernel, not counted: `ru_maxrss` of this process, and for the
workers the largest of the live children's `VmHWM` (the pool outlives a scan) and
`RUSAGE_CHILDREN` (those already gone, external unpackers included).
"""

from __future__ import annotations

import dataclasses
import os
import resource
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from provenance.model import Cost
from provenance.pipeline.budget import proc_status

STAGES = ("extract", "identify", "attribute", "policy", "report")
PREFIX = "cost:"  # CycloneDX properties: provenance:cost:<name>


class Clock:
    """Wall-clock seconds per stage: `lap(stage)` charges the time since the last lap."""

    def __init__(self, started: float | None = None) -> None:
        self.last = time.monotonic() if started is None else started
        self.seconds: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self.last, 3)
        self.last = now


def _children() -> list[str]:
    pids: list[str] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as f:
                pids.extend(f.read().split())
    except OSError:
        pass
    return pids


def peak_rss_main() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def peak_rss_workers() -> int:
    gone = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return max([gone, *(proc_status("VmHWM", pid) for pid in _children())])


def written(files: Iterable[Path], under: Path) -> tuple[int, int]:
    """(bytes, bytes on disk) of those of `files` under `under` (the extraction tree; not the
    input itself), each counted once."""
    top = os.path.join(under, "")
    size = disk = 0
    for path in {p for p in files if str(p).startswith(top)}:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        size += st.st_size
        disk += st.st_blocks * 512
    return size, disk


def measure(clock: Clock, written: tuple[int, int]) -> Cost:
    """The cost so far: peak memory now, `written` (from `written`) and the clock's stages."""
    size, disk = written
    return Cost(peak_rss_main(), peak_rss_workers(), size, disk, dict(clock.seconds))


def with_report(cost: Cost | None, seconds: float) -> Cost | None:
    """`cost` with the seconds spent writing the reports (for the summary line)."""
    if cost is None:
        return None
    return dataclasses.replace(cost, seconds={**cost.seconds, "report": round(seconds, 3)})


def properties(cost: Cost | None) -> list[tuple[str, str]]:
    """(name, value) of the CycloneDX properties (`provenance:` is the renderer's prefix);
    none without a cost. Bytes are plain integers, seconds decimals."""
    if cost is None:
        return []
    out = [(f"{PREFIX}peak-rss-main", str(cost.peak_rss_main)),
           (f"{PREFIX}peak-rss-workers", str(cost.peak_rss_workers)),
           (f"{PREFIX}bytes-written", str(cost.bytes_written)),
           (f"{PREFIX}disk-bytes", str(cost.disk_bytes))]
    out += [(f"{PREFIX}seconds-{stage}", f"{seconds}") for stage, seconds in cost.seconds.items()]
    return out


def from_properties(props: Mapping[str, str]) -> Cost | None:
    """The inverse of `properties` (names without `provenance:`); None when there are none.
    Raises ValueError on a value that is not a number."""
    if not any(k.startswith(PREFIX) for k in props):
        return None

    def number(name: str) -> int:
        return int(props.get(PREFIX + name, "0"))

    seconds = {k.removeprefix(PREFIX + "seconds-"): float(v) for k, v in props.items()
               if k.startswith(PREFIX + "seconds-")}
    return Cost(number("peak-rss-main"), number("peak-rss-workers"), number("bytes-written"),
                number("disk-bytes"), seconds)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def line(cost: Cost | None) -> str | None:
    """The cost in one line of plain text, for every human-readable format; None without."""
    if cost is None:
        return None
    stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in cost.seconds.items())
    return (f"cost: peak RSS {_size(cost.peak_rss_main)} (main), "
            f"{_size(cost.peak_rss_workers)} (largest worker); "
            f"{_size(cost.bytes_written)} written ({_size(cost.disk_bytes)} on disk)"
            + (f"; {stages}" if stages else ""))
