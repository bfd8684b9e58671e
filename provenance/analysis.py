"""Identify and scan every distinct blob once: the expensive part of a scan.

`analyse` is the unit of work (one blob, by SHA-256); `analyse_all` runs it for a whole tree.
Rendering, policy and tree building happen elsewhere; this module only learns facts and hits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from provenance.attribute.yara_scan import Hit, scan_file
from provenance.extract.base import HEAD_SIZE
from provenance.identify import identify
from provenance.model import Artifact, Facts, Problem
from provenance.signatureset import SignatureSet

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


def analyse_all(
    nodes: Sequence[Artifact], sigset: SignatureSet, options: AnalysisOptions,
    progress: Progress | None = None,
) -> dict[str, Analysis]:
    """Analysis per distinct SHA-256 of the given blobs (each analysed once)."""
    out: dict[str, Analysis] = {}
    for done, artifact in enumerate(nodes):
        if progress:
            progress("analyse", done, len(nodes))
        if artifact.sha256 not in out:
            out[artifact.sha256] = analyse(artifact, sigset)
    return out
