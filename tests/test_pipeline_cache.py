"""A re-scan of an unchanged input is answered from the cache, with the same report."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from provenance import pipeline
from provenance.analysis import AnalysisOptions
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


def test_no_cache_and_facts_bypass_it(restricted_sample, sigset, options, monkeypatch):
    pipeline.scan(restricted_sample, sigset, options)
    calls = []
    real = pipeline.extract
    monkeypatch.setattr(pipeline, "extract", lambda *a, **k: calls.append(1) or real(*a, **k))
    pipeline.scan(restricted_sample, sigset, replace(
        options, analysis=replace(options.analysis, use_cache=False)))
    facts = pipeline.scan(restricted_sample, sigset, replace(options, whole_scan_cache=False))
    assert len(calls) == 2
    assert any(c.facts is not None and c.facts.items for c in facts.components())


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
