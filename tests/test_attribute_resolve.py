"""Resolution is pure: hand-built facts and hits in, attributions out (DESIGN §4 cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.attribute.resolve import WEAK_CAP, combine, resolve
from provenance.attribute.vendor_index import index_for
from provenance.attribute.yara_scan import Hit, StringMatch
from provenance.model import Evidence, Fact, Facts, Relationship
from provenance.signatureset import Rule, SignatureSet, Sourced, Vendor

S = "test"


def _v(vid, name, parent=None, **kw) -> Vendor:
    return Vendor(id=vid, name=name, country="CN", parent=parent, **kw)


VENDORS = {
    "huawei": _v("huawei", "Huawei Technologies Co., Ltd.",
                 legal_names=(Sourced("Huawei Technologies Co., Ltd.", S),
                              Sourced("Huawei Device Co., Ltd.", S)),
                 signers=(Sourced("Huawei Technologies Co., Ltd.", S),),
                 usb_ids=(Sourced("12d1", S),), pci_ids=(Sourced("19e5", S),),
                 domains=(Sourced("huawei.com", S),),
                 namespaces={"pypi": (Sourced("huaweicloudsdk*", S),),
                             "npm": (Sourced("@huaweicloud/*", S),)}),
    "hisilicon": _v("hisilicon", "HiSilicon Technologies Co., Ltd.", parent="huawei",
                    pci_ids=(Sourced("19e5", S),)),
    "zte": _v("zte", "ZTE Corporation", usb_ids=(Sourced("19d2", S),)),
    "dahua": _v("dahua", "Zhejiang Dahua Technology Co., Ltd.",
                legal_names=(Sourced("Zhejiang Dahua Technology Co., Ltd.", S),)),
}
RULE = Rule("hisilicon_mpp_version", "hisilicon", Relationship.MADE_BY, 0.9, "HiSilicon MPP SDK",
            "d", "r", Path("x.yar"), version_regex=r"(Hi35\w+_MPP_V[\d.]+)")
WEAK = Rule("huawei_name", "huawei", Relationship.MENTIONS, 0.3, "name", "d", "r", Path("y.yar"),
            weak=True)
SIGSET = SignatureSet(VENDORS, (RULE, WEAK), {}, "sha256:test", ())


def facts(*items: tuple[str, str], **kw) -> Facts:
    return Facts("elf", items=tuple(Fact(k, v, f"fw!/x#{k}") for k, v in items), **kw)


def by(attrs, vendor, rel):
    return next((a for a in attrs if a.vendor == vendor and a.relationship == rel), None)


def test_option_ko_style_driver_supports_not_made_by():
    f = facts(("modinfo.author", "Matthias Urlichs <smurf@smurf.noris.de>"),
              ("modinfo.usb_id", "12d1:1001"), ("modinfo.usb_id", "12d1:1003"),
              ("modinfo.usb_id", "19d2:0002"))
    attrs = resolve(f, (), SIGSET, "fw!/option.ko")
    assert {(a.vendor, a.relationship) for a in attrs} == {
        ("huawei", Relationship.SUPPORTS), ("zte", Relationship.SUPPORTS)}
    assert all(a.confidence <= 0.1 for a in attrs)


def test_vendor_authored_driver_is_made_by():
    f = facts(("modinfo.author", "Huawei Technologies Co., Ltd."), ("modinfo.pci_id", "19e5:0200"))
    attrs = resolve(f, (), SIGSET, "fw!/hinic.ko")
    assert [(a.vendor, a.relationship) for a in attrs] == [("huawei", Relationship.MADE_BY)]


def test_copyright_in_a_library_is_made_by():
    f = facts(("copyright.holder", "Huawei Technologies Co.,Ltd."))
    (a,) = resolve(f, (), SIGSET, "fw!/libx.so")
    assert (a.vendor, a.relationship, a.confidence) == ("huawei", Relationship.MADE_BY, 0.6)


def test_signer_is_signed_by_and_verification_matters():
    verified = facts(("pe.signer.O", "Huawei Technologies Co., Ltd."),
                     ("pe.signature.verified", "true"))
    unverified = facts(("pe.signer.O", "Huawei Technologies Co., Ltd."),
                       ("pe.signature.verified", "false"))
    a = resolve(verified, (), SIGSET, "x.exe")[0]
    b = resolve(unverified, (), SIGSET, "x.exe")[0]
    assert a.relationship == b.relationship == Relationship.SIGNED_BY
    assert a.confidence > b.confidence


def test_sdk_symbols_without_vendor_strings_are_lineage():
    exports = [("elf.export", f"HI_MPI_SYS_{n}") for n in ("Init", "Exit", "Bind", "Mmap",
                                                            "GetVersion")]
    attrs = resolve(facts(*exports), (), SIGSET, "fw!/libhi_mpi.so")
    assert [(a.vendor, a.relationship) for a in attrs] == [("hisilicon", Relationship.LINEAGE)]


def test_sdk_symbols_with_vendor_banner_are_made_by_only():
    exports = [("elf.export", f"HI_MPI_VB_{n}") for n in "ABCDE"]
    hit = Hit("hisilicon_mpp_version",
              (StringMatch("$version", 16, b"HI_VERSION=Hi3516EV200_MPP_V1.0.1.2"),))
    attrs = resolve(facts(*exports), (hit,), SIGSET, "fw!/libmpi.so")
    assert [(a.vendor, a.relationship) for a in attrs] == [("hisilicon", Relationship.MADE_BY)]
    assert attrs[0].version == "Hi3516EV200_MPP_V1.0.1.2"
    assert attrs[0].evidence[0].location == "fw!/libmpi.so@0x10"


def test_namespace_and_email_domain_combine():
    f = facts(("manifest.author_email", "HuaweiCloud SDK <hwcloudsdk@huawei.com>"),
              purl="pkg:pypi/huaweicloudsdklive@3.1.219")
    (a,) = resolve(f, (), SIGSET, "x.whl")
    assert a.relationship == Relationship.MADE_BY
    assert a.confidence == round(1 - (1 - 0.8) * (1 - 0.7), 2)  # two markers beat one
    npm = resolve(facts(purl="pkg:npm/%40huaweicloud/huaweicloud-sdk-iam@3.1.172"), (), SIGSET,
                  "x.tgz")
    assert npm[0].vendor == "huawei"


def test_third_party_package_named_after_vendor_is_not_attributed():
    f = facts(("manifest.author", "Wlcrs"), ("manifest.author_email", "wlcrs@example.org"),
              purl="pkg:pypi/huawei-solar@2.5.0")
    assert resolve(f, (), SIGSET, "x.whl") == ()


@pytest.mark.parametrize("name,vendor", [
    ("Huawei Technologies Co., Ltd.", "huawei"),
    ("HUAWEI TECHNOLOGIES CO.,LTD", "huawei"),
    ("Zhejiang Dahua Technology Co., Ltd.", "dahua"),
    ("Dahua Technology Company", "dahua"),
    ("Hisilicon Limited", "hisilicon"),
    ("Shanghai Dahua Scale Factory", None),  # catalog §6 false friend
    ("Huawei-3Com", None),
    ("Aztech Instruments", None),
    ("ZTEC Instruments", None),
    ("", None),
])
def test_company_names_match_whole_names_only(name, vendor):
    assert index_for(SIGSET).company(name) == vendor


def test_weak_signals_cannot_add_up_to_a_strong_one():
    weak = [Evidence("binary-analysis", "string", "Huawei", "x", f"r{i}", 0.3) for i in range(10)]
    assert combine(weak) == WEAK_CAP
    strong = Evidence("binary-analysis", "signature", "s", "x", "s1", 0.6)
    other = Evidence("binary-analysis", "signature", "s", "x", "s2", 0.6)
    assert combine([strong, other]) > combine([strong]) > combine(weak)
    assert combine([strong, strong]) == combine([strong])  # one source counts once


def test_weak_rule_alone_stays_weak():
    hit = Hit("huawei_name", (StringMatch("$a", 0, b"Huawei"),))
    (a,) = resolve(None, (hit,), SIGSET, "README")
    assert a.relationship == Relationship.MENTIONS and a.confidence <= WEAK_CAP


def test_maven_group_and_android_package_namespaces():
    vendors = dict(VENDORS)
    vendors["dji"] = _v("dji", "SZ DJI Technology Co., Ltd.",
                        namespaces={"maven": (Sourced("com.dji", S),),
                                    "android": (Sourced("com.dji.*", S),)})
    sigset = SignatureSet(vendors, (), {}, "sha256:test-dji", ())
    (a,) = resolve(facts(("maven.groupId", "com.dji")), (), sigset, "x.aar")
    assert a.vendor == "dji" and a.relationship == Relationship.MADE_BY
    (b,) = resolve(facts(purl="pkg:maven/com.dji/dji-sdk@4.16"), (), sigset, "y.aar")
    assert b.vendor == "dji"
    (c,) = resolve(facts(("apk.package", "com.dji.go")), (), sigset, "z.apk")
    assert c.vendor == "dji"
    assert resolve(facts(("apk.package", "com.djinn.app")), (), sigset, "w.apk") == ()


def test_vendor_container_header_and_dt_prefix():
    # a validated container's declaration (identify/fwheaders.py), not a header field alone
    assert resolve(facts(("updateapp.hardware_id", "HW7x27")), (), SIGSET, "UPDATE.APP") == ()
    (a,) = resolve(facts(("container.format", "huawei-update-app"), ("container.vendor", "huawei"),
                         ("container.relationship", "made-by"),
                         ("updateapp.hardware_id", "HW7x27")), (), SIGSET, "UPDATE.APP")
    assert (a.vendor, a.relationship) == ("huawei", Relationship.MADE_BY)
    (b,) = resolve(facts(("dt.vendor_prefix", "hisilicon")), (), SIGSET, "board.dtb")
    assert (b.vendor, b.relationship) == ("hisilicon", Relationship.HARDWARE_ID)


def test_apk_signer_and_embedded_certificate():
    (a,) = resolve(facts(("apk.signer.O", "Huawei Device Co., Ltd.")), (), SIGSET, "x.apk")
    assert a.relationship == Relationship.SIGNED_BY and a.confidence == 0.85
    (b,) = resolve(facts(("cert.subject.O", "Huawei Technologies Co., Ltd.")), (), SIGSET,
                   "ca.pem")
    assert b.relationship == Relationship.CONTAINS


def test_maintainer_email_is_weaker_than_author_email():
    author = resolve(facts(("manifest.author_email", "dev@huawei.com")), (), SIGSET, "a")[0]
    maint = resolve(facts(("manifest.maintainer_email", "dev@huawei.com")), (), SIGSET, "b")[0]
    assert author.confidence > maint.confidence


def test_made_by_subsumes_weaker_links_to_the_same_vendor():
    hit = Hit("hisilicon_mpp_version",
              (StringMatch("$version", 0, b"HI_VERSION=Hi3516EV200_MPP_V1"),))
    f = facts(("dt.vendor_prefix", "hisilicon"), ("dt.vendor_prefix", "huawei"))
    attrs = resolve(f, (hit,), SIGSET, "fw!/sys.ko")
    assert {(a.vendor, a.relationship) for a in attrs} == {
        ("hisilicon", Relationship.MADE_BY), ("huawei", Relationship.HARDWARE_ID)}


def test_assigned_mac_address_is_a_hardware_id_of_the_oui_registrant():
    vendors = dict(VENDORS)
    vendors["hikrobot"] = _v("hikrobot", "Hangzhou Hikrobot Technology Co., Ltd.",
                             ouis=(Sourced("34:BD:20", S), Sourced("B0:B3:53:60/28", S)))
    sigset = SignatureSet(vendors, (), {}, "sha256:test-oui", ())
    (a,) = resolve(facts(("net.mac", "B0:B3:53:61:22:33")), (), sigset, "env")
    assert (a.vendor, a.relationship) == ("hikrobot", Relationship.HARDWARE_ID)
    assert "OUI B0B3536" in a.evidence[0].detail
    assert resolve(facts(("net.mac", "B0:B3:53:71:22:33")), (), sigset, "env") == ()


def _cert_facts(*subjects: tuple[str, str], fmt: str = "file") -> Facts:
    items = []
    for org, at in subjects:
        items += [Fact("cert.subject", f"CN={org} CA,O={org}", f"root.crt{at}"),
                  Fact("cert.subject.O", org, f"root.crt{at}")]
    return Facts(fmt, items=tuple(items))


def test_a_file_that_is_one_certificate_is_its_subjects():
    attrs = resolve(_cert_facts(("Huawei Technologies Co., Ltd.", "@0x0")), (), SIGSET,
                    "root.crt")
    assert by(attrs, "huawei", Relationship.MADE_BY) is not None


@pytest.mark.parametrize("f", [
    _cert_facts(("Huawei Technologies Co., Ltd.", "@0x0"), ("Other Root", "@0x400")),  # store
    _cert_facts(("Huawei Technologies Co., Ltd.", "@0x0"), fmt="elf"),  # pinned in a binary
    _cert_facts(("Huawei Technologies Co., Ltd.", "@0x80")),  # inside some other blob
])
def test_a_certificate_inside_something_else_is_contains(f):
    attrs = resolve(f, (), SIGSET, "x")
    assert by(attrs, "huawei", Relationship.MADE_BY) is None
    assert by(attrs, "huawei", Relationship.CONTAINS) is not None


# -- the fact-kind table and the SBOM components a blob lists -------------------------------


def test_every_fact_kind_row_is_one_lookup_and_a_weight():
    from provenance.attribute.resolve import FACT_KINDS

    for key, rows in FACT_KINDS.items():
        assert rows, key
        for row in rows[:-1]:
            assert row.when is not None, f"{key}: only the last row may apply unguarded"
        for row in rows:
            assert callable(row.weight) or 0.0 < row.weight < 1.0, key


def test_a_certificate_file_is_its_subjects_and_an_embedded_one_a_part():
    own = Facts("pem", items=(Fact("cert.subject", "O=Huawei", "c.pem@0x0"),
                              Fact("cert.subject.O", "Huawei Technologies Co., Ltd.",
                                   "c.pem@0x0")))
    (a,) = resolve(own, (), SIGSET, "c.pem")
    assert (a.relationship, a.confidence, a.evidence[0].rule) == (
        Relationship.MADE_BY, 0.7, "cert.file.subject.O")
    inside = Facts("elf", items=own.items)
    (b,) = resolve(inside, (), SIGSET, "x")
    assert (b.relationship, b.confidence) == (Relationship.CONTAINS, 0.5)


def _sbom(*components: tuple[str, tuple[tuple[str, str, str], ...]]) -> Facts:
    """An SBOM blob's facts: per component its location and (key, value, field) triples."""
    items = [Fact("sbom.format", "CycloneDX", "img!/bom.json#specVersion")]
    for where, fields in components:
        for key, value, at in fields:
            items.append(Fact(key, value, f"img!/bom.json{where}{at}"))
    return Facts("sbom", items=tuple(items))


HUAWEI_SDK = ("sbom.component", "huaweicloudsdkcore 3.1", ""), (
    "sbom.name", "huaweicloudsdkcore", ""), ("sbom.purl", "pkg:pypi/huaweicloudsdkcore@3.1", ""), (
    "sbom.supplier", "Huawei Technologies Co., Ltd.", ".supplier.name")


def test_sbom_facts_are_grouped_by_the_component_they_are_about():
    from provenance.attribute.resolve import sbom_components

    blob = _sbom(("#components[1]", (("sbom.component", "app 1", ""),
                                     ("sbom.supplier", "Acme", ".supplier.name"))),
                 ("#components[1].components[0]", HUAWEI_SDK))
    groups = dict(sbom_components(blob))
    parent = groups["img!/bom.json#components[1]"]
    child = groups["img!/bom.json#components[1].components[0]"]
    assert parent.supplier == "Acme" and parent.name is None
    assert (child.name, child.version, child.purl, child.supplier) == (
        "huaweicloudsdkcore", None, "pkg:pypi/huaweicloudsdkcore@3.1",
        "Huawei Technologies Co., Ltd.")
    assert "sbom.format" not in {f.key for f in parent.items}


def test_an_sbom_contains_what_its_components_are_made_of_at_their_confidence():
    from provenance.attribute.resolve import sbom_components

    blob = _sbom(("#components[0]", (("sbom.component", "six 1.17", ""),
                                     ("sbom.supplier", "Benjamin Peterson", ".supplier.name"))),
                 ("#components[1]", HUAWEI_SDK))
    (where, component), = [g for g in sbom_components(blob) if g[0].endswith("[1]")]
    (made,) = resolve(component, (), SIGSET, where)
    assert made.relationship == Relationship.MADE_BY and made.confidence >= 0.8
    (document,) = resolve(blob, (), SIGSET, "img!/bom.json")
    # the document is not made by the vendor: it lists a part that is
    assert (document.vendor, document.relationship, document.confidence) == (
        "huawei", Relationship.CONTAINS, made.confidence)
    assert document.evidence[0].location == where


def test_an_sbom_naming_no_vendor_component_contains_nothing():
    blob = _sbom(("#components[0]", (("sbom.component", "modem-tools 0.3", ""),
                                     ("sbom.repository", "https://github.com/x/huawei-tools",
                                      ".externalReferences[0].url"))))
    assert resolve(blob, (), SIGSET, "img!/bom.json") == ()
