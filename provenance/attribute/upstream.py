"""Upstream open source is not the vendor's product (issue 13 item 8): placeholder, filled in by
the change that adds the `contributed` relationship."""

from __future__ import annotations

from provenance.model import Attribution, Facts
from provenance.signatureset import SignatureSet


def contributed(
    attributions: tuple[Attribution, ...], facts: Facts | None, sigset: SignatureSet
) -> tuple[Attribution, ...]:
    """The attributions, with vendor code that ships as upstream open source reclassified."""
    return attributions
