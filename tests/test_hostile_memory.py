"""The memory ceiling (issue 14, item 1): a parser that asks for more than `--max-memory` gives
up its blob alone, with a `limit` Problem naming the ceiling, and the rest of the input is
scanned: the MPP SDK library beside it is still found, the report written, the exit code that
of the verdict.

The hungry parsers are registered only here: a reader and an unpacker that trust a declared
size and ask for 8 GiB, as the FAT, ELF and CAB readers of the hostile corpus once did. The
buffer is calloc'd, so without a ceiling the request succeeds lazily and costs nothing, and the
tests fail on the missing Problem rather than on the machine.
"""

from __future__ import annotations

import io
import json
import re
import resource
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provenance import extract as extract_mod
from provenance.cli import app
from provenance.extract.base import Format
from provenance.extract.limits import GiB, Limits, MiB
from provenance.extract.saferoot import SafeRoot
from provenance.pipeline import AnalysisOptions, ScanOptions, blobs, budget, scan

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))
import analysis_hooks
from generate import ipcam_files

HUNGRY = analysis_hooks.HUNGRY
# MiB under 1 GiB, GiB from there: the ceiling is raised to what the process already uses, and
# a test process that ran many scans before this one may use more than the 600 MiB asked
CEILING = re.compile(r"^memory ceiling \((\d+(?:\.\d)?) (MiB|GiB) per process\) reached")


def _mib(message: str) -> float:
    found = CEILING.match(message)
    assert found is not None, message
    return float(found[1]) * (1024 if found[2] == "GiB" else 1)
LIBMPI = ipcam_files()["rootfs/usr/lib/libmpi.so"][0]


def _unpack(path: Path, root: SafeRoot) -> None:
    root.write_bytes("first.txt", b"written before the parser asked for too much")
    analysis_hooks.greedy()


@pytest.fixture
def hungry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # the reader in this process, its forked workers and the fresh interpreters they start
    analysis_hooks.use(monkeypatch, "hungry")
    unpacker = Format("hungryfs", "test only", lambda head, name: head.startswith(b"HUNGRYFS"),
                      _unpack)
    monkeypatch.setattr(extract_mod, "EXTRACTORS", (unpacker, *extract_mod.EXTRACTORS))
    before = resource.getrlimit(resource.RLIMIT_DATA)
    yield
    blobs.shutdown_pool()
    assert resource.getrlimit(resource.RLIMIT_DATA) == before, "the ceiling outlived the scan"


def _firmware(path: Path, fillers: int) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("blob/hungry.bin", HUNGRY + bytes(range(256)) * 16)
        zf.writestr("blob/image.hungryfs", b"HUNGRYFS" + b"\x01" * 4096)
        zf.writestr("rootfs/usr/lib/libmpi.so", LIBMPI)
        for i in range(fillers):  # enough blobs for the worker pool
            zf.writestr(f"rootfs/etc/file{i}.conf", f"option{i} = {i * 7919}\n" * 40)
    return path


def _problems(report: Path) -> list[dict[str, str]]:
    props = json.loads(report.read_text())["metadata"]["component"]["properties"]
    return [json.loads(p["value"]) for p in props if p["name"] == "provenance:problem"]


@pytest.mark.parametrize("fillers", [0, 120], ids=["serial", "pooled"])
def test_a_parser_past_the_ceiling_gives_up_its_blob_alone(
        hungry: None, tmp_path: Path, fillers: int) -> None:
    image = _firmware(tmp_path / "fw.zip", fillers)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, [
        "scan", str(image), "-o", str(report), "-q", "--no-cache", "--jobs", "2",
        "--max-memory", "600M"], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # restricted: the rest was scanned
    problems = _problems(report)
    memory = {p["location"]: p for p in problems if CEILING.match(p["message"])}
    assert set(memory) == {"fw.zip!/blob/hungry.bin", "fw.zip!/blob/image.hungryfs"}, problems
    assert all(p["kind"] == "limit" for p in memory.values())
    assert memory["fw.zip!/blob/hungry.bin"]["stage"] == "identify"
    assert memory["fw.zip!/blob/image.hungryfs"]["stage"] == "extract"
    # at least what was asked, never below what the process used when the scan began
    assert _mib(memory["fw.zip!/blob/hungry.bin"]["message"]) >= 600
    doc = json.loads(report.read_text())
    props = {p["name"]: p["value"] for p in doc["metadata"]["component"]["properties"]}
    assert props["provenance:verdict"] == "restricted"
    assert props["provenance:coverage"] == "partial"
    names = [c["name"] for c in _walk(doc.get("components", []))]
    assert sum(1 for n in names if str(n).startswith("file")) == fillers
    # the unpacker's first member was written before it failed: kept, and examined
    assert "first.txt" in names


def _walk(components: list[dict[str, object]]) -> Iterator[dict[str, object]]:
    stack = list(components)
    while stack:
        c = stack.pop()
        yield c
        stack.extend(c.get("components", []))  # type: ignore[arg-type]


def test_without_a_ceiling_the_hungry_reader_is_not_stopped(
        hungry: None, tmp_path: Path) -> None:
    """The Problem above comes from the ceiling, not from the reader: under a ceiling of 64 GiB
    the same 8 GiB request succeeds (lazily: calloc'd pages cost nothing until written)."""
    image = _firmware(tmp_path / "fw.zip", 0)
    options = ScanOptions(limits=Limits(max_memory=64 * GiB),
                          analysis=AnalysisOptions(jobs=1, use_cache=False))
    from provenance import signatureset

    result = scan(image, signatureset.load(()), options)
    assert not [p for p in result.problems if budget.is_memory_problem(p)]


def test_the_default_is_a_share_of_the_machine() -> None:
    assert budget.default_ceiling(2, total=24 * GiB) == 2 * GiB  # capped
    assert budget.default_ceiling(2, total=3 * GiB) == GiB  # 3 processes share it
    assert budget.default_ceiling(8, total=2 * GiB) == 512 * MiB  # the floor
    assert budget.PER_PROCESS_MIN <= budget.limit(None, None) <= budget.PER_PROCESS_MAX
    assert budget.limit(300 * MiB, 4) == 300 * MiB


def test_a_ceiling_below_what_is_mapped_is_raised_to_let_the_scan_start() -> None:
    before = resource.getrlimit(resource.RLIMIT_DATA)
    with budget.ceiling(MiB) as set_to:
        assert set_to >= budget.used() > MiB
        assert resource.getrlimit(resource.RLIMIT_DATA)[0] == set_to
        assert budget.active() == set_to
        with pytest.raises(MemoryError):
            bytearray(set_to)
        io.BytesIO(bytes(MiB))  # and the process still works under it
    assert resource.getrlimit(resource.RLIMIT_DATA) == before


def test_max_memory_is_a_size_as_people_write_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["scan", str(_firmware(tmp_path / "fw.zip", 0)), "-q",
                                      "--no-cache", "--max-memory", "4Q"])
    assert result.exit_code == 2 and "not a size" in result.output


def test_lief_past_the_ceiling_gives_up_its_elf_alone(tmp_path: Path) -> None:
    """A real parser: LIEF reads a whole ELF into memory, so an ELF padded to 160 MiB asks for
    more than the least ceiling (what the process uses plus 64 MiB, which a ceiling of 1 MiB is
    raised to). Its std::bad_alloc comes back as a MemoryError: that ELF is a limit Problem,
    and the same library unpadded beside it is still found restricted."""
    from provenance import signatureset

    image = tmp_path / "fw.zip"
    with zipfile.ZipFile(image, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("padded/libmpi.so", "w", force_zip64=True) as member:
            member.write(LIBMPI)
            for _ in range(160):
                member.write(bytes(MiB))
        zf.writestr("rootfs/usr/lib/libmpi.so", LIBMPI)
    options = ScanOptions(limits=Limits(max_memory=MiB, max_ratio=1e6),
                          analysis=AnalysisOptions(jobs=1, use_cache=False))
    result = scan(image, signatureset.load(()), options)
    memory = [p for p in result.problems if budget.is_memory_problem(p)]
    assert {(p.location, p.stage) for p in memory} >= {("fw.zip!/padded/libmpi.so", "identify")}
    assert "fw.zip!/rootfs/usr/lib/libmpi.so" not in {p.location for p in memory}
    assert result.verdict == "restricted" and result.coverage == "partial"


def test_a_blob_given_up_at_the_ceiling_is_not_cached(hungry: None, tmp_path: Path) -> None:
    """The cache keys on the blob's bytes, not on the ceiling: what a parser could not read
    under one ceiling is read again under the next, never answered from the cache."""
    from provenance import signatureset

    image = _firmware(tmp_path / "fw.zip", 0)
    sigset = signatureset.load(())
    cache = AnalysisOptions(jobs=1, cache_dir=tmp_path / "cache")

    def given_up(max_memory: int) -> set[str]:
        result = scan(image, sigset, ScanOptions(limits=Limits(max_memory=max_memory),
                                                 analysis=cache))
        return {p.location for p in result.problems if budget.is_memory_problem(p)}

    assert "fw.zip!/blob/hungry.bin" in given_up(600 * MiB)
    assert not given_up(64 * GiB)  # calloc'd: under this ceiling the 8 GiB are never touched


@pytest.mark.parametrize("jobs", [2, 1])
def test_blobs_after_a_leaking_parser_are_retried_in_a_fresh_process(
        jobs: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A parser that leaks near the ceiling starves the blobs after it in the same process.
    They are tried again: in a fresh worker of the pool, or without a pool (`--jobs 1`, a
    Dask task), in a fresh interpreter, since a fork would inherit the leak."""
    from provenance import signatureset

    analysis_hooks.use(monkeypatch, "readers")
    image = tmp_path / "fw.zip"
    with zipfile.ZipFile(image, "w") as zf:
        # largest first in a batch: the leak, then the blobs it starves in the same worker
        zf.writestr("leaky.bin", b"LEAKY" + bytes(range(256)) * 32)
        for i in range(3):
            zf.writestr(f"modest{i}.bin", b"MODEST" + bytes([i]) + bytes(range(256)) * 24)
        for i in range(100):
            zf.writestr(f"etc/file{i}.conf", f"option{i} = {i}\n" * 20)
    options = ScanOptions(limits=Limits(max_memory=600 * MiB),
                          analysis=AnalysisOptions(jobs=jobs, use_cache=False))
    try:
        result = scan(image, signatureset.load(()), options)
    finally:
        blobs.shutdown_pool()
        analysis_hooks.LEAKED.clear()
    memory = {p.location for p in result.problems if budget.is_memory_problem(p)}
    assert memory == {"fw.zip!/leaky.bin"}
    formats = {c.chain[-1]: c.facts.format for c in result.components() if c.facts}
    assert [formats[f"modest{i}.bin"] for i in range(3)] == ["modest"] * 3


def test_files_mapped_read_only_do_not_count(tmp_path: Path) -> None:
    """YARA maps every blob it scans, and the carver whole images: a file larger than the
    ceiling is still mapped and scanned under it (RLIMIT_DATA, not RLIMIT_AS)."""
    import mmap

    from provenance import signatureset
    from provenance.attribute.yara_scan import scan_file

    sigset = signatureset.load(())
    scan_file(sigset, Path(__file__))  # rules compiled before the ceiling
    big = tmp_path / "image.bin"
    with budget.ceiling(MiB) as ceiling:
        with open(big, "wb") as f:
            f.truncate(ceiling + 256 * MiB)  # larger than the ceiling; sparse: no disk
        with open(big, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            assert m[-1] == 0
        assert scan_file(sigset, big) == ()
        with pytest.raises(MemoryError):
            bytes(ceiling)


def test_overlapping_scans_share_one_ceiling_and_restore_the_first_limit() -> None:
    """Threads of one process (a Dask worker) may scan at once: the last one out restores
    the limit the first one found, whatever the order they leave in."""
    before = resource.getrlimit(resource.RLIMIT_DATA)
    first = budget.ceiling(900 * MiB)
    second = budget.ceiling(700 * MiB)
    outer = first.__enter__()
    assert second.__enter__() == outer == budget.active()
    first.__exit__(None, None, None)  # the first one leaves first
    assert budget.active() == outer
    second.__exit__(None, None, None)
    assert resource.getrlimit(resource.RLIMIT_DATA) == before
