"""NSIS and Inno Setup installers, unpacked by external programs when they are installed.

No Python library reads either format: NSIS goes to `7z` (p7zip), Inno Setup to `innoextract`.
Each runs without a shell, with the per-container time limit, into a scratch directory inside
the extraction work area; what it wrote is then copied through the SafeRoot (so names, links,
sizes and counts are checked as for any archive) and the scratch directory is removed. A missing
program leaves the installer opaque with a "tool-missing" Problem that names it.
"""

from __future__ import annotations

import mmap
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

from provenance.extract.base import Format, FormatProblem, ToolMissing
from provenance.extract.saferoot import SafeRoot, remove_tree
from provenance.model import ProblemKind

NSIS_MARK = b"\xef\xbe\xad\xdeNullsoftInst"
INNO_MARKS = (b"Inno Setup Setup Data (", b"rDlPtS02\x87eVx", b"rDlPtS\xcd\xe6\xd7{\x0b*")


class ToolFailed(FormatProblem):
    kind = ProblemKind.CORRUPT


def _is_pe(head: bytes, name: str) -> bool:
    return head.startswith(b"MZ")


def _contains(path: Path, marks: tuple[bytes, ...]) -> bool:
    if path.stat().st_size == 0:
        return False
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return any(m.find(mark) >= 0 for mark in marks)


def _run(argv: list[str], out: SafeRoot, scratch: Path) -> None:
    program = shutil.which(argv[0])
    if program is None:
        raise ToolMissing(argv[0])
    timeout = out.budget.limits.seconds_per_format
    try:
        proc = subprocess.run(
            [program, *argv[1:]], cwd=scratch, stdin=subprocess.DEVNULL, capture_output=True,
            timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(f"{argv[0]} timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        message = f"{argv[0]} exited {proc.returncode}: {tail[-1] if tail else ''}"
        if not any(scratch.rglob("*")):
            raise ToolFailed(message)
        out.problem(message, ProblemKind.CORRUPT)  # partial output: keep what it gave


def _import(scratch: Path, out: SafeRoot) -> None:
    """Copy what the tool wrote through the SafeRoot; links are recorded, never followed."""
    for dirpath, dirnames, filenames in os.walk(scratch, followlinks=False):
        base = Path(dirpath)
        for name in filenames + [d for d in dirnames if (base / d).is_symlink()]:
            path = base / name
            rel = path.relative_to(scratch).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out.link(rel, os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                out.copy_file(rel, path)
            else:
                out.refuse(rel, "device node, FIFO or socket")


def _make(
    name: str, doc: str, marks: tuple[bytes, ...], argv: Callable[[Path, Path], list[str]]
) -> Format:
    def confirm(path: Path) -> bool:
        return _contains(path, marks)

    def extract(src: Path, out: SafeRoot) -> None:
        scratch = out.base.parent / (out.base.name + ".tool")
        scratch.mkdir(parents=True, exist_ok=True)
        try:
            _run(argv(src.resolve(), scratch), out, scratch)
            _import(scratch, out)
        finally:
            remove_tree(scratch)

    return Format(name, doc, _is_pe, extract, confirm)


NSIS = _make(
    "nsis",
    "NSIS installers (external `7z`, p7zip)",
    (NSIS_MARK,),
    # -snld: keep links as links (7z refuses ../ links otherwise); -aou: never prompt, and a
    # second file of the same name is renamed ("name_1"), not written over the first
    lambda src, scratch: ["7z", "x", "-aou", "-snld", "-bd", f"-o{scratch}", str(src)],
)
INNO = _make(
    "innosetup",
    "Inno Setup installers (external `innoextract`)",
    INNO_MARKS,
    # --collisions=rename: [Files] lines that share a destination (one per language, or an x86
    # and an x64 build of the same DLL) are all kept, the later ones as "name$0"...; innoextract's
    # default overwrites, so all but one would never be seen
    lambda src, scratch: ["innoextract", "--silent", "--collisions=rename",
                          "--output-dir", str(scratch), str(src)],
)
