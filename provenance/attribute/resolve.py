"""Turn facts and signature hits into Attributions. Pure functions, no I/O.

Confidence (documented in the README): evidence for one (vendor, relationship) is grouped by
its independent source (one rule or one fact key counts once however often it matched).
Strong evidence combines as a noisy-OR, 1 - prod(1 - c_i), so two independent markers beat
one. Weak evidence (a bare name, a generic magic) combines the same way but is capped at
WEAK_CAP before it joins, so weak signals alone can never add up to a strong attribution.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from provenance.attribute.marks import mark_evidence
from provenance.attribute.upstream import contributed
from provenance.attribute.vendor_index import VendorIndex, index_for, norm
from provenance.attribute.yara_scan import Hit
from provenance.model import Attribution, Evidence, Fact, Facts, Relationship, ranked
from provenance.signatureset import Rule, SignatureSet

WEAK_CAP = 0.4
MAX_CONFIDENCE = 0.99
WEAK_SIGNALS = frozenset({"string", "filename", "mentions"})

# (vendor, relationship, evidence, vendor component, version) found by one signal
Found = tuple[str, Relationship, Evidence, str | None, str | None]


def combine(evidence: Iterable[Evidence]) -> float:
    """One confidence from independent evidence (see the module docstring)."""
    best: dict[str, Evidence] = {}
    for ev in evidence:  # one vote per independent source
        if ev.rule not in best or ev.confidence > best[ev.rule].confidence:
            best[ev.rule] = ev
    strong_miss = weak_miss = 1.0
    for ev in best.values():
        if ev.signal in WEAK_SIGNALS:
            weak_miss *= 1.0 - ev.confidence
        else:
            strong_miss *= 1.0 - ev.confidence
    weak = min(WEAK_CAP, 1.0 - weak_miss)
    combined = 1.0 - strong_miss * (1.0 - weak)
    return round(min(MAX_CONFIDENCE, combined), 2)


def _clip(data: bytes, limit: int = 120) -> str:
    text = data.decode("utf-8", "replace").replace("\0", " ").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_rule_maps: dict[str, dict[str, Rule]] = {}


def _rules_by_id(sigset: SignatureSet) -> dict[str, Rule]:
    """Rule id -> rule, built once per signature set (this runs for every blob)."""
    if sigset.digest not in _rule_maps:
        _rule_maps[sigset.digest] = {rule.id: rule for rule in sigset.rules}
    return _rule_maps[sigset.digest]


def hit_evidence(
    hits: tuple[Hit, ...], sigset: SignatureSet, location: str
) -> list[Found]:
    """(vendor, relationship, evidence, component, version) for every rule that matched."""
    rules = _rules_by_id(sigset)
    out: list[Found] = []
    for hit in hits:
        rule = rules.get(hit.rule)
        if rule is None:
            continue
        first = hit.matches[0] if hit.matches else None
        distinct = sorted({_clip(m.data, 80) for m in hit.matches}, key=lambda t: (-len(t), t))
        detail = _clip(" · ".join(distinct).encode()) if distinct else rule.description
        where = f"{location}@0x{first.offset:x}" if first else location
        version = None
        if rule.version_regex:
            for match in hit.matches:
                found = re.search(rule.version_regex, match.data.decode("latin-1"))
                if found:
                    version = found.group(1) if found.groups() else found.group(0)
                    break
        signal = "string" if rule.weak else "signature"
        ev = Evidence("binary-analysis", signal, detail, where, rule.id, rule.confidence)
        out.append((rule.vendor, rule.relationship, ev, rule.component, version))
    return out


def _purl_package(purl: str) -> tuple[str, str] | None:
    """('npm', '@huaweicloud/huaweicloud-sdk-iam') from 'pkg:npm/%40huaweicloud/...@3.1.172'."""
    match = re.match(r"^pkg:([a-z0-9.+-]+)/([^@?#]+)", purl)
    if not match:
        return None
    from urllib.parse import unquote

    eco, name = match.group(1), unquote(match.group(2))
    return {"golang": "go"}.get(eco, eco), name.replace("/", ":") if eco == "maven" else name


def _ev(
    technique: str, signal: str, detail: str, location: str, rule: str, conf: float
) -> Evidence:
    return Evidence(technique, signal, detail[:120], location, rule, conf)


# -- facts -> evidence: one table row per fact kind ------------------------------------------


@dataclass(frozen=True, slots=True)
class _Blob:
    """What a row may need to know about the blob beyond its one fact."""

    facts: Facts
    verified: bool  # pe.signature.verified: the Authenticode signature checked out
    single_cert: bool  # the file is one certificate (not a store, not a binary holding one)


class Named(NamedTuple):
    """Who a fact names, as a lookup found it."""

    vendor: str | None
    detail: str
    rule: str | None = None  # the evidence kind, when the lookup decides it
    relationship: Relationship | None = None  # when the fact itself says it (containers)


Lookup = Callable[[VendorIndex, Fact, _Blob], Named | None]


@dataclass(frozen=True, slots=True)
class FactKind:
    """How one kind of fact becomes evidence: the lookup that finds the vendor in its value,
    the relationship it shows, its weight (a confidence, or a function of the blob), the
    signal and technique it is reported as, and the evidence kind (`rule`, one vote in
    `combine`; default: the lookup's, else the fact key). `when` guards a row that applies
    only to some blobs; the first row of a key whose guard holds is used."""

    find: Lookup
    relationship: Relationship
    weight: float | Callable[[_Blob, Fact], float]
    signal: str
    technique: str
    rule: str | None = None
    when: Callable[[_Blob, Fact], bool] | None = None


def _company(index: VendorIndex, fact: Fact, _: _Blob) -> Named:
    return Named(index.company(fact.value), fact.value)


def _domain(index: VendorIndex, fact: Fact, _: _Blob) -> Named:
    return Named(index.domain(fact.value), fact.value)


def _signer(index: VendorIndex, fact: Fact, _: _Blob) -> Named:
    return Named(index.signer(fact.value), fact.value, fact.key.rsplit(".", 1)[0])


def _oui(index: VendorIndex, fact: Fact, _: _Blob) -> Named | None:
    hit = index.oui(fact.value)
    return Named(hit[0], f"{fact.value} (OUI {hit[1]})") if hit else None


def _brand(index: VendorIndex, fact: Fact, _: _Blob) -> Named:
    return Named(index.brands.get(norm(fact.value)), fact.value)


def _namespace(ecosystem: str) -> Lookup:
    def find(index: VendorIndex, fact: Fact, _: _Blob) -> Named | None:
        hit = index.namespace(ecosystem, fact.value)
        return Named(hit[0], fact.value, f"namespace:{ecosystem}:{hit[1]}") if hit else None
    return find


def cpe_vendor(cpe: str) -> str | None:
    """'huawei' from 'cpe:2.3:a:huawei:product:...' or 'cpe:/a:huawei:product'."""
    parts = cpe.split(":")
    if cpe.startswith("cpe:2.3:") and len(parts) > 3:
        vendor = parts[3]
    elif cpe.startswith("cpe:/") and len(parts) > 2:
        vendor = parts[2]
    else:
        return None
    vendor = vendor.replace("\\", "").replace("_", " ")
    return None if vendor in ("*", "-", "") else vendor


def _cpe(index: VendorIndex, fact: Fact, _: _Blob) -> Named | None:
    vendor = cpe_vendor(fact.value)
    return Named(index.company(vendor), fact.value) if vendor else None


def _container(index: VendorIndex, fact: Fact, blob: _Blob) -> Named | None:
    """A validated container's declaration: the container's module names the vendor and the
    relationship, so nothing here lists formats or vendors."""
    facts = blob.facts
    try:
        rel = Relationship(facts.first("container.relationship") or Relationship.MADE_BY)
    except ValueError:
        return None
    fmt = facts.first("container.format") or facts.format or "container"
    said = next((f for f in facts.items if not f.key.startswith("container.")), None)
    detail = f"{fmt} header" + (f": {said.key} = {said.value}" if said else "")
    return Named(fact.value, detail, f"container:{fmt}", rel)


def _signer_weight(blob: _Blob, fact: Fact) -> float:
    return 0.6 if fact.key.startswith("pe.") and not blob.verified else 0.85


def _own_certificate(blob: _Blob, fact: Fact) -> bool:
    # a file that is one certificate (not a trust store, not a binary embedding one) is the
    # subject's own: "C=CN, O=Huawei, CN=Huawei Fixed Network Product CA"
    return blob.single_cert and fact.location.endswith("@0x0")


_MADE, _BIN, _MAN = Relationship.MADE_BY, "binary-analysis", "manifest-analysis"
_URL = FactKind(_domain, _MADE, 0.3, "string", _MAN, "manifest.url")  # anyone may link to docs
_VENDOR = FactKind(_company, _MADE, 0.6, "manifest", _MAN, "manifest.vendor")
CONTAINER_CONFIDENCE = 0.8

FACT_KINDS: dict[str, tuple[FactKind, ...]] = {
    # declared company names
    "pe.version.CompanyName": (FactKind(_company, _MADE, 0.6, "version-info", _BIN),),
    "copyright.holder": (FactKind(_company, _MADE, 0.6, "copyright", _BIN),),
    "manifest.author": (FactKind(_company, _MADE, 0.6, "manifest", _MAN),),
    "manifest.publisher": (FactKind(_company, _MADE, 0.6, "manifest", _MAN),),
    "manifest.vendor": (_VENDOR,),
    "manifest.maintainer": (FactKind(_company, _MADE, 0.4, "manifest", _MAN),),
    "jar.manifest.Implementation-Vendor": (FactKind(_company, _MADE, 0.6, "manifest", _MAN),),
    "jar.manifest.Bundle-Vendor": (FactKind(_company, _MADE, 0.6, "manifest", _MAN),),
    "maven.organization.name": (FactKind(_company, _MADE, 0.6, "manifest", _MAN),),
    "modinfo.author": (FactKind(_company, _MADE, 0.7, "manifest", _BIN),),
    # vendor kernel modules put the company in the licence field ("Hisilicon Tech. Co.")
    "modinfo.license": (FactKind(_company, _MADE, 0.7, "manifest", _BIN),),
    # a certificate file is its subject's; a vendor certificate embedded in a blob (a
    # trust-store entry or pinned identity) is a vendor part inside it
    "cert.subject.O": (FactKind(_company, _MADE, 0.7, "certificate", _BIN, "cert.file.subject.O",
                                when=_own_certificate),
                       FactKind(_company, Relationship.CONTAINS, 0.5, "certificate", _BIN)),
    # e-mail addresses by role: an author's domain says who wrote it; a maintainer's says less
    "manifest.author_email": (FactKind(_domain, _MADE, 0.7, "manifest", _MAN,
                                       "manifest.email_domain"),),
    "manifest.publisher_email": (FactKind(_domain, _MADE, 0.7, "manifest", _MAN,
                                          "manifest.email_domain"),),
    "manifest.maintainer_email": (FactKind(_domain, _MADE, 0.4, "manifest", _MAN,
                                           "manifest.email_domain"),),
    "manifest.homepage": (_URL,),
    "manifest.repository": (_URL,),
    # a vendor container whose header validated with the extractor's own checks
    "container.vendor": (FactKind(_container, _MADE, CONTAINER_CONFIDENCE, "container-format",
                                  _BIN),),
    # an address the device is configured with: its network chip's registrant
    "net.mac": (FactKind(_oui, Relationship.HARDWARE_ID, 0.5, "identifier", _BIN,
                         "net.mac.oui"),),
    "dt.vendor_prefix": (FactKind(_brand, Relationship.HARDWARE_ID, 0.5, "identifier", _BIN),),
    # package namespaces a vendor owns
    "apk.package": (FactKind(_namespace("android"), _MADE, 0.8, "identifier", _MAN),),
    "maven.groupId": (FactKind(_namespace("maven"), _MADE, 0.8, "identifier", _MAN),),
    "go.module": (FactKind(_namespace("go"), _MADE, 0.8, "identifier", _MAN),),
    # code-signing identities
    **{f"{fmt}.signer.{attr}": (FactKind(_signer, Relationship.SIGNED_BY, _signer_weight,
                                         "signer", "attestation"),)
       for fmt in ("pe", "apk", "jar", "macho") for attr in ("O", "CN")},
    # what an SBOM declares about one of its components (identify/sbom.component_facts),
    # weighed as the same declarations in a package manifest are
    "sbom.supplier": (_VENDOR,),
    "sbom.manufacturer": (_VENDOR,),
    "sbom.supplier_email": (FactKind(_domain, _MADE, 0.4, "manifest", _MAN,
                                     "manifest.email_domain"),),
    "sbom.supplier_url": (_URL,),
    "sbom.author": (FactKind(_company, _MADE, 0.6, "manifest", _MAN, "manifest.author"),),
    "sbom.author_email": (FactKind(_domain, _MADE, 0.7, "manifest", _MAN,
                                   "manifest.email_domain"),),
    "sbom.publisher": (FactKind(_company, _MADE, 0.6, "manifest", _MAN, "manifest.publisher"),),
    "sbom.homepage": (_URL,),
    "sbom.repository": (_URL,),
    "sbom.copyright_holder": (FactKind(_company, _MADE, 0.6, "copyright", _MAN,
                                       "copyright.holder"),),
    # a CPE vendor is often a guess by the SBOM tool: weak, capped
    "sbom.cpe": (FactKind(_cpe, _MADE, 0.2, "string", _MAN, "sbom.cpe_vendor"),),
}

SDK_PREFIXES = (("HI_MPI_", "hisilicon"),)  # exported API families that betray an SDK lineage
MIN_SDK_EXPORTS = 5


def _found(kind: FactKind, fact: Fact, blob: _Blob, index: VendorIndex,
           sigset: SignatureSet) -> Found | None:
    named = kind.find(index, fact, blob)
    if named is None or named.vendor is None or named.vendor not in sigset.vendors:
        return None
    weight = kind.weight(blob, fact) if callable(kind.weight) else kind.weight
    rule = kind.rule or named.rule or fact.key
    ev = _ev(kind.technique, kind.signal, named.detail, fact.location, rule, weight)
    return (named.vendor, named.relationship or kind.relationship, ev, None, blob.facts.version)


def fact_evidence(facts: Facts | None, sigset: SignatureSet) -> list[Found]:
    """Evidence from what a blob declares: each fact through its `FACT_KINDS` row, then the
    blob-wide readings (a package URL, a driver's id table, an SDK's API family)."""
    if facts is None:
        return []
    index = index_for(sigset)
    blob = _Blob(facts, facts.first("pe.signature.verified") in ("true", "True"),
                 len(facts.values("cert.subject")) == 1
                 and facts.format not in ("elf", "pe", "macho"))
    out: list[Found] = []
    for fact in facts.items:
        for kind in FACT_KINDS.get(fact.key, ()):
            if kind.when is None or kind.when(blob, fact):
                found = _found(kind, fact, blob, index, sigset)
                if found is not None:
                    out.append(found)
                break
    if facts.purl:
        package = _purl_package(facts.purl)
        hit = index.namespace(*package) if package else None
        if package and hit and hit[0] in sigset.vendors:
            out.append((hit[0], Relationship.MADE_BY,
                        _ev("manifest-analysis", "identifier", facts.purl, facts.purl,
                            f"namespace:{package[0]}:{hit[1]}", 0.8), None, facts.version))
    out.extend(_modinfo_ids(facts, index, sigset))
    out.extend(_sdk_lineage(facts, sigset))
    return out


def _modinfo_ids(facts: Facts, index: VendorIndex, sigset: SignatureSet) -> list[Found]:
    """USB/PCI ids a kernel module declares it drives.

    A driver's id table says what hardware it *supports*; it is the vendor's own code only when
    the module's author is that vendor (then the author fact already says made-by).
    """
    authors = {index.company(a) for a in facts.values("modinfo.author")}
    seen: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts.items:
        if fact.key in ("modinfo.usb_id", "modinfo.pci_id"):
            table = index.usb if fact.key == "modinfo.usb_id" else index.pci
            vendor = table.get(fact.value.split(":", 1)[0].lower())
            if vendor and vendor not in authors:
                seen[vendor].append(fact)
    out: list[Found] = []
    for vendor, found in seen.items():
        ids = ", ".join(f.value for f in found[:6]) + (" …" if len(found) > 6 else "")
        ev = _ev("binary-analysis", "identifier", f"driver id table lists {len(found)} "
                 f"{vendor} device ids: {ids}", found[0].location, "modinfo.alias", 0.1)
        out.append((vendor, Relationship.SUPPORTS, ev, None, None))
    return out


def _sdk_lineage(facts: Facts, sigset: SignatureSet) -> list[Found]:
    """A vendor SDK's API family exported without the vendor's own markers: same SDK lineage."""
    out: list[Found] = []
    exports = facts.values("elf.export")
    for prefix, vendor in SDK_PREFIXES:
        family = [name for name in exports if name.startswith(prefix)]
        if len(family) >= MIN_SDK_EXPORTS and vendor in sigset.vendors:
            ev = _ev("binary-analysis", "symbol", f"{len(family)} {prefix}* exports: "
                     + ", ".join(family[:4]), facts.items[0].location.split("#", 1)[0],
                     f"symbols:{prefix}", 0.5)
            out.append((vendor, Relationship.LINEAGE, ev, None, None))
    return out


def _attributions(grouped: dict[tuple[str, Relationship], list[Evidence]],
                  detail: dict[tuple[str, Relationship], tuple[str | None, str | None]],
                  ) -> list[Attribution]:
    return [Attribution(vendor=vendor, relationship=rel, confidence=combine(evs),
                        evidence=tuple(sorted(evs, key=lambda e: (-e.confidence, e.rule,
                                                                  e.location))),
                        component=detail[(vendor, rel)][0], version=detail[(vendor, rel)][1])
            for (vendor, rel), evs in grouped.items()]


def merge(*groups: tuple[Attribution, ...]) -> tuple[Attribution, ...]:
    """One attribution per (vendor, relationship) from several resolutions of one component
    (what an SBOM declares about it, and what its own file shows)."""
    grouped: dict[tuple[str, Relationship], list[Evidence]] = defaultdict(list)
    detail: dict[tuple[str, Relationship], tuple[str | None, str | None]] = {}
    for group in groups:
        for a in group:
            key = (a.vendor, a.relationship)
            grouped[key].extend(e for e in a.evidence if e not in grouped[key])
            old = detail.get(key, (None, None))
            detail[key] = (old[0] or a.component, old[1] or a.version)
    return ranked(_attributions(grouped, detail))


# -- an SBOM found inside an input: what its components are, the document holds ---------------

SBOM_COMPONENT = "sbom.component"  # opens a component (identify/sbom.component_facts)
_SBOM_DOCUMENT_KEYS = frozenset({"sbom.format", "sbom.spec_version", "sbom.component_count"})


def _of_component(key: str) -> bool:
    return key.startswith("sbom.") and key not in _SBOM_DOCUMENT_KEYS
# what a listed component's attribution makes of the document listing it, as a package's
# parts make the package (pipeline.contained): it contains the vendor's component
_LISTED = {Relationship.MADE_BY: Relationship.CONTAINS, Relationship.SIGNED_BY:
           Relationship.CONTAINS, Relationship.OEM: Relationship.CONTAINS}


def sbom_components(facts: Facts) -> list[tuple[str, Facts]]:
    """(location, facts) of each component an SBOM blob's `sbom.*` facts describe: a fact
    belongs to the component whose location is the longest prefix of its own
    (`…#components[1].supplier.name` to `…#components[1]`, not `…#components[1].components[0]`)."""
    starts = {f.location: i for i, f in enumerate(facts.items) if f.key == SBOM_COMPONENT}
    groups: dict[str, list[Fact]] = {loc: [] for loc in starts}
    for fact in facts.items:
        if not _of_component(fact.key):
            continue
        where = fact.location
        pointer = where.rfind("#")
        while where not in groups and where.rfind(".") > pointer >= 0:
            where = where[:where.rfind(".")]
        if where in groups:
            groups[where].append(fact)
    return [(where, sbom_component(items)) for where, items in groups.items() if items]


def sbom_component(items: Iterable[Fact]) -> Facts:
    """One SBOM component's facts, with its declared name, version, purl and supplier."""
    items = tuple(items)
    values = {f.key: f.value for f in reversed(items)}  # the first of each key
    return Facts("sbom-component", items=items, name=values.get("sbom.name"),
                 version=values.get("sbom.version"), purl=values.get("sbom.purl"),
                 supplier=values.get("sbom.supplier") or values.get("sbom.manufacturer"))


def _listed(facts: Facts, sigset: SignatureSet) -> list[Found]:
    """The vendors an SBOM's components are attributed to, as the document's `contains`: each
    component is resolved exactly as `provenance enrich` resolves it, and the strongest
    component per vendor speaks for the document (one vote, like a package's parts)."""
    best: dict[tuple[str, Relationship], tuple[Attribution, str, Facts]] = {}
    for where, component in sbom_components(facts):
        for a in resolve(component, (), sigset, where):
            rel = _LISTED.get(a.relationship, a.relationship)
            if rel in (Relationship.MENTIONS, Relationship.SUPPORTS):
                continue
            key = (a.vendor, rel)
            if key not in best or a.confidence > best[key][0].confidence:
                best[key] = (a, where, component)
    out: list[Found] = []
    for (vendor, rel), (a, where, component) in best.items():
        label = component.first(SBOM_COMPONENT) or where
        ev = _ev(a.evidence[0].technique, "component",
                 f"{label} is {a.relationship.value} {vendor} ({a.confidence:.2f}): "
                 f"{a.evidence[0].rule}", where, f"sbom.{rel.value}", a.confidence)
        out.append((vendor, rel, ev, a.component, a.version))
    return out


_SUBSUMED_BY_MADE_BY = frozenset({Relationship.LINEAGE, Relationship.HARDWARE_ID,
                                  Relationship.SUPPORTS, Relationship.MENTIONS})


def resolve(
    facts: Facts | None, hits: tuple[Hit, ...], sigset: SignatureSet, location: str
) -> tuple[Attribution, ...]:
    """All attributions for one blob, strongest first. An SBOM's listed components count for
    the document as they count in `provenance enrich` (`_listed`)."""
    grouped: dict[tuple[str, Relationship], list[Evidence]] = defaultdict(list)
    detail: dict[tuple[str, Relationship], tuple[str | None, str | None]] = {}
    measured = sigset.calibration
    own, listed = facts, []
    if facts is not None and facts.format == "sbom":  # its components speak for themselves
        own = replace(facts, items=tuple(f for f in facts.items if not _of_component(f.key)))
        listed = _listed(facts, sigset)
    for vendor, rel, ev, component, version in (
        *hit_evidence(hits, sigset, location),
        *fact_evidence(own, sigset),
        *mark_evidence(hits, facts, sigset, location),
    ):
        if ev.rule in measured:  # the kind's precision measured on labelled corpora
            ev = replace(ev, confidence=measured[ev.rule])
        grouped[(vendor, rel)].append(ev)
        old = detail.get((vendor, rel), (None, None))
        detail[(vendor, rel)] = (old[0] or component, old[1] or version)
    for vendor, rel, ev, component, version in listed:  # calibrated in the component already
        grouped[(vendor, rel)].append(ev)
        old = detail.get((vendor, rel), (None, None))
        detail[(vendor, rel)] = (old[0] or component, old[1] or version)
    attributions = _attributions(grouped, detail)
    made = {a.vendor for a in attributions if a.relationship == Relationship.MADE_BY}
    # made-by explains the weaker links to the same vendor (its API family is lineage only for
    # look-alikes; its own device-tree prefix or name adds nothing): keep one, clear answer
    attributions = [a for a in attributions
                    if not (a.relationship in _SUBSUMED_BY_MADE_BY and a.vendor in made)]
    return contributed(ranked(attributions), facts, sigset)
