"""Central extraction limits: every hostile-input bound in one place, with sane defaults.

The defaults are chosen against ClamAV's (the most widely run scanner of untrusted archives:
400 MB scanned per input, 100 MB per file, 17 levels, 10,000 files, 120 s) and against what a
CI runner has (7 to 16 GiB of RAM, about 14 GiB of free disk):

- total written, 3 GiB: a large firmware's root filesystems unpack to 1 to 2 GiB; 3 GiB keeps
  the scan under 4 GiB of disk with the input and the cache beside it. ClamAV's 400 MB would
  cut ordinary firmware short, and an auditor must see everything it can.
- one member, 1 GiB: partitions inside firmware (system.img, rootfs.ext4) are often 200 MB to
  1 GB, and refusing one hides every file in it; ClamAV's 100 MB suits mail, not images.
- depth, 12: firmware nests 4 to 6 deep in practice (image, partition, filesystem, package,
  archive); 12 leaves room, and ClamAV's 17 only lets a nested bomb go further.
- files, 100,000: an Android system partition holds 20,000 to 60,000 files; ClamAV's 10,000
  would stop there.
- ratio, 250x past 64 MiB, per member: no real compressor gets past about 100x on executables
  and filesystems; a member that does is a bomb. Refused alone, the container goes on.
- time, 300 s per container and 1,800 s for the whole extraction: a 1 GB xz SquashFS unpacks
  in under a minute here; ClamAV's 120 s would cut large images short.
- memory, each process's share of the machine, 512 MiB to 2 GiB (`max_memory`, enforced by
  pipeline.budget): a parser past it gives up that blob alone.
"""

from __future__ import annotations

import os
import re
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 12  # containers nested inside containers
    max_files: int = 100_000  # files written in the whole scan
    max_total_bytes: int = 3 * GiB  # bytes written in the whole scan
    max_member_bytes: int = 1 * GiB  # one extracted file
    max_ratio: float = 250.0  # bytes out of one member / its container's size (zip bombs)
    ratio_floor: int = 64 * MiB  # the ratio is only enforced past this many bytes
    seconds_per_format: float = 300.0  # one container's extraction
    max_seconds: float = 1800.0  # the whole extraction, every container together
    # each process's allocations (pipeline.budget); None: its share of the machine's memory
    max_memory: int | None = None


class LimitExceeded(Exception):
    """A limit was hit: the branch stops, a Problem is recorded, the scan goes on."""


@dataclass(slots=True)
class Budget:
    """What the whole scan has used so far; shared by every SafeRoot of one scan."""

    limits: Limits
    files: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    # told (container being unpacked, files written, bytes written) after each file and chunk:
    # a progress display for the caller (the CLI rate-limits it); it must not raise
    on_write: Callable[[str, int, int], None] | None = None

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise LimitExceeded(f"file count limit ({self.limits.max_files}) reached")

    def wrote(self, location: str) -> None:
        if self.on_write is not None:
            self.on_write(location, self.files, self.bytes)

    @property
    def deadline(self) -> float:
        return self.started + self.limits.max_seconds


MEMORY = "memory ceiling"  # how every Problem of a parser stopped by it begins


def memory_message(what: str) -> str:
    """Why a blob or container was given up when its parser reached this process's memory
    ceiling (RLIMIT_DATA, set by pipeline.budget), naming the ceiling."""
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    limit = "" if soft == resource.RLIM_INFINITY else (
        f" ({soft / GiB:.1f} GiB per process)" if soft >= GiB else
        f" ({soft / MiB:.0f} MiB per process)")
    return f"{MEMORY}{limit} reached: {what}; --max-memory raises it"


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": MiB, "g": GiB, "t": 1 << 40}


def parse_size(text: str | int) -> int:
    """A byte count as a person writes it: `4G`, `512M`, `1.5GiB`, `100k`, `4096` (binary
    units: K is 1024). Raises ValueError with the accepted forms."""
    if isinstance(text, int):
        return text
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a size: {text[:40]!r} (write e.g. 4096, 512M, 4G or 1.5GiB)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


def cores() -> int:
    """The cores this process may run on (its CPU affinity, as a container or `taskset` sets
    it): the default number of workers, read-ahead threads and memory shares."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
