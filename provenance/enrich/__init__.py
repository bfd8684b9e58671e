"""`provenance enrich`: add makers, restricted-origin flags and evidence to an existing SBOM.

A client of the stages, not a second pipeline: the SBOM is read by identification's reader
(`read`), each component becomes facts by identification's one mapping
(`identify.sbom.component_facts`, the facts a scan reads from an SBOM found inside an input),
those facts are attributed by `attribute.resolve` (which, in a scan, weighs the same components
the same way for the document holding them) and given a maker by `attribute.maker`; policies
and waivers judge them as in a scan, and the output carries the properties a scan report does
(`write`), so `provenance render` reads it.

With `artifacts_dir`, a component's own file (found by SHA-256, else by a unique file name) is
analysed for binary evidence too. The output is the input document with provenance's fields
added (DESIGN §7): nothing the SBOM said is removed or rewritten, except `specVersion` and
`$schema`, which become 1.6.

Relabelling (`relabel`): a component whose declared supplier (or manufacturer) is not the maker
its files show gets `provenance:relabelled` and a review-level finding.

With `fill_supplier` (`supplier`): the maker becomes the `supplier` where the producer wrote
none and the made-by evidence clears `SUPPLIER_MIN`; a declared supplier it contradicts is kept
and reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from provenance.attribute.maker import manufacturer
from provenance.attribute.resolve import merge, resolve, sbom_component
from provenance.enrich.read import Artifacts, SbomError, looks_like_sbom, read_sbom
from provenance.enrich.relabel import relabelling
from provenance.enrich.supplier import SUPPLIER_MIN, SupplierCheck, check_supplier
from provenance.enrich.write import add_tool, summarise, write_component
from provenance.identify.base import clean
from provenance.identify.sbom import DECLARED_KEYS, component_facts
from provenance.identify.sbom_read import walk_tree
from provenance.model import (
    Attribution,
    Component,
    Fact,
    Facts,
    Finding,
    Problem,
    ProblemKind,
    Relationship,
    Stage,
    Verdict,
)
from provenance.policy import evaluate, rollup
from provenance.policy.waivers import Waiver, apply_waivers
from provenance.signatureset import SignatureSet

# components enriched from one SBOM (about 1 ms each): a large container image's SBOM holds
# tens of thousands; past this, the rest stay as written and the report says so
MAX_ENRICHED = 50_000

__all__ = ["SUPPLIER_MIN", "Declared", "SbomError", "attribute", "declared", "enrich",
           "looks_like_sbom", "relabelling"]


@dataclass(frozen=True, slots=True)
class Declared:
    """What one SBOM component says about itself (identify's facts), and the parts of it that
    enrich needs apart: the declared supplier, and what finds its file."""

    facts: Facts
    declared: str | None  # declared supplier or manufacturer name, as written
    sha256: str | None
    file_names: tuple[str, ...]


def declared(comp: dict[str, Any], where: str) -> Declared:
    """The facts of one CycloneDX component dict; `where` is its location (`file#pointer`)."""
    items = [Fact(key, text, where + at) for key, value, at in component_facts(comp)
             if (text := clean(value))]
    facts = sbom_component(items)
    sha = next((f.value for f in items if f.key == "sbom.sha256"), None)
    names = tuple(f.value for f in items if f.key == "sbom.file_name")
    return Declared(facts, facts.supplier, sha, names)


def attribute(
    found: Declared, sigset: SignatureSet, location: str,
    artifact: tuple[Facts, tuple[Any, ...], str] | None = None,
) -> tuple[tuple[Attribution, ...], tuple[Attribution, ...]]:
    """(all attributions, those from evidence other than the declared supplier)."""
    attributions = resolve(found.facts, (), sigset, location)
    evidence_only = resolve(replace(found.facts, items=tuple(
        f for f in found.facts.items if f.key not in DECLARED_KEYS)), (), sigset, location)
    if artifact is not None:
        facts, hits, where = artifact
        own_file = resolve(facts, hits, sigset, where)
        attributions, evidence_only = merge(attributions, own_file), merge(evidence_only,
                                                                           own_file)
    return attributions, evidence_only


@dataclass(frozen=True, slots=True)
class _Item:
    comp: dict[str, Any]
    component: Component
    path: str  # where it is in the document ("#components[2]")
    parent: str | None
    evidence_only: tuple[Attribution, ...]
    declared: str | None
    matched: str | None  # the artifact path analysed for it


def _tree(items: list[_Item], source: str) -> tuple[Component, _Item | None]:
    """The verdict tree, built bottom-up without recursion: metadata.component (or the
    document) holds the top-level components, a nested component its parts."""
    kids: dict[str | None, list[str]] = defaultdict(list)
    root_item = None
    for item in items:
        if item.path == "#metadata.component":
            root_item = item
        else:
            kids[item.parent].append(item.path)
    built: dict[str, Component] = {}
    for item in reversed(items):  # a parent is listed before its parts
        built[item.path] = replace(item.component, children=tuple(
            built[p] for p in kids.get(item.path, ())))
    top = tuple(built[p] for p in kids.get(None, ()))
    if root_item is not None:
        return replace(built[root_item.path], children=top), root_item
    return Component("root", (source,), source, "sbom", "", 0, children=top), None


def enrich(
    sbom_path: Path, sigset: SignatureSet, policy_ids: Sequence[str], as_of: date,
    artifacts_dir: Path | None = None, waivers: Sequence[Waiver] = (), *, strict: bool = False,
    fill_supplier: bool = False, source: str | None = None,
) -> tuple[dict[str, Any], tuple[Finding, ...], tuple[Problem, ...]]:
    """(enriched CycloneDX 1.6 dict, findings, problems) for one SBOM file. `strict` checks
    the input and the output against the schema's formats too (seconds per document);
    `fill_supplier` writes the maker into empty suppliers (`supplier`); `source` names the
    input in locations and problems (default: the file name; "stdin" for `enrich -`).

    Raises SbomError when the file is not a readable SBOM, KeyError for an unknown policy id.
    """
    unknown = [p for p in policy_ids if p not in sigset.policies]
    if unknown:
        raise KeyError(f"unknown policy {', '.join(unknown)}")
    sbom = read_sbom(sbom_path, source=source, strict=strict)
    source = source or sbom_path.name
    doc = sbom.doc
    problems = list(sbom.problems)
    files = Artifacts(artifacts_dir) if artifacts_dir is not None else None
    items: list[_Item] = []
    listed = walk_tree(doc, limit=MAX_ENRICHED + 1)
    if len(listed) > MAX_ENRICHED:  # the rest stay in the document as they were written
        listed = listed[:MAX_ENRICHED]
        problems.append(Problem(source, Stage.IDENTIFY, f"more than {MAX_ENRICHED} components: "
                                f"the first {MAX_ENRICHED} are enriched, the rest are kept as "
                                "they are", ProblemKind.LIMIT))
    for n, (comp, path, parent) in enumerate(listed):
        where = f"{source}{path}"
        found = declared(comp, where)
        artifact = matched = None
        target = files.find(found.sha256, found.file_names) if files else None
        if files is not None and target is not None:
            facts, hits, matched = files.analyse(target, sigset)
            artifact = (facts, hits, f"{files.root.name}/{matched}")
        attributions, evidence_only = attribute(found, sigset, where, artifact)
        ref = comp.get("bom-ref") if isinstance(comp.get("bom-ref"), str) else None
        location = where + (f" = {files.root.name}/{matched}" if files and matched else "")
        component = Component(
            ref=f"{n}:{ref or path.lstrip('#')}", chain=(location,),
            name=found.facts.name or path.lstrip("#"), kind="sbom-component",
            sha256=found.sha256 or "", size=0, type=str(comp.get("type") or "library"),
            version=found.facts.version, purl=found.facts.purl, supplier=found.declared,
            facts=found.facts, attributions=attributions,
            manufacturer=manufacturer(attributions, sigset))
        items.append(_Item(comp, component, path, parent, evidence_only, found.declared,
                           matched))

    if files is not None:
        problems.extend(files.problems)
    components = [i.component for i in items]
    findings = list(evaluate(components, sigset, policy_ids, as_of))
    relabels: dict[str, str] = {}
    for item in items:
        found_relabel = relabelling(item.declared, item.evidence_only, sigset)
        if found_relabel is not None:
            text, top = found_relabel
            relabels[item.component.ref] = text
            findings.append(Finding(
                item.component.ref, item.component.path, top.vendor, Verdict.REVIEW,
                Relationship.OEM, top.confidence, (),
                f"relabelled: {text} ({top.vendor} {top.relationship.value} at "
                f"{top.confidence:.2f})"))
    checks: dict[str, SupplierCheck] = {}
    if fill_supplier:
        for item in items:
            check = check_supplier(item.comp, item.evidence_only, sigset)
            checks[item.component.ref] = check
            if check.conflict and check.top and item.component.ref not in relabels:
                findings.append(Finding(
                    item.component.ref, item.component.path, check.top.vendor, Verdict.REVIEW,
                    Relationship.MADE_BY, check.top.confidence, (),
                    f"supplier contradicted: {check.conflict}"))
    if waivers:
        findings = list(apply_waivers(findings, components, waivers, as_of))
    findings.sort(key=lambda f: (-f.level.rank, f.location, f.vendor))

    root, root_item = _tree(items, source)
    verdicts = rollup(root, tuple(findings))
    by_ref: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_ref[f.component].append(f)
    for item in items:
        ref = item.component.ref
        write_component(item.comp, item.component, verdicts.get(ref, Verdict.CLEAR),
                        tuple(by_ref.get(ref, ())), relabels.get(ref), item is root_item,
                        checks.get(ref))

    meta = doc.setdefault("metadata", {})
    if not isinstance(meta.get("component"), dict):
        meta["component"] = {"type": "application", "name": source,
                             "bom-ref": "provenance-enriched-sbom",
                             "properties": [{"name": "provenance:location", "value": source},
                                            {"name": "provenance:kind", "value": "sbom"}]}
    add_tool(doc, sigset)
    counts = {"components": str(len(items)), "relabelled": str(len(relabels))}
    if fill_supplier:
        counts["supplier-threshold"] = f"{SUPPLIER_MIN:.2f}"
        counts["supplier-filled"] = str(sum(1 for c in checks.values() if c.supplier))
        counts["supplier-conflicts"] = str(sum(1 for c in checks.values() if c.conflict))
    if files is not None:
        counts["artifacts-matched"] = f"{sum(1 for i in items if i.matched)}/{len(items)}"
    summarise(doc, sbom, source, verdicts.get(root.ref, Verdict.CLEAR), findings, problems,
              policy_ids, counts, strict, as_of.isoformat())
    return doc, tuple(findings), tuple(problems)
