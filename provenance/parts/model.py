"""The values parts inference reads and returns: a view of one blob in, parts out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from provenance.model import Evidence, Facts


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
class BlobView:
    """What the pipeline knows about one blob, as parts inference reads it.

    `location` is the blob's path chain (`fw.bin!/rootfs.squashfs!/etc/init.d/rcS`); its last
    component's name is read as a file name (sensor libraries, firmware blobs, kernel modules).
    `facts` are what identify read (device-tree `dt.*` facts decide only when `facts.format` is
    "dtb": the same strings in a driver's match table name what the driver supports).
    `text` is the bounded text sample of `sample.text_sample`: the head of a text file, or the
    printable runs of a binary. `textual` says which: scripts, rules and configs select parts
    (init lines, USB ids, AT commands); a binary's strings never do that.
    """

    location: str
    facts: Facts = field(default_factory=lambda: Facts(format="data"))
    text: str = ""
    textual: bool = False

    @property
    def name(self) -> str:
        """The file name: the last component of the last link of the chain."""
        return self.location.rsplit("!/", 1)[-1].rsplit("/", 1)[-1]

    @property
    def folder(self) -> str:
        """The location up to the file name: what a directory of siblings shares."""
        head, sep, _ = self.location.rpartition("/")
        return head if sep else ""


@dataclass(frozen=True, slots=True)
class Part:
    """One hardware part the firmware is built for, with the evidence that it is there.

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
