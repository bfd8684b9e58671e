"""SBOMs read into facts: CycloneDX JSON/XML (1.2-1.6), SPDX 2.2/2.3 JSON and tag-value, and
SPDX 3.0 JSON-LD on a best-effort basis. Reading only (enrichment is the report stage's):
format, spec version, counts, and one `sbom.component` fact per component, bounded.

The document is read by `sbom_read` (the reader `provenance enrich` uses: cyclonedx-python-lib,
spdx-tools, defusedxml) in its scan mode into a CycloneDX 1.6 dict; this module turns that dict
into facts. Each component's location is where it is in the source: `#components[3]`,
`#components[1].components[0]`, `#metadata.component` (CycloneDX JSON), `#component[2]` (the
n-th <component> of CycloneDX XML), `#packages[4]` (SPDX JSON), `#package[4]` (SPDX
tag-value), `#@graph[12]` (SPDX 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provenance.identify.base import Identifier, Sink, clean
from provenance.identify.sbom_read import (
    MAX_COMPONENTS,
    MAX_SCAN_SBOM,
    SBOM_NAMES,
    SbomError,
    SbomInput,
    detect,
    read_sbom,
    walk,
)
from provenance.model import Facts, Problem, ProblemKind

MAX_SBOM = MAX_SCAN_SBOM

__all__ = ["IDENTIFIER", "MAX_COMPONENTS", "MAX_SBOM", "SBOM_NAMES", "detect", "facts", "read"]


# where each format declares what it is
_DECLARED = (("CycloneDX JSON", "#specVersion"), ("CycloneDX XML", "#bom@xmlns"),
             ("SPDX 3", "#@context"), ("SPDX", "#spdxVersion"))


def _supplier(comp: dict[str, Any]) -> Any:
    supplier = comp.get("supplier")
    name = supplier.get("name") if isinstance(supplier, dict) else None
    return name or comp.get("publisher")


def facts(sbom: SbomInput, sink: Sink) -> int:
    """The facts of a read SBOM: format, spec version, one `sbom.component` (and its purl and
    supplier) per component, at most `MAX_COMPONENTS`. Returns the number of components."""
    declared = next((at for kind, at in _DECLARED if sbom.format.startswith(kind)), "")
    sink.add("sbom.format", sbom.family, declared)
    sink.add("sbom.spec_version", sbom.spec, declared)
    cyclonedx = sbom.family == "CycloneDX"
    count = 0
    # SPDX documents become a synthetic root component (the document) and SPDX files become
    # components of type "file": neither is a component the SBOM declares as such
    for comp, path in walk(sbom.doc, metadata=cyclonedx):
        if count >= MAX_COMPONENTS:
            break
        if not cyclonedx and comp.get("type") == "file":
            continue
        count += 1
        ref = comp.get("bom-ref")
        where = sbom.locations.get(ref, path) if isinstance(ref, str) else path
        text = " ".join(x for x in (clean(comp.get("name")), clean(comp.get("version"))) if x)
        sink.add("sbom.component", text, where)
        purl = comp.get("purl")
        if purl:
            sink.add("sbom.purl", purl, where)
        supplier = _supplier(comp)
        if supplier:
            sink.add("sbom.supplier", supplier, where)
    return count


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    count = 0
    try:
        sbom = read_sbom(path, source=where, scan=True)
    except SbomError as exc:
        sink.problem(f"SBOM unreadable: {str(exc).removeprefix(where + ': ')}", exc.kind)
    except Exception as exc:  # hostile input: a reader or library bug must not stop the scan
        sink.problem(f"SBOM reader failed: {type(exc).__name__}: {exc}", ProblemKind.ERROR)
    else:
        for problem in sbom.problems:
            if len(sink.problems) < 100:
                sink.problems.append(problem)
        try:
            count = facts(sbom, sink)
        except Exception as exc:  # the dict is the reader's; still, keep what was read
            sink.problem(f"SBOM facts: {type(exc).__name__}: {exc}", ProblemKind.ERROR)
    sink.add("sbom.component_count", str(count), "")
    return sink.result("sbom")


IDENTIFIER = Identifier("sbom", detect, read)
