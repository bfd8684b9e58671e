"""A scan with the worker pool gives the byte-identical report of a serial one, on a tree big
enough to take the pool by itself (no forcing), and leaves no extracted files behind."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
from test_analysis import make_tar, tree_files

from provenance import pipeline
from provenance.pipeline import blobs
from provenance.pipeline.blobs import AnalysisOptions
from provenance.report import cyclonedx


def _rootfs() -> dict[str, bytes]:
    files = tree_files(120, seed=17)
    for i in range(60):  # small configs, some assigning a MAC address, some with a copyright
        files[f"rootfs/etc/net/if{i}.conf"] = (
            f"# Copyright (c) 2019 Acme Corp.\nethaddr=00:18:82:00:{i // 16:02x}:{i % 16:02x}\n"
            if i % 3 == 0 else f"iface eth{i} inet dhcp\nmtu {1400 + i}\n").encode()
    return files


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tar(tmp_path_factory.mktemp("img") / "rootfs.tar.gz", _rootfs())


def _report(image: Path, sigset, jobs: int) -> str:
    options = pipeline.ScanOptions(reproducible=True,
                                   analysis=AnalysisOptions(jobs=jobs, use_cache=False))
    return cyclonedx.render(pipeline.scan(image, sigset, options))


def test_parallel_report_is_byte_identical_to_serial(image: Path, sigset, monkeypatch) -> None:
    pooled_batches: list[int] = []
    real = blobs._batches

    def counted(work):  # the pool really ran (the tree is over the serial threshold)
        for batch in real(work):
            pooled_batches.append(len(batch))
            yield batch

    monkeypatch.setattr(blobs, "_batches", counted)
    serial = _report(image, sigset, 1)
    assert not pooled_batches
    parallel = _report(image, sigset, 2)
    assert sum(pooled_batches) > blobs.SERIAL_MAX_FILES
    assert parallel == serial
    assert "00:18:82:00:00:00" in serial and '"hisilicon"' in serial


def test_extracted_tree_is_removed(image: Path, sigset, tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    _report(image, sigset, 2)
    assert list(work.iterdir()) == []

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "combine", broken)  # fails after extraction: removed at once
    with pytest.raises(RuntimeError, match="boom"):
        _report(image, sigset, 1)
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("early", [True, False], ids=["large-input", "small-input"])
def test_the_pool_never_forks_while_the_walk_reads_ahead(
        tmp_path: Path, sigset, monkeypatch: pytest.MonkeyPatch, early: bool) -> None:
    """The pure-Python filesystem walk reads members in threads; a fork while one of them holds
    a lock would leave the worker with it held. The pool starts before the walk when the input
    is large enough to need it, else after the walk, never in between."""
    from extract_fixtures import need, run

    need("mksquashfs")
    src = tmp_path / "src"
    for name, data in _rootfs().items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    image = tmp_path / "rootfs.squashfs"
    run("mksquashfs", src, image, "-noappend", "-no-progress", "-quiet")
    monkeypatch.setenv("PROVENANCE_NO_ACCEL", "1")  # the walk that reads ahead in threads
    # the early start is for inputs over SERIAL_MAX_BYTES: this image is over it, or under it
    monkeypatch.setattr(blobs, "SERIAL_MAX_BYTES",
                        image.stat().st_size // 2 if early else image.stat().st_size * 2)
    started: list[tuple[bool, list[str]]] = []
    real_pool, real_submit = blobs._get_pool, pipeline.Analyser.submit
    walking = [False]

    def get_pool(*args):  # type: ignore[no-untyped-def]
        started.append((walking[0], [t.name for t in threading.enumerate()]))
        return real_pool(*args)

    def submit(self, artifact):  # type: ignore[no-untyped-def]
        walking[0] = True  # the walk hands members over from its first member on
        return real_submit(self, artifact)

    monkeypatch.setattr(blobs, "_get_pool", get_pool)
    monkeypatch.setattr(pipeline.Analyser, "submit", submit)
    blobs.shutdown_pool()
    try:
        report = _report(image, sigset, 2)
    finally:
        blobs.shutdown_pool()
    assert started, "the pool was not used"
    assert started[0][0] is not early  # before the first member, or only once all are in
    assert not [names for _, names in started if any(n.startswith("fswalk") for n in names)]
    assert report == _report(image, sigset, 1)


def test_results_cross_processes_as_constructor_calls() -> None:
    """What a worker sends back (facts, hits, problems, attributions) and what it is sent
    (artifacts) is pickled as a call of the constructor: the default state of a frozen slots
    dataclass walks its fields for each of 100,000 objects. The round trip stays exact, enum
    members included."""
    import pickle

    from provenance.attribute.yara_scan import Hit, StringMatch
    from provenance.model import (
        Artifact,
        Attribution,
        Evidence,
        Fact,
        Facts,
        Problem,
        ProblemKind,
        Relationship,
        Stage,
    )

    fact = Fact("elf.soname", "libmpi.so", "fw!/lib/libmpi.so#dynamic")
    evidence = Evidence("binary-analysis", "symbol", "HI_MPI_SYS_Init", "fw@0x10", "r", 0.9)
    values = [
        fact, Facts("elf", "arm", (fact,), name="libmpi.so"), evidence,
        Problem("fw", Stage.EXTRACT, "refused", ProblemKind.LIMIT),
        Attribution("hisilicon", Relationship.MADE_BY, 0.9, (evidence,), "MPP"),
        Artifact(("fw", "lib/libmpi.so"), "ab" * 32, 10, "file", 1, Path("/x")),
        Hit("hisilicon_mpp", (StringMatch("$a", 16, b"HI_MPI"),)),
        blobs.Analysis(Facts("elf"), (), ()),
    ]
    for value in values:
        assert value.__reduce_ex__(pickle.HIGHEST_PROTOCOL)[0] is type(value)
        again = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        assert again == value and type(again) is type(value)
    problem = pickle.loads(pickle.dumps(values[3]))
    assert problem.stage is Stage.EXTRACT and problem.kind is ProblemKind.LIMIT

