"""Vendor firmware containers: one parser per format, read by extraction and identification.

The architecture review's probe (§2.4 B) came out "made-by Huawei 0.80, restricted": a RAM-test
fill with `55 AA 5A A5` at offset 92 that the extractor's validator refused, but a looser second
check in identification accepted. Here the identify stage claims a blob as a container exactly
when the extractor would unpack it as one, and the vendor claim comes from the container's module.
"""

from __future__ import annotations

import struct
from datetime import date
from pathlib import Path

import firmware_fixtures as ffx
import identify_fixtures as ifx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import pipeline
from provenance.attribute.resolve import resolve
from provenance.attribute.yara_scan import scan_bytes
from provenance.extract import detect as extract_detect
from provenance.extract.firmware import CONTAINERS, huawei
from provenance.extract.firmware._container import Container
from provenance.identify import fwheaders
from provenance.model import Fact, Facts, Relationship, Verdict
from provenance.pipeline.blobs import AnalysisOptions

ROOT = Path(__file__).resolve().parent.parent
UPDATE_APP_SAMPLE = ROOT / "samples/signatures/huawei_update_app/positive-update-app.bin"
HWNP_SAMPLES = ROOT / "samples/signatures/huawei_hwnp"


def ram_test_probe() -> bytes:
    """The review's probe, 4.2 KB: a 92-byte `A5 5A` RAM-test fill, `55 AA 5A A5`, junk."""
    return (b"\xa5\x5a" * 46 + b"\x55\xaa\x5a\xa5" + struct.pack("<I", 200) + b"ABCDEFGH"
            + b"\0" * 4 + b"\x10\0\0\0" + b"\0" * 4096)


def update_app(marker: int = 0x1000) -> bytes:
    """A structurally valid UPDATE.APP (catalog F1): 92 zero bytes, then two blocks."""
    out = bytearray(92)
    for seq, (name, data) in enumerate(((b"BOOT", ffx.blob(41, 1500)),
                                        (b"SYSTEM", ffx.text(42, 3000)))):
        crc_table = bytes(2 * (len(data) // 0x1000 + 1))
        out += struct.pack("<4sII8sII16s16s16s16sHHH", huawei.APP_MAGIC, 98 + len(crc_table), 1,
                           b"HW7x27\xff\xff", seq, len(data), b"2024.01.01", b"12.00.00", name,
                           bytes(16), 0xBEEF, marker, 0) + crc_table + data
        out += bytes(-len(out) % 4)
    return bytes(out)


def scan(path: Path, sigset):
    options = pipeline.ScanOptions(reproducible=True, as_of=date(2026, 1, 1),
                                   analysis=AnalysisOptions(jobs=1, use_cache=False))
    return pipeline.scan(path, sigset, options)


def read(tmp_path: Path, name: str, data: bytes) -> Facts:
    path = tmp_path / name
    path.write_bytes(data)
    facts, _ = fwheaders.read(path, name)
    return facts


# -- the review's probe and a real container, end to end -----------------------------------------


def test_review_probe_is_clear_end_to_end(tmp_path: Path, sigset) -> None:
    data = ram_test_probe()
    assert 4200 <= len(data) <= 4300
    assert not huawei.detect_app(data, "test-pattern.bin")
    assert not fwheaders.detect(data, "test-pattern.bin")
    assert [h.rule for h in scan_bytes(sigset, data) if not h.rule.startswith("marks__")] == []
    path = tmp_path / "test-pattern.bin"
    path.write_bytes(data)
    result = scan(path, sigset)
    assert result.verdict == Verdict.CLEAR
    assert not result.findings
    assert all(not c.attributions for c in result.components())
    assert result.root.facts is None or result.root.facts.format != "update.app"


@pytest.mark.parametrize("marker", [0x1000, 0], ids=["with-yara", "validator-only"])
def test_valid_update_app_is_restricted(tmp_path: Path, sigset, marker: int) -> None:
    path = tmp_path / "UPDATE.APP"
    path.write_bytes(update_app(marker))
    result = scan(path, sigset)
    assert result.verdict == Verdict.RESTRICTED
    root = result.root
    assert root.kind == "huawei-update-app"
    assert {c.name for c in root.children} == {"BOOT.img", "SYSTEM.img"}
    assert root.facts is not None and root.facts.format == "update.app"
    assert root.facts.values("updateapp.hardware_id") == ("HW7x27",)
    made = next(a for a in root.attributions
                if (a.vendor, a.relationship) == ("huawei", Relationship.MADE_BY))
    rules = {e.rule for e in made.evidence}
    assert "container:huawei-update-app" in rules
    # the YARA rule only fires where its extra marker is there; the validator decides alone
    assert ("huawei_update_app" in rules) == (marker == 0x1000)


# -- one decision: identification claims what the extractor unpacks ------------------------------


def _positives() -> dict[str, bytes]:
    return {
        "UPDATE.APP": update_app(), "UPDATE-nomarker.APP": update_app(0),
        "uImage": ifx.uimage(), "digicap.dav": ffx.digicap()[0],
        "swapped.dav": ffx.digicap(True)[0],
        "config.bin": ffx.zte_config()[0], "bare-config.bin": ffx.zte_config(1, header=False)[0],
        "dh.bin": ffx.dahua()[0], "id-update.app": ifx.update_app(), "id-digicap": ifx.digicap(),
        "id-config.bin": ifx.zte_config(),
        "hwnp.bin": ffx.hwnp()[0], "hwnp-le.bin": (HWNP_SAMPLES / "positive-hwnp.bin").read_bytes(),
    }


def _look_alikes() -> dict[str, bytes]:
    lone = bytes(92) + huawei.APP_MAGIC + bytes(200)
    bad_name = bytearray(update_app())
    bad_name[92 + 60 + 3] = 0x01
    bad_count = bytearray(ffx.digicap()[0])
    bad_count[12:16] = bytes(a ^ b for a, b in zip(bad_count[12:16], b"\xff\xff\xff\x7f",
                                                   strict=True))
    return {"probe.bin": ram_test_probe(), "lone-magic.bin": lone, "bad-name.APP": bytes(bad_name),
            "bad-count.dav": bytes(bad_count), "dma-test.bin": b"\x55\xaa\x5a\xa5" * 64,
            "swkh-text.txt": b"SWKH is the digicap magic\n" * 10,
            "hwnp-item-size.bin": (HWNP_SAMPLES / "negative-implausible-item-size.bin")
            .read_bytes(),
            "hwnp-text.txt": (HWNP_SAMPLES / "negative-magic-in-text.bin").read_bytes()}


@pytest.mark.parametrize("name", sorted({**_positives(), **_look_alikes()}))
def test_identify_claims_exactly_what_the_extractor_unpacks(tmp_path: Path, name: str) -> None:
    data = {**_positives(), **_look_alikes()}[name]
    path = tmp_path / name
    path.write_bytes(data)
    head = data[:4096]
    unpacked_as = extract_detect(head, name, path)
    claimed = fwheaders.claim(head, name)
    assert claimed is (unpacked_as if isinstance(unpacked_as, Container) else None)
    assert (claimed is not None) == (name in _positives())


def test_container_facts_and_declaration(tmp_path: Path) -> None:
    facts = read(tmp_path, "UPDATE.APP", update_app())
    assert facts.format == "update.app"
    assert [(f.key, f.value, f.location) for f in facts.items[:3]] == [
        ("container.format", "huawei-update-app", "UPDATE.APP@0x5c"),
        ("container.vendor", "huawei", "UPDATE.APP@0x5c"),
        ("container.relationship", "made-by", "UPDATE.APP@0x5c")]
    assert facts.values("updateapp.partition") == ("BOOT", "SYSTEM")
    facts = read(tmp_path, "digicap.dav", ffx.digicap()[0])
    assert (facts.format, facts.first("container.vendor")) == ("digicap", "hikvision")
    assert facts.first("digicap.device_class") == "0x11"
    facts = read(tmp_path, "config.bin", ffx.zte_config()[0])
    assert (facts.format, facts.name, facts.first("container.vendor")) == (
        "zte-config", "ZXHN H298N", "zte")
    facts = read(tmp_path, "uImage", ifx.uimage())
    assert facts.format == "uimage" and facts.name == "Linux-4.9.37-hi3516cv300"
    assert facts.first("container.vendor") is None  # a generic format names no vendor


def _bare_zte_payload(ptype: int, trailing: bytes = b"") -> bytes:
    """ZTE's payload layout without its header or signature block (db_default_auto_cfg.bin):
    a 60-byte payload header, then 12-byte block headers (plain size, stored size, offset of the
    next block from the payload start, 0 on the last) each before its stored block."""
    chunks = [ffx.blob(60 + i, 700) for i in range(3)]
    body, offset = b"", 60
    for i, chunk in enumerate(chunks):
        offset += 12 + len(chunk)
        following = 0 if i == len(chunks) - 1 else offset
        body += struct.pack(">III", len(chunk) - 5, len(chunk), following) + chunk
    return struct.pack(">II", 0x01020304, ptype) + bytes(52) + body + trailing


def test_bare_zte_payload_with_its_block_chain_is_zte(tmp_path: Path, sigset) -> None:
    facts = read(tmp_path, "db_default_auto_cfg.xml", _bare_zte_payload(3))
    assert (facts.format, facts.first("container.vendor")) == ("zte-config", "zte")
    # near miss: the same blocks with one byte after the last: the chain no longer accounts for
    # every byte, and the four-byte magic alone names no maker
    facts = read(tmp_path, "near.xml", _bare_zte_payload(3, trailing=b"\0"))
    assert facts.format == "zte-config" and facts.first("container.vendor") is None


def test_loose_variants_are_unpacked_but_name_no_maker(tmp_path: Path, sigset) -> None:
    bare_payload = struct.pack(">II", 0x01020304, 2) + ffx.blob(43, 200)  # ZTE AES payload only
    facts = read(tmp_path, "payload.bin", bare_payload)
    assert facts.format == "zte-config" and facts.first("container.vendor") is None
    assert resolve(facts, (), sigset, "payload.bin") == ()
    header_only = ffx.zte_config()[0][:128] + ffx.blob(45, 64)  # ZTE's header, nothing after
    facts = read(tmp_path, "header.bin", header_only)
    assert facts.format == "zte-config" and facts.first("container.vendor") is None
    dh = b"DH\x03\x04" + ffx.blob(44, 300)  # the DH magic without a zip directory
    facts = read(tmp_path, "dh.bin", dh)
    assert facts.format == "dahua-fw" and facts.first("container.vendor") is None
    facts = read(tmp_path, "dh-no-hwid.bin", ffx.dahua()[0])  # a DH zip that names no hardware
    assert facts.format == "dahua-fw" and facts.first("container.vendor") is None


def test_dahua_hwid_through_the_extractors_view(tmp_path: Path, sigset) -> None:
    path = ifx.dahua_zip(tmp_path)
    facts, problems = fwheaders.read(path, path.name)
    assert not problems
    assert facts.first("dahua.hwid") == ifx.DAHUA_HWID.decode()
    assert facts.first("container.vendor") == "dahua"
    (made,) = resolve(facts, (), sigset, path.name)
    assert (made.vendor, made.relationship) == ("dahua", Relationship.MADE_BY)
    assert [e.rule for e in made.evidence] == ["container:dahua-dhzip"]


def test_a_bare_hwid_fact_names_no_maker(sigset) -> None:
    """Only the container reader's validated header names Dahua; zipped.py no longer claims DH
    zips, so a lone hwid fact is not evidence on its own."""
    facts = Facts("dahua-fw", items=(Fact("dahua.hwid", "IPC-HFW4431R-Z", "fw!/hwid"),))
    assert resolve(facts, (), sigset, "fw") == ()


def test_unknown_relationship_or_vendor_is_ignored(sigset) -> None:
    def claim(vendor: str, rel: str) -> Facts:
        return Facts("x", items=(Fact("container.format", "x", "f@0x0"),
                                 Fact("container.vendor", vendor, "f@0x0"),
                                 Fact("container.relationship", rel, "f@0x0")))

    assert resolve(claim("huawei", "owned-by"), (), sigset, "f") == ()
    assert resolve(claim("no-such-vendor", "made-by"), (), sigset, "f") == ()


def test_hwnp_is_restricted_by_its_own_header(tmp_path: Path, sigset) -> None:
    """HWNP as a vendor container: its module declares the vendor, nothing else changed. The
    fixture is big-endian, which the huawei_hwnp YARA rule (little-endian only) does not see."""
    data, members = ffx.hwnp()
    path = tmp_path / "ont.bin"
    path.write_bytes(data)
    facts = read(tmp_path, "ont.bin", data)
    assert (facts.format, facts.first("container.vendor")) == ("huawei-hwnp", "huawei")
    assert facts.first("hwnp.products") == "164C|15AD|;E8C|COMMON|"
    assert facts.values("hwnp.version") == ("V500R020",)
    result = scan(path, sigset)
    assert result.verdict == Verdict.RESTRICTED
    assert result.root.kind == "huawei-hwnp" and len(result.root.children) == len(members)
    made = next(a for a in result.root.attributions if a.vendor == "huawei")
    assert [e.rule for e in made.evidence] == ["container:huawei-hwnp"]
    cut = data[: 36 + 24 + 360]  # the item table runs past the end: unpacked, but not Huawei's
    facts = read(tmp_path, "cut.bin", cut)
    assert facts.format == "huawei-hwnp" and facts.first("container.vendor") is None


# -- the registry ----------------------------------------------------------------------------------


def test_every_vendor_container_names_a_catalog_vendor(sigset) -> None:
    vendors = {c.name: c.vendor for c in CONTAINERS}
    # these at least (a new container registers itself: it is checked below, not listed here)
    assert vendors.items() >= {"uimage": None, "huawei-update-app": "huawei",
                               "huawei-hwnp": "huawei", "hikvision-dav": "hikvision",
                               "dahua-dhzip": "dahua", "zte-config": "zte"}.items()
    for container in CONTAINERS:
        assert container.vendor is None or container.vendor in sigset.vendors
        assert isinstance(container.relationship, Relationship)
        if container.source is not None:  # the layout's documentation, cited by its vendor
            assert container.vendor is not None
            assert container.source in sigset.vendors[container.vendor].sources
    read_as = fwheaders.KINDS
    assert read_as >= {"uimage", "update.app", "huawei-hwnp", "digicap", "zte-config", "dahua-fw"}
    assert read_as == {c.facts_format for c in CONTAINERS}


def test_a_container_needs_a_header_reader() -> None:
    with pytest.raises(ValueError, match="header reader"):
        Container("acme", "Acme", huawei.detect_app, huawei.extract_app)


# -- the YARA rule may only be stricter than the validator --------------------------------------

_positive = UPDATE_APP_SAMPLE.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.integers(0, 191), st.integers(0, 255)), min_size=1,
                        max_size=4))
def test_yara_update_app_rule_implies_the_validator(sigset, changes) -> None:
    data = bytearray(_positive)
    for pos, value in changes:
        data[pos] = value
    fired = any(h.rule == "huawei_update_app" for h in scan_bytes(sigset, bytes(data)))
    if fired:
        assert huawei.detect_app(bytes(data[:4096]), "UPDATE.APP")


def test_yara_update_app_samples_agree_with_the_validator(sigset) -> None:
    folder = UPDATE_APP_SAMPLE.parent
    for sample in sorted(folder.glob("*.bin")):
        data = sample.read_bytes()
        fired = any(h.rule == "huawei_update_app" for h in scan_bytes(sigset, data))
        assert fired == sample.name.startswith("positive-"), sample.name
        assert huawei.detect_app(data[:4096], sample.name) == fired, sample.name
