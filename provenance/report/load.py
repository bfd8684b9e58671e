"""Read back a CycloneDX JSON report written by `provenance.report.cyclonedx` into a ScanResult.

This is what `provenance render` uses to re-render a saved report without rescanning, and it
reads an SBOM `provenance enrich` wrote the same way (its components carry the same
properties). Only the fields cyclonedx.py writes are read; Facts (what identify read) are not in
the report and come back as None. A document that is not one of ours raises ReportError.
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
    Part,
    PartClass,
    PolicyEntry,
    Problem,
    ProblemKind,
    Relationship,
    ScanResult,
    Stage,
    Stats,
    Verdict,
)
from provenance.pipeline import cost as scan_cost
from provenance.report.cyclonedx import LEAF_SUFFIX, PART_PREFIX, content_purl

__all__ = ["ReportError", "from_cyclonedx"]

PREFIX = "provenance:"


class ReportError(ValueError):
    """The document is not a CycloneDX report written by provenance."""


def _props(node: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    props = node.get("properties")
    for p in props if isinstance(props, list) else []:
        if not isinstance(p, dict):
            continue
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
                                str(e["in_force"]), str(e.get("scope", "")),
                                tuple(str(c) for c in e.get("citations", ())))
                    for e in d["entries"])
    return Finding(ref, location, str(d["vendor"]), Verdict(d["level"]),
                   Relationship(d["relationship"]), float(d["confidence"]), entries,
                   str(d["rationale"]), d.get("waiver"))


class _Reader:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.verdicts: dict[str, Verdict] = {}

    def component(self, node: dict[str, Any], children: list[Any]) -> Component:
        """The component tree under `node` (whose parts are `children`), built bottom-up
        without recursion: an enriched SBOM may nest components hundreds of levels deep."""
        order: list[tuple[dict[str, Any], int | None]] = [(node, None)]  # (node, parent index)
        pending: list[tuple[list[Any], int]] = [(children, 0)]
        while pending:
            items, at = pending.pop()
            for child in items if isinstance(items, list) else []:
                if isinstance(child, dict):
                    order.append((child, at))
                    pending.append((child.get("components") or [], len(order) - 1))
        kids: dict[int, list[Component]] = {}
        for index in range(len(order) - 1, 0, -1):
            item, parent = order[index]
            kids.setdefault(parent or 0, []).append(
                self._one(item, tuple(reversed(kids.pop(index, [])))))
        return self._one(node, tuple(reversed(kids.pop(0, []))))

    def _one(self, node: dict[str, Any], children: tuple[Component, ...]) -> Component:
        props = _props(node)
        location = _first(props, "location")
        if location is None:
            raise ReportError(f"component {str(node.get('name'))!r}: no provenance:location "
                              "(not a provenance report)")
        ref = node.get("bom-ref")
        # an enriched SBOM's components need no bom-ref: their location names them
        ref = ref if isinstance(ref, str) else location
        sha256 = next((h["content"] for h in node.get("hashes") or []
                       if isinstance(h, dict) and h.get("alg") == "SHA-256"), "")
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
        supplier = node.get("supplier")
        name = str(node.get("name", ""))
        purl = _text(node.get("purl"))
        if purl is not None and purl == content_purl(name, str(sha256)):
            purl = None  # written for importers' de-duplication, not identified: not a fact
        return Component(
            ref=ref,
            chain=tuple(location.split(CHAIN_SEP)) if location else (),
            name=name,
            kind=_first(props, "kind") or "",
            sha256=str(sha256),
            size=int(_first(props, "size") or 0),
            type=str(node.get("type", "file")),
            version=_text(node.get("version")),
            purl=purl,
            supplier=_text(supplier.get("name")) if isinstance(supplier, dict) else None,
            attributions=tuple(attributions),
            manufacturer=manufacturer,
            opaque=_first(props, "opaque"),
            children=children,
        )


def _part(c: dict[str, Any]) -> Part:
    """An inferred hardware part from its `device` component (report.cyclonedx.part_dict)."""
    props = _props(c)
    evidence = tuple(_evidence(e) for e in _loads("evidence", _first(props, "evidence") or "[]"))
    return Part(PartClass(_first(props, "part-class") or "other"),
                _first(props, "vendor") or "", _first(props, "part-model"),
                float(_first(props, "confidence") or 0), evidence, _first(props, "part-family"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


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
        listed = doc.get("components") or []
        hardware = tuple(_part(c) for c in listed if isinstance(c, dict)
                         and str(c.get("bom-ref", "")).startswith(PART_PREFIX))
        parts = [c for c in listed  # skip the copy of a leaf input and the hardware parts
                 if not isinstance(c, dict)
                 or (c.get("bom-ref") != f"{meta.get('bom-ref')}{LEAF_SUFFIX}"
                     and not str(c.get("bom-ref", "")).startswith(PART_PREFIX))]
        root = reader.component(meta, parts)
        tools = metadata.get("tools") or {}
        # an enriched SBOM may keep the legacy (1.2-1.4) tools array
        tools = tools if isinstance(tools, list) else tools.get("components") or []
        tool: dict[str, Any] = next((t for t in tools if isinstance(t, dict)
                                     and t.get("name") == "provenance"), {})
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
        spent = scan_cost.from_properties(dict(props))
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
        as_of=_first(props, "as-of"),
        parts=hardware,
        cost=spent,
    )
