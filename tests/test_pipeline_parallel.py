"""A scan with the worker pool gives the byte-identical report of a serial one, on a tree big
enough to take the pool by itself (no forcing), and leaves no extracted files behind."""

from __future__ import annotations

import tempfile
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

    monkeypatch.setattr(pipeline, "infer", broken)  # fails after extraction: removed at once
    with pytest.raises(RuntimeError, match="boom"):
        _report(image, sigset, 1)
    assert list(work.iterdir()) == []
