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

from provenance.attribute.yara_scan import Hit
from provenance.model import Attribution, Evidence, Facts, Relationship
from provenance.signatureset import SignatureSet

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


def hit_evidence(
    hits: tuple[Hit, ...], sigset: SignatureSet, location: str
) -> list[Found]:
    """(vendor, relationship, evidence, component, version) for every rule that matched."""
    rules = {rule.id: rule for rule in sigset.rules}
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


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def fact_evidence(
    facts: Facts | None, sigset: SignatureSet
) -> list[Found]:
    """Evidence from declared identity: PE version-resource company names."""
    if facts is None:
        return []
    names: dict[str, str] = {}
    for vendor in sigset.vendors.values():
        for item in (*vendor.legal_names, *vendor.aliases):
            names[_norm(item.value)] = vendor.id
    out: list[Found] = []
    for fact in facts.items:
        if fact.key == "pe.version.CompanyName":
            vendor_id = names.get(_norm(fact.value))
            if vendor_id:
                ev = Evidence("binary-analysis", "version-info", fact.value[:120], fact.location,
                              fact.key, 0.6)
                out.append((vendor_id, Relationship.MADE_BY, ev, None, facts.version))
    return out


def resolve(
    facts: Facts | None, hits: tuple[Hit, ...], sigset: SignatureSet, location: str
) -> tuple[Attribution, ...]:
    """All attributions for one blob, strongest first."""
    grouped: dict[tuple[str, Relationship], list[Evidence]] = defaultdict(list)
    detail: dict[tuple[str, Relationship], tuple[str | None, str | None]] = {}
    for vendor, rel, ev, component, version in (
        *hit_evidence(hits, sigset, location),
        *fact_evidence(facts, sigset),
    ):
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
    order = list(Relationship)
    attributions.sort(key=lambda a: (order.index(a.relationship), -a.confidence, a.vendor))
    return tuple(attributions)
