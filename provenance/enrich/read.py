"""The inputs of `provenance enrich`: the SBOM (read by the reader identification uses,
`provenance.identify.sbom_read`, so one reader serves both paths) and the `--artifacts`
folder, whose files are matched to components by SHA-256 (else by a unique file name) and
analysed as a scan analyses a blob.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from provenance.identify.sbom_read import SbomError, SbomInput, looks_like_sbom, read_sbom
from provenance.model import Artifact, Facts, Problem
from provenance.signatureset import SignatureSet

__all__ = ["MAX_ARTIFACTS", "Artifacts", "SbomError", "SbomInput", "looks_like_sbom",
           "read_sbom"]

MAX_ARTIFACTS = 100_000


class Artifacts:
    """The `--artifacts` folder: its files by SHA-256 and by name, each analysed once."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SbomError(f"{root}: --artifacts is not a directory")
        self.root = root
        self.by_sha: dict[str, Path] = {}
        self.by_name: dict[str, list[Path]] = defaultdict(list)
        self.analysed: dict[Path, tuple[Facts, tuple[Any, ...], str]] = {}
        self.problems: list[Problem] = []  # what analysing the files found wrong, once each
        files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        for path in files[:MAX_ARTIFACTS]:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            self.by_sha.setdefault(digest.hexdigest(), path)
            self.by_name[path.name].append(path)

    def find(self, sha256: str | None, file_names: tuple[str, ...]) -> Path | None:
        """The file a component names by hash, else by a file name only one file has."""
        path = self.by_sha.get(sha256 or "")
        if path is None:
            candidates = {p for name in file_names for p in self.by_name.get(name, [])}
            path = candidates.pop() if len(candidates) == 1 else None
        return path

    def analyse(self, path: Path, sigset: SignatureSet) -> tuple[Facts, tuple[Any, ...], str]:
        """(facts, YARA hits, path relative to the folder) for one file, analysed once."""
        if path not in self.analysed:
            from provenance.pipeline.blobs import analyse

            rel = path.relative_to(self.root).as_posix()
            data_sha = hashlib.sha256(path.read_bytes()).hexdigest()
            # facts found inside say where they are: "artifacts/x.whl!/x.dist-info/METADATA"
            artifact = Artifact((f"{self.root.name}/{rel}",), data_sha, path.stat().st_size,
                                "file", 0, local=path)
            result = analyse(artifact, sigset)
            self.analysed[path] = (result.facts, result.hits, rel)
            self.problems.extend(result.problems)
        return self.analysed[path]
