"""Generated firmware trees for parts inference (tests/test_parts.py).

Each builder writes a small rootfs under a directory: device trees compiled by the real `dtc`,
ELF libraries and kernel modules from samples/elfgen.py, U-Boot images as binaries holding the
banner strings U-Boot prints, and the scripts, udev rules and usb_modeswitch entries a product
or a distribution ships. `views` reads such a tree the way the pipeline will: identify's facts
from `provenance.identify.identify` and the text sample from `provenance.parts.text_sample`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from elfgen import ElfSpec, build

from provenance.identify import identify
from provenance.model import Artifact
from provenance.parts import BlobView, blob_view

HAVE_DTC = shutil.which("dtc") is not None
CONTAINER = "fw.bin!/rootfs.squashfs"


def views(root: Path, container: str = CONTAINER) -> list[BlobView]:
    """One BlobView per file under `root`, located inside `container` as the pipeline names it."""
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        chain = (*container.split("!/"), rel)
        data = path.read_bytes()
        artifact = Artifact(chain, "0" * 64, len(data), "file", len(chain) - 1, path)
        facts, _ = identify(artifact, data[:4096])
        out.append(blob_view(artifact.path, facts, data))
    return out


def put(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def dtb(root: Path, rel: str, compatible: list[str], model: str,
        nodes: dict[str, str] | None = None) -> Path:
    """A device tree compiled by dtc: root `compatible` and `model`, plus peripheral nodes
    (name -> compatible)."""
    quoted = ", ".join(f'"{c}"' for c in compatible)
    body = "".join(f'\t{name} {{\n\t\tcompatible = "{compat}";\n\t}};\n'
                   for name, compat in (nodes or {}).items())
    source = f'/dts-v1/;\n/ {{\n\tmodel = "{model}";\n\tcompatible = {quoted};\n' \
             f'\t#address-cells = <1>;\n\t#size-cells = <1>;\n{body}}};\n'
    out = root / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dtc", "-I", "dts", "-O", "dtb", "-o", str(out), "-"], input=source.encode(),
                   check=True, capture_output=True)
    return out


def elf(root: Path, rel: str, **spec: object) -> Path:
    return put(root, rel, build(ElfSpec(**spec)))  # type: ignore[arg-type]


def u_boot(root: Path, rel: str, lines: list[str]) -> Path:
    """A U-Boot image: code bytes around the NUL-terminated strings it prints."""
    body = b"\x00\x00\xa0\xe1" * 64 + b"".join(s.encode() + b"\0" for s in lines)
    return put(root, rel, b"\x27\x05\x19\x56" + body + b"\xff" * 256)


# -- products ------------------------------------------------------------------------------


def hisilicon_camera(root: Path) -> Path:
    """An IP camera on a Hi3516EV200 with one IMX307 sensor."""
    dtb(root, "boot/hi3516ev200-demb.dtb", ["hisilicon,hi3516ev200-demb", "hisilicon,hi3516ev200"],
        "Hisilicon HI3516EV200 DEMO Board", {"ethernet@10040000": "hisilicon,hi3516ev200-femac"})
    u_boot(root, "boot/u-boot.bin", ["U-Boot 2016.11 (Mar 02 2021 - 10:11:12 +0800)",
                                     "hisilicon # ", "bootm 0x42000000"])
    elf(root, "usr/lib/libmpi.so", soname="libmpi.so", exports=["HI_MPI_SYS_Init"],
        strings=["HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release", "mpi sys init"])
    elf(root, "usr/lib/libsns_imx307.so", soname="libsns_imx307.so",
        exports=["stSnsImx307Obj"])
    put(root, "etc/init.d/S90app", "#!/bin/sh\n/usr/bin/ipcam &\n")
    return root


def huawei_lte_router(root: Path) -> Path:
    """A MediaTek MT7621 router carrying a Huawei LTE module it selects by USB id and dials
    with Huawei AT commands."""
    dtb(root, "boot/mt7621-router.dtb", ["acme,lte-router", "mediatek,mt7621-soc"],
        "ACME LTE Router")
    put(root, "etc/udev/rules.d/70-modem.rules",
        '# the LTE module on the mini-PCIe slot\n'
        'ACTION=="add", SUBSYSTEM=="usb", ATTRS{idVendor}=="12d1", ATTRS{idProduct}=="1506", '
        'RUN+="/usr/sbin/lte-up"\n')
    put(root, "usr/sbin/lte-dial.sh",
        "#!/bin/sh\nTTY=/dev/ttyUSB0\n"
        "echo -e 'AT^SYSCFGEX=\"03\",3fffffff,1,2,7fffffffffffffff,,\\r' > $TTY\n"
        "sleep 1\n"
        "echo -e 'AT^NDISDUP=1,1,\"internet\"\\r' > $TTY\n"
        "udhcpc -i wwan0\n")
    elf(root, "lib/modules/5.4.0/option.ko",
        modinfo={"license": ["GPL"], "alias": ["usb:v12D1p1506d*dc*dsc*dp*ic*isc*ip*in*",
                                               "usb:v19D2p0117d*dc*dsc*dp*ic*isc*ip*in*"]})
    return root


def zte_ont(root: Path) -> Path:
    """A ZTE ONT on a Sanechips ZX279128S: U-Boot banner and the stock device tree."""
    u_boot(root, "boot/uboot.bin", ["U-Boot 2013.04 (Jun 11 2019 - 09:30:00)",
                                    "CPU : ZX279128S", "Board: ZTE zx279128sevb",
                                    "*** Press 1 means entering boot mode***"])
    dtb(root, "boot/zx279128s.dtb", ["zte,zx279128s-evb"], "ZTE ZX279128S EVB",
        {"usb@1000000": "zte,zx279128-dwc3"})
    put(root, "etc/init.d/rcS", "#!/bin/sh\nmount -a\n/bin/cspd &\n")
    return root


def huawei_ont(root: Path) -> Path:
    """A Huawei EchoLife-style ONT whose own init script loads the HiSilicon PON drivers."""
    put(root, "etc/rc.d/rc.start/1.sdk_init.sh",
        "#!/bin/sh\ncd /lib/modules/hisi_sdk\n"
        "insmod /lib/modules/wap/hw_soc_sd5115_basic.ko\n"
        "if [ ${var_xpon_mode} == \"1\" ]; then\n    insmod hi_gpon.ko\nfi\n")
    elf(root, "lib/modules/hisi_sdk/hi_gpon.ko", modinfo={"license": ["Proprietary"]})
    return root


def generic_distro(root: Path) -> Path:
    """A distribution's tree: drivers and databases for many devices, selecting none."""
    for n, (name, compatible) in enumerate([
        ("hisilicon/hi3660-hikey960.dtb", ["hisilicon,hi3660-hikey960", "hisilicon,hi3660"]),
        ("rockchip/rk3399-rockpro64.dtb", ["pine64,rockpro64", "rockchip,rk3399"]),
        ("allwinner/sun50i-h616-orangepi-zero2.dtb", ["xunlong,orangepi-zero2",
                                                      "allwinner,sun50i-h616"]),
        ("broadcom/bcm2711-rpi-4-b.dtb", ["raspberrypi,4-model-b", "brcm,bcm2711"]),
    ]):
        dtb(root, f"boot/dtbs/{name}", compatible, f"board {n}")
    elf(root, "lib/modules/6.1.0/kernel/drivers/usb/serial/option.ko",
        modinfo={"license": ["GPL"], "alias": [
            f"usb:v{v}p{p}d*dc*dsc*dp*ic*isc*ip*in*"
            for v, p in [("12D1", "1506"), ("12D1", "14AC"), ("19D2", "0117"), ("2C7C", "0125")]]},
        strings=["usb:v12D1p1506d*", "12d1:1506"])
    elf(root, "lib/modules/6.1.0/kernel/drivers/net/usb/qmi_wwan.ko",
        modinfo={"license": ["GPL"], "alias": ["usb:v12D1p14ACd*dc*dsc*dp*ic*isc*ip*in*"]})
    elf(root, "usr/lib/aarch64-linux-gnu/ModemManager/libmm-plugin-huawei.so",
        soname="libmm-plugin-huawei.so",
        strings=["AT^NDISDUP=%u,1,\"%s\"", "AT^SYSCFGEX?", "AT^NDISSTATQRY?"])
    rules = "".join(
        f'ATTR{{idVendor}}=="{v}", ATTR{{idProduct}}=="{p}", RUN+="usb_modeswitch \'/%k\'"\n'
        for v, p in [("12d1", "1446"), ("12d1", "14d1"), ("19d2", "2000"), ("19d2", "1001"),
                     ("0af0", "6971"), ("1410", "5010"), ("2c7c", "0125")])
    put(root, "lib/udev/rules.d/40-usb_modeswitch.rules", "# usb_modeswitch rules\n" + rules)
    put(root, "lib/udev/rules.d/77-mm-huawei-net-port-types.rules",
        'ACTION!="add|change|move|bind", GOTO="mm_huawei_port_types_end"\n'
        'ATTRS{idVendor}=="12d1", ENV{ID_MM_HUAWEI_NDISDUP_SUPPORTED}="1"\n')
    for v, p in [("12d1", "1446"), ("12d1", "14d1"), ("12d1", "1f01"), ("12d1", "1c0b"),
                 ("12d1", "15ca"), ("19d2", "2000")]:
        put(root, f"usr/share/usb_modeswitch/{v}:{p}",
            f"# Huawei and ZTE sticks\nTargetClass=0xff\nDefaultVendor=0x{v}\n"
            f"DefaultProduct=0x{p}\nMessageContent=\"55534243123456780000000000000011\"\n")
    put(root, "usr/lib/netifd/proto/wwan-any.sh",
        "#!/bin/sh\ncase \"$vendor\" in\n"
        "  huawei) at_command='AT^NDISDUP=1,1' ;;\n"
        "  zte) at_command='AT+ZECMCALL=1' ;;\n"
        "  quectel) at_command='AT+QNETDEVCTL=1,3,1' ;;\nesac\n")
    put(root, "etc/os-release", 'PRETTY_NAME="Generic Linux 12"\n')
    return root


def ingenic_camera(root: Path) -> Path:
    u_boot(root, "boot/u-boot-with-spl.bin", ["U-Boot SPL 2013.07 (Nov 02 2022)",
                                              "U-Boot 2013.07 (Nov 02 2022 - 18:01:02)",
                                              "Board: ISVP (Ingenic XBurst T31 SoC)",
                                              "isvp_t31# "])
    put(root, "etc/init.d/rcS", "#!/bin/sh\ninsmod /lib/modules/tx-isp-t31.ko\n")
    return root


def sigmastar_camera(root: Path) -> Path:
    u_boot(root, "boot/u-boot.bin", ["U-Boot 2015.01 (Sep 19 2020 - 19:24:19)",
                                     "MStar SD/MMC", "SigmaStar # "])
    put(root, "customer/demo.sh",
        "insmod /config/modules/4.9.84/mhal.ko\n"
        "insmod /config/modules/4.9.84/mi_common.ko\n"
        "insmod /config/modules/4.9.84/mi_sys.ko cmdQBufSize=256 logBufSize=256\n"
        "insmod /config/modules/4.9.84/mi_vif.ko\n"
        "#misc_mod_list_late\n"
        "insmod /config/modules/4.9.84/imx307_MIPI.ko chmap=1 lane_num=2 hdr_lane_num=2\n")
    return root


def rockchip_camera(root: Path) -> Path:
    dtb(root, "boot/rv1126-ipc.dtb", ["rockchip,rv1126-evb-ddr3-v13", "rockchip,rv1126"],
        "Rockchip RV1126 EVB DDR3 V13 Board", {"sensor@1a": "sony,imx335"})
    return root
