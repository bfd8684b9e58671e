"""A compressed cpio archive (an initramfs) is read as cpio from the stream: its members are the
compressed file's, as a tar.gz's are the tar's, with no archive written whole in between."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import random
from pathlib import Path

import pytest
from test_extract_hostile import _newc

from provenance.extract import compressed, extract

MEMBERS = {"etc/passwd": b"root:x:0:0::/root:/bin/sh\n", "lib/libfoo.so": b"\x7fELF" + b"\1" * 5000,
           "init": b"#!/bin/sh\nexec /sbin/init\n"}


def _cpio(members: dict[str, bytes]) -> bytes:
    return b"".join(_newc(n, d) for n, d in members.items()) + _newc("TRAILER!!!", b"")


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


COMPRESSORS = {"gz": gzip.compress, "xz": lzma.compress, "bz2": bz2.compress, "zst": _zstd}


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_the_members_of_a_compressed_cpio_are_the_compressed_files(tmp_path: Path,
                                                                   suffix: str) -> None:
    src = tmp_path / f"initramfs.cpio.{suffix}"
    src.write_bytes(COMPRESSORS[suffix](_cpio(MEMBERS)))
    root, problems = extract(src, tmp_path / "x")
    assert problems == ()
    files = {a.chain[-1]: a.sha256 for a in root.walk() if a.kind != "directory" and a is not root}
    assert files == {name: hashlib.sha256(data).hexdigest() for name, data in MEMBERS.items()}
    assert all(len(a.chain) == 2 for a in root.walk() if a is not root)  # no archive between


def test_a_large_gzip_is_streamed_by_its_inflating_thread_too(tmp_path: Path) -> None:
    big = {**MEMBERS, "big.bin": random.Random(1).randbytes(9 << 20)}  # incompressible
    src = tmp_path / "rootfs.cpio.gz"
    src.write_bytes(gzip.compress(_cpio(big), 1))
    assert src.stat().st_size >= compressed.THREADED_MIN
    root, problems = extract(src, tmp_path / "x")
    assert problems == ()
    assert {a.chain[-1] for a in root.walk() if a.kind == "file"} >= set(big)


def test_any_other_payload_is_one_member_named_after_the_input(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt.gz"
    src.write_bytes(gzip.compress(b"070 is not a cpio magic\n" * 10))
    root, problems = extract(src, tmp_path / "x")
    assert problems == () and [c.chain[-1] for c in root.children] == ["notes.txt"]


def test_a_cpio_cut_short_keeps_the_members_before_the_cut(tmp_path: Path) -> None:
    data = _cpio(MEMBERS)
    src = tmp_path / "cut.cpio.gz"
    src.write_bytes(gzip.compress(data[: len(data) - 200]))  # inside the last member
    root, problems = extract(src, tmp_path / "x")
    names = {a.chain[-1] for a in root.walk() if a.kind == "file"}
    assert {"etc/passwd", "lib/libfoo.so"} <= names
    assert any("cpio stream: truncated archive" in p.message for p in problems)


def test_a_broken_stream_is_reported_as_before(tmp_path: Path) -> None:
    good = gzip.compress(_cpio(MEMBERS))
    src = tmp_path / "broken.cpio.gz"
    src.write_bytes(good[:10] + b"\xff" * 64)  # the header, then no deflate stream
    with compressed._open_gzip(src) as stream:
        assert compressed._head(stream) is None  # so the plain path reads it, and says why
    _, problems = extract(src, tmp_path / "x")
    assert problems and all(p.stage == "extract" for p in problems)


def test_a_member_over_a_limit_hides_none_of_the_others(tmp_path: Path) -> None:
    from provenance.extract.limits import Limits

    members = {"zeros.bin": bytes(8 << 20), **MEMBERS}
    src = tmp_path / "bomb.cpio.gz"
    src.write_bytes(gzip.compress(_cpio(members), 9))
    root, problems = extract(src, tmp_path / "x", Limits(max_member_bytes=1 << 20))
    assert {a.chain[-1] for a in root.walk() if a.kind == "file"} == set(MEMBERS)
    assert [p.kind for p in problems] == ["limit"] and "zeros.bin" in problems[0].location


@pytest.mark.parametrize("sizes", [[1, 2, 3, 100], [6, 6], [4, -1], [-1], [0, 3, 0, 50], [200]])
def test_a_rewound_stream_reads_as_the_stream_from_its_start(sizes: list[int]) -> None:
    """Each read gives what the stream itself would: exactly n bytes until the end (cpio
    headers are read to exact lengths), everything for -1, the first bytes included once."""
    data = bytes(range(256)) * 3
    stream = io.BytesIO(data)
    rewound = compressed._Rewound(stream.read(6), stream)
    plain = io.BytesIO(data)
    for n in [*sizes, -1]:
        assert rewound.read(n) == plain.read(n)
    assert rewound.read(10) == b""
