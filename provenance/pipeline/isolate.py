"""One blob analysed alone, in a fresh interpreter, and how its process ended.

Two cases need it (issue 14): a blob whose analysis killed a pool worker, which is run once more
to learn how it dies, and a blob given up at the memory ceiling in a scan without a pool
(`--jobs 1`, a Dask task), whose process may still hold what a parser leaked: a forked child
would inherit that heap (RLIMIT_DATA counts it), a fresh interpreter starts from nothing. A
subprocess rather than multiprocessing, because a daemonic Dask worker may not have children.

A death is a memory limit when the process was SIGKILLed (the kernel's OOM killer) or its last
words say it ran out of memory (a C++ std::bad_alloc that reached std::terminate, a
MemoryError where nothing could catch it); any other death is the blob's own fault, `corrupt`.
"""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from provenance.model import Problem, ProblemKind, Stage
from provenance.pipeline import budget

# What a process that ran out of memory says last (libstdc++, CPython, glibc's strerror)
MEMORY_WORDS = (b"bad_alloc", b"MemoryError", b"Cannot allocate memory", b"out of memory")
TAIL = 4096  # the last bytes of the child's stderr read for them (it may write a lot)

T = TypeVar("T")


def how_it_ended(returncode: int, stderr_tail: bytes) -> tuple[ProblemKind, str]:
    """(kind, words) of a process that died analysing a blob, from its status and last words."""
    if returncode < 0:
        try:
            ended = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            ended = f"killed by signal {-returncode}"
    else:
        ended = f"exit status {returncode}"
    if returncode == -signal.SIGKILL or any(w in stderr_tail for w in MEMORY_WORDS):
        return ProblemKind.LIMIT, ended
    return ProblemKind.CORRUPT, ended


def run_alone(location: str, call: Callable[..., T], *args: Any) -> T | Problem:
    """`call(*args)` in a fresh interpreter (`call` a module-level function, `args` picklable);
    its result, or if that process dies, the Problem of the blob at `location` saying how."""
    with tempfile.TemporaryDirectory(prefix="provenance-alone-") as tmp:
        out, err = Path(tmp, "out"), Path(tmp, "err")
        job = pickle.dumps((call, args, out))
        with open(err, "wb") as stderr:
            proc = subprocess.run([sys.executable, "-m", "provenance.pipeline.isolate"],
                                  input=job, stdout=subprocess.DEVNULL, stderr=stderr,
                                  check=False)
        if proc.returncode == 0 and out.exists():
            result: T = pickle.loads(out.read_bytes())
            return result
        with open(err, "rb") as f:
            f.seek(max(0, err.stat().st_size - TAIL))
            tail = f.read()
    kind, ended = how_it_ended(proc.returncode, tail)
    if kind is ProblemKind.LIMIT:
        return budget.memory_problem(location, Stage.IDENTIFY,
                                     f"this blob was not read (its analysis was {ended})")
    return Problem(location, Stage.IDENTIFY, f"analysis crashed its worker process ({ended})",
                   kind)


def main() -> None:
    """The child: one job from stdin (our own parent's pickle: the function is imported by
    its name), its result to the file named."""
    call, args, out = pickle.loads(sys.stdin.buffer.read())
    Path(out).write_bytes(pickle.dumps(call(*args)))


if __name__ == "__main__":
    main()
