"""Extraction throughput on a generated 64 MiB image (not a test; run it by hand):

    python tests/bench_extract.py [--format squashfs|tar.xz] [--keep DIR]

The image is deterministic: a root filesystem of text-like files (compressible) and random
blobs (incompressible), sized so the compressed image is about 64 MiB. Reports MB/s of input,
MB/s of output and files/s for provenance.extract.extract, median of --runs runs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from provenance.extract import extract

MiB = 1 << 20
WORDS = [
    b"firmware", b"kernel", b"module", b"driver", b"config", b"network", b"wireless", b"camera",
    b"stream", b"encoder", b"daemon", b"library", b"symbol", b"version", b"vendor", b"update",
    b"signature", b"partition", b"flash", b"bootloader", b"device",
]


def make_tree(top: Path, target: int) -> int:
    """Files until about `target` bytes of compressed output: random blobs count fully, text
    about a sixth. Returns the number of files."""
    rng = random.Random(20261124)
    budget = 0
    n = 0
    while budget < target:
        d = top / f"usr/lib/pkg{n // 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        if n % 2:
            size = rng.randrange(8 << 10, 96 << 10)
            (d / f"blob{n:05d}.bin").write_bytes(rng.randbytes(size))
            budget += size
        else:
            size = rng.randrange(16 << 10, 160 << 10)
            words = rng.choices(WORDS, k=size // 7)
            (d / f"conf{n:05d}.txt").write_bytes(b" ".join(words)[:size])
            budget += size // 6
        n += 1
    return n


def build(fmt: str, tmp: Path) -> Path:
    tree = tmp / "root"
    count = make_tree(tree, 68 * MiB)  # the estimate undershoots: this gives ~64 MiB
    print(f"generated {count} files")
    if fmt == "squashfs":
        if shutil.which("mksquashfs") is None:
            raise SystemExit("mksquashfs not installed: use --format tar.xz")
        image = tmp / "bench.squashfs"
        subprocess.run(["mksquashfs", tree, image, "-comp", "xz", "-noappend", "-no-progress",
                        "-quiet", "-mkfs-time", "0", "-all-time", "0", "-no-xattrs"], check=True)
    else:
        image = tmp / "bench.tar.xz"
        with tarfile.open(image, "w:xz", preset=6) as tf:
            tf.add(tree, arcname=".")
    shutil.rmtree(tree)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=["squashfs", "tar.xz"], default="squashfs")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-firmware", action="store_true",
                        help="detect only the archive and filesystem formats (no carving)")
    args = parser.parse_args()
    if args.no_firmware:
        import provenance.extract as registry
        from provenance.extract import firmware

        names = {f.name for f in firmware.FORMATS}
        registry.EXTRACTORS = tuple(f for f in registry.EXTRACTORS if f.name not in names)
    with tempfile.TemporaryDirectory(prefix="provenance-bench-") as tmp_name:
        tmp = Path(tmp_name)
        image = build(args.format, tmp)
        size_in = image.stat().st_size
        times = []
        cpu = []
        size_out = files = 0
        for i in range(args.runs):
            work = tmp / f"work{i}"
            started, cpu_started = time.perf_counter(), time.process_time()
            tree, problems = extract(image, work)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            leaves = [a for a in tree.walk() if not a.children and a.kind != "symlink"]
            size_out = sum(a.size for a in leaves)
            files = len(leaves)
            assert not problems, problems[:3]
            shutil.rmtree(work)
        t = statistics.median(times)
        print(f"image: {args.format}, {size_in / MiB:.1f} MiB in, {size_out / MiB:.1f} MiB out, "
              f"{files} files; {os.cpu_count()} CPUs")
        print(f"time: median {t:.2f} s of {args.runs} ({', '.join(f'{x:.2f}' for x in times)})")
        print(f"throughput: {size_in / MiB / t:.1f} MB/s in, {size_out / MiB / t:.1f} MB/s out, "
              f"{files / t:.0f} files/s")
        # CPU time is steadier than wall time on a shared machine (see the load average)
        c = statistics.median(cpu)
        print(f"per CPU second: {size_in / MiB / c:.1f} MB/s in, {size_out / MiB / c:.1f} MB/s "
              f"out (median CPU {c:.2f} s); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
