"""A re-scan of an unchanged input is answered from the cache, with the same report."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from provenance import pipeline
from provenance.pipeline.blobs import AnalysisOptions
from provenance.pipeline.facts_dump import facts_json
from provenance.report import cyclonedx


@pytest.fixture()
def options(tmp_path):
    return pipeline.ScanOptions(reproducible=True,
                                analysis=AnalysisOptions(jobs=1, cache_dir=tmp_path / "cache"))


def test_warm_scan_skips_extraction_and_gives_the_same_report(
        restricted_sample, sigset, options, monkeypatch):
    cold = pipeline.scan(restricted_sample, sigset, options)

    def no_extraction(*_args, **_kwargs):
        raise AssertionError("a warm scan must not unpack the input again")

    monkeypatch.setattr(pipeline, "extract", no_extraction)
    warm = pipeline.scan(restricted_sample, sigset, options)
    assert cyclonedx.render(warm) == cyclonedx.render(cold)
    assert warm.verdict == cold.verdict and warm.findings == cold.findings


def test_changed_input_name_or_options_miss_the_cache(
        restricted_sample, sigset, options, tmp_path, monkeypatch):
    pipeline.scan(restricted_sample, sigset, options)
    calls = []
    real = pipeline.extract
    monkeypatch.setattr(pipeline, "extract", lambda *a, **k: calls.append(1) or real(*a, **k))
    copy = tmp_path / "other-name.tar.gz"
    shutil.copy(restricted_sample, copy)
    pipeline.scan(copy, sigset, options)  # same bytes, another name: the report differs
    pipeline.scan(restricted_sample, sigset, replace(options, policies=("us-ndaa-889",)))
    data = bytearray(restricted_sample.read_bytes())
    changed = tmp_path / restricted_sample.name
    changed.write_bytes(bytes(data) + b"\0" * 512)
    pipeline.scan(changed, sigset, options)
    assert len(calls) == 3


def test_no_cache_bypasses_it(restricted_sample, sigset, options, monkeypatch):
    pipeline.scan(restricted_sample, sigset, options)
    calls = []
    real = pipeline.extract
    monkeypatch.setattr(pipeline, "extract", lambda *a, **k: calls.append(1) or real(*a, **k))
    pipeline.scan(restricted_sample, sigset, replace(
        options, analysis=replace(options.analysis, use_cache=False)))
    assert len(calls) == 1


def test_a_warm_scan_keeps_the_facts(restricted_sample, sigset, options, monkeypatch):
    """The cache keeps the ScanResult itself, not a report: `--facts` needs no cold scan."""
    cold = pipeline.scan(restricted_sample, sigset, options)
    monkeypatch.setattr(pipeline, "extract", None)  # a warm scan that unpacked would fail
    warm = pipeline.scan(restricted_sample, sigset, options)
    assert warm == cold
    assert facts_json(warm) == facts_json(cold)
    assert sum(len(c.facts.items) for c in warm.components() if c.facts) > 20


def test_facts_from_the_cli_are_the_same_warm_and_cold(restricted_sample, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from provenance.cli import app

    def facts(name: str) -> str:
        out = tmp_path / name
        result = CliRunner().invoke(app, [
            "scan", str(restricted_sample), "--reproducible", "-q", "--jobs", "1",
            "--cache-dir", str(tmp_path / "cache"), "--facts", str(out)],
            catch_exceptions=False)
        assert result.exit_code == 1, result.output  # the sample is restricted
        return out.read_text(encoding="utf-8")

    cold = facts("cold.json")
    monkeypatch.setattr(pipeline, "extract", None)  # `--facts` is answered from the cache
    assert facts("warm.json") == cold
    assert '"elf.soname"' in cold


def test_a_bound_on_kept_facts_is_not_a_coverage_gap(tmp_path, sigset):
    from elfgen import ElfSpec, build

    from provenance.identify.base import MAX_SYMBOLS

    lib = tmp_path / "libbig.so"
    lib.write_bytes(build(ElfSpec(soname="libbig.so",
                                  exports=[f"fn_{i}" for i in range(MAX_SYMBOLS + 10)])))
    result = pipeline.scan(lib, sigset, pipeline.ScanOptions(
        analysis=AnalysisOptions(jobs=1, use_cache=False)))
    assert any(p.kind == "limit" for p in result.problems)  # still reported
    assert result.coverage.value == "complete"


def test_the_input_is_hashed_once(restricted_sample, sigset, options, monkeypatch, tmp_path):
    """The whole-scan cache key and the root artifact need the same SHA-256: the input is read
    for it once per scan (a 1 GiB image, 0.7 s), and never taken from an earlier scan."""
    from provenance.extract import saferoot

    copy = tmp_path / restricted_sample.name
    copy.write_bytes(restricted_sample.read_bytes())
    reads = []
    real = saferoot.hash_file

    def counted(path):  # type: ignore[no-untyped-def]
        if path == copy:
            reads.append(path)
        return real(path)

    monkeypatch.setattr(saferoot, "hash_file", counted)
    cold = pipeline.scan(copy, sigset, options)
    assert reads == [copy]
    with copy.open("ab") as f:
        f.write(b"\0" * 512)  # another input now, under the same name
    changed = pipeline.scan(copy, sigset, options)
    assert reads == [copy, copy]
    assert changed.root.sha256 != cold.root.sha256
    pipeline.scan(copy, sigset, options)  # unchanged, answered from the cache: read for its key
    assert reads == [copy, copy, copy]


def test_a_first_scan_hashes_its_input_beside_the_walk(sigset, tmp_path, monkeypatch):
    """No scan of an input of this size, name and options is kept: the scan starts at once,
    and a worker hashes the input while the walk unpacks it (the main process never reads it
    whole). Once kept, the next scan reads it for its key and is answered from the cache."""
    import hashlib
    import io
    import os
    import tarfile
    from datetime import date

    import provenance.extract as extract_module
    from provenance.extract import saferoot
    from provenance.pipeline.blobs import shutdown_pool
    from provenance.pipeline.cache import open_cache

    src = tmp_path / "big.tar"
    with tarfile.open(src, "w") as tar:  # over SERIAL_MAX_BYTES: the pool is started
        for i, data in enumerate([os.urandom(3 << 20), os.urandom(3 << 20), b"text\n"]):
            info = tarfile.TarInfo(f"m{i}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    options = pipeline.ScanOptions(reproducible=True, analysis=AnalysisOptions(
        jobs=2, cache_dir=tmp_path / "cache"))
    cache = open_cache(tmp_path / "cache", sigset.digest)
    when = date(2026, 1, 1)
    assert pipeline._scan_key(src, options, when, cache) is None
    reads = []
    real = saferoot.hash_input

    def counted(path):  # type: ignore[no-untyped-def]
        reads.append(path)
        return real(path)

    # what reads the input in this process (the workers' `hash_file` is left as it is)
    for module in (pipeline, extract_module):
        monkeypatch.setattr(module, "hash_input", counted)
    try:
        cold = pipeline.scan(src, sigset, replace(options, as_of=when))
        assert reads == []  # taken in a worker
        assert cold.root.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
        assert cold.root.size == src.stat().st_size
        assert pipeline._scan_key(src, options, when, cache) == (
            cold.root.sha256, pipeline._scan_context(src, options, when))
        reads.clear()
        monkeypatch.setattr(pipeline, "extract", lambda *a, **k: pytest.fail("not answered"))
        warm = pipeline.scan(src, sigset, replace(options, as_of=when))
        assert reads == [src]  # read here for the key, answered from the cache
        assert cyclonedx.render(warm) == cyclonedx.render(cold)
    finally:
        shutdown_pool()
