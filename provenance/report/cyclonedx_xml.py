"""CycloneDX 1.6 XML: the JSON document of cyclonedx.py, written element by element. Pure.

Converted from the JSON dict rather than through cyclonedx-python-lib's model, which has no
`compositions` and would drop them (and merges look-alike components). Element order follows
bom-1.6.xsd sequences; the library's strict XML validator checks the output in tests.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from provenance.model import ScanResult
from provenance.report import cyclonedx

NS = "http://cyclonedx.org/schema/bom/1.6"
# what XML 1.0 cannot carry at all, even as a character reference: C0 controls other than tab
# and newlines, lone surrogates (undecodable file names), U+FFFE/U+FFFF
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ESCAPED = "provenance:xml-escaped-characters"


def _visible(found: re.Match[str]) -> str:
    code = ord(found.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _xml_safe(root: ET.Element) -> int:
    """Replace what XML cannot carry with a visible escape (`\\x19`), in place; the count of
    replaced characters (the JSON report keeps the exact values)."""
    count = 0
    for node in root.iter():
        if node.text:
            node.text, n = NOT_XML.subn(_visible, node.text)
            count += n
        for key, value in node.attrib.items():
            node.attrib[key], n = NOT_XML.subn(_visible, value)
            count += n
    return count


def _el(parent: ET.Element, tag: str, text: object | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = str(text)
    return node


def _entity(parent: ET.Element, tag: str, entity: dict[str, Any]) -> None:
    node = _el(parent, tag)
    _el(node, "name", entity["name"])
    country = (entity.get("address") or {}).get("country")
    if country:
        _el(_el(node, "address"), "country", country)


def _properties(parent: ET.Element, props: list[dict[str, str]]) -> None:
    if props:
        node = _el(parent, "properties")
        for p in props:
            _el(node, "property", p["value"], name=p["name"])


def _hashes(parent: ET.Element, hashes: list[dict[str, str]]) -> None:
    if hashes:
        node = _el(parent, "hashes")
        for h in hashes:
            _el(node, "hash", h["content"], alg=h["alg"])


def _evidence(parent: ET.Element, evidence: dict[str, Any]) -> None:
    node = _el(parent, "evidence")
    for ident in evidence.get("identity", []):
        inode = _el(node, "identity")
        _el(inode, "field", ident["field"])
        _el(inode, "confidence", ident["confidence"])
        if "concludedValue" in ident:
            _el(inode, "concludedValue", ident["concludedValue"])
        methods = _el(inode, "methods")
        for m in ident.get("methods", []):
            mnode = _el(methods, "method")
            _el(mnode, "technique", m["technique"])
            _el(mnode, "confidence", m["confidence"])
            if "value" in m:
                _el(mnode, "value", m["value"])
    if evidence.get("occurrences"):
        onode = _el(node, "occurrences")
        for occ in evidence["occurrences"]:
            o = _el(onode, "occurrence")
            _el(o, "location", occ["location"])
            if "offset" in occ:
                _el(o, "offset", occ["offset"])
            if "additionalContext" in occ:
                _el(o, "additionalContext", occ["additionalContext"])
    if evidence.get("copyright"):
        cnode = _el(node, "copyright")
        for c in evidence["copyright"]:
            _el(cnode, "text", c["text"])


def _component(parent: ET.Element, c: dict[str, Any]) -> None:
    attrs = {"type": c["type"]}
    if "bom-ref" in c:
        attrs["bom-ref"] = c["bom-ref"]
    node = _el(parent, "component", **attrs)
    # xs:sequence order: supplier, manufacturer, ..., name, version, ..., hashes, ..., purl,
    # ..., properties, components, evidence.
    if "supplier" in c:
        _entity(node, "supplier", c["supplier"])
    if "manufacturer" in c:
        _entity(node, "manufacturer", c["manufacturer"])
    _el(node, "name", c["name"])
    if "version" in c:
        _el(node, "version", c["version"])
    _hashes(node, c.get("hashes", []))
    if "purl" in c:
        _el(node, "purl", c["purl"])
    _properties(node, c.get("properties", []))
    if c.get("components"):
        sub = _el(node, "components")
        for child in c["components"]:
            _component(sub, child)
    if "evidence" in c:
        _evidence(node, c["evidence"])


def to_element(doc: dict[str, Any]) -> ET.Element:
    """The XML tree of a CycloneDX JSON dict as cyclonedx.to_dict makes it."""
    bom = ET.Element("bom", {"xmlns": NS, "serialNumber": doc["serialNumber"],
                             "version": str(doc["version"])})
    meta = doc["metadata"]
    mnode = _el(bom, "metadata")
    if "timestamp" in meta:
        _el(mnode, "timestamp", meta["timestamp"])
    tools = _el(_el(mnode, "tools"), "components")
    for tool in meta["tools"]["components"]:
        tnode = _el(tools, "component", type=tool["type"])
        _el(tnode, "name", tool["name"])
        _el(tnode, "version", tool["version"])
        _hashes(tnode, tool.get("hashes", []))
        _properties(tnode, tool.get("properties", []))
    _component(mnode, meta["component"])
    comps = _el(bom, "components")
    for c in doc.get("components", []):
        _component(comps, c)
    if doc.get("dependencies"):  # xs:sequence: components, ..., dependencies, compositions
        dnode = _el(bom, "dependencies")
        for dep in doc["dependencies"]:
            one = _el(dnode, "dependency", ref=dep["ref"])
            for ref in dep.get("dependsOn", []):
                _el(one, "dependency", ref=ref)
    if doc.get("compositions"):
        cnode = _el(bom, "compositions")
        for comp in doc["compositions"]:
            one = _el(cnode, "composition")
            _el(one, "aggregate", comp["aggregate"])
            if "assemblies" in comp:
                assemblies = _el(one, "assemblies")
                for ref in comp["assemblies"]:
                    _el(assemblies, "assembly", ref=ref)
            if "dependencies" in comp:
                deps = _el(one, "dependencies")
                for ref in comp["dependencies"]:
                    _el(deps, "dependency", ref=ref)
    return bom


def render(result: ScanResult) -> str:
    root = to_element(cyclonedx.to_dict(result))
    escaped = _xml_safe(root)
    if escaped:  # say so: these values differ from the input's, unlike in the JSON report
        meta = root.find("metadata")
        assert meta is not None
        at = list(meta).index(meta.find("component")) + 1  # type: ignore[arg-type]
        props = ET.Element("properties")
        _el(props, "property", str(escaped), name=ESCAPED)
        meta.insert(at, props)
    ET.indent(root, space="  ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")
