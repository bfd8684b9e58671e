"""Upstream open source is not the vendor's product: `contributed` (issue 13 item 8).

Fixtures are generated: kernel modules by samples/elfgen.py, packages by a small ar/tar writer.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from elfgen import ET_DYN, ET_REL, ElfSpec, build
from typer.testing import CliRunner

from provenance import pipeline
from provenance.attribute import upstream
from provenance.cli import app
from provenance.model import Attribution, Component, Evidence, Fact, Facts, Relationship, Verdict
from provenance.pipeline import contained, distributed
from provenance.pipeline.blobs import AnalysisOptions
from provenance.policy import contributed_as_made_by, evaluate
from provenance.signatureset import SignatureSet, Vendor

DEBIAN_KERNEL = "6.1.0-50-armmp SMP mod_unload modversions ARMv7 p2v8 "
DEBIAN_GCC = "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
HUAWEI = "Huawei Technologies Co., Ltd."

VENDORS = {v: Vendor(v, v.title(), "CN", p) for v, p in
           (("huawei", None), ("hisilicon", "huawei"), ("hikvision", None), ("acme", None))}
STUB = SignatureSet(VENDORS, (), {}, "sha256:t", ())


# -- fixtures ----------------------------------------------------------------------------------

def module(intree: bool = True, licence: str = "GPL", vermagic: str = DEBIAN_KERNEL,
           comment: str | None = DEBIAN_GCC, author: str = HUAWEI) -> bytes:
    """A kernel module like the kernel's hinic.ko: Huawei's author line, a GPL licence."""
    info = {"license": [licence], "description": ["Huawei Intelligent NIC driver"],
            "author": [author], "name": ["hinic"], "vermagic": [vermagic]}
    if intree:
        info["intree"] = ["Y"]
    return build(ElfSpec(type=ET_REL, comment=comment, modinfo=info,
                         strings=["hinic_port.c", "HiNIC PCI Express driver"]))


def _tar(files: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:  # type: ignore[call-overload]
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def deb(package: str, maintainer: str, files: dict[str, bytes], extra: str = "") -> bytes:
    """A .deb (ar of debian-binary, control.tar.gz, data.tar.xz), as dpkg-deb writes it."""
    control = _tar({"./control": (f"Package: {package}\nVersion: 6.1.176-1\n"
                                  f"Architecture: armhf\nMaintainer: {maintainer}\n{extra}"
                                  f"Description: test package\n").encode()}, "w:gz")
    data = _tar({f"./{k}": v for k, v in files.items()}, "w:xz")
    out = b"!<arch>\n"
    for name, body in ((b"debian-binary", b"2.0\n"), (b"control.tar.gz", control),
                       (b"data.tar.xz", data)):
        out += (name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6)
                + b"100644".ljust(8) + str(len(body)).encode().ljust(10) + b"`\n" + body)
        if len(body) % 2:
            out += b"\n"
    return out


def scan(path: Path, sigset: SignatureSet, **options: object):
    opts = pipeline.ScanOptions(reproducible=True, as_of=date(2026, 1, 1),
                                analysis=AnalysisOptions(jobs=1, use_cache=False), **options)
    return pipeline.scan(path, sigset, opts)


def the(result, name: str) -> Component:
    return next(c for c in result.components() if c.path.endswith(name))


def huawei(component: Component) -> Attribution:
    return next(a for a in component.attributions if a.vendor == "huawei")


# -- kernel modules, scanned for real ------------------------------------------------------------

def test_in_tree_gpl_module_built_by_a_distribution_is_contributed(sigset, tmp_path):
    path = tmp_path / "hinic.ko"
    path.write_bytes(module())
    result = scan(path, sigset)
    ko = the(result, "hinic.ko")
    a = huawei(ko)
    assert a.relationship is Relationship.CONTRIBUTED
    why = a.evidence[0]
    assert why.rule == "upstream:kernel-module" and why.signal == "upstream"
    assert "intree=Y, license GPL" in why.detail and "Debian kernel 6.1.0-50-armmp" in why.detail
    assert DEBIAN_GCC in why.detail and "huawei's part is a contribution" in why.detail
    assert any(e.rule == "modinfo.author" for e in a.evidence)  # the vendor evidence is kept
    assert ko.manufacturer is None  # upstream code: the vendor did not make this product
    assert result.verdict is Verdict.REVIEW
    (finding,) = [f for f in result.findings if f.vendor == "huawei"]
    assert finding.level is Verdict.REVIEW
    assert "built and shipped by others: review, not restricted" in finding.rationale


@pytest.mark.parametrize("spec", [
    {"intree": False},  # built outside a kernel tree: the vendor's own out-of-tree module
    {"licence": "Proprietary"},  # not free software, whoever built it
    {"licence": "Huawei Technologies Co."},  # a vendor licence naming the company
    {"vermagic": "4.19.90-vhulk2111.1.0.h963.eulerosv2r10.aarch64 SMP mod_unload aarch64"},
    {"vermagic": "4.9.37 SMP mod_unload ARMv7 p2v8 "},  # a vendor BSP kernel
    {"vermagic": "4.9.37 SMP mod_unload ARMv7 p2v8 ", "comment": DEBIAN_GCC},  # built on Debian
], ids=["out-of-tree", "proprietary", "vendor-licence", "euleros", "vendor-bsp", "debian-host"])
def test_near_misses_stay_made_by_and_restricted(sigset, tmp_path, spec):
    path = tmp_path / "hinic.ko"
    path.write_bytes(module(**spec))  # type: ignore[arg-type]
    result = scan(path, sigset)
    a = huawei(the(result, "hinic.ko"))
    assert a.relationship is Relationship.MADE_BY
    assert not any(e.rule.startswith("upstream:") for e in a.evidence)
    assert result.verdict is Verdict.RESTRICTED


def test_the_option_counts_contributed_as_made_by(sigset, tmp_path):
    path = tmp_path / "hinic.ko"
    path.write_bytes(module())
    result = scan(path, contributed_as_made_by(sigset), contributed_as_made_by=True)
    assert huawei(the(result, "hinic.ko")).relationship is Relationship.CONTRIBUTED
    assert result.verdict is Verdict.RESTRICTED
    (finding,) = [f for f in result.findings if f.vendor == "huawei"]
    assert finding.level is Verdict.RESTRICTED and "counted as made-by" in finding.rationale


def test_cli_option_and_its_cache_key(tmp_path):
    path = tmp_path / "hinic.ko"
    path.write_bytes(module())
    runner = CliRunner()
    common = ["scan", str(path), "-q", "--cache-dir", str(tmp_path / "cache"), "-j", "1"]
    out = tmp_path / "r.json"
    first = runner.invoke(app, [*common, "-o", str(out)], catch_exceptions=False)
    assert first.exit_code == 0  # review only: the default gate passes
    verdict = {p["name"]: p["value"] for p in
               json.loads(out.read_text())["metadata"]["component"]["properties"]}
    assert verdict["provenance:verdict"] == "review"
    # same file, same cache: the option is part of the whole-scan key, not answered from cache
    flipped = runner.invoke(app, [*common, "--contributed-as-made-by"], catch_exceptions=False)
    assert flipped.exit_code == 1
    again = runner.invoke(app, common, catch_exceptions=False)
    assert again.exit_code == 0


def test_scan_key_includes_the_option(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"x")
    plain = pipeline._scan_context(path, pipeline.ScanOptions(), date(2026, 1, 1))
    made_by = pipeline._scan_context(path, pipeline.ScanOptions(contributed_as_made_by=True),
                                     date(2026, 1, 1))
    assert plain != made_by


def test_distribution_kernel_package_rolls_up_contributed(sigset, tmp_path):
    path = tmp_path / "linux-image.deb"
    path.write_bytes(deb("linux-image-6.1.0-50-armmp",
                         "Debian Kernel Team <debian-kernel@lists.debian.org>",
                         {"lib/modules/6.1.0-50-armmp/kernel/drivers/net/ethernet/huawei/hinic/"
                          "hinic.ko": module()}))
    result = scan(path, sigset)
    assert result.verdict is Verdict.REVIEW
    package = result.root
    (rolled,) = [a for a in package.attributions if a.vendor == "huawei"]
    assert rolled.relationship is Relationship.CONTRIBUTED
    assert rolled.evidence[0].rule == "contributed:upstream:kernel-module"
    assert rolled.evidence[0].detail.endswith("hinic.ko is contributed huawei "
                                              f"({rolled.confidence:.2f})")


def test_the_report_validates_and_reads_back(sigset, tmp_path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from provenance.report import cyclonedx
    from provenance.report.load import from_cyclonedx

    path = tmp_path / "linux-image.deb"
    path.write_bytes(deb("linux-image-6.1.0-50-armmp", "Debian Kernel Team "
                         "<debian-kernel@lists.debian.org>", {"lib/modules/hinic.ko": module()}))
    result = scan(path, sigset)
    text = cyclonedx.render(result)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    back = from_cyclonedx(json.loads(text))
    assert back.findings == result.findings and back.verdict is Verdict.REVIEW
    def walk(nodes):
        for node in nodes:
            yield node
            yield from walk(node.get("components", []))

    ko = next(c for c in walk(json.loads(text)["components"]) if c["name"] == "hinic")
    props = {p["name"]: p["value"] for p in ko["properties"]}
    assert props["provenance:relationship"] == "contributed" and "manufacturer" not in ko


def test_vendor_module_in_a_vendor_package_stays_contains(sigset, tmp_path):
    path = tmp_path / "vendor-drivers.deb"
    path.write_bytes(deb("vendor-drivers", "Acme Build <build@acme.example>",
                         {"lib/modules/4.9.37/extra/hinic.ko": module(intree=False)}))
    result = scan(path, sigset)
    assert result.verdict is Verdict.RESTRICTED
    (rolled,) = [a for a in result.root.attributions if a.vendor == "huawei"]
    assert rolled.relationship is Relationship.CONTAINS


def libhns_so() -> bytes:
    """rdma-core's hns provider as Debian ships it: no upstream mark of its own."""
    table = b"".join(bytes(8) + struct.pack("<HHI", 0x19E5, dev, 1) + bytes(8)
                     for dev in (0xA222, 0xA223, 0xA224, 0xA225))
    return build(ElfSpec(soname="libhns-rdmav34.so", type=ET_DYN, comment=None,
                         exports=["hns_roce_u_reg_mr"], needed=["libibverbs.so.1"],
                         strings=["hns: failed to handle recv inline wqe!"])) + table


LIBHNS = "usr/lib/x86_64-linux-gnu/libibverbs/libhns-rdmav34.so"


def test_library_in_a_distribution_package_is_contributed(sigset, tmp_path):
    path = tmp_path / "ibverbs-providers.deb"
    path.write_bytes(deb("ibverbs-providers", "Benjamin Drung <bdrung@ubuntu.com>",
                         {LIBHNS: libhns_so()}, "Source: rdma-core\n"))
    result = scan(path, sigset)
    so = the(result, "libhns-rdmav34.so")
    a = next(a for a in so.attributions if a.vendor == "hisilicon")
    assert a.relationship is Relationship.CONTRIBUTED
    assert a.evidence[0].rule == "upstream:distribution-package"
    assert result.verdict is Verdict.REVIEW


def test_library_in_a_vendor_package_stays_made_by(sigset, tmp_path):
    path = tmp_path / "hns-sdk.deb"
    path.write_bytes(deb("hns-sdk", "Acme Build <build@acme.example>", {LIBHNS: libhns_so()}))
    result = scan(path, sigset)
    a = next(a for a in the(result, "libhns-rdmav34.so").attributions if a.vendor == "hisilicon")
    assert a.relationship is Relationship.MADE_BY
    assert result.verdict is Verdict.RESTRICTED


# -- pure functions ----------------------------------------------------------------------------

def _ev(rule: str, conf: float = 0.8) -> Evidence:
    return Evidence("binary-analysis", "manifest", "x", "here", rule, conf)


def _attr(vendor: str, rel: Relationship = Relationship.MADE_BY, conf: float = 0.8,
          rule: str = "modinfo.author") -> Attribution:
    return Attribution(vendor, rel, conf, (_ev(rule, conf),))


def _facts(fmt: str = "elf", name: str | None = None, **items: str | list[str]) -> Facts:
    facts = []
    for key, value in items.items():
        for v in value if isinstance(value, list) else [value]:
            facts.append(Fact(key.replace("__", "."), v, f"pkg!/x#{key}"))
    return Facts(fmt, items=tuple(facts), name=name, version="1.0-1" if name else None)


INTREE = {"modinfo__intree": "Y", "modinfo__license": "GPL",
          "modinfo__vermagic": "5.15.0-91-generic SMP mod_unload modversions"}


@pytest.mark.parametrize("release", [
    "6.1.0-50-amd64", "6.1.0-50-cloud-arm64", "6.1.0-rpi7-rpi-v8", "5.15.0-91-generic",
    "6.5.0-1014-aws", "5.14.0-362.8.1.el9_3.x86_64", "6.5.6-300.fc39.x86_64",
    "5.10.205-195.807.amzn2.x86_64", "5.14.21-150500.55.39-default", "6.6.14-0-lts",
    "6.7.2-arch1-1",
])
def test_distribution_kernel_releases(release):
    facts = _facts(**{**INTREE, "modinfo__vermagic": f"{release} SMP mod_unload"})
    assert upstream.kernel_module(facts) is not None


@pytest.mark.parametrize("release", [
    "4.9.37", "3.18.13_hifone", "4.19.90-vhulk2111.1.0.h963.eulerosv2r10.aarch64",
    "5.10.0-60.18.0.50.oe2203.x86_64", "4.4.219-1-hisi", "",
])
def test_vendor_kernel_releases(release):
    facts = _facts(**{**INTREE, "modinfo__vermagic": f"{release} SMP mod_unload"})
    assert upstream.kernel_module(facts) is None


@pytest.mark.parametrize("licence", ["GPL", "GPL v2", "Dual BSD/GPL", "Dual MIT/GPL",
                                     "GPL and additional rights", "Dual MPL/GPL"])
def test_gpl_compatible_licences(licence):
    assert upstream.kernel_module(_facts(**{**INTREE, "modinfo__license": licence}))


def test_one_non_free_licence_is_enough_to_stay():
    assert upstream.kernel_module(_facts(**{**INTREE,
                                            "modinfo__license": ["GPL", "Proprietary"]})) is None


def test_only_made_by_changes_and_signers_keep_it():
    attributions = (_attr("huawei"), _attr("hikvision", Relationship.SIGNED_BY),
                    _attr("hikvision"), _attr("acme", Relationship.CONTAINS),
                    _attr("acme", Relationship.SUPPORTS, 0.1))
    out = upstream.contributed(attributions, _facts(**INTREE), STUB)
    rels = {(a.vendor, a.relationship) for a in out}
    assert rels == {("huawei", Relationship.CONTRIBUTED), ("hikvision", Relationship.SIGNED_BY),
                    ("hikvision", Relationship.MADE_BY), ("acme", Relationship.CONTAINS),
                    ("acme", Relationship.SUPPORTS)}
    order = [a.relationship for a in out]
    assert order == sorted(order, key=list(Relationship).index)  # strongest first, as resolve


def test_nothing_to_do_returns_the_same_tuple():
    attributions = (_attr("huawei"),)
    assert upstream.contributed(attributions, None, STUB) is attributions
    assert upstream.contributed(attributions, _facts(), STUB) is attributions
    lineage = (_attr("huawei", Relationship.LINEAGE),)
    assert upstream.contributed(lineage, _facts(**INTREE), STUB) is lineage


def test_a_contributed_rule_and_a_reclassified_made_by_merge():
    attributions = (_attr("huawei", conf=0.7), _attr("huawei", Relationship.CONTRIBUTED, 0.5,
                                                     "yara-rule"))
    (a,) = upstream.contributed(attributions, _facts(**INTREE), STUB)
    assert a.relationship is Relationship.CONTRIBUTED and a.confidence == 0.7
    assert [e.rule for e in a.evidence] == ["upstream:kernel-module", "modinfo.author",
                                            "yara-rule"]


def test_calibrated_confidence_is_used_for_the_upstream_evidence():
    calibrated = replace(STUB, calibration={"upstream:kernel-module": 0.77})
    (a,) = upstream.contributed((_attr("huawei"),), _facts(**INTREE), calibrated)
    assert a.evidence[0].confidence == 0.77


# -- distribution packages ---------------------------------------------------------------------

def comp(path: str, *attrs: Attribution, facts: Facts | None = None,
         children: tuple[Component, ...] = ()) -> Component:
    return Component(ref=path, chain=tuple(path.split("!/")), name=path, kind="file",
                     sha256="0" * 64, size=1, facts=facts, attributions=attrs,
                     children=children)


def libhns() -> Component:
    so = comp("ibverbs-providers.deb!/data.tar.xz!/usr/lib/libibverbs/libhns-rdmav34.so",
              _attr("hisilicon", conf=0.8, rule="hisilicon_hns_roce_provider"))
    return comp("ibverbs-providers.deb!/data.tar.xz", children=(so,))


DEB = {"manifest__maintainer": "Benjamin Drung", "manifest__maintainer_email": "bdrung@ubuntu.com"}


def test_part_of_a_distribution_package_is_contributed():
    facts = _facts("deb", "ibverbs-providers", **DEB)
    (data,) = distributed(facts, (), (libhns(),), STUB)
    (so,) = data.children
    (a,) = so.attributions
    assert a.relationship is Relationship.CONTRIBUTED
    assert a.evidence[0].rule == "upstream:distribution-package"
    assert a.evidence[0].detail.startswith(
        "part of ibverbs-providers 1.0-1, a distribution's deb (bdrung@ubuntu.com)")
    assert a.evidence[1].rule == "hisilicon_hns_roce_provider"
    (rolled,) = contained((), (data,), STUB)
    assert (rolled.vendor, rolled.relationship) == ("hisilicon", Relationship.CONTRIBUTED)


@pytest.mark.parametrize("facts", [
    _facts("deb", "vms", manifest__maintainer_email="build@acme.example"),  # not a distribution
    _facts("deb", "fw", manifest__section="non-free-firmware/kernel", **DEB),  # not free
    _facts("rpm", "sdk", manifest__vendor="Red Hat, Inc.", manifest__license="Proprietary"),
    _facts("zip", "sdk", **DEB),  # not a package format a distribution ships
    None,
], ids=["vendor-deb", "non-free", "proprietary-rpm", "zip", "no-facts"])
def test_other_packages_leave_their_parts_alone(facts):
    children = (libhns(),)
    assert distributed(facts, (), children, STUB) is children


def test_rpm_of_a_distribution():
    facts = _facts("rpm", "rdma-core", manifest__vendor="Red Hat, Inc.",
                   manifest__license="GPL-2.0-only OR BSD-2-Clause")
    (data,) = distributed(facts, (), (libhns(),), STUB)
    assert data.children[0].attributions[0].relationship is Relationship.CONTRIBUTED
    assert "(Red Hat, Inc.)" in data.children[0].attributions[0].evidence[0].detail


def test_original_maintainer_counts():
    facts = _facts("deb", "rdma-core", manifest__maintainer_email="dev@ubuntu-derivative.example",
                   manifest__original_maintainer="Benjamin Drung <bdrung@debian.org>")
    (data,) = distributed(facts, (), (libhns(),), STUB)
    assert data.children[0].attributions[0].relationship is Relationship.CONTRIBUTED


def test_the_packages_own_maintainer_keeps_made_by():
    facts = _facts("deb", "hns-tools", **DEB)
    own = (_attr("huawei", conf=0.4, rule="manifest.email_domain"),)
    children = (libhns(),)
    assert distributed(facts, own, children, STUB) is children  # hisilicon is huawei's family


def test_a_non_free_part_of_a_distribution_package_stays():
    ko = comp("linux.deb!/data.tar.xz!/vendor.ko", _attr("huawei"),
              facts=_facts(modinfo__license="Proprietary"))
    children = (ko,)
    assert distributed(_facts("deb", "linux", **DEB), (), children, STUB) is children


def test_contains_outranks_contributed_in_the_roll_up():
    upstream_ko = comp("pkg!/hinic.ko", _attr("huawei", Relationship.CONTRIBUTED, 0.95))
    sdk = comp("pkg!/libhwsdk.so", _attr("huawei", conf=0.6))
    (a,) = contained((), (upstream_ko, sdk), STUB)
    assert (a.relationship, a.confidence) == (Relationship.CONTAINS, 0.6)
    (b,) = contained((), (upstream_ko,), STUB)
    assert (b.relationship, b.confidence) == (Relationship.CONTRIBUTED, 0.95)


# -- policies ----------------------------------------------------------------------------------

def test_contributed_is_review_at_most_in_every_built_in_policy(sigset):
    for policy in sigset.policies.values():
        assert Relationship.CONTRIBUTED not in policy.restricted.relationships, policy.id
        assert Relationship.CONTRIBUTED in policy.review.relationships, policy.id
        widened = contributed_as_made_by(sigset).policies[policy.id]
        for level in (widened.restricted, widened.review):
            made_by = Relationship.MADE_BY in level.relationships
            assert (Relationship.CONTRIBUTED in level.relationships) is made_by, policy.id


def test_evaluate_flag_matches_the_widened_signature_set(sigset):
    ko = comp("k!/hinic.ko", _attr("huawei", Relationship.CONTRIBUTED, 0.9))
    ids = list(sigset.policies)
    day = date(2026, 1, 1)
    default = evaluate([ko], sigset, ids, day)
    assert default and all(f.level is Verdict.REVIEW for f in default)
    flagged = evaluate([ko], sigset, ids, day, contributed_as_made_by=True)
    assert flagged == evaluate([ko], contributed_as_made_by(sigset), ids, day)
    assert any(f.level is Verdict.RESTRICTED for f in flagged)


def test_the_enum_order_keeps_contributed_below_the_restricted_relationships():
    order = list(Relationship)
    assert order.index(Relationship.OEM) < order.index(Relationship.CONTRIBUTED) \
        < order.index(Relationship.SUPPORTS)
    assert Relationship("contributed") is Relationship.CONTRIBUTED


def test_elf_library_without_marks_is_not_upstream_on_its_own(sigset, tmp_path):
    """A user-space library's own bytes say nothing upstream: only its package can."""
    path = tmp_path / "libhwsdk.so"
    path.write_bytes(build(ElfSpec(soname="libhwsdk.so", type=ET_DYN, comment=DEBIAN_GCC,
                                   strings=["Copyright (c) 2020 Huawei Technologies Co., Ltd."])))
    result = scan(path, sigset)
    assert all(a.relationship is not Relationship.CONTRIBUTED
               for c in result.components() for a in c.attributions)
