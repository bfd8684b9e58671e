"""SARIF 2.1.0 for code-scanning services. Pure: ScanResult -> dict / text.

One result per finding group (report/groups.py: the package or folder, per vendor), located at
its strongest member, with the other members as related locations. The rule id is
`<vendor>/<relationship>` (e.g. `hisilicon/made-by`), which is stable across scans and groups
alike findings; the signature rule or fact that decided the attribution is in the result's
properties. Level: `error` for restricted, `warning` for
review; each rule carries the `security-severity` code scanning ranks by (9.0 when any of its
findings is restricted, 5.0 for review only). A waived finding stays, with an accepted external
suppression carrying the waiver (code scanning shows it as dismissed). The location is the
component's path chain as a relative URI, with a byte-offset region where the deciding evidence
has one; the other evidence is in related locations. Validated against the vendored OASIS schema
(schemas/sarif-schema-2.1.0.json) in tests.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from provenance.model import Component, Finding, ScanResult, Verdict
from provenance.report.cyclonedx import json_safe
from provenance.report.groups import Group, groups

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Verdict.RESTRICTED: "error", Verdict.REVIEW: "warning"}
# GitHub code scanning's scale: 9.0 and above is critical, 4.0 to 6.9 medium
_SEVERITY = {Verdict.RESTRICTED: "9.0", Verdict.REVIEW: "5.0"}
MAX_RELATED = 20
_AT = re.compile(r"^(?P<path>.*?)(?:@0x(?P<offset>[0-9a-fA-F]+)|#[^/]*)?$")


def _uri(location: str) -> str:
    # A path chain ("fw.bin!/rootfs!/usr/lib/libmpi.so") is a valid relative URI once spaces
    # and non-ASCII are percent-encoded; "!" and "/" are kept so it stays readable. An
    # undecodable byte of a member name is percent-encoded as that byte.
    return quote(location.encode("utf-8", "surrogateescape"), safe="/!-._~+,;=:@")


def _rule_id(f: Finding) -> str:
    return f"{f.vendor}/{f.relationship.value}"


def _physical(location: str, component_path: str) -> dict[str, Any]:
    """An evidence location (`chain@0xOFFSET` or `chain#field`) as a SARIF physical location;
    a bare file name is the component's own path chain."""
    found = _AT.match(location)
    path = found["path"] if found and found["path"] else component_path
    if path == component_path.rsplit("!/", 1)[-1].rsplit("/", 1)[-1] \
            or component_path.endswith("!/" + path) or component_path.endswith("/" + path):
        path = component_path
    out: dict[str, Any] = {"artifactLocation": {"uri": _uri(path)}}
    if found and found["offset"]:
        out["region"] = {"byteOffset": int(found["offset"], 16)}
    return out


def _rule(f: Finding, result: ScanResult) -> dict[str, Any]:
    vendor = result.vendors.get(f.vendor)
    who = vendor.name if vendor else f.vendor
    rel = f.relationship.value
    return {
        "id": _rule_id(f),
        "name": "".join(part.capitalize() for part in f"{f.vendor}-{rel}".split("-")),
        "shortDescription": {"text": f"Component {rel} {who}"},
        "fullDescription": {"text": f"A component whose relationship to {who} is '{rel}', "
                                    "listed by a restricted-origin policy."},
        "help": {"text": "The finding's properties list the policy entries (list, entity, legal "
                         "source, date in force, scope). Check the evidence; waive with a "
                         "justified, approved and dated waiver if the use is allowed."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "supply-chain", "provenance", f.vendor, rel],
                       "security-severity": _SEVERITY.get(f.level, "1.0")},
    }


def _result(g: Group, rule_index: int, component: Component | None) -> dict[str, Any]:
    f = g.lead
    attribution = None
    if component is not None:
        attribution = next((a for a in component.attributions if a.vendor == f.vendor
                            and a.relationship == f.relationship), None)
    evidence = [{"rule": ev.rule, "signal": ev.signal, "detail": ev.detail,
                 "location": ev.location, "confidence": ev.confidence}
                for ev in (attribution.evidence if attribution else ())]
    entries = [{"policy": e.policy, "entity": e.entity, "source": e.source,
                "inForce": e.in_force, "scope": e.scope, "citations": list(e.citations)}
               for e in f.entries]
    deciding = evidence[0]["rule"] if evidence else None
    policies = sorted({e.policy for e in f.entries})
    text = (f"{g.level.value}: {f.location}: {f.rationale}"
            + (f" (rule {deciding})" if deciding else ""))
    if len(g.members) > 1:
        text = (f"{g.level.value}: {len(g.members)} files in {g.unit} "
                + (f"(package {g.package}) " if g.package else "")
                + f"{'/'.join(g.relationships)} {f.vendor}; the strongest: {f.location}: "
                + f.rationale + (f" (rule {deciding})" if deciding else ""))
    props: dict[str, Any] = {
        "vendor": f.vendor, "relationship": f.relationship.value,
        "confidence": round(f.confidence, 4), "verdict": f.level.value,
        "policies": policies, "policyEntries": entries, "evidence": evidence,
        "componentRef": f.component, "unit": g.unit, "unitKind": g.kind,
        "members": len(g.members),
        "memberLocations": [m.location for m in g.members[:MAX_RELATED]],
    }
    if deciding:
        props["signatureRule"] = deciding
    if component is not None and component.sha256:
        props["sha256"] = component.sha256
    fingerprint = hashlib.sha256(
        f"{g.unit}\0{g.vendor}".encode("utf-8", "surrogateescape")).hexdigest()
    found = attribution.evidence if attribution else ()
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.location)}}
    if found:
        deciding_at = _physical(found[0].location, f.location)
        if deciding_at["artifactLocation"] == physical["artifactLocation"]:
            physical = deciding_at  # the same file, with the byte offset of the evidence
    related: list[dict[str, Any]] = [{"physicalLocation": _physical(ev.location, f.location),
                "message": {"text": f"{ev.rule}: {ev.detail}"}} for ev in found[:MAX_RELATED]]
    related += [{"physicalLocation": {"artifactLocation": {"uri": _uri(m.location)}},
                 "message": {"text": f"also {m.level.value}: {m.relationship.value} "
                                     f"{m.vendor} {m.confidence:.2f}"}}
                for m in g.members[1:MAX_RELATED + 1]]
    related = [{"id": i, **r} for i, r in enumerate(related, start=1)]
    out: dict[str, Any] = {
        "ruleId": _rule_id(f),
        "ruleIndex": rule_index,
        "level": _LEVEL.get(g.level, "note"),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"name": component.name if component else f.location,
                                  "fullyQualifiedName": f.location, "kind": "module"}],
        }],
        "partialFingerprints": {"provenanceFinding/v1": fingerprint},
        "properties": props,
    }
    if related:
        out["relatedLocations"] = related
    if g.waived:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": f.waiver or ""}]
    return out


def to_dict(result: ScanResult) -> dict[str, Any]:
    by_ref = {c.ref: c for c in result.components()}
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for g in groups(result):
        f = g.lead
        rid = _rule_id(f)
        if rid not in index:
            index[rid] = len(rules)
            rules.append(_rule(f, result))
        if g.level == Verdict.RESTRICTED:  # the rule ranks as its worst finding
            rules[index[rid]]["properties"]["security-severity"] = _SEVERITY[g.level]
        results.append(_result(g, index[rid], by_ref.get(f.component)))
    notifications = [{
        "level": "warning",
        "message": {"text": f"{p.stage} {p.kind}: {p.message}"},
        **({"locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(p.location)}}}]}
           if p.location else {}),
    } for p in result.problems]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    if result.started:
        invocation["startTimeUtc"] = result.started
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "provenance",
            "version": result.tool_version,
            "semanticVersion": result.tool_version,
            "rules": rules,
            "properties": {"signatureDigest": result.signature_digest},
        }},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "verdict": result.verdict.value,
            "coverage": result.coverage.value,
            "policies": list(result.policies),
            **({"asOf": result.as_of} if result.as_of else {}),
            "hardwareParts": [{"class": p.part_class.value, "model": p.model, "maker": p.maker,
                               "confidence": round(p.confidence, 4)} for p in result.parts],
            "input": result.root.path,
            "inputSha256": result.root.sha256,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(result: ScanResult) -> str:
    return json_safe(json.dumps(to_dict(result), indent=2, ensure_ascii=False)) + "\n"
