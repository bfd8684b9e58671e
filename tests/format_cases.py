"""What the format-coverage meta-test needs of a format or a reader, and where it finds it.

A format (`provenance.extract.EXTRACTORS`) or reader (`provenance.identify.IDENTIFIERS`) needs a
positive fixture and a look-alike negative. Most are tabled in tests/test_format_coverage.py; a
new one may instead declare them in its own test module, as module-level dicts

    FORMAT_CASES = {"<format name>": (Positive(...), Negative(...))}
    READER_CASES = {"<identifier name>": (Reads(...), Negative(...))}

which `declared()` finds (every tests/test_*.py that assigns one), so adding a format touches its
module and its test, not a shared table. A firmware positive built with `firmware()` is also a
seed for the parser fuzzer (tests/test_extract_firmware_fuzz.py).
"""

from __future__ import annotations

import functools
import importlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from extract_fixtures import Built, sha

ABSENT, REFUSED = "absent", "refused"
TESTS = Path(__file__).resolve().parent

Seed = Callable[[], tuple[bytes, dict[str, bytes]]]  # (image, member name -> member bytes)


def junk(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


@dataclass(frozen=True)
class Positive:
    build: Callable[[Path], Built]
    top: bool = False  # compare the container's own members (firmware), not the leaves
    seed: Seed | None = None  # the image in memory, for the fuzzer (firmware)


@dataclass(frozen=True)
class Negative:
    make: Callable[[Path], Path]
    expect: str  # ABSENT or REFUSED
    what: str  # the look-alike, in words
    xfail: str | None = None  # a known misdetection, reported, not fixed here


@dataclass(frozen=True)
class Reads:
    """A reader's positive: the file, and facts (key -> one value it must have) that make it."""

    make: Callable[[Path], Path]
    format: str
    facts: dict[str, str]


def firmware(make: Seed, name: str = "fw.bin") -> Positive:
    """A container built in memory: its top-level members must come out exactly."""

    def build(tmp: Path) -> Built:
        data, members = make()
        return Built(write(tmp, name, data), {k: sha(v) for k, v in members.items()})

    return Positive(build, top=True, seed=make)


def magic(name: str, head: bytes, size: int = 4096, at: int = 0) -> Callable[[Path], Path]:
    """The format's magic at `at` over pseudo-random bytes that are not its structure."""

    def make(tmp: Path) -> Path:
        data = bytearray(junk(size, len(head) + at))
        data[at:at + len(head)] = head
        return write(tmp, name, bytes(data))

    return make


def data(name: str, content: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    return lambda tmp: write(tmp, name, content() if callable(content) else content)


_DECLARES = re.compile(r"^(FORMAT_CASES|READER_CASES)\b", re.M)


@functools.cache
def declared(kind: str) -> dict[str, tuple[object, Negative]]:
    """The cases `kind` ("FORMAT_CASES" or "READER_CASES") that test modules declare, by name.
    A name declared twice fails, as a name also tabled centrally does (in the meta-test)."""
    found: dict[str, tuple[object, Negative]] = {}
    for path in sorted(TESTS.glob("test_*.py")):
        if kind not in _DECLARES.findall(path.read_text(encoding="utf-8")):
            continue
        module = importlib.import_module(path.stem)  # the module pytest imported, if it did
        for name, case in getattr(module, kind).items():
            if name in found:
                raise ValueError(f"{path.name}: {kind} {name!r} is declared twice")
            found[name] = case
    return found
