#!/usr/bin/env python3
"""Scan benchmark (issue 8): provenance against the floor of the bare C tools.

Not a test (pytest does not collect it). Run from the repository root:

    python tests/bench_scan.py --size 256            # cold scan, warm re-scan, floor
    python tests/bench_scan.py --sizes 64,256,1024   # the memory and time curve
    python tests/bench_scan.py --size 64 --jobs 1    # one worker

It generates, deterministically (seeded PRNG), a raw flash dump: a U-Boot uImage kernel, then an
xz SquashFS root filesystem holding thousands of ELF executables, shared libraries and kernel
modules (samples/elfgen.py, with pseudo-random .rodata payload for realistic sizes), a few
HiSilicon MPP SDK parts, a .deb, a wheel, text files and duplicated files. `--size` is the
extracted content in MiB. Images are cached under --work (default /tmp/provenance-bench).

Each provenance scan runs in a fresh process (clean peak RSS; pool workers included, sampled
with psutil). Phases: extract, analysis (identify + YARA), policy + report (tree, policy,
CycloneDX JSON written). The floor is `unsquashfs` of the same SquashFS plus the `yara` command
line tool over the unpacked tree with the same rules (compiled with `yarac`), `-p 2 -r`.

Needs Debian packages: squashfs-tools (mksquashfs, unsquashfs) and yara (yara, yarac);
psutil (optional) for the whole-process-tree memory curve.

The rootfs profile (issue 17) looks like a real root filesystem instead: thousands of small files
(configs, shell scripts, docs and locale catalogues copied from this machine's /usr/share,
generated ones where those run out), real shared libraries copied from /usr/lib at bench time
(never committed), a few large blobs and duplicated libraries, packed as xz SquashFS, ext4
(`mke2fs -d`) and cpio.gz. Each scan is the `provenance scan` command in its own process,
measured from outside: wall time, CPU from the child's rusage (`wait4`, pool workers included),
cores busy = CPU / wall, peak PSS of the process tree (psutil, sampled) and peak RSS, and the
CPU time the hypervisor stole from the machine meanwhile (`/proc/stat`; a VM's noise). The CPU is
split between the scan's main process and the workers and C tools it started, and set against
the CPU budget of the 1.5x target (1.5 x the floor's wall time x cores).

    python tests/bench_scan.py --profile rootfs                  # ~8,000 files, 3 formats
    python tests/bench_scan.py --profile rootfs --formats squashfs
    python tests/bench_scan.py --profile rootfs --files 100000 --formats squashfs --no-floor \
        --no-warm                                                # memory at 100,000 files
    python tests/bench_scan.py --profile rootfs --rounds 5       # 5 floor and cold pairs each

Also needs e2fsprogs (mke2fs, debugfs) and cpio for the ext4 and cpio.gz images.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "samples"))

MiB = 1 << 20
WORDS = (
    "config", "buffer", "stream", "device", "channel", "frame", "packet", "socket", "thread",
    "queue", "mutex", "timer", "error", "warning", "failed", "invalid", "param", "value", "init",
    "exit", "open", "close", "read", "write", "ioctl", "video", "audio", "encoder", "decoder",
    "network", "interface", "address", "route", "table", "entry", "memory", "module", "driver",
    "version", "build", "release", "debug", "trace", "level", "state", "start", "stop",
)


# -- the image ------------------------------------------------------------------------------------

def _sizes(rnd: random.Random) -> int:
    """A file size: mostly small, a long tail of large libraries."""
    r = rnd.random()
    if r < 0.70:
        return rnd.randint(2_000, 32_000)
    if r < 0.95:
        return rnd.randint(32_000, 256_000)
    if r < 0.995:
        return rnd.randint(256_000, 1_000_000)
    return rnd.randint(1_000_000, 4_000_000)


class Payload:
    """Pseudo-random .rodata-like text: half word soup (compressible), half random printable."""

    _PRINTABLE = bytes(range(256)).translate(bytes((b % 94) + 33 for b in range(256)))

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        words = [rnd.choice(WORDS) for _ in range(400_000)]
        self.text = " ".join(words).encode()  # ~2.5 MB of words to slice from

    def make(self, n: int) -> str:
        half = n // 2
        start = self.rnd.randrange(0, len(self.text) - half - 1)
        soup = self.text[start:start + half]
        noise = self.rnd.randbytes(n - half).translate(self._PRINTABLE)
        return (soup + noise).decode("ascii")


def _deb(rnd: random.Random) -> bytes:
    def tar_bytes(files: dict[str, bytes], mode: str) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as tar:  # type: ignore[call-overload]
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 0
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    control = tar_bytes({"./control": b"Package: acme-webui\nVersion: 2.4.1-1\n"
                         b"Architecture: armhf\nMaintainer: Acme Build <build@acme.example>\n"
                         b"Description: web interface\n"}, "w:gz")
    data = tar_bytes({"./usr/share/acme/ui.js": rnd.randbytes(40_000).hex().encode()}, "w:xz")
    out = b"!<arch>\n"
    for name, body in ((b"debian-binary", b"2.0\n"), (b"control.tar.gz", control),
                       (b"data.tar.xz", data)):
        out += name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + \
            b"100644".ljust(8) + str(len(body)).encode().ljust(10) + b"`\n" + body
        if len(body) % 2:
            out += b"\n"
    return out


def _wheel() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (
            ("acme_agent/__init__.py", "__version__ = '1.4.0'\n"),
            ("acme_agent-1.4.0.dist-info/METADATA",
             "Metadata-Version: 2.1\nName: acme-agent\nVersion: 1.4.0\n"
             "Author: Acme Corp\nAuthor-email: dev@acme.example\n"),
            ("acme_agent-1.4.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n"),
            ("acme_agent-1.4.0.dist-info/RECORD", ""),
        ):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            z.writestr(info, text)
    return buf.getvalue()


def rootfs_files(size_mib: int, seed: int = 8) -> dict[str, bytes]:
    """path -> content, about `size_mib` MiB in all."""
    from elfgen import ET_EXEC, ET_REL, ElfSpec, build

    rnd = random.Random(seed * 1_000_003 + size_mib)
    payload = Payload(rnd)
    files: dict[str, bytes] = {}
    mpp = "Hi3516EV200_MPP_V1.0.1.2 B030 Release"
    for i in range(4):  # HiSilicon MPP SDK parts, as samples/generate.py makes them
        files[f"usr/lib/libhi_mpi{i}.so"] = build(ElfSpec(
            soname=f"libhi_mpi{i}.so", needed=["libc.so.0", "libsecurec.so"],
            exports=["HI_MPI_SYS_Init", "HI_MPI_SYS_Exit", "HI_MPI_VB_Init",
                     f"HI_MPI_VENC_CreateChn{i}"],
            strings=[f"HI_VERSION={mpp}", "mmz_userdev", payload.make(200_000)],
            comment="GCC: (Hisilicon_v300) 6.3.0"))
    files["lib/modules/4.9.37/extra/hi3516ev200_sys.ko"] = build(ElfSpec(
        type=ET_REL, exports=["init_module", "cleanup_module"],
        strings=[f"[SYS] Version: [{mpp}]", "hisilicon,hisi-sys", "HI_MPI_SYS_Init"],
        modinfo={"license": ["Proprietary"], "vermagic": ["4.9.37 SMP mod_unload ARMv7"]}))
    files["var/cache/acme-webui_2.4.1-1_armhf.deb"] = _deb(rnd)
    files["usr/lib/python3/wheels/acme_agent-1.4.0-py3-none-any.whl"] = _wheel()
    target = size_mib * MiB
    total = sum(len(v) for v in files.values())
    i = 0
    while total < target:
        size = min(_sizes(rnd), max(2_000, target - total))
        kind = rnd.random()
        exports = [f"acme_{i}_{rnd.choice(WORDS)}_{j}" for j in range(rnd.randint(2, 60))]
        strings = [f"acme component {i} version {rnd.randint(1, 9)}.{rnd.randint(0, 30)}",
                   payload.make(size)]
        if kind < 0.45:
            name = f"usr/lib/libacme{i}.so.{rnd.randint(0, 3)}"
            data = build(ElfSpec(soname=Path(name).name, needed=["libc.so.0", "libm.so.0"],
                                 exports=exports, strings=strings))
        elif kind < 0.85:
            name = f"usr/bin/acme-{i}"
            data = build(ElfSpec(type=ET_EXEC, needed=["libc.so.0", "libacme1.so.0"],
                                 exports=["main"], strings=strings))
        elif kind < 0.93:
            name = f"lib/modules/4.9.37/kernel/drivers/acme{i}.ko"
            data = build(ElfSpec(type=ET_REL, exports=["init_module", "cleanup_module"],
                                 strings=strings,
                                 modinfo={"license": ["GPL"], "vermagic": ["4.9.37 SMP ARMv7"],
                                          "author": ["Acme Corp"]}))
        else:
            name = f"etc/acme/conf{i}.txt"
            data = (f"# Copyright (c) 2021 Acme Corp.\n# component {i}\n"
                    + payload.make(size // 4)).encode()
        files[name] = data
        total += len(data)
        if rnd.random() < 0.08:  # duplicated files: the same blob under another path
            files[f"opt/backup/{i}/{Path(name).name}"] = data
            total += len(data)
        i += 1
    return files


def _uimage(name: bytes, body: bytes) -> bytes:
    dcrc = zlib.crc32(body)
    fields = [0x27051956, 0, 0, len(body), 0x80008000, 0x80008000, dcrc, 5, 2, 2, 0, name]
    head = struct.pack(">7I4B32s", *fields)
    fields[1] = zlib.crc32(head)
    return struct.pack(">7I4B32s", *fields) + body


def make_image(size_mib: int, work: Path) -> dict[str, object]:
    """Build (or reuse) the flash dump for this size: returns paths and sizes."""
    base = work / f"img-{size_mib}"
    meta_path = base / "meta.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text())  # type: ignore[no-any-return]
    shutil.rmtree(base, ignore_errors=True)
    rootfs = base / "rootfs"
    files = rootfs_files(size_mib)
    for rel, data in files.items():
        dest = rootfs / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    squash = base / "rootfs.squashfs"
    subprocess.run(["mksquashfs", str(rootfs), str(squash), "-comp", "xz", "-noappend",
                    "-no-xattrs", "-all-root", "-mkfs-time", "0", "-all-time", "0", "-quiet",
                    "-no-progress"], check=True, stdout=subprocess.DEVNULL)
    rnd = random.Random(size_mib)
    kernel = _uimage(b"Linux-4.9.37", rnd.randbytes(1_800_000))
    flash = bytearray(kernel)
    flash += b"\xff" * (0x200000 - len(flash))
    flash += squash.read_bytes()
    flash += b"\xff" * (-len(flash) % 0x10000)
    image = base / "flash.bin"
    image.write_bytes(bytes(flash))
    meta = {"image": str(image), "squashfs": str(squash), "rootfs": str(rootfs),
            "image_bytes": len(flash), "content_bytes": sum(len(v) for v in files.values()),
            "files": len(files), "distinct": len(set(files.values()))}
    meta_path.write_text(json.dumps(meta))
    return meta


# -- one measured scan (in its own process) -------------------------------------------------------

class _Memory:
    """Peak memory of this process and its children (the pool), sampled every 50 ms.

    Summed as PSS (proportional set size: pages shared after fork or mapped from the same file
    counted once over all processes); RSS summed would count them once per process.
    """

    def __init__(self) -> None:
        self.peak = 0
        self.stop = threading.Event()
        try:
            import psutil

            self.proc: Any = psutil.Process()
        except ImportError:
            self.proc = None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @staticmethod
    def _pss(proc: Any) -> int:
        try:
            return int(proc.memory_full_info().pss)
        except Exception:
            try:
                return int(proc.memory_info().rss)
            except Exception:
                return 0

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS) and self.proc is not None:
            try:
                children = self.proc.children(recursive=True)
            except Exception:
                continue
            total = self._pss(self.proc) + sum(self._pss(c) for c in children)
            self.peak = max(self.peak, total)

    def done(self) -> int:
        self.stop.set()
        self.thread.join()
        return self.peak


# Each PSS sample costs the kernel about 4 ms per process (it walks the page tables): every
# 50 ms, as it was, that took a third of a core from a scan on 2 cores. Memory grows and falls
# over seconds, not within 0.2 s.
SAMPLE_SECONDS = 0.2


def _cpu() -> float:
    """User + system CPU seconds of this process and its reaped children (the pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(image: Path, cache_dir: Path | None, jobs: int | None) -> dict[str, object]:
    from provenance import pipeline, signatureset
    from provenance.pipeline.blobs import AnalysisOptions, shutdown_pool
    from provenance.report import cyclonedx

    memory = _Memory()
    sigset = signatureset.load()
    marks: dict[str, float] = {}

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, time.perf_counter())

    # Extraction and analysis overlap (the walker feeds the pool as it goes): "extract" is the
    # walk with analysis running beside it, "analysis" the wait for what was still queued.
    walk, finish = pipeline.extract, pipeline.Analyser.finish

    def timed_walk(*args: object, **kwargs: object) -> object:
        try:
            return walk(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            marks["analyse_all"] = time.perf_counter()

    def timed_finish(self: object, *args: object) -> object:
        try:
            return finish(self, *args)  # type: ignore[arg-type]
        finally:
            marks["analyse_all_end"] = time.perf_counter()

    pipeline.extract = timed_walk  # type: ignore[assignment]
    pipeline.Analyser.finish = timed_finish  # type: ignore[method-assign]
    options = pipeline.ScanOptions(analysis=AnalysisOptions(
        jobs=jobs, cache_dir=cache_dir, use_cache=cache_dir is not None))
    cpu0 = _cpu()
    t0 = time.perf_counter()
    result = pipeline.scan(image, sigset, options, progress)
    text = cyclonedx.render(result)
    (image.parent / "report.json").write_text(text, encoding="utf-8")
    end = time.perf_counter()
    shutdown_pool()
    cpu = _cpu() - cpu0
    peak_tree = memory.done()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    # a warm re-scan answered by the whole-scan cache never unpacks nor analyses
    extract_end = marks.get("analyse_all", t0)
    analyse_end = marks.get("analyse_all_end", t0)
    return {
        "extract": extract_end - t0,
        "analysis": analyse_end - extract_end,
        "report": end - analyse_end,
        "tree": marks.get("policy", end) - analyse_end,
        "total": end - t0, "cpu": cpu,
        "rss_main": own, "rss_worker": kids, "rss_tree": peak_tree,
        "verdict": result.verdict.value, "components": len(result.components()),
    }


# -- the floor ------------------------------------------------------------------------------------

def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def floor(meta: dict[str, object], work: Path) -> dict[str, float]:
    from provenance import signatureset

    rules = work / "rules.yarc"
    if not rules.exists():
        sources = [str(r.path) for r in signatureset.load().rules]
        subprocess.run(["yarac", *sources, str(rules)], check=True)
    out = work / "floor-unpacked"
    shutil.rmtree(out, ignore_errors=True)
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    subprocess.run(["unsquashfs", "-q", "-no-progress", "-no-xattrs", "-d", str(out),
                    str(meta["squashfs"])], check=True, stdout=subprocess.DEVNULL)
    t1 = time.perf_counter()
    scan = subprocess.run(["yara", "-C", "-p", "2", "-r", str(rules), str(out)],
                          check=True, capture_output=True)
    t2 = time.perf_counter()
    cpu = _children_cpu() - cpu0
    shutil.rmtree(out, ignore_errors=True)
    return {"unsquashfs": t1 - t0, "yara": t2 - t1, "total": t2 - t0, "cpu": cpu,
            "matches": len(scan.stdout.splitlines())}


def run_child(meta: dict[str, object], cache_dir: Path | None, jobs: int | None) -> dict:
    cmd = [sys.executable, __file__, "--measure", str(meta["image"])]
    if cache_dir is not None:
        cmd += ["--cache-dir", str(cache_dir)]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    # this tree's provenance, as `run_scan` imports it (not whichever one is installed)
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=_scan_env())
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _row(label: str, r: dict, meta: dict) -> str:
    mb = float(meta["image_bytes"]) / 1e6  # type: ignore[arg-type]
    content = float(meta["content_bytes"]) / 1e6  # type: ignore[arg-type]
    files = int(meta["files"])  # type: ignore[call-overload]
    parts = []
    for phase in ("extract", "analysis", "report", "total"):  # report: tree, policy, CycloneDX
        t = r[phase]
        if t < 0.005:  # a phase the cache skipped: a rate of its few microseconds means nothing
            parts.append(f"{phase} {t:6.2f}s (skipped)")
            continue
        parts.append(f"{phase} {t:6.2f}s ({mb / t:6.1f} MB/s in, {content / t:6.1f} MB/s out, "
                     f"{files / t:7.0f} files/s)")
    parts[3] += f"  [CPU {r['cpu']:.2f}s]"
    parts[2] += f"  [of which tree building + attribution {r['tree']:.2f}s]"
    mem = (f"peak RSS: main {r['rss_main'] / MiB:.0f} MiB, largest worker "
           f"{r['rss_worker'] / MiB:.0f} MiB; whole process tree (PSS) "
           f"{r['rss_tree'] / MiB:.0f} MiB")
    return f"  {label}\n    " + "\n    ".join(parts) + f"\n    {mem}"


def bench(size: int, work: Path, jobs: int | None, warm: bool, with_floor: bool) -> dict:
    t = time.perf_counter()
    meta = make_image(size, work)
    print(f"\n== {size} MiB: image {int(meta['image_bytes']) / MiB:.1f} MiB "  # type: ignore
          f"({int(meta['content_bytes']) / MiB:.1f} MiB extracted content, "  # type: ignore
          f"{meta['files']} files, {meta['distinct']} distinct) "
          f"[generated/reused in {time.perf_counter() - t:.1f}s]", flush=True)
    cache = work / f"cache-{size}"
    shutil.rmtree(cache, ignore_errors=True)
    cold = run_child(meta, cache, jobs)
    print(_row(f"provenance cold (jobs={jobs or os.cpu_count()}, empty cache): "
               f"verdict {cold['verdict']}, {cold['components']} components", cold, meta),
          flush=True)
    out = {"size": size, "meta": meta, "cold": cold}
    if warm:
        hot = run_child(meta, cache, jobs)
        print(_row("provenance warm (same cache)", hot, meta), flush=True)
        out["warm"] = hot
    if with_floor:
        fl = floor(meta, work)
        print(f"  floor: unsquashfs {fl['unsquashfs']:.2f}s + yara -p 2 -r {fl['yara']:.2f}s "
              f"= {fl['total']:.2f}s [CPU {fl['cpu']:.2f}s] ({int(fl['matches'])} rule matches)")
        print(f"  ratio cold/floor {cold['total'] / fl['total']:.2f}x"
              + (f", warm/floor {out['warm']['total'] / fl['total']:.2f}x" if warm else "")
              + f"; CPU-time ratio cold/floor {cold['cpu'] / fl['cpu']:.2f}x")
        out["floor"] = fl
    return out


# -- the rootfs profile (issue 17) ----------------------------------------------------------------

ROOTFS_SEED = 17
CONF_KEYS = ("enable", "timeout", "path", "user", "group", "port", "interface", "level", "mode",
             "retries", "listen", "log", "pidfile", "socket", "keepalive", "buffer")


def _copy_real(src_dir: Path, pattern: str, limit: int, max_size: int) -> list[tuple[str, Path]]:
    """Up to `limit` regular files under `src_dir` matching `pattern`, smaller than `max_size`,
    in a fixed order (sorted paths): (path relative to src_dir, source)."""
    if not src_dir.is_dir():
        return []
    out = []
    for path in sorted(src_dir.rglob(pattern)):
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > max_size:
                continue
        except OSError:
            continue
        if not os.access(path, os.R_OK):
            continue
        out.append((path.relative_to(src_dir).as_posix(), path))
        if len(out) >= limit:
            break
    return out


def _config(rnd: random.Random, i: int) -> bytes:
    lines = [f"# /etc/acme/service{i}.conf: generated by the bench", ""]
    for section in range(rnd.randint(1, 4)):
        lines.append(f"[{rnd.choice(WORDS)}{section}]")
        for _ in range(rnd.randint(3, 25)):
            lines.append(f"{rnd.choice(CONF_KEYS)}_{rnd.choice(WORDS)} = "
                         f"{rnd.choice(WORDS)}{rnd.randint(0, 9999)}")
        lines.append("")
    return "\n".join(lines).encode()


def _script(rnd: random.Random, i: int) -> bytes:
    body = [f"#!/bin/sh\n# init script {i}\nset -e\nNAME={rnd.choice(WORDS)}{i}\n"]
    for _ in range(rnd.randint(5, 60)):
        body.append(f'[ -x /usr/bin/$NAME ] && /usr/bin/$NAME --{rnd.choice(WORDS)} '
                    f'"{rnd.choice(WORDS)}" || echo "{rnd.choice(WORDS)} failed" >&2\n')
    return "".join(body).encode()


def rootfs_tree(dest: Path, small: int, libs_mib: int) -> dict[str, int]:
    """Write the root filesystem under `dest`; returns counts by kind.

    `small` small files in all: real docs and locale catalogues from this machine first, then
    generated configs and scripts; `libs_mib` MiB of real shared libraries (/usr/lib); three
    large blobs; one duplicate per ten libraries; a few symlinks."""
    rnd = random.Random(ROOTFS_SEED)
    counts: Counter[str] = Counter()

    def put(rel: str, data: bytes | Path, kind: str) -> None:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, Path):
            shutil.copyfile(data, target)
        else:
            target.write_bytes(data)
        counts[kind] += 1

    docs = _copy_real(Path("/usr/share/doc"), "*", small * 4 // 10, 256 << 10)
    for rel, src in docs:
        put(f"usr/share/doc/{rel}", src, "doc")
    locale = _copy_real(Path("/usr/share/locale"), "*.mo", small * 2 // 10, 1 << 20)
    for rel, src in locale:
        put(f"usr/share/locale/{rel}", src, "locale")
    rest = max(0, small - len(docs) - len(locale))
    for i in range(rest):
        if i % 3 == 2:
            put(f"etc/init.d/S{i:05d}{rnd.choice(WORDS)}", _script(rnd, i), "script")
        else:
            put(f"etc/acme/{i // 500:03d}/service{i}.conf", _config(rnd, i), "config")
    libs, total = [], 0
    for rel, src in _copy_real(Path("/usr/lib/x86_64-linux-gnu"), "*.so*", 100_000, 2 << 20):
        if "/" in rel:
            continue
        libs.append((rel, src))
        total += src.stat().st_size
        if total >= libs_mib * MiB:
            break
    for rel, src in _copy_real(Path("/usr/bin"), "*", 400, 2 << 20):
        with open(src, "rb") as f:
            if "/" not in rel and f.read(4) == b"\x7fELF":
                put(f"usr/bin/{rel}", src, "executable")
    for n, (rel, src) in enumerate(libs):
        put(f"usr/lib/{rel}", src, "library")
        if n % 4 == 0:  # the same library again, as images carry backup copies
            put(f"opt/backup/lib/{rel}", src, "duplicate")
        if n % 25 == 0 and ".so." in rel:
            link = dest / "usr/lib" / rel.split(".so.")[0]
            if not link.exists():
                link.with_suffix(".so").symlink_to(rel)
                counts["symlink"] += 1
    big = random.Random(ROOTFS_SEED + 1)
    put("opt/firmware/dsp.bin", big.randbytes(16 * MiB), "large")  # incompressible blob
    put("opt/firmware/erased.bin", b"\xff" * (8 * MiB), "large")  # padding, erased flash
    log = "".join(f"{n:08d} {big.choice(WORDS)} {big.choice(WORDS)} {big.randint(0, 1 << 30)}\n"
                  for n in range(300_000))
    put("var/log/messages.0", log.encode(), "large")
    return dict(counts)


def tiny_tree(dest: Path, files: int) -> dict[str, int]:
    """`files` small distinct files (200 bytes to 2 KB, configs and scripts): the memory case."""
    rnd = random.Random(ROOTFS_SEED + files)
    for i in range(files):
        target = dest / f"etc/d{i // 1000:03d}/{i:06d}.conf"
        if i % 1000 == 0:
            target.parent.mkdir(parents=True, exist_ok=True)
        body = _config(rnd, i)[: rnd.randint(200, 2000)] if i % 4 else _script(rnd, i)[:1500]
        target.write_bytes(body)
    return {"config": files}


def _pack(tree: Path, base: Path, formats: list[str]) -> dict[str, str]:
    images = {}
    for fmt in formats:
        if fmt == "squashfs":
            out = base / "rootfs.squashfs"
            subprocess.run(["mksquashfs", str(tree), str(out), "-comp", "xz", "-noappend",
                            "-no-xattrs", "-all-root", "-mkfs-time", "0", "-all-time", "0",
                            "-quiet", "-no-progress"], check=True, stdout=subprocess.DEVNULL)
        elif fmt == "ext4":
            out = base / "rootfs.ext4"
            size = sum(p.lstat().st_size + 8192 for p in tree.rglob("*")) * 13 // 10 + 16 * MiB
            env = {**os.environ, "E2FSPROGS_FAKE_TIME": "0"}
            subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-E", "root_owner=0:0",
                            "-U", "00000000-0000-4000-8000-000000000017", "-d", str(tree),
                            str(out), f"{size // 1024 + 1}k"], check=True, env=env)
        elif fmt == "cpio":
            out = base / "rootfs.cpio.gz"
            names = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*"))
            with open(out, "wb") as f:
                cpio_proc = subprocess.Popen(
                    ["cpio", "-o", "-H", "newc", "--quiet", "--owner", "0:0"], cwd=tree,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                gz = subprocess.Popen(["gzip", "-n", "-6"], stdin=cpio_proc.stdout, stdout=f)
                assert cpio_proc.stdin is not None and cpio_proc.stdout is not None
                cpio_proc.stdout.close()
                cpio_proc.stdin.write("\n".join(names).encode() + b"\n")
                cpio_proc.stdin.close()
                if cpio_proc.wait() or gz.wait():
                    raise RuntimeError("cpio | gzip failed")
        else:
            raise ValueError(f"unknown format {fmt}")
        images[fmt] = str(out)
    return images


def make_rootfs(work: Path, files: int | None, formats: list[str]) -> dict[str, Any]:
    """Build (or reuse) the rootfs images: the default profile, or `files` tiny files."""
    base = work / (f"rootfs-{files}" if files else "rootfs")
    meta_path = base / "meta.json"
    meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    tree = base / "tree"
    if not meta:
        shutil.rmtree(base, ignore_errors=True)
        tree.mkdir(parents=True)
        counts = tiny_tree(tree, files) if files else rootfs_tree(tree, 6500, 60)
        regular = [p for p in tree.rglob("*") if p.is_file() and not p.is_symlink()]
        meta = {"tree": str(tree), "counts": counts, "files": len(regular),
                "content_bytes": sum(p.stat().st_size for p in regular), "images": {}}
    missing = [f for f in formats if f not in meta["images"]]
    if missing:
        meta["images"].update(_pack(tree, base, missing))
        meta_path.write_text(json.dumps(meta))
    return meta


class _TreeSampler:
    """Peak PSS (and RSS) summed over a process and its descendants, sampled from outside."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.pss = self.rss = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS):
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except Exception:
                continue
            pss = rss = 0
            for proc in procs:
                try:
                    info = proc.memory_full_info()
                except Exception:
                    continue
                pss += info.pss
                rss += info.rss
            self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)

    def done(self) -> tuple[int, int]:
        self.stop.set()
        self.thread.join()
        return self.pss, self.rss


def _scan_env() -> dict[str, str]:
    """The scan's environment: it imports from compiled bytecode, as an installed package does
    (pip compiles it), even where PYTHONDONTWRITEBYTECODE is set, as it is on this machine: that
    compiled every module from source at each start (0.26 s). The bytecode is kept outside the
    tree and compiled before the first scan, so no measured run pays for it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "provenance-bench-pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not _compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "provenance")],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        _compiled.append(True)
    return env


_compiled: list[bool] = []


def run_scan(image: Path, report: Path, cache: Path | None, jobs: int | None,
             extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """`provenance scan` in its own process, measured from outside."""
    cmd = [sys.executable, "-m", "provenance", "scan", str(image),
           "-o", str(report), "--reproducible", "-q", "--fail-on", "never", *extra]
    cmd += ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    env = _scan_env()
    stolen = _steal()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = _TreeSampler(proc.pid)
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # ended, not yet reaped
    wall = time.perf_counter() - t0
    own = _own_cpu(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    stolen = _steal() - stolen
    pss, rss = sampler.done()
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"scan failed ({proc.returncode}): {err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "cpu": cpu, "own": own,
            "cores": cpu / wall, "steal": stolen,
            "pss": pss, "rss_tree": rss, "maxrss": usage.ru_maxrss * 1024}


def _own_cpu(pid: int) -> float:
    """User + system seconds of an ended process itself, without its children: read from its
    `/proc/PID/stat` while it is a zombie (the main process's share of a scan's CPU; the rest
    is its workers' and its C tools'). NaN where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _steal() -> float:
    """CPU seconds the hypervisor took from this machine so far, all cores (`/proc/stat`): on a
    VM, a run that lost some is slower for reasons that are not its own. 0 where unknown."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _rules(work: Path) -> Path:
    from provenance import signatureset

    rules = work / "rules.yarc"
    if not rules.exists():
        sources = [str(r.path) for r in signatureset.load().rules]
        subprocess.run(["yarac", *sources, str(rules)], check=True)
    return rules


def _timed(cmd: list[str], **kwargs: Any) -> tuple[float, float]:
    """(wall, user + sys of the command and its children), from outside."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode})")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def rootfs_floor(fmt: str, image: Path, work: Path) -> dict[str, float]:
    """The C tools: unpack with the format's own tool, then `yara -r -p 2` with the rules."""
    rules = _rules(work)
    out = work / "floor-unpacked"
    shutil.rmtree(out, ignore_errors=True)
    if fmt == "squashfs":
        unpack = ["unsquashfs", "-p", "2", "-q", "-no-progress", "-no-xattrs", "-d", str(out),
                  str(image)]
    elif fmt == "ext4":
        out.mkdir()
        unpack = ["debugfs", "-R", f"rdump / {out}", str(image)]
    else:
        out.mkdir()
        unpack = ["sh", "-c", f"gzip -dc '{image}' | (cd '{out}' && cpio -idm --quiet)"]
    stolen = _steal()
    t_unpack, c_unpack = _timed(unpack, stderr=subprocess.DEVNULL)
    t_yara, c_yara = _timed(["yara", "-C", "-p", "2", "-r", str(rules), str(out)])
    stolen = _steal() - stolen
    shutil.rmtree(out, ignore_errors=True)
    return {"unpack": t_unpack, "yara": t_yara, "total": t_unpack + t_yara,
            "cpu": c_unpack + c_yara, "cpu_unpack": c_unpack, "cpu_yara": c_yara,
            "steal": stolen}


def _scan_row(label: str, r: dict[str, Any], files: int) -> str:
    return (f"  {label:<26} {r['wall']:7.2f}s  {files / r['wall']:8.0f} files/s  "
            f"CPU {r['user']:6.1f}u+{r['sys']:5.1f}s = {r['cores']:.2f} cores busy "
            f"({r['cores'] / (os.cpu_count() or 1):4.0%}; main process {r['own']:.1f}s)  "
            f"peak PSS {_mib(r['pss'])} (RSS sum {_mib(r['rss_tree'])}, "
            f"largest {r['maxrss'] / MiB:4.0f}), steal {r['steal']:.2f}s")


TARGET = 1.5  # issue 17: a cold scan within 1.5x the floor's wall time


def _budget(floor: dict[str, float], scan: dict[str, Any]) -> str:
    """The CPU the target leaves: TARGET x the floor's wall time on every core, against what
    the scan spent and who spent it. A scan busy on every core cannot be faster than its CPU
    over the cores, so a scan whose main process and workers alone spend more than the budget
    minus the unpacker's share cannot meet the target by moving work between processes."""
    cores = os.cpu_count() or 1
    budget = TARGET * floor["total"] * cores
    return (f"CPU budget at {TARGET}x the floor: {budget:.1f}s ({cores} cores x "
            f"{TARGET * floor['total']:.2f}s); the scan spent {scan['cpu']:.1f}s: its main "
            f"process {scan['own']:.1f}s, its workers and C tools {scan['cpu'] - scan['own']:.1f}s;"
            f" the floor's unpacker alone {floor['cpu_unpack']:.1f}s and yara "
            f"{floor['cpu_yara']:.1f}s")


def _mib(sampled: int) -> str:
    # a run shorter than the sampling period has no sample: say so, not "0 MiB"
    return f"{sampled / MiB:5.0f} MiB" if sampled else "  n/a    "


def bench_rootfs(work: Path, files: int | None, formats: list[str], jobs: int | None,
                 warm: bool, with_floor: bool, rounds: int = 1) -> dict[str, Any]:
    t = time.perf_counter()
    meta = make_rootfs(work, files, formats)
    n = int(meta["files"])
    print(f"\n== rootfs{f' ({files} tiny files)' if files else ''}: {n} files, "
          f"{int(meta['content_bytes']) / MiB:.1f} MiB content, kinds {meta['counts']} "
          f"[generated/reused in {time.perf_counter() - t:.1f}s]", flush=True)
    extra = ("--max-files", str(max(100_000, 2 * n)))
    results: dict[str, Any] = {}
    for fmt in formats:
        image = Path(meta["images"][fmt])
        cache = work / f"cache-rootfs-{fmt}"
        shutil.rmtree(cache, ignore_errors=True)
        print(f" {fmt}: {image.stat().st_size / MiB:.1f} MiB packed; load average "
              f"{os.getloadavg()[0]:.2f}", flush=True)
        row: dict[str, Any] = {}
        if with_floor:
            row["floor"] = fl = rootfs_floor(fmt, image, work)
            print(f"  {'floor (C tools)':<26} {fl['total']:7.2f}s  {n / fl['total']:8.0f} files/s"
                  f"  unpack {fl['unpack']:.2f}s + yara -r -p 2 {fl['yara']:.2f}s  "
                  f"CPU {fl['cpu']:.1f}s = {fl['cpu'] / fl['total']:.2f} cores busy (unpack "
                  f"{fl['cpu_unpack']:.1f}s, yara {fl['cpu_yara']:.1f}s), steal "
                  f"{fl['steal']:.2f}s", flush=True)
        row["cold"] = cold = run_scan(image, work / f"report-{fmt}.cdx.json", cache, jobs, extra)
        print(_scan_row("provenance cold", cold, n), flush=True)
        if warm:
            # the same command again: answered by `provenance.direct` before the CLI starts
            report = work / f"report-{fmt}.cdx.json"
            written = report.read_bytes()
            row["warm"] = hot = run_scan(image, report, cache, jobs, extra)
            print(_scan_row("provenance warm", hot, n), flush=True)
            if report.read_bytes() != written:
                raise RuntimeError("the warm scan wrote another report than the cold one")
            # another report path is another command line: the result cache's remembered
            # reports, found by the CLI
            row["warm_cli"] = other = run_scan(image, work / f"report-{fmt}-warm.cdx.json",
                                               cache, jobs, extra)
            print(_scan_row("provenance warm, other -o", other, n), flush=True)
        if with_floor and rounds > 1:
            row["rounds"] = _rounds(fmt, image, work, cache, jobs, extra, rounds,
                                    (row["floor"]["total"], cold["wall"]), n)
        if with_floor:
            fl = row["floor"]
            print(f"  ratio cold/floor {cold['wall'] / fl['total']:.2f}x"
                  + (f", warm/floor {row['warm']['wall'] / fl['total']:.3f}x" if warm else "")
                  + f"; CPU ratio cold/floor {cold['cpu'] / max(fl['cpu'], 1e-9):.2f}x; load "
                  f"average now {os.getloadavg()[0]:.2f}", flush=True)
            print("  " + _budget(fl, cold), flush=True)
        results[fmt] = row
    return {"meta": meta, "results": results}


def _rounds(fmt: str, image: Path, work: Path, cache: Path, jobs: int | None,
            extra: tuple[str, ...], rounds: int, first: tuple[float, float], files: int
            ) -> list[tuple[float, float]]:
    """More floor and cold-scan pairs, each cold scan right after its floor on an empty cache:
    the machine's speed drifts by 10 to 30 % within minutes here, and the ratio of a pair made
    side by side is steadier than either time. Prints each pair and the median ratio."""
    pairs = [first]
    for _ in range(rounds - 1):
        floor_s = rootfs_floor(fmt, image, work)["total"]
        shutil.rmtree(cache, ignore_errors=True)
        cold_s = run_scan(image, work / f"report-{fmt}-round.cdx.json", cache, jobs, extra)["wall"]
        pairs.append((floor_s, cold_s))
    ratios = sorted(c / f for f, c in pairs)
    cold = statistics.median(c for _, c in pairs)
    print("  rounds (floor, cold, ratio): " + "; ".join(
        f"{f:.2f}s {c:.2f}s {c / f:.2f}x" for f, c in pairs), flush=True)
    print(f"  median of {rounds} rounds: ratio {statistics.median(ratios):.2f}x "
          f"({ratios[0]:.2f}x to {ratios[-1]:.2f}x), cold {cold:.2f}s, "
          f"{files / cold:.0f} files/s", flush=True)
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=256, help="extracted content, MiB")
    ap.add_argument("--sizes", help="comma-separated sizes for the curve (e.g. 64,256,1024)")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--no-warm", dest="warm", action="store_false")
    ap.add_argument("--warm", action="store_true", default=True, help="also a warm re-scan")
    ap.add_argument("--no-floor", dest="floor", action="store_false", default=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/provenance-bench"))
    ap.add_argument("--profile", choices=("flash", "rootfs"), default="flash",
                    help="flash: the generated flash dump (--size); rootfs: a real-looking root "
                    "filesystem")
    ap.add_argument("--formats", default="squashfs,ext4,cpio",
                    help="rootfs profile: images to scan (squashfs, ext4, cpio)")
    ap.add_argument("--files", type=int, default=None,
                    help="rootfs profile: this many tiny files instead (the memory case)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rootfs profile: this many floor and cold-scan pairs per image, and "
                    "their median ratio")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.cache_dir, args.jobs)))
        return
    for tool in ("mksquashfs", "unsquashfs", "yara", "yarac"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install squashfs-tools yara")
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    if args.profile == "rootfs":
        bench_rootfs(args.work, args.files, args.formats.split(","), args.jobs, args.warm,
                     args.floor, max(1, args.rounds))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.size]
    results = [bench(s, args.work, args.jobs, args.warm, args.floor) for s in sizes]
    if len(results) > 1:
        print("\n== curve (cold scan)")
        print("  content MiB | total s | CPU s | CPU s per content GiB | peak PSS tree MiB"
              " | largest file")
        for r in results:
            content = int(r["meta"]["content_bytes"])
            print(f"  {content / MiB:11.0f} | {r['cold']['total']:7.2f} | "
                  f"{r['cold']['cpu']:5.1f} | {r['cold']['cpu'] / (content / (1 << 30)):20.1f} | "
                  f"{r['cold']['rss_tree'] / MiB:17.0f} | "
                  f"{_largest(Path(r['meta']['rootfs'])) / MiB:.1f} MiB")


def _largest(rootfs: Path) -> int:
    return max((p.stat().st_size for p in rootfs.rglob("*") if p.is_file()), default=0)


if __name__ == "__main__":
    main()
