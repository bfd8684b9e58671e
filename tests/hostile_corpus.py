"""A hostile corpus, built from scratch, and a runner that measures each scan from outside.

Every input is small on disk and hostile inside: bombs, lying sizes, loops, absurd counts and
depths, huge headers, and a restricted library hidden behind a refused member. `CASES` lists
them; `run` scans one through the real CLI in a child process, under `/usr/bin/time -v` when it
is there, and measures what it cost from outside the process: seconds, peak RSS, and the peak of
the bytes on disk under the scan's temporary directory (polled, as `du` counts them).

The CI subset (`fast=True`) runs in tests/test_hostile_suite.py; `python tests/hostile_bench.py`
runs them all and prints the table.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "samples"))

from elfgen import ElfSpec, build  # noqa: E402
from generate import ipcam_files  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
# The limits every case is scanned with (the CLI's options), and the bounds it must hold.
TOTAL = 256 * MiB
# --max-memory: each process's ceiling, so that no parser can take a process past MAX_RSS
LIMIT_ARGS = ["--max-total-bytes", str(TOTAL), "--max-member-bytes", str(64 * MiB),
              "--max-files", "20000", "--max-depth", "8", "--seconds-per-format", "20",
              "--max-memory", "1G"]
MAX_SECONDS = 60.0
MAX_RSS = 1 * GiB
MAX_WRITTEN = int(1.5 * TOTAL)

LIBMPI = ipcam_files()["rootfs/usr/lib/libmpi.so"][0]
MARKER = "usr/lib/libmpi.so"


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    build: Callable[[Path], Path]  # writes the input into the directory, returns its path
    fast: bool = False  # in the CI subset: built and scanned in a few seconds
    needs: tuple[str, ...] = ()  # external programs to build it
    restricted: bool = False  # the MPP SDK library is in there: the verdict must say so
    waivers: bool = False  # the hostile part is the waiver file: a usage error, no report
    gap: bool = True  # coverage must be partial (duplicates are recorded, but no gap)
    problem: bool = True  # a Problem must name the limit or the fault (none for a blob that
    # is one repeated byte: it is read whole, found empty, and said so as a fact)
    scope: str = "extract"  # the stage whose bound it tests (others are owned elsewhere)


@dataclass
class Measure:
    case: str
    seconds: float
    rss: int  # peak resident set, bytes, of the scan process
    written: int  # peak bytes on disk under its temporary directory
    exit: int
    report: bool
    traceback: bool
    coverage: str | None
    verdict: str | None
    problems: list[dict[str, str]] = field(default_factory=list)
    stderr: str = ""

    def faults(self, case: Case) -> list[str]:
        """What this run broke of the suite's bounds (empty: it held them all)."""
        out = []
        if self.seconds > MAX_SECONDS:
            out.append(f"{self.seconds:.0f} s")
        if self.rss > MAX_RSS:
            out.append(f"RSS {self.rss >> 20} MiB")
        if self.written > MAX_WRITTEN:
            out.append(f"wrote {self.written >> 20} MiB")
        if self.traceback:
            out.append("traceback")
        if case.waivers:
            if self.exit != 2 or "\n" in self.stderr.strip():
                out.append(f"exit {self.exit}, not a one-line usage error")
            return out
        if not self.report:
            out.append(f"no report (exit {self.exit})")
            return out
        if (self.coverage != "partial" and case.gap) or (case.problem and not self.problems):
            out.append(f"coverage {self.coverage}, {len(self.problems)} problems")
        if case.restricted and self.verdict != "restricted":
            out.append(f"verdict {self.verdict}")
        if any(len(p.get("message", "")) > 600 for p in self.problems):
            out.append("unbounded problem message")
        return out


# -- builders -------------------------------------------------------------------------------------

def _zeros_stream(compress: Callable[[], object], size: int) -> bytes:
    comp = compress()
    chunk = bytes(MiB)
    parts = [comp.compress(chunk) for _ in range(size // MiB)]  # type: ignore[attr-defined]
    parts.append(comp.flush())  # type: ignore[attr-defined]
    return b"".join(parts)


def _zip_zeros(path: Path, size: int, name: str = "zeros.bin", after: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open(name, "w", force_zip64=True) as member:
            chunk = bytes(MiB)
            for _ in range(size // MiB):
                member.write(chunk)
        if after:
            zf.writestr(MARKER, LIBMPI)
    return path


def zip_nested_42(d: Path) -> Path:
    """42.zip's shape: layers of 16 identical copies of the layer below, 256 MiB of zeros at
    the bottom (16^5 x 256 MiB = 256 TiB if all unpacked). LZMA lets each layer stay small."""
    data = _zip_zeros(d / "inner.zip", 256 * MiB).read_bytes()
    for _ in range(5):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_LZMA) as zf:
            for i in range(16):
                zf.writestr(f"copy{i:02d}.zip", data)
        data = buf.getvalue()
    path = d / "42.zip"
    path.write_bytes(data)
    return path


def zip_chain_16(d: Path) -> Path:
    """16 zips each inside the next, a 4 GiB-declared zip at the bottom."""
    inner = d / "bottom.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("small.bin", b"small")
    raw = bytearray(inner.read_bytes())
    cd = raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, cd + 24, 0xFFFFFFF0)
    data = bytes(raw)
    for i in range(16):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"layer{i}.zip", data)
        data = buf.getvalue()
    path = d / "chain16.zip"
    path.write_bytes(data)
    return path


def zip_overlap(d: Path) -> Path:
    """Fifield's construction: 2,000 directory entries on one 64 MiB kernel of zeros."""
    single = _zip_zeros(d / "one.zip", 64 * MiB, "a.bin").read_bytes()
    eocd = single.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", single, eocd + 16)[0]
    first = single[cd_offset:eocd]
    name_len = struct.unpack_from("<H", first, 28)[0]
    entries = [first] + [first[:46] + f"{i:05d}".encode()[-name_len:].rjust(name_len, b"x")
                         + first[46 + name_len:] for i in range(1, 2000)]
    cd = b"".join(entries)
    end = bytearray(single[eocd:eocd + 22])
    struct.pack_into("<HHII", end, 8, len(entries), len(entries), len(cd), cd_offset)
    path = d / "overlap.zip"
    path.write_bytes(single[:cd_offset] + cd + bytes(end))
    return path


def zip_many_entries(d: Path) -> Path:
    path = d / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(100_000):
            zf.writestr(f"d{i % 100}/f{i}", b"x")
    return path


def zip_symlink_bomb(d: Path) -> Path:
    """A 'symlink' member whose target is 1 GiB of zeros."""
    path = d / "links.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(4):
            info = zipfile.ZipInfo(f"link{i}")
            info.external_attr = 0o120777 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as member:
                for _ in range(256):
                    member.write(bytes(MiB))
        zf.writestr(MARKER, LIBMPI)
    return path


def _patch_cd_size(path: Path, member: int, size: int) -> None:
    raw = bytearray(path.read_bytes())
    at = -1
    for _ in range(member + 1):
        at = raw.find(b"PK\x01\x02", at + 1)
    struct.pack_into("<I", raw, at + 24, size)
    path.write_bytes(bytes(raw))


def zip_lying_large(d: Path) -> Path:
    path = d / "liar-large.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("liar.bin", b"tiny")
        zf.writestr(MARKER, LIBMPI)
    _patch_cd_size(path, 0, 0xFFFFFFF0)
    return path


def zip_lying_small(d: Path) -> Path:
    """Declares 10 bytes; holds 512 MiB of zeros."""
    path = _zip_zeros(d / "liar-small.zip", 512 * MiB, after=True)
    _patch_cd_size(path, 0, 10)
    return path


def zip_bomb_then_marker(d: Path) -> Path:
    return _zip_zeros(d / "bomb-marker.zip", 1 * GiB, after=True)


def zip_duplicates(d: Path) -> Path:
    path = d / "dups.zip"
    import warnings

    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as zf:
        warnings.simplefilter("ignore")
        for i in range(2000):
            zf.writestr("lib/same.so", i.to_bytes(4, "little"))
    return path


def zip_long_name(d: Path) -> Path:
    path = d / "longname.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x" * 60_000, b"long")
        zf.writestr("d/" * 400 + "deep", b"deep")
        zf.writestr(MARKER, LIBMPI)
    return path


def zip_encrypted(d: Path) -> Path:
    path = d / "encrypted.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("secret.bin", b"secret")
        zf.writestr(MARKER, LIBMPI)
    raw = bytearray(path.read_bytes())
    for magic, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(magic)
        raw[at + flag_at] |= 1
    path.write_bytes(bytes(raw))
    return path


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w",
         fmt: int = tarfile.GNU_FORMAT) -> Path:
    with tarfile.open(path, mode, format=fmt) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def tar_gnu_long_names(d: Path) -> Path:
    """GNU long-name headers of 256 MiB each (zeros compress to nothing) in a tar.gz."""
    path = d / "longnames.tar.gz"
    with gzip.open(path, "wb", compresslevel=6) as gz:
        for _ in range(3):
            size = 256 * MiB
            head = tarfile.TarInfo("././@LongLink")
            head.type = tarfile.GNUTYPE_LONGNAME
            head.size = size
            gz.write(head.tobuf(tarfile.GNU_FORMAT))
            for _ in range(size // MiB):
                gz.write(b"n" * MiB)
            info, data = _file("victim.bin", b"v")
            gz.write(info.tobuf(tarfile.GNU_FORMAT) + data + bytes(511))
        info, data = _file(MARKER, LIBMPI)
        gz.write(info.tobuf(tarfile.GNU_FORMAT) + data + bytes(-len(data) % 512) + bytes(1024))
    return path


def tar_pax_huge(d: Path) -> Path:
    path = d / "pax.tar.gz"
    info, data = _file("padded.bin", b"pad")
    info.pax_headers = {"comment": "c" * (128 * MiB)}
    return _tar(path, [(info, data), _file(MARKER, LIBMPI)], "w:gz", tarfile.PAX_FORMAT)


def tar_deep(d: Path) -> Path:
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []
    name = ""
    for _ in range(1500):
        name += "d/"
        info = tarfile.TarInfo(name.rstrip("/"))
        info.type = tarfile.DIRTYPE
        members.append((info, None))
    members += [_file(name + "bottom", b"b"), _file(MARKER, LIBMPI)]
    return _tar(d / "deep.tar", members)


def tar_base256_size(d: Path) -> Path:
    """A header declaring 2^60 bytes (base-256), then the marker that can never be reached."""
    info, _ = _file("huge.bin", b"")
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    block[124:136] = b"\x80" + (1 << 60).to_bytes(11, "big")
    block[148:156] = b"        "
    block[148:155] = f"{sum(block):06o}\0".encode()
    path = d / "base256.tar"
    path.write_bytes(bytes(block) + b"data" + bytes(508) + bytes(1024))
    return path


def tar_gz_bomb(d: Path) -> Path:
    path = d / "bomb.tar.gz"
    with gzip.open(path, "wb", compresslevel=6) as gz:
        for i in range(4):
            info = tarfile.TarInfo(f"zeros{i}.bin")
            info.size = 256 * MiB
            gz.write(info.tobuf(tarfile.GNU_FORMAT))
            for _ in range(256):
                gz.write(bytes(MiB))
        info, data = _file(MARKER, LIBMPI)
        gz.write(info.tobuf(tarfile.GNU_FORMAT) + data + bytes(-len(data) % 512) + bytes(1024))
    return path


def tar_symlink_through(d: Path) -> Path:
    link = tarfile.TarInfo("tmp")
    link.type, link.linkname = tarfile.SYMTYPE, "/tmp"
    up = tarfile.TarInfo("up")
    up.type, up.linkname = tarfile.SYMTYPE, "../../../.."
    dev = tarfile.TarInfo("dev/sda")
    dev.type = tarfile.BLKTYPE
    return _tar(d / "through.tar", [(link, None), (up, None), (dev, None),
                                   _file("tmp/planted", b"x"), _file("up/etc/passwd", b"y")])


def tar_hardlink_maze(d: Path) -> Path:
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for i in range(2000):
        info = tarfile.TarInfo(f"l{i}")
        info.type, info.linkname = tarfile.LNKTYPE, f"l{(i + 1) % 2000}"
        members.append((info, None))
        sym = tarfile.TarInfo(f"s{i}")
        sym.type, sym.linkname = tarfile.SYMTYPE, f"s{(i + 1) % 2000}"
        members.append((sym, None))
    return _tar(d / "links.tar", members)


def _newc(name: str, data: bytes, namesize: int | None = None, filesize: int | None = None
          ) -> bytes:
    raw = name.encode() + b"\0"
    fields = [0, 0o100644, 0, 0, 1, 0, len(data) if filesize is None else filesize, 0, 0, 0, 0,
              len(raw) if namesize is None else namesize, 0]
    head = b"070701" + b"".join(f"{v:08X}".encode() for v in fields) + raw
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def cpio_long_names(d: Path) -> Path:
    blob = _newc("n" * 100_000, b"x") + _newc("m" * 5000, b"y") + _newc(MARKER, LIBMPI)
    path = d / "names.cpio"
    path.write_bytes(blob + _newc("TRAILER!!!", b""))
    return path


def cpio_huge_declared(d: Path) -> Path:
    path = d / "declared.cpio"
    path.write_bytes(_newc(MARKER, LIBMPI) + _newc("huge.bin", b"", filesize=0xFFFFFFFF)
                     + b"garbage" * 100)
    return path


def ar_long_table(d: Path) -> Path:
    """A 64 MiB GNU long-name table, a member named through it, then the marker."""
    table = b"n" * (64 * MiB) + b"/\n"
    body = b"//".ljust(48) + str(len(table)).encode().ljust(10) + b"`\n" + table
    body += b"/0".ljust(48) + b"1".ljust(10) + b"`\n" + b"x\n"
    body += b"libmpi.so/".ljust(48) + str(len(LIBMPI)).encode().ljust(10) + b"`\n" + LIBMPI
    body += b"\n" * (len(LIBMPI) & 1)
    path = d / "table.a"
    path.write_bytes(b"!<arch>\n" + body)
    return path


def deb_bomb(d: Path) -> Path:
    """A .deb whose data.tar.gz is a bomb and whose control.tar.gz hides the marker."""
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:gz") as tf:
        info, data = _file(MARKER, LIBMPI)
        tf.addfile(info, io.BytesIO(data))
    data_tar = tar_gz_bomb(d).read_bytes()
    members = [("debian-binary", b"2.0\n"), ("control.tar.gz", control.getvalue()),
               ("data.tar.gz", data_tar)]
    body = b""
    for name, content in members:
        body += (name + "/").encode().ljust(48) + str(len(content)).encode().ljust(10) + b"`\n"
        body += content + b"\n" * (len(content) & 1)
    path = d / "bomb.deb"
    path.write_bytes(b"!<arch>\n" + body)
    return path


def rpm_bomb(d: Path) -> Path:
    """Lead, two empty headers, and a gzip'd cpio payload of 1 GiB of zeros, then the marker."""
    header = b"\x8e\xad\xe8\x01" + bytes(4) + struct.pack(">II", 0, 0)
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts = [comp.compress(_newc("zeros.bin", b"", filesize=GiB))]
    for _ in range(1024):
        parts.append(comp.compress(bytes(MiB)))
    parts.append(comp.compress(_newc(MARKER, LIBMPI) + _newc("TRAILER!!!", b"")))
    parts.append(comp.flush())
    path = d / "bomb.rpm"
    path.write_bytes(b"\xed\xab\xee\xdb" + bytes(92) + header + header + b"".join(parts))
    return path


def sevenzip_bomb(d: Path) -> Path:
    import py7zr

    path = d / "bomb.7z"
    src = d / "zeros.bin"
    with open(src, "wb") as f:
        f.truncate(1 * GiB)
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.write(src, "zeros.bin")
        archive.writestr(LIBMPI, MARKER)
    src.unlink()
    return path


def _cab(folders: int, blocks: int, shared: bool) -> bytes:
    """MSZIP cabinet: `folders` folders (all on one data run when `shared`) of `blocks` blocks
    of 32 KiB of zeros, and one file per folder declaring the whole folder."""
    block_out = 32768
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=bytes(block_out))
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    b0 = b"CK" + first.compress(bytes(block_out)) + first.flush()
    bn = b"CK" + comp.compress(bytes(block_out)) + comp.flush()
    run = struct.pack("<IHH", 0, len(b0), block_out) + b0
    run += (struct.pack("<IHH", 0, len(bn), block_out) + bn) * (blocks - 1)
    files = b""
    for i in range(folders):
        files += struct.pack("<IIHHHH", blocks * block_out, 0, i, 0x5821, 0, 0x20)
        files += f"f{i}.bin".encode() + b"\0"
    off_files = 36 + 8 * folders
    off_data = off_files + len(files)
    table = b"".join(struct.pack("<IHH", off_data + (0 if shared else i * len(run)), blocks, 1)
                     for i in range(folders))
    data = run if shared else run * folders
    head = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, off_data + len(data), 0, off_files, 0, 3,
                       1, folders, folders, 0, 0, 0)
    return head + table + files + data


def cab_overlap(d: Path) -> Path:
    path = d / "overlap.cab"
    path.write_bytes(_cab(folders=200, blocks=4000, shared=True))
    return path


def cab_big_folder(d: Path) -> Path:
    path = d / "bigfolder.cab"
    path.write_bytes(_cab(folders=1, blocks=65535, shared=False))
    return path


def _compressed(name: str, make: Callable[[], object], size: int) -> Callable[[Path], Path]:
    def builder(d: Path) -> Path:
        path = d / name
        path.write_bytes(_zeros_stream(make, size))
        return path
    return builder


def lz4_bomb(d: Path) -> Path:
    import lz4.frame

    path = d / "bomb.lz4"
    with lz4.frame.open(path, "wb", compression_level=12) as f:
        for _ in range(1024):
            f.write(bytes(MiB))
    return path


def zstd_bomb(d: Path) -> Path:
    import zstandard

    path = d / "bomb.zst"
    with open(path, "wb") as raw, zstandard.ZstdCompressor(level=19).stream_writer(raw) as f:
        for _ in range(2048):
            f.write(bytes(MiB))
    return path


def gzip_nested_40(d: Path) -> Path:
    data = LIBMPI
    for _ in range(40):
        data = gzip.compress(data, mtime=0)
    path = d / "deep.gz"
    path.write_bytes(data)
    return path


def _image(d: Path, name: str, size: int) -> Path:
    path = d / name
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def _run(*argv: object, cwd: Path | None = None) -> None:
    subprocess.run([str(a) for a in argv], check=True, capture_output=True, cwd=cwd)


def fat_loop(d: Path) -> Path:
    """A FAT16 image whose file's cluster chain comes back on itself."""
    path = _image(d, "loop.fat", 16 * MiB)
    _run("mkfs.fat", "-F", "16", "-n", "LOOP", path)
    src = d / "file.bin"
    src.write_bytes(os.urandom(64 << 10))
    _run("mcopy", "-i", path, src, "::/file.bin")
    lib = d / "libmpi.so"
    lib.write_bytes(LIBMPI)
    _run("mcopy", "-i", path, lib, "::/libmpi.so")
    raw = bytearray(path.read_bytes())
    bps, _spc, reserved, nfats = struct.unpack_from("<HBHB", raw, 11)
    fat_size = struct.unpack_from("<H", raw, 22)[0]
    root_entries = struct.unpack_from("<H", raw, 17)[0]
    root = (reserved + nfats * fat_size) * bps
    first = None
    for i in range(root_entries):
        entry = raw[root + 32 * i: root + 32 * i + 32]
        if entry[:8] == b"FILE    ":
            first = struct.unpack_from("<H", entry, 26)[0]
    assert first is not None
    for copy in range(nfats):  # the file's last cluster points back at its first
        fat = (reserved + copy * fat_size) * bps
        cluster = first
        while (nxt := struct.unpack_from("<H", raw, fat + 2 * cluster)[0]) < 0xFFF8:
            cluster = nxt
        struct.pack_into("<H", raw, fat + 2 * cluster, first)
    path.write_bytes(bytes(raw))
    return path


def ext4_sparse(d: Path) -> Path:
    """An ext4 image holding a 64 GiB sparse file, and the marker."""
    src = d / "root"
    (src / "usr/lib").mkdir(parents=True)
    with open(src / "sparse.img", "wb") as f:
        f.truncate(64 * GiB)
    (src / MARKER).write_bytes(LIBMPI)
    path = _image(d, "sparse.ext4", 32 * MiB)
    _run("mkfs.ext4", "-q", "-F", "-d", src, path)
    shutil.rmtree(src)
    return path


def squashfs_zeros(d: Path) -> Path:
    src = d / "sq"
    (src / "usr/lib").mkdir(parents=True)
    with open(src / "zeros.bin", "wb") as f:
        f.truncate(2 * GiB)
    (src / MARKER).write_bytes(LIBMPI)
    path = d / "zeros.squashfs"
    _run("mksquashfs", src, path, "-noappend", "-no-progress", "-quiet")
    shutil.rmtree(src)
    return path


def elf_absurd_counts(d: Path) -> Path:
    """An ELF header claiming 65,535 sections and segments, all pointing at garbage."""
    elf = bytearray(build(ElfSpec(soname="libodd.so", exports=["f"])))
    struct.pack_into("<HHHHHH", elf, 40, 52, 32, 0xFFFF, 40, 0xFFFF, 0xFFFE)
    elf += os.urandom(64 << 10)
    path = d / "absurd.so"
    path.write_bytes(bytes(elf))
    return path


def repeated_byte(d: Path) -> Path:
    path = d / "ff.bin"
    chunk = b"\xff" * (16 * MiB)
    with open(path, "wb") as f:
        for _ in range(64):  # 1 GiB
            f.write(chunk)
    return path


def random_blob(d: Path) -> Path:
    path = d / "random.bin"
    path.write_bytes(os.urandom(32 * MiB))
    return path


def flash_bzip2(d: Path) -> Path:
    """A raw flash dump (erased 0xFF) with a bzip2 stream of 2 GiB of zeros to carve."""
    stream = _zeros_stream(lambda: bz2.BZ2Compressor(9), 2 * GiB)
    dump = bytearray(b"\xff" * (16 * MiB))
    dump[MiB:MiB + len(stream)] = stream
    path = d / "flash.bin"
    path.write_bytes(bytes(dump))
    return path


def nsis_bomb(d: Path) -> Path:
    src = d / "zeros.bin"
    with open(src, "wb") as f:
        f.truncate(1 * GiB)
    (d / "libmpi.so").write_bytes(LIBMPI)
    script = d / "bomb.nsi"
    script.write_text('OutFile "bomb-setup.exe"\nSetCompressor /SOLID lzma\n'
                      'InstallDir "$PROGRAMFILES\\Bomb"\nRequestExecutionLevel user\nSection\n'
                      '  SetOutPath "$INSTDIR"\n  File "zeros.bin"\n  File "libmpi.so"\n'
                      "SectionEnd\n")
    _run("makensis", "-V1", script, cwd=d)
    src.unlink()
    return d / "bomb-setup.exe"


def pe_fake_nsis(d: Path) -> Path:
    path = d / "fake-setup.exe"
    path.write_bytes(b"MZ" + bytes(62) + b"\xef\xbe\xad\xdeNullsoftInst" + os.urandom(4096))
    return path


def sbom_components(count: int) -> Callable[[Path], Path]:
    def builder(d: Path) -> Path:
        path = d / f"bom-{count}.cdx.json"
        with open(path, "w") as f:
            f.write('{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, '
                    '"components": [')
            for i in range(count):
                f.write(("," if i else "") + json.dumps(
                    {"type": "library", "name": f"c{i}", "version": "1", "bom-ref": f"r{i}"}))
            f.write("]}")
        return path
    return builder


def sbom_deep(d: Path) -> Path:
    node: dict[str, object] = {"type": "library", "name": "leaf"}
    text = json.dumps(node)
    for i in range(450):
        text = f'{{"type": "library", "name": "n{i}", "components": [{text}]}}'
    path = d / "deep.cdx.json"
    path.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, '
                    f'"components": [{text}]}}')
    return path


def sbom_huge_string(d: Path) -> Path:
    path = d / "huge.cdx.json"
    with open(path, "w") as f:
        f.write('{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, '
                '"components": [{"type": "library", "name": "')
        for _ in range(256):
            f.write("h" * MiB)
        f.write('", "version": "1"}]}')
    return path


def waivers_deep(d: Path) -> Path:
    (d / "waivers.yml").write_text("waivers:\n" + "- " * 10_000 + "x\n")
    path = d / "input.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", b"a")
    return path


def marker_after_refusals(fmt: str) -> Callable[[Path], Path]:
    """Every kind of refused member (zeros bomb, over-long name, too deep), then the marker."""
    members = [("zeros.bin", bytes(96 * MiB)), ("n" * 300, b"x"), ("d/" * 300 + "f", b"y"),
               (MARKER, LIBMPI)]

    def builder(d: Path) -> Path:
        path = d / f"refused.{fmt}"
        if fmt == "zip":
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, data in members:
                    zf.writestr(name, data)
        elif fmt == "tar.xz":
            _tar(path, [_file(n, b) for n, b in members], "w:xz")
        elif fmt == "cpio.gz":
            path.write_bytes(gzip.compress(b"".join(_newc(n, b) for n, b in members)
                                           + _newc("TRAILER!!!", b""), 6))
        elif fmt == "7z":
            import py7zr

            with py7zr.SevenZipFile(path, "w") as archive:
                for name, data in members:
                    archive.writestr(data, name)
        return path
    return builder


def _lzma_alone(d: Path) -> Path:
    path = d / "bomb.lzma"
    path.write_bytes(_zeros_stream(lambda: lzma.LZMACompressor(lzma.FORMAT_ALONE), GiB))
    return path


CASES: tuple[Case, ...] = (
    # nested and overlapping archives
    Case("zip-42", "16 copies per layer, 5 layers, 256 MiB at the bottom", zip_nested_42),
    Case("zip-chain-16", "16 nested zips, 4 GiB declared at the bottom", zip_chain_16,
         fast=True),
    Case("zip-overlap", "2,000 entries on one 64 MiB kernel (Fifield)", zip_overlap, fast=True),
    Case("zip-100k-entries", "100,000 members", zip_many_entries),
    Case("zip-symlink-bomb", "symlink members of 256 MiB each, then the marker",
         zip_symlink_bomb, restricted=True),
    Case("zip-lying-large", "central directory declares 4 GiB for 4 bytes", zip_lying_large,
         restricted=True),
    Case("zip-lying-small", "declares 10 bytes, holds 512 MiB of zeros", zip_lying_small,
         restricted=True),
    Case("zip-bomb-marker", "1 GiB of zeros, then the marker", zip_bomb_then_marker,
         restricted=True),
    Case("zip-duplicates", "2,000 members of one name", zip_duplicates, gap=False),
    Case("zip-long-names", "a 60,000-byte name, a 400-level path, then the marker",
         zip_long_name, restricted=True),
    Case("zip-encrypted", "an encrypted member, then the marker", zip_encrypted,
         restricted=True),
    Case("zip-refusals", "bomb, long name, deep path, then the marker",
         marker_after_refusals("zip"), fast=True, restricted=True),
    # tar
    Case("tar-gnu-longnames", "three 256 MiB GNU long names in a tar.gz", tar_gnu_long_names,
         restricted=True),
    Case("tar-pax-huge", "a 128 MiB PAX header", tar_pax_huge, fast=True, restricted=True),
    Case("tar-deep", "1,500 directories deep", tar_deep, fast=True, restricted=True),
    Case("tar-base256", "a header declaring 2^60 bytes", tar_base256_size, fast=True),
    Case("tar-gz-bomb", "4 x 256 MiB of zeros, then the marker", tar_gz_bomb, restricted=True),
    Case("tar-symlink-through", "members through links to /tmp and ../, a device",
         tar_symlink_through, fast=True),
    Case("tar-link-maze", "2,000 hard links and 2,000 symlinks in rings", tar_hardlink_maze),
    Case("tar.xz-refusals", "bomb, long name, deep path, then the marker",
         marker_after_refusals("tar.xz"), fast=True, restricted=True),
    # cpio, ar, deb, rpm, 7z, cab
    Case("cpio-long-names", "names of 100,000 and 5,000 bytes, then the marker",
         cpio_long_names, restricted=True),
    Case("cpio-huge-declared", "a member declaring 4 GiB in a small file", cpio_huge_declared,
         restricted=True),
    Case("cpio.gz-refusals", "bomb, long name, deep path, then the marker",
         marker_after_refusals("cpio.gz"), fast=True, restricted=True),
    Case("ar-long-table", "a 64 MiB long-name table", ar_long_table, fast=True,
         restricted=True),
    Case("deb-bomb", "data.tar.gz bomb, marker in control.tar.gz", deb_bomb, restricted=True),
    Case("rpm-bomb", "1 GiB of zeros in the cpio payload, then the marker", rpm_bomb,
         restricted=True),
    Case("7z-bomb", "1 GiB of zeros, then the marker", sevenzip_bomb, restricted=True),
    Case("7z-refusals", "bomb, long name, deep path, then the marker",
         marker_after_refusals("7z"), fast=True, restricted=True),
    Case("cab-overlap", "200 folders on one 125 MiB run", cab_overlap, fast=True),
    Case("cab-big-folder", "one folder declaring 2 GiB", cab_big_folder),
    # single streams
    Case("gzip-bomb", "1 GiB of zeros", _compressed("bomb.gz", lambda: zlib.compressobj(
        9, zlib.DEFLATED, 31), GiB)),
    Case("bzip2-bomb", "2 GiB of zeros", _compressed("bomb.bz2", lambda: bz2.BZ2Compressor(9),
                                                     2 * GiB)),
    Case("xz-bomb", "2 GiB of zeros", _compressed("bomb.xz", lzma.LZMACompressor, 2 * GiB)),
    Case("lzma-bomb", "1 GiB of zeros, lzma-alone", _lzma_alone),
    Case("zstd-bomb", "2 GiB of zeros", zstd_bomb),
    Case("lz4-bomb", "1 GiB of zeros", lz4_bomb),
    Case("gzip-nested-40", "the marker under 40 gzip layers", gzip_nested_40),
    # filesystems and raw images
    Case("fat-loop", "a FAT16 file whose cluster chain loops", fat_loop, fast=True,
         needs=("mkfs.fat", "mcopy"), restricted=True),
    Case("ext4-sparse", "a 64 GiB sparse file", ext4_sparse, fast=True, needs=("mkfs.ext4",),
         restricted=True),
    Case("squashfs-zeros", "2 GiB of zeros in a SquashFS", squashfs_zeros,
         needs=("mksquashfs",), restricted=True),
    Case("flash-bzip2", "a 16 MiB flash dump carrying a 2 GiB bzip2 stream", flash_bzip2),
    Case("random-32m", "32 MiB of random bytes", random_blob, scope="extract"),
    # installers
    Case("nsis-bomb", "an NSIS installer of 1 GiB of zeros and the marker", nsis_bomb,
         needs=("makensis", "7z"), restricted=True),
    Case("pe-fake-nsis", "a PE with the NSIS mark and no NSIS", pe_fake_nsis,
         needs=("7z",)),
    # other stages (bounds owned outside extract: measured here, fixed there)
    Case("elf-absurd-counts", "65,535 sections and segments", elf_absurd_counts,
         scope="identify"),
    Case("repeated-byte-1g", "1 GiB of 0xFF", repeated_byte, scope="analysis", gap=False,
         problem=False),
    Case("sbom-1m-components", "CycloneDX with 1,000,000 components",
         sbom_components(1_000_000), scope="enrich"),
    Case("sbom-deep-450", "CycloneDX components 450 levels deep", sbom_deep, scope="enrich"),
    Case("sbom-huge-string", "a 256 MiB component name", sbom_huge_string, scope="enrich"),
    Case("waivers-deep", "a waiver file 10,000 levels deep", waivers_deep, fast=True,
         waivers=True, scope="policy"),
)


# -- running --------------------------------------------------------------------------------------

def disk_usage(top: Path) -> int:
    """Bytes the files under `top` take on disk, as `du` counts them (allocated blocks)."""
    total = 0
    stack = [str(top)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


_TIME = "/usr/bin/time"


def run(case: Case, where: Path, timeout: float = 300.0) -> Measure:
    """Build the case under `where` and scan it through the CLI in a child process."""
    inputs = where / "input"
    temp = where / "tmp"
    for d in (inputs, temp):
        d.mkdir(parents=True, exist_ok=True)
    path = case.build(inputs)
    report = where / "report.json"
    argv = [sys.executable, "-c", "from provenance.cli import app; app()", "scan", str(path),
            "-o", str(report), "--no-cache", "-q", *LIMIT_ARGS]
    if case.waivers:
        argv += ["--waivers", str(inputs / "waivers.yml")]
    timed = Path(_TIME).exists()
    stats = where / "time.txt"
    if timed:
        argv = [_TIME, "-v", "-o", str(stats), *argv]
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(temp),
               XDG_CACHE_HOME=str(where / "cache"))
    peak = 0
    started = time.monotonic()
    with open(where / "stderr.txt", "wb") as err:
        # its own session: a timeout kills the scan itself, not only /usr/bin/time
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env,
                                start_new_session=True)
        while proc.poll() is None:
            peak = max(peak, disk_usage(temp))
            if time.monotonic() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.05)
        peak = max(peak, disk_usage(temp))
    seconds = time.monotonic() - started
    stderr = (where / "stderr.txt").read_text(errors="replace")
    rss = 0
    if timed and stats.exists():
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stats.read_text())
        rss = int(found.group(1)) * 1024 if found else 0
    coverage = verdict = None
    problems: list[dict[str, str]] = []
    if report.exists():
        props = json.loads(report.read_text())["metadata"]["component"].get("properties", [])
        for prop in props:
            if prop["name"] == "provenance:coverage":
                coverage = prop["value"]
            elif prop["name"] == "provenance:verdict":
                verdict = prop["value"]
            elif prop["name"] == "provenance:problem":
                problems.append(json.loads(prop["value"]))
    return Measure(case.name, seconds, rss, peak, proc.returncode, report.exists(),
                   "Traceback (most recent call last)" in stderr, coverage, verdict, problems,
                   stderr)


def missing_tools(case: Case) -> list[str]:
    return [t for t in case.needs if shutil.which(t) is None]
