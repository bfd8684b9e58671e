"""Hardware parts inference (provenance/parts): generated firmware trees, read with the real
identify and the built-in catalog, each positive beside the near miss that must not count."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from parts_fixtures import (
    HAVE_DTC,
    generic_distro,
    hisilicon_camera,
    huawei_lte_router,
    huawei_ont,
    ingenic_camera,
    put,
    rockchip_camera,
    sigmastar_camera,
    views,
    zte_ont,
)

from provenance.model import Fact, Facts
from provenance.parts import (
    BlobView,
    CatalogError,
    Part,
    PartClass,
    builtin,
    infer,
    load,
    text_sample,
)
from provenance.parts.catalog import builtin_dir, documents, parse
from provenance.parts.sample import wanted

needs_dtc = pytest.mark.skipif(not HAVE_DTC, reason="dtc is not installed")


def parts_of(root: Path) -> tuple[Part, ...]:
    return infer(views(root))


def find(parts: tuple[Part, ...], part_class: PartClass, maker: str) -> list[Part]:
    return [p for p in parts if p.part_class is part_class and p.maker == maker]


def only(parts: tuple[Part, ...], part_class: PartClass, maker: str) -> Part:
    found = find(parts, part_class, maker)
    assert len(found) == 1, parts
    return found[0]


# -- the three products the rules are about -----------------------------------------------


@needs_dtc
def test_hisilicon_camera_soc_from_device_tree_sdk_and_u_boot(tmp_path):
    parts = parts_of(hisilicon_camera(tmp_path))
    soc = only(parts, PartClass.SOC, "hisilicon")
    assert soc.model == "Hi3516EV200"
    assert {"device-tree", "sdk-version", "u-boot"} <= set(soc.kinds)
    # noisy-OR of three independent kinds: 1 - 0.3 * 0.4 * 0.4
    assert soc.confidence == pytest.approx(0.952)
    locations = {e.location for e in soc.evidence}
    assert "fw.bin!/rootfs.squashfs!/boot/hi3516ev200-demb.dtb#/compatible" in locations
    assert "fw.bin!/rootfs.squashfs!/usr/lib/libmpi.so" in locations
    assert any("Hi3516EV200_MPP_V1.0.1.2" in e.detail for e in soc.evidence)
    sensor = only(parts, PartClass.IMAGE_SENSOR, "sony")
    assert sensor.model == "IMX307" and sensor.kinds == ("sensor-library",)


@needs_dtc
def test_one_device_tree_alone_is_a_part_at_its_own_weight(tmp_path):
    root = hisilicon_camera(tmp_path)
    for rel in ("boot/u-boot.bin", "usr/lib/libmpi.so"):
        (root / rel).unlink()
    soc = only(parts_of(root), PartClass.SOC, "hisilicon")
    assert soc.kinds == ("device-tree",) and soc.confidence == pytest.approx(0.7)


@needs_dtc
def test_router_with_a_huawei_lte_module_selected_by_one_usb_id_and_at_commands(tmp_path):
    parts = parts_of(huawei_lte_router(tmp_path))
    modem = only(parts, PartClass.CELLULAR_MODEM, "huawei")
    assert modem.model == "Modem/Networkcard"  # usb.ids' name for 12d1:1506
    assert set(modem.kinds) == {"usb-selection", "at-dialect"}
    assert modem.confidence == pytest.approx(1 - 0.4 * 0.55)
    rule = next(e for e in modem.evidence if e.signal == "usb-selection")
    assert rule.location == "fw.bin!/rootfs.squashfs!/etc/udev/rules.d/70-modem.rules#L2"
    assert "12d1:1506" in rule.detail
    dial = {e.detail for e in modem.evidence if e.signal == "at-dialect"}
    assert dial == {"AT^NDISDUP", "AT^SYSCFGEX"}
    assert only(parts, PartClass.SOC, "mediatek").model == "MT7621"
    assert not find(parts, PartClass.CELLULAR_MODEM, "zte")  # only option.ko names 19d2:0117


@needs_dtc
def test_zte_ont_on_a_sanechips_pon_soc(tmp_path):
    parts = parts_of(zte_ont(tmp_path))
    pon = only(parts, PartClass.PON_DSL, "sanechips")
    assert pon.model == "ZX279128S"
    assert set(pon.kinds) == {"u-boot", "device-tree"}
    banner = {e.detail for e in pon.evidence if e.signal == "u-boot"}
    assert {"CPU : ZX279128S", "Board: ZTE zx279128sevb"} <= banner
    # the device tree's root node names the board's own chip, whatever its class
    assert pon.confidence == pytest.approx(1 - 0.4 * 0.3)
    assert any(e.location.endswith("zx279128s.dtb#/compatible") for e in pon.evidence)


def test_huawei_ont_pon_chip_from_the_modules_its_init_script_loads(tmp_path):
    parts = parts_of(huawei_ont(tmp_path))
    pon = only(parts, PartClass.PON_DSL, "hisilicon")
    assert pon.model == "SD5115"
    assert "init-module" in pon.kinds and "driver" in pon.kinds
    details = {e.detail for e in pon.evidence if e.signal == "init-module"}
    assert "insmod hi_gpon.ko" in details  # joined the one PON model the maker has here
    assert any(e.location.endswith("1.sdk_init.sh#L3") for e in pon.evidence)


# -- near misses: what software supports is not what the device is built from ---------------


@needs_dtc
def test_generic_distro_with_driver_tables_and_modem_databases_lists_no_part(tmp_path):
    assert parts_of(generic_distro(tmp_path)) == ()


@needs_dtc
def test_the_distros_device_trees_alone_would_each_name_a_soc(tmp_path):
    """The /boot/dtbs rule is what keeps the distro clean: one of its trees alone is a part."""
    root = generic_distro(tmp_path)
    blobs = [b for b in views(root) if b.location.endswith("hi3660-hikey960.dtb")]
    assert only(infer(blobs), PartClass.SOC, "hisilicon").model == "Hi3660"


def test_a_usb_id_table_in_a_binary_never_selects(tmp_path):
    put(tmp_path, "x", "")
    text = "usb:v12D1p1506d*\n12d1:1506\nATTRS{idVendor}==\"12d1\", ATTRS{idProduct}==\"1506\""
    binary = BlobView("fw!/lib/modules/option.ko", Facts(format="elf"), text, textual=False)
    assert infer([binary]) == ()
    config = BlobView("fw!/etc/udev/rules.d/70-modem.rules", Facts(format="data"), text,
                      textual=True)
    assert only(infer([config]), PartClass.CELLULAR_MODEM, "huawei").model == "Modem/Networkcard"


def test_a_rule_naming_two_vendors_modems_is_not_a_selection():
    text = ('ATTRS{idVendor}=="12d1", ATTRS{idProduct}=="1506", RUN+="/bin/up"\n'
            'ATTRS{idVendor}=="19d2", ATTRS{idProduct}=="0117", RUN+="/bin/up"\n')
    blob = BlobView("fw!/etc/udev/rules.d/70-modems.rules", Facts(format="data"), text, True)
    assert infer([blob]) == ()


def test_one_modules_modes_are_one_selection_but_five_ids_are_a_database():
    modes = ("DefaultVendor=0x12d1\nDefaultProduct=0x1f01\n"
             "TargetVendor=0x12d1\nTargetProduct=0x14db\n")
    blob = BlobView("fw!/etc/usb_modeswitch.d/12d1:1f01", Facts(format="data"), modes, True)
    models = {p.model for p in infer([blob])}
    assert models == {"E353/E3131 (Mass storage mode)", "E353/E3131"}
    many = "".join(f"12d1:{p}\n" for p in ("1001", "1003", "1406", "14ac", "1506"))
    assert infer([BlobView("fw!/etc/modems.conf", Facts(format="data"), many, True)]) == ()


def test_an_unlisted_product_of_a_modem_makers_vendor_id_is_that_makers_modem():
    text = 'ATTRS{idVendor}=="12d1", ATTRS{idProduct}=="1c1e", RUN+="/bin/up"\n'
    part = only(infer([BlobView("fw!/etc/udev/rules.d/m.rules", Facts(format="data"), text,
                                True)]), PartClass.CELLULAR_MODEM, "huawei")
    assert part.model is None and part.confidence == pytest.approx(0.4)


def test_a_dial_script_for_several_makers_modems_selects_none():
    text = ("case $v in huawei) AT^NDISDUP=1,1 ;; quectel) AT+QNETDEVCTL=1,3,1 ;; esac\n")
    assert infer([BlobView("fw!/usr/bin/dial.sh", Facts(format="data"), text, True)]) == ()
    escaped = "OK \"AT\\^SYSCFGEX=\\\"03\\\",3fffffff,1,2,7fffffffffffffff,,\"\n"
    part = only(infer([BlobView("fw!/etc/chatscripts/lte", Facts(format="data"), escaped,
                                True)]), PartClass.CELLULAR_MODEM, "huawei")
    assert part.kinds == ("at-dialect",)


@pytest.mark.parametrize("line, maker", [
    ("AT^NDISDUP=1,1", "huawei"),  # each way of writing a command, found whatever else
    ("at^ndisdup=1,1", "huawei"),  # the text holds (a plus sign, a caret)
    ("AT\\^NDISDUP=1,1", "huawei"),
    ("AT+ZECMCALL=1", "zte"),
    ("at+zecmcall=1", "zte"),
])
@pytest.mark.parametrize("around", ["", "x=$((x+1)) # 2^10\n"])
def test_every_form_of_an_at_command_is_read(line, maker, around):
    text = f"#!/bin/sh\n{around}echo -e '{line}\\r' > /dev/ttyUSB2\n"
    part = only(infer([BlobView("fw!/usr/bin/dial.sh", Facts(format="data"), text, True)]),
                PartClass.CELLULAR_MODEM, maker)
    assert part.kinds == ("at-dialect",)


def test_carets_and_plus_signs_without_a_command_are_no_dialect():
    text = "x=$((x+1)); y=2^10; regex='^AT+'; echo AT + ^\n"
    assert infer([BlobView("fw!/usr/bin/calc.sh", Facts(format="data"), text, True)]) == ()


def test_a_lone_generic_driver_is_nothing(tmp_path):
    put(tmp_path, "lib/modules/hi3881.ko", b"\x7fELF" + b"\0" * 60)
    put(tmp_path, "lib/modules/hi_gpon.ko", b"\x7fELF" + b"\0" * 60)
    put(tmp_path, "etc/init.d/S10wifi", "#!/bin/sh\n#insmod /lib/modules/hi3881.ko\n"
                                         "modprobe -r hi_gpon\n")
    assert parts_of(tmp_path) == ()


def test_a_wifi_module_the_init_script_loads_is_a_part(tmp_path):
    put(tmp_path, "lib/modules/hi3881.ko", b"\x7fELF" + b"\0" * 60)
    put(tmp_path, "etc/init.d/S10wifi", "#!/bin/sh\ninsmod /lib/modules/hi3881.ko\n")
    wifi = only(parts_of(tmp_path), PartClass.WIFI_BT, "hisilicon")
    assert wifi.model == "Hi3881" and set(wifi.kinds) == {"init-module", "driver"}


def test_a_firmware_blob_for_one_chip_is_a_part(tmp_path):
    put(tmp_path, "vendor/firmware/hi1102_bfgx_cfg.bin", b"\x01\x02\x03\x04" * 16)
    put(tmp_path, "lib/firmware/brcm/brcmfmac43455-sdio.bin", b"\x00\x01" * 32)
    parts = parts_of(tmp_path)
    assert only(parts, PartClass.WIFI_BT, "hisilicon").model == "Hi1102"
    assert only(parts, PartClass.WIFI_BT, "broadcom").model == "BCM43455"


def test_a_folder_of_firmware_for_many_chips_is_linux_firmware(tmp_path):
    for chip in ("43430", "43455", "4356", "43362", "4339"):
        put(tmp_path, f"lib/firmware/brcm/brcmfmac{chip}-sdio.bin", b"\x00\x01" * 32)
    assert parts_of(tmp_path) == ()


def test_a_load_script_with_a_case_per_sensor_and_a_folder_of_sensor_libraries(tmp_path):
    sensors = ("imx307", "imx335", "imx291", "imx327", "imx415")
    cases = "".join(f"  {s}) insmod /ko/{s}_MIPI.ko ;;\n" for s in sensors)
    put(tmp_path, "etc/init.d/load_sensor", f"#!/bin/sh\ncase $SNS in\n{cases}esac\n")
    for s in sensors:
        put(tmp_path, f"usr/lib/sensors/libsns_{s}.so", b"\x7fELF" + b"\0" * 60)
    assert parts_of(tmp_path) == ()
    for s in sensors[1:]:
        (tmp_path / f"usr/lib/sensors/libsns_{s}.so").unlink()
    assert only(parts_of(tmp_path), PartClass.IMAGE_SENSOR, "sony").model == "IMX307"


def test_a_u_boot_format_string_or_a_bare_t31_names_nothing():
    text = "U-Boot 2013.07\nBoard: %s\nCPU : T31\n"
    assert infer([BlobView("fw!/boot/u-boot.bin", Facts(format="data"), text)]) == ()


def test_compatible_strings_in_a_drivers_match_table_only_support(tmp_path):
    from provenance.model import Fact

    facts = Facts(format="elf", items=(
        Fact("dt.compatible", "hisilicon,hi3516cv300-femac", "fw!/lib/femac.ko@0x100"),
        Fact("dt.compatible", "hisilicon,hi3798mv200-femac", "fw!/lib/femac.ko@0x120")))
    assert infer([BlobView("fw!/lib/femac.ko", facts)]) == ()


# -- non-restricted boards list their own makers --------------------------------------------


def test_ingenic_camera(tmp_path):
    parts = parts_of(ingenic_camera(tmp_path))
    assert [(p.part_class, p.maker, p.model) for p in parts] == [
        (PartClass.SOC, "ingenic", "T31")]


def test_sigmastar_camera(tmp_path):
    parts = parts_of(sigmastar_camera(tmp_path))
    soc = only(parts, PartClass.SOC, "sigmastar")
    assert soc.model is None and set(soc.kinds) == {"u-boot", "init-module"}
    assert only(parts, PartClass.IMAGE_SENSOR, "sony").model == "IMX307"
    assert {p.maker for p in parts} == {"sigmastar", "sony"}


@needs_dtc
def test_rockchip_camera(tmp_path):
    parts = parts_of(rockchip_camera(tmp_path))
    assert only(parts, PartClass.SOC, "rockchip").model == "RV1126"
    # the sensor node of a device tree supports, it does not select (it may be disabled)
    assert not find(parts, PartClass.IMAGE_SENSOR, "sony")
    assert {p.maker for p in parts} == {"rockchip"}


# -- the text sample -------------------------------------------------------------------------


def test_text_sample_of_a_binary_is_its_printable_runs_and_of_a_text_its_head():
    data = b"\x00\x01U-Boot 2013.04\x00\xff\xfeCPU : ZX279128S\x00ab\x00"
    sample, textual = text_sample(data)
    assert not textual and sample.split("\n") == ["U-Boot 2013.04", "CPU : ZX279128S"]
    sample, textual = text_sample(b"#!/bin/sh\ninsmod hi_gpon.ko\n")
    assert textual and sample.endswith("insmod hi_gpon.ko\n")


def test_text_sample_of_other_binaries_keeps_only_the_runs_around_catalog_anchors():
    data = (b"\x7fELF\x01\x01\x00mpi sys init\x00\x01HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030"
            b"\x00\x02CPU : ZX279128S\x00" + b"\x00" * 64 + b"x_mpp_v2\x00")
    sample, textual = text_sample(data)
    assert not textual
    assert sample.split("\n") == ["HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030", "x_mpp_v2"]
    assert text_sample(data, anchors=())[0] == ""


# -- the catalog -----------------------------------------------------------------------------


def test_builtin_catalog_covers_the_makers_the_rules_name():
    cat = builtin()
    makers = {m.id for m in cat.makers}
    assert {"hisilicon", "huawei", "zte", "sanechips", "ingenic", "sigmastar", "novatek",
            "fullhan", "goke", "rockchip", "allwinner", "mediatek", "realtek", "broadcom",
            "qualcomm", "sony"} <= makers
    assert {f.stem for f in builtin_dir().glob("*.yml")} == makers
    assert cat.usb_id("12d1:14dc").model.startswith("E3372")
    assert cat.usb_id("19d2:0167").maker == "zte"
    for chip in cat.chips:
        assert chip.source in dict(next(m for m in cat.makers if m.id == chip.maker).sources)


def _hisilicon() -> dict:
    return yaml.safe_load((builtin_dir() / "hisilicon.yml").read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(chip_families=[]), "unknown keys"),
    (lambda d: d["chips"][0].pop("source"), "lacks ['source']"),
    (lambda d: d["chips"][0].update(source="nowhere"), "is not in this file's sources"),
    (lambda d: d["chips"][0].update(colour="red"), "unknown keys ['colour']"),
    (lambda d: d["chips"][0].update(pattern="hi(35"), "bad regex"),
    (lambda d: d["chips"][0].update(pattern="(hi)(35)"), "capture groups"),
    (lambda d: d["chips"][0].update({"class": "cpu"}), "unknown class"),
    (lambda d: d["sdk"][0].update(pattern="hi3516_MPP"), "(?P<model>...)"),
    (lambda d: d.update(usb=[{"id": "12d1-1506", "class": "cellular-modem",
                              "source": "ipctool"}]), "vvvv:pppp"),
    (lambda d: d["sources"].update(ipctool=""), "has no citation"),
    (lambda d: d.update(maker="huawei"), "file's stem"),
])
def test_catalog_validation_rejects(mutate, message):
    data = copy.deepcopy(_hisilicon())
    mutate(data)
    with pytest.raises(CatalogError, match=None) as err:
        parse(data, "hisilicon")
    assert message in str(err.value)


def test_a_usb_id_claimed_by_two_makers_is_an_error(tmp_path):
    huawei = yaml.safe_load((builtin_dir() / "huawei.yml").read_text())
    other = {"maker": "acme", "name": "Acme", "sources": {"s": "a datasheet"},
             "usb": [{"id": "12d1:1506", "class": "cellular-modem", "source": "s"}]}
    with pytest.raises(CatalogError, match="12d1:1506"):
        documents({"huawei": huawei, "acme": other})
    (tmp_path / "acme.yml").write_text(yaml.safe_dump(other))
    (tmp_path / "huawei.yml").write_text(yaml.safe_dump(huawei))
    with pytest.raises(CatalogError, match="both"):
        load(tmp_path)


def test_an_inline_catalog_drives_inference():
    cat = documents({"acme": {
        "maker": "acme", "name": "Acme Chips", "sources": {"ds": "Acme AC9000 datasheet"},
        "chips": [{"family": "Acme AC9xxx", "class": "switch",
                   "pattern": "(?<![a-z0-9])ac(?P<model>9[0-9]{3})", "prefix": "AC",
                   "source": "ds"}]}})
    blob = BlobView("fw!/etc/rc", Facts(format="data"), "insmod ac9000_switch.ko\n", True)
    (part,) = infer([blob], cat)
    assert (part.part_class, part.maker, part.model) == (PartClass.SWITCH, "acme", "AC9000")


def test_a_chip_name_alone_on_a_line_of_a_u_boot_image_names_the_soc(tmp_path):
    from parts_fixtures import u_boot

    u_boot(tmp_path, "boot/u-boot.bin", ["U-Boot 2010.06 (Aug 20 2016 - 11:05:49)",
                                         "hisilicon # ", "HI3518EV200"])
    soc = only(parts_of(tmp_path), PartClass.SOC, "hisilicon")
    assert soc.model == "Hi3518EV200" and soc.kinds == ("u-boot",)
    # a U-Boot built for a family lists its chips: a table, not a selection
    u_boot(tmp_path, "boot/u-boot.bin", ["U-Boot 2010.06", "HI3518EV200", "HI3516CV200",
                                         "HI3518EV201", "HI3516EV100"])
    assert parts_of(tmp_path) == ()


# -- real boot loaders, when the dev corpus is on this machine ------------------------------

DEV_BINARIES = Path.home() / ".cache" / "provenance-dev-binaries"


@pytest.mark.parametrize("item, maker, part_class, model", [
    ("zte-zte-h3600-bootloader-bin", "sanechips", PartClass.PON_DSL, "ZX279128S"),
    ("hisilicon-poplar-hi3798cv200-fastboot-bin", "hisilicon", PartClass.SOC, "Hi3798CV200"),
    ("hisilicon-hi3518ev200-uboot-bin", "hisilicon", PartClass.SOC, "Hi3518EV200"),
    ("hisilicon-hi3518-libsns-imx122-so", "sony", PartClass.IMAGE_SENSOR, "IMX122"),
    ("hisilicon-hg8145v5-hi-gpon-ko", None, None, None),  # a driver alone: nothing
])
def test_real_binaries_from_the_dev_corpus(item, maker, part_class, model):
    folder = DEV_BINARIES / item
    if not folder.is_dir():
        pytest.skip(f"{folder} is not on this machine")
    parts = infer(views(folder, container=item))
    if maker is None:
        assert parts == ()
    else:
        assert only(parts, part_class, maker).model == model


def test_a_hisilicon_prompt_in_a_goke_u_boot_does_not_make_a_hisilicon_soc(tmp_path):
    """Goke's GK72xx SDK and U-Boot descend from HiSilicon's: the model named decides."""
    from parts_fixtures import u_boot

    u_boot(tmp_path, "boot/u-boot.bin", ["U-Boot 2016.11", "hisilicon # ", "GK7205V200"])
    parts = parts_of(tmp_path)
    assert [(p.part_class, p.maker, p.model) for p in parts] == [
        (PartClass.SOC, "goke", "GK7205V200")]


@pytest.mark.parametrize("value, maker, model", [
    ("hisilicon,hi3516ev200", "hisilicon", "Hi3516EV200"),
    ("hisilicon,hi3798cv200", "hisilicon", "Hi3798CV200"),
    ("hi3881", "hisilicon", "Hi3881"),
    ("hw_soc_sd5116_basic", "hisilicon", "SD5116"),
    ("Balong V7R2", "hisilicon", "BALONG V7R2"),
    ("zte,zx279128s-evb", "sanechips", "ZX279128S"),
    ("zte,zx296718", "sanechips", "ZX296718"),
    ("zx297520v3", "sanechips", "ZX297520V3"),
    ("ingenic,t31", "ingenic", "T31"),
    ("ingenic,x1000", "ingenic", "X1000"),
    ("SSC335", "sigmastar", "SSC335"),
    ("NT98566", "novatek", "NT98566"),
    ("FH8852V100", "fullhan", "FH8852V100"),
    ("gk7205v200", "goke", "GK7205V200"),
    ("rockchip,rv1126", "rockchip", "RV1126"),
    ("allwinner,sun8i-v3s", "allwinner", "V3S"),
    ("mediatek,mt7621-soc", "mediatek", "MT7621"),
    ("mt7601u", "mediatek", "MT7601U"),
    ("8189fs", "realtek", "RTL8189FS"),
    ("rtl9601d", "realtek", "RTL9601D"),
    ("brcmfmac43455-sdio", "broadcom", "BCM43455"),
    ("brcm,bcm63138", "broadcom", "BCM63138"),
    ("qcom,ipq4019", "qualcomm", "IPQ4019"),
    ("sony,imx335", "sony", "IMX335"),
])
def test_each_chip_name_reads_as_one_maker_and_model(value, maker, model):
    found = {(chip.maker, m) for chip in builtin().chips if (m := chip.model(value))}
    assert found == {(maker, model)}


@pytest.mark.parametrize("value", ["t31", "hi", "mt", "board-v2", "x86_64", "imx", "sd card",
                                   "rk", "hi35", "ipq", "zx2791"])
def test_fragments_read_as_no_chip(value):
    assert not [chip for chip in builtin().chips if chip.model(value)]


def test_the_readme_section_states_the_weights_the_code_uses():
    import re as _re

    from provenance.parts import MAX_CHOICES, MAX_USB_IDS, WEIGHTS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Hardware parts"):readme.index("## Report fields")]
    stated = sorted(float(w) for w in _re.findall(r"\| (0\.\d+) \|$", section, _re.MULTILINE))
    assert stated == sorted(w for k, w in WEIGHTS.items() if k != "driver")
    assert f"more than {MAX_USB_IDS} USB ids" in section
    assert f"more than {MAX_CHOICES} models of one class" in section


def test_a_compressed_document_is_documentation_too():
    # Debian keeps changelogs gzipped: the text is the member of a .gz under /usr/share/doc
    text = Facts(format="data", items=(Fact("content.type", "text", "x"),))
    for doc in ("fw.bin!/usr/share/doc/hostapd/changelog.gz!/changelog",
                "fw.bin!/usr/share/man/man8/insmod.8.gz!/insmod.8",
                "fw.bin!/usr/share/doc/hostapd/examples.tar!/examples/rcS"):
        assert wanted(doc, text, [], 100) is None, doc
    assert wanted("fw.bin!/etc/init.d/rcS.gz!/rcS", text, [], 100) is True
