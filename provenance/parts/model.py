"""The values parts inference reads and returns: a view of one blob in, parts out."""

from __future__ import annotations

from dataclasses import dataclass, field

from provenance.model import Facts, Part, PartClass

__all__ = ["BlobView", "Part", "PartClass"]


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
