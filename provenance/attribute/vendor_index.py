"""Look-up tables over the vendor catalog: names, domains, namespaces, hardware ids.

Built once per signature set. Matching is deliberately strict (DESIGN §4, catalog §6): a
company name matches only as a whole name, never as a substring, so "Shanghai Dahua Scale
Factory" is not Dahua and "Huawei-3Com" is not Huawei.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from provenance.signatureset import SignatureSet

# Words that may surround a brand in a company name without changing who it is.
CORPORATE = frozenset((
    "co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc",
    "plc", "gmbh", "sa", "ag", "jsc", "ao", "ooo", "pte", "technologies", "technology", "tech",
    "digital", "device", "devices", "lab", "labs", "group", "holding", "holdings",
    "international", "intl", "communications", "communication", "telecommunications", "software",
    "electronics", "electronic", "information", "network", "networks", "wireless", "solutions",
    "semiconductor", "microelectronics", "innovation", "innovations", "science", "sciences",
    "intelligent", "robotics", "systems", "system", "the", "and", "of", "usa", "us", "americas",
    "america", "china",
))
# City and province prefixes of Chinese legal names ("Hangzhou Hikvision ...").
PLACES = frozenset((
    "hangzhou", "zhejiang", "shenzhen", "sz", "beijing", "nanjing", "chengdu", "xian", "wuhan",
))


def norm(text: str) -> str:
    """Lowercase alphanumeric words: 'Huawei Co.,Ltd.' -> 'huawei co ltd'. CJK runs are words
    too, so legal names in Chinese ('浙江大华技术股份有限公司') match as written."""
    return " ".join(re.findall(r"[a-z0-9]+|[\u3400-\u9fff]+", text.lower()))


@dataclass(frozen=True, slots=True)
class VendorIndex:
    names: dict[str, str]  # normalised full name -> vendor id
    brands: dict[str, str]  # normalised brand words ("huawei", "china mobile") -> vendor id
    signers: dict[str, str]
    domains: dict[str, str]  # "huawei.com" -> vendor
    namespaces: tuple[tuple[str, str, str], ...]  # (ecosystem, pattern, vendor)
    usb: dict[str, str]  # "12d1" -> vendor
    pci: dict[str, str]
    ouis: dict[str, str]  # hex prefix of 6 (MA-L), 7 (MA-M) or 9 (MA-S) digits -> vendor

    def oui(self, mac: str) -> tuple[str, str] | None:
        """(vendor, registered prefix) of a MAC address, longest registered prefix first."""
        digits = re.sub(r"[^0-9A-Fa-f]", "", mac).upper()
        for size in (9, 7, 6):
            vendor = self.ouis.get(digits[:size])
            if vendor:
                return vendor, digits[:size]
        return None

    def company(self, text: str) -> str | None:
        """The vendor a company name denotes, or None (whole-name match only)."""
        words = norm(text)
        if not words:
            return None
        if words in self.names:
            return self.names[words]
        parts = words.split()
        while parts and parts[0] in PLACES | {"ao", "ooo", "the"}:
            parts = parts[1:]
        for size in (3, 2, 1):
            brand = " ".join(parts[:size])
            vendor = self.brands.get(brand)
            if vendor and all(w in CORPORATE or w.isdigit() for w in parts[size:]):
                return vendor
        return None

    def signer(self, text: str) -> str | None:
        return self.signers.get(norm(text)) or self.company(text)

    def domain(self, host_or_email: str) -> str | None:
        host = host_or_email.rsplit("@", 1)[-1].strip().strip(">").lower()
        host = re.sub(r"^[a-z]+://", "", host).split("/", 1)[0].split(":", 1)[0]
        labels = host.split(".")
        for i in range(len(labels) - 1):
            vendor = self.domains.get(".".join(labels[i:]))
            if vendor:
                return vendor
        return None

    def namespace(self, ecosystem: str, name: str) -> tuple[str, str] | None:
        """(vendor, pattern) when a package name falls in a vendor's namespace."""
        candidates = [name.lower()]
        if ecosystem == "maven":  # "group:artifact": a vendor namespace is a Maven group
            candidates.append(name.split(":", 1)[0].lower())
        for eco, pattern, vendor in self.namespaces:
            if eco == ecosystem and any(fnmatch.fnmatchcase(c, pattern.lower())
                                        for c in candidates):
                return vendor, pattern
        return None


def _build(sigset: SignatureSet) -> VendorIndex:
    names: dict[str, str] = {}
    brands: dict[str, str] = {}
    signers: dict[str, str] = {}
    domains: dict[str, str] = {}
    namespaces: list[tuple[str, str, str]] = []
    usb: dict[str, str] = {}
    pci: dict[str, str] = {}
    ouis: dict[str, str] = {}
    for v in sigset.vendors.values():
        for item in v.ouis:  # "00:18:82" (MA-L) or "B0:B3:53:60/28" (MA-M, MA-S)
            value, _, bits = item.value.partition("/")
            digits = re.sub(r"[^0-9A-Fa-f]", "", value).upper()
            ouis.setdefault(digits[: int(bits) // 4 if bits else 6], v.id)
        for item in (*v.legal_names, *v.aliases):
            names.setdefault(norm(item.value), v.id)
        brands.setdefault(norm(v.id.replace("-", " ")), v.id)
        for item in v.signers:
            signers.setdefault(norm(item.value), v.id)
        for item in v.domains:
            domains.setdefault(item.value.lower().lstrip("@*."), v.id)
        for eco, items in v.namespaces.items():
            namespaces.extend((eco, item.value, v.id) for item in items)
        # a parent and its subsidiary may share an id (HiSilicon uses Huawei's PCI id): the
        # first vendor without a parent keeps it, so ids resolve to the registrant
        for item in v.usb_ids:
            if v.parent is None or item.value.lower() not in usb:
                usb[item.value.lower()] = v.id
        for item in v.pci_ids:
            if v.parent is None or item.value.lower() not in pci:
                pci[item.value.lower()] = v.id
    # longer patterns first, so "@huaweicloud/*" is tried before a broader one
    namespaces.sort(key=lambda t: (t[0], -len(t[1]), t[1]))
    return VendorIndex(names, brands, signers, domains, tuple(namespaces), usb, pci, ouis)


_cache: dict[str, VendorIndex] = {}


def index_for(sigset: SignatureSet) -> VendorIndex:
    """The index of a signature set, built once per process."""
    if sigset.digest not in _cache:
        _cache[sigset.digest] = _build(sigset)
    return _cache[sigset.digest]
