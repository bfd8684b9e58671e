#!/usr/bin/env python3
"""Generate the bundled sample firmware images, deterministically (byte-identical every run).

    python samples/generate.py            # (re)write the samples next to this script
    python samples/generate.py --check    # exit 1 if a committed sample differs from a fresh one

Everything here is synthetic: made-up products, made-up code bytes. The vendor markers are the
public fingerprints listed in ../shared/reference/catalog.md §4 (F11: the HiSilicon MPP SDK
version banner and HI_MPI_* API names), placed so that the bundled signatures have something
real to find. Nothing is copied from a real product.

- ipcam-hi3516ev200.tar.gz: an IP-camera firmware update (tar.gz of a root filesystem) whose
  media library and kernel module are HiSilicon MPP SDK parts: verdict restricted.
- router-clean.zip: a home-router update (zip) with ordinary parts and near misses (a document
  that names HiSilicon, a tool that prints version strings without the SDK): verdict clear.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from elfgen import EM_MIPS, ET_EXEC, ET_REL, ElfSpec, build  # noqa: E402

MTIME = 1_700_000_000  # fixed timestamps make the archives reproducible
MPP = "Hi3516EV200_MPP_V1.0.1.2 B030 Release"


def _libc() -> bytes:
    return build(ElfSpec(soname="libc.so.0", exports=["malloc", "free", "memcpy", "printf"],
                         strings=["uClibc-ng 1.0.31 (synthetic)"]))


def ipcam_files() -> dict[str, tuple[bytes, int]]:
    """path -> (content, mode) of the camera's root filesystem."""
    libmpi = build(ElfSpec(
        soname="libmpi.so", needed=["libc.so.0", "libsecurec.so"],
        exports=["HI_MPI_SYS_Init", "HI_MPI_SYS_Exit", "HI_MPI_SYS_GetVersion", "HI_MPI_VB_Init",
                 "HI_MPI_VB_SetConfig", "HI_MPI_VI_EnableDev", "HI_MPI_VENC_CreateChn"],
        strings=[f"HI_VERSION={MPP}", "HI_MPI_SYS_Init failed with %#x", "mmz_userdev"],
        comment="GCC: (Hisilicon_v300) 6.3.0"))
    sys_ko = build(ElfSpec(
        type=ET_REL, exports=["init_module", "cleanup_module"],
        strings=[f"[SYS] Version: [{MPP}], Build Time[Nov 24 2026, 10:00:00]",
                 "hisilicon,hisi-sys", "HI_MPI_SYS_Init"],
        modinfo={"license": ["Proprietary"], "vermagic": ["4.9.37 SMP mod_unload ARMv7 p2v8 "],
                 "depends": ["hi_osal"]}))
    app = build(ElfSpec(type=ET_EXEC, needed=["libc.so.0", "libmpi.so"],
                        exports=["main"], strings=["acmecam-app 2.4.1", "rtsp://%s:554/main"]))
    return {
        "rootfs/etc/os-release": (b'NAME="AcmeCam OS"\nVERSION="2.4.1"\nID=acmecam\n', 0o644),
        "rootfs/etc/init.d/S90app": (b"#!/bin/sh\nload_modules\n/usr/bin/acmecam-app &\n", 0o755),
        "rootfs/lib/libc.so.0": (_libc(), 0o755),
        "rootfs/usr/lib/libmpi.so": (libmpi, 0o755),
        "rootfs/lib/modules/4.9.37/extra/hi3516ev200_sys.ko": (sys_ko, 0o644),
        "rootfs/usr/bin/acmecam-app": (app, 0o755),
        "rootfs/var/www/index.html": (b"<!doctype html><title>AcmeCam</title><p>Login</p>\n",
                                      0o644),
    }


def router_files() -> dict[str, tuple[bytes, int]]:
    busybox = build(ElfSpec(type=ET_EXEC, machine=EM_MIPS, needed=["libc.so.0"],
                            exports=["main"], strings=["BusyBox v1.36.1 (synthetic)"]))
    # Near miss: prints version strings in the SDK's format but is not the SDK (no HI_MPI_ API).
    fwtool = build(ElfSpec(type=ET_EXEC, machine=EM_MIPS, needed=["libc.so.0"],
                           exports=["main"],
                           strings=["usage: fwinfo [-v]", "HI_VERSION=%s_MPP_V%s", "VERSION=%s"]))
    readme = (b"ExampleNet R7 router firmware 3.1.0\n"
              b"Supported USB modems include some HiSilicon-based dongles.\n")
    return {
        "fw/VERSION": (b"3.1.0\n", 0o644),
        "fw/README.txt": (readme, 0o644),
        "fw/rootfs/bin/busybox": (busybox, 0o755),
        "fw/rootfs/sbin/fwinfo": (fwtool, 0o755),
        "fw/rootfs/lib/libc.so.0": (build(ElfSpec(soname="libc.so.0", machine=EM_MIPS,
                                                  exports=["malloc", "free"])), 0o755),
        "fw/rootfs/etc/config/network": (b"config interface 'lan'\n\toption proto 'static'\n",
                                         0o644),
    }


def tar_gz(files: dict[str, tuple[bytes, int]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name in sorted(files):
            data, mode = files[name]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tf.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def zip_bytes(files: dict[str, tuple[bytes, int]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            data, mode = files[name]
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()


def samples() -> dict[str, bytes]:
    return {
        "ipcam-hi3516ev200.tar.gz": tar_gz(ipcam_files()),
        "router-clean.zip": zip_bytes(router_files()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write")
    args = parser.parse_args()
    stale = []
    for name, data in samples().items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
        else:
            path.write_bytes(data)
            path.chmod(0o644)
            print(f"wrote {path} ({len(data)} bytes)")
    if stale:
        print("stale samples: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
