"""The memory ceiling of a scan's processes (issue 14, item 1).

The main process (which unpacks) and every analysis worker run under a ceiling on their data
segment, `RLIMIT_DATA`: a parser that asks for more gets a MemoryError (LIEF's std::bad_alloc and
YARA's ERROR_INSUFFICIENT_MEMORY arrive as one too) on that blob alone, which becomes a `limit`
Problem naming the ceiling, and the scan goes on. Only the soft limit is lowered, so the ceiling
is lifted again when the scan ends (a test process, a fleet, a Dask worker carry on unbounded).

Why RLIMIT_DATA and not RLIMIT_AS: since Linux 4.7 it counts what a process allocates (the heap
and every private writable mapping: malloc's arenas, Python's, thread stacks) and not the files
it maps read-only. YARA maps every blob it scans and the carver maps whole images; under an
address-space ceiling of 2 GiB a 3 GiB image could not even be opened, while under a data
ceiling it costs nothing. Nor do the address ranges libraries reserve without writing (PROT_NONE)
count. A cgroup would count resident memory too, but needs privileges a scanner must not ask
for; an rlimit needs none and is inherited by the external unpackers (7z, unsquashfs).

The default is per process: the machine's memory (or its cgroup's limit, when lower) shared by
the workers and the main process, at most 2 GiB and at least 512 MiB. A CI runner of 7 GiB and
2 cores gives each of its 3 processes 2 GiB; one of 4 GiB and 4 cores, 819 MiB. Measured after
a pooled scan of 150 shared libraries (300 MiB), the data segment was 57 MiB in the main process
and 92 MiB in each worker (their peak resident memory, 250 MiB, was mostly the files YARA maps),
so even the floor leaves a parser some 400 MiB. A ceiling below what a process already uses is
raised to that plus HEADROOM, so that a tiny `--max-memory` still lets the scan start.
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
from collections.abc import Iterator
from pathlib import Path

from provenance.extract.limits import MEMORY, GiB, MiB, cores, memory_message
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
    return default_ceiling(cores() if jobs is None else jobs)


def proc_status(field: str, pid: str = "self") -> int:
    """A memory field of /proc/PID/status (`VmData`, `VmHWM`), bytes; 0 when /proc does not
    say (another system, a process gone)."""
    key = field.encode() + b":"
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def used() -> int:
    """This process's data segment now (VmData: what RLIMIT_DATA counts), bytes."""
    return proc_status("VmData")


def apply(limit: int) -> int:
    """Lower this process's soft RLIMIT_DATA to `limit` (at least what it uses now plus
    HEADROOM, at most the hard limit); the ceiling set."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    value = max(limit, used() + HEADROOM)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (value, hard))
    return value


_lock = threading.Lock()
_inside = 0  # scans under the ceiling now (a Dask worker runs several at once, in threads)
_before: tuple[int, int] | None = None  # the limits the first of them found
_asked: int | None = None  # the ceiling the first of them asked for (before `apply` raised it)


@contextlib.contextmanager
def ceiling(limit: int) -> Iterator[int]:
    """This process under `limit` for the block (see `apply`); the soft limit it had before is
    restored on the way out. Yields the ceiling in force. Scans that overlap in one process
    share it: the first one sets it, the last one out restores what the first one found."""
    global _inside, _before, _asked
    with _lock:
        if _inside == 0:
            _before = resource.getrlimit(resource.RLIMIT_DATA)
            _asked = limit
            value = apply(limit)
        else:
            value = active() or apply(limit)
        _inside += 1
    try:
        yield value
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _before is not None:
                resource.setrlimit(resource.RLIMIT_DATA, _before)


def asked() -> int | None:
    """The ceiling the scan asked for, which a new process applies for itself (raised to what
    that process uses plus HEADROOM, as here); None outside a scan."""
    return _asked if _inside else None


def active() -> int | None:
    """The ceiling on this process's data segment (None: none)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    return None if soft == resource.RLIM_INFINITY else soft


def memory_problem(location: str, stage: Stage, what: str = "this blob was not read") -> Problem:
    """The Problem of a blob whose parser reached the ceiling."""
    return Problem(location, stage, memory_message(what), ProblemKind.LIMIT)


def is_memory_problem(problem: Problem) -> bool:
    return problem.kind == ProblemKind.LIMIT and problem.message.startswith(MEMORY)


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is a parser or YARA running into the ceiling."""
    return isinstance(exc, MemoryError)
