"""Fixture builders for the identify tests: real toolchains at test time, nothing binary committed.

Each builder writes into a directory it is given and returns the path it built. Builders that need
an external tool raise `Missing(reason)`, which tests turn into a skip, unless a golden copy of
what they build is committed (tests/golden/, see `or_golden`). Every fixture is described in
samples/README-identify.md.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import struct
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import golden


class Missing(Exception):
    """A tool the fixture needs is not installed."""


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise Missing(f"{tool} not installed (see tests/apt-packages-identify.txt)")
    return found


def or_golden(*keys: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Without its tools, the builder gives the committed golden copies of what it builds
    (`identify/<name>/<role>` in tests/golden/manifest.json; one key: a Path, several: a dict
    by role), written into its output directory (its last argument). `.tool` is the builder
    itself, for tests/golden/make.py."""

    def wrap(build: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(build)
        def built(*args: Any) -> Any:
            try:
                return build(*args)
            except Missing:
                if any(golden.entry(key) is None for key in keys):
                    raise
                out = Path(args[-1]) / "golden"
                paths = {key.rsplit("/", 1)[1]: golden.materialize(key, out) for key in keys}
                return paths if len(keys) > 1 else next(iter(paths.values()))

        built.tool = build  # type: ignore[attr-defined]
        return built

    return wrap


def _run(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, input=stdin, timeout=120)


# --- ELF -------------------------------------------------------------------------------------

LIB_C = r"""
const char hi_version[] = "Copyright (c) 2019 Huawei Technologies Co., Ltd. All rights reserved.";
int HI_MPI_SYS_Init(void) { return 0; }
int HI_MPI_SYS_Exit(void) { return 1; }
"""

EXE_C = r"""
#include <stdio.h>
extern int HI_MPI_SYS_Init(void);
int main(void) { puts("hi"); return HI_MPI_SYS_Init(); }
"""

# A kernel-module-shaped object: .modinfo strings as modpost and MODULE_* macros lay them out,
# plus a device-tree compatible string as of_device_id tables carry them.
KO_C = r"""
#define MI(tag, text) static const char __mod_##tag[] \
    __attribute__((section(".modinfo"), used, aligned(1))) = text
MI(author, "author=Huawei Technologies Co., Ltd.");
MI(description, "description=Huawei modem driver");
MI(license, "license=GPL");
MI(vermagic, "vermagic=4.9.37 SMP preempt mod_unload ARMv7 p2v8 ");
MI(alias1, "alias=usb:v12D1p1001d*dc*dsc*dp*ic*isc*ip*in*");
MI(alias2, "alias=pci:v000019E5d0000A250sv*sd*bc*sc*i*");
MI(name, "name=hw_modem");
static const char compat[] __attribute__((used)) = "hisilicon,hisi-sys";
int init_module(void) { return 0; }
"""

GO_MAIN = """package main

import "fmt"

func main() { fmt.Println("hi") }
"""


@or_golden("identify/elf/lib", "identify/elf/exe", "identify/elf/ko")
def build_elf(out: Path) -> dict[str, Path]:
    """libhi.so (SONAME, exports, .comment, RUNPATH), app (NEEDED, RPATH, interp, build-id), ko."""
    gcc = _need("gcc")
    out.mkdir(parents=True, exist_ok=True)
    (out / "hi.c").write_text(LIB_C)
    (out / "app.c").write_text(EXE_C)
    (out / "mod.c").write_text(KO_C)
    lib = out / "libhi.so"
    _run(gcc, "-shared", "-fPIC", "-o", str(lib), str(out / "hi.c"), "-Wl,-soname,libhi.so.1",
         "-Wl,--build-id=sha1", "-Wl,-rpath,/opt/hisi/lib", "-Wl,--enable-new-dtags")
    app = out / "app"
    _run(gcc, "-o", str(app), str(out / "app.c"), f"-L{out}", "-lhi", "-Wl,--build-id=sha1",
         "-Wl,-rpath,/opt/app/lib", "-Wl,--disable-new-dtags")
    ko = out / "hw_modem.ko"
    _run(gcc, "-c", "-o", str(ko), str(out / "mod.c"))
    return {"lib": lib, "exe": app, "ko": ko}


def build_go(out: Path) -> Path:
    go = _need("go")
    out.mkdir(parents=True, exist_ok=True)
    (out / "main.go").write_text(GO_MAIN)
    (out / "go.mod").write_text("module example.com/hello\n\ngo 1.19\n")
    binary = out / "hello"
    _run(go, "build", "-o", str(binary), ".", cwd=out)
    return binary


# --- PE --------------------------------------------------------------------------------------

RC = r"""
1 VERSIONINFO
FILEVERSION 3,1,0,7
PRODUCTVERSION 3,1,0,7
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "Huawei Technologies Co., Ltd."
      VALUE "ProductName", "HwOs2Ec"
      VALUE "FileDescription", "Huawei Test Driver"
      VALUE "LegalCopyright", "Copyright (C) 2021 Huawei Technologies Co., Ltd."
      VALUE "OriginalFilename", "HwOs2Ec.exe"
      VALUE "FileVersion", "3.1.0.7"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"""

PE_C = r"""
#include <windows.h>
int main(void) { MessageBoxA(0, "hi", "hi", 0); return (int)GetTickCount(); }
"""


@or_golden("identify/pe/exe")
def build_pe(out: Path) -> Path:
    """A mingw-w64 executable with a version resource and a CodeView (PDB path) record."""
    gcc = _need("x86_64-w64-mingw32-gcc")
    windres = _need("x86_64-w64-mingw32-windres")
    out.mkdir(parents=True, exist_ok=True)
    (out / "ver.rc").write_text(RC)
    (out / "main.c").write_text(PE_C)
    _run(windres, str(out / "ver.rc"), "-O", "coff", "-o", str(out / "ver.o"))
    exe = out / "HwOs2Ec.exe"
    _run(gcc, "-o", str(exe), str(out / "main.c"), str(out / "ver.o"), "-luser32",
         "-Wl,--build-id", "-Wl,--pdb=HwOs2Ec.pdb", cwd=out)
    return exe


CA_CONF = """[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
countryName = optional
organizationName = optional
commonName = supplied
[root]
basicConstraints = critical,CA:true
keyUsage = keyCertSign
[leaf]
extendedKeyUsage = codeSigning
keyUsage = digitalSignature
"""


def make_ca(out: Path, org: str = "Huawei Technologies Co., Ltd.",
            cn: str = "Huawei Code Signing") -> tuple[Path, Path, Path]:
    """A throw-away CA and a code-signing leaf signed by it: (ca.pem, leaf.pem, leaf.key).

    `openssl ca` backdates both (LIEF reports a certificate issued this second as CERT_FUTURE).
    """
    openssl = _need("openssl")
    out.mkdir(parents=True, exist_ok=True)
    (out / "ca.cnf").write_text(CA_CONF)
    (out / "index.txt").write_text("")
    ca_key, ca = out / "ca.key", out / "ca.pem"
    key, csr, leaf = out / "leaf.key", out / "leaf.csr", out / "leaf.pem"
    dates = ("-startdate", "20200101000000Z", "-enddate", "20400101000000Z")
    _run(openssl, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
         "-out", str(out / "ca.csr"), "-subj", "/C=CN/O=Test Root Org/CN=Test Root CA")
    (out / "serial").write_text("01\n")
    _run(openssl, "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", str(ca_key),
         "-in", "ca.csr", "-out", str(ca), "-extensions", "root", "-notext", *dates, cwd=out)
    _run(openssl, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(csr), "-subj", f"/C=CN/O={org}/CN={cn}")
    (out / "serial").write_text("1234ABCD\n")
    _run(openssl, "ca", "-batch", "-config", "ca.cnf", "-cert", str(ca), "-keyfile", str(ca_key),
         "-in", str(csr), "-out", str(leaf), "-extensions", "leaf", "-notext", *dates, cwd=out)
    return ca, leaf, key


@or_golden("identify/pe/signed")
def sign_pe(exe: Path, out: Path) -> Path:
    """Authenticode-sign `exe` with a throw-away certificate chain (osslsigncode)."""
    tool = _need("osslsigncode")
    ca, leaf, key = make_ca(out / "pki")
    chain = out / "pki" / "chain.pem"
    chain.write_bytes(leaf.read_bytes() + ca.read_bytes())
    signed = out / ("signed-" + exe.name)
    _run(tool, "sign", "-certs", str(chain), "-key", str(key), "-h", "sha256",
         "-n", "HwOs2Ec", "-in", str(exe), "-out", str(signed))
    return signed


# --- certificates, device trees --------------------------------------------------------------

def build_cert_blob(out: Path) -> tuple[Path, Path]:
    """A blob with a PEM certificate and a DER certificate embedded between junk bytes."""
    openssl = _need("openssl")
    out.mkdir(parents=True, exist_ok=True)
    key, pem = out / "c.key", out / "c.pem"
    _run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(pem), "-days", "365", "-subj",
         "/C=CN/O=Huawei Technologies Co., Ltd./CN=HUAWEI C2PA ECC384 Root CA E346")
    der = out / "c.der"
    _run(openssl, "x509", "-in", str(pem), "-outform", "DER", "-out", str(der))
    pem_blob = out / "pem.bin"
    pem_blob.write_bytes(b"\x00junk\x01" * 50 + pem.read_bytes() + b"\xff" * 100)
    der_blob = out / "der.bin"
    der_blob.write_bytes(b"\x7fjunk" * 33 + der.read_bytes() + b"\x00tail" * 20)
    return pem_blob, der_blob


DTS = """/dts-v1/;
/ {
    model = "Hisilicon HI3516CV300 DEMO Board";
    compatible = "hisilicon,hi3516cv300-demo", "hisilicon,hi3516cv300";
    #address-cells = <1>;
    #size-cells = <1>;
    soc {
        compatible = "simple-bus";
        sys@12020000 { compatible = "hisilicon,hisi-sys"; reg = <0x12020000 0x1000>; };
    };
};
"""


@or_golden("identify/dtb/dtb")
def build_dtb(out: Path) -> Path:
    dtc = _need("dtc")
    out.mkdir(parents=True, exist_ok=True)
    (out / "board.dts").write_text(DTS)
    dtb = out / "board.dtb"
    _run(dtc, "-I", "dts", "-O", "dtb", "-o", str(dtb), str(out / "board.dts"))
    return dtb


# --- firmware headers (layouts from catalog §4; no vendor bytes) -----------------------------

def uimage(name: bytes = b"Linux-4.9.37-hi3516cv300", payload: bytes = b"\0" * 64) -> bytes:
    import zlib

    dcrc = zlib.crc32(payload)
    hdr = struct.pack(">IIIIIIIBBBB32s", 0x27051956, 0, 1_500_000_000, len(payload), 0x80008000,
                      0x80008000, dcrc, 5, 2, 2, 0, name)
    hcrc = zlib.crc32(hdr)
    hdr = hdr[:4] + struct.pack(">I", hcrc) + hdr[8:]
    return hdr + payload


def update_app(hwids: tuple[bytes, ...] = (b"HW7x27\xff\xff", b"HI3798MV"),
               part: bytes = b"SYSTEM") -> bytes:
    blob = bytearray(b"\0" * 92)
    for seq, hw in enumerate(hwids):
        data = b"D" * 16
        header_len = 98 + 2  # fixed fields, then a 2-byte CRC table
        hdr = struct.pack("<III8sII16s16s16s16sHHH", 0xA55AAA55, header_len, 1, hw, seq,
                          len(data), b"2019.01.01", b"12.00.00", part, b"", 0, 0x1000, 0)
        blob += hdr + b"\0\0" + data
        while len(blob) % 4:
            blob += b"\0"
    return bytes(blob)


DIGICAP_KEY = bytes.fromhex("BACDBCFED6CADDD3BAB9A3ABBFCBB5BE")


def digicap(device_class: int = 0x2F, oem: int = 1, language: int = 2) -> bytes:
    hdr = struct.pack("<4sIIIIII", b"SWKH", 0, 0x98, 1, language, device_class, oem)
    table = b"_cfgUpgClass".ljust(32, b"\0") + struct.pack("<III", 0x98, 4, 0)
    hdr = hdr.ljust(0x40, b"\0") + table
    hdr = hdr.ljust(0x98, b"\0")
    enc = bytes(b ^ DIGICAP_KEY[(i + (i >> 4)) & 0xF] for i, b in enumerate(hdr))
    return enc + b"DATA"


def zte_config(model: bytes = b"ZXHN H298N") -> bytes:
    head = struct.pack(">IIII", 0x99999999, 0x44444444, 0x55555555, 0xAAAAAAAA)
    header = bytearray(head + b"\0" * (128 - 16))
    struct.pack_into(">I", header, 8, 0x55555555)
    sig = struct.pack(">III", 0x04030201, 0, len(model)) + model
    payload = struct.pack(">II", 0x01020304, 0) + b"\0" * 16
    return bytes(header) + sig + payload


DAHUA_HWID = b"IPC-HFW4431R-Z:01:02:03:00:04:00:01:00:00:00:00:00"


def dahua_zip(out: Path, hwid: bytes = DAHUA_HWID) -> Path:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("Install", "install script\n")
        zf.writestr("hwid", hwid)
        zf.writestr("kernel.img", b"\0" * 32)
    data = bytearray(raw.getvalue())
    data[0:2] = b"DH"
    path = out / "DH_IPC.bin"
    out.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


# --- Android and Java ------------------------------------------------------------------------

ANDROID_NS = "http://schemas.android.com/apk/res/android"
RES_IDS = {"versionCode": 0x0101021B, "versionName": 0x0101021C}


def axml(package: str, version_name: str, version_code: int, utf8: bool = False) -> bytes:
    """A minimal binary AndroidManifest.xml (string pool, resource map, start/end elements)."""
    strings = ["versionCode", "versionName", "android", ANDROID_NS, "package", "manifest",
               package, version_name, "uses-sdk"]

    def enc(s: str) -> bytes:
        if utf8:
            b = s.encode()
            return bytes([len(s), len(b)]) + b + b"\0"
        return struct.pack("<H", len(s)) + s.encode("utf-16-le") + b"\0\0"

    body = b""
    offsets = []
    for s in strings:
        offsets.append(len(body))
        body += enc(s)
    while len(body) % 4:
        body += b"\0"
    hdr_size = 28
    strings_start = hdr_size + 4 * len(strings)
    flags = 0x100 if utf8 else 0
    pool = struct.pack("<HHIIIIII", 1, hdr_size, strings_start + len(body), len(strings), 0,
                       flags, strings_start, 0)
    pool += b"".join(struct.pack("<I", o) for o in offsets) + body
    resmap = struct.pack("<HHI", 0x180, 8, 8 + 8) + struct.pack(
        "<II", RES_IDS["versionCode"], RES_IDS["versionName"])
    ns = struct.pack("<HHIII", 0x100, 16, 24, 1, 0xFFFFFFFF) + struct.pack("<II", 2, 3)

    def attr(ns_idx: int, name: int, raw: int, typ: int, data: int) -> bytes:
        return struct.pack("<IIIHBBI", ns_idx, name, raw, 8, 0, typ, data)

    attrs = [
        attr(3, 0, 0xFFFFFFFF, 0x10, version_code),
        attr(3, 1, 7, 0x03, 7),
        attr(0xFFFFFFFF, 4, 6, 0x03, 6),
    ]
    start = struct.pack("<II", 0xFFFFFFFF, 5) + struct.pack(
        "<HHHHHH", 20, 20, len(attrs), 0, 0, 0) + b"".join(attrs)
    start_chunk = struct.pack("<HHIII", 0x102, 16, 16 + len(start), 1, 0xFFFFFFFF) + start
    inner = struct.pack("<II", 0xFFFFFFFF, 8) + struct.pack("<HHHHHH", 20, 20, 0, 0, 0, 0)
    inner_chunk = struct.pack("<HHIII", 0x102, 16, 16 + len(inner), 2, 0xFFFFFFFF) + inner
    end_inner = (struct.pack("<HHIII", 0x103, 16, 24, 2, 0xFFFFFFFF)
                 + struct.pack("<II", 0xFFFFFFFF, 8))
    end = struct.pack("<HHIII", 0x103, 16, 24, 1, 0xFFFFFFFF) + struct.pack("<II", 0xFFFFFFFF, 5)
    chunks = pool + resmap + ns + start_chunk + inner_chunk + end_inner + end
    return struct.pack("<HHI", 3, 8, 8 + len(chunks)) + chunks


def pkcs7_signature(out: Path, content: bytes) -> bytes:
    """A detached PKCS#7 (DER) over `content` with a throw-away certificate, as META-INF/*.RSA."""
    openssl = _need("openssl")
    _ca, leaf, key = make_ca(out / "apkpki", org="Huawei Device Co., Ltd.", cn="HMS Core")
    (out / "sf").write_bytes(content)
    der = out / "sig.rsa"
    _run(openssl, "smime", "-sign", "-binary", "-noattr", "-in", str(out / "sf"), "-signer",
         str(leaf), "-inkey", str(key), "-outform", "DER", "-out", str(der))
    return der.read_bytes()


def apk_signing_block(cert_der: bytes, block_id: int = 0x7109871A) -> bytes:
    """An APK Signing Block with one v2-shaped signer carrying `cert_der` (no real signature)."""

    def lp(b: bytes) -> bytes:
        return struct.pack("<I", len(b)) + b

    certs = lp(lp(cert_der))
    signed_data = lp(b"") + certs + lp(b"")  # digests, certificates, additional attributes
    signer = lp(signed_data) + lp(b"") + lp(b"")  # signed data, signatures, public key
    value = lp(lp(signer))
    pair = struct.pack("<QI", 4 + len(value), block_id) + value
    size = len(pair) + 8 + 16
    return struct.pack("<Q", size) + pair + struct.pack("<Q", size) + b"APK Sig Block 42"


def build_apk(out: Path, cert_der: bytes | None = None) -> Path:
    """An APK-shaped zip: binary manifest, v1 signature files and (optionally) a v2 block."""
    out.mkdir(parents=True, exist_ok=True)
    sf = b"Signature-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n"
    rsa = pkcs7_signature(out, sf)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("AndroidManifest.xml", axml("com.huawei.hwid", "6.12.0.300", 61200300))
        zf.writestr("classes.dex", b"dex\n035\0")
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n")
        zf.writestr("META-INF/CERT.SF", sf)
        zf.writestr("META-INF/CERT.RSA", rsa)
    data = raw.getvalue()
    if cert_der is not None:  # splice a signing block in front of the central directory
        eocd = data.rfind(b"PK\x05\x06")
        cd_off = struct.unpack_from("<I", data, eocd + 16)[0]
        block = apk_signing_block(cert_der)
        eocd_new = data[eocd:eocd + 16] + struct.pack("<I", cd_off + len(block)) + data[eocd + 20:]
        data = data[:cd_off] + block + data[cd_off:eocd] + eocd_new
    apk = out / "hwid.apk"
    apk.write_bytes(data)
    return apk


def build_jar(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    jar = out / "agconnect-core-1.9.1.301.jar"
    mf = ("Manifest-Version: 1.0\r\nImplementation-Title: agconnect-core\r\n"
          "Implementation-Version: 1.9.1.301\r\nImplementation-Vendor: Huawei Technologies Co., "
          "Ltd.\r\nImplementation-Vendor-Id: com.huawei.agconnect\r\nBundle-Vendor: Huawei\r\n"
          "Bundle-SymbolicName: com.huawei.agconnect.core\r\n\r\n")
    pom = ("<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
           "<groupId>com.huawei.agconnect</groupId><artifactId>agconnect-core</artifactId>"
           "<version>1.9.1.301</version><organization><name>Huawei</name>"
           "<url>https://developer.huawei.com</url></organization>"
           "<url>https://developer.huawei.com/consumer/en/agconnect</url></project>")
    props = "groupId=com.huawei.agconnect\nartifactId=agconnect-core\nversion=1.9.1.301\n"
    base = "META-INF/maven/com.huawei.agconnect/agconnect-core/"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", mf)
        zf.writestr(base + "pom.properties", props)
        zf.writestr(base + "pom.xml", pom)
        zf.writestr("com/huawei/agconnect/Core.class", b"\xca\xfe\xba\xbe")
    return jar


# --- package manifests -----------------------------------------------------------------------

PY_METADATA = """Metadata-Version: 2.1
Name: huaweicloudsdkcore
Version: 3.1.219
Summary: Core for Huawei Cloud SDK for Python
Home-page: https://github.com/huaweicloud/huaweicloud-sdk-python-v3
Author: HuaweiCloud SDK
Author-email: hwcloudsdk@huawei.com
License: Apache LICENSE 2.0
Project-URL: Source, https://github.com/huaweicloud/huaweicloud-sdk-python-v3
Requires-Dist: requests

Long description body, ignored.
"""

NPM_PACKAGE = {
    "name": "@huaweicloud/huaweicloud-sdk-iam",
    "version": "3.1.172",
    "author": "HuaweiCloud_SDK <hwcloudsdk@huawei.com>",
    "homepage": "https://github.com/huaweicloud/huaweicloud-sdk-nodejs-v3",
    "repository": {"type": "git", "url": "git+https://github.com/huaweicloud/huaweicloud-sdk-nodejs-v3.git"},
    "publisher": "huaweicloud",
    "license": "Apache-2.0",
}

DEB_CONTROL = """Package: hisi-osdrv
Version: 1.0.1.2-1
Architecture: armhf
Maintainer: HiSilicon Build <build@hisilicon.com>
Homepage: https://www.hisilicon.com
Description: HiSilicon MPP drivers
 Long description.
"""

OPKG_CONTROL = """Package: luci-app-zte
Version: 2.1-3
Architecture: mips_24kc
Maintainer: ZTE Corporation <support@zte.com.cn>
Source: feeds/zte
Description: ZTE web panel
"""


def tar_bytes(members: dict[str, bytes], compress: str = "gz") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode=f"w:{compress}") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_600_000_000
            tf.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _ar(members: dict[str, bytes]) -> bytes:
    out = b"!<arch>\n"
    for name, data in members.items():
        out += f"{name:<16}{1600000000:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) % 2 else b"")
    return out


def build_packages(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    whl = out / "huaweicloudsdkcore-3.1.219-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("huaweicloudsdkcore/__init__.py", "")
        zf.writestr("huaweicloudsdkcore-3.1.219.dist-info/METADATA", PY_METADATA)
        zf.writestr("huaweicloudsdkcore-3.1.219.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    paths["wheel"] = whl
    sdist = out / "huaweicloudsdkcore-3.1.219.tar.gz"
    sdist.write_bytes(tar_bytes({"huaweicloudsdkcore-3.1.219/setup.py": b"",
                                  "huaweicloudsdkcore-3.1.219/PKG-INFO": PY_METADATA.encode()}))
    paths["sdist"] = sdist
    (out / "METADATA").write_text(PY_METADATA)
    paths["metadata"] = out / "METADATA"
    pj = json.dumps(NPM_PACKAGE, indent=2).encode()
    (out / "package.json").write_bytes(pj)
    paths["package.json"] = out / "package.json"
    tgz = out / "huaweicloud-sdk-iam-3.1.172.tgz"
    tgz.write_bytes(tar_bytes({"package/package.json": pj, "package/index.js": b"//\n"}))
    paths["npm"] = tgz
    (out / "control").write_text(DEB_CONTROL)
    paths["control"] = out / "control"
    deb = out / "hisi-osdrv_1.0.1.2-1_armhf.deb"
    deb.write_bytes(_ar({
        "debian-binary": b"2.0\n",
        "control.tar.xz": tar_bytes({"./control": DEB_CONTROL.encode()}, "xz"),
        "data.tar.xz": tar_bytes({"./usr/lib/x": b""}, "xz"),
    }))
    paths["deb"] = deb
    ipk = out / "luci-app-zte_2.1-3_mips_24kc.ipk"
    ipk.write_bytes(gzip.compress(tar_bytes({
        "./debian-binary": b"2.0\n",
        "./control.tar.gz": tar_bytes({"./control": OPKG_CONTROL.encode()}),
        "./data.tar.gz": tar_bytes({"./www/x": b""}),
    }, ""), mtime=0))
    paths["ipk"] = ipk
    paths["rpm"] = build_rpm(out)
    return paths


def _rpm_header(tags: list[tuple[int, int, bytes, int]]) -> bytes:
    index, store = b"", b""
    for tag, typ, data, count in tags:
        if typ == 4:  # INT32 wants 4-byte alignment
            while len(store) % 4:
                store += b"\0"
        index += struct.pack(">iiii", tag, typ, len(store), count)
        store += data
    return b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">ii", len(tags), len(store)) + index + store


def build_rpm(out: Path) -> Path:
    """An RPM v3 file: lead, an empty signature header, and a main header with NEVRA tags."""
    lead = struct.pack(">4sBBhh66shh16s", b"\xed\xab\xee\xdb", 3, 0, 0, 1,
                       b"ksl-1.0-1".ljust(66, b"\0"), 1, 5, b"\0" * 16)
    sig = _rpm_header([(1000, 4, struct.pack(">i", 1), 1)])
    sig += b"\0" * ((8 - len(sig) % 8) % 8)
    s = lambda v: (v + "\0").encode()  # noqa: E731
    main = _rpm_header([
        (1000, 6, s("kesl"), 1), (1001, 6, s("11.4.0"), 1), (1002, 6, s("1234"), 1),
        (1011, 6, s("AO Kaspersky Lab"), 1),
        (1015, 6, s("Kaspersky Lab <support@kaspersky.com>"), 1),
        (1020, 6, s("https://www.kaspersky.com"), 1), (1022, 6, s("x86_64"), 1),
    ])
    rpm = out / "kesl-11.4.0-1234.x86_64.rpm"
    rpm.write_bytes(lead + sig + main + b"\0" * 64)
    return rpm


# --- SBOMs -----------------------------------------------------------------------------------

def cdx_json(spec: str = "1.6") -> bytes:
    doc = {
        "bomFormat": "CycloneDX", "specVersion": spec, "version": 1,
        "components": [
            {"type": "library", "name": "huaweicloudsdkcore", "version": "3.1.219",
             "purl": "pkg:pypi/huaweicloudsdkcore@3.1.219",
             "supplier": {"name": "Huawei Cloud"}},
            {"type": "library", "name": "requests", "version": "2.31.0",
             "purl": "pkg:pypi/requests@2.31.0",
             "components": [{"type": "library", "name": "urllib3", "version": "2.0.0"}]},
        ],
    }
    return json.dumps(doc).encode()


def cdx_xml(spec: str = "1.4", extra: str = "") -> bytes:
    """A schema-valid CycloneDX XML document (elements in the XSD's order); `extra` is put in
    the first component, after its version."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/{spec}" version="1">
  <components>
    <component type="library"><publisher>Hikvision</publisher><name>libhcnetsdk</name>
      <version>6.1.9</version>{extra}<purl>pkg:generic/libhcnetsdk@6.1.9</purl></component>
    <component type="library" bom-ref="zlib"><supplier><name>zlib project</name></supplier>
      <name>zlib</name><version>1.2.13</version></component>
  </components>
</bom>
""".encode()


def spdx_json(version: str = "SPDX-2.3") -> bytes:
    doc = {
        "spdxVersion": version, "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": "fw", "documentNamespace": "https://example.com/fw-1",
        "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: test"]},
        "packages": [
            {"SPDXID": "SPDXRef-1", "name": "dhnetsdk", "versionInfo": "3.050",
             "supplier": "Organization: Zhejiang Dahua Technology Co., Ltd.",
             "downloadLocation": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:generic/dhnetsdk@3.050"}]},
            {"SPDXID": "SPDXRef-2", "name": "busybox", "versionInfo": "1.36.1",
             "downloadLocation": "NOASSERTION"},
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-1"},
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-2"},
        ],
    }
    return json.dumps(doc).encode()


SPDX_TV = """SPDXVersion: SPDX-2.2
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: fw
DocumentNamespace: https://example.com/fw-2
Creator: Tool: test
Created: 2024-01-01T00:00:00Z

PackageName: dhnetsdk
SPDXID: SPDXRef-1
PackageVersion: 3.050
PackageSupplier: Organization: Zhejiang Dahua Technology Co., Ltd.
PackageDownloadLocation: NOASSERTION
FilesAnalyzed: false
PackageLicenseConcluded: NOASSERTION
PackageLicenseDeclared: NOASSERTION
PackageCopyrightText: NOASSERTION
ExternalRef: PACKAGE-MANAGER purl pkg:generic/dhnetsdk@3.050

PackageName: busybox
SPDXID: SPDXRef-2
PackageVersion: 1.36.1
PackageDownloadLocation: NOASSERTION
FilesAnalyzed: false
PackageLicenseConcluded: GPL-2.0-only
PackageLicenseDeclared: GPL-2.0-only
PackageCopyrightText: NOASSERTION

Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-1
Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-2
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
