"""CycloneDX 1.6 JSON following the report contract (DESIGN §7). Pure: ScanResult -> dict.

Written as plain data rather than through cyclonedx-python-lib's object model: the model has no
`compositions`, merges look-alike components and is quadratic on large trees. The library's
strict validator checks every document this module makes (tests/test_report_cyclonedx.py).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from provenance.model import Attribution, Component, Finding, ScanResult, Verdict

SPEC_VERSION = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
MAX_EVIDENCE = 8  # per attribution, strongest first

_TECHNIQUES = {
    "binary-analysis", "manifest-analysis", "hash-comparison", "filename", "attestation",
    "source-code-analysis", "ast-fingerprint", "dynamic-analysis", "instrumentation", "other",
}


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": f"provenance:{name}", "value": value}


def _confidence(value: float) -> float:
    return float(f"{value:.2f}")


def _evidence(component: Component) -> dict[str, Any] | None:
    methods: list[dict[str, Any]] = []
    occurrences: dict[str, dict[str, Any]] = {}
    copyright: list[dict[str, str]] = []
    for attribution in component.attributions:
        for ev in attribution.evidence[:MAX_EVIDENCE]:
            technique = ev.technique if ev.technique in _TECHNIQUES else "other"
            methods.append({
                "technique": technique,
                "confidence": _confidence(ev.confidence),
                "value": f"{attribution.vendor} {attribution.relationship.value}: "
                         f"{ev.signal} {ev.rule}: {ev.detail}",
            })
            occurrence: dict[str, Any] = {"location": ev.location.split("@0x", 1)[0]}
            if "@0x" in ev.location:
                occurrence["offset"] = int(ev.location.rsplit("@0x", 1)[1], 16)
            occurrence["additionalContext"] = f"{ev.rule}: {ev.detail}"
            occurrences.setdefault(f"{ev.location}|{ev.rule}", occurrence)
            if ev.signal == "copyright":
                copyright.append({"text": ev.detail})
    if not methods:
        return None
    top = component.top
    evidence: dict[str, Any] = {
        "identity": [{
            "field": "name",
            "confidence": _confidence(top.confidence if top else 0.0),
            "concludedValue": component.name,
            "methods": methods,
        }],
        "occurrences": list(occurrences.values()),
    }
    if copyright:
        evidence["copyright"] = copyright
    return evidence


def _properties(
    component: Component, verdict: Verdict, findings: tuple[Finding, ...]
) -> list[dict[str, str]]:
    props = [_prop("location", component.path), _prop("kind", component.kind)]
    top: Attribution | None = component.top
    if top is not None:
        props += [
            _prop("vendor", top.vendor),
            _prop("relationship", top.relationship.value),
            _prop("confidence", f"{top.confidence:.2f}"),
        ]
        if top.component:
            props.append(_prop("vendor-component", top.component))
        for other in component.attributions:
            if other is not top:
                props.append(_prop("attribution", f"{other.vendor} {other.relationship.value} "
                                                  f"{other.confidence:.2f}"))
    props.append(_prop("verdict", verdict.value))
    policies = sorted({e.policy for f in findings for e in f.entries})
    if policies:
        props.append(_prop("policy", ",".join(policies)))
    for f in findings:
        for e in f.entries:
            props.append(_prop("policy-entry", f"{e.policy}: {e.entity}; in force {e.in_force}; "
                                               f"{e.source}" + (f"; scope: {e.scope}" if e.scope else "")))
        props.append(_prop("finding", f"{f.level.value}: {f.rationale}"))
    if component.opaque:
        props.append(_prop("opaque", component.opaque))
    return props


def _component(c: Component, result: ScanResult, nested: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "bom-ref": c.ref,
        "type": c.type,
        "name": c.name or c.path,
    }
    if c.version:
        out["version"] = c.version
    if c.manufacturer is not None:
        m = c.manufacturer
        out["manufacturer"] = {"name": m.name, **({"address": {"country": m.country}}
                                                 if m.country else {})}
    if c.supplier:
        out["supplier"] = {"name": c.supplier}
    if c.sha256:
        out["hashes"] = [{"alg": "SHA-256", "content": c.sha256}]
    if c.purl:
        out["purl"] = c.purl
    findings = result.findings_for(c.ref)
    out["properties"] = _properties(c, result.verdicts.get(c.ref, Verdict.CLEAR), findings)
    evidence = _evidence(c)
    if evidence:
        out["evidence"] = evidence
    if nested and c.children:
        out["components"] = [_component(child, result) for child in c.children]
    return out


def to_dict(result: ScanResult) -> dict[str, Any]:
    root = result.root
    meta_component = _component(root, result, nested=False)
    meta_component["properties"] = [
        _prop("verdict", result.verdict.value),
        _prop("coverage", result.coverage.value),
        _prop("policies", ",".join(result.policies)),
        _prop("files", str(result.stats.files)),
        _prop("bytes", str(result.stats.bytes)),
        _prop("findings", str(len(result.findings))),
        *[p for p in meta_component["properties"] if p["name"] != "provenance:verdict"],
        *[_prop("problem", f"{p.stage} {p.kind} {p.location}: {p.message}")
          for p in result.problems],
    ]
    serial = uuid.uuid5(uuid.NAMESPACE_URL,
                        f"provenance:{root.sha256}:{result.signature_digest}:{result.tool_version}")
    metadata: dict[str, Any] = {}
    if result.started:
        metadata["timestamp"] = result.started
    metadata["tools"] = {"components": [
        {"type": "application", "name": "provenance", "version": result.tool_version,
         "properties": [_prop("signature-digest", result.signature_digest)]},
        {"type": "data", "name": "provenance-signatures",
         "version": result.signature_digest.removeprefix("sha256:")[:16],
         "hashes": [{"alg": "SHA-256",
                     "content": result.signature_digest.removeprefix("sha256:")}]},
    ]}
    metadata["component"] = meta_component
    doc: dict[str, Any] = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial.urn,
        "version": 1,
        "metadata": metadata,
        "components": [_component(child, result) for child in root.children],
    }
    opaque = sorted(c.ref for c in root.walk() if c.opaque)
    complete = [{"aggregate": "incomplete", "assemblies": opaque}] if opaque else []
    if complete or result.problems:
        doc["compositions"] = complete or [{"aggregate": "incomplete", "assemblies": [root.ref]}]
    else:
        doc["compositions"] = [{"aggregate": "complete", "assemblies": [root.ref]}]
    return doc


def render(result: ScanResult) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
