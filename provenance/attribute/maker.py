"""Who made a component: the one rule `scan` and `enrich` share.

The maker is the first maker-type attribution (made-by, oem, lineage: in the order resolve
ranks them, strongest relationship then confidence) at or above MANUFACTURER_MIN. Below it an
attribution is a hint for review, not a `manufacturer` a report should state.
"""

from __future__ import annotations

from provenance.model import Attribution, Manufacturer, Relationship
from provenance.signatureset import SignatureSet

MAKER_RELATIONSHIPS = (Relationship.MADE_BY, Relationship.OEM, Relationship.LINEAGE)
MANUFACTURER_MIN = 0.5


def maker(attributions: tuple[Attribution, ...],
          minimum: float = MANUFACTURER_MIN) -> Attribution | None:
    """The strongest maker-type attribution at or above a confidence."""
    return next((a for a in attributions
                 if a.relationship in MAKER_RELATIONSHIPS and a.confidence >= minimum), None)


def manufacturer(attributions: tuple[Attribution, ...],
                 sigset: SignatureSet) -> Manufacturer | None:
    """The vendor a report names as the component's manufacturer, or None."""
    top = maker(attributions)
    if top is None or top.vendor not in sigset.vendors:
        return None
    return sigset.vendors[top.vendor].maker()
