"""CycloneDX 1.6 JSON following the report contract (DESIGN §7). Pure: ScanResult -> dict.

Written as plain data rather than through cyclonedx-python-lib's object model: the model has no
`compositions`, merges look-alike components and is quadratic on large trees. The library's
strict validator checks every document this module makes (tests/test_report_cyclonedx.py).

Besides the contract's human-facing fields (manufacturer, evidence, `provenance:vendor`...),
each attribution and each finding is also written whole as one JSON-valued property
(`provenance:attribution`, `provenance:finding`), so `provenance render` can rebuild the scan
result exactly (`provenance.report.load.from_cyclonedx`).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

import orjson

from provenance.model import (
    Attribution,
    Component,
    Evidence,
    Finding,
    Manufacturer,
    Part,
    Problem,
    ScanResult,
    Verdict,
)
from provenance.pipeline import cost as scan_cost

SPEC_VERSION = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
MAX_EVIDENCE = 8  # per attribution in evidence.identity, strongest first

TECHNIQUES = {
    "binary-analysis", "manifest-analysis", "hash-comparison", "filename", "attestation",
    "source-code-analysis", "ast-fingerprint", "dynamic-analysis", "instrumentation", "other",
}


def prop(name: str, value: str) -> dict[str, str]:
    return {"name": f"provenance:{name}", "value": value}


def json_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _confidence(value: float) -> float:
    return float(f"{value:.2f}")


def evidence_dict(ev: Evidence) -> dict[str, Any]:
    return {"technique": ev.technique, "signal": ev.signal, "detail": ev.detail,
            "location": ev.location, "rule": ev.rule, "confidence": ev.confidence}


def attribution_dict(a: Attribution) -> dict[str, Any]:
    out: dict[str, Any] = {"vendor": a.vendor, "relationship": a.relationship.value,
                           "confidence": a.confidence,
                           "evidence": [evidence_dict(ev) for ev in a.evidence]}
    if a.component:
        out["component"] = a.component
    if a.version:
        out["version"] = a.version
    return out


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "vendor": f.vendor, "level": f.level.value, "relationship": f.relationship.value,
        "confidence": f.confidence, "rationale": f.rationale,
        "entries": [{"policy": e.policy, "entity": e.entity, "source": e.source,
                     "in_force": e.in_force, "scope": e.scope,
                     **({"citations": list(e.citations)} if e.citations else {})}
                    for e in f.entries],
    }
    if f.waiver is not None:
        out["waiver"] = f.waiver
    return out


def problem_dict(p: Problem) -> dict[str, str]:
    return {"location": p.location, "stage": p.stage, "message": p.message, "kind": p.kind}


def manufacturer_dict(m: Manufacturer) -> dict[str, Any]:
    return {"vendor": m.vendor, "name": m.name, "country": m.country, "parent": m.parent}


def component_evidence(component: Component) -> dict[str, Any] | None:
    """A component's CycloneDX `evidence` (identity methods, occurrences, copyright), or None
    (shared with `provenance enrich`)."""
    methods: list[dict[str, Any]] = []
    occurrences: dict[str, dict[str, Any]] = {}
    copyright: list[dict[str, str]] = []
    for attribution in component.attributions:
        for ev in attribution.evidence[:MAX_EVIDENCE]:
            technique = ev.technique if ev.technique in TECHNIQUES else "other"
            methods.append({
                "technique": technique,
                "confidence": _confidence(ev.confidence),
                "value": f"{attribution.vendor} {attribution.relationship.value}: "
                         f"{ev.signal} {ev.rule}: {ev.detail}",
            })
            where, _, offset = ev.location.partition("@0x")
            occurrence: dict[str, Any] = {"location": where}
            try:
                if offset:
                    occurrence["offset"] = int(offset, 16)
            except ValueError:
                occurrence["location"] = ev.location
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
            "concludedValue": component.name or component.path,
            "methods": methods,
        }],
        "occurrences": list(occurrences.values()),
    }
    if copyright:
        evidence["copyright"] = copyright
    return evidence


def component_properties(
    component: Component, verdict: Verdict, findings: tuple[Finding, ...]
) -> list[dict[str, str]]:
    """A component's `provenance:*` properties, as `report.load` reads them back (shared with
    `provenance enrich`)."""
    props = [prop("location", component.path), prop("kind", component.kind),
             prop("size", str(component.size))]
    top: Attribution | None = component.top
    if top is not None:
        props += [
            prop("vendor", top.vendor),
            prop("relationship", top.relationship.value),
            prop("confidence", f"{top.confidence:.2f}"),
        ]
        if top.component:
            props.append(prop("vendor-component", top.component))
    if component.manufacturer is not None:
        if component.manufacturer.parent:  # a HiSilicon part is HiSilicon's, parent Huawei
            props.append(prop("vendor-parent", component.manufacturer.parent))
        props.append(prop("manufacturer", json_value(manufacturer_dict(component.manufacturer))))
    props += [prop("attribution", json_value(attribution_dict(a))) for a in component.attributions]
    props.append(prop("verdict", verdict.value))
    # Only what still flags the component: a waived finding is listed, not counted.
    policies = sorted({e.policy for f in findings if f.waiver is None for e in f.entries})
    if policies:
        props.append(prop("policy", ",".join(policies)))
    for f in findings:
        for e in f.entries:
            scope = f"; scope: {e.scope}" if e.scope else ""
            props.append(prop("policy-entry", f"{e.policy}: {e.entity}; in force {e.in_force}; "
                                               f"{e.source}{scope}"))
        if f.waiver is not None:
            props.append(prop("waiver", f"{f.vendor} {f.level.value}: {f.waiver}"))
        props.append(prop("finding", json_value(finding_dict(f))))
    if component.opaque:
        props.append(prop("opaque", component.opaque))
    return props


def findings_by_ref(result: ScanResult) -> dict[str, tuple[Finding, ...]]:
    """Findings grouped by component ref, once (ScanResult.findings_for is a linear scan)."""
    out: dict[str, list[Finding]] = {}
    for f in result.findings:
        out.setdefault(f.component, []).append(f)
    return {ref: tuple(fs) for ref, fs in out.items()}


# Kinds whose SHA-256 is not the hash of content (a link, a file that could not be read).
_NO_CONTENT = frozenset({"directory", "symlink", "unreadable", "special"})


def content_purl(name: str, sha256: str) -> str:
    """`pkg:generic/<name>?checksum=sha256:<hex>`: the identity of a file no package manager
    names. Dependency-Track de-duplicates the components of an uploaded BOM by their identity
    (purl, purl coordinates, CPE, SWID tag id, group, name and version; hashes are not part of
    it: `ComponentIdentity.equals` in DependencyTrack/hyades-apiserver), so thousands of files
    called `index.js` or `Makefile` without a version would collapse into one. A purl of the
    `generic` type carrying the purl spec's `checksum` qualifier is distinct per content:
    two files of one name and different bytes stay two components, and identical bytes under
    one name are one component in several places, which is what Dependency-Track keeps (it
    re-points the bom-refs of merged duplicates, so the dependency graph is not lost)."""
    encoded = quote(name.encode("utf-8", "surrogateescape"), safe="")
    return f"pkg:generic/{encoded or '_'}?checksum=sha256:{sha256}"


def identity_purl(c: Component) -> str | None:
    """The purl a component is written with: its own, else its content's (`content_purl`)
    when it is a file with content; None for a directory, a link or an unreadable entry."""
    if c.purl:
        return c.purl
    if c.kind in _NO_CONTENT or len(c.sha256) != 64:
        return None
    return content_purl(c.name or c.path, c.sha256)


def _component(
    c: Component, result: ScanResult, index: dict[str, tuple[Finding, ...]], nested: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "bom-ref": c.ref,
        "type": c.type,
    }
    if c.supplier:
        out["supplier"] = {"name": c.supplier}
    if c.manufacturer is not None:
        m = c.manufacturer
        out["manufacturer"] = {"name": m.name, **({"address": {"country": m.country}}
                                                 if m.country else {})}
    out["name"] = c.name or c.path
    if c.version:
        out["version"] = c.version
    if c.sha256:
        out["hashes"] = [{"alg": "SHA-256", "content": c.sha256}]
    purl = identity_purl(c)
    if purl:
        out["purl"] = purl
    findings = index.get(c.ref, ())
    out["properties"] = component_properties(c, result.verdicts.get(c.ref, Verdict.CLEAR), findings)
    if nested and c.children:
        out["components"] = [_component(child, result, index) for child in c.children]
    evidence = component_evidence(c)
    if evidence:
        out["evidence"] = evidence
    return out


def _incomplete(root: Component) -> set[str]:
    """Refs of opaque components and of every component holding one (one pass, no recursion)."""
    out: set[str] = set()
    stack: list[tuple[Component, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, ancestors = stack.pop()
        if node.opaque:
            out.add(node.ref)
            out.update(ancestors)
        stack.extend((child, (*ancestors, node.ref)) for child in node.children)
    return out


PART_PREFIX = "part:"  # bom-ref of an inferred hardware part: part:<n>:<maker>


def part_ref(index: int, part: Part) -> str:
    return f"{PART_PREFIX}{index}:{part.maker}"


def part_dict(index: int, part: Part, result: ScanResult) -> dict[str, Any]:
    """An inferred hardware part as a CycloneDX `device` component."""
    maker = result.vendors.get(part.maker)
    out: dict[str, Any] = {"bom-ref": part_ref(index, part), "type": "device"}
    out["manufacturer"] = {"name": maker.name if maker else part.maker,
                           **({"address": {"country": maker.country}}
                              if maker and maker.country else {})}
    out["name"] = part.label
    out["properties"] = [
        prop("part-class", part.part_class.value), prop("vendor", part.maker),
        prop("confidence", str(round(part.confidence, 4))),
        *([prop("part-model", part.model)] if part.model else []),
        *([prop("part-family", part.family)] if part.family else []),
        prop("evidence", json_value([evidence_dict(e) for e in part.evidence])),
        prop("inferred", "true")]
    out["evidence"] = {"identity": [{
        "field": "name", "confidence": _confidence(part.confidence),
        "methods": [{"technique": "binary-analysis" if e.technique == "binary-analysis"
                     else "other", "confidence": _confidence(e.confidence),
                     "value": f"{e.rule}: {e.detail}"[:500]} for e in part.evidence]}],
        "occurrences": [{"location": e.location} for e in part.evidence]}
    return out


LEAF_SUFFIX = ":content"


def dependencies(root: Component, hardware: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The containment as a `dependencies` graph (each container depends on what it holds), for
    importers such as Dependency-Track that flatten nested components and keep only this
    graph; the input also depends on its `hardware` parts (their bom-refs). One pass, no
    recursion; a leaf input depends on its own content entry."""
    if not root.children:
        content = [root.ref + LEAF_SUFFIX] if root.kind != "directory" else []
        return [{"ref": root.ref, "dependsOn": [*content, *hardware]}]
    out: list[dict[str, Any]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.children:
            extra = hardware if node is root else ()
            out.append({"ref": node.ref, "dependsOn": [*(c.ref for c in node.children), *extra]})
            stack.extend(reversed(node.children))
    return out


def _leaf_input(root: Component, result: ScanResult, index: Any) -> list[dict[str, Any]]:
    """An input with no parts (a single binary or package file) is also listed as the one
    component examined, so that readers of `components` see it and its flags; its bom-ref is
    the input's plus LEAF_SUFFIX."""
    if root.kind == "directory":
        return []
    entry = _component(root, result, index, nested=False)
    entry["bom-ref"] = root.ref + LEAF_SUFFIX
    return [entry]


def to_dict(result: ScanResult, components: bool = True) -> dict[str, Any]:
    """The whole document as a dict (`components=False`: without the component tree, which
    `render` streams)."""
    root = result.root
    index = findings_by_ref(result)
    meta_component = _component(root, result, index, nested=False)
    meta_component["properties"] = [
        prop("verdict", result.verdict.value),
        prop("coverage", result.coverage.value),
        prop("policies", ",".join(result.policies)),
        *([prop("as-of", result.as_of)] if result.as_of else []),
        prop("files", str(result.stats.files)),
        prop("bytes", str(result.stats.bytes)),
        prop("opaque-count", str(result.stats.opaque)),
        prop("seconds", f"{result.stats.seconds}"),
        *[prop(name, value) for name, value in scan_cost.properties(result.cost)],
        prop("findings", str(len(result.findings))),
        prop("waived", str(sum(1 for f in result.findings if f.waiver is not None))),
        *[p for p in meta_component["properties"] if p["name"] != "provenance:verdict"],
        *[prop("problem", json_value(problem_dict(p))) for p in result.problems],
        *[prop("vendor-info", json_value(manufacturer_dict(m)))
          for _, m in sorted(result.vendors.items())],
    ]
    serial = uuid.uuid5(uuid.NAMESPACE_URL,
                        f"provenance:{root.sha256}:{result.signature_digest}:{result.tool_version}")
    metadata: dict[str, Any] = {}
    if result.started:
        metadata["timestamp"] = result.started
    digest = result.signature_digest.removeprefix("sha256:")
    metadata["tools"] = {"components": [
        {"type": "application", "name": "provenance", "version": result.tool_version,
         "properties": [prop("signature-digest", result.signature_digest)]},
        {"type": "data", "name": "provenance-signatures", "version": digest[:16],
         **({"hashes": [{"alg": "SHA-256", "content": digest}]} if len(digest) == 64 else {})},
    ]}
    metadata["component"] = meta_component
    doc: dict[str, Any] = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial.urn,
        "version": 1,
        "metadata": metadata,
        "components": ([_component(child, result, index) for child in root.children]
                       or _leaf_input(root, result, index)) if components else [],
    }
    # the device is built from its hardware parts: listed as components, the root depends on them
    doc["components"] += [part_dict(i, p, result) for i, p in enumerate(result.parts)]
    doc["dependencies"] = dependencies(root, [part_ref(i, p) for i, p in enumerate(result.parts)])
    # An opaque part's own inventory is unknown, and so is that of everything holding it.
    incomplete = sorted(_incomplete(root))
    if incomplete:
        doc["compositions"] = [{"aggregate": "incomplete", "assemblies": incomplete}]
    elif result.coverage.value == "partial":  # something inside went unexamined
        doc["compositions"] = [{"aggregate": "incomplete", "assemblies": [root.ref]}]
    else:
        doc["compositions"] = [{"aggregate": "complete", "assemblies": [root.ref]}]
    if result.parts:  # inferred from the firmware: the hardware list is never known complete
        doc["compositions"].append({"aggregate": "incomplete", "dependencies": [root.ref]})
    return doc


def render(result: ScanResult, indent: int | None = 2) -> str:
    """The report as JSON text: exactly `json.dumps(to_dict(result), indent=indent)`, but built
    one component at a time, so that the dicts of a 10,000-file tree never all exist at once
    (they were most of a scan's peak memory). `indent=None` is compact, with the C encoder."""
    return "".join(stream(result, indent))


STREAM_PIECE = 1 << 20  # characters handed to the writer at a time


def stream(result: ScanResult, indent: int | None = 2) -> Iterator[str]:
    """`render`'s text in pieces of about STREAM_PIECE characters, made as they are written:
    the text of a 100,000-file report (80 MB) never exists whole, nor its encoded bytes."""
    return grouped(itertools.chain(_chunks(result, indent), ("\n",)), STREAM_PIECE)


def grouped(chunks: Iterable[str], size: int) -> Iterator[str]:
    """`chunks` (an encoder's many small strings) joined into pieces of about `size`
    characters: few writes, and never the whole text at once."""
    held: list[str] = []
    length = 0
    for chunk in chunks:
        held.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(held)
            held, length = [], 0
    if held:
        yield "".join(held)


_HOLE = "\0provenance-components\0"  # stands in for a list rendered separately


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_safe(text: str) -> str:
    """JSON text that can be written as UTF-8: a lone surrogate (an undecodable byte of a file
    name, PEP 383) becomes its `\\udcff` escape, which JSON readers turn back into the same
    string."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


# orjson writes what json.dumps(indent=2 or compact, ensure_ascii=False) writes, character for
# character (tests/test_report_cyclonedx.py), in C: the standard library's encoder is pure Python
# whenever it indents: 0.19 s against 0.005 s for the 7,151 components of the rootfs benchmark,
# serially at the end of every scan, cold or warm.
# (One difference: a float under 1e-4 is written 0.00001, not 1e-05; the same number.)
_ORJSON_OPTIONS = {None: 0, 2: orjson.OPT_INDENT_2}


def _dump(value: Any, indent: int | None) -> str:
    option = _ORJSON_OPTIONS.get(indent)
    if option is not None:
        try:
            return orjson.dumps(value, option=option).decode("utf-8")
        except TypeError:  # a lone surrogate, a key that is not a string, an int past 64 bits
            pass
    if indent is None:
        return json_safe(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    return json_safe(json.dumps(value, indent=indent, ensure_ascii=False))


def _with_hole(text: str, indent: int | None) -> tuple[str, str, str]:
    """Split a dump at the placeholder: (before, the indentation of its line, after)."""
    mark = _dump(_HOLE, None)
    at = text.index(mark)
    line_start = text.rfind("\n", 0, at) + 1
    pad = " " * (len(text[line_start:at]) - len(text[line_start:at].lstrip(" ")))
    return text[:at], pad if indent is not None else "", text[at + len(mark):]


def _list(items: list[Any], pad: str, indent: int | None,
          render_item: Any) -> Iterator[str]:
    """A JSON array whose items come from `render_item(item, pad)` one by one."""
    if not items:
        yield "[]"
        return
    inner = pad + " " * indent if indent is not None else ""
    sep = ",\n" if indent is not None else ","
    yield "[\n" if indent is not None else "["
    for i, item in enumerate(items):
        if i:
            yield sep
        yield inner
        yield from render_item(item, inner)
    yield ("\n" + pad + "]") if indent is not None else "]"


def _indented(text: str, pad: str) -> str:
    return text.replace("\n", "\n" + pad) if pad else text


def _component_chunks(c: Component, pad: str, result: ScanResult,
                      index: dict[str, tuple[Finding, ...]], indent: int | None
                      ) -> Iterator[str]:
    entry = _component(c, result, index, nested=False)
    if not c.children:
        yield _indented(_dump(entry, indent), pad)
        return
    # keep the key order of the nested dict: "components" right after "properties"
    ordered: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "evidence":
            ordered["components"] = _HOLE
        ordered[key] = value
    ordered.setdefault("components", _HOLE)
    before, hole_pad, after = _with_hole(_dump(ordered, indent), indent)
    yield _indented(before, pad)
    yield from _list(list(c.children), pad + hole_pad, indent,
                     lambda child, p: _component_chunks(child, p, result, index, indent))
    yield _indented(after, pad)


def _chunks(result: ScanResult, indent: int | None) -> Iterator[str]:
    root = result.root
    if not root.children:  # a single file: the document is small
        yield _dump(to_dict(result), indent)
        return
    index = findings_by_ref(result)
    doc = to_dict(result, components=False)
    tail = ("dependencies", "compositions")
    doc = {**{k: v for k, v in doc.items() if k not in tail}, "components": _HOLE,
           **{k: doc[k] for k in tail}}
    before, pad, after = _with_hole(_dump(doc, indent), indent)
    yield before
    parts = [part_dict(i, p, result) for i, p in enumerate(result.parts)]

    def item(node: Component | dict[str, Any], p: str) -> Iterator[str]:
        if isinstance(node, Component):
            return _component_chunks(node, p, result, index, indent)
        return iter([_indented(_dump(node, indent), p)])

    yield from _list([*root.children, *parts], pad, indent, item)
    yield after
