"""Reading CycloneDX documents in the enrich tests: every component, and provenance properties."""

from __future__ import annotations

from typing import Any


def components(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a CycloneDX dict, nested ones included (metadata's not)."""
    out = []
    stack = list(doc.get("components", []))
    while stack:
        comp = stack.pop()
        out.append(comp)
        stack.extend(comp.get("components", []))
    return out


def props(comp: dict[str, Any], name: str) -> list[str]:
    """The values of a component's `provenance:<name>` properties."""
    return [p["value"] for p in comp.get("properties", []) if p["name"] == f"provenance:{name}"]
