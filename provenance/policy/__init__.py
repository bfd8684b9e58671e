"""Stage 4: restricted-origin lists turn attributions into findings. Pure functions, no I/O.

Default policy set (`DEFAULT_POLICIES`, used when no `--policy` is given): the three US lists
that name vendors and bind any buyer of federal contracts: `us-ndaa-889` (any telecom equipment
of Huawei, ZTE and their affiliates; Hytera, Hikvision, Dahua for the listed uses, since 2019),
`us-fcc-covered-list` (adds Kaspersky, the carriers' services and, from 2025-12-22, DJI/Autel)
and `us-kaspersky-icts-2024` (Kaspersky software, also when integrated in other products). The
non-US lists (UK, EU, Sweden, Japan) bind narrower audiences (telecom operators, one
institution, government buyers) and are chosen with `--policy` (repeatable).

`--as-of DATE`: an entry applies from its `in_force` date (inclusive) up to its `until` date
(inclusive); on any other date it does not exist for the evaluation. An entry with `at_most:
review` gives review at most: a link to a listed company that is reported but not confirmed
(Sanechips as ZTE Microelectronics), or a subsidiary sold since (Imou after Dahua's 2025 sale).

Waivers (`provenance.policy.waivers`) keep a finding but mark it; `rollup` ignores waived
findings, so they do not raise a component's verdict nor the exit code.

`contributed` (the vendor's code as upstream open source that someone else built and shipped,
see `provenance.attribute.upstream`) is in every built-in policy's review list and in none's
restricted list. Auditors who count it as the vendor's product anyway use
`scan --contributed-as-made-by`: `contributed_as_made_by` (or `evaluate(...,
contributed_as_made_by=True)`) adds `contributed` wherever a policy lists made-by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from provenance.model import Attribution, Component, Finding, PolicyEntry, Relationship, Verdict
from provenance.signatureset import Policy, PolicyEntity, SignatureSet, Threshold

DEFAULT_POLICIES = ("us-ndaa-889", "us-fcc-covered-list", "us-kaspersky-icts-2024")

__all__ = ["DEFAULT_POLICIES", "applies", "contributed_as_made_by", "evaluate", "level_for",
           "made_by_view", "rollup"]


def _widen(threshold: Threshold) -> Threshold:
    rels = threshold.relationships
    if Relationship.MADE_BY in rels and Relationship.CONTRIBUTED not in rels:
        return replace(threshold, relationships=(*rels, Relationship.CONTRIBUTED))
    return threshold


def made_by_view(policy: Policy) -> Policy:
    """The policy counting `contributed` wherever it counts made-by."""
    return replace(policy, restricted=_widen(policy.restricted), review=_widen(policy.review))


def contributed_as_made_by(sigset: SignatureSet) -> SignatureSet:
    """The signature set with every policy counting `contributed` as made-by
    (`scan --contributed-as-made-by`). Vendors, rules and the digest are unchanged; whatever
    caches results by digest must key on the option too (pipeline.ScanOptions does)."""
    return replace(sigset, policies={pid: made_by_view(p) for pid, p in sigset.policies.items()})


def applies(entity: PolicyEntity, family: tuple[str, ...], as_of: date) -> bool:
    """Whether a listed entity covers a vendor (given as its family, nearest first) on a date."""
    if date.fromisoformat(entity.in_force) > as_of:
        return False
    if entity.until and date.fromisoformat(entity.until) < as_of:
        return False
    listed = set(entity.vendors)
    return family[0] in listed or (entity.affiliates and bool(listed & set(family[1:])))


def level_for(policy: Policy, attribution: Attribution) -> Verdict | None:
    """The level a policy gives one attribution, before looking at which entity it names."""
    for level, rule in ((Verdict.RESTRICTED, policy.restricted), (Verdict.REVIEW, policy.review)):
        if attribution.relationship in rule.relationships and (
            attribution.confidence >= rule.min_confidence
        ):
            return level
    return None


def _finding(
    component: Component, attribution: Attribution, sigset: SignatureSet,
    policies: Iterable[Policy], as_of: date,
) -> Finding | None:
    family = sigset.family(attribution.vendor)
    entries: list[PolicyEntry] = []
    direct = False
    best: Verdict | None = None
    for policy in policies:
        level = level_for(policy, attribution)
        if level is None:
            continue
        for entity in policy.entities:
            if applies(entity, family, as_of):
                direct = direct or family[0] in entity.vendors
                entries.append(PolicyEntry(policy.id, entity.entity, entity.source,
                                           entity.in_force, entity.scope, entity.citations))
                # an entry whose link to a listed company is reported, not confirmed, asks
                # for review at most
                given = min(level, entity.at_most, key=lambda v: v.rank)
                if best is None or given.rank > best.rank:
                    best = given
    if best is None:
        return None
    via = "" if direct else f" (affiliate of {', '.join(family[1:])})"
    lists = ", ".join(sorted({e.policy for e in entries}))
    rationale = (f"{attribution.relationship.value} {attribution.vendor}{via} at "
                 f"{attribution.confidence:.2f}, listed by {lists}")
    if attribution.relationship is Relationship.CONTRIBUTED:
        rationale += ("; upstream open source the vendor contributed, built and shipped by "
                      + ("others, counted as made-by" if best is Verdict.RESTRICTED
                         else "others: review, not restricted"))
    return Finding(component.ref, component.path, attribution.vendor, best,
                   attribution.relationship, attribution.confidence, tuple(entries), rationale)


def evaluate(
    components: Iterable[Component], sigset: SignatureSet, policy_ids: Iterable[str], as_of: date,
    *, contributed_as_made_by: bool = False,
) -> tuple[Finding, ...]:
    """Findings for every attributed component under the chosen policies, as of a date
    (`contributed_as_made_by`: the policies count `contributed` wherever they count made-by)."""
    policies = [sigset.policies[pid] for pid in policy_ids]
    if contributed_as_made_by:
        policies = [made_by_view(p) for p in policies]
    findings = []
    for component in components:
        for attribution in component.attributions:
            finding = _finding(component, attribution, sigset, policies, as_of)
            if finding is not None:
                findings.append(finding)
    findings.sort(key=lambda f: (-f.level.rank, f.location, f.vendor))
    return tuple(findings)


def rollup(component: Component, findings: tuple[Finding, ...]) -> dict[str, Verdict]:
    """Verdict per component ref: its own unwaived findings and, for containers, its parts'.

    A waived finding stays in the report but counts for nothing here, so it raises neither a
    component's verdict nor the scan's (and so not the exit code).
    """
    own: dict[str, Verdict] = {}
    for f in findings:
        if f.waiver is None and f.level.rank > own.get(f.component, Verdict.CLEAR).rank:
            own[f.component] = f.level
    out: dict[str, Verdict] = {}

    def visit(node: Component) -> Verdict:
        verdict = own.get(node.ref, Verdict.CLEAR)
        for child in node.children:
            sub = visit(child)
            if sub.rank > verdict.rank:
                verdict = sub
        out[node.ref] = verdict
        return verdict

    visit(component)
    return out
