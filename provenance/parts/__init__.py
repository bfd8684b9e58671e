"""Hardware parts: which chips and modules a firmware image is built for, and who makes them.

A pure stage after identification: `infer(blobs)` reads, for every blob of one input, its
location, its identify facts and a bounded text sample (`sample.text_sample`), and returns the
parts (`Part`: class, maker, model, confidence, evidence with locations). The chip families,
name patterns, modem USB ids and AT dialects are data (`signatures/parts/<maker>.yml`, each fact
with its source), read by `catalog.load`.

**The rule that keeps precision: what decides is the product selecting one device.**

Counts (selecting signals):
- a device tree's `compatible` / `model` naming the SoC (a compiled .dtb, not a driver's table);
- a U-Boot banner or environment naming the board or CPU (`CPU : ZX279128S`), or a maker's
  U-Boot prompt (`hisilicon # `), which names the maker but not the model;
- an SDK version string built for one chip (`Hi3516EV200_MPP_V1.0.1.2`);
- a sensor library for one sensor (`libsns_imx122.so`);
- a firmware blob for one radio or PON chip (`hi1102`, `hi3881`);
- a kernel module the product's own scripts load (`insmod hi_gpon.ko`), not a commented line;
- a udev rule, usb_modeswitch entry or modem config naming ONE module's USB id (its modes);
- a dial script speaking one maker's AT dialect (`AT^NDISDUP`, `AT^SYSCFGEX`).

Never counts on its own (supporting at most, or nothing):
- a kernel module merely present, or compatible strings in a driver's match table: a driver
  names what it supports;
- a device tree's peripheral node (it may be disabled);
- the USB id tables of `option.ko` / `qmi_wwan.ko` and any binary's strings of USB ids or AT
  commands (ModemManager's vendor plugins): ids are read from text configs only;
- a database: a file naming more than `MAX_USB_IDS` USB ids or ids of more than one vendor
  (usb-modeswitch's data, ModemManager's udev rules), a script speaking several makers' AT
  dialects, one file or one folder naming more than `MAX_CHOICES` models of one class (a load
  script with a case per sensor, usb_modeswitch.d, linux-firmware), device trees for more than
  `MAX_CHOICES` SoCs (a distribution's /boot/dtbs);
- an SoC named only by its maker (a U-Boot prompt) beside another maker's SoC named by model:
  boot loader and SDK sources travel (Goke's descend from HiSilicon's), the model decides.

Several independent kinds agreeing raise confidence: the noisy-OR of the strongest signal of
each kind (`inference.WEIGHTS`), so a device tree (0.7), an SDK string (0.6) and a U-Boot banner
(0.6) give 0.95, any one of them alone at most 0.7.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from provenance.model import Attribution, Evidence, Manufacturer, Relationship
from provenance.parts.catalog import Catalog, CatalogError, builtin, load
from provenance.parts.inference import MAX_CHOICES, MAX_USB_IDS, WEIGHTS, board_collection, infer
from provenance.parts.model import BlobView, Part, PartClass
from provenance.parts.sample import blob_view, text_sample
from provenance.signatureset import SignatureSet

__all__ = ["MAX_CHOICES", "MAX_USB_IDS", "WEIGHTS", "BlobView", "Catalog", "CatalogError",
           "Part", "PartClass", "blob_view", "board_collection", "builtin", "infer", "is_product",
           "load", "part_attributions", "part_maker", "supported_board", "text_sample"]


MAX_PART_EVIDENCE = 8


def is_product(members: Iterable[str]) -> bool:
    """Whether an input is a product's firmware (an image or tree holding files in folders), not
    one component of it. A boot loader or a kernel module scanned alone names the chips it was
    built for, as third-party code for those chips does too; only a product is built with
    them. `members`: the path of each file inside its container (the last link of its chain)."""
    return any("/" in member.strip("/") for member in members)


def part_attributions(parts: Sequence[Part], sigset: SignatureSet) -> tuple[Attribution, ...]:
    """The input's `part` attributions: one per inferred part whose maker is a vendor of the
    signature set (so that policies can list it), with the part's confidence and evidence. A
    part of another maker (a Sony sensor, a Rockchip SoC) stays in the parts list only. The
    caller gives them only to a product (`is_product`)."""
    return tuple(
        Attribution(p.maker, Relationship.PART, p.confidence, p.evidence[:MAX_PART_EVIDENCE],
                    component=f"{p.part_class.value}: {p.label}")
        for p in parts if p.maker in sigset.vendors)


def part_maker(maker: str, sigset: SignatureSet) -> Manufacturer:
    """How a report names a part's maker: the vendor file's entry, else the parts catalog's
    name (Sony, Rockchip and others are in no policy and have no vendor file)."""
    if maker in sigset.vendors:
        return sigset.vendors[maker].maker()
    named = next((m.name for m in builtin().makers if m.id == maker), maker)
    return Manufacturer(maker, named, None, None)


def supported_board(attributions: tuple[Attribution, ...], where: str) -> tuple[Attribution, ...]:
    """A device tree of a `board_collection`: its `hardware-id` attributions (the board's maker
    named by its `compatible`) become `supports`. The kernel it ships with supports that board;
    the product is not built on it. The evidence says why."""
    why = f"one of device trees for more than {MAX_CHOICES} SoCs in this input"
    return tuple(
        replace(a, relationship=Relationship.SUPPORTS, evidence=(
            Evidence("binary-analysis", "context", why, where, "parts:board-collection",
                     a.confidence), *a.evidence))
        if a.relationship is Relationship.HARDWARE_ID else a for a in attributions)
