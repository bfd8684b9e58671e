"""Generators for synthetic firmware samples (nothing copied from real firmware).

Each builder returns the container bytes and the members the extractor must produce
(name -> bytes), so tests check names and hashes against what was put in.
"""

from __future__ import annotations

import gzip
import io
import lzma
import random
import struct
import uuid
import zipfile
import zlib

from provenance.extract.firmware.hikvision import obfuscate

Members = dict[str, bytes]


def blob(seed: int, n: int) -> bytes:
    """Deterministic pseudo-random bytes (high entropy)."""
    return random.Random(seed).randbytes(n)


def text(seed: int, n: int) -> bytes:
    rng = random.Random(seed)
    words = [b"init", b"flash", b"probe", b"device", b"kernel", b"mtd", b"eth0", b"vendor"]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words) + b" "
    return bytes(out[:n])


# -- U-Boot legacy uImage ------------------------------------------------------------------------


def uimage(data: bytes, name: bytes = b"Linux-6.1", itype: int = 2, comp: int = 1,
           bad_crc: bool = False) -> bytes:
    hdr = struct.pack(">7I4B32s", 0x27051956, 0, 1_700_000_000, len(data), 0x80008000,
                      0x80008000, zlib.crc32(data), 5, 2, itype, comp, name)
    crc = zlib.crc32(hdr) ^ (1 if bad_crc else 0)
    return hdr[:4] + struct.pack(">I", crc) + hdr[8:] + data


def uimage_single() -> tuple[bytes, Members]:
    kernel = gzip.compress(text(1, 20_000), mtime=0)
    return uimage(kernel), {"Linux-6.1.gz": kernel}


def uimage_multi() -> tuple[bytes, Members]:
    parts = [text(2, 1001), text(3, 500), blob(4, 64)]
    body = struct.pack(">4I", *(len(p) for p in parts), 0)
    for p in parts:
        body += p + bytes(-len(p) % 4)
    return uimage(body, b"multi", itype=4, comp=0), {
        f"image-{i}.bin": p for i, p in enumerate(parts)}


# -- flattened device tree and FIT -------------------------------------------------------------

Node = tuple[str, dict[str, bytes], list["Node"]]


def fdt(root: Node) -> bytes:
    strings = bytearray()
    offsets: dict[str, int] = {}
    struct_ = bytearray()

    def pad() -> None:
        struct_.extend(bytes(-len(struct_) % 4))

    def emit(node: Node) -> None:
        name, props, children = node
        struct_.extend(struct.pack(">I", 1) + name.encode() + b"\0")
        pad()
        for key, value in props.items():
            if key not in offsets:
                offsets[key] = len(strings)
                strings.extend(key.encode() + b"\0")
            struct_.extend(struct.pack(">III", 3, len(value), offsets[key]) + value)
            pad()
        for child in children:
            emit(child)
        struct_.extend(struct.pack(">I", 2))

    emit(root)
    struct_.extend(struct.pack(">I", 9))
    off_struct = 40 + 16
    off_strings = off_struct + len(struct_)
    total = off_strings + len(strings)
    header = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, 40, 17, 16, 0,
                         len(strings), len(struct_))
    return header + bytes(16) + bytes(struct_) + bytes(strings)


def dtb() -> bytes:
    return fdt(("", {"compatible": b"vendor,board\0", "model": b"Synthetic Board\0"},
                [("chosen", {"bootargs": b"console=ttyS0\0"}, [])]))


def fit() -> tuple[bytes, Members]:
    kernel, tree = gzip.compress(text(5, 5000), mtime=0), dtb()
    images = [("kernel-1", {"description": b"kernel\0", "data": kernel, "type": b"kernel\0"}, []),
              ("fdt-1", {"data": tree, "type": b"flat_dt\0"}, [])]
    root: Node = ("", {"description": b"FIT\0"}, [
        ("images", {}, images),
        ("configurations", {"default": b"conf-1\0"}, [("conf-1", {"kernel": b"kernel-1\0"}, [])]),
    ])
    return fdt(root), {"kernel-1.bin": kernel, "fdt-1.bin": tree}


def fit_external() -> tuple[bytes, Members]:
    """mkimage -E style: payloads after the tree, found by data-offset/data-size."""
    kernel, ramdisk = blob(6, 3000), blob(7, 1234)
    def u32(v: int) -> bytes:
        return struct.pack(">I", v)
    images = [("kernel", {"data-offset": u32(0), "data-size": u32(len(kernel))}, []),
              ("ramdisk", {"data-offset": u32(3000), "data-size": u32(len(ramdisk))}, [])]
    tree = fdt(("", {}, [("images", {}, images)]))
    tree += bytes(-len(tree) % 4)
    return tree + kernel + ramdisk, {"kernel.bin": kernel, "ramdisk.bin": ramdisk}


# -- TRX ---------------------------------------------------------------------------------------


def trx() -> tuple[bytes, Members]:
    loader, kernel, rootfs = lzma.compress(b"loader" * 50), gzip.compress(b"k" * 999, mtime=0), \
        blob(8, 4096)
    off1 = 28 + len(loader)
    off1 += -off1 % 4
    off2 = off1 + len(kernel)
    off2 += -off2 % 4
    body = bytearray(off2 + len(rootfs))
    body[28 : 28 + len(loader)] = loader
    body[off1 : off1 + len(kernel)] = kernel
    body[off2:] = rootfs
    body[0:4] = b"HDR0"
    struct.pack_into("<I", body, 4, len(body))
    struct.pack_into("<HH3I", body, 12, 0, 1, 28, off1, off2)
    struct.pack_into("<I", body, 8, zlib.crc32(bytes(body[12:])) ^ 0xFFFFFFFF)
    return bytes(body), {"0-loader.bin": bytes(body[28:off1]),
                         "1-kernel.bin": bytes(body[off1:off2]), "2-rootfs.bin": rootfs}


# -- Android boot and sparse --------------------------------------------------------------------


def _pad(data: bytes, page: int) -> bytes:
    return data + bytes(-len(data) % page)


def android_boot(version: int) -> tuple[bytes, Members]:
    kernel, ramdisk = gzip.compress(text(9, 7000), mtime=0), gzip.compress(text(10, 3000), mtime=0)
    if version >= 3:
        hdr = bytearray(4096)
        struct.pack_into("<8sIIII", hdr, 0, b"ANDROID!", len(kernel), len(ramdisk), 0, 1584)
        struct.pack_into("<I", hdr, 40, version)
        members = {"kernel": kernel, "ramdisk": ramdisk}
        body = bytes(hdr) + _pad(kernel, 4096) + _pad(ramdisk, 4096)
        if version == 4:
            sig = blob(11, 300)
            struct.pack_into("<I", hdr, 1580, len(sig))
            body = bytes(hdr) + _pad(kernel, 4096) + _pad(ramdisk, 4096) + _pad(sig, 4096)
            members["signature"] = sig
        return body, members
    page = 2048
    second, dtbo, tree = blob(12, 100), blob(13, 200), dtb()
    hdr = bytearray(page)
    struct.pack_into("<8s10I", hdr, 0, b"ANDROID!", len(kernel), 0x10008000, len(ramdisk),
                     0x11000000, len(second), 0, 0x100, page, version, 0)
    members = {"kernel": kernel, "ramdisk": ramdisk, "second": second}
    body = bytes(hdr) + _pad(kernel, page) + _pad(ramdisk, page) + _pad(second, page)
    if version >= 1:
        struct.pack_into("<IQI", hdr, 1632, len(dtbo), len(body), 1660)
        members["recovery_dtbo"] = dtbo
        body += _pad(dtbo, page)
    if version == 2:
        struct.pack_into("<IQ", hdr, 1648, len(tree), 0)
        members["dtb"] = tree
        body += _pad(tree, page)
    return bytes(hdr) + body[page:], members


def android_sparse() -> tuple[bytes, Members]:
    blk = 4096
    raw = blob(14, 2 * blk)
    chunks = [
        struct.pack("<HHII", 0xCAC1, 0, 2, 12 + len(raw)) + raw,
        struct.pack("<HHII", 0xCAC2, 0, 3, 16) + b"\xde\xad\xbe\xef",
        struct.pack("<HHII", 0xCAC3, 0, 4, 12),
        struct.pack("<HHII", 0xCAC4, 0, 0, 16) + b"\0\0\0\0",
    ]
    image = raw + b"\xde\xad\xbe\xef" * (3 * blk // 4) + bytes(4 * blk)
    hdr = struct.pack("<IHHHHIIII", 0xED26FF3A, 1, 0, 28, 12, blk, 9, len(chunks), 0)
    return hdr + b"".join(chunks), {"unsparsed.img": image}


# -- Intel HEX and S-record -------------------------------------------------------------------


def ihex() -> tuple[bytes, Members]:
    data = blob(15, 300)
    lines = [":020000040800F2"]  # upper address 0x0800
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        rec = bytes([len(chunk)]) + struct.pack(">H", off) + b"\0" + chunk
        lines.append(":" + (rec + bytes([-sum(rec) & 0xFF])).hex().upper())
    lines.append(":00000001FF")
    return ("\r\n".join(lines) + "\r\n").encode(), {"0x08000000.bin": data}


def srec() -> tuple[bytes, Members]:
    data = text(16, 200)
    lines = ["S00600004844521B"]
    for off in range(0, len(data), 32):
        chunk = data[off : off + 32]
        rec = bytes([len(chunk) + 5]) + struct.pack(">I", 0x1000 + off) + chunk
        lines.append("S3" + (rec + bytes([~sum(rec) & 0xFF])).hex().upper())
    lines.append("S70500001000EA")
    return ("\n".join(lines) + "\n").encode(), {"0x00001000.bin": data}


# -- Linux zImage / bzImage -------------------------------------------------------------------

VMLINUX = b"\x7fELF" + text(17, 30_000)


def zimage_arm() -> tuple[bytes, Members]:
    stub = bytearray(blob(18, 0x400))
    payload = gzip.compress(VMLINUX, mtime=0)
    total = len(stub) + len(payload) + 4
    struct.pack_into("<III", stub, 0x24, 0x016F2818, 0, total)
    return bytes(stub) + payload + struct.pack("<I", len(VMLINUX)), {"vmlinux": VMLINUX}


def zimage_lz4() -> tuple[bytes, Members]:
    import lz4.block

    stub = bytearray(blob(33, 0x200))
    struct.pack_into("<III", stub, 0x24, 0x016F2818, 0, 0)
    block = lz4.block.compress(VMLINUX, store_size=False)
    payload = struct.pack("<II", 0x184C2102, len(block)) + block
    return bytes(stub) + payload + struct.pack("<I", len(VMLINUX)), {"vmlinux": VMLINUX}


def zimage_zstd() -> tuple[bytes, Members]:
    import zstandard

    stub = bytearray(blob(34, 0x200))
    struct.pack_into("<III", stub, 0x24, 0x016F2818, 0, 0)
    payload = zstandard.ZstdCompressor().compress(VMLINUX)
    return bytes(stub) + payload + struct.pack("<I", len(VMLINUX)), {"vmlinux": VMLINUX}


def bzimage() -> tuple[bytes, Members]:
    setup_sects = 3
    setup = bytearray((setup_sects + 1) * 512)
    setup[0x1F1] = setup_sects
    setup[0x1FE:0x200] = b"\x55\xaa"
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x20F)
    pm_stub = blob(19, 700)
    payload = lzma.compress(VMLINUX, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    struct.pack_into("<II", setup, 0x248, len(pm_stub), len(payload))
    return bytes(setup) + pm_stub + payload + bytes(16), {"vmlinux": VMLINUX}


# -- UEFI ----------------------------------------------------------------------------------------

LZMA_GUID = uuid.UUID("ee4e5898-3914-4259-9d6e-dc7bd79403cf")
FFS2_GUID = uuid.UUID("8c8ce578-8a3d-4f1c-9935-896185c32dd3")


def section(stype: int, body: bytes) -> bytes:
    data = (4 + len(body)).to_bytes(3, "little") + bytes([stype]) + body
    return data + bytes(-len(data) % 4)


def ffs(guid: uuid.UUID, ftype: int, body: bytes) -> bytes:
    hdr = guid.bytes_le + b"\0\0" + bytes([ftype, 0]) + (24 + len(body)).to_bytes(3, "little") \
        + b"\xf8"
    data = hdr + body
    return data + b"\xff" * (-len(data) % 8)


PE = b"MZ" + blob(20, 500)
DXE = b"MZ" + text(21, 4000)
G1, G2, G3 = (uuid.UUID(int=i * 0x1111_1111_1111_1111) for i in (1, 2, 3))


def volume(files: bytes, length: int) -> bytes:
    hdr = bytearray(bytes(16) + FFS2_GUID.bytes_le + struct.pack("<Q", length) + b"_FVH"
                    + struct.pack("<IHHHBB", 0x4FEFF, 72, 0, 0, 0, 2)
                    + struct.pack("<II", length // 0x1000, 0x1000) + bytes(8))
    struct.pack_into("<H", hdr, 50, -sum(struct.unpack("<36H", hdr)) & 0xFFFF)
    body = bytes(hdr) + files
    return body + b"\xff" * (length - len(body))


INNER_FV = volume(ffs(uuid.UUID(int=4), 0x01, blob(35, 200)), 0x1000)


def uefi_fv(length: int = 0x4000) -> tuple[bytes, Members]:
    """A driver with a UI name, an LZMA section holding a driver and a nested volume, and a
    file without sections."""
    lz = lzma.compress(section(0x10, DXE) + section(0x17, INNER_FV), format=lzma.FORMAT_ALONE)
    guided = LZMA_GUID.bytes_le + struct.pack("<HH", 24, 1) + lz
    files = (
        ffs(G1, 0x07, section(0x10, PE) + section(0x15, "Driver\0".encode("utf-16-le")))
        + ffs(G2, 0x07, section(0x02, guided))
        + ffs(G3, 0x02, blob(22, 100))  # freeform file without sections -> raw file body
    )
    members = {
        f"{G1}-Driver/0.pe32": PE,
        f"{G2}/0/0.pe32": DXE,
        f"{G2}/0/1.fv": INNER_FV,
        f"{G3}.ffs": blob(22, 100),
    }
    return volume(files, length), members


def uefi_capsule() -> tuple[bytes, Members]:
    fv, _ = uefi_fv()
    guid = uuid.UUID("3b6686bd-0d76-4030-b70e-b5519e2fc5a0")
    return guid.bytes_le + struct.pack("<III", 28, 0x10000, 28 + len(fv)) + fv, {"payload.bin": fv}


def uefi_fmp_capsule() -> tuple[bytes, Members]:
    payload = blob(23, 777)
    type_id = uuid.UUID(int=0xABCDEF)
    item = struct.pack("<I16sB3sIIQ", 2, type_id.bytes_le, 1, b"\0\0\0", len(payload), 0, 0)
    fmp = struct.pack("<IHHQ", 1, 0, 1, 16) + item + payload
    guid = uuid.UUID("6dcbd5ed-e82d-4c44-bda1-7194199ad92a")
    return guid.bytes_le + struct.pack("<III", 32, 0, 32 + len(fmp)) + bytes(4) + fmp, {
        f"payload-0.{type_id}.bin": payload}


# -- vendor containers -----------------------------------------------------------------------------


def update_app() -> tuple[bytes, Members]:
    parts = {"BOOT": blob(24, 1001), "SYSTEM": gzip.compress(text(25, 5000), mtime=0)}
    out = bytearray(92)
    for seq, (name, data) in enumerate(parts.items()):
        crc_table = bytes(8)
        hlen = 98 + len(crc_table)
        out += struct.pack("<4sII8sII16s16s16s16sHHH", b"\x55\xaa\x5a\xa5", hlen, 1,
                           b"HW7x27\xff\xff", seq, len(data), b"2024.01.01", b"12.00.00",
                           name.encode(), bytes(16), 0, 0x1000, 0) + crc_table + data
        out += bytes(-len(out) % 4)
    return bytes(out), {f"{n}.img": d for n, d in parts.items()}


def hwnp() -> tuple[bytes, Members]:
    items = [("file:/var/UpgradeCheck.xml", b"<upgradecheck/>\n" * 10),
             ("flash:kernel", blob(26, 2048)), ("flash:rootfs", blob(27, 4096))]
    prod = b"164C|15AD|;E8C|COMMON|\0"
    start = 36 + len(prod) + 360 * len(items)
    table, data = b"", b""
    for i, (path, body) in enumerate(items):
        table += struct.pack(">IIII256s16s64sII", i, zlib.crc32(body), start + len(data),
                             len(body), path.encode(), b"UPGRDCHECK" if i == 0 else b"KERNEL",
                             b"V500R020", 0, 0)
        data += body
    hdr = struct.pack(">4sIIIIIBBHII", b"HWNP", 0, 0, start, 0, len(items), 0, 0, len(prod),
                      360, 0)
    members = {"file/var/UpgradeCheck.xml": items[0][1], "flash/kernel": items[1][1],
               "flash/rootfs": items[2][1]}
    return hdr + prod + table + data, members


def digicap(swap: bool = False) -> tuple[bytes, Members]:
    files = {"_cfgUpgClass": text(28, 500), "hroot.img": gzip.compress(text(29, 3000), mtime=0),
             "davinci.tar.gz": blob(30, 2000)}
    hlen = 0x40 + 44 * len(files)
    hdr = bytearray(struct.pack("<4sIIIIIII", b"SWKH", 0, hlen, len(files), 1, 0x11, 0, 0x0501))
    hdr += bytes(0x40 - len(hdr))
    pos, data = hlen, b""
    for name, body in files.items():
        fields = (len(body), pos, 0) if swap else (pos, len(body), 0)
        hdr += name.encode().ljust(32, b"\0") + struct.pack("<III", *fields)
        pos += len(body)
        data += body
    return obfuscate(bytes(hdr)) + data, files


def dahua() -> tuple[bytes, Members]:
    members = {"Install": b"#!/bin/sh\nflash kernel.img\n", "kernel.img": uimage(blob(31, 999)),
               "web-x.cramfs.img": blob(32, 3000)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    data = buf.getvalue()
    for sig in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"):
        data = data.replace(sig, b"DH" + sig[2:])
    return data, members


ZTE_XML = b'<?xml version="1.0"?>\n<DB>\n' + b'<Tbl name="DevInfo"><Row No="0"/></Tbl>\n' * 400 \
    + b"</DB>\n"


def zte_config(ptype: int = 0, header: bool = True) -> tuple[bytes, Members]:
    blocks = b""
    size = 0x1000
    for off in range(0, len(ZTE_XML), size):
        chunk = zlib.compress(ZTE_XML[off : off + size])
        blocks += struct.pack(">III", len(ZTE_XML[off : off + size]), len(chunk), 0) + chunk
    payload = struct.pack(">II", 0x01020304, ptype) + struct.pack(">II", len(ZTE_XML), size) \
        + bytes(44) + blocks
    model = b"ZXHN H298N"
    sig = struct.pack(">III", 0x04030201, 0, len(model)) + model
    hdr = b""
    if header:
        fields = [0] * 28
        fields[2], fields[13], fields[14] = 4, 128, len(sig) + len(payload)
        hdr = struct.pack(">4I28I", 0x99999999, 0x44444444, 0x55555555, 0xAAAAAAAA, *fields)
    return hdr + sig + payload, {"config.xml": ZTE_XML}


# -- a raw flash dump ------------------------------------------------------------------------------

ROOTFS = {"etc/os-release": b'NAME="Synthetic Linux"\nVERSION_ID=1.0\n',
          "usr/lib/libvendor.so.1": b"\x7fELF" + text(40, 9000),
          "usr/bin/app": b"\x7fELF" + text(41, 5000)}
def _zip(files: Members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


APP_PY = b"print('synthetic app')\n" * 20
ROOTFS["opt/app.zip"] = _zip({"app/main.py": APP_PY})
CONFIG = {"config/network.conf": b"ip=192.0.2.10\nmask=255.255.255.0\n",
          "config/users": b"admin:x:0:0\n"}
KERNEL = b"\x7fELF" + text(42, 60_000)


def bootloader(n: int) -> bytes:
    """Low-entropy pseudo code with a version banner: stands in for a bootloader."""
    rng = random.Random(43)
    ops = [rng.randbytes(4) for _ in range(16)]  # a small instruction vocabulary
    code = bytearray(b"".join(rng.choice(ops) for _ in range(n // 4)))
    banner = b"U-Boot 2023.04 (Jan 01 2024 - 00:00:00 +0000) synthetic\0"
    code[0x400 : 0x400 + len(banner)] = banner
    code[:4] = b"\x13\x00\x00\xea"  # an ARM branch, as a reset vector would be
    return bytes(code)


def flash_dump(squashfs: bytes, jffs2: bytes) -> tuple[bytes, dict[int, str]]:
    """bootloader @0, uImage(gzip kernel) @0x10000, SquashFS, JFFS2, an encrypted-looking blob,
    0xFF everywhere else. Returns the image and {offset: expected member name}."""
    layout: list[tuple[int, str, bytes]] = [
        (0, "boot", bootloader(0x9000)),
        (0x10000, "uimage", uimage(gzip.compress(KERNEL, mtime=0), b"Linux-5.10")),
    ]
    pos = 0x40000
    layout.append((pos, "squashfs", squashfs))
    pos = (pos + len(squashfs) + 0xFFFF) & ~0xFFFF
    layout.append((pos, "jffs2", jffs2))
    pos = (pos + len(jffs2) + 0xFFFF) & ~0xFFFF
    layout.append((pos, "secret", blob(44, 0x2000)))
    size = pos + 0x10000
    image = bytearray(b"\xff" * size)
    names = {}
    for off, kind, data in layout:
        image[off : off + len(data)] = data
        if kind == "boot":
            names[off] = f"0x00000000-0x{len(data):08x}"
        elif kind == "secret":
            names[off] = f"0x{off:08x}-0x{off + len(data):08x}"
        else:
            names[off] = f"0x{off:08x}.{kind}"
    return bytes(image), names
