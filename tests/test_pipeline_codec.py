"""The codec the result cache uses: a real scan's ScanResult comes back equal, facts included."""

from __future__ import annotations

import dataclasses
import zlib

import pytest
from test_report_build import sample_result

from provenance import pipeline
from provenance.model import Component, Fact, Facts, ScanResult
from provenance.pipeline import codec
from provenance.pipeline.blobs import AnalysisOptions


@pytest.fixture(scope="module")
def scanned(sigset) -> ScanResult:
    sample = pytest.importorskip("conftest").SAMPLES / "ipcam-hi3516ev200.tar.gz"
    return pipeline.scan(sample, sigset, pipeline.ScanOptions(
        analysis=AnalysisOptions(jobs=1, use_cache=False)))


def test_a_real_scan_round_trips_equal(scanned):
    back = codec.load_scan(codec.dump_scan(scanned))
    assert back == scanned
    # equal, and of the same types all the way down (tuples stay tuples, enums stay enums)
    assert _shape(back) == _shape(scanned)
    assert back.started == scanned.started and back.stats == scanned.stats
    # what the old report-based cache dropped is kept
    assert any(c.facts and c.facts.items for c in back.components())
    assert back.findings and back.vendors and back.verdicts


def test_every_model_field_is_exercised(scanned):
    """The round trips prove something only for the fields they fill in: between the real scan
    and the report tests' hand-built result, every field of every type in a ScanResult holds
    a value other than its default somewhere (a field added to the model joins this check)."""
    filled: set[tuple[str, str]] = set()
    every: set[tuple[str, str]] = set()
    # a serial scan has no workers: its peak_rss_workers is 0, unless this process happened
    # to reap a child before (the test failed when run alone); the field is filled here
    assert scanned.cost is not None
    pooled = dataclasses.replace(scanned, cost=dataclasses.replace(
        scanned.cost, peak_rss_workers=123 << 20))
    for result in (scanned, pooled, sample_result(waived=True), _with_a_package()):
        _fields_filled(result, filled, every)
        assert codec.load_scan(codec.dump_scan(result)) == result
    assert sorted(every - filled) == []
    assert ("Facts", "items") in every and ("PolicyEntry", "scope") in every


def _with_a_package() -> ScanResult:
    """The report tests' result with a package whose manifest declared everything."""
    base = sample_result()
    facts = Facts("deb", "armhf", (Fact("deb.maintainer", "A <a@b.org>", "p.deb!/control"),),
                  "libfoo", "1.2-3", "pkg:deb/libfoo@1.2-3", "A <a@b.org>")
    package = Component("ref-pkg", (*base.root.chain, "p.deb"), "libfoo", "deb", "9" * 64, 10,
                        version="1.2-3", purl=facts.purl, supplier=facts.supplier, facts=facts)
    return dataclasses.replace(base, root=dataclasses.replace(
        base.root, children=(*base.root.children, package)))


def _fields_filled(value: object, filled: set[tuple[str, str]],
                   every: set[tuple[str, str]]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            got = getattr(value, f.name)
            every.add((type(value).__name__, f.name))
            if got not in (None, (), {}, "", 0, 0.0, False):
                filled.add((type(value).__name__, f.name))
            _fields_filled(got, filled, every)
    elif isinstance(value, tuple):
        for v in value:
            _fields_filled(v, filled, every)
    elif isinstance(value, dict):
        for v in value.values():
            _fields_filled(v, filled, every)


def test_a_damaged_entry_is_an_error_not_a_result(scanned):
    good = codec.dump_scan(scanned)
    with pytest.raises(ValueError):
        codec.load_scan(good[: len(good) // 2])
    with pytest.raises(ValueError):
        codec.load_scan(zlib.compress(b'[["not", "a", "component"]]'))
    wrong = zlib.compress(b'{"root": 1}')
    with pytest.raises(ValueError):
        codec.load_scan(wrong)


def _shape(value: object) -> object:
    """The value with every node replaced by its type name, to compare types, not only values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,
                [_shape(getattr(value, f.name)) for f in dataclasses.fields(value)])
    if isinstance(value, tuple):
        return ("tuple", [_shape(v) for v in value])
    if isinstance(value, dict):
        return ("dict", {k: _shape(v) for k, v in value.items()})
    return type(value).__name__


def test_components_are_rebuilt_as_components(scanned):
    back = codec.load_scan(codec.dump_scan(scanned))
    assert all(isinstance(c, Component) for c in back.components())


def test_what_orjson_refuses_is_written_by_the_standard_encoder():
    """A lone surrogate (an undecodable member name) and an integer past 64 bits go through
    the standard encoder; the pieces are the same JSON either way."""
    import json

    for value in (["a\udcff", 1], [1 << 70, "x"], [{"k": [1.5, None, "é"]}]):
        assert json.loads(codec._dumps(value)) == value
    assert codec._dumps([1, "é"]) == '[1,"é"]'


def test_a_nan_written_as_null_reads_as_damaged(scanned):
    """orjson writes NaN as null: a float field holding null is a damaged entry (the input is
    scanned again), never a confidence of None."""
    attribution = next(a for c in scanned.components() for a in c.attributions)
    evidence = dataclasses.replace(attribution.evidence[0], confidence=float("nan"))
    broken = dataclasses.replace(attribution, evidence=(evidence,))
    root = dataclasses.replace(scanned.root, attributions=(broken,))
    with pytest.raises((TypeError, ValueError)):
        codec.load_scan(codec.dump_scan(dataclasses.replace(scanned, root=root)))


@pytest.mark.parametrize("odd", ["plain", "caf\u00e9", "name\udcff"])
def test_a_blob_round_trips_rebased(odd):
    """One blob's entry (written by orjson, or by the standard encoder for a lone surrogate):
    locations at the blob's chain come back at the chain it is loaded for, others as they were."""
    from provenance.attribute.yara_scan import Hit, StringMatch
    from provenance.model import Problem, ProblemKind, Stage

    def analysis(base: str) -> tuple[Facts, tuple[Hit, ...], tuple[Problem, ...]]:
        facts = Facts("elf", "x86_64", (
            Fact("elf.export", odd, base + "#dynsym"),
            Fact("elf.soname", "libx.so", base + "#DT_SONAME"),
            Fact("copyright.holder", odd, "elsewhere!/a#x"),
            Fact("elf.comment", "GCC", base),
        ), name=odd, version="1.0")
        hits = (Hit("vendor_x", (StringMatch("$a", 16, b"\x00\xffHuawei"),)),)
        problems = (Problem(base + "@0x10", Stage.IDENTIFY, f"odd {odd}", ProblemKind.CORRUPT),
                    Problem("", Stage.IDENTIFY, "scan-wide", ProblemKind.LIMIT))
        return facts, hits, problems

    entry = codec.dump_blob(*analysis("fw.bin!/usr/lib/libx.so"), "fw.bin!/usr/lib/libx.so")
    assert codec.load_blob(entry, "other.img!/lib/libx.so") == analysis("other.img!/lib/libx.so")
    assert codec.load_blob(entry, "fw.bin!/usr/lib/libx.so") == analysis("fw.bin!/usr/lib/libx.so")
