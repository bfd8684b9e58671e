"""SBOMs read into facts: CycloneDX JSON/XML (1.2-1.6), SPDX 2.2/2.3 JSON and tag-value, and
SPDX 3.0 JSON-LD on a best-effort basis. Reading only: format, spec version, counts, and for
each component (bounded) what it declares about itself, as `sbom.*` facts.

`component_facts` is the one mapping from an SBOM component to facts: identification uses it
for an SBOM found inside a scanned input, `provenance enrich` for the SBOM it is given, and
attribution (`attribute.resolve`) reads the same keys either way, so one document gets one
verdict on every path.

The document is read by `sbom_read` (cyclonedx-python-lib, spdx-tools, defusedxml) in its scan
mode into a CycloneDX 1.6 dict; this module turns that dict into facts. Each component's
location is where it is in the source: `#components[3]`, `#components[1].components[0]`,
`#metadata.component` (CycloneDX JSON), `#component[2]` (the n-th <component> of CycloneDX
XML), `#packages[4]` (SPDX JSON), `#package[4]` (SPDX tag-value), `#@graph[12]` (SPDX 3); a
fact about one field of it adds the field (`#components[3].supplier.name`)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from provenance.identify.base import MAX_FACTS, Identifier, Sink, clean
from provenance.identify.copyright import normalise
from provenance.identify.manifest import EMAIL
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

__all__ = ["COMPONENT", "DECLARED_KEYS", "IDENTIFIER", "MAX_COMPONENTS", "MAX_SBOM",
           "SBOM_NAMES", "component_facts", "detect", "facts", "read"]

COMPONENT = "sbom.component"  # the fact that opens a component: its name, at its location
# who the SBOM says supplies or manufactures the component: the declaration a relabelling
# check weighs against the other evidence
DECLARED_KEYS = frozenset({"sbom.supplier", "sbom.manufacturer", "sbom.supplier_email",
                           "sbom.supplier_url"})

# where each format declares what it is
_DECLARED = (("CycloneDX JSON", "#specVersion"), ("CycloneDX XML", "#bom@xmlns"),
             ("SPDX 3", "#@context"), ("SPDX", "#spdxVersion"))


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [x for x in items if isinstance(x, str) and x.strip()]


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, x) for i, x in enumerate(value if isinstance(value, list) else [])
            if isinstance(x, dict)]


def _org(value: Any, at: str, name_key: str, mail_key: str, url_key: str
         ) -> list[tuple[str, str, str]]:
    """Facts from a CycloneDX organizationalEntity / organizationalContact."""
    if not isinstance(value, dict):
        return []
    out = [(name_key, n, f"{at}.name") for n in _texts(value.get("name"))]
    out += [(mail_key, m, f"{at}.email") for m in _texts(value.get("email"))]
    out += [(url_key, u, f"{at}.url") for u in _texts(value.get("url"))]
    for i, contact in _items(value.get("contact")):
        out += [(mail_key, m, f"{at}.contact[{i}].email") for m in _texts(contact.get("email"))]
    return out


def component_facts(comp: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, value, where in the component) for what one CycloneDX component dict declares:
    `sbom.component` ("name version", the label that opens the component) first, then its
    name (`@scope/name` for a scoped npm package), version, purl, supplier and manufacturer
    (`DECLARED_KEYS`), authors, publisher, URLs, copyright holders, CPE, SHA-256 and file
    names. Values are as written (the caller cleans them)."""
    name = comp.get("name") if isinstance(comp.get("name"), str) else None
    group = comp.get("group") if isinstance(comp.get("group"), str) else None
    full = f"{group}/{name}" if group and name and group.startswith("@") else name
    version = _texts(comp.get("version"))
    label = " ".join(clean(x) for x in (name, *version[:1]) if x and clean(x))
    out: list[tuple[str, str, str]] = [(COMPONENT, label, "")]
    out += [("sbom.name", full, "")] if full else []
    out += [("sbom.version", v, "") for v in version]
    out += [("sbom.purl", v, "") for v in _texts(comp.get("purl"))]
    for field in ("supplier", "manufacturer"):
        out += _org(comp.get(field), f".{field}", f"sbom.{field}", "sbom.supplier_email",
                    "sbom.supplier_url")
    for a in _texts(comp.get("author")):
        out.append(("sbom.author", a, ".author"))
        # Syft and cyclonedx-npm write a package's author as "Name <mail>"
        out += [("sbom.author_email", m.group(0), ".author")
                for m in itertools.islice(EMAIL.finditer(a), 5)]
    for i, author in _items(comp.get("authors")):
        out += _org(author, f".authors[{i}]", "sbom.author", "sbom.author_email", "sbom.homepage")
    out += [("sbom.publisher", p, ".publisher") for p in _texts(comp.get("publisher"))]
    for i, ref in _items(comp.get("externalReferences")):
        key = "sbom.repository" if ref.get("type") == "vcs" else "sbom.homepage"
        out += [(key, u, f".externalReferences[{i}].url") for u in _texts(ref.get("url"))]
    copyrights = [(c, ".copyright") for c in _texts(comp.get("copyright"))]
    evidence = comp.get("evidence")
    if isinstance(evidence, dict):
        copyrights += [(c, f".evidence.copyright[{i}]")
                       for i, item in _items(evidence.get("copyright"))
                       for c in _texts(item.get("text"))]
    for text, at in copyrights:
        holder = normalise(re.sub(r"^\s*copyright\b", "", text, flags=re.I))[0]
        if holder:
            out.append(("sbom.copyright_holder", holder, at))
    out += [("sbom.cpe", c, ".cpe") for c in _texts(comp.get("cpe"))]
    for i, h in _items(comp.get("hashes")):
        if h.get("alg") == "SHA-256":
            out += [("sbom.sha256", c.lower(), f".hashes[{i}]") for c in _texts(h.get("content"))]
    for i, p in _items(comp.get("properties")):
        if p.get("name") == "provenance:spdx-file-name":
            out += [("sbom.file_name", v, f".properties[{i}]") for v in _texts(p.get("value"))]
    if comp.get("type") == "file" and name:
        out.append(("sbom.file_name", name.rsplit("/", 1)[-1], ".name"))
    return out


def facts(sbom: SbomInput, sink: Sink) -> int:
    """The facts of a read SBOM: format, spec version, and each component's (at most
    `MAX_COMPONENTS`). Returns the number of components."""
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
        for key, value, at in component_facts(comp):
            if key == COMPONENT:  # always written: it opens the component (even unnamed)
                sink.add(key, clean(value) or "(unnamed)", where)
            else:
                sink.add(key, value, where + at)
    if len(sink.facts) >= MAX_FACTS:  # the later components are weighed on what was kept
        sink.problem(f"SBOM: only the first {MAX_FACTS} facts kept ({count} components)",
                     ProblemKind.LIMIT)
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
ORDER = 110  # place in detection (identify/__init__.py): lower is tried first
