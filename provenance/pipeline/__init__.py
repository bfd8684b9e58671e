"""The only package that knows every stage: extract -> identify -> attribute -> policy.

This module is the wiring: `scan` returns a ScanResult; rendering and printing belong to the
report stage and the CLI. Beside it: `blobs` (identify and YARA-scan each distinct blob once,
pooled), `codec` (lossless compact JSON of a blob's analysis and of a whole ScanResult),
`cache` (the SQLite store they go into), `fleet` (many inputs) and `facts_dump` (`--facts`).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from provenance import __version__
from provenance.attribute import resolve, upstream
from provenance.attribute.bundle import bundled
from provenance.attribute.maker import manufacturer
from provenance.extract import Limits, extract
from provenance.extract.saferoot import forget_input, hash_input
from provenance.model import (
    Artifact,
    Attribution,
    Component,
    Coverage,
    Evidence,
    Facts,
    Problem,
    ProblemKind,
    Relationship,
    ScanResult,
    Stage,
    Stats,
    Verdict,
)
from provenance.parts import (
    BlobView,
    board_collection,
    is_product,
    part_attributions,
    part_maker,
    supported_board,
)
from provenance.parts.inference import Signal, blob_signals, combine
from provenance.pipeline import budget, codec, cost
from provenance.pipeline.blobs import (
    Analyser,
    Analysis,
    AnalysisOptions,
    AtPath,
    Progress,
    parts_view,
    sample_kind,
    text_sample_of,
)
from provenance.pipeline.cache import Key, ResultCache, open_cache
from provenance.pipeline.memo import Memo
from provenance.policy import DEFAULT_POLICIES, evaluate, rollup
from provenance.policy.waivers import Waiver, apply_waivers
from provenance.signatureset import SignatureSet

__all__ = ["AnalysisOptions", "InputError", "Progress", "ScanOptions", "UsageError", "contained",
           "distributed", "scan"]


class UsageError(Exception):
    """Bad options (unknown policy...): exit code 2."""


class InputError(Exception):
    """The input cannot be read at all: no verdict possible, exit code 3."""


@dataclass(frozen=True, slots=True)
class ScanOptions:
    policies: tuple[str, ...] = DEFAULT_POLICIES
    limits: Limits = field(default_factory=Limits)
    reproducible: bool = False
    as_of: date | None = None
    keep_extracted: Path | None = None
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    waivers: tuple[Waiver, ...] = ()
    # the policies count `contributed` wherever they count made-by: the caller passes a signature
    # set from `policy.contributed_as_made_by`; here it keys the whole-scan cache
    contributed_as_made_by: bool = False
    # (container being unpacked, files, bytes written so far): a progress display's hook
    on_unpack: Callable[[str, int, int], None] | None = None


# what a package's parts roll up as: their relationship -> the package's
_ROLLED_UP = {Relationship.MADE_BY: Relationship.CONTAINS,
              Relationship.CONTAINS: Relationship.CONTAINS,
              Relationship.CONTRIBUTED: Relationship.CONTRIBUTED}


def contained(
    own: tuple[Attribution, ...], children: tuple[Component, ...], sigset: SignatureSet
) -> tuple[Attribution, ...]:
    """A package's `contains` attributions: vendor parts inside it made by someone else.

    A Hikvision SDK inside a third-party VMS package makes the package `contains hikvision`;
    parts by the package's own maker (or its corporate family) add nothing. A part the vendor
    only `contributed` (upstream open source, see `attribute.upstream`) makes the package
    `contributed` that vendor, unless another part makes it `contains`.
    """
    makers = {v for a in own if a.relationship == Relationship.MADE_BY
              for v in sigset.family(a.vendor)}
    best: dict[str, tuple[Component, Attribution]] = {}

    def rank(a: Attribution) -> tuple[bool, float]:
        return (_ROLLED_UP[a.relationship] is Relationship.CONTAINS, a.confidence)

    for child in children:
        for part in child.walk():
            for a in part.attributions:
                if a.relationship not in _ROLLED_UP:
                    continue
                if makers & set(sigset.family(a.vendor)):
                    continue
                if a.vendor not in best or rank(a) > rank(best[a.vendor][1]):
                    best[a.vendor] = (part, a)
    out = []
    for vendor, (part, a) in sorted(best.items()):
        rel = _ROLLED_UP[a.relationship]
        ev = Evidence("binary-analysis", "component",
                      f"{part.path} is {a.relationship.value} {vendor} ({a.confidence:.2f})",
                      part.path, f"{rel.value}:{a.evidence[0].rule}", a.confidence)
        out.append(Attribution(vendor, rel, a.confidence, (ev,), a.component, a.version))
    return tuple(out)


def distributed(
    facts: Facts | None, own: tuple[Attribution, ...], children: tuple[Component, ...],
    sigset: SignatureSet,
) -> tuple[Component, ...]:
    """A distribution's package: the parts made by vendors that do not maintain the package
    are upstream open source the vendor contributed (`attribute.upstream.distribution` says
    what makes a package a distribution's). `children` unchanged when nothing says so.

    HiSilicon's libhns in Debian's ibverbs-providers (rdma-core) carries no upstream mark of
    its own; the package it ships in says Debian built it.
    """
    found = upstream.distribution(facts)
    if found is None:
        return children
    why, where = found
    maintainers = {v for a in own if a.relationship == Relationship.MADE_BY
                   for v in sigset.family(a.vendor)}

    def visit(node: Component) -> Component:
        kids = tuple(visit(c) for c in node.children)
        attributions = upstream.in_distribution(node.attributions, node.facts, why, where,
                                                sigset, maintainers)
        if attributions is node.attributions and all(
                a is b for a, b in zip(kids, node.children, strict=True)):
            return node
        return replace(node, attributions=attributions, children=kids,
                       manufacturer=manufacturer(attributions, sigset))

    out = tuple(visit(c) for c in children)
    return children if all(a is b for a, b in zip(out, children, strict=True)) else out


_FILE_TYPES = {"DYN": "library", "EXEC": "application", "REL": "library"}


def _component_type(artifact: Artifact, facts: Facts | None, is_root: bool) -> str:
    if facts is not None and facts.format == "elf":
        return _FILE_TYPES.get(facts.first("elf.type") or "", "file")
    if facts is not None and facts.format == "pe":
        return "library" if artifact.name.lower().endswith(".dll") else "application"
    if is_root and artifact.kind != "directory":
        return "firmware" if artifact.children else "file"
    return "file"


def _scan_context(path: Path, options: ScanOptions, as_of: date) -> str:
    """The context of one whole scan's cache key: the input's name and the options."""
    context = json.dumps({
        "name": path.name, "policies": options.policies, "as_of": as_of.isoformat(),
        "limits": asdict(options.limits), "waivers": [repr(w) for w in options.waivers],
        "contributed_as_made_by": options.contributed_as_made_by,
    }, sort_keys=True)
    return "scan:" + hashlib.sha256(context.encode()).hexdigest()


def _kept_scan(size: int, context: str) -> Key:
    """The mark kept beside each whole scan in the cache: a scan of an input of this size,
    name and options is kept. Without it, no kept scan can be this input's, and the scan
    starts without hashing its input first (`_scan_key`)."""
    return f"size:{size}", context


def _scan_key(path: Path, options: ScanOptions, as_of: date, cache: ResultCache) -> Key | None:
    """(input SHA-256, context) naming one whole scan: same bytes, name and options; None when
    `cache` keeps no scan of an input of this size, name and options. A first scan need not
    read its input before it starts: the walk unpacks it while a worker hashes it (0.35 s of
    the 439 MiB ext4 image of the rootfs benchmark, done while nothing else ran)."""
    context = _scan_context(path, options, as_of)
    if not cache.get_many([_kept_scan(path.stat().st_size, context)]):
        return None
    sha, _, _ = hash_input(path)  # remembered: extraction takes it from there for the root
    return sha, context


def _kept_whole(path: Path, options: ScanOptions) -> bool:
    """Whether the result cache keeps this scan whole: a file, the cache on, no tree to keep."""
    return options.analysis.use_cache and path.is_file() and options.keep_extracted is None


def memo(path: Path, digest: str, options: ScanOptions, sha: str | None = None
         ) -> Memo | None:
    """Where the reports of this scan with the signature set of this `digest` are remembered
    (`pipeline.memo`): only a reproducible scan of a file the result cache would keep, else
    None. `sha`: the input's SHA-256, when the scan took it; without it, None too when the
    cache keeps no scan of this input (`_scan_key`), or the input cannot be read (`scan`
    says why)."""
    path = path.resolve()
    if not (options.reproducible and _kept_whole(path, options)):
        return None
    cache = open_cache(options.analysis.cache_dir, digest)
    as_of = options.as_of or date.today()
    if sha is not None:
        return Memo(cache, (sha, _scan_context(path, options, as_of)))
    try:
        key = _scan_key(path, options, as_of, cache)
    except OSError:
        return None
    return Memo(cache, key) if key is not None else None


def scan(
    path: Path, sigset: SignatureSet, options: ScanOptions, progress: Progress | None = None
) -> ScanResult:
    """Scan one input. An unchanged file scanned with the same signatures, tool and options is
    answered from the result cache without unpacking it again: the ScanResult kept there is
    the one a scan would return, facts included."""
    try:
        return _scan_or_recall(path, sigset, options, progress)
    finally:
        forget_input()  # the input's hash is remembered for its own scan, never the next one


def _scan_or_recall(
    path: Path, sigset: SignatureSet, options: ScanOptions, progress: Progress | None
) -> ScanResult:
    unknown = [p for p in options.policies if p not in sigset.policies]
    if unknown:
        known = ", ".join(sorted(sigset.policies))
        raise UsageError(f"unknown policy {', '.join(unknown)} (known: {known})")
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    path = path.resolve()  # the user named this input: follow a link to it, not inside it
    started = time.monotonic()
    as_of = options.as_of or date.today()
    if not _kept_whole(path, options):
        return _scan(path, sigset, options, as_of, started, progress)
    cache = open_cache(options.analysis.cache_dir, sigset.digest)
    try:
        key = _scan_key(path, options, as_of, cache)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    stored = cache.get_many([key]).get(key) if key is not None else None
    if stored is not None:
        try:
            result = codec.load_scan(stored)
            clock = cost.Clock(started)
            clock.lap("cache")  # answered whole from the result cache
            return replace(result, started=_now(options), stats=replace(
                result.stats, seconds=_elapsed(options, started)),
                cost=None if options.reproducible else cost.measure(clock, (0, 0)))
        except (ValueError, KeyError, TypeError):
            pass  # an entry this version cannot read: scan again and overwrite it
    result = _scan(path, sigset, options, as_of, started, progress)
    plain = replace(result, started=None, stats=replace(result.stats, seconds=0.0), cost=None)
    context = key[1] if key is not None else _scan_context(path, options, as_of)
    cache.put((result.root.sha256, context), codec.dump_scan(plain))
    cache.put(_kept_scan(result.root.size, context), b"")
    cache.flush()
    return result


def _leaves_a_gap(problem: Problem) -> bool:
    """Whether a problem means part of the input went unexamined. Identification keeping only
    the first N symbol names or facts of a blob is a bound on the report, not a gap: the blob
    was still read and scanned whole. Nor is a duplicate member name: both copies were kept and
    examined (the problem is there so that the anomaly is seen)."""
    if problem.kind == ProblemKind.DUPLICATE:
        return False
    if budget.is_memory_problem(problem):  # the blob was given up, whatever the stage
        return True
    return not (problem.stage == Stage.IDENTIFY and problem.kind == ProblemKind.LIMIT)


def _now(options: ScanOptions) -> str | None:
    return None if options.reproducible else datetime.now(UTC).isoformat(timespec="seconds")


def _elapsed(options: ScanOptions, started: float) -> float:
    return 0.0 if options.reproducible else round(time.monotonic() - started, 3)


class _Views:
    """What parts inference reads of each leaf blob: its facts and name, and a bounded text
    sample of the few blobs that can select a part (configs and scripts, and binaries the
    `parts__anchors` rule found a boot loader or SDK string in).

    Lazy: a view, and its sample, is made when inference reaches it and dropped after, so the
    samples of 100,000 configs (90 MB of text) never all exist at once. A sample is read once
    per distinct blob: one whose content is at several paths is kept until its last path.
    `signals` takes the signals the analyser found at a blob's path (`blobs.AtPath`, by path
    chain: a worker at the path it analysed, the main process at the others as the analysis
    came in): no view is made of those."""

    def __init__(self, nodes: list[Artifact], by_sha: dict[str, Analysis],
                 at_path: dict[tuple[str, ...], AtPath] | None = None) -> None:
        self.at_path = at_path or {}
        self.nodes: list[tuple[Artifact, Analysis, bool | None]] = []
        self.uses: dict[str, int] = {}
        for node in nodes:
            analysis = by_sha.get(node.sha256)
            if analysis is None or node.children or node.local is None:
                continue
            # the analyser found its signals: no sample is read here (`dtbs` reads facts only)
            textual = None if node.chain in self.at_path else sample_kind(node, analysis)
            self.nodes.append((node, analysis, textual))
            if textual is not None:
                self.uses[node.sha256] = self.uses.get(node.sha256, 0) + 1

    def signals(self) -> Iterator[Signal]:
        """The parts signals of every blob, in order (`parts.inference.combine` adds them up)."""
        samples: dict[str, tuple[str, bool]] = {}  # of blobs with paths still to come
        left = dict(self.uses)
        for entry in self.nodes:
            node = entry[0]
            done = self.at_path.get(node.chain)
            if done is not None:
                yield from done.signals
            else:
                yield from blob_signals(self._view(*entry, samples))
            if node.sha256 in left:
                left[node.sha256] -= 1
                if not left[node.sha256]:
                    samples.pop(node.sha256, None)

    def dtbs(self) -> list[BlobView]:
        """The views of compiled device trees (all `board_collection` reads)."""
        return [self._view(*e, {}) for e in self.nodes if e[1].facts.format == "dtb"]

    @staticmethod
    def _view(node: Artifact, analysis: Analysis, textual: bool | None,
              samples: dict[str, tuple[str, bool]]) -> BlobView:
        if textual is not None and node.sha256 not in samples:
            samples[node.sha256] = text_sample_of(node, textual)
        return parts_view(node, analysis, textual, samples.get(node.sha256))


class _WorkDir:
    """A temporary directory for the extracted tree. On success it is removed in the background
    (`removing`, waited for before the scan returns): unlinking thousands of files can overlap
    with building the report instead of preceding it. On an error it is removed before the
    error propagates."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="provenance-"))
        self.removing: _Removal | None = None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            _remove(self.path)
            return
        self.removing = _Removal(self.path)


class _Removal:
    """A tree being removed beside the rest of the scan. `rm -rf` where there is one: no GIL
    taken from the report being built, and 3 times as fast as shutil.rmtree (8,000 files on
    tmpfs: 0.07 s against 0.21 s); else, or if it cannot start, a thread. `wait` finishes what
    rm left (a directory left unwritable); a scan that fails before waiting waits at exit, so
    no tree stays behind either way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rm: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        rm = shutil.which("rm")
        if rm is not None:
            with contextlib.suppress(OSError):
                self._rm = subprocess.Popen([rm, "-rf", "--", str(path)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self._rm is None:
            # not a daemon: an interrupted or failing report build still leaves no tree behind,
            # since the interpreter joins the thread before it exits
            self._thread = threading.Thread(target=_remove, args=(path,))
            self._thread.start()
        atexit.register(self.wait)

    def wait(self) -> None:
        atexit.unregister(self.wait)
        if self._thread is not None:
            self._thread.join()
        elif self._rm is not None:
            self._rm.wait()
            if os.path.lexists(self.path):
                _remove(self.path)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():  # a member left unwritable: make it writable and try once more
        for parent, dirs, _ in os.walk(path):
            for d in dirs:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(parent, d), 0o700)
        shutil.rmtree(path, ignore_errors=True)


def _input_size(path: Path) -> int:
    """Bytes of the input as the pool sees it: a directory is taken as large (it is walked
    file by file, like an image's members)."""
    try:
        st = path.stat()
    except OSError:
        return 0  # extract reports why
    return 1 << 62 if stat.S_ISDIR(st.st_mode) else st.st_size


def _scan(
    path: Path, sigset: SignatureSet, options: ScanOptions, as_of: date, started: float,
    progress: Progress | None,
) -> ScanResult:
    memory = budget.limit(options.limits.max_memory, options.analysis.jobs)
    clock = cost.Clock(started)  # `extract` includes hashing the input for the cache key
    workdir = _WorkDir()
    with workdir as work, budget.ceiling(memory):
        if progress:
            progress("extract", 0, 1)
        # analysis starts on each blob as soon as the walker has finished it
        analyser = Analyser(sigset, options.analysis, progress)
        try:
            analyser.start(_input_size(path))
            tree, problems = extract(path, work / "x", options.limits, analyser.submit,
                                     options.on_unpack, analyser.digest)
            if tree.opaque and tree.kind in ("unreadable", "special"):
                raise InputError(f"{path}: {tree.opaque}")
            clock.lap("extract")
            nodes = [a for a in tree.walk() if a.local is not None and a.kind != "directory"]
            by_sha = analyser.finish(nodes)
            at_path = analyser.at_path
        except BaseException:
            analyser.abandon()
            raise
        if progress:
            progress("parts", 0, 1)
        views = _Views(nodes, by_sha, at_path)  # read while the extracted tree is still there
        parts = combine(views.signals())
        boards = board_collection(views.dtbs())
        del views
        clock.lap("identify")
        written = (0, 0) if options.reproducible else cost.written(
            (a.local for a in nodes if a.local is not None), work)
        product = tree.kind == "directory" or is_product(a.chain[-1] for a in nodes
                                                         if len(a.chain) > 1)
        all_problems = list(problems)
        for analysis in by_sha.values():
            all_problems.extend(analysis.problems)
        if options.keep_extracted is not None:
            shutil.copytree(work / "x", options.keep_extracted, symlinks=True, dirs_exist_ok=True)
        del nodes
    cleanup = workdir.removing  # the tree goes while the report is built

    def build(artifact: Artifact, is_root: bool = False) -> Component:
        # the analysis of a blob's content (a directory's SHA-256 names its listing, not bytes)
        analysis = (by_sha.get(artifact.sha256)
                    if artifact.local is not None and artifact.kind != "directory" else None)
        facts = analysis.facts if analysis else None
        # resolved where it was analysed when that was at this path; else (a cached analysis,
        # the same content at another path) here
        done = at_path.get(artifact.chain) if analysis else None
        attributions = (done.attributions if done is not None
                        else resolve(facts, analysis.hits, sigset, artifact.path) if analysis
                        else ())
        if artifact.path in boards:  # a distribution's /boot/dtbs: boards it supports
            attributions = supported_board(attributions, artifact.path)
        if is_root and product:  # the device is built with these parts: the input as a whole
            attributions = attributions + part_attributions(parts, sigset)
        children = tuple(build(child) for child in artifact.children)
        # a distribution's package: its vendor-authored parts are upstream contributions
        children = distributed(facts, attributions, children, sigset)
        children = bundled(children, sigset)  # unmarked runtimes beside vendor-made files
        if facts is not None and (facts.purl or facts.name) and children:
            attributions = attributions + contained(attributions, children, sigset)
        # a member name may hold an undecodable byte (a lone surrogate): hash its raw bytes
        ref = "ref-" + hashlib.sha256(
            artifact.path.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        return Component(
            ref=ref,
            chain=artifact.chain,
            name=(facts.name if facts and facts.name else None) or artifact.name,
            kind=artifact.kind,
            sha256=artifact.sha256,
            size=artifact.size,
            type=_component_type(artifact, facts, is_root),
            version=facts.version if facts else None,
            purl=facts.purl if facts else None,
            supplier=facts.supplier if facts else None,
            facts=facts,
            attributions=attributions,
            manufacturer=manufacturer(attributions, sigset),
            opaque=artifact.opaque,
            children=children,
        )

    root = build(tree, is_root=True)
    # the Artifacts and analyses go: what the report needs is in the Components now
    del tree
    by_sha.clear()
    at_path.clear()
    clock.lap("attribute")
    if progress:
        progress("policy", 0, 1)
    components = root.walk()
    findings = evaluate(components, sigset, options.policies, as_of,
                        contributed_as_made_by=options.contributed_as_made_by)
    if options.waivers:
        findings = apply_waivers(findings, components, options.waivers, as_of)
    verdicts = rollup(root, findings)
    opaque = sum(1 for c in components if c.opaque)
    gaps = [p for p in all_problems if _leaves_a_gap(p)]
    coverage = Coverage.PARTIAL if opaque or gaps else Coverage.COMPLETE
    files = [c for c in components if c.kind != "directory"]
    stats = Stats(
        files=len(files),
        bytes=sum(c.size for c in files),
        opaque=opaque,
        seconds=_elapsed(options, started),
    )
    vendors = {a.vendor: sigset.vendors[a.vendor].maker() for c in components
               for a in c.attributions if a.vendor in sigset.vendors}
    vendors.update({p.maker: part_maker(p.maker, sigset) for p in parts
                    if p.maker not in vendors})
    clock.lap("policy")
    if cleanup is not None:
        cleanup.wait()
    return ScanResult(
        root=root,
        findings=findings,
        problems=tuple(sorted(set(all_problems), key=lambda p: (p.location, p.message))),
        coverage=coverage,
        verdict=verdicts.get(root.ref, Verdict.CLEAR),
        verdicts=verdicts,
        stats=stats,
        tool_version=__version__,
        signature_digest=sigset.digest,
        policies=options.policies,
        started=_now(options),
        vendors=vendors,
        as_of=as_of.isoformat(),
        parts=parts,
        cost=None if options.reproducible else cost.measure(clock, written),
    )
