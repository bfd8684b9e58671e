"""MAC addresses a blob assigns to a device (`ethaddr=00:18:82:…` in a U-Boot environment,
`option macaddr '…'` in an OpenWrt config), as `net.mac` facts.

Only values assigned to a MAC-address key count: a table of vendor prefixes in a driver or an
allow-list says what software supports, not what hardware is present (catalog §6).
"""

from __future__ import annotations

import re
from typing import Any

from provenance.identify.base import Sink

MAX_BYTES = 8 << 20  # configs and environments are small; do not scan a whole rootfs image
MAX_MACS = 32
ASSIGNED = re.compile(
    rb"(?i)(?<![A-Za-z0-9_])(?:eth[0-9]?addr|ethaddr|macaddr|mac_addr|hwaddr|wlan_?mac|"
    rb"wifi_?mac|lan_?mac|wan_?mac|base_?mac|mac_?address|mac)[\"']?(?:\s*[=:]\s*|[ \t]+)[\"']?"
    rb"([0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5})(?![:-]?[0-9A-Fa-f])"
)
# not a device's address: all-zero, broadcast, or a locally administered / multicast one
_NOT_VENDOR = re.compile(r"^(00:){5}00$|^(ff:){5}ff$", re.I)


# A cheap necessary condition: every match holds six hex pairs joined by ':' or '-'. Bytes are
# mapped to classes in C and the shape is sought with find; the regex (slow: a case-insensitive
# alternation tried at every byte, ~1 s per MiB of binary) runs only where the shape occurs.
_SHAPE = bytes(ord("h") if chr(b) in "0123456789abcdefABCDEF" else ord(":") if b in b":-"
               else ord(".") for b in range(256))
_MAC_SHAPE = b"hh:hh:hh:hh:hh:hh"


def scan(data: bytes | Any, sink: Sink) -> int:
    """`net.mac` facts for assigned MAC addresses in the first MAX_BYTES; returns how many."""
    if bytes(data[:MAX_BYTES]).translate(_SHAPE).find(_MAC_SHAPE) < 0:
        return 0
    found: set[str] = set()
    for match in ASSIGNED.finditer(data, 0, min(len(data), MAX_BYTES)):
        mac = match.group(1).decode("ascii").replace("-", ":").upper()
        first_octet = int(mac[:2], 16)
        if _NOT_VENDOR.match(mac) or first_octet & 0x03:  # multicast or locally administered
            continue
        if mac not in found:
            found.add(mac)
            sink.add("net.mac", mac, f"@0x{match.start(1):x}")
            if len(found) >= MAX_MACS:
                break
    return len(found)
