"""Filesystem read-ahead threads (fswalk): the same files, hashes and problems as a serial walk.

Images are built by the real mksquashfs; the read-ahead bounds are shrunk so that the queue
drains, large files stream in the walker and small ones come from the threads.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from extract_fixtures import need, run

from provenance.extract import fswalk
from provenance.extract.filesystems import SQUASHFS
from provenance.extract.limits import Budget, Limits
from provenance.extract.saferoot import SafeRoot


def _tree(src: Path) -> None:
    rnd = random.Random(7)
    for i in range(120):
        sub = src / f"d{i % 7}" / f"e{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        size = rnd.choice([0, 10, 3000, 70_000, 300_000])
        (sub / f"f{i}.bin").write_bytes(rnd.randbytes(size // 2) + b"x" * (size - size // 2))
    (src / "big.bin").write_bytes(rnd.randbytes(1 << 20))  # over the shrunk read-ahead limit


def _image(tmp: Path) -> Path:
    need("mksquashfs")
    src = tmp / "src"
    _tree(src)
    image = tmp / "root.squashfs"
    run("mksquashfs", src, image, "-comp", "xz", "-noappend", "-no-progress", "-quiet")
    return image


def _unpack(image: Path, out: Path, threads: int, monkeypatch: pytest.MonkeyPatch
            ) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    monkeypatch.setenv("PROVENANCE_NO_ACCEL", "1")  # the pure-Python walk, not unsquashfs
    monkeypatch.setattr(fswalk, "ahead_threads", lambda: threads)
    monkeypatch.setattr(fswalk, "AHEAD_MAX_FILE", 512 << 10)
    monkeypatch.setattr(fswalk, "AHEAD_MAX_BYTES", 1 << 20)
    root = SafeRoot(out, Budget(Limits()), "root.squashfs", image.stat().st_size)
    SQUASHFS.extract(image, root)
    files = {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(out.rglob("*")) if p.is_file()}
    return files, [(p.location, p.kind, p.message) for p in root.problems]


def test_read_ahead_gives_the_serial_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    image = _image(tmp_path)
    serial = _unpack(image, tmp_path / "one", 1, monkeypatch)
    read = fswalk._ReadAhead._read
    calls: list[int] = []
    monkeypatch.setattr(fswalk._ReadAhead, "_read",
                        lambda self, node, size: calls.append(size) or read(self, node, size))
    threaded = _unpack(image, tmp_path / "two", 3, monkeypatch)
    assert threaded == serial
    assert len(calls) == 120  # every small file came from a thread; big.bin streamed
    expected = {p.relative_to(tmp_path / "src").as_posix():
                hashlib.sha256(p.read_bytes()).hexdigest()
                for p in (tmp_path / "src").rglob("*") if p.is_file()}
    assert serial[0] == expected and not serial[1]


def test_read_ahead_records_corrupt_members_like_the_serial_walk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = _image(tmp_path)
    data = bytearray(image.read_bytes())
    for offset in range(2000, len(data) // 2, 40_000):  # data blocks come first in SquashFS
        data[offset : offset + 8] = b"\xa5" * 8
    image.write_bytes(data)
    serial = _unpack(image, tmp_path / "one", 1, monkeypatch)
    threaded = _unpack(image, tmp_path / "two", 2, monkeypatch)
    assert threaded == serial
    assert any("cannot read member" in message for _, _, message in serial[1])
