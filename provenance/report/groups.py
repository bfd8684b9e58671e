"""Findings rolled up into groups a reader can act on. Pure: ScanResult -> tuple[Group, ...].

A Huawei npm SDK gives one finding per `.js` file, and a tar of 6,000 vendor libraries gives
6,000; the reader needs "this package, made by Huawei, 90 files" once, with the members to drill
into. A group is the nearest meaningful unit holding the finding: the package it belongs to (the
nearest component with a package URL, itself included), or else the folder it sits in (an SDK
folder, a lib directory of a partition; the container itself for a member at its top). Findings
of one vendor in one unit form one group; a container's `contains` finding that only rolls up
flagged members is not listed again. Every renderer (terminal, Markdown, HTML, SARIF) lists
groups, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from provenance.model import (
    CHAIN_SEP,
    Component,
    Evidence,
    Finding,
    Relationship,
    ScanResult,
    Verdict,
)

_RANK = {Verdict.RESTRICTED: 0, Verdict.REVIEW: 1, Verdict.CLEAR: 2}


@dataclass(frozen=True, slots=True)
class Group:
    unit: str  # the package or folder, as a path chain
    kind: str  # "package" or "folder"
    vendor: str
    level: Verdict  # the worst live (unwaived) member's level; a waived-only group: its level
    waived: bool  # every member is waived
    confidence: float  # the strongest member's
    members: tuple[Finding, ...]  # strongest first
    evidence: Evidence | None  # the deciding evidence of the strongest member
    package: str | None = None  # the package's name and version, for a package unit

    @property
    def lead(self) -> Finding:
        return self.members[0]

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(sorted({e.policy for f in self.members for e in f.entries}))

    @property
    def relationships(self) -> tuple[str, ...]:
        return tuple(sorted({f.relationship.value for f in self.members}))


def _folder(chain: tuple[str, ...]) -> str:
    """The folder holding the last member of a chain (the container, at its top)."""
    head, _, _ = chain[-1].rstrip("/").rpartition("/")
    return CHAIN_SEP.join((*chain[:-1], head) if head else chain[:-1] or chain)


def _ancestors(ref: str, parent: dict[str, Component]) -> Iterator[Component]:
    node = parent.get(ref)
    while node is not None:
        yield node
        node = parent.get(node.ref)


def _strength(f: Finding) -> tuple[bool, int, float, str]:
    return (f.waiver is not None, _RANK[f.level], -f.confidence, f.location)


def groups(result: ScanResult) -> tuple[Group, ...]:
    """The findings of `result` in groups, worst first (restricted, then review, then waived;
    then by member count)."""
    parent: dict[str, Component] = {}
    by_ref: dict[str, Component] = {}
    for comp in result.components():
        by_ref[comp.ref] = comp
        for child in comp.children:
            parent[child.ref] = comp
    units: dict[tuple[str, str], list[Finding]] = {}
    kinds: dict[str, tuple[str, str | None]] = {}
    inside = {p.ref for f in result.findings for p in _ancestors(f.component, parent)}
    for f in result.findings:
        held = by_ref.get(f.component)
        if f.relationship is Relationship.CONTAINS and f.component in inside and held \
                and held.children:
            continue  # a container's roll-up of flagged members the groups already list
        node = by_ref.get(f.component)
        package: Component | None = None
        while node is not None:  # the nearest package; its own manifest inside is the same one
            if node.purl and (package is None or node.purl == package.purl):
                package = node
            elif package is not None:
                break
            node = parent.get(node.ref)
        if package is not None:
            unit = package.path
            label = package.name + (f" {package.version}" if package.version else "")
            kinds[unit] = ("package", label)
        else:
            held = by_ref.get(f.component)
            unit = _folder(held.chain) if held is not None else f.location
            kinds.setdefault(unit, ("folder", None))
        units.setdefault((unit, f.vendor), []).append(f)
    out = []
    for (unit, vendor), members in units.items():
        members.sort(key=_strength)
        live = [f for f in members if f.waiver is None]
        lead = members[0]
        owner = by_ref.get(lead.component)
        attribution = next((a for a in owner.attributions if a.vendor == lead.vendor
                            and a.relationship == lead.relationship), None) if owner else None
        unit_kind, package_label = kinds[unit]
        out.append(Group(unit, unit_kind, vendor, (live or members)[0].level, not live,
                         lead.confidence, tuple(members),
                         attribution.evidence[0] if attribution and attribution.evidence
                         else None, package_label))
    out.sort(key=lambda g: (g.waived, _RANK[g.level], -len(g.members), g.unit, g.vendor))
    return tuple(out)
