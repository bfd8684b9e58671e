"""Identify and scan every distinct blob once: the expensive part of a scan.

`analyse` is the unit of work (one blob, by SHA-256); `analyse_all` runs it for a whole tree.
Rendering, policy and tree building happen elsewhere; this module only learns facts and hits.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.attribute.yara_scan import Hit, compile_rules, scan_file
from provenance.extract.base import HEAD_SIZE
from provenance.identify import identify
from provenance.model import Artifact, Facts, Problem
from provenance.signatureset import SignatureSet

if TYPE_CHECKING:
    from provenance.cache import ResultCache

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    jobs: int | None = None  # worker processes; None: one per core
    cache_dir: Path | None = None  # result cache location; None: the user cache directory
    use_cache: bool = True


@dataclass(frozen=True, slots=True)
class Analysis:
    """What is learnt from one distinct blob (by SHA-256), before it is placed in the tree."""

    facts: Facts
    hits: tuple[Hit, ...]
    problems: tuple[Problem, ...]


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_SIZE)


def analyse(artifact: Artifact, sigset: SignatureSet) -> Analysis:
    """Identify and scan one blob: the expensive work, done once per distinct SHA-256."""
    assert artifact.local is not None
    problems: list[Problem] = []
    try:
        head = _read_head(artifact.local)
    except OSError as exc:
        problem = Problem(artifact.path, "identify", f"cannot read: {exc.strerror}", "error")
        return Analysis(Facts(artifact.kind), (), (problem,))
    facts, found = identify(artifact, head)
    problems.extend(found)
    hits: tuple[Hit, ...] = ()
    try:
        hits = scan_file(sigset, artifact.local)
    except Exception as exc:  # yara.TimeoutError and friends: record, go on
        problems.append(Problem(artifact.path, "attribute", f"YARA scan failed: {exc}", "error"))
    return Analysis(facts, hits, tuple(problems))


# -- many blobs -----------------------------------------------------------------------------------

# Below this much work a pool costs more than it saves. Measured on 2 cores (median of 3, pool
# start included, which is ~60 ms): 32 files / 1.6 MB took 237 ms serial and 414 ms pooled;
# 64 files / 3.4 MB took 504 ms serial and 403 ms pooled.
SERIAL_MAX_FILES = 48
SERIAL_MAX_BYTES = 4 << 20
# A task is a batch of blobs: enough files to amortise the round trip, few enough bytes to keep
# the workers evenly loaded. Larger files go alone (YARA maps them from disk).
BATCH_FILES = 64
BATCH_BYTES = 4 << 20

_PLACEHOLDER = Artifact((), "", 0, "placeholder", 0)


def _light(artifact: Artifact) -> Artifact:
    """The artifact without its subtree (which would be pickled whole); identify only asks
    whether it has children."""
    children = (_PLACEHOLDER,) if artifact.children else ()
    return Artifact(artifact.chain, artifact.sha256, artifact.size, artifact.kind,
                    artifact.depth, artifact.local, children, artifact.opaque)


def context(artifact: Artifact) -> str:
    """What identification reads besides the bytes (the cache keys on it too)."""
    return f"{artifact.kind}\0{artifact.name}\0{int(bool(artifact.children))}"


_worker_sigset: SignatureSet | None = None


def _init_worker(sigset: SignatureSet, rules_dir: Path | None) -> None:
    global _worker_sigset
    _worker_sigset = sigset
    compile_rules(sigset, rules_dir)  # inherited after fork, else loaded from disk once


def _run_batch(batch: list[Artifact]) -> list[tuple[str, Analysis]]:
    assert _worker_sigset is not None
    return [(a.sha256, analyse(a, _worker_sigset)) for a in batch]


def _batches(work: list[Artifact]) -> Iterator[list[Artifact]]:
    """Largest first (the long poles start early), small files packed together."""
    batch: list[Artifact] = []
    size = 0
    for artifact in sorted(work, key=lambda a: -a.size):
        if artifact.size >= BATCH_BYTES:
            yield [_light(artifact)]
            continue
        batch.append(_light(artifact))
        size += artifact.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_pool: tuple[tuple[int, str, Path | None], ProcessPoolExecutor] | None = None


def _get_pool(jobs: int, sigset: SignatureSet, rules_dir: Path | None) -> Executor:
    """A pool kept for the life of the process (fleets scan many images with one pool)."""
    global _pool
    key = (jobs, sigset.digest, rules_dir)
    if _pool is not None and _pool[0] == key:
        return _pool[1]
    shutdown_pool()
    # fork: workers start in milliseconds and inherit the imported modules and compiled rules
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(jobs, multiprocessing.get_context(method), _init_worker,
                               (sigset, rules_dir))
    _pool = (key, pool)
    return pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool[1].shutdown(wait=True, cancel_futures=True)
        _pool = None


def _jobs(options: AnalysisOptions) -> int:
    if multiprocessing.current_process().daemon:
        return 1  # a daemonic process (a Dask worker...) may not start children
    if options.jobs is not None:
        return max(1, options.jobs)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _open_cache(options: AnalysisOptions, sigset: SignatureSet) -> ResultCache | None:
    if not options.use_cache:
        return None
    from provenance.cache import open_cache

    cache = open_cache(options.cache_dir, sigset.digest)
    return cache if cache.db is not None else None


def analyse_all(
    nodes: Sequence[Artifact], sigset: SignatureSet, options: AnalysisOptions,
    progress: Progress | None = None,
) -> dict[str, Analysis]:
    """Analysis per distinct SHA-256 of the given blobs (each analysed once).

    The first node with a given SHA-256 is the one analysed, whether serially, in the pool or
    from the cache, so the results are the same every way.
    """
    first: dict[str, Artifact] = {}
    for artifact in nodes:
        first.setdefault(artifact.sha256, artifact)
    total = len(first)
    out: dict[str, Analysis] = {}
    cache = _open_cache(options, sigset)
    if cache is not None:
        from provenance.cache import decode

        stored = cache.get_many((a.sha256, context(a)) for a in first.values())
        for sha, artifact in first.items():
            value = stored.get((sha, context(artifact)))
            if value is not None:
                # an unreadable entry is a miss; it is rewritten below
                with contextlib.suppress(Exception):
                    out[sha] = decode(value, artifact.path)
    work = [a for sha, a in first.items() if sha not in out]
    if progress:
        progress("analyse", len(out), total)

    def done(sha: str, analysis: Analysis) -> None:
        out[sha] = analysis
        if cache is not None:
            from provenance.cache import encode

            artifact = first[sha]
            cache.put((sha, context(artifact)), encode(analysis, artifact.path))
        if progress:
            progress("analyse", len(out), total)

    jobs = _jobs(options)
    small = len(work) <= SERIAL_MAX_FILES and sum(a.size for a in work) <= SERIAL_MAX_BYTES
    rules_dir = (options.cache_dir or _default_cache_dir()) if options.use_cache else None
    if jobs == 1 or len(work) < 2 or small:
        for artifact in work:
            done(artifact.sha256, analyse(artifact, sigset))
    else:
        compile_rules(sigset, rules_dir)  # in the parent, so forked workers inherit it
        pool = _get_pool(jobs, sigset, rules_dir)
        futures = [pool.submit(_run_batch, batch) for batch in _batches(work)]
        try:
            for future in as_completed(futures):
                for sha, analysis in future.result():
                    done(sha, analysis)
        except BrokenProcessPool:
            # A parser crashed a worker (hostile input can do that to native code): find the
            # blob by retrying the rest one per task, and report it instead of failing the scan.
            shutdown_pool()
            for artifact in [a for a in work if a.sha256 not in out]:
                try:
                    pool = _get_pool(jobs, sigset, rules_dir)
                    [(sha, analysis)] = pool.submit(_run_batch, [_light(artifact)]).result()
                    done(sha, analysis)
                except BrokenProcessPool:
                    shutdown_pool()
                    problem = Problem(artifact.path, "identify",
                                      "analysis crashed its worker process", "corrupt")
                    out[artifact.sha256] = Analysis(Facts(artifact.kind), (), (problem,))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    if cache is not None:
        cache.flush()
    # in node order, as a serial scan would build it
    return {sha: out[sha] for sha in first}


def _default_cache_dir() -> Path:
    from provenance.cache import default_dir

    return default_dir()
