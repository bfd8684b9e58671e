"""The memory ceiling of a scan's processes (issue 14, item 1).

The main process (which unpacks) and every analysis worker run under a ceiling on their address
space, `RLIMIT_AS`: a parser that asks for more gets a MemoryError (or a failed map) on that blob
alone, which becomes a `limit` Problem naming the ceiling, and the scan goes on. Only the soft
limit is lowered, so the ceiling is lifted again when the scan ends (a test process, a fleet, a
Dask worker carry on unbounded). A cgroup would count resident memory rather than address space,
but it needs privileges a scanner must not ask for; RLIMIT_AS needs none and is inherited by the
external unpackers (7z, unsquashfs) too.

The default is per process: the machine's memory (or its cgroup's limit, when lower) shared by the
workers and the main process, at most 2 GiB and at least 512 MiB. A CI runner of 7 GiB and 2 cores
gets 2 GiB each; a 4 GiB, 4-core one gets 819 MiB. Address space is a little above resident
memory: measured on a pooled scan of 150 shared libraries, the main process maps about 210 MiB at
rest (270 MiB at its peak) and a worker 125 MiB (260 MiB at its peak, while YARA maps a blob), so
even the floor leaves a parser several hundred MiB. A ceiling below what a process has already
mapped is raised to that plus HEADROOM, so that a tiny `--max-memory` still lets the scan start.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterator
from pathlib import Path

from provenance.extract.limits import MEMORY, GiB, MiB, memory_message
from provenance.model import Problem, ProblemKind, Stage

PER_PROCESS_MAX = 2 * GiB
PER_PROCESS_MIN = 512 * MiB
HEADROOM = 64 * MiB


def machine_memory() -> int | None:
    """Physical memory, or the cgroup's limit (v2 `memory.max`, v1 `memory.limit_in_bytes`)
    when it is lower; None when the system says neither."""
    try:
        total: int | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = None
    for name in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(name).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and (total is None or int(text) < total):
            total = int(text)  # "max" (v2) and v1's huge "unlimited" number are no limit
    return total


def default_ceiling(jobs: int, total: int | None = None) -> int:
    """Each process's share: `total` (default: the machine's memory) over the `jobs` workers
    and the main process, within [PER_PROCESS_MIN, PER_PROCESS_MAX]."""
    total = machine_memory() if total is None else total
    if total is None:
        return PER_PROCESS_MAX
    return max(PER_PROCESS_MIN, min(PER_PROCESS_MAX, total // (max(jobs, 1) + 1)))


def limit(max_memory: int | None, jobs: int | None) -> int:
    """The ceiling of a scan: `--max-memory`, else the default for `jobs` workers (None: one
    per core)."""
    if max_memory is not None:
        return max_memory
    if jobs is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    return default_ceiling(jobs)


def mapped() -> int:
    """This process's address space now (VmSize), bytes; 0 when /proc does not say."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def apply(limit: int) -> int:
    """Lower this process's soft RLIMIT_AS to `limit` (at least what it maps now plus
    HEADROOM, at most the hard limit); the ceiling set."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    value = max(limit, mapped() + HEADROOM)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(resource.RLIMIT_AS, (value, hard))
    return value


@contextlib.contextmanager
def ceiling(limit: int) -> Iterator[int]:
    """This process under `limit` for the block (see `apply`); the soft limit it had before is
    restored on the way out. Yields the ceiling set."""
    before = resource.getrlimit(resource.RLIMIT_AS)
    try:
        yield apply(limit)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, before)


def active() -> int | None:
    """The ceiling on this process's address space (None: none)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def memory_problem(location: str, stage: Stage, what: str = "this blob was not read") -> Problem:
    """The Problem of a blob whose parser reached the ceiling."""
    return Problem(location, stage, memory_message(what), ProblemKind.LIMIT)


def is_memory_problem(problem: Problem) -> bool:
    return problem.kind == ProblemKind.LIMIT and problem.message.startswith(MEMORY)


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is a parser or YARA running into the ceiling: a MemoryError, or YARA
    failing to map the file (it maps every blob it scans, and the map counts against the
    address space)."""
    if isinstance(exc, MemoryError):
        return True
    return active() is not None and "could not map file" in str(exc)
