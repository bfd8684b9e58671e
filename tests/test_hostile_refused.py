"""A refused member never hides the rest of its container (issue 14, item 6).

Each container holds a member that is refused (a zero-filled bomb, a member over the size
limit, a lying declared size, an over-long name, a path too deep), then a restricted library
(the HiSilicon MPP SDK library of the bundled samples). The library must still be extracted, and
a full scan must still say `restricted`, with the refusal recorded as a Problem.
"""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from generate import ipcam_files

from provenance import pipeline
from provenance.analysis import AnalysisOptions
from provenance.extract import Limits, extract
from provenance.model import Coverage

MiB = 1 << 20
LIMITS = Limits(max_depth=6, max_files=500, max_total_bytes=40 * MiB, max_member_bytes=2 * MiB,
                max_ratio=20.0, ratio_floor=1 * MiB, seconds_per_format=60.0)
MARKER = "usr/lib/libmpi.so"
LIBMPI = ipcam_files()["rootfs/usr/lib/libmpi.so"][0]

Member = tuple[str, bytes]


def _refused(kind: str) -> Member:
    """The member to be refused, as (name, content)."""
    if kind == "bomb":  # zeros: compressed formats make a bomb of it
        return "zeros.bin", bytes(8 * MiB)
    if kind == "big":  # over the member limit, incompressible
        return "big.bin", os.urandom(3 * MiB)
    if kind == "longname":
        return "d/" + "n" * 300 + ".bin", b"long"
    if kind == "deep":
        return "d/" * 1500 + "deep.bin", b"deep"
    raise AssertionError(kind)


def _zip(path: Path, members: list[Member]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)


def _tar(path: Path, members: list[Member], mode: str = "w") -> None:
    with tarfile.open(path, mode, format=tarfile.GNU_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def _newc(name: str, data: bytes) -> bytes:
    raw = name.encode() + b"\0"
    fields = [0, 0o100644, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0]
    head = b"070701" + b"".join(f"{v:08X}".encode() for v in fields) + raw
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def _cpio(path: Path, members: list[Member]) -> None:
    path.write_bytes(b"".join(_newc(n, d) for n, d in members) + _newc("TRAILER!!!", b""))


def _ar(path: Path, members: list[Member]) -> None:
    """GNU ar: names over 15 bytes go to the `//` table."""
    table = b""
    body = b""
    for name, data in members:
        raw = name.encode()
        if len(raw) > 15:
            ref, table = f"/{len(table)}".encode(), table + raw + b"/\n"
        else:
            ref = raw + b"/"
        body += ref.ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2 + b"100644".ljust(8)
        body += str(len(data)).encode().ljust(10) + b"`\n" + data + b"\n" * (len(data) & 1)
    head = b"//".ljust(48) + str(len(table)).encode().ljust(10) + b"`\n" + table
    head += b"\n" * (len(table) & 1)
    path.write_bytes(b"!<arch>\n" + (head if table else b"") + body)


def _7z(path: Path, members: list[Member]) -> None:
    py7zr = pytest.importorskip("py7zr")
    with py7zr.SevenZipFile(path, "w") as archive:
        for name, data in members:
            archive.writestr(data, name)


BUILD: dict[str, Callable[[Path, list[Member]], None]] = {
    "zip": _zip,
    "tar": _tar,
    "tar.gz": lambda p, m: _tar(p, m, "w:gz"),
    "cpio": _cpio,
    "ar": _ar,
    "7z": _7z,
}
CASES = [(fmt, kind) for fmt in BUILD for kind in ("bomb", "big", "longname", "deep")
         # ar's names are file names: no directories, so no deep path
         if not (fmt == "ar" and kind == "deep")]


def _names(tree) -> set[str]:
    return {a.chain[-1] for a in tree.walk()}


@pytest.mark.parametrize(("fmt", "kind"), CASES, ids=[f"{f}-{k}" for f, k in CASES])
def test_members_after_a_refused_one_are_extracted(fmt: str, kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"input.{fmt}"
    BUILD[fmt](path, [_refused(kind), (MARKER, LIBMPI), ("after.txt", b"after")])
    tree, problems = extract(path, tmp_path / "work", LIMITS)
    assert {MARKER, "after.txt"} <= _names(tree), [p.message for p in problems]
    limit = [p for p in problems if p.kind == "limit"]
    assert limit, f"the refusal left no limit Problem: {problems}"
    assert all(len(p.message) <= 500 and str(tmp_path) not in p.message for p in problems)


@pytest.mark.parametrize("fmt", sorted(BUILD))
def test_a_refused_member_does_not_clear_the_verdict(fmt: str, tmp_path: Path, sigset) -> None:
    """The full scan: the restricted library after a bomb still makes the input restricted."""
    path = tmp_path / f"input.{fmt}"
    BUILD[fmt](path, [_refused("bomb"), _refused("longname"), (MARKER, LIBMPI)])
    options = pipeline.ScanOptions(limits=LIMITS, analysis=AnalysisOptions(use_cache=False))
    result = pipeline.scan(path, sigset, options)
    assert result.verdict.value == "restricted"
    assert result.coverage == Coverage.PARTIAL


def test_zip_declared_size_is_refused_before_writing(tmp_path: Path) -> None:
    """A central directory that declares 3 GiB for a small member: refused on the declared
    size, with the size in the Problem; the member after it is still read."""
    path = tmp_path / "liar.zip"
    _zip(path, [("liar.bin", b"small"), (MARKER, LIBMPI)])
    data = bytearray(path.read_bytes())
    cd = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 3 << 30)  # uncompressed size
    path.write_bytes(bytes(data))
    tree, problems = extract(path, tmp_path / "work", LIMITS)
    assert MARKER in _names(tree)
    [refusal] = [p for p in problems if p.kind == "limit"]
    assert f"declared size {3 << 30} bytes" in refusal.message
    assert "liar.bin" not in _names(tree)


def test_a_member_past_the_total_is_refused_and_the_next_one_fits(tmp_path: Path) -> None:
    limits = Limits(max_total_bytes=4 * MiB, max_member_bytes=8 * MiB)
    path = tmp_path / "total.tar"
    _tar(path, [("big.bin", os.urandom(5 * MiB)), (MARKER, LIBMPI)])
    tree, problems = extract(path, tmp_path / "work", limits)
    assert MARKER in _names(tree) and "big.bin" not in _names(tree)
    assert any("would pass the total limit" in p.message for p in problems)


def test_tar_header_of_extreme_length_is_skipped_not_read(tmp_path: Path) -> None:
    """A 4 MiB PAX header and a 4 MiB GNU long name: neither is held in memory nor quoted in a
    Problem; the members they describe are refused and the archive goes on."""
    path = tmp_path / "headers.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("padded.bin")
        info.pax_headers = {"comment": "x" * (4 * MiB)}
        info.size = 4
        tf.addfile(info, io.BytesIO(b"pads"))
        info = tarfile.TarInfo(MARKER)
        info.size = len(LIBMPI)
        tf.addfile(info, io.BytesIO(LIBMPI))
    gnu = tmp_path / "gnu.tar"
    with tarfile.open(gnu, "w", format=tarfile.GNU_FORMAT) as tf:
        info = tarfile.TarInfo("n" * (4 * MiB))
        info.size = 4
        tf.addfile(info, io.BytesIO(b"long"))
        info = tarfile.TarInfo(MARKER)
        info.size = len(LIBMPI)
        tf.addfile(info, io.BytesIO(LIBMPI))
    for case in (path, gnu):
        tree, problems = extract(case, tmp_path / f"work-{case.stem}", LIMITS)
        assert MARKER in _names(tree)
        assert all(len(p.message) <= 500 for p in problems)
        assert any("over the 1048576-byte limit" in p.message for p in problems)


def test_overlapping_zip_entries_are_refused_and_the_rest_read(tmp_path: Path) -> None:
    """Fifield's construction: ten directory entries share one local file; only the first is
    read, the others are named in one Problem; an honest member after them is read."""
    single = tmp_path / "one.zip"
    _zip(single, [("a.bin", bytes(MiB)), ("b.txt", b"honest")])
    data = single.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", data, eocd + 16)[0]
    first_len = 46 + 5
    first, second = data[cd_offset:cd_offset + first_len], data[cd_offset + first_len:eocd]
    copies = [first[:46] + f"c{i}.bin".encode()[-5:] for i in range(1, 10)]
    cd = first + b"".join(copies) + second
    end = bytearray(data[eocd:])
    struct.pack_into("<HHII", end, 8, 11, 11, len(cd), cd_offset)
    path = tmp_path / "overlap.zip"
    path.write_bytes(data[:cd_offset] + cd + bytes(end))
    tree, problems = extract(path, tmp_path / "work", LIMITS)
    names = _names(tree)
    assert {"a.bin", "b.txt"} <= names
    assert not {f"{i}.bin" for i in range(1, 10)} & names
    assert any("9 entries overlap" in p.message for p in problems)
