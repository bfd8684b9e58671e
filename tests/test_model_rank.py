"""The strength order of relationships, and the attribution that decides a component's maker."""

from __future__ import annotations

from provenance.model import Attribution, Component, Evidence, Relationship


def _a(vendor: str, relationship: Relationship, confidence: float) -> Attribution:
    evidence = Evidence("binary-analysis", "string", "x", "fw.bin", "rule", confidence)
    return Attribution(vendor, relationship, confidence, (evidence,))


def _component(*attributions: Attribution) -> Component:
    return Component("ref-x", ("fw.bin",), "fw.bin", "file", "0" * 64, 1,
                     attributions=attributions)


def test_rank_is_the_order_of_definition_strongest_first() -> None:
    assert [r.rank for r in Relationship] == list(range(len(Relationship)))
    assert Relationship.MADE_BY.rank == 0
    assert Relationship.OEM.rank < Relationship.PART.rank < Relationship.MENTIONS.rank


def test_top_prefers_a_maker_relationship_then_confidence_then_strength() -> None:
    assert _component().top is None
    made, oem = _a("a", Relationship.MADE_BY, 0.5), _a("b", Relationship.OEM, 0.9)
    mentions = _a("c", Relationship.MENTIONS, 0.99)
    assert _component(mentions, made, oem).top == oem  # made-by to oem: confidence decides
    assert _component(mentions, made).top == made  # any of those before a weaker kind
    supports = _a("d", Relationship.SUPPORTS, 0.5)
    assert _component(supports, mentions).top == mentions  # weaker kinds: confidence decides
    tied = _a("e", Relationship.CONTAINS, 0.5)
    assert _component(tied, made).top == made  # equal confidence: the stronger kind


def test_ranked_orders_by_strength_then_confidence_then_vendor() -> None:
    """The one order attribution lists are kept in (resolve and the upstream reclassification
    both use it)."""
    from provenance.model import ranked

    made, oem = _a("b", Relationship.MADE_BY, 0.5), _a("a", Relationship.OEM, 0.9)
    low, high = _a("z", Relationship.MENTIONS, 0.2), _a("y", Relationship.MENTIONS, 0.8)
    tie = _a("x", Relationship.MENTIONS, 0.8)
    assert ranked([low, tie, oem, high, made]) == (made, oem, tie, high, low)
