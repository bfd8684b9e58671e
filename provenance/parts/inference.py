"""Signals in each blob, the rule that keeps only a product's own selection, and the combination.

Each extractor turns one blob into signals: (kind, class, maker, model, weight, selecting).
The kinds are independent ways a firmware names a part; a part's confidence is the noisy-OR of
the strongest signal of each kind it has, so a device tree, an SDK string and a U-Boot banner
agreeing give more than any one of them. Only a *selecting* signal creates a part; a supporting
one (a driver file present, a compatible string in a driver's match table, a peripheral node of
a device tree) only adds to a part something else selected.

Catalogs of what software supports are cut out three ways, all of the same rule (a selection
names one device; a list of many is a database):
- per blob: a file whose USB ids name more than `MAX_USB_IDS` devices or more than one vendor,
  a file whose AT commands are the dialects of more than one maker, and a file in which one kind
  of signal names more than `MAX_CHOICES` models of one class (a load script with a case per
  sensor) select nothing;
- per folder: one kind naming more than `MAX_CHOICES` models of one class among the files of a
  folder (usb_modeswitch.d, a sensor-library folder, linux-firmware's vendor folders);
- per image: device trees for more than `MAX_CHOICES` SoCs (a distribution's /boot/dtbs).
Binaries never select by USB id or AT command (option.ko's id table, ModemManager's plugins).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from provenance.model import Evidence, pickled_by_fields
from provenance.parts.catalog import Catalog, builtin
from provenance.parts.model import BlobView, Part, PartClass

MAX_CHOICES = 3  # models of one class one source may name and still be selecting one
MAX_USB_IDS = 4  # USB ids one file may name (one module's modes) and still select it
MAX_EVIDENCE = 10
MAX_HITS = 20  # matches of one pattern read from one blob
DETAIL = 160
MAX_TEXT = 1 << 20  # characters of one blob's sample read (text_sample keeps within this)

# Kinds of signal and the weight of each (the strongest of a kind counts once).
DEVICE_TREE = "device-tree"
U_BOOT = "u-boot"
SDK_VERSION = "sdk-version"
SENSOR_LIBRARY = "sensor-library"
FIRMWARE_BLOB = "firmware-blob"
INIT_MODULE = "init-module"
USB_SELECTION = "usb-selection"
AT_DIALECT = "at-dialect"
DRIVER = "driver"  # supporting only

WEIGHTS = {
    DEVICE_TREE: 0.7, U_BOOT: 0.6, SDK_VERSION: 0.6, INIT_MODULE: 0.6, USB_SELECTION: 0.6,
    SENSOR_LIBRARY: 0.55, FIRMWARE_BLOB: 0.5, AT_DIALECT: 0.45, DRIVER: 0.15,
}
PERIPHERAL_NODE = 0.3  # a device tree naming a non-SoC part: supporting (nodes may be disabled)
VENDOR_ONLY_USB = 0.4  # a modem maker's USB vendor id with a product the catalog does not list

FIRMWARE_EXT = (".bin", ".fw", ".img", ".hex", ".ucode", ".dat", ".nvm")
MODULE_EXT = (".ko", ".ko.xz", ".ko.gz", ".ko.zst")
BANNER = re.compile(r"^[ \t]*(Board|CPU|SoC|Chip|Machine|Model)[ \t]*:[ \t]*(.{2,100}?)[ \t]*$",
                    re.MULTILINE | re.IGNORECASE)
ENV = re.compile(r"^(board|board_name|soc|cpu|chip|machine)=(\S{2,64})$",
                 re.MULTILINE | re.IGNORECASE)
LOAD = re.compile(r"(?<![\w.-])(insmod|modprobe)[ \t]+([^\n;&|]+)")
SENSOR_LIB = re.compile(r"^libsns_([a-z0-9]+)", re.IGNORECASE)
HEX4 = r"(?:0x)?([0-9a-fA-F]{4})"
UDEV_VENDOR = re.compile(r"idVendor\}?\s*==\s*\"?" + HEX4)
UDEV_PRODUCT = re.compile(r"idProduct\}?\s*==\s*\"?" + HEX4)
MODESWITCH = re.compile(r"^\s*(Default|Target)(Vendor|Product)\s*=\s*\"?" + HEX4 + r"\"?\s*$",
                        re.MULTILINE | re.IGNORECASE)
CLI_PAIR = re.compile(r"-v\s+" + HEX4 + r"\s+-p\s+" + HEX4)
# vvvv:pppp; what precedes the match is checked in code (a look-behind first would make `re`
# try every position of a long text)
COLON_PAIR = re.compile(r"([0-9a-fA-F]{4}):(?:0x)?([0-9a-fA-F]{4})(?![0-9A-Za-z:])")


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Signal:
    kind: str
    part_class: PartClass
    maker: str
    model: str | None
    weight: float
    selecting: bool
    evidence: Evidence
    folder: str
    blob: str
    family: str | None = None


def infer(blobs: Iterable[BlobView], catalog: Catalog | None = None) -> tuple[Part, ...]:
    """The hardware parts these blobs (all of one input) show the device is built from."""
    cat = catalog if catalog is not None else builtin()
    return combine(signal for blob in blobs for signal in blob_signals(blob, cat))


def blob_signals(blob: BlobView, catalog: Catalog | None = None) -> tuple[Signal, ...]:
    """What one blob says on its own, which `combine` weighs with the others': pure, so it is
    found in the worker that analysed the blob, beside its analysis."""
    cat = catalog if catalog is not None else builtin()
    return tuple(_crowd(_blob_signals(blob, cat), key=lambda s: s.blob))


def combine(signals: Iterable[Signal]) -> tuple[Part, ...]:
    """The parts the signals of all the blobs of one input (in their order) add up to."""
    out = _crowd(list(signals), key=lambda s: s.folder)
    out = _too_many_boards(out)
    return _combine(out)


# -- per blob --------------------------------------------------------------------------------


def _blob_signals(blob: BlobView, cat: Catalog) -> list[Signal]:
    if len(blob.text) > MAX_TEXT:  # a caller's sample larger than text_sample makes
        blob = replace(blob, text=blob.text[:MAX_TEXT])
    out = _device_tree(blob, cat) + _names(blob, cat)
    if blob.text:
        lower = blob.text.lower()  # once: a copy of up to MAX_TEXT characters
        out += _u_boot(blob, cat) + _sdk(blob, cat, lower)
        if blob.textual:  # what a product's own scripts and configs select
            out += _init_modules(blob, cat) + _usb(blob, cat, lower) + _at(blob, cat)
    return out


def _signal(blob: BlobView, kind: str, part_class: PartClass, maker: str, model: str | None,
            detail: str, where: str, *, weight: float | None = None, selecting: bool = True,
            technique: str | None = None, family: str | None = None) -> Signal:
    w = WEIGHTS[kind] if weight is None else weight
    tech = technique or ("manifest-analysis" if blob.textual else "binary-analysis")
    evidence = Evidence(tech, kind, detail[:DETAIL], where, f"parts:{maker}:{kind}", w)
    return Signal(kind, part_class, maker, model, w, selecting and kind != DRIVER, evidence,
                  blob.folder, blob.location, family)


def _chips(cat: Catalog, value: str, context: str = "",
           classes: Iterable[PartClass] | None = None):
    """(chip, model) for every catalog chip whose pattern reads a model in `value`."""
    wanted = set(classes) if classes is not None else None
    for chip in cat.chips:
        if wanted is not None and chip.part_class not in wanted:
            continue
        model = chip.model(value, context)
        if model:
            yield chip, model


def _device_tree(blob: BlobView, cat: Catalog) -> list[Signal]:
    facts = blob.facts
    values = [f for f in facts.items if f.key in ("dt.compatible", "dt.model")]
    out: list[Signal] = []
    if facts.format != "dtb":
        # a driver's match table (compatible strings in .rodata, modinfo of: aliases): the
        # driver supports these chips; the product may be built on any or none of them
        values += [f for f in facts.items if f.key == "modinfo.of_compatible"]
        for fact in values[:200]:
            for chip, model in _chips(cat, fact.value):
                out.append(_signal(blob, DRIVER, chip.part_class, chip.maker, model, fact.value,
                                   fact.location, technique="binary-analysis",
                                   family=chip.family))
        return out
    for fact in values:
        matched = False
        root = fact.location.endswith(("#/compatible", "#/model"))
        for chip, model in _chips(cat, fact.value):
            matched = True
            # the root node names the board's own chip (an ONT's PON SoC); an SoC's nodes come
            # from its .dtsi; any other node names a peripheral, which may be disabled
            decides = root or chip.part_class is PartClass.SOC
            out.append(_signal(blob, DEVICE_TREE, chip.part_class, chip.maker, model,
                               f"{fact.key.split('.')[-1]} = {fact.value}", fact.location,
                               weight=None if decides else PERIPHERAL_NODE, selecting=decides,
                               technique="binary-analysis", family=chip.family))
        # the root node's compatible names the board and the SoC: a known SoC maker's prefix
        # there names its SoC even when the catalog has no pattern for the model
        if not matched and fact.key == "dt.compatible" and fact.location.endswith("#/compatible"):
            prefix, sep, _ = fact.value.partition(",")
            maker = cat.dt_maker(prefix.lower()) if sep else None
            if maker:
                out.append(_signal(blob, DEVICE_TREE, PartClass.SOC, maker, None,
                                   f"compatible = {fact.value}", fact.location,
                                   technique="binary-analysis"))
    return out


def _stem(name: str) -> tuple[str, str]:
    lower = name.lower()
    for ext in MODULE_EXT + FIRMWARE_EXT:
        if lower.endswith(ext):
            return name[: -len(ext)], ext
    return name, ""


def _names(blob: BlobView, cat: Catalog) -> list[Signal]:
    """Sensor libraries, firmware blobs and kernel modules, by their file names."""
    name = blob.name
    out: list[Signal] = []
    sensor = SENSOR_LIB.match(name)
    if sensor:
        for chip, model in _chips(cat, sensor.group(1), classes=[PartClass.IMAGE_SENSOR]):
            out.append(_signal(blob, SENSOR_LIBRARY, chip.part_class, chip.maker, model, name,
                               blob.location, technique="filename", family=chip.family))
        return out
    stem, ext = _stem(name)
    if ext in MODULE_EXT:
        out += _module_signals(blob, cat, stem, DRIVER, name, blob.location, "filename")
        return out
    under_firmware = "firmware" in blob.location.lower().replace("!/", "/").split("/")[:-1]
    if blob.textual or not (ext in FIRMWARE_EXT or under_firmware):
        return out
    # a firmware blob loaded into one radio or PON chip; SoC names in image file names are
    # the build's, not a selection
    out += [s for s in _module_signals(blob, cat, stem, FIRMWARE_BLOB, name, blob.location,
                                       "filename") if s.part_class is not PartClass.SOC]
    return out


def _module_signals(blob: BlobView, cat: Catalog, stem: str, kind: str, detail: str, where: str,
                    technique: str) -> list[Signal]:
    """A module or firmware name: the catalog's module names first, then its chip names."""
    key = stem.replace("-", "_")
    out = [_signal(blob, kind, m.part_class, m.maker, m.model, detail, where,
                   technique=technique)
           for m in cat.modules if m.pattern.fullmatch(key)]
    if out:
        return out
    return [_signal(blob, kind, chip.part_class, chip.maker, model, detail, where,
                    technique=technique, family=chip.family)
            for chip, model in _chips(cat, key)]


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _line_text(text: str, offset: int) -> str:
    """The whole line (a printable run, for a binary) holding `offset`."""
    end = text.find("\n", offset)
    return text[text.rfind("\n", 0, offset) + 1 : end if end >= 0 else len(text)].strip()


def _where(blob: BlobView, text: str, offset: int) -> str:
    return f"{blob.location}#L{_line(text, offset)}" if blob.textual else blob.location


def _u_boot(blob: BlobView, cat: Catalog) -> list[Signal]:
    """U-Boot's banner lines (`CPU : ZX279128S`, `Board: ...`), environment and prompt."""
    text = blob.text
    banner = "U-Boot" in text
    env = "bootcmd=" in text
    if not (banner or env):
        return []
    out: list[Signal] = []
    lines = [m for m in BANNER.finditer(text)][:MAX_HITS] if banner else []
    lines += [m for m in ENV.finditer(text)][:MAX_HITS]
    for match in lines:
        value = match.group(2)
        if "%" in value:  # a format string, not a value
            continue
        for chip, model in _chips(cat, value, text):
            out.append(_signal(blob, U_BOOT, chip.part_class, chip.maker, model,
                               match.group(0).strip(), _where(blob, text, match.start()),
                               family=chip.family))
    if banner and not blob.textual:
        # HiSilicon's U-Boot prints the chip alone on a line ("HI3518EV200"): a run that is
        # nothing but a chip name, in a U-Boot image (a table of many is cut by the crowd rule)
        for run in text.split("\n"):
            if 4 <= len(run) <= 24:
                for chip in cat.chips:
                    if chip.pattern.fullmatch(run.strip()):
                        model = chip.model(run.strip(), text)
                        if model:
                            out.append(_signal(blob, U_BOOT, chip.part_class, chip.maker, model,
                                               run.strip(), blob.location, family=chip.family))
    if banner:
        for prompt in cat.prompts:
            at = text.find(prompt.value)
            if at >= 0:
                out.append(_signal(blob, U_BOOT, prompt.part_class, prompt.maker, None,
                                   prompt.value, _where(blob, text, at)))
    return out


def _sdk(blob: BlobView, cat: Catalog, lower: str) -> list[Signal]:
    """SDK version strings that name the chip they were built for (`lower`: the text in lower
    case)."""
    text = blob.text
    out: list[Signal] = []
    for sdk in cat.sdk:
        if sdk.anchor not in lower:
            continue
        for n, match in enumerate(sdk.pattern.finditer(text)):
            if n >= MAX_HITS:
                break
            raw = match.group("model")
            found = [(c, m) for c, m in _chips(cat, raw, text) if c.maker == sdk.maker]
            chip, model = found[0] if found else (None, raw.upper())
            out.append(_signal(blob, SDK_VERSION, chip.part_class if chip else sdk.part_class,
                               sdk.maker, model, _line_text(text, match.start()),
                               _where(blob, text, match.start()),
                               family=chip.family if chip else None))
    return out


def _init_modules(blob: BlobView, cat: Catalog) -> list[Signal]:
    """Kernel modules the product's own scripts load: `insmod /ko/hi_gpon.ko`, `modprobe x`."""
    text = blob.text
    if "insmod" not in text and "modprobe" not in text:
        return []
    out: list[Signal] = []
    for n, match in enumerate(LOAD.finditer(text)):
        if n >= 200:
            break
        line_start = text.rfind("\n", 0, match.start()) + 1
        if "#" in text[line_start : match.start()]:
            continue  # commented out: `#insmod x.ko`, `echo x # insmod y`
        words = [w.strip("\"'") for w in match.group(2).split()]
        options = [w for w in words if w.startswith("-")]
        targets = [w for w in words if not w.startswith("-")]
        if not targets or "-r" in options or "--remove" in options:
            continue
        name = targets[0].rsplit("/", 1)[-1]
        if not name or "$" in name or "*" in name:
            continue
        stem, _ = _stem(name)
        out += _module_signals(blob, cat, stem, INIT_MODULE, match.group(0).strip(),
                               _where(blob, text, match.start()), "source-code-analysis")
    return out


def _usb_ids(text: str) -> tuple[dict[str, int], set[str]]:
    """USB ids a text names as vendor:product (with where), and every vendor it names."""
    ids: dict[str, int] = {}
    vendors: set[str] = set()

    def add(vendor: str, product: str, at: int) -> None:
        key = f"{vendor.lower()}:{product.lower()}"
        ids.setdefault(key, at)
        vendors.add(vendor.lower())

    offset = 0
    for line in text.splitlines(keepends=True) if "idVendor" in text else ():
        udev_vendor = UDEV_VENDOR.search(line)
        udev_product = UDEV_PRODUCT.search(line)
        if udev_vendor:
            vendors.add(udev_vendor.group(1).lower())
            if udev_product:
                add(udev_vendor.group(1), udev_product.group(1), offset)
        offset += len(line)
    pairs: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for match in MODESWITCH.finditer(text) if "Vendor" in text else ():
        pairs[match.group(1).lower()][match.group(2).lower()].append(
            (match.group(3), match.start()))
    for side in pairs.values():
        for named, _ in side["vendor"]:
            vendors.add(named.lower())
        if len(side["vendor"]) == 1:
            for product, at in side["product"]:
                add(side["vendor"][0][0], product, at)
    for match in CLI_PAIR.finditer(text):
        add(match.group(1), match.group(2), match.start())
    for match in COLON_PAIR.finditer(text):
        start = match.start()
        if text[max(0, start - 2) : start].lower() == "0x":
            start -= 2
        if start and (text[start - 1].isalnum() or text[start - 1] == ":"):
            continue  # inside a longer token: a MAC or IPv6 address, a hash
        add(match.group(1), match.group(2), match.start())
    return ids, vendors


def _usb(blob: BlobView, cat: Catalog, lower: str) -> list[Signal]:
    """A udev rule, usb_modeswitch entry or modem config naming one module's USB id (`lower`:
    the text in lower case)."""
    text = blob.text
    if not any(v in lower for v in cat.usb_makers):
        return []  # no modem maker's vendor id anywhere: nothing this file could select
    ids, vendors = _usb_ids(text)
    known = {i: at for i, at in ids.items()
             if cat.usb_id(i) or cat.usb_vendor(i.split(":")[0])}
    if not known:
        return []
    if len(ids) > MAX_USB_IDS or len(vendors) > 1:  # a database of what software supports
        return []
    out: list[Signal] = []
    for value, at in known.items():
        entry = cat.usb_id(value)
        where = _where(blob, text, at)
        line = _line_text(text, at)
        if entry:
            out.append(_signal(blob, USB_SELECTION, entry.part_class, entry.maker, entry.model,
                               f"{value}: {line}", where))
        else:
            vendor = cat.usb_vendor(value.split(":")[0])
            assert vendor is not None
            out.append(_signal(blob, USB_SELECTION, vendor.part_class, vendor.maker, None,
                               f"{value}: {line}", where, weight=VENDOR_ONLY_USB))
    return out


def _at(blob: BlobView, cat: Catalog) -> list[Signal]:
    """A dial script speaking one maker's AT dialect (`AT^NDISDUP`, `AT^SYSCFGEX`)."""
    text = blob.text
    # each command begins with a caret or a plus sign, rare in text: look for those first
    caret = "^" in text and any(p in text for p in ("AT^", "AT\\^", "at^"))
    if not (caret or ("+" in text and ("AT+" in text or "at+" in text))):
        return []
    upper = text.upper().replace("\\^", "^")  # chat scripts escape the caret
    hits = []
    for command in cat.at:
        at = upper.find(command.command)
        if at >= 0:
            hits.append((command, at))
    if len({c.maker for c, _ in hits}) != 1:  # none, or a script for many makers' modems
        return []
    out = []
    for command, at in hits:
        # `upper` lost only backslashes, never a newline: its line numbers are the file's
        line_no = upper.count("\n", 0, at) + 1
        where = f"{blob.location}#L{line_no}"
        out.append(_signal(blob, AT_DIALECT, command.part_class, command.maker, None,
                           command.command, where, technique="source-code-analysis"))
    return out


# -- the database rule -----------------------------------------------------------------------


def _crowd(signals: list[Signal], key) -> list[Signal]:
    """Drop the signals of a (kind, class) that names more than MAX_CHOICES models in one group
    (one blob, or one folder): a list of what is supported, not a selection."""
    models: dict[tuple[str, str, PartClass], set[tuple[str, str]]] = defaultdict(set)
    for s in signals:
        if s.model is not None:
            models[(key(s), s.kind, s.part_class)].add((s.maker, s.model))
    crowded = {k for k, v in models.items() if len(v) > MAX_CHOICES}
    return [s for s in signals if (key(s), s.kind, s.part_class) not in crowded]


def board_collection(blobs: Sequence[BlobView], catalog: Catalog | None = None) -> frozenset[str]:
    """The locations of the device trees in a collection for more than MAX_CHOICES SoCs (a
    distribution's /boot/dtbs): each describes a board the kernel supports, not this product.
    Empty when the input's device trees name few enough SoCs to be its own."""
    cat = catalog if catalog is not None else builtin()
    signals = [s for blob in blobs if blob.facts.format == "dtb"
               for s in _device_tree(blob, cat)]
    if len(signals) == len(_too_many_boards(signals)):
        return frozenset()
    return frozenset(blob.location for blob in blobs if blob.facts.format == "dtb")


def _too_many_boards(signals: list[Signal]) -> list[Signal]:
    """Device trees for more than MAX_CHOICES SoCs: a distribution's kernel for many boards."""
    socs = {(s.maker, s.model) for s in signals
            if s.kind == DEVICE_TREE and s.part_class is PartClass.SOC and s.model}
    if len(socs) <= MAX_CHOICES:
        return signals
    return [s for s in signals if not (s.kind == DEVICE_TREE and s.part_class is PartClass.SOC)]


# -- combination -----------------------------------------------------------------------------


def _combine(signals: list[Signal]) -> tuple[Part, ...]:
    groups: dict[tuple[PartClass, str, str | None], list[Signal]] = defaultdict(list)
    for s in signals:
        groups[(s.part_class, s.maker, s.model)].append(s)
    # a signal naming only the maker (a prompt, an AT dialect) joins the one model it could be
    for key in [k for k in groups if k[2] is None]:
        models = [k for k in groups if k[:2] == key[:2] and k[2] is not None]
        if len(models) == 1:
            groups[models[0]].extend(groups.pop(key))
    parts = []
    for (part_class, maker, model), members in groups.items():
        if not any(s.selecting for s in members):
            continue  # a generic driver, a peripheral node: never a part on its own
        best: dict[str, float] = {}
        for s in members:
            best[s.kind] = max(best.get(s.kind, 0.0), s.weight)
        miss = 1.0
        for weight in best.values():
            miss *= 1.0 - weight
        confidence = round(min(0.99, 1.0 - miss), 3)
        parts.append(Part(part_class, maker, model, confidence, _evidence(members),
                          next((s.family for s in members if s.family), None)))
    # an SoC named only by its maker (a U-Boot prompt, an SDK module) beside an SoC of another
    # maker named by model: U-Boot and SDK sources travel (Goke's GK72xx SDK is HiSilicon's),
    # the model decides
    named = [p for p in parts if p.part_class is PartClass.SOC and p.model is not None]
    parts = [p for p in parts if not (
        p.part_class is PartClass.SOC and p.model is None
        and any(n.maker != p.maker and n.confidence >= p.confidence for n in named))]
    order = list(PartClass)
    parts.sort(key=lambda p: (-p.confidence, order.index(p.part_class), p.maker,
                              p.model or ""))
    return tuple(parts)


def _evidence(members: list[Signal]) -> tuple[Evidence, ...]:
    """The strongest evidence of each kind first, then the rest, without repeats."""
    ranked = sorted(members, key=lambda s: (not s.selecting, -s.weight, s.kind,
                                            s.evidence.location))
    seen: set[tuple[str, str, str]] = set()
    first: list[Evidence] = []
    rest: list[Evidence] = []
    kinds: set[str] = set()
    for s in ranked:
        marker = (s.kind, s.evidence.location, s.evidence.detail)
        if marker in seen:
            continue
        seen.add(marker)
        (rest if s.kind in kinds else first).append(s.evidence)
        kinds.add(s.kind)
    return tuple(first + rest)[:MAX_EVIDENCE]


__all__ = ["MAX_CHOICES", "MAX_USB_IDS", "WEIGHTS", "infer"]
