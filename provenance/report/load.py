"""Read back a CycloneDX JSON report written by `provenance.report.cyclonedx` into a ScanResult.

This is what `provenance render` uses to re-render a saved report without rescanning. Only the
fields cyclonedx.py writes are read; Facts (what identify read) are not in the report and come
back as None. A document that is not one of ours raises ReportError.
"""

from __future__ import annotations

import json
from typing import Any

from provenance.model import (
    CHAIN_SEP,
    Attribution,
    Component,
    Coverage,
    Evidence,
    Finding,
    Manufacturer,
    PolicyEntry,
    Problem,
    ProblemKind,
    Relationship,
    ScanResult,
    Stage,
    Stats,
    Verdict,
)
from provenance.report.cyclonedx import LEAF_SUFFIX

__all__ = ["ReportError", "from_cyclonedx"]

PREFIX = "provenance:"


class ReportError(ValueError):
    """The document is not a CycloneDX report written by provenance."""


def _props(node: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for p in node.get("properties") or []:
        name = str(p.get("name", ""))
        if name.startswith(PREFIX):
            out.append((name[len(PREFIX):], str(p.get("value", ""))))
    return out


def _first(props: list[tuple[str, str]], key: str) -> str | None:
    return next((v for k, v in props if k == key), None)


def _loads(key: str, value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ReportError(f"property provenance:{key} is not JSON: {exc}") from None


def _evidence(d: dict[str, Any]) -> Evidence:
    return Evidence(str(d["technique"]), str(d["signal"]), str(d["detail"]),
                    str(d["location"]), str(d["rule"]), float(d["confidence"]))


def _attribution(d: dict[str, Any]) -> Attribution:
    return Attribution(
        vendor=str(d["vendor"]), relationship=Relationship(d["relationship"]),
        confidence=float(d["confidence"]),
        evidence=tuple(_evidence(e) for e in d["evidence"]),
        component=d.get("component"), version=d.get("version"),
    )


def _problem(d: dict[str, Any]) -> Problem:
    return Problem(str(d["location"]), Stage(d["stage"]), str(d["message"]),
                   ProblemKind(d.get("kind", ProblemKind.ERROR)))


def _manufacturer(d: dict[str, Any]) -> Manufacturer:
    return Manufacturer(str(d["vendor"]), str(d["name"]), d.get("country"), d.get("parent"))


def _finding(ref: str, location: str, d: dict[str, Any]) -> Finding:
    entries = tuple(PolicyEntry(str(e["policy"]), str(e["entity"]), str(e["source"]),
                                str(e["in_force"]), str(e.get("scope", "")))
                    for e in d["entries"])
    return Finding(ref, location, str(d["vendor"]), Verdict(d["level"]),
                   Relationship(d["relationship"]), float(d["confidence"]), entries,
                   str(d["rationale"]), d.get("waiver"))


class _Reader:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.verdicts: dict[str, Verdict] = {}

    def component(self, node: dict[str, Any], children: list[dict[str, Any]]) -> Component:
        ref = node.get("bom-ref")
        if not isinstance(ref, str):
            raise ReportError(f"component {node.get('name')!r} has no bom-ref")
        props = _props(node)
        location = _first(props, "location")
        if location is None:
            raise ReportError(f"component {ref}: no provenance:location (not a provenance report)")
        sha256 = next((h["content"] for h in node.get("hashes") or []
                       if h.get("alg") == "SHA-256"), "")
        attributions: list[Attribution] = []
        manufacturer: Manufacturer | None = None
        for key, value in props:
            if key == "attribution":
                attributions.append(_attribution(_loads(key, value)))
            elif key == "finding":
                self.findings.append(_finding(ref, location, _loads(key, value)))
            elif key == "manufacturer":
                manufacturer = _manufacturer(_loads(key, value))
        verdict = _first(props, "verdict")
        if verdict is not None:
            self.verdicts[ref] = Verdict(verdict)
        supplier = (node.get("supplier") or {}).get("name")
        return Component(
            ref=ref,
            chain=tuple(location.split(CHAIN_SEP)) if location else (),
            name=str(node.get("name", "")),
            kind=_first(props, "kind") or "",
            sha256=str(sha256),
            size=int(_first(props, "size") or 0),
            type=str(node.get("type", "file")),
            version=node.get("version"),
            purl=node.get("purl"),
            supplier=supplier,
            attributions=tuple(attributions),
            manufacturer=manufacturer,
            opaque=_first(props, "opaque"),
            children=tuple(self.component(c, c.get("components") or []) for c in children),
        )


def from_cyclonedx(doc: dict[str, Any]) -> ScanResult:
    """The ScanResult a provenance CycloneDX JSON document was written from."""
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise ReportError("not a CycloneDX JSON document")
    metadata = doc.get("metadata") or {}
    meta = metadata.get("component")
    if not isinstance(meta, dict):
        raise ReportError("metadata.component is missing: not a provenance report")
    props = _props(meta)
    for key in ("verdict", "coverage"):
        if _first(props, key) is None:
            raise ReportError(f"metadata.component has no provenance:{key}: "
                              "not a provenance report")
    reader = _Reader()
    try:
        parts = [c for c in doc.get("components") or []  # skip the copy of a leaf input
                 if c.get("bom-ref") != f"{meta.get('bom-ref')}{LEAF_SUFFIX}"]
        root = reader.component(meta, parts)
        tools = (metadata.get("tools") or {}).get("components") or []
        tool: dict[str, Any] = next((t for t in tools if t.get("name") == "provenance"), {})
        digest = _first(_props(tool), "signature-digest") or ""
        problems = tuple(_problem(_loads("problem", v)) for k, v in props if k == "problem")
        vendors = {m.vendor: m for m in (_manufacturer(_loads(k, v)) for k, v in props
                                         if k == "vendor-info")}
        verdict = Verdict(_first(props, "verdict") or "clear")
        coverage = Coverage(_first(props, "coverage") or "complete")
        stats = Stats(files=int(_first(props, "files") or 0),
                      bytes=int(_first(props, "bytes") or 0),
                      opaque=int(_first(props, "opaque-count") or 0),
                      seconds=float(_first(props, "seconds") or 0.0))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ReportError):
            raise
        raise ReportError(f"malformed provenance report: {type(exc).__name__}: {exc}") from None
    reader.verdicts[root.ref] = verdict
    # Same order as policy.evaluate: level, then location, then vendor (a stable sort).
    findings = sorted(reader.findings, key=lambda f: (-f.level.rank, f.location, f.vendor))
    policies = _first(props, "policies") or ""
    return ScanResult(
        root=root,
        findings=tuple(findings),
        problems=problems,
        coverage=coverage,
        verdict=verdict,
        stats=stats,
        tool_version=str(tool.get("version", "")),
        signature_digest=digest,
        policies=tuple(p for p in policies.split(",") if p),
        started=metadata.get("timestamp"),
        vendors=vendors,
        verdicts=reader.verdicts,
    )
