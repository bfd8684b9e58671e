"""Each registered format, on a fixture built at test time by the format's real tools."""

from __future__ import annotations

import shutil
from pathlib import Path

import inno_fixture
import pytest
from extract_fixtures import BUILDERS, TREE, check, fake_inno, members, need, sha

from provenance.extract import EXTRACTORS, Limits, extract, firmware, installers

# format name -> the tests that cover it: every builder in BUILDERS
FIXTURES: frozenset[str] = frozenset(BUILDERS)
CASES = [(fmt, case) for fmt, cases in BUILDERS.items() for case in cases]




@pytest.mark.parametrize(("fmt", "case"), CASES, ids=[f"{f}-{c}" for f, c in CASES])
def test_format_fixture(fmt: str, case: str, tmp_path: Path) -> None:
    built = BUILDERS[fmt][case](tmp_path)
    work = tmp_path / "work"
    tree, problems = extract(built.path, work)
    assert tree.kind == fmt, f"detected as {tree.kind}"
    assert tree.opaque is None, tree.opaque
    assert not problems, problems
    check(built, tree)


def test_every_format_we_own_has_a_fixture() -> None:
    firmware_names = {f.name for f in firmware.FORMATS}
    ours = {f.name for f in EXTRACTORS} - firmware_names
    missing = ours - FIXTURES
    assert not missing, f"registered extractors without a fixture test: {sorted(missing)}"


def test_format_names_are_unique() -> None:
    names = [f.name for f in EXTRACTORS]
    assert len(names) == len(set(names))


def test_npm_and_sdist_keep_their_layout(tmp_path: Path) -> None:
    built = BUILDERS["tar"]["npm"](tmp_path)
    tree, _ = extract(built.path, tmp_path / "w")
    assert [c.chain for c in tree.children] == [
        ("left-pad-1.3.0.tgz", "package/index.js"), ("left-pad-1.3.0.tgz", "package/package.json")]


def test_innosetup_is_detected_and_opaque_without_innoextract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(installers.shutil, "which", lambda _name: None)
    tree, problems = extract(fake_inno(tmp_path), tmp_path / "w")
    assert tree.kind == "innosetup"
    assert tree.opaque is not None and "innoextract" in tree.opaque
    assert [p.kind for p in problems] == ["tool-missing"]
    assert "innoextract" in problems[0].message


def test_innosetup_tool_failure_is_a_problem(tmp_path: Path) -> None:
    if shutil.which("innoextract") is None:
        pytest.skip("innoextract is not installed (see tests/apt-packages.txt)")
    work = tmp_path / "w"
    tree, problems = extract(fake_inno(tmp_path), work)
    assert tree.kind == "innosetup" and tree.opaque
    assert problems and problems[0].kind == "corrupt"
    assert not list(work.glob("*.tool")), "scratch directory left behind"


def test_nsis_without_7z_is_opaque_and_names_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = BUILDERS["nsis"]["makensis"](tmp_path)
    monkeypatch.setattr(installers.shutil, "which", lambda _name: None)
    tree, problems = extract(built.path, tmp_path / "w")
    assert tree.kind == "nsis"
    assert tree.opaque is not None and "'7z'" in tree.opaque
    assert tree.sha256 == sha(built.path.read_bytes())
    assert [p.kind for p in problems] == ["tool-missing"]


def test_nsis_scratch_is_removed(tmp_path: Path) -> None:
    built = BUILDERS["nsis"]["makensis"](tmp_path)
    work = tmp_path / "w"
    extract(built.path, work)
    assert not list(work.glob("*.tool"))


def test_plain_pe_is_not_an_installer(tmp_path: Path) -> None:
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ" + b"\0" * 8000)
    tree, problems = extract(exe, tmp_path / "w")
    assert tree.kind == "file" and not problems


def test_deb_opens_control_and_data(tmp_path: Path) -> None:
    built = BUILDERS["ar"]["deb"](tmp_path)
    tree, _ = extract(built.path, tmp_path / "w")
    names = {c.chain[-1]: c for c in tree.children}
    assert set(names) == {"debian-binary", "control.tar.xz", "data.tar.xz"}
    control = {c.chain[-1] for c in names["control.tar.xz"].children}
    assert "control" in control


def test_squashfs_inside_ubi_volume(tmp_path: Path) -> None:
    """ubiblock images: a SquashFS in a UBI volume opens as SquashFS."""
    from extract_fixtures import need, populate, run

    need("mksquashfs", "ubinize")
    src = populate(tmp_path / "src")
    sqfs = tmp_path / "root.sqfs"
    run("mksquashfs", src, sqfs, "-comp", "xz", "-noappend", "-no-progress", "-quiet")
    cfg = tmp_path / "u.cfg"
    cfg.write_text(f"[rootfs]\nmode=ubi\nimage={sqfs}\nvol_id=0\nvol_type=static\n"
                   "vol_name=rootfs\n")
    ubi = tmp_path / "flash.ubi"
    run("ubinize", "-o", ubi, "-m", "2048", "-p", "128KiB", "-s", "2048", cfg)
    tree, problems = extract(ubi, tmp_path / "w", Limits())
    files, _ = members(tree)
    for name, data in TREE.items():
        assert files.get(f"rootfs!/{name}") == sha(data), (sorted(files), problems)


def test_big_endian_jffs2_rewrite_is_bounded(tmp_path: Path) -> None:
    # a node length past the end is skipped 4 bytes at a time (that node stays as it was); an
    # image with no node at all is a FormatProblem; the rewrite never reads out of range
    import struct

    from provenance.extract import jffs2_layout
    from provenance.extract.base import FormatProblem

    data = bytearray(BUILDERS["jffs2"]["jffs2-be"](tmp_path).path.read_bytes())
    struct.pack_into(">I", data, 4, len(data) + 4096)  # the first node claims too much
    swapped = jffs2_layout.to_little_endian(bytes(data))
    assert len(swapped) == len(data) and swapped[:2] == b"\x19\x85"  # left as it was
    with pytest.raises(FormatProblem):
        jffs2_layout.to_little_endian(b"\x19\x85\xe0\x01" + b"\xff" * 60)
    path = tmp_path / "bad.jffs2"
    path.write_bytes(bytes(data))
    tree, problems = extract(path, tmp_path / "w")  # dissect needs a node at 0: opaque, why
    assert tree.kind == "jffs2" and "cannot unpack as jffs2" in (tree.opaque or "")
    assert [p.kind for p in problems] == ["corrupt"]


def test_msi_keeps_its_tables_and_names_cab_members(tmp_path: Path) -> None:
    built = BUILDERS["msi"]["wixl"](tmp_path)
    tree, problems = extract(built.path, tmp_path / "w")
    names = {c.chain[-1] for c in tree.children}
    assert {"_tables/File", "_tables/Property", "SummaryInformation"} <= names
    assert "demo.cab/hello.txt" in names and not problems


def test_msi_string_pool_and_name_codec() -> None:
    from provenance.extract import msi

    assert msi.decode_name(msi._encode_name("_StringPool")) == "!_StringPool"
    pool = b"\xe4\x04\x00\x00" + b"\x03\x00\x01\x00" + b"\x00\x00\x00\x00" + b"\x02\x00\x01\x00"
    strings, ref = msi._strings(pool, b"abcde")
    assert (strings, ref) == (["", "abc", "", "de"], 2)


def test_inno_fixture_is_deterministic_and_detected_without_innoextract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated installer (tests/inno_fixture.py) is the same bytes on every run, carries no
    execute bit, and is recognised as Inno Setup on its own structure."""
    data = inno_fixture.build(TREE)
    assert data == inno_fixture.build(TREE)
    path = tmp_path / "demo-setup.exe"
    path.write_bytes(data)
    assert not path.stat().st_mode & 0o111
    monkeypatch.setattr(installers.shutil, "which", lambda _name: None)
    tree, problems = extract(path, tmp_path / "w")
    assert tree.kind == "innosetup" and [p.kind for p in problems] == ["tool-missing"]


def test_innosetup_keeps_every_file_that_shares_a_destination(tmp_path: Path) -> None:
    """Two [Files] lines to one path (per language, or x86 / x64 builds of one DLL): both are
    members, where innoextract's default would keep only the last."""
    need("innoextract")
    x86, x64 = b"MZ x86 build\n", b"MZ x64 build\n"
    path = tmp_path / "demo-setup.exe"
    path.write_bytes(inno_fixture.build([("bin/tool.dll", x86), ("bin/tool.dll", x64)]))
    tree, problems = extract(path, tmp_path / "w")
    files, _ = members(tree)
    assert not problems
    assert files == {"app/bin/tool.dll": sha(x64), "app/bin/tool.dll$0": sha(x86)}


@pytest.mark.parametrize("threaded", [False, True], ids=["inline", "threaded"])
def test_gzip_reads_as_the_standard_library_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threaded: bool) -> None:
    """ISA-L inflates gzip (extract/compressed.py), in this thread or, for a large stream, in
    one of its own: members and framing as gzip.py reads them. Two members (`cat a.gz b.gz`,
    as a log rotated twice is), then flash padding; then a stream whose deflate blocks are
    damaged is a problem and the scan goes on; a member over the size limit is refused, and
    the inflating thread ends with it."""
    import gzip
    import os
    import random
    import threading

    from provenance.extract import compressed

    if threaded:
        monkeypatch.setattr(compressed, "THREADED_MIN", 0)
    threads = threading.active_count()

    data = random.Random(7).randbytes(300_000) + b"config=1\n" * 50_000
    two = gzip.compress(data[:200_000], mtime=0) + gzip.compress(data[200_000:], mtime=0)
    src = tmp_path / "rootfs.bin.gz"
    src.write_bytes(two + b"\x00" * 4096)
    tree, problems = extract(src, tmp_path / "a")
    assert not problems and tree.kind == "gzip"
    [member] = tree.children
    assert member.local is not None
    assert member.local.read_bytes() == gzip.decompress(two) == data
    damaged = bytearray(gzip.compress(data, mtime=0))
    damaged[40:80] = bytes(b ^ 0x55 for b in damaged[40:80])
    src.write_bytes(bytes(damaged))
    tree, problems = extract(src, tmp_path / "b")
    assert [p for p in problems if "cannot unpack as gzip" in p.message], problems
    assert os.fspath(tmp_path) not in " ".join(p.message for p in problems)
    src.write_bytes(gzip.compress(bytes(3 << 20), mtime=0))
    tree, problems = extract(src, tmp_path / "c", Limits(max_member_bytes=1 << 20))
    assert not tree.children and "over the size limit" in problems[0].message
    assert threading.active_count() == threads


def test_a_tar_gz_damaged_midway_keeps_the_members_before_the_damage(tmp_path: Path) -> None:
    """ISA-L's inflate error is a broken tar stream like zlib's: the member before the damage
    is kept whole, and the problem says the archive is truncated or corrupt."""
    import gzip
    import io
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for i, size in enumerate((2_000, 300_000)):
            info = tarfile.TarInfo(f"etc/file{i}")
            info.size = size
            tf.addfile(info, io.BytesIO(bytes([65 + i]) * size))
    cut = 4096 + 100_000  # inside file1's data
    # a second gzip member whose first deflate block has the reserved type (BTYPE 11): the
    # inflate itself fails there, not only a checksum
    broken = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\x07" + b"\x00" * 64
    src = tmp_path / "fw.tar.gz"
    src.write_bytes(gzip.compress(raw.getvalue()[:cut], mtime=0) + broken)
    tree, problems = extract(src, tmp_path / "x")
    assert tree.kind == "tar"
    kept = {c.path.rsplit("/", 1)[-1]: c for c in tree.walk() if c.kind != "directory"}
    assert kept["file0"].size == 2_000
    assert any(p.message.startswith("archive truncated or corrupt") for p in problems), problems
