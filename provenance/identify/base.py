"""What an identifier is, and the small helpers every reader shares.

Readers are hostile-input code. They collect facts into a `Sink` as they go so that whatever was
read before a failure is kept, and every loop over file content is bounded by the limits below.
"""

from __future__ import annotations

import functools
import mmap
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from provenance.model import Fact, Facts, Problem, ProblemKind, Stage

MAX_SYMBOLS = 4096  # exported/imported names kept per binary: enough for SDK families, bounded
MAX_SCAN = 8 << 20  # bytes of a blob the content scanners (copyright, certificates) look at
MAX_MEMBER = 4 << 20  # bytes read from one archive member (manifest, signature file)
MAX_VALUE = 300  # characters kept per fact value
MAX_FACTS = 20_000  # facts kept per blob, whatever the format


@dataclass(frozen=True, slots=True)
class Identifier:
    name: str
    detect: Callable[[bytes, str], bool]  # (head, file name) -> is it mine?
    read: Callable[[Path, str], tuple[Facts, tuple[Problem, ...]]]  # (file, path chain)
    # the Facts.format values `read` writes besides `name` (a package zip may be an "apk")
    formats: frozenset[str] = frozenset()
    # Whether the content scanners (copyright statements, X.509 certificates, MAC addresses)
    # also read the blobs of these formats. Yes for executables, whose strings carry the
    # vendor's statements; no for packages, manifests and containers, which declare what they
    # are and whose members are read one by one.
    content_scan: bool = False


@dataclass(slots=True)
class Sink:
    """Facts and problems collected for one blob, tagged with its path chain."""

    where: str
    facts: list[Fact] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, key: str, value: object, at: str = "") -> None:
        """Record `key = value` found at `at` ("#field" or "@0xOFFSET", appended to the chain)."""
        text = clean(value)
        if text and len(self.facts) < MAX_FACTS:
            # interned: a blob's facts share a few locations, and pickling to the main process
            # keeps one copy each (a quarter of the analysis results' memory)
            self.facts.append(Fact(key, text, sys.intern(self.where + at)))

    def add_all(self, key: str, values: Iterable[str], at: str = "") -> None:
        """`add` of each value, the location made once: a library has thousands of symbols,
        and a plain name (printable, no space, short) is its own `clean` rendering."""
        where = sys.intern(self.where + at)
        room = MAX_FACTS - len(self.facts)
        for value in values:
            if room <= 0:
                return
            text = (value if value.isprintable() and " " not in value
                    and len(value) <= MAX_VALUE else clean(value))
            if text:
                self.facts.append(Fact(key, text, where))
                room -= 1

    def problem(self, message: str, kind: ProblemKind = ProblemKind.CORRUPT) -> None:
        if len(self.problems) < 100:
            self.problems.append(Problem(self.where, Stage.IDENTIFY, message[:300], kind))

    def result(self, fmt: str, **declared: str | None) -> tuple[Facts, tuple[Problem, ...]]:
        kept = {k: clean(v) or None for k, v in declared.items()}
        return Facts(fmt, items=tuple(self.facts), **kept), tuple(self.problems)


def clean(value: object, limit: int = MAX_VALUE) -> str:
    """A one-line, bounded, printable rendering of a value read from hostile input."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value)[: limit * 2]
    if not text.isprintable():  # the per-character pass only when needed (it is 10x slower)
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:limit]


def at(offset: int) -> str:
    return f"@0x{offset:x}"


@contextmanager
def mapped(path: Path, limit: int = MAX_SCAN) -> Iterator[bytes | mmap.mmap]:
    """The first `limit` bytes of a file, memory-mapped when large (never read whole)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            yield b""
            return
        if size <= 1 << 20:
            f.seek(0)
            yield f.read(limit)
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            yield mm if size <= limit else mm[:limit]


Reader = Callable[[Path, str], tuple[Facts, tuple[Problem, ...]]]


def lief_reader(read: Reader) -> Reader:
    """A reader that parses with LIEF: imported lazily (it costs ~280 ms), its logging on
    hostile input silenced, and its warning on an enum value it does not know (a hostile
    header's class or type: the number is kept as the fact) kept off the terminal."""

    @functools.wraps(read)
    def quiet(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
        import lief

        lief.logging.disable()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return read(path, where)

    return quiet


def enum_name(value: object) -> str:
    return str(value).rsplit(".", 1)[-1]
