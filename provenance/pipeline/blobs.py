"""Identify and scan every distinct blob once: the expensive part of a scan.

`analyse` is the unit of work (one blob, by SHA-256); `analyse_all` runs it for a whole tree.
Where a blob is analysed, what depends on its path too is worked out there for that first path,
its attributions and its parts signals (`AtPath`). The main process works them out for the other
paths of the same content as each analysis comes back, while the workers are still busy with the
rest (`Analyser.finish`), not after them all.
Rendering, policy and tree building happen elsewhere.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from provenance.attribute import resolve
from provenance.attribute.yara_scan import Hit, compile_rules, scanned_bytes, scanned_file
from provenance.caching import default_dir
from provenance.extract import digest_here
from provenance.extract.base import HEAD_SIZE, uniform_byte
from provenance.extract.limits import cores
from provenance.extract.saferoot import hash_file, remembered_input
from provenance.identify import identify
from provenance.model import (
    Artifact,
    Attribution,
    Fact,
    Facts,
    Problem,
    ProblemKind,
    Stage,
    pickled_by_fields,
)
from provenance.parts import BlobView
from provenance.parts.inference import Signal, blob_signals
from provenance.parts.sample import SCAN_LIMIT, TEXT_HEAD, text_sample, wanted
from provenance.pipeline import budget, codec
from provenance.pipeline.cache import ResultCache, open_cache
from provenance.pipeline.isolate import run_alone
from provenance.signatureset import SignatureSet

UNIFORM_MIN = 1 << 20  # smaller blobs are cheap to scan whatever they hold

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    jobs: int | None = None  # worker processes; None: one per core
    cache_dir: Path | None = None  # result cache location; None: the user cache directory
    use_cache: bool = True


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Analysis:
    """What is learnt from one distinct blob (by SHA-256), before it is placed in the tree."""

    facts: Facts
    hits: tuple[Hit, ...]
    problems: tuple[Problem, ...]


def encode(analysis: Analysis, base: str) -> bytes:
    """An Analysis as the cache stores it, locations relative to the path chain `base`."""
    return codec.dump_blob(analysis.facts, analysis.hits, analysis.problems, base)


def decode(value: bytes, base: str) -> Analysis:
    """The inverse of `encode`, rebased on the path chain `base`: an equal Analysis."""
    return Analysis(*codec.load_blob(value, base))


# Blobs up to this size are read whole, once: the head for identification and the bytes YARA
# scans come from that one read (no second open, no map for a 2 KB config).
IN_MEMORY = 1 << 20


def read_small(artifact: Artifact) -> bytes | None:
    """The whole content of a blob small enough to be scanned from memory, read once for its
    analysis and its parts text sample; None for a larger one, or one that cannot be read
    (`analyse` says why)."""
    assert artifact.local is not None
    if artifact.size > IN_MEMORY:
        return None
    try:
        return _read_head(artifact.local, artifact.size)[1]
    except OSError:
        return None


def _read_head(path: Path, size: int) -> tuple[bytes, bytes | None]:
    """(head, whole content when the blob is small enough to be scanned from memory)."""
    with open(path, "rb", buffering=0) as f:
        if size > IN_MEMORY:
            return _read_upto(f, HEAD_SIZE), None
        # what it held when hashed, and a byte more to see whether it grew (a read asks for
        # as much memory as it may return: reading a 2 KB file took 22 us for IN_MEMORY, 5
        # for its size)
        data = _read_upto(f, size + 1)
        if len(data) <= size:
            return data[:HEAD_SIZE], data
        # it grew since it was hashed: scanned from disk, as it always was
        return (data + _read_upto(f, max(0, HEAD_SIZE - len(data))))[:HEAD_SIZE], None


def _read_upto(f: BinaryIO, n: int) -> bytes:
    """Up to `n` bytes, fewer only at the end (an unbuffered read may be cut short, on a
    network or FUSE file system)."""
    data = f.read(n)
    while 0 < len(data) < n and (more := f.read(n - len(data))):
        data += more
    return data


def analyse(artifact: Artifact, sigset: SignatureSet, content: bytes | None = None
            ) -> Analysis:
    """Identify and scan one blob: the expensive work, done once per distinct SHA-256.
    `content`: the blob's bytes, when the caller read them (`read_small`).

    YARA goes first: it reads every byte anyway, and says which of the content scanners'
    passes can find anything (`identify.anchors`)."""
    assert artifact.local is not None
    try:
        head, data = ((content[:HEAD_SIZE], content) if content is not None
                      else _read_head(artifact.local, artifact.size))
    except OSError as exc:
        problem = Problem(artifact.path, Stage.IDENTIFY, f"cannot read: {exc.strerror}",
                          ProblemKind.ERROR)
        return Analysis(Facts(artifact.kind), (), (problem,))
    hits: tuple[Hit, ...] = ()
    present: frozenset[str] | None = None
    scan_problems: tuple[Problem, ...] = ()
    scanned = not artifact.unpacked  # its members are scanned; the whole would only repeat them
    # erased flash or padding: nothing to find, and no need to map it
    byte = uniform_byte(artifact.local) if scanned and artifact.size >= UNIFORM_MIN else None
    if scanned and byte is None:
        try:
            hits, present = (scanned_file(sigset, artifact.local) if data is None
                             else scanned_bytes(sigset, data))
        except Exception as exc:  # yara.TimeoutError and friends: record, go on
            scan_problems = (budget.memory_problem(artifact.path, Stage.ATTRIBUTE, "not scanned")
                             if budget.out_of_memory(exc) else
                             Problem(artifact.path, Stage.ATTRIBUTE, f"YARA scan failed: {exc}",
                                     ProblemKind.ERROR),)
    try:
        facts, found = identify(artifact, head, data, present)
    except MemoryError:  # unwound: what the reader held is freed, the worker goes on
        return Analysis(Facts(artifact.kind), (), (budget.memory_problem(artifact.path,
                                                                         Stage.IDENTIFY),))
    if byte is not None:
        fact = Fact("content.uniform", f"{byte:02x}", f"{artifact.path}#content")
        facts = replace(facts, items=(*facts.items, fact))
    return Analysis(facts, hits, found + scan_problems)


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
RETRY_STARVED = 8  # blobs given up at the memory ceiling, retried one per fresh worker

_PLACEHOLDER = Artifact((), "", 0, "placeholder", 0)


def _light(artifact: Artifact) -> Artifact:
    """The artifact without its subtree (which would be pickled whole); identify only asks
    whether it has children."""
    children = (_PLACEHOLDER,) if artifact.children else ()
    return Artifact(artifact.chain, artifact.sha256, artifact.size, artifact.kind,
                    artifact.depth, artifact.local, children, artifact.opaque,
                    unpacked=artifact.unpacked)


def context(artifact: Artifact) -> str:
    """What identification reads besides the bytes (the cache keys on it too)."""
    return (f"{artifact.kind}\0{artifact.name}\0{int(bool(artifact.children))}"
            f"\0{int(artifact.unpacked)}")


_worker_sigset: SignatureSet | None = None


def _init_worker(sigset: SignatureSet, rules_dir: Path | None, memory: int | None = None
                 ) -> None:
    global _worker_sigset
    _worker_sigset = sigset
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the pool
    # stopped by SIGTERM (`stop_pool`), a worker just ends: the command's handler, inherited,
    # would raise SystemExit wherever it is, and inside LIEF's import that aborts the process
    # with a C++ `terminate` and a traceback on the terminal
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if memory is not None:  # the scan's ceiling (a forked worker has it already)
        budget.apply(memory)
    compile_rules(sigset, rules_dir)  # inherited after fork, else loaded from disk once


Attributions = tuple[Attribution, ...]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class AtPath:
    """What a blob's analysis gives at the path it was analysed at: its attributions and what
    it says of the device's hardware parts (`parts.blob_signals`). Pure work that belongs with
    the analysis (in a worker, off the main process), but it reads the path (a hit's offset is
    shown at it, a source file is weighed by its name, a part by its folder), so it is reused
    only for this same path."""

    attributions: Attributions
    signals: tuple[Signal, ...]


def text_sample_of(artifact: Artifact, textual: bool, content: bytes | None = None
                   ) -> tuple[str, bool]:
    """The parts text sample of a blob's file (`parts.sample.text_sample`), from `content`
    when the caller read the whole blob."""
    assert artifact.local is not None
    if content is not None:
        return text_sample(content[:TEXT_HEAD if textual else SCAN_LIMIT], textual)
    try:
        with open(artifact.local, "rb") as f:
            # read(n) allocates n bytes before it reads: ask for no more than is there (a
            # process left near its memory ceiling by a parser still reads a 2 KB config)
            data = f.read(min(TEXT_HEAD if textual else SCAN_LIMIT, artifact.size + 1))
    except OSError:
        data = b""  # unreadable now: the analysis already recorded why
    return text_sample(data, textual)


def sample_kind(artifact: Artifact, analysis: Analysis) -> bool | None:
    """Whether parts inference reads a text sample of a blob: True a text file, False a
    binary's strings, None none (`parts.sample.wanted`)."""
    return wanted(artifact.path, analysis.facts, [h.rule for h in analysis.hits], artifact.size)


def parts_view(artifact: Artifact, analysis: Analysis, textual: bool | None,
               sample: tuple[str, bool] | None = None, content: bytes | None = None
               ) -> BlobView:
    """What parts inference reads of a leaf blob: its facts and name, and the text sample
    `textual` asks for (`sample`, else taken from `content` or read here)."""
    if textual is None:  # its facts and name are all inference reads of it
        return BlobView(artifact.path, analysis.facts)
    return BlobView(artifact.path, analysis.facts, *(
        sample if sample is not None else text_sample_of(artifact, textual, content)))


Done = tuple[Analysis, AtPath | None, bytes | None]
Result = tuple[str, Analysis, AtPath | None, bytes | None]  # a worker's, for one blob


def at_path_of(artifact: Artifact, analysis: Analysis, sigset: SignatureSet,
               content: bytes | None = None) -> AtPath:
    """What the blob's analysis gives at this artifact's path (`content`: its bytes, when
    the caller read them)."""
    attributions = resolve(analysis.facts, analysis.hits, sigset, artifact.path)
    # a container's members speak for it (its own view is never read)
    leaf = not artifact.children and artifact.local is not None
    signals = (blob_signals(parts_view(artifact, analysis, sample_kind(artifact, analysis),
                                       content=content))
               if leaf else ())
    return AtPath(attributions, signals)


def _attributed(artifact: Artifact, sigset: SignatureSet, entry: bool = False) -> Done:
    """The blob's analysis, what it gives at this artifact's path (`AtPath`), and with `entry`
    its cache entry (`encode`: a worker's work, not the main process's). None: not worked out
    here (the main process does it)."""
    content = read_small(artifact)  # read once for the analysis and the parts sample
    analysis = analyse(artifact, sigset, content)
    try:
        here = at_path_of(artifact, analysis, sigset, content)
        encoded = encode(analysis, artifact.path) if entry else None
    except MemoryError:  # at this process's ceiling: left to the main process, as before
        return analysis, None, None
    return analysis, here, encoded


def _run_batch(batch: list[Artifact], entry: bool = False) -> list[Result]:
    assert _worker_sigset is not None
    return [(a.sha256, *_attributed(a, _worker_sigset, entry)) for a in batch]


def _analysed_alone(artifact: Artifact, sigset: SignatureSet, rules_dir: Path | None,
                    memory: int | None) -> Done:
    """One blob in a process of its own (`isolate.run_alone`), set up as a pool worker is."""
    _init_worker(sigset, rules_dir, memory)
    return _attributed(artifact, sigset)


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


_pool: tuple[tuple[int, str, Path | None, int | None], ProcessPoolExecutor] | None = None


def _get_pool(jobs: int, sigset: SignatureSet, rules_dir: Path | None) -> Executor:
    """A pool kept for the life of the process (fleets scan many images with one pool)."""
    global _pool
    memory = budget.active()
    key = (jobs, sigset.digest, rules_dir, memory)
    if _pool is not None and _pool[0] == key:
        return _pool[1]
    shutdown_pool()
    # fork: workers start in milliseconds and inherit the imported modules and compiled rules
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(jobs, multiprocessing.get_context(method), _init_worker,
                               (sigset, rules_dir, memory))
    _pool = (key, pool)
    return pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool[1].shutdown(wait=True, cancel_futures=True)
        _pool = None


def stop_pool() -> None:
    """Stop the workers mid-task (the scan was interrupted: nothing they would finish is
    wanted), so the process exits now rather than after their current batch."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool[1], None
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _jobs(options: AnalysisOptions) -> int:
    if multiprocessing.current_process().daemon:
        return 1  # a daemonic process (a Dask worker...) may not start children
    if options.jobs is not None:
        return max(1, options.jobs)
    return cores()


def _open_cache(options: AnalysisOptions, sigset: SignatureSet) -> ResultCache | None:
    if not options.use_cache:
        return None
    cache = open_cache(options.cache_dir, sigset.digest)
    return cache if cache.db is not None else None


class Analyser:
    """Analysis that starts while extraction is still going.

    The walker hands over each blob as it finishes it (`submit`); full batches go to the worker
    pool at once, so the second core identifies and scans while the first one unpacks. `finish`
    waits for the rest. The first blob with a given SHA-256 is the one analysed, whether
    serially, in the pool or from the cache, so the results are the same every way. A tree too
    small to pay for the pool (one batch) is analysed serially.

    The pool forks its workers only before the walk (`start`, for an input large enough to
    need them) or after it (`finish`), never while the walk's read-ahead threads may hold a
    lock the children would inherit held.
    """

    def __init__(self, sigset: SignatureSet, options: AnalysisOptions,
                 progress: Progress | None = None) -> None:
        self.sigset = sigset
        self.options = options
        self.progress = progress
        self.first: dict[str, Artifact] = {}
        self.out: dict[str, Analysis] = {}
        self.pending: list[Artifact] = []
        self.pending_bytes = 0
        self.futures: list[Future[list[Result]]] = []
        # path chain -> what the analysis of the blob there gives at it (`at_path_of`)
        self.at_path: dict[tuple[str, ...], AtPath] = {}
        # SHA-256 -> the other paths of that content, worked out when its analysis is in
        self.others: dict[str, list[Artifact]] = {}
        self.cache = _open_cache(options, sigset)
        self.jobs = _jobs(options)
        self.rules_dir = ((options.cache_dir or default_dir()) if options.use_cache
                          else None)
        self.pool: Executor | None = None

    def submit(self, artifact: Artifact) -> None:
        if artifact.local is None or artifact.kind == "directory":
            return
        if artifact.sha256 in self.first:
            return
        self.first[artifact.sha256] = artifact
        self.pending.append(artifact)
        self.pending_bytes += artifact.size
        if self.pool is not None and self._worth_a_pool():
            self._dispatch()

    def start(self, size: int) -> None:
        """Fork the workers now, before the walk, if an input of `size` bytes will need them."""
        if self.jobs > 1 and size > SERIAL_MAX_BYTES and self.pool is None:
            self._pool_up()

    def digest(self, path: Path) -> Future[tuple[str, int, bytes]]:
        """The input's digest (`extract.Digest`): taken by a worker when the pool is up and
        the scan's key did not need it first, so the walk does not wait for it; the workers
        have nothing else to do while the walk finds the first blobs."""
        if self.pool is None or remembered_input(path) is not None:
            return digest_here(path)
        return self.pool.submit(hash_file, path)

    def _worth_a_pool(self) -> bool:
        return self.jobs > 1 and (len(self.pending) > SERIAL_MAX_FILES
                                  or self.pending_bytes > SERIAL_MAX_BYTES)

    def _pool_up(self) -> Executor:
        compile_rules(self.sigset, self.rules_dir)  # in the parent: forked workers inherit
        self.pool = _get_pool(self.jobs, self.sigset, self.rules_dir)
        self.pool.submit(int).result()  # a fork pool starts its processes on the first task
        return self.pool

    def _from_cache(self, work: list[Artifact]) -> list[Artifact]:
        """The blobs of `work` the cache does not answer (answered ones are recorded)."""
        if self.cache is None or not work:
            return work
        stored = self.cache.get_many((a.sha256, context(a)) for a in work)
        missing = []
        for artifact in work:
            value = stored.get((artifact.sha256, context(artifact)))
            if value is not None:
                # an unreadable entry is a miss; it is rewritten when analysed again
                with contextlib.suppress(Exception):
                    self.out[artifact.sha256] = decode(value, artifact.path)
                    continue
            missing.append(artifact)
        return missing

    def _dispatch(self) -> None:
        work = self._from_cache(self.pending)
        self.pending, self.pending_bytes = [], 0
        if not work:
            return
        pool = self.pool or self._pool_up()
        for batch in _batches(work):
            self.futures.append(pool.submit(_run_batch, batch, self.cache is not None))

    def _done(self, sha: str, analysis: Analysis, at_path: AtPath | None = None,
              entry: bytes | None = None) -> None:
        self.out[sha] = analysis
        if at_path is not None:
            self.at_path[self.first[sha].chain] = at_path
        else:  # a retried blob's earlier ones went with its earlier analysis
            self.at_path.pop(self.first[sha].chain, None)
        self._elsewhere(sha)
        # a blob given up at the memory ceiling is not what the blob is: a larger one reads it
        if self.cache is not None and not any(map(budget.is_memory_problem, analysis.problems)):
            artifact = self.first[sha]
            self.cache.put((sha, context(artifact)),
                           entry if entry is not None else encode(analysis, artifact.path))
        if self.progress:
            self.progress("analyse", len(self.out), len(self.first))

    def _elsewhere(self, sha: str) -> None:
        """`at_path_of` the other paths of a blob whose analysis is in (none given up at the
        memory ceiling: the tree builder reads those as before)."""
        analysis = self.out[sha]
        if any(map(budget.is_memory_problem, analysis.problems)):
            return
        for artifact in self.others.pop(sha, ()):
            self.at_path[artifact.chain] = at_path_of(artifact, analysis, self.sigset)

    def finish(self, nodes: Sequence[Artifact] = ()) -> dict[str, Analysis]:
        """Every analysis, by SHA-256 in submission order; and `at_path` for every path of
        `nodes` (the tree's blobs), the other paths of a content worked out as its analysis
        comes in (0.44 s of the 7,140-file benchmark's main process, which it otherwise spent
        alone at the end, while the workers sat idle)."""
        for node in nodes:
            first = self.first.get(node.sha256)
            if first is None or first.chain != node.chain:
                self.others.setdefault(node.sha256, []).append(node)
        for sha in [sha for sha in self.others if sha in self.out]:  # answered already
            self._elsewhere(sha)
        if self.pool is None and not self._worth_a_pool():  # small, or one worker: no pool
            for artifact in self._from_cache(self.pending):
                self._done(artifact.sha256, *_attributed(artifact, self.sigset))
            self.pending = []
        else:
            self._dispatch()
            self._collect()
        self._retry_starved()
        self.others = {}  # a blob left without an analysis: the tree builder says so
        if self.cache is not None:
            self.cache.flush()
        # in submission order, as a serial scan would build it
        out = {sha: self.out[sha] for sha in self.first}
        # the analyser is done: what it held per blob (the first Artifact of each, the results
        # as they came, the finished futures) is the caller's to drop, not kept twice
        self.first, self.out, self.futures = {}, {}, []
        return out

    def _collect(self) -> None:
        try:
            for future in as_completed(self.futures):
                for sha, analysis, at_path, entry in future.result():
                    self._done(sha, analysis, at_path, entry)
        except BrokenProcessPool:
            # A parser crashed a worker (hostile input can do that to native code): find the
            # blob by retrying the rest one per task, and report it instead of failing the scan.
            shutdown_pool()
            for artifact in [a for sha, a in self.first.items() if sha not in self.out]:
                try:
                    pool = _get_pool(self.jobs, self.sigset, self.rules_dir)
                    [(sha, analysis, at_path, entry)] = pool.submit(
                        _run_batch, [_light(artifact)]).result()
                    self._done(sha, analysis, at_path, entry)
                except BrokenProcessPool:
                    shutdown_pool()
                    self._alone(artifact)  # once more, to learn how it dies
        except BaseException:
            for future in self.futures:
                future.cancel()
            raise

    def _retry_starved(self) -> None:
        """A parser that meets the memory ceiling may leave its process short (LIEF keeps what
        it read before a std::bad_alloc), and the blobs after it fail too. Each blob given up
        at the ceiling is tried again alone in a fresh worker, and the pool is replaced after
        each that fails again; past RETRY_STARVED of them the rest keep their Problem. Without
        a pool the blobs were read here, where a leak stays: each is tried in a fresh
        interpreter (a fork would inherit the leak)."""
        starved = [sha for sha, a in self.out.items()
                   if any(map(budget.is_memory_problem, a.problems))]
        if not starved:
            return
        if self.pool is None:
            for sha in starved[:RETRY_STARVED]:
                self._alone(self.first[sha])
            return
        shutdown_pool()
        for sha in starved[:RETRY_STARVED]:
            try:
                pool = _get_pool(self.jobs, self.sigset, self.rules_dir)
                [(_, analysis, at_path, entry)] = pool.submit(
                    _run_batch, [_light(self.first[sha])]).result()
            except BrokenProcessPool:
                shutdown_pool()
                continue
            self._done(sha, analysis, at_path, entry)
            if any(map(budget.is_memory_problem, analysis.problems)):
                shutdown_pool()

    def _alone(self, artifact: Artifact) -> None:
        """Analyse `artifact` in a fresh interpreter; a death there is its Problem (not cached:
        it may say more about this machine than about the blob)."""
        # the ceiling asked for, not this process's: raised here to what this process uses,
        # it would give the fresh one that much more
        result = run_alone(artifact.path, _analysed_alone, _light(artifact), self.sigset,
                           self.rules_dir, budget.asked() or budget.active())
        if isinstance(result, Problem):
            self.out[artifact.sha256] = Analysis(Facts(artifact.kind), (), (result,))
            self.at_path.pop(artifact.chain, None)
        else:
            self._done(artifact.sha256, *result)

    def abandon(self) -> None:
        """Stop waiting for queued work (the scan is being interrupted)."""
        for future in self.futures:
            future.cancel()


def analyse_all(
    nodes: Sequence[Artifact], sigset: SignatureSet, options: AnalysisOptions,
    progress: Progress | None = None,
) -> dict[str, Analysis]:
    """Analysis per distinct SHA-256 of the given blobs (each analysed once)."""
    analyser = Analyser(sigset, options, progress)
    for artifact in nodes:
        analyser.submit(artifact)
    return analyser.finish()
