"""Load and check the signature set: vendors, YARA rules and policies (DESIGN §5).

The built-in set ships as package data (`provenance.signatures`, the top-level `signatures/`
directory of the source tree); `--signatures DIR` adds directories with the same layout. A set
that does not pass its checks cannot give a verdict (exit code 3).

This module holds the types and the hard checks of `load`; the package also has `lint` (the
soft checks, one class each), `samples` (each rule's samples, specified beside it), `docs`
(listing and README tables) and `compile` (the one place YARA rules are compiled).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from provenance.model import Manufacturer, Relationship, Verdict

RULE_META = {"id", "vendor", "relationship", "confidence", "component", "description", "reference"}
RULE_META_OPTIONAL = {"version_regex", "weak"}
VENDOR_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
# identity marks read in context by attribute/marks.py
MARK_KINDS = ("names", "cxx", "java", "module", "api", "config", "build", "firmware")
NAMESPACE_ECOSYSTEMS = {"pypi", "npm", "maven", "android", "go", "ios"}  # `lint` checks them
SAMPLE_SPEC_SUFFIX = ".samples.yml"


class SignatureError(Exception):
    """The signature set is invalid: no verdict is possible."""


@dataclass(frozen=True, slots=True)
class Sourced:
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class Vendor:
    id: str
    name: str
    country: str | None
    parent: str | None
    legal_names: tuple[Sourced, ...] = ()
    aliases: tuple[Sourced, ...] = ()  # names as seen in binaries and certificates
    signers: tuple[Sourced, ...] = ()  # code-signing subjects (O or CN)
    usb_ids: tuple[Sourced, ...] = ()
    pci_ids: tuple[Sourced, ...] = ()
    ouis: tuple[Sourced, ...] = ()
    domains: tuple[Sourced, ...] = ()  # e-mail and web domains
    # the vendor field NVD's CPE dictionary uses for this maker ("dahuasecurity"): the hint
    # `enrich --fill-supplier` writes for CVE matchers
    cpe_vendors: tuple[Sourced, ...] = ()
    namespaces: dict[str, tuple[Sourced, ...]] = field(default_factory=dict)  # pypi, npm, ...
    marks: dict[str, tuple[Sourced, ...]] = field(default_factory=dict)  # attribute/marks.py
    path: str = ""
    country_source: str | None = None  # source key of the country fact
    parent_source: str | None = None  # source key of the parent fact
    ownership: str = ""  # dated ownership history, citing [source] keys
    notes: str = ""  # false friends and caveats, citing [source] keys
    sources: dict[str, str] = field(default_factory=dict)  # source key -> citation

    def maker(self) -> Manufacturer:
        """How a report names this vendor as a component's manufacturer."""
        return Manufacturer(self.id, self.name, self.country, self.parent)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    vendor: str
    relationship: Relationship
    confidence: float
    component: str
    description: str
    reference: str
    path: Path
    version_regex: str | None = None
    weak: bool = False  # a name-only rule: can never outvote structural evidence


@dataclass(frozen=True, slots=True)
class PolicyEntity:
    entity: str
    vendors: tuple[str, ...]
    in_force: str
    source: str
    scope: str = ""
    affiliates: bool = True  # subsidiaries and affiliates follow the vendor catalog's parents
    until: str | None = None
    citations: tuple[str, ...] = ()  # "key: citation" for each [key] the source names
    # the highest level this entry may give: "review" for a link to a listed company that is
    # reported but not confirmed (Sanechips as ZTE Microelectronics)
    at_most: Verdict = Verdict.RESTRICTED


@dataclass(frozen=True, slots=True)
class Threshold:
    relationships: tuple[Relationship, ...]
    min_confidence: float


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str
    jurisdiction: str
    source: str
    entities: tuple[PolicyEntity, ...]
    restricted: Threshold
    review: Threshold
    notes: str = ""
    path: str = ""


@dataclass(frozen=True, slots=True)
class SignatureSet:
    vendors: dict[str, Vendor]
    rules: tuple[Rule, ...]
    policies: dict[str, Policy]
    digest: str
    directories: tuple[Path, ...]
    # evidence kind -> confidence measured on labelled corpora (calibration.yml)
    calibration: dict[str, float] = field(default_factory=dict)
    # evidence kind -> (the most its confidence may be, why): calibration.yml `ceilings:`
    ceilings: dict[str, tuple[float, str]] = field(default_factory=dict)

    def family(self, vendor: str) -> tuple[str, ...]:
        """The vendor and its parents, nearest first (`hisilicon` -> `hisilicon`, `huawei`)."""
        chain: list[str] = []
        current: str | None = vendor
        while current and current not in chain:
            chain.append(current)
            current = self.vendors[current].parent if current in self.vendors else None
        return tuple(chain)


def builtin_dir() -> Path:
    """The built-in set: the source tree's `signatures/` beside this package when there is one
    (a checkout, editable or not), else the installed package data."""
    source_tree = Path(__file__).resolve().parents[2] / "signatures"  # provenance/signatureset/
    if (source_tree / "vendors").is_dir():
        return source_tree
    return Path(str(resources.files("provenance.signatures")))


# -- reading ---------------------------------------------------------------------------------


# libyaml's safe loader when PyYAML has it (its wheels do): 10x faster, and the signature set is
# read at the start of every scan, before any other work can overlap it
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise SignatureError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SignatureError(f"{path}: expected a mapping at the top level")
    return data


def _sourced(
    path: Path, data: dict[str, Any], key: str, sources: dict[str, Any]
) -> tuple[Sourced, ...]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise SignatureError(f"{path}: {key} must be a list")
    out = []
    for item in items:
        if not isinstance(item, dict) or not item.get("value") or not item.get("source"):
            raise SignatureError(f"{path}: every {key} entry needs a value and a source")
        if str(item["source"]) not in sources:
            raise SignatureError(f"{path}: {key} {item['value']!r}: source {item['source']!r} "
                                 "is not in this file's sources")
        out.append(Sourced(str(item["value"]), str(item["source"])))
    return tuple(out)


def load_vendor(path: Path) -> Vendor:
    data = _yaml(path)
    vid = data.get("id")
    if not isinstance(vid, str) or not VENDOR_ID.match(vid):
        raise SignatureError(f"{path}: vendor id must be lowercase words joined by hyphens")
    if vid != path.stem:
        raise SignatureError(f"{path}: file name must be the vendor id ({vid}.yml)")
    country = data.get("country")
    if country is not None and not (isinstance(country, str) and COUNTRY.match(country)):
        raise SignatureError(f"{path}: country must be an ISO 3166-1 alpha-2 code")
    if not data.get("name"):
        raise SignatureError(f"{path}: name is required")
    sources = data.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise SignatureError(f"{path}: sources must map each source key to its citation")
    namespaces = data.get("namespaces") or {}
    if not isinstance(namespaces, dict):
        raise SignatureError(f"{path}: namespaces must map an ecosystem to a list")
    known = {"id", "name", "country", "parent", "legal_names", "aliases", "signers", "usb_ids",
             "pci_ids", "ouis", "domains", "cpe_vendors", "namespaces", "notes", "sources",
             "ownership", "country_source", "parent_source", "marks"}
    unknown = set(data) - known
    if unknown:
        raise SignatureError(f"{path}: unknown keys {sorted(unknown)}")
    marks = data.get("marks") or {}
    if not isinstance(marks, dict) or set(marks) - set(MARK_KINDS):
        raise SignatureError(f"{path}: marks must map a kind ({', '.join(MARK_KINDS)}) to a list")
    fact_sources: dict[str, str | None] = {}
    for fact in ("country", "parent"):
        src = data.get(f"{fact}_source")  # optional here; `signatures lint` requires it
        if src is not None and str(src) not in sources:
            raise SignatureError(f"{path}: {fact}_source {src!r} is not in this file's sources")
        fact_sources[fact] = str(src) if src is not None else None
    return Vendor(
        id=vid,
        name=str(data["name"]),
        country=country,
        parent=data.get("parent"),
        legal_names=_sourced(path, data, "legal_names", sources),
        aliases=_sourced(path, data, "aliases", sources),
        signers=_sourced(path, data, "signers", sources),
        usb_ids=_sourced(path, data, "usb_ids", sources),
        pci_ids=_sourced(path, data, "pci_ids", sources),
        ouis=_sourced(path, data, "ouis", sources),
        domains=_sourced(path, data, "domains", sources),
        cpe_vendors=_sourced(path, data, "cpe_vendors", sources),
        namespaces={eco: _sourced(path, namespaces, eco, sources) for eco in namespaces},
        marks={kind: _sourced(path, marks, kind, sources) for kind in marks},
        path=str(path),
        country_source=fact_sources["country"],
        parent_source=fact_sources["parent"],
        ownership=str(data.get("ownership") or ""),
        notes=str(data.get("notes") or ""),
        sources={str(k): str(v) for k, v in sources.items()},
    )


_META = re.compile(r"^\s*(\w+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|-?[\d.]+|true|false)\s*$", re.M)
_RULE = re.compile(r"^\s*(?:private\s+|global\s+)*rule\s+(\w+)", re.M)


def load_rule(path: Path) -> Rule:
    """Read one rule file's meta. The file must hold exactly one rule named after the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SignatureError(f"{path}: {exc}") from exc
    names = _RULE.findall(text)
    if names != [path.stem]:
        raise SignatureError(f"{path}: must hold exactly one rule, named {path.stem}")
    meta_block = text.split("meta:", 1)[-1].split("strings:", 1)[0].split("condition:", 1)[0]
    meta: dict[str, str] = {}
    for key, raw in _META.findall(meta_block):
        meta[key] = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
    missing = RULE_META - set(meta)
    extra = set(meta) - RULE_META - RULE_META_OPTIONAL
    if missing or extra:
        raise SignatureError(
            f"{path}: closed meta keys; missing {sorted(missing)}, unknown {sorted(extra)}"
        )
    try:
        relationship = Relationship(meta["relationship"])
        confidence = float(meta["confidence"])
    except ValueError as exc:
        raise SignatureError(f"{path}: {exc}") from exc
    if not 0 < confidence <= 1:
        raise SignatureError(f"{path}: confidence must be in (0, 1]")
    if meta["id"] != path.stem:
        raise SignatureError(f"{path}: meta id must equal the rule name")
    return Rule(
        id=meta["id"], vendor=meta["vendor"], relationship=relationship, confidence=confidence,
        component=meta["component"], description=meta["description"],
        reference=meta["reference"], path=path, version_regex=meta.get("version_regex"),
        weak=meta.get("weak") == "true",
    )


def _threshold(path: Path, data: dict[str, Any], key: str) -> Threshold:
    block = data.get(key)
    if not isinstance(block, dict):
        raise SignatureError(f"{path}: {key} must be a mapping")
    try:
        rels = tuple(Relationship(r) for r in block.get("relationships", []))
        return Threshold(rels, float(block.get("min_confidence", 0)))
    except ValueError as exc:
        raise SignatureError(f"{path}: {key}: {exc}") from exc


_CITED = re.compile(r"\[([A-Za-z0-9_]+)\]")


def _citations(source: str, sources: dict[str, Any]) -> tuple[str, ...]:
    """`[key]` references of a legal source, resolved through the policy file's `sources` (a
    key the file does not resolve stays in the source text only; the built-in policies resolve
    every key, which a test checks)."""
    return tuple(f"{key}: {sources[key]}" for key in _CITED.findall(source) if key in sources)


def _level(path: Path, item: dict) -> Verdict:
    value = item.get("at_most", "restricted")
    if value not in ("restricted", "review"):
        raise SignatureError(f"{path}: entity {item.get('entity')!r}: at_most must be "
                             "restricted or review")
    return Verdict(value)


def load_policy(path: Path) -> Policy:
    data = _yaml(path)
    pid = data.get("id")
    if pid != path.stem:
        raise SignatureError(f"{path}: policy id must equal the file name")
    sources = data.get("sources") or {}
    if not isinstance(sources, dict):
        raise SignatureError(f"{path}: sources must map each source key to its citation")
    entities = []
    for item in data.get("entities") or []:
        if not isinstance(item, dict):
            raise SignatureError(f"{path}: an entity must be a mapping")
        for key in ("entity", "vendors", "in_force", "source"):
            if not item.get(key):
                raise SignatureError(f"{path}: entity {item.get('entity')!r} needs {key}")
        entities.append(
            PolicyEntity(
                entity=str(item["entity"]),
                vendors=tuple(item["vendors"]),
                in_force=str(item["in_force"]),
                source=str(item["source"]),
                scope=str(item.get("scope", "")),
                affiliates=bool(item.get("affiliates", True)),
                until=str(item["until"]) if item.get("until") else None,
                citations=_citations(str(item["source"]), sources),
                at_most=_level(path, item),
            )
        )
    if not entities:
        raise SignatureError(f"{path}: a policy needs at least one entity")
    for key in ("name", "jurisdiction", "source"):
        if not data.get(key):
            raise SignatureError(f"{path}: {key} is required")
    return Policy(
        id=str(pid), name=str(data["name"]), jurisdiction=str(data["jurisdiction"]),
        source=str(data["source"]), entities=tuple(entities),
        restricted=_threshold(path, data, "restricted"), review=_threshold(path, data, "review"),
        notes=str(data.get("notes", "")), path=str(path),
    )


def load_ceilings(path: Path) -> dict[str, tuple[float, str]]:
    """Evidence kind -> (ceiling, why): the most a kind's calibrated confidence may be."""
    raw = _yaml(path).get("ceilings") or {}
    if not isinstance(raw, dict):
        raise SignatureError(f"{path}: ceilings must map an evidence kind to ceiling and why")
    out: dict[str, tuple[float, str]] = {}
    for kind, row in raw.items():
        value = row.get("ceiling") if isinstance(row, dict) else None
        why = row.get("why") if isinstance(row, dict) else None
        if not isinstance(value, (int, float)) or not 0 < value <= 1 or not why:
            raise SignatureError(f"{path}: ceilings: {kind}: needs a ceiling in (0, 1] and why")
        out[str(kind)] = (float(value), str(why))
    return out


def load_calibration(path: Path) -> dict[str, float]:
    """Evidence kind -> confidence, from `signatures eval --calibration-out` (see README),
    at most the kind's ceiling."""
    data = _yaml(path)
    kinds = data.get("kinds") or {}
    if not isinstance(kinds, dict):
        raise SignatureError(f"{path}: kinds must map an evidence kind to its measurements")
    ceilings = load_ceilings(path)
    out: dict[str, float] = {}
    for kind, row in kinds.items():
        conf = row.get("confidence") if isinstance(row, dict) else None
        if conf is None:
            continue  # measured, but not used to set a confidence
        if not isinstance(conf, (int, float)) or not 0 < conf <= 1:
            raise SignatureError(f"{path}: {kind}: confidence must be in (0, 1]")
        out[str(kind)] = min(float(conf), ceilings.get(str(kind), (1.0, ""))[0])
    return out


def _files(top: Path) -> list[Path]:
    """The files of one signature directory that make the set, in the order they are read."""
    if not top.is_dir():
        raise SignatureError(f"{top}: not a signature directory")
    # a rule's sample spec (`<rule>.samples.yml`, signatureset/samples.py) sits beside it but
    # changes no verdict: it is neither loaded nor part of the digest
    return sorted(p for p in top.rglob("*") if p.suffix in (".yml", ".yar") and p.is_file()
                  and not p.name.endswith(SAMPLE_SPEC_SUFFIX))


def _digested(digest: Any, top: Path, path: Path) -> None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SignatureError(f"{path}: {exc.strerror}") from exc
    digest.update(path.relative_to(top).as_posix().encode() + b"\0" + data)


def digest(extra: tuple[Path, ...] = ()) -> str:
    """The `digest` that `load` gives the same directories, from the files' bytes alone (a
    hundredth of the time: nothing is parsed or checked). What the result cache is keyed on."""
    found = hashlib.sha256()
    for top in (builtin_dir(), *extra):
        for path in _files(top):
            _digested(found, top, path)
    return "sha256:" + found.hexdigest()


def load(extra: tuple[Path, ...] = ()) -> SignatureSet:
    """The built-in set plus `extra` directories (later directories may add, not replace)."""
    dirs = (builtin_dir(), *extra)
    vendors: dict[str, Vendor] = {}
    rules: dict[str, Rule] = {}
    policies: dict[str, Policy] = {}
    calibration: dict[str, float] = {}
    ceilings: dict[str, tuple[float, str]] = {}
    hashed = hashlib.sha256()
    for top in dirs:
        for path in _files(top):
            _digested(hashed, top, path)
            rel = path.relative_to(top).parts
            if rel == ("calibration.yml",):
                calibration.update(load_calibration(path))
                ceilings.update(load_ceilings(path))
            elif rel[0] == "vendors":
                vendor = load_vendor(path)
                if vendor.id in vendors:
                    raise SignatureError(f"{path}: vendor {vendor.id} defined twice")
                vendors[vendor.id] = vendor
            elif rel[0] == "yara":
                rule = load_rule(path)
                if rule.id in rules:
                    raise SignatureError(f"{path}: rule id {rule.id} used twice")
                rules[rule.id] = rule
            elif rel[0] == "policies":
                policy = load_policy(path)
                if policy.id in policies:
                    raise SignatureError(f"{path}: policy {policy.id} defined twice")
                policies[policy.id] = policy
    for vendor in vendors.values():
        if vendor.parent and vendor.parent not in vendors:
            raise SignatureError(f"{vendor.path}: parent {vendor.parent!r} is not a known vendor")
    for rule in rules.values():
        if rule.vendor not in vendors:
            raise SignatureError(f"{rule.path}: vendor {rule.vendor!r} is not a known vendor")
    for policy in policies.values():
        for entity in policy.entities:
            for vid in entity.vendors:
                if vid not in vendors:
                    raise SignatureError(f"{policy.path}: vendor {vid!r} is not a known vendor")
    return SignatureSet(
        vendors=vendors,
        rules=tuple(sorted(rules.values(), key=lambda r: r.id)),
        policies=policies,
        digest="sha256:" + hashed.hexdigest(),
        directories=dirs,
        calibration=calibration,
        ceilings=ceilings,
    )
