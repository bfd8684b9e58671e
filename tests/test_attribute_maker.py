"""One maker rule for scan and enrich (attribute/maker.py)."""

from __future__ import annotations

from provenance import enrich, pipeline
from provenance.attribute import maker
from provenance.model import Attribution, Evidence, Relationship
from provenance.signatureset import load

EV = (Evidence("manifest-analysis", "string", "https://developer.huawei.com", "x", "manifest.url",
               0.3),)


def test_a_weak_hint_names_no_manufacturer():
    sigset = load()
    hint = (Attribution("huawei", Relationship.MADE_BY, 0.3, EV),)
    assert maker.manufacturer(hint, sigset) is None
    strong = (Attribution("huawei", Relationship.MADE_BY, 0.8, EV),)
    made = maker.manufacturer(strong, sigset)
    assert made is not None and made.vendor == "huawei"


def test_scan_and_enrich_use_the_same_rule():
    assert enrich.manufacturer is maker.manufacturer
    assert pipeline.manufacturer is maker.manufacturer


def test_supports_and_mentions_are_never_makers():
    sigset = load()
    for rel in (Relationship.SUPPORTS, Relationship.MENTIONS, Relationship.REQUIRES):
        assert maker.manufacturer((Attribution("huawei", rel, 0.99, EV),), sigset) is None
