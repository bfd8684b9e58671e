"""The result cache: exact round trips, corrupt files rebuilt, concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from test_analysis import make_tar, tree_files

from provenance.attribute.yara_scan import Hit, StringMatch
from provenance.extract import extract
from provenance.model import Fact, Facts, Problem, ProblemKind, Stage
from provenance.pipeline import cache as cache_mod
from provenance.pipeline.blobs import Analysis, AnalysisOptions, analyse_all, decode, encode
from provenance.pipeline.cache import DB_NAME, ResultCache, open_cache

BASE = "fw.bin!/rootfs.squashfs!/usr/lib/libmpi.so"


def sample() -> Analysis:
    facts = Facts(
        "elf", "arm",
        (Fact("elf.soname", "libmpi.so", BASE + "#dynamic"),
         Fact("copyright.holder", "Hüawei ✓", BASE + "@0x10"),
         Fact("sbom.component", "x", "elsewhere!/sbom.json#components")),
        "libmpi.so", None, "pkg:generic/libmpi@1", None)
    hits = (Hit("hisilicon_mpp", (StringMatch("$a", 16, b"HI_MPI\x00\xff\x80"),
                                  StringMatch("$b", 1 << 40, b""))),
            Hit("zero_matches", ()))
    problems = (Problem(BASE, Stage.ATTRIBUTE, "YARA scan failed: timeout", ProblemKind.ERROR),
                Problem("", Stage.IDENTIFY, "whole scan", ProblemKind.CORRUPT))
    return Analysis(facts, hits, problems)


def test_round_trip_is_exact() -> None:
    value = sample()
    assert decode(encode(value, BASE), BASE) == value
    empty = Analysis(Facts("data"), (), ())
    assert decode(encode(empty, BASE), BASE) == empty


def test_locations_are_rebased() -> None:
    moved = decode(encode(sample(), BASE), "other.tar!/lib/libmpi.so")
    assert moved.facts.items[0].location == "other.tar!/lib/libmpi.so#dynamic"
    assert moved.facts.items[2].location == "elsewhere!/sbom.json#components"  # not under BASE
    assert moved.problems[1].location == ""


def test_store_and_load(tmp_path: Path) -> None:
    store = ResultCache(tmp_path, "sha256:sigs")
    store.put(("a" * 64, "elf\0libmpi.so\x000"), encode(sample(), BASE))
    store.flush()
    again = ResultCache(tmp_path, "sha256:sigs")
    got = again.get_many([("a" * 64, "elf\0libmpi.so\x000"), ("a" * 64, "elf\0other\x000"),
                          ("b" * 64, "x")])
    assert list(got) == [("a" * 64, "elf\0libmpi.so\x000")]
    assert decode(got[("a" * 64, "elf\0libmpi.so\x000")], BASE) == sample()
    assert ResultCache(tmp_path, "sha256:other").get_many([("a" * 64, "elf\0libmpi.so\x000")]) \
        == {}


@pytest.mark.parametrize("garbage", [b"this is not a database" * 100,
                                     b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_file_is_moved_aside_and_rebuilt(tmp_path: Path, sigset, garbage: bytes) -> None:
    image = make_tar(tmp_path / "fw.tar.gz", tree_files(6))
    tree, _ = extract(image, tmp_path / "x")
    nodes = [a for a in tree.walk() if a.local is not None and a.kind != "directory"]
    expected = analyse_all(nodes, sigset, AnalysisOptions(jobs=1, use_cache=False))
    where = tmp_path / "cache"
    where.mkdir()
    (where / DB_NAME).write_bytes(garbage)
    opts = AnalysisOptions(jobs=1, cache_dir=where)
    assert analyse_all(nodes, sigset, opts) == expected
    assert list(where.glob(DB_NAME + ".corrupt-*"))
    assert analyse_all(nodes, sigset, opts) == expected  # from the rebuilt cache
    assert open_cache(where, sigset.digest).get_many([(nodes[-1].sha256, "")]) is not None


def test_corrupted_while_open_is_not_fatal(tmp_path: Path) -> None:
    store = ResultCache(tmp_path, "sha256:sigs")
    store.put(("a" * 64, "c"), b"x")
    store.flush()
    (tmp_path / DB_NAME).write_bytes(b"\x00garbage" * 2048)
    for suffix in ("-wal", "-shm"):
        (tmp_path / (DB_NAME + suffix)).unlink(missing_ok=True)
    store.get_many([("a" * 64, "c")])  # may or may not notice: it must not raise
    store.put(("b" * 64, "c"), b"y")
    store.flush()
    assert ResultCache(tmp_path, "sha256:sigs").db is not None  # rebuilt on the next open


def test_unwritable_directory_disables_quietly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = ResultCache(blocker / "cache", "sha256:sigs")
    assert store.db is None and store.notes
    assert store.get_many([("a", "b")]) == {}
    store.put(("a", "b"), b"x")
    store.flush()


def _writer(args: tuple[str, int]) -> int:
    where, n = args
    store = ResultCache(Path(where), "sha256:sigs")
    store.WRITE_BATCH = 10
    for i in range(200):
        store.put((f"{n}-{i}", "c"), b"v" * 100)
    store.close()
    return len(store.notes)


def test_concurrent_writers(tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(4) as pool:
        notes = pool.map(_writer, [(str(tmp_path), n) for n in range(4)])
    assert notes == [0, 0, 0, 0]
    store = ResultCache(tmp_path, "sha256:sigs")
    assert len(store.get_many((f"{n}-{i}", "c") for n in range(4) for i in range(200))) == 800


def test_default_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_mod.default_dir() == tmp_path / "provenance"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_mod.default_dir() == tmp_path / "home" / ".cache" / "provenance"
    assert "+" in cache_mod.tool_key()  # version + source digest
