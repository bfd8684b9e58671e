"""`enrich --fill-supplier`: the attributed maker as a component's CycloneDX `supplier`, and the
maker's CPE vendor name as a hint for CVE matchers. Pure functions, no I/O.

Dependency-Track imports `supplier`, not `manufacturer`, and NTIA's minimum elements ask for a
supplier of every component; SBOM producers that read only package metadata (Syft, Trivy)
leave it empty. The rules, in one place:

- Only made-by evidence other than the SBOM's own declarations counts (a namespace, an author
  e-mail, the component's files), and only at or above `SUPPLIER_MIN` (0.9). An OEM or
  lineage attribution names who made the inside, not who supplies the component.
- A supplier is written only where the producer wrote none (no `supplier` key); it gets
  `provenance:supplier-source`, naming the evidence (vendor, confidence, techniques).
- A declared supplier is never changed. When it names neither the maker nor the maker's family
  and the same evidence clears the threshold, it gets `provenance:supplier-conflict` and the
  caller reports a review finding.
- `provenance:cpe-vendor` carries the maker's CPE vendor name(s) (`cpe_vendors` in
  signatures/vendors/*.yml, each with a source) under the same threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provenance.attribute.maker import maker
from provenance.enrich.relabel import names_family
from provenance.identify.base import clean
from provenance.model import Attribution, Relationship
from provenance.report.cyclonedx import json_value, prop
from provenance.signatureset import SignatureSet

__all__ = ["SUPPLIER_MIN", "SupplierCheck", "check_supplier"]

SUPPLIER_MIN = 0.9  # made-by confidence a supplier may be written on (ux-review §(d))
MAX_DECLARED = 200  # characters of a declared supplier quoted in a conflict


@dataclass(frozen=True, slots=True)
class SupplierCheck:
    """What `--fill-supplier` adds to one component."""

    supplier: dict[str, Any] | None  # the supplier to write, when the producer left it empty
    properties: tuple[dict[str, str], ...]
    conflict: str | None  # "declared X, evidence shows Y (made-by 0.95)"
    top: Attribution | None  # the made-by attribution all of it rests on


def _evidence(top: Attribution) -> str:
    """The value of provenance:supplier-source: who, how sure, and from what."""
    return json_value({
        "vendor": top.vendor, "relationship": top.relationship.value,
        "confidence": float(f"{top.confidence:.2f}"),
        "evidence": sorted({f"{ev.technique}: {ev.signal} {ev.detail}".strip()
                            for ev in top.evidence})[:10]})


def _declared_name(comp: dict[str, Any]) -> str | None:
    """The declared supplier's name, one printable line (it is hostile input, and goes into a
    finding printed on a terminal)."""
    supplier = comp.get("supplier")
    if not isinstance(supplier, dict) or not isinstance(supplier.get("name"), str):
        return None
    return clean(supplier["name"], MAX_DECLARED) or None


def check_supplier(comp: dict[str, Any], evidence_only: tuple[Attribution, ...],
                   sigset: SignatureSet) -> SupplierCheck:
    """The supplier, properties and conflict for one component dict, from the attributions that
    do not rest on its declared supplier or manufacturer."""
    top = maker(evidence_only, SUPPLIER_MIN)
    if top is None or top.relationship != Relationship.MADE_BY or top.vendor not in sigset.vendors:
        return SupplierCheck(None, (), None, None)
    vendor = sigset.vendors[top.vendor]
    props = [prop("cpe-vendor", c.value) for c in vendor.cpe_vendors]
    supplier: dict[str, Any] | None = None
    conflict = None
    if "supplier" not in comp:
        entity: dict[str, Any] = {"name": vendor.name}
        if vendor.domains:  # the vendor's own domain, e.g. huawei.com
            entity["url"] = [f"https://{vendor.domains[0].value.lstrip('*.@')}"]
        if vendor.country:
            entity["address"] = {"country": vendor.country}
        supplier = entity
        props.insert(0, prop("supplier-source", _evidence(top)))
    else:
        declared = _declared_name(comp)
        if declared is not None and declared.upper() not in ("NOASSERTION", "NONE") \
                and not names_family(declared, top.vendor, sigset):
            conflict = (f"declared {declared}, evidence shows {vendor.name} "
                        f"(made-by {top.confidence:.2f})")
            props.insert(0, prop("supplier-conflict", conflict))
    return SupplierCheck(supplier, tuple(props), conflict, top)
