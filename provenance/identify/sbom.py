"""SBOMs read into facts: CycloneDX JSON/XML (1.2-1.6), SPDX 2.2/2.3 JSON and tag-value, and
SPDX 3.0 JSON-LD on a best-effort basis. Reading only (enrichment is the report stage's):
format, spec version, counts, and one `sbom.component` fact per component, bounded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from provenance.identify.base import Identifier, Sink, clean
from provenance.model import Facts, Problem

MAX_SBOM = 64 << 20
MAX_COMPONENTS = 5000


# Conventional SBOM file names: generators that sort their keys put "bomFormat" at the end of
# a large document, past the head, so the name has to count too.
SBOM_NAMES = (".cdx.json", ".cdx.xml", "bom.json", "bom.xml", ".spdx.json", ".spdx",
              "sbom.json", ".spdx.jsonld")


def detect(head: bytes, name: str) -> bool:
    probe = head[:4096]
    if probe.lstrip()[:1] == b"{":
        return (b'"bomFormat"' in probe or b'"spdxVersion"' in probe or b'"bom-ref"' in probe
                or b"spdx.org/rdf/3" in probe or name.lower().endswith(SBOM_NAMES))
    if b"<bom" in probe and b"cyclonedx.org/schema/bom" in probe:
        return True
    return probe.lstrip().startswith((b"SPDXVersion:", b"##")) and b"SPDXVersion:" in probe


def _component(sink: Sink, name: Any, version: Any, purl: Any, supplier: Any, where: str) -> None:
    text = " ".join(x for x in (clean(name), clean(version)) if x)
    sink.add("sbom.component", text, where)
    if purl:
        sink.add("sbom.purl", purl, where)
    if supplier:
        sink.add("sbom.supplier", supplier, where)


def _cdx_json(doc: dict[str, Any], sink: Sink) -> int:
    sink.add("sbom.format", "CycloneDX", "#bomFormat")
    sink.add("sbom.spec_version", doc.get("specVersion"), "#specVersion")
    count = 0
    stack: list[tuple[Any, str]] = [(doc.get("components"), "#components")]
    meta = doc.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("component"), dict):
        stack.append(([meta["component"]], "#metadata.component"))
    while stack and count < MAX_COMPONENTS:
        items, where = stack.pop()
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or count >= MAX_COMPONENTS:
                continue
            count += 1
            supplier = item.get("supplier")
            supplier = supplier.get("name") if isinstance(supplier, dict) else None
            _component(sink, item.get("name"), item.get("version"), item.get("purl"),
                       supplier or item.get("publisher"), f"{where}[{i}]")
            if len(stack) < 64:
                stack.append((item.get("components"), f"{where}[{i}].components"))
    return count


def _spdx_json(doc: dict[str, Any], sink: Sink) -> int:
    sink.add("sbom.format", "SPDX", "#spdxVersion")
    sink.add("sbom.spec_version", doc.get("spdxVersion"), "#spdxVersion")
    packages = doc.get("packages")
    count = 0
    for i, pkg in enumerate(packages if isinstance(packages, list) else []):
        if count >= MAX_COMPONENTS or not isinstance(pkg, dict):
            continue
        count += 1
        refs = pkg.get("externalRefs")
        refs = refs if isinstance(refs, list) else []
        purl = next((r.get("referenceLocator") for r in refs
                     if isinstance(r, dict) and r.get("referenceType") == "purl"), None)
        _component(sink, pkg.get("name"), pkg.get("versionInfo"), purl, pkg.get("supplier"),
                    f"#packages[{i}]")
    return count


def _spdx3(doc: dict[str, Any], sink: Sink) -> int:
    sink.add("sbom.format", "SPDX", "#@context")
    sink.add("sbom.spec_version", "SPDX-3.0", "#@context")
    graph = doc.get("@graph")
    count = 0
    for i, el in enumerate(graph if isinstance(graph, list) else []):
        if count < MAX_COMPONENTS and isinstance(el, dict) and el.get("type") in (
                "software_Package", "Package"):
            count += 1
            _component(sink, el.get("name"), el.get("software_packageVersion"),
                       el.get("software_packageUrl"), None, f"#@graph[{i}]")
    return count


def _cdx_xml(data: bytes, sink: Sink) -> int:
    from defusedxml import ElementTree

    root = ElementTree.fromstring(data)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    sink.add("sbom.format", "CycloneDX", "#bom")
    sink.add("sbom.spec_version", ns.rsplit("/", 1)[-1], "#bom@xmlns")
    q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
    count = 0
    for i, comp in enumerate(root.iter(q("component"))):
        if count >= MAX_COMPONENTS:
            break
        count += 1
        supplier = comp.find(q("supplier"))
        sup = (supplier.findtext(q("name")) if supplier is not None
               else comp.findtext(q("publisher")))
        _component(sink, comp.findtext(q("name")), comp.findtext(q("version")),
                   comp.findtext(q("purl")), sup, f"#component[{i}]")
    return count


def _spdx_tv(text: str, sink: Sink) -> int:
    sink.add("sbom.format", "SPDX", "#SPDXVersion")
    count = 0
    current: dict[str, str] = {}

    def flush() -> None:
        nonlocal count
        if current and count < MAX_COMPONENTS:
            count += 1
            _component(sink, current.get("PackageName"), current.get("PackageVersion"),
                       current.get("purl"), current.get("PackageSupplier"),
                       f"#package[{count - 1}]")

    for line in text.splitlines()[:500_000]:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if key == "SPDXVersion":
            sink.add("sbom.spec_version", value, "#SPDXVersion")
        elif key == "PackageName":
            flush()
            current = {"PackageName": value}
        elif current and key in ("PackageVersion", "PackageSupplier"):
            current[key] = value
        elif current and key == "ExternalRef" and re.match(r"PACKAGE[-_]MANAGER\s+purl\s", value):
            current["purl"] = value.split()[-1]
    flush()
    return count


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    with open(path, "rb") as f:
        data = f.read(MAX_SBOM + 1)
    if len(data) > MAX_SBOM:
        sink.problem("SBOM larger than 64 MiB: not read", "limit")
        return sink.result("sbom")
    count = 0
    try:
        stripped = data.lstrip()
        if stripped[:1] == b"{":
            doc = json.loads(data.decode("utf-8", "replace"))
            if not isinstance(doc, dict):
                raise ValueError("top level is not an object")
            if doc.get("bomFormat") == "CycloneDX":
                count = _cdx_json(doc, sink)
            elif "spdxVersion" in doc:
                count = _spdx_json(doc, sink)
            else:
                count = _spdx3(doc, sink)
        elif b"<bom" in data[:4096]:
            count = _cdx_xml(data, sink)
        else:
            count = _spdx_tv(data.decode("utf-8", "replace"), sink)
    except (ValueError, RecursionError, SyntaxError) as exc:  # ParseError is a SyntaxError
        sink.problem(f"SBOM unreadable: {exc}")
    except Exception as exc:  # defusedxml's refusals (entities, DTDs) are not ValueErrors
        sink.problem(f"SBOM refused: {exc}", "unsafe")
    sink.add("sbom.component_count", str(count), "")
    return sink.result("sbom")


IDENTIFIER = Identifier("sbom", detect, read)
