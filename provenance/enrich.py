"""`provenance enrich`: add makers, restricted-origin flags and evidence to an existing SBOM.

`enrich(sbom_path, sigset, policy_ids, as_of, artifacts_dir)` reads the SBOM (enrich_read),
turns what each component declares into Facts (purl, supplier/author/publisher names, e-mail
domains, repository and website URLs, copyright, CPE vendor as weak evidence), attributes them
with the same resolver a scan uses and, with `artifacts_dir`, analyses the component's own file
(found by SHA-256, else by file name) for binary evidence. Policies then give findings.

The output is the input document with provenance's fields added (DESIGN §7): nothing the SBOM
said is removed or rewritten, except `specVersion`/`$schema`, which become 1.6. A component that
already declares a `manufacturer` keeps it; ours then goes in `provenance:manufacturer` only.

Relabelling: a component whose declared supplier (or manufacturer) is not the maker its files
show, e.g. a branded camera firmware that is Dahua inside, gets `provenance:relabelled` and a
review-level finding (`relabelled`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from provenance import __version__
from provenance.attribute.maker import maker, manufacturer
from provenance.attribute.resolve import combine, resolve
from provenance.attribute.vendor_index import index_for, norm
from provenance.enrich_read import SbomError, SbomInput, looks_like_sbom, read_sbom, validator
from provenance.identify.copyright import normalise
from provenance.model import (
    Attribution,
    Component,
    Evidence,
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
from provenance.report.cyclonedx import (
    TECHNIQUES,
    attribution_dict,
    finding_dict,
    json_value,
    problem_dict,
    prop,
)
from provenance.signatureset import SignatureSet

__all__ = ["SbomError", "enrich", "looks_like_sbom", "relabelling", "sbom_facts"]

RELABEL_MIN = 0.7  # the evidence must be strong before it contradicts a declaration
CPE_CONFIDENCE = 0.2  # a CPE vendor is often a guess by the SBOM tool: weak, capped
MAX_ARTIFACTS = 100_000
MAX_EVIDENCE = 8
_FILE_EVIDENCE = frozenset({"binary-analysis", "attestation"})


# -- facts from what the SBOM says (pure) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Declared:
    """What one SBOM component says about itself, split by who it speaks for."""

    facts: Facts  # everything but the declared supplier/manufacturer
    declared: str | None  # declared supplier or manufacturer name, as written
    declared_facts: tuple[Fact, ...]  # the facts that carry that declaration
    cpe: str | None
    sha256: str | None
    file_names: tuple[str, ...]


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [x.strip() for x in items if isinstance(x, str) and x.strip()]


def _org(value: Any, where: str, name_key: str, mail_key: str) -> list[Fact]:
    """Facts from a CycloneDX organizationalEntity / organizationalContact."""
    if not isinstance(value, dict):
        return []
    out = [Fact(name_key, n, f"{where}.name") for n in _texts(value.get("name"))]
    out += [Fact(mail_key, m, f"{where}.email") for m in _texts(value.get("email"))]
    out += [Fact("manifest.homepage", u, f"{where}.url") for u in _texts(value.get("url"))]
    for i, contact in enumerate(value.get("contact") or []):
        if isinstance(contact, dict):
            out += [Fact(mail_key, m, f"{where}.contact[{i}].email")
                    for m in _texts(contact.get("email"))]
    return out


def sbom_facts(comp: dict[str, Any], where: str) -> Declared:
    """Facts from one CycloneDX component dict; `where` is its location (`file#pointer`)."""
    items: list[Fact] = []
    declared_facts = _org(comp.get("supplier"), f"{where}.supplier", "manifest.vendor",
                          "manifest.maintainer_email")
    declared_facts += _org(comp.get("manufacturer"), f"{where}.manufacturer", "manifest.vendor",
                           "manifest.maintainer_email")
    names = [f.value for f in declared_facts if f.key == "manifest.vendor"]
    for author in _texts(comp.get("author")):
        items.append(Fact("manifest.author", author, f"{where}.author"))
    for i, author in enumerate(comp.get("authors") or []):
        items += _org(author, f"{where}.authors[{i}]", "manifest.author", "manifest.author_email")
    for publisher in _texts(comp.get("publisher")):
        items.append(Fact("manifest.publisher", publisher, f"{where}.publisher"))
    for i, ref in enumerate(comp.get("externalReferences") or []):
        if isinstance(ref, dict) and isinstance(ref.get("url"), str):
            key = "manifest.repository" if ref.get("type") == "vcs" else "manifest.homepage"
            items.append(Fact(key, ref["url"], f"{where}.externalReferences[{i}].url"))
    copyrights = _texts(comp.get("copyright"))
    evidence = comp.get("evidence")
    if isinstance(evidence, dict):
        copyrights += [c.get("text", "") for c in evidence.get("copyright") or []
                       if isinstance(c, dict) and isinstance(c.get("text"), str)]
    for text in copyrights:
        holder = normalise(re.sub(r"^\s*copyright\b", "", text, flags=re.I))[0]
        if holder:
            items.append(Fact("copyright.holder", holder, f"{where}.copyright"))
    sha256 = None
    for h in comp.get("hashes") or []:
        if isinstance(h, dict) and h.get("alg") == "SHA-256" and isinstance(h.get("content"), str):
            sha256 = h["content"].lower()
    file_names = [p.get("value", "") for p in comp.get("properties") or []
                  if isinstance(p, dict) and p.get("name") == "provenance:spdx-file-name"]
    name = comp.get("name") if isinstance(comp.get("name"), str) else None
    if comp.get("type") == "file" and name:
        file_names.append(name.rsplit("/", 1)[-1])
    group = comp.get("group") if isinstance(comp.get("group"), str) else None
    full_name = f"{group}/{name}" if group and name and group.startswith("@") else name
    purl = comp.get("purl") if isinstance(comp.get("purl"), str) else None
    facts = Facts("sbom-component", items=tuple(items), name=full_name,
                  version=comp.get("version") if isinstance(comp.get("version"), str) else None,
                  purl=purl, supplier=names[0] if names else None)
    cpe = comp.get("cpe") if isinstance(comp.get("cpe"), str) else None
    return Declared(facts, names[0] if names else None, tuple(declared_facts), cpe, sha256,
                    tuple(n for n in file_names if n))


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


def merge(*groups: tuple[Attribution, ...]) -> tuple[Attribution, ...]:
    """One attribution per (vendor, relationship) from several resolutions of one component."""
    evidence: dict[tuple[str, Relationship], list[Evidence]] = defaultdict(list)
    detail: dict[tuple[str, Relationship], tuple[str | None, str | None]] = {}
    for group in groups:
        for a in group:
            key = (a.vendor, a.relationship)
            evidence[key].extend(a.evidence)
            old = detail.get(key, (None, None))
            detail[key] = (old[0] or a.component, old[1] or a.version)
    out = [Attribution(v, r, combine(evs), tuple(sorted(set(evs), key=lambda e: (
        -e.confidence, e.rule, e.location))), *detail[(v, r)]) for (v, r), evs in evidence.items()]
    order = list(Relationship)
    out.sort(key=lambda a: (order.index(a.relationship), -a.confidence, a.vendor))
    return tuple(out)


def attribute(
    found: Declared, sigset: SignatureSet, location: str,
    artifact: tuple[Facts, tuple[Any, ...], str] | None = None,
) -> tuple[tuple[Attribution, ...], tuple[Attribution, ...]]:
    """(all attributions, those from evidence other than the declared supplier)."""
    index = index_for(sigset)
    evidence_only = resolve(found.facts, (), sigset, location)
    extra: list[Attribution] = []
    vendor = index.company(cpe_vendor(found.cpe) or "") if found.cpe else None
    if vendor and found.cpe:
        ev = Evidence("manifest-analysis", "string", found.cpe, location, "sbom.cpe_vendor",
                      CPE_CONFIDENCE)
        extra.append(Attribution(vendor, Relationship.MADE_BY, combine([ev]), (ev,)))
    groups = [evidence_only, tuple(extra)]
    if artifact is not None:
        facts, hits, where = artifact
        groups.append(resolve(facts, hits, sigset, where))
    evidence_only = merge(*groups)
    declared = resolve(Facts("sbom-component", items=found.declared_facts), (), sigset, location)
    return merge(evidence_only, declared), evidence_only


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
    index = index_for(sigset)
    family = set(sigset.family(top.vendor))
    claimed = index.company(declared)
    if claimed is not None and family & set(sigset.family(claimed)):
        return None
    squashed = norm(declared).replace(" ", "")
    if any(brand in squashed for brand in _brands(top.vendor, sigset)):
        return None  # "HuaweiCloud SDK" is Huawei speaking for itself
    from_files = any(ev.technique in _FILE_EVIDENCE for ev in top.evidence)
    if not from_files and claimed is None:
        return None
    shown = sigset.vendors[top.vendor].name if top.vendor in sigset.vendors else top.vendor
    return f"declared {declared}, evidence shows {shown}", top


# -- the document walk ----------------------------------------------------------------------


def _walk(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str | None]]:
    """(component dict, pointer, parent pointer) for every component, metadata's first."""
    meta = doc.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("component"), dict):
        yield meta["component"], "metadata.component", None
    stack: list[tuple[Any, str, str | None]] = [(doc.get("components"), "components", None)]
    while stack:
        items, pointer, parent = stack.pop()
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                here = f"{pointer}[{i}]"
                yield item, here, parent
                stack.append((item.get("components"), f"{here}.components", here))


def _artifact_index(root: Path) -> tuple[dict[str, Path], dict[str, list[Path]]]:
    by_sha: dict[str, Path] = {}
    by_name: dict[str, list[Path]] = defaultdict(list)
    for count, path in enumerate(sorted(p for p in root.rglob("*")
                                        if p.is_file() and not p.is_symlink())):
        if count >= MAX_ARTIFACTS:
            break
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        by_sha.setdefault(digest.hexdigest(), path)
        by_name[path.name].append(path)
    return by_sha, by_name


def _analyse(path: Path, root: Path, sigset: SignatureSet) -> tuple[Facts, tuple[Any, ...], str,
                                                                    tuple[Problem, ...]]:
    from provenance.model import Artifact
    from provenance.pipeline.blobs import analyse

    data_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    rel = path.relative_to(root).as_posix()
    # facts found inside say where they are: "artifacts/x.whl!/x.dist-info/METADATA#author"
    artifact = Artifact((f"{root.name}/{rel}",), data_sha, path.stat().st_size, "file", 0,
                        local=path)
    result = analyse(artifact, sigset)
    return result.facts, result.hits, rel, result.problems


def _evidence(attributions: tuple[Attribution, ...], name: str) -> dict[str, Any] | None:
    methods: list[dict[str, Any]] = []
    occurrences: dict[str, dict[str, Any]] = {}
    for a in attributions:
        for ev in a.evidence[:MAX_EVIDENCE]:
            methods.append({
                "technique": ev.technique if ev.technique in TECHNIQUES else "other",
                "confidence": float(f"{ev.confidence:.2f}"),
                "value": f"{a.vendor} {a.relationship.value}: {ev.signal} {ev.rule}: "
                         f"{ev.detail}"})
            where, _, offset = ev.location.partition("@0x")
            occurrence: dict[str, Any] = {"location": where}
            if offset and re.fullmatch(r"[0-9a-f]+", offset):
                occurrence["offset"] = int(offset, 16)
            occurrence["additionalContext"] = f"{ev.rule}: {ev.detail}"
            occurrences.setdefault(f"{ev.location}|{ev.rule}", occurrence)
    if not methods:
        return None
    top = attributions[0]
    return {"identity": [{"field": "name", "confidence": float(f"{top.confidence:.2f}"),
                          "concludedValue": name, "methods": methods}],
            "occurrences": list(occurrences.values())}


def _add_evidence(comp: dict[str, Any], ours: dict[str, Any]) -> None:
    """Add our identity/occurrences to a component's evidence without dropping its own."""
    evidence = comp.setdefault("evidence", {})
    if not isinstance(evidence, dict):
        return
    identity = evidence.get("identity")
    if identity is None:
        evidence["identity"] = ours["identity"]
    elif isinstance(identity, list):
        identity.extend(ours["identity"])
    elif isinstance(identity, dict):  # 1.5's single object: 1.6 wants a list to add to
        evidence["identity"] = [identity, *ours["identity"]]
    occurrences = evidence.setdefault("occurrences", [])
    if isinstance(occurrences, list):
        occurrences.extend(ours["occurrences"])


def _add_tool(doc: dict[str, Any], sigset: SignatureSet) -> None:
    meta = doc.setdefault("metadata", {})
    tools = meta.get("tools")
    entry = {"type": "application", "name": "provenance", "version": __version__,
             "properties": [prop("signature-digest", sigset.digest)]}
    if tools is None:
        meta["tools"] = {"components": [entry]}
    elif isinstance(tools, dict):
        tools.setdefault("components", []).append(entry)
    elif isinstance(tools, list):  # the legacy (1.2-1.4) array form, still valid in 1.6
        tools.append({"vendor": "provenance", "name": "provenance", "version": __version__})


@dataclass(frozen=True, slots=True)
class _Item:
    comp: dict[str, Any]
    component: Component
    parent: str | None
    evidence_only: tuple[Attribution, ...]
    declared: str | None
    matched: str | None  # the artifact path analysed for it


def enrich(
    sbom_path: Path, sigset: SignatureSet, policy_ids: tuple[str, ...] | list[str],
    as_of: date, artifacts_dir: Path | None = None,
) -> tuple[dict[str, Any], tuple[Finding, ...], tuple[Problem, ...]]:
    """(enriched CycloneDX 1.6 dict, findings, problems) for one SBOM file.

    Raises SbomError when the file is not a readable SBOM, KeyError for an unknown policy id.
    """
    unknown = [p for p in policy_ids if p not in sigset.policies]
    if unknown:
        raise KeyError(f"unknown policy {', '.join(unknown)}")
    sbom: SbomInput = read_sbom(sbom_path)
    doc = sbom.doc
    source = sbom_path.name
    problems = list(sbom.problems)
    by_sha: dict[str, Path] = {}
    by_name: dict[str, list[Path]] = {}
    if artifacts_dir is not None:
        if not artifacts_dir.is_dir():
            raise SbomError(f"{artifacts_dir}: --artifacts is not a directory")
        by_sha, by_name = _artifact_index(artifacts_dir)
    analysed: dict[Path, tuple[Facts, tuple[Any, ...], str, tuple[Problem, ...]]] = {}
    items: list[_Item] = []
    for n, (comp, pointer, parent) in enumerate(_walk(doc)):
        where = f"{source}#{pointer}"
        found = sbom_facts(comp, where)
        path = by_sha.get(found.sha256 or "")
        if path is None:
            candidates = [p for name in found.file_names for p in by_name.get(name, [])]
            path = candidates[0] if len(set(candidates)) == 1 else None
        artifact = None
        matched = None
        if path is not None and artifacts_dir is not None:
            if path not in analysed:
                analysed[path] = _analyse(path, artifacts_dir, sigset)
                problems.extend(analysed[path][3])
            facts, hits, rel, _ = analysed[path]
            matched = rel
            artifact = (facts, hits, f"{artifacts_dir.name}/{rel}")
        attributions, evidence_only = attribute(found, sigset, where, artifact)
        ref = comp.get("bom-ref") if isinstance(comp.get("bom-ref"), str) else None
        location = f"{source}#{pointer}" + (f" = {artifacts_dir.name}/{matched}"
                                            if matched and artifacts_dir else "")
        component = Component(
            ref=f"{n}:{ref or pointer}", chain=(location,), name=found.facts.name or pointer,
            kind="sbom-component", sha256=found.sha256 or "", size=0,
            type=str(comp.get("type") or "library"), version=found.facts.version,
            purl=found.facts.purl, supplier=found.declared, facts=found.facts,
            attributions=attributions,
            manufacturer=manufacturer(attributions, sigset))
        items.append(_Item(comp, component, parent, evidence_only, found.declared, matched))

    findings = list(evaluate([i.component for i in items], sigset, policy_ids, as_of))
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
    findings.sort(key=lambda f: (-f.level.rank, f.location, f.vendor))

    # the verdict tree: metadata.component holds everything, nested components their parts
    by_pointer = {i.component.chain[0].split("#", 1)[1].split(" = ")[0]: i for i in items}
    children: dict[str | None, list[Component]] = defaultdict(list)
    for item in items:
        pointer = item.component.chain[0].split("#", 1)[1].split(" = ")[0]
        if pointer != "metadata.component":
            children[item.parent].append(item.component)

    def tree(component: Component, pointer: str | None) -> Component:
        kids = tuple(tree(c, c.chain[0].split("#", 1)[1].split(" = ")[0])
                     for c in children.get(pointer, []))
        return Component(component.ref, component.chain, component.name, component.kind,
                         component.sha256, component.size, children=kids,
                         attributions=component.attributions)

    meta_item = by_pointer.get("metadata.component")
    root_component = meta_item.component if meta_item else Component(
        "root", (source,), source, "sbom", "", 0)
    root = tree(root_component, None)
    verdicts = rollup(root, tuple(findings))
    overall = verdicts.get(root.ref, Verdict.CLEAR)
    by_ref: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_ref[f.component].append(f)

    for item in items:
        is_root = meta_item is not None and item is meta_item
        _write_component(item, verdicts.get(item.component.ref, Verdict.CLEAR),
                         tuple(by_ref.get(item.component.ref, ())),
                         relabels.get(item.component.ref), sigset, skip_verdict=is_root)

    meta = doc.setdefault("metadata", {})
    if not isinstance(meta.get("component"), dict):
        meta["component"] = {"type": "application", "name": source,
                             "bom-ref": "provenance-enriched-sbom"}
    _add_tool(doc, sigset)
    out = _finish(doc, sbom, overall, findings, problems, policy_ids, items, artifacts_dir)
    return out, tuple(findings), tuple(problems)


def _write_component(item: _Item, verdict: Verdict, findings: tuple[Finding, ...],
                     relabel: str | None, sigset: SignatureSet, skip_verdict: bool) -> None:
    comp, component = item.comp, item.component
    props = comp.setdefault("properties", [])
    if not isinstance(props, list):
        return
    top = component.top
    if top is not None:
        props += [prop("vendor", top.vendor), prop("relationship", top.relationship.value),
                  prop("confidence", f"{top.confidence:.2f}")]
        if top.component:
            props.append(prop("vendor-component", top.component))
    m = component.manufacturer
    if m is not None:
        declared = {"name": m.name, **({"address": {"country": m.country}} if m.country else {})}
        if "manufacturer" not in comp:
            comp["manufacturer"] = declared
        else:
            props.append(prop("manufacturer", json_value(declared)))
    props += [prop("attribution", json_value(attribution_dict(a))) for a in component.attributions]
    if not skip_verdict:
        props.append(prop("verdict", verdict.value))
    policies = sorted({e.policy for f in findings if f.waiver is None for e in f.entries})
    if policies:
        props.append(prop("policy", ",".join(policies)))
    props.append(prop("location", component.path))
    if relabel:
        props.append(prop("relabelled", relabel))
    props += [prop("finding", json_value(finding_dict(f))) for f in findings]
    ours = _evidence(component.attributions, component.name)
    if ours is not None:
        _add_evidence(comp, ours)
    if not props:
        del comp["properties"]


def _finish(doc: dict[str, Any], sbom: SbomInput, overall: Verdict, findings: list[Finding],
            problems: list[Problem], policy_ids: tuple[str, ...] | list[str],
            items: list[_Item], artifacts_dir: Path | None) -> dict[str, Any]:
    meta_component = doc["metadata"]["component"]
    props = meta_component.setdefault("properties", [])

    def summary(extra: list[Problem]) -> list[dict[str, str]]:
        every = [*problems, *extra]
        out = [prop("verdict", overall.value),
               prop("coverage", "partial" if every else "complete"),
               prop("policies", ",".join(policy_ids)),
               prop("sbom-format", sbom.format),
               prop("components", str(len(items))),
               prop("findings", str(len(findings))),
               prop("relabelled", str(sum(1 for f in findings
                                            if f.rationale.startswith("relabelled"))))]
        if artifacts_dir is not None:
            matched = sum(1 for i in items if i.matched)
            out.append(prop("artifacts-matched", f"{matched}/{len(items)}"))
        out += [prop("problem", json_value(problem_dict(p))) for p in every]
        return out

    base = len(props)
    props.extend(summary([]))
    # Our additions have fixed, tested shapes: a clean 1.6 input stays valid, so only other
    # inputs pay for a second schema pass (seconds on a few hundred components).
    clean = sbom.format == "CycloneDX JSON 1.6" and not sbom.problems
    errors = None if clean else validator("1.6").validate_str(json.dumps(doc), all_errors=True)
    if errors:  # what the input carried that 1.6 refuses: kept, and said
        extra = [Problem(sbom.format, Stage.REPORT, f"output is not valid CycloneDX 1.6: "
                         f"{getattr(e.data, 'message', e)}"[:300], ProblemKind.CORRUPT)
                 for e in list(errors)[:20]]
        problems.extend(extra)
        del props[base:]
        props.extend(summary([]))
    return doc
