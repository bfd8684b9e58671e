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
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import time
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


def _usage(top: Path) -> int:
    """Bytes the files under `top` take on disk (blocks, so sparse files count what they use)."""
    total = 0
    stack = [top]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


def _file_size_cap(limit: int) -> Callable[[], None]:
    def cap() -> None:  # in the child: no single file past the member limit (SIGXFSZ/EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write fails with EFBIG instead

    return cap


POLL = 0.05  # seconds between looks at what the program wrote


def _run(argv: list[str], out: SafeRoot, scratch: Path) -> None:
    """Run the unpacker with the limits applied while it writes: no file past the member limit
    (RLIMIT_FSIZE), no more in all than the scan may still write (watched, then killed), and
    the time left for this container."""
    program = shutil.which(argv[0])
    if program is None:
        raise ToolMissing(argv[0])
    limits = out.budget.limits
    allowed = limits.max_total_bytes - out.budget.bytes
    deadline = out.deadline
    stopped = None
    # stderr to a file: a pipe nobody reads while we watch would stall a talkative program
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
        [program, *argv[1:]], cwd=scratch, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=errors, preexec_fn=_file_size_cap(limits.max_member_bytes),
    ) as proc:
        while True:
            try:
                proc.wait(timeout=POLL)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                stopped = f"{argv[0]} stopped at the time limit"
            elif _usage(scratch) > allowed:
                stopped = (f"{argv[0]} stopped: its output passed the {allowed} bytes the scan "
                           "may still write")
            if stopped is not None:
                proc.kill()
                proc.wait()
                break
        errors.seek(max(0, errors.tell() - (1 << 12)))
        stderr = errors.read()
    if stopped is not None:
        out.problem(stopped + "; what it wrote before is kept", ProblemKind.LIMIT)
        return
    if proc.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()
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
                path.unlink()  # the scratch copy goes as soon as it is in: disk holds one
            else:
                out.refuse(rel, "device node, FIFO or socket")


def _make(
    name: str, doc: str, marks: tuple[bytes, ...], argv: Callable[[Path, Path], list[str]],
    plan: Callable[[Path, SafeRoot, Path], list[str]] | None = None,
) -> Format:
    def confirm(path: Path) -> bool:
        return _contains(path, marks)

    def extract(src: Path, out: SafeRoot) -> None:
        scratch = out.base.parent / (out.base.name + ".tool")
        scratch.mkdir(parents=True, exist_ok=True)
        notes = out.base.parent / (out.base.name + ".plan")  # outside scratch: never imported
        try:
            extra = plan(src.resolve(), out, notes) if plan is not None else []
            _run([*argv(src.resolve(), scratch), *extra], out, scratch)
            _import(scratch, out)
        finally:
            remove_tree(scratch)
            notes.unlink(missing_ok=True)

    return Format(name, doc, _is_pe, extract, confirm)


def _nsis_plan(src: Path, out: SafeRoot, notes: Path) -> list[str]:
    """Members refused on the sizes 7z lists, before anything is unpacked: 7z stops at the first
    file it cannot write (a member over the file-size cap), so a bomb first in a solid block
    would hide every file after it. Their names go to an exclusion list file."""
    program = shutil.which("7z")
    if program is None:
        raise ToolMissing("7z")
    try:
        listing = subprocess.run(
            [program, "l", "-slt", "-ba", "-sccUTF-8", str(src)], stdin=subprocess.DEVNULL,
            capture_output=True, timeout=max(1.0, out.deadline - time.monotonic()), check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed("7z timed out listing the installer") from exc
    refused: list[str] = []
    path = None
    for line in listing.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("Path = "):
            path = line[7:]
        elif line.startswith("Size = ") and path is not None:
            size = line[7:].strip()
            why = out.declared_over(int(size)) if size.isdigit() else None
            if why is not None:
                out.problem(why, ProblemKind.LIMIT, path)
                refused.append(path)
            path = None
    if not refused:
        return []
    notes.write_text("".join(f"{name}\n" for name in refused), encoding="utf-8")
    return ["-scsUTF-8", f"-x@{notes}"]


NSIS = _make(
    "nsis",
    "NSIS installers (external `7z`, p7zip)",
    (NSIS_MARK,),
    # -snld: keep links as links (7z refuses ../ links otherwise); -aou: never prompt, and a
    # second file of the same name is renamed ("name_1"), not written over the first
    lambda src, scratch: ["7z", "x", "-aou", "-snld", "-bd", f"-o{scratch}", str(src)],
    _nsis_plan,
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
