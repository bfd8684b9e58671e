"""A vendor part inside someone else's package makes the package `contains` that vendor."""

from __future__ import annotations

from provenance.model import Attribution, Component, Evidence, Relationship
from provenance.pipeline import contained
from provenance.signatureset import SignatureSet, Vendor

VENDORS = {v: Vendor(v, v.title(), "CN", p) for v, p in
           (("huawei", None), ("hisilicon", "huawei"), ("hikvision", None), ("acme", None))}
SIGSET = SignatureSet(VENDORS, (), {}, "sha256:t", ())


def comp(path: str, *attrs: tuple[str, Relationship, float], children=()) -> Component:
    return Component(
        ref=path, chain=tuple(path.split("!/")), name=path, kind="file", sha256="0" * 64, size=1,
        attributions=tuple(
            Attribution(v, r, c, (Evidence("binary-analysis", "signature", "d", path, f"r-{v}",
                                           c),))
            for v, r, c in attrs),
        children=tuple(children))


def test_vendor_sdk_in_third_party_package_is_contains():
    sdk = comp("vms.deb!/usr/lib/libhcnetsdk.so", ("hikvision", Relationship.MADE_BY, 0.9))
    own = (Attribution("acme", Relationship.MADE_BY, 0.8,
                       (Evidence("manifest-analysis", "manifest", "Acme", "x", "m", 0.8),)),)
    (a,) = contained(own, (sdk,), SIGSET)
    assert (a.vendor, a.relationship, a.confidence) == ("hikvision", Relationship.CONTAINS, 0.9)
    assert a.evidence[0].location == "vms.deb!/usr/lib/libhcnetsdk.so"


def test_parts_of_the_makers_own_family_add_nothing():
    part = comp("fw!/libmpi.so", ("hisilicon", Relationship.MADE_BY, 0.9))
    own = (Attribution("huawei", Relationship.MADE_BY, 0.9,
                       (Evidence("manifest-analysis", "manifest", "Huawei", "x", "m", 0.9),)),)
    assert contained(own, (part,), SIGSET) == ()


def test_supports_and_mentions_do_not_propagate():
    driver = comp("pkg!/option.ko", ("huawei", Relationship.SUPPORTS, 0.1))
    readme = comp("pkg!/README", ("huawei", Relationship.MENTIONS, 0.3))
    assert contained((), (driver, readme), SIGSET) == ()


def test_nested_parts_are_found_and_the_best_one_kept():
    deep = comp("pkg!/a.zip!/lib/x.so", ("hikvision", Relationship.MADE_BY, 0.95))
    shallow = comp("pkg!/lib/y.so", ("hikvision", Relationship.MADE_BY, 0.6))
    outer = comp("pkg!/a.zip", children=(deep,))
    (a,) = contained((), (shallow, outer), SIGSET)
    assert a.confidence == 0.95 and a.evidence[0].location.endswith("x.so")
