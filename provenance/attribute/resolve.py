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
from collections.abc import Iterable
from dataclasses import replace

from provenance.attribute.marks import mark_evidence
from provenance.attribute.upstream import contributed
from provenance.attribute.vendor_index import VendorIndex, index_for, norm
from provenance.attribute.yara_scan import Hit
from provenance.model import Attribution, Evidence, Fact, Facts, Relationship
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


# (fact key, relationship, confidence, signal, technique): declared company names
_COMPANY_FACTS = {
    "pe.version.CompanyName": (Relationship.MADE_BY, 0.6, "version-info", "binary-analysis"),
    "copyright.holder": (Relationship.MADE_BY, 0.6, "copyright", "binary-analysis"),
    "manifest.author": (Relationship.MADE_BY, 0.6, "manifest", "manifest-analysis"),
    "manifest.publisher": (Relationship.MADE_BY, 0.6, "manifest", "manifest-analysis"),
    "manifest.vendor": (Relationship.MADE_BY, 0.6, "manifest", "manifest-analysis"),
    "manifest.maintainer": (Relationship.MADE_BY, 0.4, "manifest", "manifest-analysis"),
    "jar.manifest.Implementation-Vendor": (Relationship.MADE_BY, 0.6, "manifest",
                                           "manifest-analysis"),
    "jar.manifest.Bundle-Vendor": (Relationship.MADE_BY, 0.6, "manifest", "manifest-analysis"),
    "maven.organization.name": (Relationship.MADE_BY, 0.6, "manifest", "manifest-analysis"),
    "modinfo.author": (Relationship.MADE_BY, 0.7, "manifest", "binary-analysis"),
    # vendor kernel modules put the company in the licence field ("Hisilicon Tech. Co.")
    "modinfo.license": (Relationship.MADE_BY, 0.7, "manifest", "binary-analysis"),
    # a vendor certificate embedded in a blob: a trust-store entry or pinned identity
    "cert.subject.O": (Relationship.CONTAINS, 0.5, "certificate", "binary-analysis"),
}
# e-mail addresses by role: an author's domain says who wrote it; a maintainer's says less
_EMAIL_FACTS = {"manifest.author_email": 0.7, "manifest.publisher_email": 0.7,
                "manifest.maintainer_email": 0.4}
# code-signing identities: (pe|apk|jar|macho).signer.(O|CN)
_SIGNER = re.compile(r"^(pe|apk|jar|macho)\.signer\.(O|CN)$")
# A vendor container's declaration (`container.*`, identify/fwheaders.py): written only when
# the header validated with the extractor's own checks; the container's module names the vendor
# and the relationship, so nothing here lists formats or vendors.
CONTAINER_CONFIDENCE = 0.8
_NAMESPACE_FACTS = {"apk.package": "android", "maven.groupId": "maven", "go.module": "go"}
SDK_PREFIXES = (("HI_MPI_", "hisilicon"),)  # exported API families that betray an SDK lineage
MIN_SDK_EXPORTS = 5


def fact_evidence(facts: Facts | None, sigset: SignatureSet) -> list[Found]:
    """Evidence from what a blob declares: names, signers, namespaces, ids, API families."""
    if facts is None:
        return []
    index = index_for(sigset)
    out: list[Found] = []

    def add(vendor: str | None, rel: Relationship, ev: Evidence) -> None:
        if vendor is not None and vendor in sigset.vendors:
            out.append((vendor, rel, ev, None, facts.version))

    verified = facts.first("pe.signature.verified")
    # a file that is one certificate (not a trust store, not a binary embedding one) is the
    # subject's own: "C=CN, O=Huawei, CN=Huawei Fixed Network Product CA"
    subjects = facts.values("cert.subject")
    single_cert = len(subjects) == 1 and facts.format not in ("elf", "pe", "macho")
    for fact in facts.items:
        key = fact.key
        if key == "cert.subject.O" and single_cert and fact.location.endswith("@0x0"):
            add(index.company(fact.value), Relationship.MADE_BY,
                _ev("binary-analysis", "certificate", fact.value, fact.location,
                    "cert.file.subject.O", 0.7))
        elif key in _COMPANY_FACTS:
            rel, conf, signal, technique = _COMPANY_FACTS[key]
            add(index.company(fact.value), rel,
                _ev(technique, signal, fact.value, fact.location, key, conf))
        elif _SIGNER.match(key):
            conf = 0.6 if key.startswith("pe.") and verified not in ("true", "True") else 0.85
            add(index.signer(fact.value), Relationship.SIGNED_BY,
                _ev("attestation", "signer", fact.value, fact.location, key.rsplit(".", 1)[0],
                    conf))
        elif key in _EMAIL_FACTS:
            add(index.domain(fact.value), Relationship.MADE_BY,
                _ev("manifest-analysis", "manifest", fact.value, fact.location,
                    "manifest.email_domain", _EMAIL_FACTS[key]))
        elif key in ("manifest.homepage", "manifest.repository"):
            # anyone may link to a vendor's documentation: a weak, capped hint
            add(index.domain(fact.value), Relationship.MADE_BY,
                _ev("manifest-analysis", "string", fact.value, fact.location, "manifest.url",
                    0.3))
        elif key == "container.vendor":
            claim = _container_claim(facts, fact)
            if claim is not None:
                add(*claim)
        elif key == "net.mac":
            # an address the device is configured with: its network chip's registrant
            hit = index.oui(fact.value)
            if hit:
                add(hit[0], Relationship.HARDWARE_ID,
                    _ev("binary-analysis", "identifier", f"{fact.value} (OUI {hit[1]})",
                        fact.location, "net.mac.oui", 0.5))
        elif key == "dt.vendor_prefix":
            add(index.brands.get(norm(fact.value)), Relationship.HARDWARE_ID,
                _ev("binary-analysis", "identifier", fact.value, fact.location, key, 0.5))
        elif key in _NAMESPACE_FACTS:
            hit = index.namespace(_NAMESPACE_FACTS[key], fact.value)
            if hit:
                add(hit[0], Relationship.MADE_BY,
                    _ev("manifest-analysis", "identifier", fact.value, fact.location,
                        f"namespace:{_NAMESPACE_FACTS[key]}:{hit[1]}", 0.8))
    if facts.purl:
        package = _purl_package(facts.purl)
        hit = index.namespace(*package) if package else None
        if package and hit:
            add(hit[0], Relationship.MADE_BY,
                _ev("manifest-analysis", "identifier", facts.purl, facts.purl,
                    f"namespace:{package[0]}:{hit[1]}", 0.8))
    out.extend(_modinfo_ids(facts, index, sigset))
    out.extend(_sdk_lineage(facts, sigset))
    return out


def _container_claim(facts: Facts, fact: Fact) -> tuple[str, Relationship, Evidence] | None:
    """(vendor, relationship, evidence) from a validated container's declaration."""
    try:
        rel = Relationship(facts.first("container.relationship") or Relationship.MADE_BY)
    except ValueError:
        return None
    fmt = facts.first("container.format") or facts.format or "container"
    said = next((f for f in facts.items if not f.key.startswith("container.")), None)
    detail = f"{fmt} header" + (f": {said.key} = {said.value}" if said else "")
    return fact.value, rel, _ev("binary-analysis", "container-format", detail, fact.location,
                                f"container:{fmt}", CONTAINER_CONFIDENCE)


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


_SUBSUMED_BY_MADE_BY = frozenset({Relationship.LINEAGE, Relationship.HARDWARE_ID,
                                  Relationship.SUPPORTS, Relationship.MENTIONS})


def resolve(
    facts: Facts | None, hits: tuple[Hit, ...], sigset: SignatureSet, location: str
) -> tuple[Attribution, ...]:
    """All attributions for one blob, strongest first."""
    grouped: dict[tuple[str, Relationship], list[Evidence]] = defaultdict(list)
    detail: dict[tuple[str, Relationship], tuple[str | None, str | None]] = {}
    measured = sigset.calibration
    for vendor, rel, ev, component, version in (
        *hit_evidence(hits, sigset, location),
        *fact_evidence(facts, sigset),
        *mark_evidence(hits, facts, sigset, location),
    ):
        if ev.rule in measured:  # the kind's precision measured on labelled corpora
            ev = replace(ev, confidence=measured[ev.rule])
        grouped[(vendor, rel)].append(ev)
        old = detail.get((vendor, rel), (None, None))
        detail[(vendor, rel)] = (old[0] or component, old[1] or version)
    attributions = [
        Attribution(
            vendor=vendor,
            relationship=rel,
            confidence=combine(evs),
            evidence=tuple(sorted(evs, key=lambda e: (-e.confidence, e.rule, e.location))),
            component=detail[(vendor, rel)][0],
            version=detail[(vendor, rel)][1],
        )
        for (vendor, rel), evs in grouped.items()
    ]
    made = {a.vendor for a in attributions if a.relationship == Relationship.MADE_BY}
    # made-by explains the weaker links to the same vendor (its API family is lineage only for
    # look-alikes; its own device-tree prefix or name adds nothing): keep one, clear answer
    attributions = [a for a in attributions
                    if not (a.relationship in _SUBSUMED_BY_MADE_BY and a.vendor in made)]
    order = list(Relationship)
    attributions.sort(key=lambda a: (order.index(a.relationship), -a.confidence, a.vendor))
    return contributed(tuple(attributions), facts, sigset)
