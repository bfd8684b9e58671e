"""Hostile parsers for the tests of a scan's worker processes, installed by name in the test's
process and, through tests/fresh/sitecustomize.py, in the fresh interpreters it starts:

    hungry             a reader of blobs that begin with HUNGRY, which asks for 8 GiB
    readers            a reader that leaks nearly all of its process's memory ceiling before it
                       fails (as LIEF keeps what it read before a std::bad_alloc), and a modest
                       one that needs 32 MiB
    die:SHA256:HOW     the analysis of that blob kills its process: `segv` (a real invalid
                       read in native code), `exit`, `oom-kill` (SIGKILL, as the kernel's OOM
                       killer sends) or `bad-alloc` (libstdc++'s last words, then abort)
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path
from typing import Any

from provenance import identify
from provenance.identify.base import Identifier
from provenance.model import Facts, Problem
from provenance.pipeline import blobs, budget

MiB = 1 << 20
HUNGRY = b"HUNGRY\x00\x01"
LEAKED: list[bytes] = []


def greedy() -> bytes:
    return bytes(8 << 30)  # what a declared count of 2^33 entries asks for (calloc: lazy)


def _hungry(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    greedy()
    return Facts("hungry"), ()


def _leak(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    """Keeps what it took before it failed, leaving its process 8 MiB."""
    ceiling = budget.active()
    assert ceiling is not None
    LEAKED.append(bytes(max(0, ceiling - budget.used() - 8 * MiB)))
    raise MemoryError


def _modest(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    bytes(32 * MiB)  # well under any ceiling, unless a parser before took it all
    return Facts("modest"), ()


HUNGRY_READER = Identifier("hungry", lambda head, name: head.startswith(HUNGRY), _hungry)
READERS = (Identifier("leaky", lambda head, name: head.startswith(b"LEAKY"), _leak),
           Identifier("modest", lambda head, name: head.startswith(b"MODEST"), _modest))


def die(how: str) -> None:
    if how == "segv":
        ctypes.string_at(0)
    elif how == "oom-kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "bad-alloc":
        os.write(2, b"terminate called after throwing an instance of 'std::bad_alloc'\n")
        os.abort()
    os._exit(1)


def dying(sha256: str, how: str) -> Any:
    """blobs.analyse, except that the blob `sha256` kills its process."""
    real = blobs.analyse

    def analyse(artifact: Any, sigset: Any, *more: Any) -> Any:
        if artifact.sha256 == sha256:
            die(how)
        return real(artifact, sigset, *more)

    return analyse


def _patches(spec: str) -> list[tuple[Any, str, Any]]:
    """(object, attribute, value) of the hooks `spec`."""
    if spec in ("hungry", "readers"):
        readers = (HUNGRY_READER,) if spec == "hungry" else READERS
        return [(identify, "IDENTIFIERS", (*readers, *identify.IDENTIFIERS))]
    _, sha256, how = spec.split(":")
    return [(blobs, "analyse", dying(sha256, how))]


def install(spec: str) -> None:
    for target, name, value in _patches(spec):
        setattr(target, name, value)


def use(monkeypatch: Any, spec: str) -> None:
    """Install the hooks `spec` in this process and in every fresh interpreter it starts; the
    pool is shut down, so that its next workers fork with them."""
    fresh = Path(__file__).resolve().parent / "fresh"
    monkeypatch.setenv("PROVENANCE_TEST_HOOKS", spec)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(fresh), os.environ.get("PYTHONPATH", "")) if p))
    for target, name, value in _patches(spec):
        monkeypatch.setattr(target, name, value)
    blobs.shutdown_pool()
