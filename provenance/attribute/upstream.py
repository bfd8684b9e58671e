"""Upstream open source is not the vendor's product (issue 13 item 8). Pure functions, no I/O.

Vendors contribute code to open-source projects, and independent distributions build and ship
it: Huawei's `hinic.ko` in the Linux kernel, HiSilicon's `libhns` in rdma-core. The vendor's
marks are still in such a file, and they say who wrote the code; they do not say the vendor
made the product. When evidence says a blob is upstream open source built by someone else, its
`made-by` attributions become `contributed` (review at most under the built-in policies), keep
their evidence, and gain one more that says why. Decided from evidence, never from a file name:

- **In-tree kernel module built by a distribution** (`kernel_module`): `.modinfo` says
  `intree=Y` (modpost writes it only for modules built inside a kernel source tree), every
  `license` is one the kernel itself counts as GPL-compatible, and `vermagic` names a
  distribution's kernel release (Debian `6.1.0-50-amd64`, Ubuntu `5.15.0-91-generic`, Red Hat
  family `.el9_3.x86_64` / `.fc39` / `.amzn2`, SUSE `-default`, Alpine `-lts`, Arch `-arch1-1`).
  A distribution compiler tag in `.comment` (`GCC: (Debian 12.2.0-14+deb12u1)`) and a
  `srcversion` are reported with it but do not decide alone: a vendor can build its own kernel
  on a Debian host, and a vendor's own kernel tree is a tree too (its in-tree modules carry the
  vendor's own release names, `4.19.90-vhulk…eulerosv2r10`, and stay `made-by`).
- **Part of a distribution's package** (`distribution`, applied by `pipeline.distributed` to
  a package's parts): a .deb whose maintainer or original maintainer writes from a
  distribution's domain (debian.org, ubuntu.com, …), or an .rpm whose vendor, distribution or
  packager is a distribution's; a non-free section or licence rules it out, and so does a
  part whose own licence is not free (a kernel module declaring `Proprietary`).

Only `made-by` changes. `signed-by` is the signer's act on this very binary (a module or
library signed by the vendor was built by the vendor, so its `made-by` stays as well);
`contains` is a vendor component embedded in the file (a certificate, a firmware blob), which
being inside upstream code does not make upstream; `oem` and `lineage` are not authorship
claims. A vendor that maintains the package itself (its maker, from the package's own
attributions) keeps `made-by` on the package's parts.

Distributions that a listed vendor builds itself (openEuler, EulerOS) are deliberately absent
from the tables below: their builds are not "someone else's".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from provenance.model import Attribution, Evidence, Facts, Relationship, ranked
from provenance.signatureset import SignatureSet

# the licence strings the kernel itself counts as GPL-compatible (include/linux/license.h)
GPL_COMPATIBLE = frozenset({"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
                            "Dual MIT/GPL", "Dual MPL/GPL"})

# kernel releases (first word of vermagic) as distributions name their builds
DISTRIBUTION_KERNELS = (
    ("Debian", re.compile(
        r"^\d+\.\d+(?:\.\d+)?-(?:\d+|rpi\d+)-(?:cloud-|rt-|rpi-)?(?:amd64|arm64|armmp|"
        r"armmp-lpae|686|686-pae|powerpc64le|s390x|riscv64|loong64|marvell|rpi|v6|v7|v7l|v8|"
        r"2712|octeon|[45]kc-malta|mips32r2el|mips64r2el|mips64r6el|loongson-3)$")),
    ("Ubuntu", re.compile(
        r"^\d+\.\d+\.\d+-\d+-(?:generic|generic-64k|generic-lpae|lowlatency|lowlatency-64k|"
        r"aws|azure|gcp|gke|gkeop|oracle|kvm|raspi|raspi-nolpae|ibm|nvidia|nvidia-64k|"
        r"intel-iotg|realtime|oem|xilinx-zynqmp|virtual)$")),
    ("Red Hat family", re.compile(
        r"^\d+\.\d+\.\d+-[\d.]+\.(?:el\d+(?:_\d+)?(?:uek)?|fc\d+|amzn\d+|an\d+)\."
        r"(?:x86_64|aarch64|ppc64le|s390x|i686)(?:\+\w+)?$")),
    ("SUSE", re.compile(
        r"^\d+\.\d+\.\d+-\d+(?:\.\d+)*-(?:default|azure|rt|64kb|kvmsmall|preempt|pae|lpae)$")),
    ("Alpine", re.compile(r"^\d+\.\d+\.\d+-\d+-(?:lts|virt|edge|rpi)$")),
    ("Arch", re.compile(r"^\d+\.\d+(?:\.\d+)?-arch\d+-\d+$")),
)
# a distribution's own compiler, as it names itself in `.comment`
DISTRIBUTION_TOOLCHAIN = re.compile(
    r"\((Debian|Ubuntu|Raspbian|Red Hat|SUSE Linux|Alpine|Gentoo)[ )]|"
    r"^(Debian|Ubuntu) clang version")
# who writes for a distribution: maintainer / packager e-mail domains (and their subdomains)
DISTRIBUTION_DOMAINS = ("debian.org", "alioth-lists.debian.net", "ubuntu.com", "canonical.com",
                        "raspberrypi.com", "fedoraproject.org", "redhat.com", "centos.org",
                        "suse.com", "suse.de", "suse.cz", "opensuse.org", "almalinux.org",
                        "rockylinux.org", "alpinelinux.org", "archlinux.org", "gentoo.org",
                        "mageia.org")
# RPM Vendor / Distribution tags of distributions
DISTRIBUTION_RPM = re.compile(
    r"^(Red Hat|Fedora Project|CentOS|SUSE|openSUSE|Rocky Enterprise Software Foundation|"
    r"AlmaLinux|Amazon Linux|Mageia|OpenMandriva)\b", re.IGNORECASE)
# a package section or licence that says the contents are not free software
NON_FREE_SECTION = re.compile(r"^(non-free|non-free-firmware|contrib|restricted|multiverse)"
                              r"(/|$)", re.IGNORECASE)
NON_FREE_LICENCE = re.compile(r"\b(non-free|proprietary|commercial|freeware|no modification)\b",
                              re.IGNORECASE)
_EMAIL_DOMAIN = re.compile(r"@([\w-]+(?:\.[\w-]+)+)")

UPSTREAM_CONFIDENCE = 0.9  # an in-tree module built against a distribution's kernel release
DISTRIBUTION_CONFIDENCE = 0.8  # a part of a package a distribution maintains


def _distribution_kernel(vermagic: str | None) -> str | None:
    release = (vermagic or "").split(" ", 1)[0]
    for name, pattern in DISTRIBUTION_KERNELS:
        if pattern.match(release):
            return f"{name} kernel {release}"
    return None


def _free_licences(facts: Facts) -> tuple[str, ...] | None:
    """The module's licences when all of them are GPL-compatible, else None."""
    licences = tuple(v.strip() for v in facts.values("modinfo.license"))
    return licences if licences and all(v in GPL_COMPATIBLE for v in licences) else None


def kernel_module(facts: Facts | None) -> tuple[str, str] | None:
    """(why, where) when a blob is an in-tree GPL kernel module built by a distribution."""
    if facts is None or facts.first("modinfo.intree") != "Y":
        return None
    licences = _free_licences(facts)
    kernel = _distribution_kernel(facts.first("modinfo.vermagic"))
    if licences is None or kernel is None:
        return None
    found = [f"intree=Y, license {' + '.join(licences)}"]
    srcversion = facts.first("modinfo.srcversion")
    if srcversion:
        found.append(f"srcversion {srcversion}")
    built = [kernel]
    toolchain = next((c for c in facts.values("elf.comment")
                      if DISTRIBUTION_TOOLCHAIN.search(c)), None)
    if toolchain:
        built.append(toolchain.strip())
    where = next(f.location for f in facts.items if f.key == "modinfo.intree")
    return (f"in-tree kernel module ({', '.join(found)}) built by a distribution "
            f"({'; '.join(built)})", where)


def _domain_match(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in DISTRIBUTION_DOMAINS)


def distribution(facts: Facts | None) -> tuple[str, str] | None:
    """(why, where) when a package is a distribution's build of free software."""
    if facts is None or facts.format not in ("deb", "rpm"):
        return None
    if any(NON_FREE_SECTION.match(v.strip()) for v in facts.values("manifest.section")) or any(
            NON_FREE_LICENCE.search(v) for v in facts.values("manifest.license")):
        return None
    who: dict[str, str] = {}  # what says so -> where
    for fact in facts.items:
        if fact.key in ("manifest.maintainer_email", "manifest.packager_email",
                        "manifest.original_maintainer"):
            found = _EMAIL_DOMAIN.search(fact.value)
            if found and _domain_match(found.group(1)):
                who.setdefault(fact.value.strip()[:80], fact.location)
        elif fact.key in ("manifest.vendor", "manifest.distribution") and facts.format == "rpm" \
                and DISTRIBUTION_RPM.match(fact.value.strip()):
            who.setdefault(fact.value.strip()[:80], fact.location)
    if not who:
        return None
    package = " ".join(p for p in (facts.name, facts.version) if p) or "the package"
    return (f"part of {package}, a distribution's {facts.format} ({', '.join(who)})",
            next(iter(who.values())))


def reclassify(
    attributions: tuple[Attribution, ...], why: str, where: str, rule: str, confidence: float,
    sigset: SignatureSet, keep: Iterable[str] = (), technique: str = "binary-analysis",
) -> tuple[Attribution, ...]:
    """`made-by` attributions turned `contributed`, each with an Evidence saying why; vendors
    whose family is in `keep`, and vendors that also sign the blob, stay `made-by`."""
    kept = set(keep)
    kept |= {v for a in attributions if a.relationship is Relationship.SIGNED_BY
             for v in sigset.family(a.vendor)}
    conf = sigset.calibration.get(rule, confidence)
    out: dict[tuple[str, Relationship], Attribution] = {}
    changed = False
    for a in attributions:
        if a.relationship is Relationship.MADE_BY and not kept & set(sigset.family(a.vendor)):
            changed = True
            ev = Evidence(technique, "upstream",
                          f"{why}: upstream open source; {a.vendor}'s part is a contribution, "
                          f"not {a.vendor}'s product", where, rule, conf)
            a = Attribution(a.vendor, Relationship.CONTRIBUTED, a.confidence,
                            (ev, *a.evidence), a.component, a.version)
        key = (a.vendor, a.relationship)
        if key in out:  # already contributed by a rule of its own: one attribution, both reasons
            old = out[key]
            a = Attribution(a.vendor, a.relationship, max(a.confidence, old.confidence),
                            old.evidence + tuple(e for e in a.evidence if e not in old.evidence),
                            old.component or a.component, old.version or a.version)
        out[key] = a
    if not changed:
        return attributions
    return ranked(out.values())


def in_distribution(
    attributions: tuple[Attribution, ...], facts: Facts | None, why: str, where: str,
    sigset: SignatureSet, maintainers: Iterable[str] = (),
) -> tuple[Attribution, ...]:
    """A part of a distribution's package (`why` from `distribution`): its makers other than
    the package's `maintainers` contributed it, unless the part declares a non-free licence."""
    if facts is not None and facts.values("modinfo.license") and _free_licences(facts) is None:
        return attributions
    return reclassify(attributions, why, where, "upstream:distribution-package",
                      DISTRIBUTION_CONFIDENCE, sigset, maintainers, "manifest-analysis")


def contributed(
    attributions: tuple[Attribution, ...], facts: Facts | None, sigset: SignatureSet
) -> tuple[Attribution, ...]:
    """The attributions, with vendor code that ships as upstream open source reclassified."""
    if not any(a.relationship is Relationship.MADE_BY for a in attributions):
        return attributions
    found = kernel_module(facts)
    if found is None:
        return attributions
    why, where = found
    return reclassify(attributions, why, where, "upstream:kernel-module", UPSTREAM_CONFIDENCE,
                      sigset)
