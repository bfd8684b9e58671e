"""Fuzzing the hand-written parsers (cpio, ar, rpm, romfs) with hypothesis.

Inputs are real fixtures with bytes flipped, runs duplicated and the end cut, plus raw random
bytes behind each magic. A parser may only fail with a FormatProblem or a limit (or the
decompressor's own error for an rpm payload); anything else is a parser bug. Every write must
stay inside the root. Run longer with PROVENANCE_FUZZ_EXAMPLES=100000.
"""

from __future__ import annotations

import lzma
import os
import shutil
import tempfile
import traceback
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from extract_fixtures import BUILDERS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.extract import ar, cpio, cramfs_layout, extract, filesystems, msi, romfs, rpm
from provenance.extract.base import FormatProblem
from provenance.extract.limits import Budget, LimitExceeded, Limits
from provenance.extract.saferoot import SafeRoot
from provenance.extract.tar import INFLATE_ERROR

EXAMPLES = int(os.environ.get("PROVENANCE_FUZZ_EXAMPLES", "150"))
LIMITS = Limits(max_files=200, max_total_bytes=8 << 20, max_member_bytes=4 << 20,
                seconds_per_format=10)
EXPECTED = (FormatProblem, LimitExceeded, EOFError, OSError, lzma.LZMAError, zlib.error,
            INFLATE_ERROR)  # gzip is inflated by ISA-L


def _squashfs_tables(src: Path, out: SafeRoot) -> None:
    """The unsquashfs accelerator's one-pass listing (squashfs_tables.py) of the image, alone:
    `Unlike` is how it declines (dissect then lists the image); dissect's own errors, opening
    the image, are the library's."""
    from provenance.extract import squashfs_tables

    with open(src, "rb") as f:
        fs = filesystems._squashfs(f, [])
        reader = filesystems._inode_reader(lambda n: n.inode_number)
        try:
            tables = squashfs_tables.Tables(fs)
            filesystems._listing(tables.root, filesystems._tables_reader(tables, reader), out)
        except squashfs_tables.Unlike:
            pass


PARSERS: dict[str, tuple[Callable[[Path, SafeRoot], None], str, str, bytes]] = {
    # name: (extract, fixture format, fixture case, magic)
    "cpio-newc": (cpio.extract, "cpio", "newc", b"070701"),
    "cpio-odc": (cpio.extract, "cpio", "odc", b"070707"),
    "cpio-bin": (cpio.extract, "cpio", "bin", b"\xc7\x71"),
    "ar": (ar.extract, "ar", "ipk", ar.MAGIC),
    "rpm": (rpm.extract, "rpm", "rpm-gzip", rpm.LEAD_MAGIC),
    "romfs": (romfs.extract, "romfs", "genromfs", romfs.MAGIC),
    "msi": (msi.extract, "msi", "wixl", msi.OLE_MAGIC),
    # the big-endian rewrites in front of dissect (whose own errors are the library's)
    "cramfs-be": (filesystems.CRAMFS.extract, "cramfs", "cramfs-big-endian",
                  cramfs_layout.MAGIC_BE),
    "jffs2-be": (filesystems.JFFS2.extract, "jffs2", "jffs2-be", b"\x19\x85\xe0\x01"),
    "squashfs-tables": (_squashfs_tables, "squashfs", "gzip", b"hsqs"),
}
# errors raised inside these libraries are theirs (the walker records them as corrupt); ours,
# in the MSI table reader and the CramFS rewrite around them, are not allowed
LIBRARIES = ("olefile", "cabarchive", "dissect")


# Seeds cut to what the parser has to see: the JFFS2 fixture is padded to 1 MiB of 128 KiB
# erase blocks, and both its scanners step through every padding word of every example. Its
# nodes all lie in the first block; the seed keeps that block (padding included) and the next
# block's clean marker.
TRIM: dict[str, int] = {"jffs2-be": (128 << 10) + 12}


@cache
def seed(name: str) -> bytes:
    _, fmt, case, _ = PARSERS[name]
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-seed-")).resolve()
    try:
        data = BUILDERS[fmt][case](tmp).path.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return data[: TRIM.get(name, len(data))]


def run_parser(name: str, data: bytes) -> None:
    parse = PARSERS[name][0]
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp_name:
        tmp = Path(tmp_name)
        src = tmp / "input"
        src.write_bytes(data)
        root = SafeRoot(tmp / "root", Budget(LIMITS), "input", len(data))
        try:
            parse(src, root)
        except EXPECTED:
            pass
        except Exception as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            if not any(lib in frames[-1].filename for lib in LIBRARIES):
                raise
        outside = {p.name for p in tmp.iterdir()} - {"input", "root"}
        assert not outside, f"written outside the root: {outside}"
        assert not any(p.is_symlink() for p in (tmp / "root").rglob("*"))


mutations = st.lists(
    st.tuples(st.integers(min_value=0, max_value=1 << 20), st.integers(0, 255)), max_size=12)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(flips=mutations, cut=st.floats(0.0, 1.0), dup=st.booleans())
def test_mutated_fixture(name: str, flips: list[tuple[int, int]], cut: float, dup: bool) -> None:
    try:
        data = bytearray(seed(name))
    except pytest.skip.Exception:
        raise
    for offset, value in flips:
        data[offset % len(data)] = value
    if dup:  # repeat a run of the body: headers that point back or run twice
        mid = len(data) // 2
        data[mid:mid] = data[mid // 2 : mid]
    data = data[: max(8, int(len(data) * cut))] if cut < 0.98 else data
    run_parser(name, bytes(data))


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2048))
def test_random_body_behind_magic(name: str, body: bytes) -> None:
    run_parser(name, PARSERS[name][3] + body)


@pytest.mark.parametrize("name", sorted(TRIM))
def test_a_trimmed_seed_unpacks_like_its_fixture(name: str, tmp_path: Path) -> None:
    """A cut seed is still the whole format: the same members as the full fixture."""
    _, fmt, case, _ = PARSERS[name]
    built = BUILDERS[fmt][case](tmp_path)
    trimmed = tmp_path / "trimmed.bin"
    trimmed.write_bytes(seed(name))
    assert trimmed.stat().st_size < built.path.stat().st_size
    found = []
    for i, path in enumerate((built.path, trimmed)):
        tree, problems = extract(path, tmp_path / f"w{i}")
        assert tree.kind == fmt and not problems, (tree.kind, problems)
        found.append(sorted((a.chain[-1], a.sha256) for a in tree.walk() if a is not tree))
    assert found[0] == found[1]
