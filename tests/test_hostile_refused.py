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
from provenance.extract import Limits, extract
from provenance.model import Coverage
from provenance.pipeline import AnalysisOptions

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


# -- refuse before writing, and unpack once -------------------------------------------------------

def cab_bytes(files: list[Member], folders: int = 1, share: bool = False) -> bytes:
    """A stored (uncompressed) cabinet, by hand: every file in folder 0, `folders` folders;
    with `share`, every folder points at folder 0's data (the overlapping-folder bomb)."""
    data = b"".join(d for _, d in files)
    blocks = [data[i:i + 32768] for i in range(0, len(data), 32768)] or [b""]
    entries = b""
    at = 0
    for name, content in files:
        entries += struct.pack("<IIHHHH", len(content), at, 0, 0x5821, 0, 0x20) + name.encode()
        entries += b"\0"
        at += len(content)
    off_files = 36 + 8 * folders
    off_data = off_files + len(entries)
    payload = b"".join(struct.pack("<IHH", 0, len(b), len(b)) + b for b in blocks)
    table = b""
    for i in range(folders):
        start = off_data if share or i == 0 else off_data + len(payload) * i
        table += struct.pack("<IHH", start, len(blocks), 0)
    size = off_data + len(payload) * (1 if share else folders)
    head = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, size, 0, off_files, 0, 3, 1, folders,
                       len(files), 0, 0, 0)
    return head + table + entries + payload * (1 if share else folders)


def test_cab_folders_sharing_data_are_refused_before_decoding(tmp_path: Path) -> None:
    honest = tmp_path / "honest.cab"
    honest.write_bytes(cab_bytes([(MARKER.replace("/", "\\"), LIBMPI), ("b.txt", b"bee")]))
    tree, problems = extract(honest, tmp_path / "w1", LIMITS)
    assert {"usr/lib/libmpi.so", "b.txt"} <= _names(tree), problems
    bomb = tmp_path / "bomb.cab"
    bomb.write_bytes(cab_bytes([("a.bin", bytes(60_000))], folders=500, share=True))
    tree, problems = extract(bomb, tmp_path / "w2", LIMITS)
    assert tree.opaque and "share their data" in tree.opaque


def test_cab_declared_folder_data_past_the_bound_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.cab"
    path.write_bytes(cab_bytes([("a.bin", bytes(3 * MiB))]))
    limits = Limits(max_total_bytes=2 * MiB)
    tree, problems = extract(path, tmp_path / "w", limits)
    assert tree.opaque and f"declares {3 * MiB} bytes of folder data" in tree.opaque
    assert [p.kind for p in problems] == ["limit"]


def test_identical_containers_are_unpacked_once(tmp_path: Path) -> None:
    """Eight copies of one zip inside a zip: one is unpacked and written, all eight appear in
    the tree with their members, under their own paths."""
    inner = tmp_path / "inner.zip"
    _zip(inner, [(MARKER, LIBMPI), ("zeros.bin", bytes(8 * MiB))])
    outer = tmp_path / "outer.zip"
    _zip(outer, [(f"copy{i}.zip", inner.read_bytes()) for i in range(8)])
    work = tmp_path / "work"
    tree, problems = extract(outer, work, LIMITS)
    copies = [c for c in tree.children if c.kind == "zip"]
    assert len(copies) == 8
    for i, copy in enumerate(copies):
        assert [c.chain for c in copy.children] == [(outer.name, f"copy{i}.zip", MARKER)]
    # the bomb member of each copy is reported under that copy's path, but written nowhere
    limit = sorted(p.location for p in problems if p.kind == "limit")
    assert limit == [f"outer.zip!/copy{i}.zip!/zeros.bin" for i in range(8)]
    written = [p for p in work.rglob("*") if p.is_file()]
    assert sum(p.name == "libmpi.so" for p in written) == 1
    assert len(list(work.iterdir())) == 2  # the outer zip's tree and one inner zip's


def test_7z_member_refused_on_its_declared_size_is_not_decoded(tmp_path: Path) -> None:
    """The member's packed data is scrambled: decoding it at all would be a corrupt-data
    Problem; refused on its declared size, it is never decoded, so the refusal is all."""
    py7zr = pytest.importorskip("py7zr")
    path = tmp_path / "one.7z"
    with py7zr.SevenZipFile(path, "w", filters=[{"id": py7zr.FILTER_LZMA2}]) as archive:
        archive.writestr(os.urandom(3 * MiB), "random.bin")
    data = bytearray(path.read_bytes())
    data[32 + MiB:32 + MiB + 4096] = os.urandom(4096)  # packed streams follow the 32-byte start
    path.write_bytes(bytes(data))
    _tree, problems = extract(path, tmp_path / "w", LIMITS)
    assert [p.message for p in problems] == [
        f"declared size {3 * MiB} bytes is over the member limit ({2 * MiB} bytes); "
        "refused before writing"]
    _tree, problems = extract(path, tmp_path / "w2", Limits())  # decoded: the damage shows
    assert [p.kind for p in problems] == ["corrupt"]


def test_copies_of_copies_count_against_the_file_limit(tmp_path: Path) -> None:
    """42.zip's shape, small: 8 copies per layer, 4 layers (4,096 leaves if all listed). Each
    reused copy counts its blobs against the file limit, so the tree stays within it."""
    data = b"leaf"
    for layer in range(4):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_LZMA) as zf:
            for i in range(8):
                zf.writestr(f"l{layer}-{i}" + (".zip" if layer else ".txt"), data)
        data = buf.getvalue()
    path = tmp_path / "copies.zip"
    path.write_bytes(data)
    limits = Limits(max_files=300)
    tree, problems = extract(path, tmp_path / "work", limits)
    assert len(tree.walk()) <= limits.max_files
    assert any("already unpacked; not listed again" in p.message for p in problems)
    assert len(problems) <= limits.max_files


def test_nsis_member_over_the_limit_does_not_stop_the_installer(tmp_path: Path) -> None:
    """7z stops at the first file it may not write; the installer's oversized first member is
    refused on its listed size and left out, so the library after it is still unpacked."""
    import shutil
    import subprocess

    if not (shutil.which("makensis") and shutil.which("7z")):
        pytest.skip("needs makensis and 7z")
    with open(tmp_path / "zeros.bin", "wb") as f:
        f.truncate(3 * MiB)
    (tmp_path / "libmpi.so").write_bytes(LIBMPI)
    (tmp_path / "b.nsi").write_text(
        'OutFile "setup.exe"\nSetCompressor /SOLID lzma\nInstallDir "$PROGRAMFILES\\B"\n'
        'RequestExecutionLevel user\nSection\n SetOutPath "$INSTDIR"\n File "zeros.bin"\n'
        ' File "libmpi.so"\nSectionEnd\n')
    subprocess.run(["makensis", "-V1", "b.nsi"], cwd=tmp_path, check=True, capture_output=True)
    tree, problems = extract(tmp_path / "setup.exe", tmp_path / "work", LIMITS)
    assert "libmpi.so" in _names(tree)
    assert [p.message for p in problems] == [
        f"declared size {3 * MiB} bytes is over the member limit ({2 * MiB} bytes); refused "
        "before writing"]
