"""Intel HEX and Motorola S-record text images, converted to binary.

Records are read line by line (bounded line length). Data is placed at its absolute address;
when the used span is small it becomes one image filled with 0xFF (erased flash), otherwise each
contiguous segment is its own member named by its start address, so a stray high address cannot
make us write gigabytes of padding.
"""

from __future__ import annotations

import re
from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.firmware._io import Corrupt
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAX_LINE = 1024
MAX_SPAN = 16 << 20  # one padded image up to this span; segments beyond
MAX_SEGMENTS = 4096
_IHEX = re.compile(rb"^:[0-9A-Fa-f]{10,}\r?$")
_SREC = re.compile(rb"^S[0-9][0-9A-Fa-f]{6,}\r?$")


def _looks(head: bytes, pattern: re.Pattern[bytes]) -> bool:
    lines = head.split(b"\n")
    if len(lines) > 1 and len(head) == 4096:
        lines = lines[:-1]  # the last line of a full head may be cut
    lines = [ln for ln in lines if ln.strip()]
    return bool(lines) and all(pattern.match(ln.rstrip(b"\r") or b"") for ln in lines[:64])


def detect_ihex(head: bytes, name: str) -> bool:
    return head.startswith(b":") and _looks(head, _IHEX)


def detect_srec(head: bytes, name: str) -> bool:
    return head.startswith(b"S") and _looks(head, _SREC)


class Image:
    """Sparse memory image: segments keyed by start address, merged when adjacent."""

    def __init__(self, out: SafeRoot) -> None:
        self.out = out
        self.segments: dict[int, bytearray] = {}
        self.last: int | None = None  # start of the segment written last (the common case)

    def put(self, addr: int, data: bytes) -> None:
        last = self.last
        if last is not None and last + len(self.segments[last]) == addr:
            self.segments[last] += data
            return
        if len(self.segments) >= MAX_SEGMENTS:
            raise Corrupt(f"more than {MAX_SEGMENTS} discontiguous segments")
        end = next((s for s in self.segments if s + len(self.segments[s]) == addr), None)
        if end is not None:
            self.segments[end] += data
            self.last = end
        else:
            self.segments[addr] = bytearray(data)
            self.last = addr

    def emit(self) -> None:
        if not self.segments:
            raise Corrupt("no data records")
        starts = sorted(self.segments)
        lo = starts[0]
        hi = max(s + len(self.segments[s]) for s in starts)
        if hi - lo <= MAX_SPAN:
            buf = bytearray(b"\xff") * (hi - lo)
            for s in starts:
                buf[s - lo : s - lo + len(self.segments[s])] = self.segments[s]
            self.out.write_bytes(f"0x{lo:08x}.bin", bytes(buf))
            return
        for s in starts:
            self.out.write_bytes(f"0x{s:08x}.bin", bytes(self.segments[s]))


def _lines(src: Path, out: SafeRoot) -> list[tuple[int, bytes]]:
    """Non-empty lines with their numbers; overlong lines are a Problem and skipped."""
    result = []
    with open(src, "rb") as f:
        for no, line in enumerate(iter(lambda: f.readline(MAX_LINE + 1), b""), 1):
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                out.problem(f"line {no} longer than {MAX_LINE} bytes", ProblemKind.CORRUPT)
                while (rest := f.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                continue
            line = line.strip()
            if line:
                result.append((no, line))
            out.check_time()
    return result


def _bytes(no: int, hexpart: bytes, out: SafeRoot) -> bytes | None:
    try:
        return bytes.fromhex(hexpart.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        out.problem(f"line {no}: not hexadecimal", ProblemKind.CORRUPT)
        return None


def extract_ihex(src: Path, out: SafeRoot) -> None:
    image = Image(out)
    base = 0
    bad = 0
    for no, line in _lines(src, out):
        raw = _bytes(no, line[1:], out) if line.startswith(b":") else None
        if raw is None or len(raw) < 5 or len(raw) != raw[0] + 5:
            bad += 1
            continue
        if sum(raw) & 0xFF:
            out.problem(f"line {no}: checksum mismatch", ProblemKind.CORRUPT)
        n, addr, rtype, data = raw[0], int.from_bytes(raw[1:3], "big"), raw[3], raw[4 : 4 + raw[0]]
        if rtype == 0 and n:
            image.put(base + addr, data)
        elif rtype == 1:
            break
        elif rtype == 2 and n == 2:
            base = int.from_bytes(data, "big") << 4
        elif rtype == 4 and n == 2:
            base = int.from_bytes(data, "big") << 16
    if bad:
        out.problem(f"{bad} malformed record(s) skipped", ProblemKind.CORRUPT)
    image.emit()


_SREC_ADDR = {"1": 2, "2": 3, "3": 4}  # data records and their address width


def extract_srec(src: Path, out: SafeRoot) -> None:
    image = Image(out)
    bad = 0
    for no, line in _lines(src, out):
        rtype = chr(line[1]) if len(line) > 1 and line[:1] == b"S" else ""
        raw = _bytes(no, line[2:], out) if rtype else None
        if raw is None or not raw or len(raw) != raw[0] + 1:
            bad += 1
            continue
        if (sum(raw) & 0xFF) != 0xFF:
            out.problem(f"line {no}: checksum mismatch", ProblemKind.CORRUPT)
        width = _SREC_ADDR.get(rtype)
        if width is not None and raw[0] >= width + 1:
            addr = int.from_bytes(raw[1 : 1 + width], "big")
            data = raw[1 + width : -1]
            if data:
                image.put(addr, data)
    if bad:
        out.problem(f"{bad} malformed record(s) skipped", ProblemKind.CORRUPT)
    image.emit()


IHEX = Format("ihex", "Intel HEX, converted to binary", detect_ihex, extract_ihex,
              through_members=True)
SREC = Format("srec", "Motorola S-record, converted to binary", detect_srec, extract_srec,
              through_members=True)

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (IHEX, SREC)
ORDER = 200
