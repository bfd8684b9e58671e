"""SBOMs read through their libraries into one CycloneDX 1.6 shaped dict, for `provenance enrich`
and for the SBOMs identification finds inside scanned images (one reader serves both).

CycloneDX JSON is kept as the very dict the file holds (enrichment only adds to it, so nothing
the producer wrote is lost); older spec versions are upgraded in place (1.6 still accepts their
shapes: legacy `tools` arrays, `manufacture`, `author`, single-object `evidence.identity`) and
checked against cyclonedx-python-lib's schema for the declared version. CycloneDX XML is parsed
with defusedxml (no entities, no DTDs), checked against the library's XSD, read through
cyclonedx-python-lib's model and written back as 1.6 JSON. SPDX 2.x (JSON, tag-value) is parsed
and validated with spdx-tools; what it parses is read from its model, what it refuses is read
leniently (with the refusal as a problem). Each package and file becomes a component whose
bom-ref is its SPDX id, each checksum a hash (or a property when CycloneDX has no such
algorithm), and each relationship a `provenance:spdx-relationship` property on its source (plus
a `dependencies` edge for the dependency kinds). SPDX 3.0 JSON-LD is read best effort.

Schema checks are structural by default: the strict check's per-URL IRI grammar costs seconds
per document, and `strict=True` (`enrich --validate`) asks for it. `scan=True` is the
identification mode (run once per SBOM file found in an image): shape
defects and library refusals become problems next to what could still be read rather than
errors, and at most `MAX_COMPONENTS` components. Data larger than `MAX_LIBRARY` is never handed
to a library.

Input that is not an SBOM raises `SbomError`; a readable SBOM with defects gives `Problem`s.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.model import Problem, ProblemKind, Stage

SPEC = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
MAX_SBOM = 256 << 20  # bytes read for `enrich`
MAX_SCAN_SBOM = 64 << 20  # bytes read for an SBOM found in a scan
MAX_LIBRARY = 32 << 20  # bytes handed to cyclonedx-python-lib, jsonschema, lxml or spdx-tools
MAX_COMPONENTS = 5000  # components converted in scan mode
MAX_MESSAGES = 50  # problems kept from one library check
# components a schema check covers: jsonschema costs ~0.3 ms per component, so a whole check of
# 1,000,000 components took minutes (the first ones, in `walk_tree` order, are those enriched)
MAX_CHECKED = 20_000
HEAD = 8192
CDX_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6")

# Conventional SBOM file names: generators that sort their keys put "bomFormat" at the end of
# a large document, past the head, so the name has to count too.
SBOM_NAMES = (".cdx.json", ".cdx.xml", "bom.json", "bom.xml", ".spdx.json", ".spdx",
              "sbom.json", ".spdx.jsonld")


class SbomError(ValueError):
    """The input is not a valid SBOM: no verdict possible (exit code 3). `kind` is the Problem
    kind identification reports it as (`unsafe` for XML defusedxml refuses)."""

    def __init__(self, message: str, kind: ProblemKind = ProblemKind.CORRUPT) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class SbomInput:
    doc: dict[str, Any]  # CycloneDX 1.6 shaped; for CycloneDX JSON input, the original dict
    format: str  # "CycloneDX JSON 1.4", "SPDX-2.3 tag-value", ...
    problems: tuple[Problem, ...]
    family: str = ""  # "CycloneDX" or "SPDX"
    spec: str = ""  # the declared spec version: "1.4", "SPDX-2.3", "SPDX-3.0"
    # bom-ref -> where the component is in the source ("#packages[3]", "#component[2]") when
    # that is not its path in `doc` (SPDX, and CycloneDX XML whose model sorts components)
    locations: dict[str, str] = field(default_factory=dict)


def detect(head: bytes, name: str) -> bool:
    """Whether a blob's head (and name) looks like an SBOM this module reads."""
    probe = head[:4096]
    start = probe.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start[:1] == b"{":
        return (b'"bomFormat"' in probe or b'"spdxVersion"' in probe or b'"bom-ref"' in probe
                or b"spdx.org/rdf/3" in probe or name.lower().endswith(SBOM_NAMES))
    if start[:1] == b"<":  # an XML document, not a tar or an image that holds one
        return b"<bom" in probe and b"cyclonedx.org/schema/bom" in probe
    return start.startswith((b"SPDXVersion:", b"##")) and b"SPDXVersion:" in probe


def _problem(source: str, message: str, kind: ProblemKind = ProblemKind.CORRUPT, at: str = ""
             ) -> Problem:
    return Problem(source + at, Stage.IDENTIFY, message[:300], kind)


def _items(value: Any) -> list[Any]:
    """A list read from hostile input: anything else counts as empty."""
    return value if isinstance(value, list) else []


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": f"provenance:{name}", "value": value}


def looks_like_sbom(path: Path) -> bool:
    """Cheap check (head and tail only) whether a file is an SBOM `enrich` can read."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - HEAD))
            tail = f.read(HEAD)
    except OSError:
        return False
    if detect(head, path.name):
        return True
    if head.lstrip()[:1] != b"{":
        return False
    # producers that sort keys (cyclonedx-py) write bomFormat after the components
    probe = head + tail
    return (b'"bomFormat"' in probe and b"CycloneDX" in probe) or b'"spdxVersion"' in probe or (
        b"@context" in probe and b"spdx.org/rdf/" in probe)


# -- CycloneDX ------------------------------------------------------------------------------


def _cdx_json(doc: dict[str, Any], source: str, scan: bool, size: int, strict: bool = False
              ) -> SbomInput:
    problems: list[Problem] = []
    version = str(doc.get("specVersion", ""))
    if version not in CDX_VERSIONS:
        message = (f"CycloneDX specVersion {version or '(missing)'} is not supported "
                   "(1.2 to 1.6)")
        if not scan:  # Syft's newest default is 1.7: say how to ask for what is read
            raise SbomError(f"{source}: {message}; ask the producer for 1.6 (syft -o "
                            "cyclonedx-json@1.6, cdxgen --spec-version 1.6)")
        problems.append(_problem(source, f"{message}: read as 1.6, not schema-checked",
                                 ProblemKind.UNSUPPORTED, "#specVersion"))
    shapes = [(key, list, "an array") for key in ("components", "dependencies", "services")]
    for key, kind, what in [*shapes, ("metadata", dict, "an object")]:
        if key in doc and not isinstance(doc[key], kind):
            message = f"CycloneDX '{key}' must be {what}, not {type(doc[key]).__name__}"
            if not scan:
                raise SbomError(f"{source}: {message}")
            problems.append(_problem(source, f"{message}: ignored", at=f"#{key}"))
            del doc[key]
    if version in CDX_VERSIONS:
        if size > MAX_LIBRARY:
            problems.append(_problem(source, f"CycloneDX JSON larger than {MAX_LIBRARY >> 20} "
                                             "MiB: not schema-checked", ProblemKind.LIMIT))
        else:
            problems.extend(_schema_problems(doc, version, source, strict))
    doc["specVersion"] = SPEC
    if "$schema" in doc:
        doc["$schema"] = SCHEMA
    return SbomInput(doc, f"CycloneDX JSON {version}", tuple(problems),
                     "CycloneDX", version)


@functools.lru_cache(maxsize=8)
def validator(version: str) -> Any:
    """cyclonedx-python-lib's strict JSON validator for a spec version, built once (slow)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.from_version(version))


def _unique_items(checker: Any, unique: Any, instance: Any, schema: Any) -> Any:
    """`uniqueItems` in one pass: jsonschema compares every pair (6 minutes for 5000
    components); equal items have equal canonical JSON, so a set of those finds a repeat."""
    from jsonschema.exceptions import ValidationError

    if not unique or not checker.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps(item, sort_keys=True, default=str)
        if key in seen:
            yield ValidationError(f"array of {len(instance)} items has non-unique elements")
            return
        seen.add(key)


@functools.lru_cache(maxsize=16)
def schema_validator(version: str, strict: bool = False) -> Any:
    """cyclonedx-python-lib's JSON schema for a spec version as a jsonschema validator, with a
    linear `uniqueItems`. `strict` checks every `format` too: an Earley-parsed IRI grammar per
    URL (~50 ms each, seconds per SBOM), so it is asked for (`enrich --validate`), not run
    by default."""
    from jsonschema.validators import extend

    base = validator(version)._validator
    checker = extend(type(base), {"uniqueItems": _unique_items})
    return checker(base.schema, registry=base._registry,
                   format_checker=base.format_checker if strict else None)


def structural_validator(version: str) -> Any:
    """The schema without `format` checks (`schema_validator(version)`)."""
    return schema_validator(version)


def checked_part(doc: dict[str, Any], limit: int) -> tuple[dict[str, Any], bool]:
    """What a schema check of `doc` covers: `doc` itself, or, when it holds more than `limit`
    components, a copy holding only the first `limit` of them (in `walk_tree` order, nesting
    kept) and True. Iterative, like `walk_tree`."""
    kept = walk_tree(doc, metadata=False, limit=limit + 1)
    if len(kept) <= limit:
        return doc, False
    wanted = {id(comp) for comp, _, _ in kept[:limit]}
    part = dict(doc)
    part["components"] = []
    stack: list[tuple[list[Any], list[Any]]] = [(doc["components"], part["components"])]
    while stack:
        items, copies = stack.pop()
        for item in items:
            if isinstance(item, dict) and id(item) in wanted:
                copy = dict(item)
                if isinstance(item.get("components"), list):
                    copy["components"] = []
                    stack.append((item["components"], copy["components"]))
                copies.append(copy)
    return part, True


def _schema_problems(doc: dict[str, Any], version: str, source: str, strict: bool
                     ) -> list[Problem]:
    """The input's own schema violations (against its declared version), as problems: the
    structure only, or with `strict` also every `format` (URLs, e-mail addresses, dates). Past
    `MAX_CHECKED` components only the first ones are checked, and a problem says so."""
    part, cut = checked_part(doc, MAX_CHECKED)
    out = [_problem(source, f"more than {MAX_CHECKED} components: the CycloneDX {version} "
                            f"schema check covered the first {MAX_CHECKED}", ProblemKind.LIMIT)
           ] if cut else []
    try:
        errors = list(itertools.islice(schema_validator(version, strict).iter_errors(part),
                                       MAX_MESSAGES))
    except Exception as exc:  # RecursionError on deep nesting, a validator bug: not fatal
        return [*out, _problem(source, f"CycloneDX {version} schema check failed: {exc}",
                               ProblemKind.ERROR)]
    for error in errors:
        where = "/".join(str(p) for p in getattr(error, "absolute_path", ())) or "(document)"
        message = getattr(error, "message", str(error))
        out.append(_problem(source, f"CycloneDX {version} schema: {message[:300]}",
                            at=f"#{where}"))
    return out


def _xml_text(el: Any, tag: str) -> str | None:
    text = el.findtext(tag)
    return text.strip() if isinstance(text, str) and text.strip() else None


def _xml_components(root: Any, ns: str, limit: int | None) -> list[tuple[dict[str, Any], str]]:
    """Every <component> in document order as a thin CycloneDX dict, with its location. The
    fallback when the library cannot read a document, and the key to where its sorted model's
    components are in the source."""
    out: list[tuple[dict[str, Any], str]] = []
    q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
    for i, comp in enumerate(root.iter(q("component"))):
        if limit is not None and i >= limit:
            break
        item: dict[str, Any] = {"type": comp.get("type") or "library"}
        for key in ("group", "name", "version", "purl", "publisher", "cpe"):
            value = _xml_text(comp, q(key))
            if value:
                item[key] = value
        item["name"] = item.get("name") or ""
        supplier = comp.find(q("supplier"))
        name = _xml_text(supplier, q("name")) if supplier is not None else None
        if name:
            item["supplier"] = {"name": name}
        if comp.get("bom-ref"):
            item["bom-ref"] = comp.get("bom-ref")
        out.append((item, f"#component[{i}]"))
    return out


def _xml_key(comp: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(comp.get(k) or "") for k in ("group", "name", "version", "purl"))


def walk(doc: dict[str, Any], metadata: bool = True) -> list[tuple[dict[str, Any], str]]:
    """Every component dict of a CycloneDX dict with its path in it (`#components[1]`,
    `#components[1].components[0]`, `#metadata.component`), at most `MAX_COMPONENTS`."""
    return [(comp, path) for comp, path, _ in walk_tree(doc, metadata, MAX_COMPONENTS)]


def walk_tree(doc: dict[str, Any], metadata: bool = True, limit: int | None = None
              ) -> list[tuple[dict[str, Any], str, str | None]]:
    """(component dict, its path, its parent's path or None) for every component: metadata's
    first, then each `components` list whole before the lists nested in it. Iterative: a
    hostile document nested hundreds of levels deep is walked like a flat one."""
    out: list[tuple[dict[str, Any], str, str | None]] = []
    meta = doc.get("metadata")
    if metadata and isinstance(meta, dict) and isinstance(meta.get("component"), dict):
        out.append((meta["component"], "#metadata.component", None))
    stack: list[tuple[Any, str, str | None]] = [(doc.get("components"), "#components", None)]
    while stack and (limit is None or len(out) < limit):
        items, where, parent = stack.pop()
        children = []
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            if limit is not None and len(out) >= limit:
                break
            path = f"{where}[{i}]"
            out.append((item, path, parent))
            if isinstance(item.get("components"), list):
                children.append((item["components"], f"{path}.components", path))
        stack.extend(reversed(children))
    return out


def _cdx_xml(data: bytes, source: str, scan: bool) -> SbomInput:
    from defusedxml import DefusedXmlException, ElementTree

    try:
        root = ElementTree.fromstring(data)
    except DefusedXmlException as exc:  # entities, DTDs: billion laughs, external entities
        raise SbomError(f"{source}: XML refused: {exc!r}", ProblemKind.UNSAFE) from None
    except Exception as exc:  # ParseError
        raise SbomError(f"{source}: not well-formed XML: {exc}") from None
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    version = ns.rsplit("/", 1)[-1]
    if root.tag.rsplit("}", 1)[-1] != "bom" or not ns.startswith("http://cyclonedx.org/schema/bom"):
        raise SbomError(f"{source}: XML root is not a CycloneDX <bom>")
    problems: list[Problem] = []
    fallback = None
    if version not in CDX_VERSIONS:
        if not scan:
            raise SbomError(f"{source}: CycloneDX XML {version} is not supported (1.2 to 1.6)")
        fallback = f"CycloneDX XML {version} is not supported (1.2 to 1.6)"
    elif len(data) > MAX_LIBRARY:
        fallback = f"CycloneDX XML larger than {MAX_LIBRARY >> 20} MiB"
    if fallback is None:
        try:
            from cyclonedx.schema import SchemaVersion
            from cyclonedx.validation.xml import XmlValidator

            error = XmlValidator(SchemaVersion.from_version(version)).validate_str(
                data.decode("utf-8", "replace"))
            if error is not None:
                problems.append(_problem(source, f"CycloneDX XML {version} schema: {error}"))
        except Exception as exc:  # lxml missing or the validator refused: not fatal
            problems.append(_problem(source, f"XML schema check skipped: {exc}",
                                     ProblemKind.TOOL_MISSING))
        try:
            from cyclonedx.model.bom import Bom
            from cyclonedx.output.json import JsonV1Dot6

            with warnings.catch_warnings():  # deprecations of the input's spec: not news
                warnings.simplefilter("ignore")
                bom = Bom.from_xml(root)  # type: ignore[attr-defined]
                doc = json.loads(JsonV1Dot6(bom).output_as_string())
            if not isinstance(doc, dict):
                raise ValueError("no document")
        except Exception as exc:
            if not scan:
                raise SbomError(f"{source}: CycloneDX XML could not be read: {exc}") from None
            fallback = f"cyclonedx-python-lib could not read it ({exc})"
    limit = MAX_COMPONENTS if scan else None
    if fallback is not None:  # scan mode: the components the XML names, read directly
        problems.append(_problem(source, f"{fallback}: components read without the library",
                                 ProblemKind.LIMIT if "MiB" in fallback else ProblemKind.CORRUPT))
        found = _xml_components(root, ns, limit)
        doc = {"bomFormat": "CycloneDX", "specVersion": SPEC, "version": 1,
               "components": [item for item, _ in found]}
        locations = {}
        for n, (item, where) in enumerate(found):
            item["bom-ref"] = ref = str(item.get("bom-ref") or f"provenance-xml-{n}")
            locations[ref] = where
        return SbomInput(doc, f"CycloneDX XML {version}", tuple(problems), "CycloneDX",
                         version, locations)
    # the model keeps components sorted: find each one's place in the document again
    by_ref: dict[str, str] = {}
    by_key: dict[tuple[str, ...], list[str]] = {}
    for item, where in _xml_components(root, ns, limit):
        if item.get("bom-ref"):
            by_ref.setdefault(str(item["bom-ref"]), where)
        else:
            by_key.setdefault(_xml_key(item), []).append(where)
    locations = {}
    for comp, _ in walk(doc):
        ref = str(comp.get("bom-ref") or "")
        place = by_ref.get(ref) or next(iter(by_key.get(_xml_key(comp)) or []), None)
        if place and ref:
            locations[ref] = place
            if ref not in by_ref:
                by_key[_xml_key(comp)].remove(place)
    return SbomInput(doc, f"CycloneDX XML {version}", tuple(problems), "CycloneDX",
                     version, locations)


# -- SPDX 2.x -------------------------------------------------------------------------------

# SPDX checksum algorithm -> CycloneDX hash alg (the rest become properties)
_HASH_ALGS = {
    "MD5": "MD5", "SHA1": "SHA-1", "SHA256": "SHA-256", "SHA384": "SHA-384",
    "SHA512": "SHA-512", "SHA3-256": "SHA3-256", "SHA3-384": "SHA3-384", "SHA3-512": "SHA3-512",
    "BLAKE2b-256": "BLAKE2b-256", "BLAKE2b-384": "BLAKE2b-384", "BLAKE2b-512": "BLAKE2b-512",
    "BLAKE3": "BLAKE3",
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
# SPDX primaryPackagePurpose -> CycloneDX component type
_PURPOSE = {
    "APPLICATION": "application", "FRAMEWORK": "framework", "LIBRARY": "library",
    "CONTAINER": "container", "OPERATING-SYSTEM": "operating-system", "DEVICE": "device",
    "FIRMWARE": "firmware", "FILE": "file", "PLATFORM": "platform",
    "OPERATING_SYSTEM": "operating-system",
}
# relationships that mean "source depends on target" / "target depends on source"
_DEPENDS = {"DEPENDS_ON"}
_DEPENDENCY_OF = {"DEPENDENCY_OF", "RUNTIME_DEPENDENCY_OF", "BUILD_DEPENDENCY_OF",
                  "DEV_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF", "PROVIDED_DEPENDENCY_OF",
                  "TEST_DEPENDENCY_OF"}
_NOASSERTION = ("NOASSERTION", "NONE", "")
_ACTOR = re.compile(r"^\s*(Person|Organization|Tool)\s*:\s*(.*?)\s*(?:\(([^()]*)\))?\s*$")


def actor(text: Any) -> tuple[str, str | None, str | None] | None:
    """('Organization', 'Acme Ltd.', 'psirt@acme.example') from an SPDX actor string."""
    if not isinstance(text, str) or text.strip().upper() in _NOASSERTION:
        return None
    found = _ACTOR.match(text)
    if not found:
        return ("Organization", text.strip(), None)
    name = found.group(2).strip()
    if name.upper() in _NOASSERTION:
        return None
    return found.group(1), name, (found.group(3) or "").strip() or None


def _is_url(text: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://\S+$", text, re.I))


def _spdx_element(item: dict[str, Any], kind: str) -> dict[str, Any]:
    """One SPDX package or file as a CycloneDX component, every field kept somewhere."""
    spdx_id = str(item.get("SPDXID", ""))
    purpose = str(item.get("primaryPackagePurpose", "")).upper()
    ctype = "file" if kind == "file" else _PURPOSE.get(purpose, "library")
    name = item.get("fileName") if kind == "file" else item.get("name")
    comp: dict[str, Any] = {"type": ctype, "bom-ref": spdx_id, "name": str(name or spdx_id)}
    props = [_prop("spdx-id", spdx_id)]
    if item.get("versionInfo"):
        comp["version"] = str(item["versionInfo"])
    supplier = actor(item.get("supplier"))
    if supplier:
        sup: dict[str, Any] = {"name": supplier[1]}
        if supplier[2]:
            sup["contact"] = [{"email": supplier[2]}] if "@" in supplier[2] else []
            sup["contact"] = sup["contact"] or [{"name": supplier[2]}]
        comp["supplier"] = sup
        props.append(_prop("spdx-supplier", str(item["supplier"])))
    originator = actor(item.get("originator"))
    if originator:
        author: dict[str, Any] = {"name": originator[1]}
        if originator[2] and "@" in originator[2]:
            author["email"] = originator[2]
        comp["authors"] = [author]
        props.append(_prop("spdx-originator", str(item["originator"])))
    hashes = []
    for checksum in _items(item.get("checksums")):
        if not isinstance(checksum, dict):
            continue
        alg, value = str(checksum.get("algorithm", "")), str(checksum.get("checksumValue", ""))
        cdx_alg = _HASH_ALGS.get(alg)
        if cdx_alg and _HEX.match(value):
            hashes.append({"alg": cdx_alg, "content": value.lower()})
        else:  # CycloneDX has no such algorithm (SHA224, MD4, ADLER32...): keep it as text
            props.append(_prop("spdx-checksum", f"{alg}: {value}"))
    if hashes:
        comp["hashes"] = hashes
    refs: list[dict[str, Any]] = []
    for ref in _items(item.get("externalRefs")):
        if not isinstance(ref, dict):
            continue
        rtype, locator = str(ref.get("referenceType", "")), str(ref.get("referenceLocator", ""))
        if rtype == "purl" and "purl" not in comp:
            comp["purl"] = locator
        elif rtype in ("cpe23Type", "cpe22Type") and "cpe" not in comp:
            comp["cpe"] = locator
        elif _is_url(locator):
            refs.append({"type": "other", "url": locator,
                         "comment": f"SPDX externalRef {ref.get('referenceCategory', '')} "
                                    f"{rtype}"})
        props.append(_prop("spdx-external-ref",
                           f"{ref.get('referenceCategory', '')} {rtype} {locator}"))
    homepage = str(item.get("homepage", ""))
    if _is_url(homepage):
        refs.append({"type": "website", "url": homepage})
    download = str(item.get("downloadLocation", ""))
    if _is_url(download):
        refs.append({"type": "distribution", "url": download})
    elif download.upper() not in _NOASSERTION:
        props.append(_prop("spdx-download-location", download))
    if refs:
        comp["externalReferences"] = refs
    text = item.get("copyrightText")
    if isinstance(text, str) and text.strip().upper() not in _NOASSERTION:
        comp["copyright"] = text.strip()
    licence = item.get("licenseDeclared") or item.get("licenseConcluded")
    if isinstance(licence, str) and licence.upper() not in _NOASSERTION:
        props.append(_prop("spdx-license", licence))
    description = item.get("description") or item.get("summary")
    if isinstance(description, str) and description.strip():
        comp["description"] = description.strip()
    if kind == "package" and item.get("packageFileName"):
        props.append(_prop("spdx-file-name", str(item["packageFileName"])))
    comp["properties"] = props
    return comp


def spdx2_to_cdx(doc: dict[str, Any], source: str, limit: int | None = None,
                 locations: dict[str, str] | None = None
                 ) -> tuple[dict[str, Any], list[Problem]]:
    """An SPDX 2.x JSON document (as spdx-tools writes it) as a CycloneDX 1.6 dict: at most
    `limit` packages and files, each one's `#packages[i]` recorded in `locations`."""
    problems: list[Problem] = []
    components: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for kind, key in (("package", "packages"), ("file", "files")):
        items = doc.get(key) or []
        if not isinstance(items, list):
            problems.append(Problem(f"{source}#{key}", Stage.IDENTIFY, f"'{key}' is not a list",
                                    ProblemKind.CORRUPT))
            continue
        if limit is not None and len(components) + len(items) > limit:
            problems.append(Problem(f"{source}#{key}", Stage.IDENTIFY,
                                    f"{len(items)} {key}: only the first "
                                    f"{max(0, limit - len(components))} read", ProblemKind.LIMIT))
            items = items[:max(0, limit - len(components))]
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not item.get("SPDXID"):
                problems.append(Problem(f"{source}#{key}[{i}]", Stage.IDENTIFY,
                                        f"SPDX {kind} without SPDXID: skipped",
                                        ProblemKind.CORRUPT))
                continue
            comp = _spdx_element(item, kind)
            if comp["bom-ref"] in by_id:
                problems.append(Problem(f"{source}#{key}[{i}]", Stage.IDENTIFY,
                                        f"duplicate SPDXID {comp['bom-ref']}: kept once",
                                        ProblemKind.CORRUPT))
                continue
            by_id[comp["bom-ref"]] = comp
            components.append(comp)
            if locations is not None:
                locations[comp["bom-ref"]] = f"#{key}[{i}]"
    root_ref = str(doc.get("SPDXID") or "SPDXRef-DOCUMENT")
    root: dict[str, Any] = {"type": "application", "bom-ref": root_ref,
                            "name": str(doc.get("name") or root_ref),
                            "properties": [_prop("spdx-id", root_ref),
                                           _prop("spdx-version", str(doc.get("spdxVersion")))]}
    if doc.get("documentNamespace"):
        root["properties"].append(_prop("spdx-namespace", str(doc["documentNamespace"])))
    edges: dict[str, list[str]] = {}
    for i, rel in enumerate(_items(doc.get("relationships"))):
        if not isinstance(rel, dict):
            continue
        src, kind = str(rel.get("spdxElementId", "")), str(rel.get("relationshipType", ""))
        dst = str(rel.get("relatedSpdxElement", ""))
        holder = root if src == root_ref else by_id.get(src)
        if holder is None:
            problems.append(Problem(f"{source}#relationships[{i}]", Stage.IDENTIFY,
                                    f"relationship from unknown element {src}",
                                    ProblemKind.CORRUPT))
            holder = root
        holder["properties"].append(_prop("spdx-relationship", f"{src} {kind} {dst}"))
        if kind in _DEPENDS or (kind == "DESCRIBES" and src == root_ref):
            a, b = src, dst
        elif kind in _DEPENDENCY_OF:
            a, b = dst, src
        else:
            continue
        if (a == root_ref or a in by_id) and b in by_id:
            edges.setdefault(a, [])
            if b not in edges[a]:
                edges[a].append(b)
    for spdx_id in map(str, _items(doc.get("documentDescribes"))):  # SPDX 2.2 JSON's DESCRIBES form
        if spdx_id in by_id and spdx_id not in edges.get(root_ref, []):
            edges.setdefault(root_ref, []).append(spdx_id)
            root["properties"].append(_prop("spdx-relationship",
                                            f"{root_ref} DESCRIBES {spdx_id}"))
    raw_info = doc.get("creationInfo")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    metadata: dict[str, Any] = {"component": root}
    if info.get("created"):
        metadata["timestamp"] = str(info["created"])
    creators = [c for c in (actor(x) for x in _items(info.get("creators"))) if c]
    if creators:
        metadata["tools"] = {"components": [
            {"type": "application", "name": name} for kind, name, _ in creators
            if kind == "Tool"]}
        people = [{"name": name, **({"email": mail} if mail and "@" in mail else {})}
                  for kind, name, mail in creators if kind != "Tool"]
        if people:
            metadata["authors"] = people
    out: dict[str, Any] = {
        "$schema": SCHEMA, "bomFormat": "CycloneDX", "specVersion": SPEC, "version": 1,
        "metadata": metadata, "components": components,
        "dependencies": [{"ref": ref, "dependsOn": deps} for ref, deps in edges.items()],
    }
    return out, problems


def _spdx2(lenient: dict[str, Any], payload: str | dict[str, Any], size: int, kind: str,
           source: str, scan: bool) -> SbomInput:
    """An SPDX 2 document read from spdx-tools' model when it parses, else leniently."""
    doc, problems = _spdx_tools_read(payload, size, kind, source)
    if doc is None:
        doc = lenient
        if problems and problems[0].kind != ProblemKind.LIMIT:
            problems.append(_problem(source, "SPDX: spdx-tools could not read the document: "
                                             "read leniently"))
    locations: dict[str, str] = {}
    out, more = spdx2_to_cdx(doc, source, MAX_COMPONENTS if scan else None, locations)
    if kind == "tv":  # tag-value has no arrays: the n-th package, the n-th file
        locations = {k: v.replace("#packages[", "#package[").replace("#files[", "#file[")
                     for k, v in locations.items()}
    version = str(lenient.get("spdxVersion") or doc.get("spdxVersion") or "SPDX")
    name = f"{version} {'JSON' if kind == 'json' else 'tag-value'}"
    return SbomInput(out, name, tuple(problems + more), "SPDX", version, locations)


def _spdx_tools_read(payload: str | dict[str, Any], size: int, kind: str, source: str
                     ) -> tuple[dict[str, Any] | None, list[Problem]]:
    """spdx-tools' reading of a document (JSON dict or tag-value text) as the SPDX JSON dict its
    writer would produce, with its parse and validation messages; None when it cannot read it."""
    if size > MAX_LIBRARY:
        return None, [_problem(source, f"SPDX larger than {MAX_LIBRARY >> 20} MiB: not "
                                       "read with spdx-tools", ProblemKind.LIMIT)]
    document, problems = _spdx_tools_parse(payload, kind, source)
    if document is None:
        return None, problems
    try:
        from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
        from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

        for message in validate_full_spdx_document(document)[:MAX_MESSAGES]:
            problems.append(_problem(source, f"SPDX: {message.validation_message}"))
        doc = DocumentConverter().convert(document)
    except Exception as exc:  # the model holds what the converter cannot write
        problems.append(_problem(source, f"SPDX: spdx-tools could not convert it: {exc}"))
        return None, problems
    return (doc if isinstance(doc, dict) else None), problems


def _spdx_tools_parse(payload: str | dict[str, Any], kind: str, source: str
                      ) -> tuple[Any, list[Problem]]:
    from spdx_tools.spdx.parser.error import SPDXParsingError

    try:
        if isinstance(payload, dict):
            from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import (
                JsonLikeDictParser,
            )

            return JsonLikeDictParser().parse(payload), []
        from ply import yacc
        from spdx_tools.spdx.parser.tagvalue.parser import Parser

        # no parse tables written next to the code, no "Generating LALR tables" on stderr
        quiet = Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger())
        return quiet.parse(payload), []
    except SPDXParsingError as exc:
        return None, [_problem(source, f"SPDX: {m}") for m in exc.get_messages()[:MAX_MESSAGES]]
    except Exception as exc:  # the parsers raise plain errors on some malformed input
        return None, [_problem(source, f"SPDX: {exc}")]


# tag-value keys of a package or file, by their SPDX JSON names
_TV_PACKAGE = {
    "SPDXID": "SPDXID", "PackageVersion": "versionInfo", "PackageFileName": "packageFileName",
    "PackageSupplier": "supplier", "PackageOriginator": "originator",
    "PackageDownloadLocation": "downloadLocation", "PackageHomePage": "homepage",
    "PackageCopyrightText": "copyrightText", "PackageLicenseDeclared": "licenseDeclared",
    "PackageLicenseConcluded": "licenseConcluded", "PackageSummary": "summary",
    "PackageDescription": "description", "PrimaryPackagePurpose": "primaryPackagePurpose",
}
_TV_FILE = {"SPDXID": "SPDXID", "FileCopyrightText": "copyrightText",
            "LicenseConcluded": "licenseConcluded"}


def tagvalue_to_json(text: str) -> dict[str, Any]:
    """SPDX tag-value as the SPDX JSON shape, leniently: what a strict parser refuses is kept."""
    doc: dict[str, Any] = {"packages": [], "files": [], "relationships": []}
    current: dict[str, Any] | None = None
    table: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        key, sep, value = line.partition(":")
        if not sep or line.startswith("#"):
            continue
        key, value = key.strip(), value.strip()
        if value.startswith("<text>"):  # multi-line values
            parts = [value[len("<text>"):]]
            while "</text>" not in parts[-1] and i < len(lines):
                parts.append(lines[i])
                i += 1
            value = "\n".join(parts).split("</text>", 1)[0].strip()
        if key == "PackageName":
            current, table = {"name": value}, _TV_PACKAGE
            doc["packages"].append(current)
        elif key == "FileName":
            current, table = {"fileName": value}, _TV_FILE
            doc["files"].append(current)
        elif key == "SPDXVersion":
            doc["spdxVersion"] = value
        elif key == "DocumentName":
            doc["name"] = value
        elif key == "DocumentNamespace":
            doc["documentNamespace"] = value
        elif key == "SPDXID" and current is None:
            doc["SPDXID"] = value
        elif key in ("Creator", "Created"):
            info = doc.setdefault("creationInfo", {"creators": []})
            if key == "Creator":
                info["creators"].append(value)
            else:
                info["created"] = value
        elif key == "Relationship":
            parts = value.split()
            if len(parts) >= 3:
                doc["relationships"].append({"spdxElementId": parts[0],
                                             "relationshipType": parts[1],
                                             "relatedSpdxElement": parts[2]})
        elif current is not None and key in ("PackageChecksum", "FileChecksum"):
            alg, _, digest = value.partition(":")
            current.setdefault("checksums", []).append(
                {"algorithm": alg.strip(), "checksumValue": digest.strip()})
        elif current is not None and key == "ExternalRef":
            parts = value.split(None, 2)
            if len(parts) == 3:
                current.setdefault("externalRefs", []).append(
                    {"referenceCategory": parts[0], "referenceType": parts[1],
                     "referenceLocator": parts[2]})
        elif current is not None and key in table:
            current[table[key]] = value
    return doc


def _spdx_tv(text: str, size: int, source: str, scan: bool) -> SbomInput:
    lenient = tagvalue_to_json(text)
    if not lenient.get("spdxVersion"):
        raise SbomError(f"{source}: no SPDXVersion line: not an SPDX tag-value document")
    return _spdx2(lenient, text, size, "tv", source, scan)


# -- SPDX 3.0 (best effort) -----------------------------------------------------------------


def _local(key: str) -> str:
    """'software_packageVersion' / 'software:packageVersion' -> 'packageVersion'."""
    return re.split(r"[_:]", key, maxsplit=1)[-1] if re.match(r"^[a-z]+[_:]", key) else key


def spdx3_to_cdx(doc: dict[str, Any], source: str, limit: int | None = None,
                 locations: dict[str, str] | None = None
                 ) -> tuple[dict[str, Any], list[Problem]]:
    """SPDX 3.0 JSON-LD (the release's and spdx-tools' prototype's spellings) as SPDX 2-ish,
    then as CycloneDX; each component's `#@graph[i]` recorded in `locations`."""
    graph = doc.get("@graph")
    if not isinstance(graph, list):
        raise SbomError(f"{source}: SPDX 3 JSON-LD without an @graph array")
    elements: dict[str, dict[str, Any]] = {}
    plain: list[dict[str, Any]] = []
    for index, el in enumerate(graph):
        if isinstance(el, dict):
            flat = {_local(k): v for k, v in el.items()}
            flat["graph_index"] = index
            flat["kind"] = _local(str(el.get("type") or el.get("@type") or ""))
            flat["id"] = str(el.get("spdxId") or el.get("@id") or "")
            elements[flat["id"]] = flat
            plain.append(flat)

    def agent(refs: Any) -> str | None:
        for ref in refs if isinstance(refs, list) else [refs]:
            el = elements.get(str(ref)) if isinstance(ref, str) else ref
            if isinstance(el, dict) and el.get("name"):
                mails = [x.get("identifier") for x in _items(el.get("externalIdentifier"))
                         if isinstance(x, dict) and x.get("externalIdentifierType") == "email"]
                kind = "Person" if _local(str(el.get("kind", ""))) == "Person" else "Organization"
                return f"{kind}: {el['name']}" + (f" ({mails[0]})" if mails else "")
        return None

    spdx2: dict[str, Any] = {"packages": [], "files": [], "relationships": [],
                             "spdxVersion": "SPDX-3.0", "SPDXID": "SPDXRef-DOCUMENT"}
    ids: dict[str, str] = {}
    at: dict[str, str] = {}
    for el in plain:
        if el["kind"] in ("Package", "File"):
            short = el["id"].rsplit("#", 1)[-1] or el["id"]
            ids[el["id"]] = short
            at.setdefault(short, f"#@graph[{el['graph_index']}]")
            item: dict[str, Any] = {"SPDXID": short}
            item["name" if el["kind"] == "Package" else "fileName"] = el.get("name")
            item["versionInfo"] = el.get("packageVersion")
            item["supplier"] = agent(el.get("suppliedBy"))
            item["originator"] = agent(el.get("originatedBy"))
            item["homepage"] = el.get("homePage") or el.get("homepage")
            item["downloadLocation"] = el.get("downloadLocation")
            item["copyrightText"] = el.get("copyrightText")
            item["checksums"] = [
                {"algorithm": str(h.get("algorithm", "")).upper().replace("SHA3_", "SHA3-"),
                 "checksumValue": h.get("hashValue")}
                for h in _items(el.get("verifiedUsing")) if isinstance(h, dict)]
            refs = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                     "referenceLocator": el["packageUrl"]}] if el.get("packageUrl") else []
            for x in _items(el.get("externalIdentifier")):
                if isinstance(x, dict):
                    rtype = {"cpe23": "cpe23Type", "cpe22": "cpe22Type",
                             "packageUrl": "purl"}.get(str(x.get("externalIdentifierType")),
                                                       str(x.get("externalIdentifierType")))
                    refs.append({"referenceCategory": "OTHER", "referenceType": rtype,
                                 "referenceLocator": x.get("identifier")})
            item["externalRefs"] = refs
            spdx2["packages" if el["kind"] == "Package" else "files"].append(
                {k: v for k, v in item.items() if v not in (None, [], "")})
        elif el["kind"] == "SpdxDocument":
            spdx2["name"] = el.get("name")
    for el in plain:
        if el["kind"].endswith("Relationship"):  # and SoftwareDependencyRelationship
            src = el.get("from")
            src_id = "SPDXRef-DOCUMENT" if elements.get(str(src), {}).get("kind") == \
                "SpdxDocument" else ids.get(str(src), str(src))
            to = el.get("to")
            targets: list[Any] = to if isinstance(to, list) else [to]
            for dst in targets:
                spdx2["relationships"].append({
                    "spdxElementId": src_id,
                    "relationshipType": re.sub(r"(?<!^)([A-Z])", r"_\1",
                                               str(el.get("relationshipType"))).upper(),
                    "relatedSpdxElement": ids.get(str(dst), str(dst))})
    out, problems = spdx2_to_cdx(spdx2, source, limit, locations)
    if locations is not None:
        locations.update((ref, at[ref]) for ref in locations if ref in at)
    return out, problems


# -- dispatch -------------------------------------------------------------------------------


def read_sbom(path: Path, *, source: str | None = None, scan: bool = False,
              strict: bool = False) -> SbomInput:
    """Read any supported SBOM; `SbomError` when the file is not one. `source` names it in
    problems (default: the file name); `scan` is the identification mode (module docstring);
    `strict` checks CycloneDX JSON against its schema's formats too (`enrich --validate`)."""
    label = str(path) if source is None else source
    source = path.name if source is None else source
    limit = MAX_SCAN_SBOM if scan else MAX_SBOM
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise SbomError(f"{label}: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise SbomError(f"{label}: larger than {limit >> 20} MiB")
    stripped = data.lstrip()
    if stripped[:1] == b"{":
        text = data.decode("utf-8", "replace")
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise SbomError(f"{source}: not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise SbomError(f"{source}: JSON top level is not an object")
        if doc.get("bomFormat") == "CycloneDX":
            return _cdx_json(doc, source, scan, len(data), strict and not scan)
        if "spdxVersion" in doc:
            if not str(doc["spdxVersion"]).startswith("SPDX-2."):
                raise SbomError(f"{source}: spdxVersion {doc['spdxVersion']} is not supported")
            return _spdx2(doc, doc, len(data), "json", source, scan)
        if "@graph" in doc and "spdx.org/rdf" in json.dumps(doc.get("@context", ""))[:100000]:
            locations: dict[str, str] = {}
            out, problems = spdx3_to_cdx(doc, source, MAX_COMPONENTS if scan else None,
                                         locations)
            return SbomInput(out, "SPDX 3.0 JSON-LD", tuple(problems), "SPDX", "SPDX-3.0",
                             locations)
        raise SbomError(f"{source}: JSON but not an SBOM (no bomFormat \"CycloneDX\", "
                        "no spdxVersion, no SPDX 3 @context)")
    if stripped[:1] == b"<":
        return _cdx_xml(data, source, scan)
    text = data.decode("utf-8", "replace")
    if re.search(r"^SPDXVersion:\s*SPDX-2\.", text[:65536], re.M):
        return _spdx_tv(text, len(data), source, scan)
    raise SbomError(f"{source}: not an SBOM (expected CycloneDX JSON/XML or SPDX JSON/"
                    "tag-value/JSON-LD)")
