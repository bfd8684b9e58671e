"""Relabelling: a component whose declared supplier (or manufacturer) is not the maker its files
show, e.g. a branded camera firmware that is Dahua inside. Pure functions, no I/O."""

from __future__ import annotations

from provenance.attribute.maker import maker
from provenance.attribute.vendor_index import index_for, norm
from provenance.model import Attribution
from provenance.signatureset import SignatureSet

__all__ = ["RELABEL_MIN", "names_family", "relabelling"]

RELABEL_MIN = 0.7  # the evidence must be strong before it contradicts a declaration
_FILE_EVIDENCE = frozenset({"binary-analysis", "attestation"})


def _brands(vendor: str, sigset: SignatureSet) -> set[str]:
    """Spelling-free brand words of a vendor family ('huawei', 'chinamobile', 'hisilicon')."""
    out = set()
    for vid in sigset.family(vendor):
        out.add(vid.replace("-", ""))
        v = sigset.vendors.get(vid)
        if v is not None:
            first = norm(v.name).split()
            if first and len(first[0]) >= 4:
                out.add(first[0])
    return out


def names_family(declared: str, vendor: str, sigset: SignatureSet) -> bool:
    """Whether a declared supplier names `vendor` or its family, in any spelling the catalog
    knows ("HiSilicon" for Huawei, "HuaweiCloud SDK" for Huawei)."""
    claimed = index_for(sigset).company(declared)
    if claimed is not None and set(sigset.family(vendor)) & set(sigset.family(claimed)):
        return True
    squashed = norm(declared).replace(" ", "")
    return any(brand in squashed for brand in _brands(vendor, sigset))


def relabelling(
    declared: str | None, evidence: tuple[Attribution, ...], sigset: SignatureSet
) -> tuple[str, Attribution] | None:
    """("declared X, evidence shows Y", the evidence's maker) when they disagree, else None.

    Only strong maker evidence counts, and only when it comes from the component's files
    (binary analysis, signatures) or the declaration names another known vendor: a package
    namespace says who publishes the package, and SBOM tools fill `supplier` with whoever
    distributes it, so those two disagree all the time without any relabelling.
    """
    if not declared or declared.strip().upper() in ("NOASSERTION", "NONE"):
        return None
    top = maker(evidence, RELABEL_MIN)
    if top is None:
        return None
    if names_family(declared, top.vendor, sigset):
        return None  # "HuaweiCloud SDK" is Huawei speaking for itself
    claimed = index_for(sigset).company(declared)
    from_files = any(ev.technique in _FILE_EVIDENCE for ev in top.evidence)
    if not from_files and claimed is None:
        return None
    shown = sigset.vendors[top.vendor].name if top.vendor in sigset.vendors else top.vendor
    return f"declared {declared}, evidence shows {shown}", top
