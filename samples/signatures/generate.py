# ruff: noqa: E501  (one sample per line reads like a table)
"""Generate the positive and near-miss negative samples of every YARA rule in signatures/yara/.

Deterministic: the same bytes on every run (no time, no randomness). Synthetic only: layouts and
strings follow ../shared/reference/catalog.md §4 and §6, nothing is copied from a real product.
Usage: python samples/signatures/generate.py [OUTDIR]   (default: this directory)

Files are written as OUTDIR/<rule_id>/positive-<name>.bin and negative-<name>.bin.
`negative-falsefriend-*` samples encode a catalog §6 false friend: no rule at all may fire on them.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

Samples = dict[str, dict[str, bytes]]  # rule id -> file name -> bytes


def filler(n: int, seed: int = 1) -> bytes:
    """Deterministic pseudo-random bytes (an LCG), so samples are not all zeros."""
    out = bytearray()
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


def cstrings(*items: str | bytes) -> bytes:
    return b"\0".join(i.encode() if isinstance(i, str) else i for i in items) + b"\0"


def elf(*items: str | bytes) -> bytes:
    """A minimal 32-bit little-endian ELF header followed by a string blob."""
    head = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HHI", 1, 40, 1)
    return head.ljust(52, b"\0") + cstrings(*items)


def pe(*items: str | bytes, cert: bytes = b"") -> bytes:
    """A minimal PE: MZ header, e_lfanew=0x40, PE signature, then strings and a certificate blob."""
    mz = bytearray(b"MZ" + bytes(0x3E))
    mz[0x3C:0x40] = struct.pack("<I", 0x40)
    body = bytes(mz) + b"PE\0\0" + struct.pack("<HH", 0x8664, 1) + bytes(0xF4)
    return body + cstrings(*items) + cert


def wide(s: str) -> bytes:
    return s.encode("utf-16-le")


def der_name(name: str, oid_last: int = 0x0A, tag: int = 0x0C) -> bytes:
    """An X.509 Name with one attribute (O by default) as DER: SEQ { SET { SEQ { OID, string } } }."""
    value = bytes([tag, len(name)]) + name.encode()
    atv = b"\x06\x03\x55\x04" + bytes([oid_last]) + value
    seq = b"\x30" + bytes([len(atv)]) + atv
    rdn = b"\x31" + bytes([len(seq)]) + seq
    return b"\x30" + bytes([len(rdn)]) + rdn


def cert(*names: str) -> bytes:
    """A certificate-shaped blob: issuer and subject names in DER (enough for the signer rules)."""
    return b"\x30\x82\x01\x00" + b"".join(der_name(n) for n in names) + filler(32, 7)


OPTION_KO = elf(
    "alias=usb:v12D1p1001d*dc*dsc*dp*ic*isc*ip*in*", "alias=usb:v12D1p1003d*dc*dsc*dp*ic*isc*ip*in*",
    "alias=usb:v19D2p0002d*dc*dsc*dp*ic*isc*ip*in*", "author=Matthias Urlichs <smurf@smurf.noris.de>",
    "description=USB Driver for GSM modems", "license=GPL", "HUAWEI_VENDOR_ID", "Huawei E220 modem quirk",
    struct.pack("<HHHH", 0x12D1, 0x1001, 0x12D1, 0x1003),
)  # catalog §5: option.ko lists Huawei/ZTE USB ids; it is supports, never made-by


def update_app(lone_magic: bool = False, name: bytes = b"SYSTEM") -> bytes:
    hdr = b"\x55\xaa\x5a\xa5" + struct.pack("<II", 98 + 4, 1) + b"HW7x27xx" + struct.pack("<II", 1, 16)
    hdr += b"2015.01.01".ljust(16, b"\0") + b"12.00.00".ljust(16, b"\0") + name.ljust(16, b"\0")
    hdr += bytes(16) + struct.pack("<HHH", 0xBEEF, 0x1000, 0) + b"\x12\x34\x56\x78"
    if lone_magic:
        return bytes(92) + b"\x55\xaa\x5a\xa5" + filler(120, 3)
    return bytes(92) + hdr + filler(16, 2)


def hwnp(item_size: int = 360) -> bytes:
    head = b"HWNP" + struct.pack("<IIIII", 0x1000, 0xDEADBEEF, 36 + 16 + 360, 0x1234, 1)
    head += struct.pack("<BBHII", 0, 0, 16, item_size, 0)
    item = struct.pack("<IIII", 0, 0xCAFEBABE, 0x200, 64) + b"flash:rootfs".ljust(256, b"\0")
    item += b"ROOTFS".ljust(16, b"\0") + b"V500R020C10".ljust(64, b"\0") + struct.pack("<II", 0, 0)
    return head + b"164C|15AD|;E8C|".ljust(16, b"\0") + item


DIGICAP_KEY = bytes.fromhex("BACDBCFED6CADDD3BAB9A3ABBFCBB5BE")


def xor16(data: bytes) -> bytes:
    return bytes(b ^ DIGICAP_KEY[(i + (i >> 4)) & 0xF] for i, b in enumerate(data))


def digicap(header_length: int = 0x98, files: int = 2, obfuscate: bool = True) -> bytes:
    head = b"SWKH" + struct.pack("<8I", 0x1234, header_length, files, 1, 0x21, 0x1, 0x5040000, 0)
    table = b"".join(n.ljust(32, b"\0") + struct.pack("<3I", 0x98 + 64 * i, 64, 0)
                     for i, n in enumerate((b"_cfgUpgClass", b"update.img")))
    raw = head.ljust(0x40, b"\0") + table
    raw = raw.ljust(0x98, b"\0")
    return xor16(raw) if obfuscate else raw


def zip_local(magic: bytes, *names: str) -> bytes:
    out = b""
    for n in names:
        out += magic + struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0, 0, 4, 4, len(n), 0) + n.encode()
        out += b"data"
    return out


def zte_config(header: bool = True, model: str = "ZXHN H298N") -> bytes:
    out = b""
    if header:
        words = [0] * 28
        words[2], words[13], words[14] = 4, 128, 64
        out = bytes.fromhex("99999999" "44444444" "55555555" "AAAAAAAA") + struct.pack(">28I", *words)
    out += bytes.fromhex("04030201") + struct.pack(">II", 0, len(model)) + model.encode()
    out += bytes.fromhex("01020304") + struct.pack(">I", 2) + filler(32, 5)
    return out


def build() -> Samples:
    s: Samples = {}

    def add(rule: str, name: str, data: bytes) -> None:
        s.setdefault(rule, {})[name + ".bin"] = data

    # Huawei
    add("huawei_update_app", "positive-update-app", update_app())
    add("huawei_update_app", "negative-falsefriend-lone-magic", update_app(lone_magic=True))
    add("huawei_update_app", "negative-falsefriend-dma-test-pattern",
        filler(64) + b"\x55\xaa\x5a\xa5" * 8 + filler(64, 9))
    add("huawei_update_app", "negative-name-not-text", update_app(name=b"SYS\x01TEM"))
    add("huawei_update_app", "negative-name-not-padded", update_app(name=b"SYSTEM\0\0junk"))
    # architecture review §2.4 B: a RAM-test fill, then the magic at 92 and a plausible header
    add("huawei_update_app", "negative-falsefriend-ram-test-pattern",
        b"\xa5\x5a" * 46 + b"\x55\xaa\x5a\xa5" + struct.pack("<I", 200) + b"ABCDEFGH" + bytes(4)
        + struct.pack("<I", 16) + bytes(4096))
    add("huawei_hwnp", "positive-hwnp", hwnp())
    add("huawei_hwnp", "negative-implausible-item-size", hwnp(item_size=0x01000000))
    add("huawei_hwnp", "negative-magic-in-text", b"usage: hwfw unpack HWNP image.bin\n")
    add("huawei_ont_config", "positive-rootfs-strings",
        elf("/mnt/jffs2/hw_ctree.xml", "/etc/wap/hw_default_ctree.xml", "/etc/wap/aes_string"))
    add("huawei_ont_config", "negative-one-name", b"backup file: hw_ctree.xml\n")
    add("huawei_liteos", "positive-kernel", elf("********Hello Huawei LiteOS********", "V200R001C10B035",
                                                "LOS_TaskCreate"))
    add("huawei_liteos", "negative-readme-mention", b"This port was inspired by Huawei LiteOS.\n")
    add("huawei_liteos", "negative-api-name-only", elf("LOS_TaskCreate", "LOS_KernelInit"))
    add("huawei_secure_c", "positive-branded", elf("Huawei Secure C V100R001C01SPC004", "getHwSecureCVersion"))
    add("huawei_secure_c", "positive-debranded", elf("Secure C V100R001C01SPC010B002", "GetHwSecureCVersion"))
    add("huawei_secure_c", "negative-generic-bounds-checking", elf("memcpy_s", "strcpy_s", "securec.h"))
    add("huawei_secure_c", "negative-version-without-api", elf("Secure C V100R001C01SPC010B002"))
    add("huawei_windows_driver", "positive-driver", pe("C:\\build\\HwOs2Ecx64.pdb", wide("Huawei MateBook")))
    add("huawei_windows_driver", "negative-blocklist-text",
        b"rule blocklist: HwOs2Ecx64.pdb HwOs2Ec10x64_C233.pdb Huawei MateBook\n")
    add("huawei_windows_driver", "negative-pe-pdb-only", pe("C:\\build\\HwOs2Ecx64.pdb"))
    add("huawei_signed_generic_driver", "positive-winio",
        pe("d:\\winio\\winio64.pdb", cert=cert("Huawei Technologies Co., Ltd.")))
    add("huawei_signed_generic_driver", "negative-winio-unsigned",
        pe("d:\\winio\\winio64.pdb", cert=cert("Example Driver Vendor Ltd.")))
    add("huawei_signer", "positive-signed-pe", pe("hello", cert=cert("Huawei Device Co., Ltd.")))
    add("huawei_signer", "negative-name-in-text-pe", pe("Huawei Technologies Co., Ltd. compatible device"))
    add("huawei_signer", "negative-falsefriend-option-ko", OPTION_KO)
    add("huawei_copyright", "positive-banner",
        elf("Copyright (c) Huawei Technologies Co., Ltd. 2013-2020. All rights reserved."))
    add("huawei_copyright", "negative-falsefriend-option-ko", OPTION_KO)
    add("huawei_copyright", "negative-falsefriend-jv-name",
        b"Copyright (c) 2006 Huawei-3Com Technologies Co., Ltd. Aolynk WUB300g\n")
    add("huawei_name", "positive-name", pe(wide("Huawei Technologies Co., Ltd.")))
    add("huawei_name", "negative-falsefriend-option-ko", OPTION_KO)
    add("huawei_name", "negative-falsefriend-huawei-symantec", b"00:22:A1 Huawei Symantec Technologies Co.,Ltd.\n")
    add("huawei_name", "negative-falsefriend-huawei-3com", b"1472  Huawei-3Com\n")

    # HiSilicon and Goke
    add("hisilicon_mpp_version", "positive-libmpi",
        elf("HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release", "HI_MPI_SYS_Init", "HI_MPI_VB_Init"))
    add("hisilicon_mpp_version", "negative-goke-lineage", elf("HI_MPI_SYS_Init", "GK_API_SYS_Init", "goke,sys"))
    add("hisilicon_mpp_version", "negative-version-only-text", b"HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030\n")
    add("hisilicon_kernel_module", "positive-sys-ko",
        elf("hisilicon,hisi-sys", "[SYS] Version: [Hi3516EV200_MPP_V1.0.1.2 B030 Release], Build Time[x]",
            "license=Proprietary"))
    add("hisilicon_kernel_module", "negative-dts-text", b'sys: sys@12020000 { compatible = "hisilicon,hisi-sys"; };\n')
    add("hisilicon_kernel_module", "negative-proprietary-ko", elf("license=Proprietary", "vendor,foo-sys"))
    add("hisilicon_boot_markers", "positive-bootargs",
        b"mem=64M console=ttyAMA0,115200 mtdparts=hi_sfc:256k(boot),-(rootfs) mmz_allocator=hisi\n")
    add("hisilicon_boot_markers", "negative-falsefriend-generic-arm-cmdline",
        b"console=ttyAMA0,115200 root=/dev/mtdblock2 mtdparts=spi0.0:256k(boot),-(rootfs)\n")
    add("hisilicon_boot_markers", "negative-one-marker", b"Welcome to HiLinux.\n")
    add("hisilicon_goke_lineage", "positive-goke-libhi-mpi",
        elf("libhi_mpi.so", "HI_MPI_SYS_Init", "HI_MPI_SYS_Exit", "GK_API_SYS_Init", "libgk_api.so"))
    add("hisilicon_goke_lineage", "negative-real-hisilicon",
        elf("HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release", "HI_MPI_SYS_Init", "GK_API_SYS_Init"))
    add("hisilicon_goke_lineage", "negative-gk-only", elf("GK_API_SYS_Init", "goke,sys"))
    add("hisilicon_name", "positive-name", b"Hisilicon Technologies Co., Ltd\n")
    add("hisilicon_name", "negative-short-name", b"hisi_sfc hisi-femac\n")
    add("goke_gk_api", "positive-libgk-api", elf("GK_API_SYS_Init", "VERSION=MPP_V1.0.1.0 B020 Release"))
    add("goke_gk_api", "negative-gk-api-only", elf("GK_API_SYS_Init"))
    add("goke_gk_api", "negative-hisilicon-version", elf("HI_MPI_SYS_Init", "VERSION=MPP_V1.0.1.0 B020 Release"))

    # Hikvision and EZVIZ
    add("hikvision_digicap", "positive-digicap", digicap())
    add("hikvision_digicap", "negative-plain-magic", digicap(obfuscate=False))
    add("hikvision_digicap", "negative-bad-header-length", digicap(header_length=0x7FFFFFF0))
    add("hikvision_hcnetsdk", "positive-vms-elf", elf("libhcnetsdk.so", "libHCCore.so", "NET_DVR_Init",
                                                      "NET_DVR_Login_V40"))
    add("hikvision_hcnetsdk", "negative-python-wrapper",
        b"import ctypes\nsdk = ctypes.CDLL('libhcnetsdk.so')\nsdk.NET_DVR_Init()\n")
    add("hikvision_hcnetsdk", "negative-api-only-elf", elf("NET_DVR_Init"))
    add("hikvision_copyright", "positive-banner",
        b"/* @Copyright Hikvision Digital Technology Co., Ltd. All Right Reserved */\n")
    add("hikvision_copyright", "negative-compat-mention",
        b"Works with cameras from Hikvision Digital Technology and others.\n")
    add("hikvision_signer", "positive-signed-pe", pe("x", cert=cert("Hangzhou Hikvision Digital Tech.Co.,Ltd")))
    add("hikvision_signer", "negative-name-in-text-pe", pe("Hangzhou Hikvision Digital Tech.Co.,Ltd"))
    add("hikvision_name", "positive-name", b"Hangzhou Hikvision Digital Technology Co.,Ltd.\n")
    add("hikvision_name", "negative-falsefriend-hikari", b"hikari 0.9: connection pool (HikariCP)\n")
    add("hikvision_name", "negative-prama-jv", b"Prama Hikvision India Private Limited\n")
    add("ezviz_opensdk", "positive-dex-class", b"dex\n035\0" + cstrings("Lcom/videogo/openapi/EZOpenSDK;"))
    add("ezviz_opensdk", "negative-third-party-client", b"pyezviz: EZVIZ cloud API client for Home Assistant\n")

    # Dahua
    add("dahua_dh_zip", "positive-dh-zip",
        zip_local(b"DH\x03\x04", "Install.lua", "kernel.img", "romfs-x.squashfs.img", "check.img"))
    add("dahua_dh_zip", "negative-dh-magic-generic-members", zip_local(b"DH\x03\x04", "readme.txt", "data.bin"))
    add("dahua_dh_zip", "negative-pk-zip", zip_local(b"PK\x03\x04", "kernel.img", "check.img"))
    add("dahua_sonia", "positive-app-sh", b"#!/bin/sh\nunlzma /var/tmp/sonia.lzma\n/usr/bin/sonia &\n"
        b"cat /mnt/mtd/Config/network\n")
    add("dahua_sonia", "negative-sonia-only", b"#!/bin/sh\n/usr/bin/sonia &\n")
    add("dahua_sonia", "negative-config-only", b"ls /mnt/mtd/Config\n")
    add("dahua_dhnetsdk", "positive-vms-pe", pe("dhnetsdk.dll", "CLIENT_Init", "CLIENT_Login", "CLIENT_Logout"))
    add("dahua_dhnetsdk", "negative-generic-client-api", elf("CLIENT_Init", "CLIENT_Login", "libgameclient.so"))
    add("dahua_dhnetsdk", "negative-python-wrapper", b"sdk = CDLL('libdhnetsdk.so')\nsdk.CLIENT_Init()\n"
        b"sdk.CLIENT_Login()\n")
    add("dahua_name", "positive-name", b"Zhejiang Dahua Technology Co., Ltd.\n")
    add("dahua_name", "negative-falsefriend-scale-factory", b"Shanghai Dahua Scale Factory\n")
    add("dahua_name", "negative-falsefriend-pypi-dahua", b"Name: dahua\nSummary: a joke package\n")

    # ZTE and Sanechips
    add("zte_config_bin", "positive-config-with-header", zte_config())
    add("zte_config_bin", "positive-config-f600w", zte_config(header=False, model="F600W"))
    add("zte_config_bin", "negative-model-in-html", b"<title>ZXHN H298N</title>\n")
    add("zte_config_bin", "negative-header-only", zte_config()[:128] + filler(64, 4))
    add("zte_name", "positive-name", b"ZTE Corporation\n")
    add("zte_name", "negative-falsefriend-ztest", b"ztest ztensor Aztech ZTEC Instruments\n")
    add("zte_zxhn_model", "positive-model", b"ModelName=ZXHN H168N V3.5\n")
    add("zte_zxhn_model", "negative-falsefriend-ztest", b"ztest: run zxhn-like tests\n")
    add("sanechips_copyright", "positive-banner", b" * Copyright (C) 2017 Sanechips Technology Co., Ltd.\n")
    add("sanechips_copyright", "negative-email-only", b"Author: dev@sanechips.com.cn\n")

    # Kaspersky
    add("kaspersky_signer", "positive-signed-pe", pe("avp", cert=cert("AO Kaspersky Lab")))
    add("kaspersky_signer", "negative-name-in-text-pe", pe("Uninstall Kaspersky Lab products first"))
    add("kaspersky_kav_sdk", "positive-engine", elf("KAV SDK v8.9.2.595"))
    add("kaspersky_kav_sdk", "negative-unversioned", b"Supports the KAV SDK engine.\n")
    add("kaspersky_tls_root", "positive-trust-store",
        b"# CN=Kaspersky Anti-Virus Personal Root Certificate, O=AO Kaspersky Lab\n")
    add("kaspersky_tls_root", "negative-product-name", b"Kaspersky Anti-Virus 2024 is not installed\n")
    add("kaspersky_name", "positive-name", b"Kaspersky Lab JSC\n")
    add("kaspersky_name", "negative-unofficial-client", b"kasperskytip: unofficial threat-intel client\n")

    # DJI, Autel, Honor, Fibocom, Quectel, Hytera, Lorex
    add("dji_signer", "positive-signed-pe", pe("x", cert=cert("SZ DJI Technology Co., Ltd.")))
    add("dji_signer", "negative-name-in-text-pe", pe("SZ DJI Technology Co., Ltd. drones supported"))
    add("dji_name", "positive-name", b"SZ DJI Technology Co., Ltd.\n")
    add("dji_name", "negative-falsefriend-djinn", b"djinn djitellopy django\n")
    # rdma-core hns provider: hns_roce_u_* names plus a verbs PCI match table of 19e5:a22x ids
    hns_table = b"".join(bytes(8) + struct.pack("<HHI", 0x19E5, dev, 1) + bytes(8)
                         for dev in (0xA222, 0xA223, 0xA224, 0xA225))
    add("hisilicon_hns_roce_provider", "positive-libhns",
        elf("hns_roce_u_reg_mr", "%s: %s:%d: hns: failed to handle recv inline wqe!") + hns_table)
    mlx_table = b"".join(bytes(8) + struct.pack("<HHI", 0x15B3, dev, 1) + bytes(8)
                         for dev in (0x1013, 0x1015, 0x1017))
    add("hisilicon_hns_roce_provider", "negative-mellanox-provider",
        elf("mlx5_alloc_context", "mlx5: failed to map doorbell page") + mlx_table)
    add("hisilicon_hns_roce_provider", "negative-names-without-device-table",
        elf("hns_roce_u_reg_mr", "# symbols exported by providers/hns, for the ABI checker"))
    add("autel_name", "positive-name", b"Autel Robotics USA LLC\n")
    add("autel_name", "negative-falsefriend-autelan", b"Beijing Autelan Technology Co.,Ltd; Autelis, LLC\n")
    add("honor_signer", "positive-signed-pe", pe("x", cert=cert("Honor Device Co., Ltd.")))
    add("honor_signer", "negative-name-in-text-pe", pe("Honor Device Co., Ltd."))
    add("fibocom_signer", "positive-signed-pe", pe("x", cert=cert("Fibocom Wireless Inc.")))
    add("fibocom_signer", "negative-name-in-text-pe", pe("Fibocom Wireless Inc."))
    add("quectel_name", "positive-name", b"Quectel Wireless Solutions Co., Ltd.\n")
    add("quectel_name", "negative-third-party-package", b"quectel-at: AT commands for Quectel modules\n")
    add("hytera_name", "positive-name", b"Hytera Communications Corporation Limited\n")
    add("hytera_name", "negative-third-party-package", b"hyteratak hytera-homebrew-bridge\n")
    add("lorex_name", "positive-name", b"Lorex Technology Inc.\n")
    add("lorex_name", "negative-falsefriend-jorex", b"Jorex Lorex India Private Limited\n")
    return s


def write(out: Path, samples: Samples | None = None) -> list[Path]:
    written = []
    for rule, files in sorted((samples or build()).items()):
        folder = out / rule
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in sorted(files.items()):
            path = folder / name
            path.write_bytes(data)
            path.chmod(0o644)
            written.append(path)
    return written




def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent
    print(f"{len(write(out))} samples written to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
