"""Linux kernel modules' `.modinfo`: NUL-separated `key=value` strings.

`alias` entries are decoded into USB (`usb:vXXXXpYYYY...`) and PCI
(`pci:vXXXXXXXXdYYYYYYYY...`) vendor/product ids, the ids a module claims to drive.
"""

from __future__ import annotations

import re

from provenance.identify.base import Sink
from provenance.model import ProblemKind

MAX_ENTRIES = 4096
KEYS = ("author", "description", "license", "vermagic", "version", "srcversion", "name",
        "depends", "intree", "import_ns", "firmware", "alias", "softdep", "scmversion")
USB = re.compile(r"^usb:v([0-9A-Fa-f]{4})p([0-9A-Fa-f*]{4})")
PCI = re.compile(r"^pci:v([0-9A-Fa-f]{8}|\*)d([0-9A-Fa-f]{8}|\*)")
OF = re.compile(r"^of:N.*?C([^C*]+)")


def parse(content: bytes, sink: Sink, where: str) -> None:
    """Facts `modinfo.<key>`, plus `modinfo.usb_id` / `modinfo.pci_id` / `modinfo.of_compatible`."""
    seen: set[tuple[str, str]] = set()
    for count, raw in enumerate(content.split(b"\0")):
        if count >= MAX_ENTRIES:
            sink.problem(".modinfo: more than 4096 entries", ProblemKind.LIMIT)
            break
        key, sep, value = raw.decode("utf-8", "replace").partition("=")
        key = key.strip()
        if not sep or key not in KEYS or (key, value) in seen:
            continue
        seen.add((key, value))
        sink.add(f"modinfo.{key}", value, where)
        if key != "alias":
            continue
        usb = USB.match(value)
        pci = PCI.match(value)
        of = OF.match(value)
        if usb:
            product = usb.group(2).lower()
            sink.add("modinfo.usb_id", f"{usb.group(1).lower()}:{product}", where)
        elif pci and pci.group(1) != "*":
            device = pci.group(2)[-4:].lower() if pci.group(2) != "*" else "*"
            sink.add("modinfo.pci_id", f"{pci.group(1)[-4:].lower()}:{device}", where)
        elif of:
            sink.add("modinfo.of_compatible", of.group(1), where)
