"""`scan --facts FILE`: every fact identification read, per component, as JSON (a debug aid)."""

from __future__ import annotations

import json

from provenance.model import ScanResult
from provenance.report.cyclonedx import json_safe


def facts_json(result: ScanResult) -> str:
    rows = []
    for c in result.components():
        if c.facts is None or not (c.facts.items or c.facts.name or c.facts.purl):
            continue
        f = c.facts
        rows.append({
            "location": c.path,
            "sha256": c.sha256,
            "format": f.format,
            "arch": f.arch,
            "name": f.name,
            "version": f.version,
            "purl": f.purl,
            "supplier": f.supplier,
            "facts": [{"key": x.key, "value": x.value, "location": x.location} for x in f.items],
        })
    return json_safe(json.dumps({"components": rows}, indent=2, ensure_ascii=False)) + "\n"
