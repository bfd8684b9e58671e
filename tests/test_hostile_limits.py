"""Defaults a CI runner survives, sizes as people write them, and the whole-extraction deadline
(issue 14, items 3 and 6)."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from provenance.extract import Limits, extract
from provenance.extract.limits import GiB, MiB, parse_size


@pytest.mark.parametrize(("text", "size"), [
    ("4096", 4096), ("4G", 4 * GiB), ("512M", 512 * MiB), ("512m", 512 * MiB),
    ("1.5GiB", 3 * GiB // 2), ("100k", 100 << 10), ("2 GB", 2 * GiB), ("1T", 1 << 40),
    (123, 123),
])
def test_sizes_as_people_write_them(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "4X", "-1G", "G", "four"])
def test_what_is_not_a_size(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_defaults_stay_under_what_a_ci_runner_has() -> None:
    limits = Limits()
    assert limits.max_total_bytes < 4 * GiB
    assert limits.max_member_bytes <= limits.max_total_bytes
    assert limits.seconds_per_format <= limits.max_seconds


def test_the_whole_extraction_has_a_deadline(tmp_path: Path) -> None:
    """Past the whole-extraction deadline, each container left stops at once, with a Problem
    that names that deadline, and the walk still returns a tree."""
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.gz", gzip.compress(b"a" * 1000))
        zf.writestr("b.txt", b"b")
    tree, problems = extract(path, tmp_path / "work", Limits(max_seconds=0.0))
    assert tree.opaque and "for the whole extraction" in tree.opaque
    assert [p.kind for p in problems] == ["limit"]


def test_the_carver_decodes_no_more_than_a_member_may_hold(tmp_path: Path) -> None:
    """A flash dump carrying a bzip2 stream of 96 MiB of zeros, with a 64 MiB member limit:
    measuring the stream stops at the limit, and the dump says why nothing was carved."""
    import bz2

    comp = bz2.BZ2Compressor(9)
    stream = b"".join(comp.compress(bytes(MiB)) for _ in range(96)) + comp.flush()
    dump = bytearray(b"\xff" * (4 * MiB))
    dump[MiB:MiB + len(stream)] = stream
    path = tmp_path / "flash.bin"
    path.write_bytes(bytes(dump))
    tree, problems = extract(path, tmp_path / "work", Limits(max_member_bytes=64 * MiB))
    assert tree.kind == "flash" and tree.opaque
    assert [p.message for p in problems] == [
        f"a compressed stream at 0x{MiB:x} decodes past {64 * MiB} bytes (the member limit); "
        "not carved"]
