"""The reports of a `--reproducible` scan, remembered in the result cache beside its ScanResult.

Such a report leaves out the scan's time, duration and cost, so it is a function of the
whole-scan cache key alone (the input's bytes and name, the options that change the result, the
signature set, the tool build: `pipeline._scan_key`) and of its format. Each one written is kept,
compressed, under that key and its format, with the outcome the exit code needs. A warm
`scan --quiet --reproducible` of an unchanged input then writes them back as they were written,
without decoding the cached ScanResult or rendering it again, and without reading the signature
set: the command finds them by the set's digest (`signatureset.digest`, a hash of its files) and
options it has not yet checked, since a scan is remembered only once it ran with valid ones. What
is left is the input's hash, one look-up and the writes (7,140 files: 1.2 s became 0.5 to 0.7 s,
most of it starting the interpreter and importing).

The command asks for it only when it needs nothing but the reports and the exit code: no summary
(`--quiet`), no `--facts`, no `--vex-out`. Everything else decodes the ScanResult as before. An
entry that cannot be read is a miss; the scan goes on as without it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from provenance import packed
from provenance.model import Coverage, ScanResult, Verdict
from provenance.pipeline.cache import Key, ResultCache


class Outcome(NamedTuple):
    """What the exit code needs of a scan besides its reports."""

    verdict: Verdict
    coverage: Coverage
    problems: int

    @classmethod
    def of(cls, result: ScanResult) -> Outcome:
        return cls(result.verdict, result.coverage, len(result.problems))


@dataclass(frozen=True)
class Memo:
    """The remembered reports of one reproducible scan (`key`: the whole scan's cache key)."""

    cache: ResultCache
    key: Key

    def _key(self, fmt: str) -> Key:
        sha, context = self.key
        return sha, f"{context}:report:{fmt}"

    def entries(self, formats: list[str]) -> list[bytes] | None:
        """The packed entry of each format (`provenance.packed`), or None unless every one is
        remembered."""
        keys = [self._key(fmt) for fmt in formats]
        found = self.cache.get_many(keys)
        if any(key not in found for key in keys):
            return None
        return [found[key] for key in keys]

    def recall(self, formats: list[str]) -> tuple[Outcome, list[bytes]] | None:
        """The outcome and the packed entry of each format, every one known to decompress
        (`packed.text` gives the report in pieces), or None unless every one is remembered and
        readable."""
        blobs = self.entries(formats)
        if blobs is None:
            return None
        try:
            outcomes = {_outcome(packed.head(blob)) for blob in blobs}
        except (ValueError, KeyError, TypeError, zlib.error):
            return None  # damaged, or another version's: rendered again, and replaced
        if len(outcomes) != 1:
            return None
        return outcomes.pop(), blobs

    def record(self, fmt: str, pieces: Iterable[str], outcome: Outcome) -> Iterator[str]:
        """`pieces` as they come, kept for `fmt` once the last has been taken (a report whose
        writing failed half-way is not kept)."""
        done: list[bytes] = []
        yield from packed.pack({"verdict": outcome.verdict.value,
                                "coverage": outcome.coverage.value,
                                "problems": outcome.problems}, pieces, done)
        self.cache.put(self._key(fmt), done[0])

    def flush(self) -> None:
        self.cache.flush()


def _outcome(head: dict) -> Outcome:
    return Outcome(Verdict(head["verdict"]), Coverage(head["coverage"]), int(head["problems"]))
