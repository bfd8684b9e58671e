"""The frozen types every stage shares (DESIGN §3).

Stages pass these values along and never mutate them. A path chain is a tuple of names from the
input down (`("fw.bin", "rootfs.squashfs", "usr/lib/libmpi.so")`), shown joined by `!/`.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

CHAIN_SEP = "!/"


T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Pickle a frozen slots dataclass as a call of its constructor with its fields. The
    `__setstate__` such a class gets walks `dataclasses.fields()` for every object, and the
    results of a 7,000-file image (some 135,000 facts) cross from the workers to the main
    process: by constructor it is half the time each way. `__post_init__` runs again, as for
    any construction."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    get: Callable[[Any], Any] = operator.attrgetter(*names)
    if len(names) == 1:
        def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
            return cls, (get(self),)
    else:
        def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
            return cls, get(self)
    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls


def chain_str(chain: tuple[str, ...]) -> str:
    """`("fw.bin", "rootfs.squashfs", "lib/x.so")` -> `fw.bin!/rootfs.squashfs!/lib/x.so`."""
    return CHAIN_SEP.join(chain)


class Relationship(StrEnum):
    """How a vendor relates to a component (DESIGN §4), strongest first."""

    MADE_BY = "made-by"
    SIGNED_BY = "signed-by"
    CONTAINS = "contains"
    OEM = "oem"
    # the device is built with the vendor's hardware part (its SoC, modem, PON chip), inferred
    # from the firmware (provenance/parts): a procurement rule may bar the product for it
    PART = "part"
    LINEAGE = "lineage"
    # the vendor's code shipped as upstream open source, built and shipped by someone else
    # (Huawei's hinic.ko in a distribution's kernel): worth a look, not the vendor's product
    CONTRIBUTED = "contributed"
    HARDWARE_ID = "hardware-id"
    SERVICE = "service"
    REQUIRES = "requires"  # binds or links the vendor's SDK without containing it
    SUPPORTS = "supports"
    MENTIONS = "mentions"

    @property
    def rank(self) -> int:
        """0 for the strongest: the order above (sorting reports, choosing the maker)."""
        return _RELATIONSHIP_RANK[self]


_RELATIONSHIP_RANK = {rel: i for i, rel in enumerate(Relationship)}


class Verdict(StrEnum):
    """A component's or the whole input's verdict; also the level of a finding."""

    RESTRICTED = "restricted"
    REVIEW = "review"
    CLEAR = "clear"

    @property
    def rank(self) -> int:
        return {"clear": 0, "review": 1, "restricted": 2}[self.value]


class Coverage(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"


class Stage(StrEnum):
    """The stage a Problem arose in. The values are what reports and the cache store."""

    EXTRACT = "extract"
    IDENTIFY = "identify"
    ATTRIBUTE = "attribute"  # the YARA scan of a blob
    REPORT = "report"  # writing the output (an enriched SBOM that CycloneDX 1.6 refuses)


class ProblemKind(StrEnum):
    """What kind of thing went wrong. The values are what reports and the cache store."""

    CORRUPT = "corrupt"  # malformed: a bad header, checksum, offset or loop
    TRUNCATED = "truncated"  # ends before what it declares
    LIMIT = "limit"  # stopped at a size, count or depth bound
    UNSUPPORTED = "unsupported"  # a known variant this tool does not read
    UNSAFE = "unsafe"  # refused: a path escaping the tree, a special file
    TOOL_MISSING = "tool-missing"  # the external program it needs is not installed
    DUPLICATE = "duplicate"  # a member name seen twice; both copies kept
    ENCRYPTED = "encrypted"  # a member or container that needs a password
    ENCRYPTED_OR_COMPRESSED = "encrypted-or-compressed"  # high entropy, no known format
    ERROR = "error"  # anything else: an I/O error, a reader or library failure


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Problem:
    """Something that could not be unpacked, parsed or evaluated. Errors are values.

    `stage` and `kind` are enums, so a typo is a type error. The constructor also takes their
    string values (a report or cache entry read back) and stores the member: an unknown string
    raises ValueError.
    """

    location: str  # path chain of the blob concerned ("" for the scan as a whole)
    stage: Stage
    message: str  # one line, for a human
    kind: ProblemKind = ProblemKind.ERROR

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage", Stage(self.stage))
        object.__setattr__(self, "kind", ProblemKind(self.kind))


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Artifact:
    """One blob found in the input: the input itself, a file in a directory or archive member."""

    chain: tuple[str, ...]
    sha256: str
    size: int
    kind: str  # detected format ("zip", "tar", "elf", "pe", "directory", "data", ...)
    depth: int
    local: Path | None = None  # where its bytes can be read during the scan (None: not stored)
    children: tuple[Artifact, ...] = ()
    opaque: str | None = None  # why it could not be opened, when it could not
    symlink_target: str | None = None  # kept as metadata, never followed
    # a pure container (archive, filesystem, compression) whose every member came out without
    # a problem: its bytes are searched through its members, not again as a whole
    unpacked: bool = False

    @property
    def path(self) -> str:
        return chain_str(self.chain)

    @property
    def name(self) -> str:
        return self.chain[-1].rsplit("/", 1)[-1] if self.chain else ""

    def walk(self) -> tuple[Artifact, ...]:
        """This artifact and all its descendants, depth first."""
        out: list[Artifact] = []
        stack = [self]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return tuple(out)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Fact:
    """One thing identify read, tagged with where it came from."""

    key: str  # "elf.soname", "pe.version.CompanyName", "elf.symbol.export", ...
    value: str
    location: str  # path chain, plus "#field" or "@0xOFFSET"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Facts:
    """Everything identify read from one blob."""

    format: str  # "elf", "pe", "macho", "data", ...
    arch: str | None = None
    items: tuple[Fact, ...] = ()
    name: str | None = None  # declared name (package name, SONAME, OriginalFilename)
    version: str | None = None
    purl: str | None = None
    supplier: str | None = None  # who declares they distribute it (package maintainer...)

    def values(self, key: str) -> tuple[str, ...]:
        return tuple(f.value for f in self.items if f.key == key)

    def first(self, key: str) -> str | None:
        return next((f.value for f in self.items if f.key == key), None)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Evidence:
    technique: str  # CycloneDX analysis technique: binary-analysis, manifest-analysis, ...
    signal: str  # signature | signer | version-info | manifest | symbol | identifier | string | ...
    detail: str  # the matched text, truncated
    location: str  # path chain + offset or field
    rule: str  # rule id or fact key that produced it
    confidence: float


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Attribution:
    vendor: str  # a vendor id from signatures/vendors/
    relationship: Relationship
    confidence: float
    evidence: tuple[Evidence, ...]
    component: str | None = None  # what the vendor component is ("HiSilicon MPP SDK")
    version: str | None = None

    def __post_init__(self) -> None:
        if not self.evidence:
            raise ValueError("an attribution needs evidence")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence out of range: {self.confidence}")


def ranked(attributions: Iterable[Attribution]) -> tuple[Attribution, ...]:
    """Strongest relationship first, then the most confident, then by vendor: the order every
    list of attributions is kept in."""
    return tuple(sorted(attributions, key=lambda a: (a.relationship.rank, -a.confidence,
                                                     a.vendor)))


@dataclass(frozen=True, slots=True)
class Manufacturer:
    """The resolved maker of a component, as the report shows it."""

    vendor: str
    name: str
    country: str | None  # ISO 3166-1 alpha-2
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Component:
    """What the report lists: one artifact with what was learnt about it."""

    ref: str  # stable bom-ref
    chain: tuple[str, ...]
    name: str
    kind: str
    sha256: str
    size: int
    type: str = "file"  # CycloneDX component type: file, library, application, firmware, ...
    version: str | None = None
    purl: str | None = None
    supplier: str | None = None
    facts: Facts | None = None
    attributions: tuple[Attribution, ...] = ()
    manufacturer: Manufacturer | None = None
    opaque: str | None = None
    children: tuple[Component, ...] = ()

    @property
    def path(self) -> str:
        return chain_str(self.chain)

    @property
    def top(self) -> Attribution | None:
        """The attribution that decides the maker: strongest relationship, then confidence."""
        if not self.attributions:  # most components
            return None
        strong = Relationship.OEM.rank  # made-by, signed-by, contains, oem

        def rank(a: Attribution) -> tuple[bool, float, int]:
            return a.relationship.rank > strong, -a.confidence, a.relationship.rank

        return min(self.attributions, key=rank)

    def walk(self) -> tuple[Component, ...]:
        out: list[Component] = []
        stack = [self]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """One listed entity of one restricted-origin list, as it applies to a finding."""

    policy: str  # policy id ("us-ndaa-889")
    entity: str  # as published ("Huawei Technologies Company")
    source: str  # legal source
    in_force: str  # ISO date the entry applies from
    scope: str = ""  # scope note ("video surveillance when used for public safety ...")
    citations: tuple[str, ...] = ()  # the source's [key] references: "key: citation or URL"


@dataclass(frozen=True, slots=True)
class Finding:
    component: str  # component ref
    location: str  # path chain
    vendor: str
    level: Verdict  # restricted or review
    relationship: Relationship
    confidence: float
    entries: tuple[PolicyEntry, ...]
    rationale: str
    waiver: str | None = None  # why it is waived (justification, approver, expiry), if it is


@dataclass(frozen=True, slots=True)
class Stats:
    files: int = 0
    bytes: int = 0
    opaque: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Cost:
    """What one scan cost the machine (`pipeline.cost`; none under --reproducible)."""

    peak_rss_main: int = 0  # bytes, the scanning process
    peak_rss_workers: int = 0  # bytes, the largest worker or external unpacker
    bytes_written: int = 0  # into the extraction tree (the files' sizes)
    disk_bytes: int = 0  # what they took on disk: zero runs are written as holes
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> wall-clock seconds


class PartClass(StrEnum):
    """What a hardware part is. The values are what reports and the signature data use."""

    SOC = "soc"
    CELLULAR_MODEM = "cellular-modem"
    WIFI_BT = "wifi-bt"
    PON_DSL = "pon-dsl"
    IMAGE_SENSOR = "image-sensor"
    SWITCH = "switch"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Part:
    """One hardware part the firmware is built for, with the evidence that it is there
    (inferred by provenance/parts).

    `maker` is a vendor id (`hisilicon`, `huawei`, `sony`); `model` is None when the evidence
    names only the maker and class (a `hisilicon # ` U-Boot prompt, a Huawei AT dialect).
    `confidence` is the noisy-OR of the strongest signal of each distinct kind.
    """

    part_class: PartClass
    maker: str
    model: str | None
    confidence: float
    evidence: tuple[Evidence, ...]
    family: str | None = None  # the catalog's family ("HiSilicon Hi35xx IP camera SoC")

    def __post_init__(self) -> None:
        if not self.evidence:
            raise ValueError("a part needs evidence")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence out of range: {self.confidence}")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The distinct signal kinds behind this part, in evidence order."""
        return tuple(dict.fromkeys(e.signal for e in self.evidence))

    @property
    def label(self) -> str:
        return self.model or self.family or f"{self.maker} {self.part_class.value}"


@dataclass(frozen=True, slots=True)
class ScanResult:
    root: Component
    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    coverage: Coverage
    verdict: Verdict
    stats: Stats
    tool_version: str
    signature_digest: str
    policies: tuple[str, ...] = ()
    started: str | None = None  # ISO timestamp; None when --reproducible
    as_of: str | None = None  # ISO date the policies were evaluated as of (--as-of, or the day)
    parts: tuple[Part, ...] = ()  # hardware the firmware is built for (provenance/parts)
    vendors: dict[str, Manufacturer] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # component ref -> verdict
    cost: Cost | None = None  # None when --reproducible, or read from a report without it

    def components(self) -> tuple[Component, ...]:
        return self.root.walk()

    def findings_for(self, ref: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.component == ref)
