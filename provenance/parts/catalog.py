"""The parts catalog: chip families, makers, name patterns, modem USB ids and AT dialects.

Data, not code: one YAML file per maker under `signatures/parts/` (the file's stem is the
maker's vendor id). Every entry names a `source` key that the file's `sources` map resolves to
a citation, as the vendor files and the reference catalog do. `parse` validates one document
(unknown keys, missing or unresolved sources, bad regexes, bad classes and duplicate USB ids are
errors); `load` reads a directory and is the only function here that does I/O.

A document:

    maker: hisilicon                    # must equal the file's stem
    name: "HiSilicon Technologies Co., Ltd."
    sources: {key: "citation", ...}
    dt_prefixes:                        # device-tree vendor prefixes of this maker's SoCs
      - {value: hisilicon, source: key}
    chips:                              # model names; `model` group + `prefix` = the model
      - {family: "...", class: soc, pattern: 'regex', prefix: "Hi", requires: 'regex',
         source: key}
    sdk:                                # SDK version strings naming the chip (`model` group);
      - {pattern: 'regex', anchor: "_MPP_V", class: soc, source: key}  # anchor: a literal
                                        # every match holds, found fast before the regex runs
    modules:                            # kernel-module / firmware names that drive one part
      - {pattern: 'regex (full match, no .ko)', class: pon-dsl, model: null, source: key}
    prompts:                            # U-Boot prompts naming the maker, not the chip
      - {value: "hisilicon # ", class: soc, source: key}
    usb:                                # USB ids of this maker's modules
      - {id: "12d1:1506", class: cellular-modem, model: "E398", source: key}
    usb_vendors:                        # a vendor id whose unknown products are still its modems
      - {id: "12d1", class: cellular-modem, source: key}
    at:                                 # AT commands only this maker's dialect has
      - {command: "AT^NDISDUP", class: cellular-modem, source: key}
    notes: "free text"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from provenance.parts.model import PartClass

USB_ID = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$")
USB_VENDOR = re.compile(r"^[0-9a-f]{4}$")
MAKER_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_PATTERN = 400  # a catalog regex longer than this is a mistake, not a pattern


class CatalogError(ValueError):
    """A parts file that does not follow the schema."""


@dataclass(frozen=True, slots=True)
class Chip:
    maker: str
    family: str
    part_class: PartClass
    pattern: re.Pattern[str]
    source: str
    prefix: str = ""
    requires: re.Pattern[str] | None = None  # the blob or value must also match this

    def model(self, value: str, context: str = "") -> str | None:
        """The model this chip pattern reads in `value`, or None. `context` is what `requires`
        may be found in when `value` itself lacks it (the rest of the blob's text)."""
        match = self.pattern.search(value)
        if not match:
            return None
        if self.requires and not (self.requires.search(value) or self.requires.search(context)):
            return None
        text = match.groupdict().get("model") or match.group(0)
        return self.prefix + text.upper()


@dataclass(frozen=True, slots=True)
class SdkString:
    maker: str
    pattern: re.Pattern[str]
    part_class: PartClass
    source: str
    anchor: str = ""  # lower case; every match holds it


@dataclass(frozen=True, slots=True)
class ModuleName:
    maker: str
    pattern: re.Pattern[str]  # full match on a module or firmware name without extension
    part_class: PartClass
    model: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Prompt:
    maker: str
    value: str
    part_class: PartClass
    source: str


@dataclass(frozen=True, slots=True)
class UsbId:
    maker: str
    id: str  # "12d1:1506"
    part_class: PartClass
    model: str | None
    source: str


@dataclass(frozen=True, slots=True)
class UsbVendor:
    maker: str
    id: str  # "12d1"
    part_class: PartClass
    source: str


@dataclass(frozen=True, slots=True)
class AtCommand:
    maker: str
    command: str  # upper case, "AT^NDISDUP"
    part_class: PartClass
    source: str


@dataclass(frozen=True, slots=True)
class Maker:
    id: str
    name: str
    sources: tuple[tuple[str, str], ...]
    dt_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Catalog:
    makers: tuple[Maker, ...] = ()
    chips: tuple[Chip, ...] = ()
    sdk: tuple[SdkString, ...] = ()
    modules: tuple[ModuleName, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    usb: tuple[UsbId, ...] = ()
    usb_vendors: tuple[UsbVendor, ...] = ()
    at: tuple[AtCommand, ...] = ()
    # the vendor ids of every USB entry: a text naming none of them selects no module
    usb_makers: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        makers = {v.id for v in self.usb_vendors} | {u.id[:4] for u in self.usb}
        object.__setattr__(self, "usb_makers", frozenset(makers))

    def usb_id(self, value: str) -> UsbId | None:
        return next((u for u in self.usb if u.id == value), None)

    def usb_vendor(self, vendor: str) -> UsbVendor | None:
        return next((u for u in self.usb_vendors if u.id == vendor), None)

    def anchors(self) -> tuple[str, ...]:
        """The literals a binary's text sample must keep the runs of (SDK strings)."""
        return tuple(dict.fromkeys(s.anchor for s in self.sdk))

    def dt_maker(self, prefix: str) -> str | None:
        return next((m.id for m in self.makers if prefix in m.dt_prefixes), None)

    def merged(self, other: Catalog) -> Catalog:
        return Catalog(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Catalog)
                         if f.init))


TOP_KEYS = {"maker", "name", "sources", "dt_prefixes", "chips", "sdk", "modules", "prompts",
            "usb", "usb_vendors", "at", "notes"}
ENTRY_KEYS: dict[str, tuple[set[str], set[str]]] = {  # section: (required, optional)
    "dt_prefixes": ({"value", "source"}, {"notes"}),
    "chips": ({"family", "class", "pattern", "source"}, {"prefix", "requires", "notes"}),
    "sdk": ({"pattern", "anchor", "class", "source"}, {"notes"}),
    "modules": ({"pattern", "class", "source"}, {"model", "notes"}),
    "prompts": ({"value", "class", "source"}, {"notes"}),
    "usb": ({"id", "class", "source"}, {"model", "notes"}),
    "usb_vendors": ({"id", "class", "source"}, {"notes"}),
    "at": ({"command", "class", "source"}, {"notes"}),
}


def parse(data: Any, maker_id: str, where: str = "") -> Catalog:
    """Validate one maker's document and build its catalog. Raises CatalogError."""
    where = where or maker_id

    def fail(message: str) -> CatalogError:
        return CatalogError(f"{where}: {message}")

    if not isinstance(data, dict):
        raise fail("expected a mapping at the top level")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    if data.get("maker") != maker_id or not MAKER_ID.match(maker_id):
        raise fail(f"maker must be the file's stem {maker_id!r}, got {data.get('maker')!r}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise fail("name is required")
    sources = data.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise fail("sources is required: a map of key to citation")
    for key, citation in sources.items():
        if not isinstance(citation, str) or not citation.strip():
            raise fail(f"source {key!r} has no citation")

    def entries(section: str) -> list[dict[str, Any]]:
        items = data.get(section) or []
        if not isinstance(items, list):
            raise fail(f"{section} must be a list")
        required, optional = ENTRY_KEYS[section]
        for n, item in enumerate(items):
            label = f"{section}[{n}]"
            if not isinstance(item, dict):
                raise fail(f"{label} must be a mapping")
            missing = required - set(item)
            if missing:
                raise fail(f"{label} lacks {sorted(missing)}")
            extra = set(item) - required - optional
            if extra:
                raise fail(f"{label} has unknown keys {sorted(extra)}")
            if str(item["source"]) not in sources:
                raise fail(f"{label}: source {item['source']!r} is not in this file's sources")
        return items

    def part_class(item: dict[str, Any], label: str) -> PartClass:
        try:
            return PartClass(item["class"])
        except ValueError:
            raise fail(f"{label}: unknown class {item['class']!r}") from None

    def regex(value: Any, label: str) -> re.Pattern[str]:
        if not isinstance(value, str) or not value or len(value) > MAX_PATTERN:
            raise fail(f"{label}: a pattern is a non-empty string of at most {MAX_PATTERN}")
        try:
            return re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise fail(f"{label}: bad regex: {exc}") from None

    def text(value: Any, label: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{label}: expected a non-empty string")
        return value

    def optional_text(value: Any, label: str) -> str | None:
        return None if value is None else text(value, label)

    m = maker_id
    chips = tuple(
        Chip(m, text(c["family"], f"chips[{n}]"), part_class(c, f"chips[{n}]"),
             regex(c["pattern"], f"chips[{n}]"), str(c["source"]), str(c.get("prefix") or ""),
             regex(c["requires"], f"chips[{n}].requires") if c.get("requires") else None)
        for n, c in enumerate(entries("chips")))
    for n, chip in enumerate(chips):
        if "model" in chip.pattern.groupindex:
            continue
        if chip.pattern.groups:
            raise fail(f"chips[{n}]: capture groups other than (?P<model>...) are ambiguous")
    sdk = tuple(SdkString(m, regex(s["pattern"], f"sdk[{n}]"), part_class(s, f"sdk[{n}]"),
                          str(s["source"]), text(s["anchor"], f"sdk[{n}].anchor").lower())
                for n, s in enumerate(entries("sdk")))
    for n, s in enumerate(sdk):
        if "model" not in s.pattern.groupindex:
            raise fail(f"sdk[{n}]: the pattern needs a (?P<model>...) group")
        if not s.anchor.isascii() or re.escape(s.anchor) not in s.pattern.pattern.lower():
            raise fail(f"sdk[{n}]: the anchor must be an ASCII literal of the pattern")
    modules = tuple(
        ModuleName(m, regex(x["pattern"], f"modules[{n}]"), part_class(x, f"modules[{n}]"),
                   optional_text(x.get("model"), f"modules[{n}].model"), str(x["source"]))
        for n, x in enumerate(entries("modules")))
    prompts = tuple(Prompt(m, text(p["value"], f"prompts[{n}]"), part_class(p, f"prompts[{n}]"),
                           str(p["source"])) for n, p in enumerate(entries("prompts")))
    usb = []
    for n, u in enumerate(entries("usb")):
        value = str(u["id"]).lower()
        if not USB_ID.match(value):
            raise fail(f"usb[{n}]: id must be vvvv:pppp in hex, got {u['id']!r}")
        usb.append(UsbId(m, value, part_class(u, f"usb[{n}]"),
                         optional_text(u.get("model"), f"usb[{n}].model"), str(u["source"])))
    if len({u.id for u in usb}) != len(usb):
        raise fail("a USB id is listed twice")
    vendors = []
    for n, v in enumerate(entries("usb_vendors")):
        value = str(v["id"]).lower()
        if not USB_VENDOR.match(value):
            raise fail(f"usb_vendors[{n}]: id must be four hex digits, got {v['id']!r}")
        vendors.append(UsbVendor(m, value, part_class(v, f"usb_vendors[{n}]"), str(v["source"])))
    at = tuple(AtCommand(m, text(a["command"], f"at[{n}]").upper(), part_class(a, f"at[{n}]"),
                         str(a["source"])) for n, a in enumerate(entries("at")))
    prefixes = tuple(text(p["value"], f"dt_prefixes[{n}]").lower()
                     for n, p in enumerate(entries("dt_prefixes")))
    maker = Maker(m, data["name"].strip(), tuple(sorted((str(k), v) for k, v in sources.items())),
                  prefixes)
    return Catalog((maker,), chips, sdk, modules, prompts, tuple(usb), tuple(vendors), at)


def combine(catalogs: list[Catalog]) -> Catalog:
    """One catalog from several makers' documents; ids claimed twice are errors."""
    out = Catalog()
    for part in catalogs:
        out = out.merged(part)
    seen: dict[str, str] = {}
    for u in out.usb:
        if u.id in seen:
            raise CatalogError(f"USB id {u.id} is listed by both {seen[u.id]} and {u.maker}")
        seen[u.id] = u.maker
    owners: dict[str, str] = {}
    for maker in out.makers:
        for prefix in maker.dt_prefixes:
            if prefix in owners:
                raise CatalogError(f"device-tree prefix {prefix!r} is claimed by both "
                                   f"{owners[prefix]} and {maker.id}")
            owners[prefix] = maker.id
    return out


def documents(mapping: Mapping[str, Any]) -> Catalog:
    """A catalog from already-read documents, keyed by maker id (tests build these inline)."""
    return combine([parse(data, maker) for maker, data in sorted(mapping.items())])


# -- reading (the only I/O) ----------------------------------------------------------------

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def builtin_dir() -> Path:
    """signatures/parts/ in a source tree, or the installed package data."""
    source_tree = Path(__file__).resolve().parent.parent.parent / "signatures" / "parts"
    if source_tree.is_dir():
        return source_tree
    from importlib import resources

    return Path(str(resources.files("provenance.signatures"))) / "parts"


def load(directory: Path | None = None) -> Catalog:
    """Read and validate every `*.yml` of a parts directory (default: the built-in one)."""
    folder = directory or builtin_dir()
    parts = []
    for path in sorted(folder.glob("*.yml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogError(f"{path}: {exc}") from exc
        parts.append(parse(data, path.stem, str(path)))
    if not parts:
        raise CatalogError(f"{folder}: no parts files")
    return combine(parts)


@cache
def builtin() -> Catalog:
    """The built-in catalog, read once per process."""
    return load()
