"""The content scanners skip the passes whose anchors the YARA scan did not see
(`identify.anchors`): the facts must be the same as with every pass, on statements and
certificates of every form, on mutated and random bytes, and when the rules lack the anchors."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import identify_fixtures as fx
import pytest
import yara
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_identify_fuzz import SEEDS, mutated

from provenance import signatureset
from provenance.attribute import yara_scan
from provenance.identify import anchors, certs, copyright
from provenance.identify.base import Sink
from provenance.model import Artifact, Fact, Problem
from provenance.pipeline.blobs import analyse

RULES = yara.compile(source=anchors.yara_source(), error_on_warning=True)

STATEMENTS = [
    b"Copyright 2019 Acme Corp.",
    b"COPYRIGHT (C) 2020 HUAWEI TECHNOLOGIES CO., LTD.",
    b"(c) 2021 ZTE Corporation",
    b"(C)2018 Hangzhou Hikvision Digital Technology Co., Ltd.",
    b"\xa9 2017 Zhejiang Dahua Technology",  # the Latin-1 sign: no anchor, always sought
    "\u00a9 2016 Quectel Wireless Solutions".encode(),  # the UTF-8 sign
    b"copyright 2015-2022 someone",
]


def _present(data: bytes) -> frozenset[str] | None:
    return anchors.present(m.rule for m in RULES.match(data=data))


def _facts(scan: Callable[..., int], data: bytes, present: frozenset[str] | None
           ) -> tuple[int, list[Fact], list[Problem]]:
    sink = Sink("x")
    n = scan(data, sink, present)
    return n, sink.facts, sink.problems


def _same(data: bytes) -> None:
    present = _present(data)
    assert present is not None
    for scan in (copyright.scan, certs.scan):
        assert _facts(scan, data, present) == _facts(scan, data, None)


@pytest.mark.parametrize("statement", STATEMENTS)
def test_each_form_of_a_statement_is_found_with_the_anchors(statement: bytes) -> None:
    data = b"\x00\x7fELF junk " * 20 + statement + b"\x00" + b"\xa9\xff" * 30
    _same(data)
    n, facts, _ = _facts(copyright.scan, data, _present(data))
    assert n == 1 and any(f.key == "copyright.holder" for f in facts)


def test_no_anchor_means_no_pass_and_no_statement() -> None:
    data = b"copy right (c)2019 (x) 2019 \xc3\xa9t\xc3\xa9 2019 BEGIN" * 50
    assert _present(data) == frozenset({"paren-c"})  # "(c)" without a year next to it
    _same(data)


def test_certificates_are_found_with_the_anchors(tmp_path: Path) -> None:
    pem_blob, der_blob = fx.build_cert_blob(tmp_path)
    for blob, anchor in ((pem_blob, "pem"), (der_blob, "der")):
        data = blob.read_bytes()
        assert anchor in (_present(data) or ())
        _same(data)
        n, facts, _ = _facts(certs.scan, data, _present(data))
        assert n == 1 and any(f.key == "cert.subject.O" for f in facts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(mutated(SEEDS["copyright"]), mutated(SEEDS["pem"]),
                      mutated(SEEDS["der"]), st.binary(max_size=512),
                      st.lists(st.sampled_from([*STATEMENTS, b"\x00", b"(c", b"OPYRIGHT ",
                                                b"-----BEGIN ", b"\x30\x82"]),
                               max_size=12).map(b" ".join)))
def test_the_facts_are_those_of_every_pass(data: bytes) -> None:
    _same(data)


def test_without_the_anchor_rules_every_pass_runs(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules compiled without the anchors (a stale compiled file) say nothing of them: the
    blob is searched whole, not taken to hold no anchor."""
    sigset = signatureset.load()
    blob = tmp_path / "notice.txt"
    blob.write_bytes(b"OPYRIGHT notice\nCOPYRIGHT (C) 2020 HUAWEI TECHNOLOGIES CO., LTD.\n")
    artifact = Artifact(("fw.bin", "notice.txt"), "0" * 64, blob.stat().st_size, "file", 1,
                        local=blob)
    with_anchors = analyse(artifact, sigset)
    monkeypatch.setattr(yara_scan, "_compiled", {})
    real = yara_scan._generated
    monkeypatch.setattr(yara_scan, "_generated",
                        lambda s: {k: v for k, v in real(s).items() if k != "anchors"})
    rules = yara_scan.compile_rules(sigset)
    assert not any(r.identifier.startswith(anchors.PREFIX) for r in rules)
    without = analyse(artifact, sigset)
    holders = [f.value for f in without.facts.items if f.key == "copyright.holder"]
    assert holders == ["HUAWEI TECHNOLOGIES CO., LTD."]
    assert dataclasses.replace(without, hits=()) == dataclasses.replace(with_anchors, hits=())


def test_the_anchor_rules_leave_no_hit() -> None:
    sigset = signatureset.load()
    data = b"Copyright (c) 2020 Acme -----BEGIN \x30\x82\x01\x00\x30\x82"
    hits, present = yara_scan.scanned_bytes(sigset, data)
    assert present == frozenset({"copyright", "paren-c", "pem", "der"})
    assert not any(h.rule.startswith(anchors.PREFIX) for h in hits)
    assert yara_scan.scan_bytes(sigset, data) == hits
