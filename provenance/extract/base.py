"""What a format handler is: a name, a detector over the first bytes, and an extractor."""

from __future__ import annotations

import errno
import importlib
import os
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import ClassVar

from provenance.extract.saferoot import HEAD_SIZE as HEAD_SIZE
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind


def by_order(path: Sequence[str], package: str, declares: str) -> list[ModuleType]:
    """The public modules of a package that declare `declares` (`FORMATS`, `IDENTIFIER`), by
    their `ORDER`: each module registers itself, as unblob finds its handlers. Order matters
    where detections overlap, so it is explicit: a missing or shared ORDER is an error, never a
    fall-back to file names."""
    found: dict[int, ModuleType] = {}
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if not hasattr(module, declares):
            continue
        order = getattr(module, "ORDER", None)
        if not isinstance(order, int):
            raise TypeError(f"{module.__name__} declares {declares} but no integer ORDER")
        if order in found:
            raise ValueError(f"{module.__name__} and {found[order].__name__} share ORDER {order}")
        found[order] = module
    return [found[k] for k in sorted(found)]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    doc: str  # one line for the README's format table
    detect: Callable[[bytes, str], bool]  # (first HEAD_SIZE bytes, file name) -> is it this format?
    # write members through the SafeRoot; raise on failure
    extract: Callable[[Path, SafeRoot], None]
    # Optional second look at the whole file, for formats whose marker lies past the head
    # (ISO 9660, NSIS, Inno Setup, MSI inside any OLE file); called only when `detect` accepted
    # the head.
    confirm: Callable[[Path], bool] | None = None
    # Nothing of its own worth searching once its members are out (archives, compressions,
    # filesystems, plain encodings, the carver, whose gaps become members): its bytes are its
    # members' bytes (or compressed noise), so YARA over the whole container would find the
    # members' strings again and pin them on the container. False for formats with headers or
    # code of their own (vendor firmware containers, FIT, Android boot, UEFI, installers, MSI).
    through_members: bool = False


class FormatProblem(Exception):
    """A container that cannot be opened for a known reason; `kind` goes into the Problem."""

    kind: ClassVar[ProblemKind] = ProblemKind.ERROR


class ToolMissing(FormatProblem):
    kind = ProblemKind.TOOL_MISSING

    def __init__(self, program: str) -> None:
        super().__init__(f"external program {program!r} is not installed")
        self.program = program


class Unsupported(FormatProblem):
    kind = ProblemKind.UNSUPPORTED


class Encrypted(FormatProblem):
    kind = ProblemKind.ENCRYPTED


def uniform_byte(path: Path, chunk: int = 1 << 20) -> int | None:
    """The byte a file is made of when it is one repeated byte (erased flash, padding), else
    None. Read in chunks and never mapped, so a 1 GiB run costs neither memory nor a scan;
    stops at the first other byte (most files: within their first 4 KiB). Of a sparse file of
    zeros (SafeRoot writes zero runs as holes) only the data is read: its holes are zeros."""
    with open(path, "rb") as f:
        head = f.read(4096)
        if not head or head.count(head[:1]) != len(head):
            return None
        run = head[:1] * chunk
        for start, end in _extents(f.fileno()) if head[0] == 0 else [(len(head), None)]:
            f.seek(start)
            while (end is None or f.tell() < end) and (data := f.read(
                    chunk if end is None else min(chunk, end - f.tell()))):
                if data != run[: len(data)]:
                    return None
    return head[0]


def _extents(fd: int) -> list[tuple[int, int | None]]:
    """(start, end) of the data of a file, its holes left out (the whole file where the
    filesystem does not say)."""
    size = os.fstat(fd).st_size
    out: list[tuple[int, int | None]] = []
    pos = 0
    try:
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # nothing but a hole from here to the end
                    break
                raise
            pos = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, pos))
    except (OSError, AttributeError):  # no SEEK_DATA here: read it all
        return [(0, None)]
    return out

