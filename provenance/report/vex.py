"""Waived findings as VEX, so an acceptance made once in a waiver file travels to the tools
that read VEX (`--vex-out`). Pure: (ScanResult, waivers) -> dict.

Two formats, chosen by the file name the user gives (`commands.common.vex_targets`):

- OpenVEX 0.2.0 (https://github.com/openvex/spec, OPENVEX-SPEC.md and
  openvex_json_schema.json), for Grype, Trivy and vexctl;
- CycloneDX 1.6 VEX (https://cyclonedx.org/docs/1.6/json/#vulnerabilities), for
  Dependency-Track and Trivy.

What a statement says (the same in both):

- the *vulnerability* is a provenance finding, not a CVE. Its identifier is
  `provenance:<vendor>/<relationship>` (`provenance:hisilicon/made-by`): the SARIF rule id with
  a namespace that no CVE, GHSA or OSV id can take. CycloneDX also names the source,
  `provenance`. The policy entries (list, entity, legal source) are in its description;
- the *status* is `not_affected` (CycloneDX `analysis.state`): in provenance a waived finding
  stays in the report but counts toward no verdict and no exit code, which is what every VEX
  consumer does with `not_affected`. Neither format's justification codes describe an approved
  exception (they speak of vulnerable code), so the waiver itself is the impact statement
  (OpenVEX `impact_statement`, CycloneDX `analysis.detail`): its justification, approver and
  expiry date. Neither format has an expiry field; the expiry is also a CycloneDX property;
- the *product* is the scanned input (its SHA-256, and purl when it has one) and the
  component the finding is on is its subcomponent (OpenVEX) or the affected component, listed
  in the document with its bom-ref, purl and hash (CycloneDX: a self-contained VEX, so a reader
  matches it by identity without the report at hand).

Only live waivers are exported: a finding whose waiver has expired is not waived, and is not
here. OpenVEX requires at least one statement, so `openvex` returns None when nothing is
waived (CycloneDX allows an empty `vulnerabilities` list).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from provenance.model import Component, Finding, ScanResult
from provenance.policy.waivers import Waiver
from provenance.report.cyclonedx import SCHEMA, SPEC_VERSION, json_safe

OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
ID_PREFIX = "provenance:"
STATUS = "not_affected"
# CycloneDX 1.6 component types; anything else an SBOM declared is listed as a file
_CDX_TYPES = {"application", "framework", "library", "container", "platform",
              "operating-system", "device", "device-driver", "firmware", "file",
              "machine-learning-model", "data", "cryptographic-asset"}
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True, slots=True)
class Accepted:
    """One waived finding with the component it is on and the waiver that covers it (None
    when the report carries only the waiver's text, e.g. rebuilt without the waiver file)."""

    finding: Finding
    component: Component | None
    waiver: Waiver | None


def vulnerability_id(f: Finding) -> str:
    return f"{ID_PREFIX}{f.vendor}/{f.relationship.value}"


def accepted(result: ScanResult, waivers: Iterable[Waiver]) -> list[Accepted]:
    """The waived findings of `result`, each with the first live waiver that matches it (the
    one `apply_waivers` chose), in report order."""
    by_ref = {c.ref: c for c in result.components()}
    try:
        day = date.fromisoformat(result.as_of) if result.as_of else date.today()
    except ValueError:  # a report rebuilt from a file: its as-of is text from that file
        day = date.today()
    rules = tuple(waivers)
    out: list[Accepted] = []
    for f in result.findings:
        if f.waiver is None:
            continue
        component = by_ref.get(f.component)
        live = next((w for w in rules if w.expires >= day and w.matches(f, component)), None)
        out.append(Accepted(f, component, live))
    return out


def _timestamp(result: ScanResult) -> str:
    # the scan's start; a --reproducible scan has none, so the day it was judged as of
    if result.started:
        return result.started
    return f"{result.as_of or date.today().isoformat()}T00:00:00Z"


def _impact(a: Accepted) -> str:
    if a.waiver is None:
        return f"Waived in provenance: {a.finding.waiver}"
    w = a.waiver
    return (f"Waived in provenance: {w.justification} Approved by {w.approver}; the waiver "
            f"expires on {w.expires.isoformat()}.")


def _description(f: Finding) -> str:
    lists = "; ".join(f"{e.policy}: {e.entity} ({e.source}, in force {e.in_force})"
                      for e in f.entries)
    return f.rationale.rstrip(".") + (f". Listed by {lists}." if lists else ".")


def _sha256(c: Component | None) -> str | None:
    return c.sha256.lower() if c is not None and _SHA256.match(c.sha256 or "") else None


def _openvex_component(c: Component | None, location: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c is not None and c.purl:
        # a purl is an IRI once what an IRI may not hold (spaces, <>, controls) is escaped
        out["@id"] = quote(c.purl.encode("utf-8", "surrogateescape"), safe=_URI_SAFE)
        out["identifiers"] = {"purl": c.purl}
    sha = _sha256(c)
    if sha:
        out["hashes"] = {"sha-256": sha}
    if not out:  # nothing else names it: its path chain in the scanned input
        out["@id"] = "urn:provenance:location:" + quote(location.encode("utf-8",
                                                                         "surrogateescape"))
    return out


def openvex(result: ScanResult, waivers: Iterable[Waiver], tool_version: str
            ) -> dict[str, Any] | None:
    """An OpenVEX 0.2.0 document with one `not_affected` statement per waived finding; None
    when nothing is waived (the format requires a statement)."""
    items = accepted(result, waivers)
    if not items:
        return None
    stamp = _timestamp(result)
    root = result.root
    statements: list[dict[str, Any]] = []
    seen: set[str] = set()
    for a in items:
        f = a.finding
        product = _openvex_component(root, root.path)
        if f.component != root.ref:
            product["subcomponents"] = [_openvex_component(a.component, f.location)]
        statement = {
            "vulnerability": {"name": vulnerability_id(f), "description": _description(f)},
            "timestamp": stamp,
            "products": [product],
            "status": STATUS,
            "impact_statement": _impact(a),
        }
        key = json.dumps(statement, sort_keys=True)
        if key not in seen:  # the schema wants unique statements
            seen.add(key)
            statements.append(statement)
    approvers = sorted({a.waiver.approver for a in items if a.waiver is not None})
    body = json.dumps(statements, sort_keys=True)
    return {
        "@context": OPENVEX_CONTEXT,
        "@id": uuid.uuid5(uuid.NAMESPACE_URL, f"provenance:openvex:{body}").urn,
        "author": ("provenance waivers approved by " + "; ".join(approvers)) if approvers
        else "provenance waivers",
        "timestamp": stamp,
        "version": 1,
        "tooling": f"provenance {tool_version}",
        "statements": statements,
    }


def _cdx_component(c: Component) -> dict[str, Any]:
    out: dict[str, Any] = {"bom-ref": c.ref, "type": c.type if c.type in _CDX_TYPES else "file",
                           "name": c.name or c.path or c.ref}
    if c.version:
        out["version"] = c.version
    if c.purl:
        out["purl"] = c.purl
    sha = _sha256(c)
    if sha:
        out["hashes"] = [{"alg": "SHA-256", "content": sha}]
    return out


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": f"provenance:{name}", "value": value}


def cyclonedx_vex(result: ScanResult, waivers: Iterable[Waiver], tool_version: str
                  ) -> dict[str, Any]:
    """A CycloneDX 1.6 VEX document: the affected components (bom-ref, purl, hash) and one
    vulnerability per waived finding, `analysis.state` = not_affected."""
    items = accepted(result, waivers)
    stamp = _timestamp(result)
    root = result.root
    components: dict[str, dict[str, Any]] = {}
    vulnerabilities: list[dict[str, Any]] = []
    for n, a in enumerate(items, 1):
        f = a.finding
        if a.component is not None and a.component.ref != root.ref:
            components.setdefault(a.component.ref, _cdx_component(a.component))
        props = [_prop("level", f.level.value), _prop("location", f.location),
                 *[_prop("policy", e.policy) for e in f.entries]]
        if a.waiver is not None:
            props += [_prop("waiver-approver", a.waiver.approver),
                      _prop("waiver-expires", a.waiver.expires.isoformat())]
        ref = a.component.ref if a.component is not None else root.ref
        vulnerabilities.append({
            "bom-ref": f"vex:{n}",
            "id": vulnerability_id(f),
            "source": {"name": "provenance"},
            "description": _description(f),
            "analysis": {"state": STATUS, "detail": _impact(a), "lastUpdated": stamp},
            "affects": [{"ref": ref}],
            "properties": props,
        })
    body = json.dumps(vulnerabilities, sort_keys=True)
    return {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": uuid.uuid5(uuid.NAMESPACE_URL, f"provenance:cdx-vex:{body}").urn,
        "version": 1,
        "metadata": {
            "timestamp": stamp,
            "tools": {"components": [{"type": "application", "name": "provenance",
                                      "version": tool_version}]},
            "component": _cdx_component(root),
        },
        "components": list(components.values()),
        "vulnerabilities": vulnerabilities,
    }


def render(doc: dict[str, Any]) -> str:
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
