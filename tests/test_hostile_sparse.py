"""Runs of zeros are written as holes and known as zeros without being read or scanned (issue
14, item 2): a member with a long zero run takes almost no disk, as `du` measures it, reads
back byte for byte, and a member of nothing but zeros is never handed to YARA."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from provenance import signatureset
from provenance.extract import Limits, extract
from provenance.extract.base import uniform_byte
from provenance.extract.limits import Budget, MiB
from provenance.extract.saferoot import HOLE, SafeRoot
from provenance.pipeline import AnalysisOptions, ScanOptions, blobs, scan

HEAD = bytes(range(256)) * 400  # 100 KiB of data: not a multiple of HOLE, so runs are unaligned
RUN = 60 * MiB  # under the ratio floor: a zero run, not a bomb
TAIL = b"the end of the member\n"
MEMBER = HEAD + bytes(RUN) + TAIL


def _tar_gz(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in (("fw/padded.bin", MEMBER), ("fw/erased.bin", bytes(RUN)),
                           ("fw/notes.txt", b"release notes\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _du(path: Path) -> int:
    """Bytes on disk as `du` counts them (its kilobytes)."""
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) * 1024


@pytest.mark.skipif(shutil.which("du") is None, reason="needs du")
def test_a_zero_run_is_written_as_a_hole(tmp_path: Path) -> None:
    tree, problems = extract(_tar_gz(tmp_path / "fw.tar.gz"), tmp_path / "work", Limits())
    assert not problems
    files = {a.chain[-1]: a for a in tree.walk() if a.kind == "file"}
    padded, erased = files["fw/padded.bin"].local, files["fw/erased.bin"].local
    assert padded is not None and erased is not None
    # the same bytes as the member, and the size it declares
    assert padded.stat().st_size == len(MEMBER)
    assert hashlib.sha256(padded.read_bytes()).digest() == hashlib.sha256(MEMBER).digest()
    assert erased.stat().st_size == RUN and uniform_byte(erased) == 0
    # 120 MiB of members, some 200 KiB on disk: the data and the blocks it shares with zeros
    assert _du(tmp_path / "work") < 2 * MiB


def test_blocks_are_aligned_on_the_file_whatever_the_chunks(tmp_path: Path) -> None:
    """A reader may hand over any chunk sizes: the zero blocks are found where they are in
    the file, and the bytes between them are written whole."""
    root = SafeRoot(tmp_path / "out", Budget(Limits()), "x", 1 << 30)
    writer = root.create("m.bin")
    assert writer is not None
    data = b"a" * 1000 + bytes(5 * HOLE) + b"b" * 3 + bytes(HOLE + 17)
    with writer:
        for i in range(0, len(data), 7919):  # a prime: chunks never line up with the blocks
            assert writer.write(data[i:i + 7919])
    assert writer.dest.read_bytes() == data
    assert writer.holes >= 3 * HOLE  # at least the blocks no chunk boundary split


def test_a_member_of_zeros_is_recognised_and_never_scanned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[str] = []
    real = blobs.scanned_file

    def scanned_file(sigset: signatureset.SignatureSet, path: Path) -> object:
        scanned.append(path.name)
        return real(sigset, path)

    monkeypatch.setattr(blobs, "scanned_file", scanned_file)
    options = ScanOptions(analysis=AnalysisOptions(jobs=1, use_cache=False))
    result = scan(_tar_gz(tmp_path / "fw.tar.gz"), signatureset.load(()), options)
    by_name = {c.chain[-1]: c for c in result.components()}
    erased = by_name["fw/erased.bin"]
    assert erased.facts is not None and erased.facts.first("content.uniform") == "00"
    assert "erased.bin" not in scanned and "padded.bin" in scanned
    # the report's own cost says so too: written in full, stored as holes
    assert result.cost is not None
    assert result.cost.bytes_written >= 2 * RUN and result.cost.disk_bytes < 2 * MiB
