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

import codecs
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from provenance.model import Coverage, ScanResult, Verdict
from provenance.pipeline.cache import Key, ResultCache

PIECE = 1 << 20  # bytes decompressed and written at a time: an 80 MB report never exists whole


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

    def recall(self, formats: list[str]) -> tuple[Outcome, list[Iterator[str]]] | None:
        """The outcome and the text of each format (in pieces, decompressed as they are
        written), or None unless every one is remembered and readable."""
        keys = [self._key(fmt) for fmt in formats]
        found = self.cache.get_many(keys)
        if any(key not in found for key in keys):
            return None
        blobs = [found[key] for key in keys]
        try:
            outcomes = {_outcome(blob) for blob in blobs}
        except (ValueError, KeyError, TypeError, zlib.error):
            return None  # damaged, or another version's: rendered again, and replaced
        if len(outcomes) != 1:
            return None
        return outcomes.pop(), [_text(blob) for blob in blobs]

    def record(self, fmt: str, pieces: Iterable[str], outcome: Outcome) -> Iterator[str]:
        """`pieces` as they come, kept for `fmt` once the last has been taken (a report whose
        writing failed half-way is not kept)."""
        packer = zlib.compressobj(1)
        head = json.dumps({"verdict": outcome.verdict.value, "coverage": outcome.coverage.value,
                           "problems": outcome.problems})
        out = [packer.compress(head.encode() + b"\n")]
        for piece in pieces:
            out.append(packer.compress(piece.encode("utf-8")))
            yield piece
        out.append(packer.flush())
        self.cache.put(self._key(fmt), b"".join(out))

    def flush(self) -> None:
        self.cache.flush()


def _outcome(blob: bytes) -> Outcome:
    """The header line of an entry, once the whole entry is known to decompress (a damaged one
    must fail here, not half-way through writing a report)."""
    pieces = _pieces(blob, PIECE)
    line, newline, _ = next(pieces).partition(b"\n")
    if not newline:
        raise ValueError("no header")
    for _ in pieces:
        pass
    head = json.loads(line)
    return Outcome(Verdict(head["verdict"]), Coverage(head["coverage"]), int(head["problems"]))


def _pieces(blob: bytes, size: int) -> Iterator[bytes]:
    """The decompressed entry, `size` bytes at a time."""
    unpack = zlib.decompressobj()
    data = unpack.decompress(blob, size)
    while data:
        yield data
        data = unpack.decompress(unpack.unconsumed_tail, size) if unpack.unconsumed_tail else b""
    yield unpack.flush()
    if not unpack.eof:
        raise zlib.error("truncated entry")


def _text(blob: bytes) -> Iterator[str]:
    """The report after the header line, in pieces of up to PIECE bytes of UTF-8."""
    decode = codecs.getincrementaldecoder("utf-8")()
    header = True
    for data in _pieces(blob, PIECE):
        if header:
            data = data.partition(b"\n")[2]
            header = False
        if data:
            yield decode.decode(data)
    rest = decode.decode(b"", final=True)
    if rest:
        yield rest
