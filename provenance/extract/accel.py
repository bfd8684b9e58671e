"""unsquashfs as an optional accelerator for SquashFS: the C tool writes, the Python walk decides.

Writing members costs the Python walk about 2 ms each (decompressing, creating and writing the
file); unsquashfs does it in C on every core. The decisions stay the walk's: the image's
directories and inodes are listed in Python first (fswalk.entries, no file data), every entry is
applied through the SafeRoot in the same order as without the accelerator, and unsquashfs only
writes the regular files that listing proves it can write exactly where, and as, the walk would:

- names are matched exactly (`-no-wildcards`, one path a line, each line behind the backslash
  that keeps a leading space or `#` literal); a name with a newline, a NUL or a backslash (which
  the SafeRoot reads as a separator) is left to Python, as is everything in a directory where
  two entries share a name (unsquashfs refuses such a directory, and would write both names
  at one place);
- the inode's own type must say regular file (dissect trusts the directory entry's type,
  unsquashfs the inode's: a hostile image can make them differ, to have a device made), and an
  inode number must be used once (unsquashfs hard-links entries that share one);
- sizes are checked before it runs: the files and bytes the walk would accept, counting every
  file before them at its declared size, so what it writes is within the limits already (each
  file is capped by RLIMIT_FSIZE at the largest declared size, the time by the container's
  and by what a slow machine needs for those bytes); at most MAX_NAMES names a directory, and
  not for fewer than MIN_FILES files;
- run by a process that may make devices (root), it runs without CAP_MKNOD (setpriv), so no
  device can be made whatever it reads.

It runs on the listing in parts, each larger than the last (`parts`): the walk applies the
listing while later parts are written, waiting only when it reaches a file whose part is not
done, so the files of the first part are counted and analysed while the rest is unpacked.
After each run, everything it wrote is checked: only the listed paths, regular files, one link
each, exactly the declared size (beside the regular files the walk writes itself meanwhile).
Any difference, an error, or a time-out, and that part is removed: for the first part, the whole
image goes the pure-Python way; for a later one, that part and the ones after it. Either way the
report is the same. A file unsquashfs wrote is counted by `SafeRoot.adopt` (the same refusals and
counts as a write), any other goes through the Python reader as before.

PROVENANCE_NO_ACCEL=1 turns the accelerator off; without unsquashfs on the PATH it is off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.extract.fswalk import FILE, Entry, Take
from provenance.extract.limits import cores
from provenance.extract.saferoot import SafeRoot, UnsafePath, clean_member_name, remove_tree

log = logging.getLogger(__name__)

ENV_OFF = "PROVENANCE_NO_ACCEL"
_REGULAR_INODES = (2, 9)  # SQUASHFS_FILE_TYPE, SQUASHFS_LREG_TYPE
_DIR_MODE = 0o755  # what the SafeRoot's mkdir gives (umask 022), instead of the image's
_FILE_MODE = 0o644
MIN_FILES = 8
MAX_NAMES = 2048  # listed names per directory (see _room)
SLOWEST = 8 << 20  # bytes/s; unsquashfs wrote 276 MB in 4 to 13 s here (2 cores, load 6 to 9)
START_SECONDS, FILE_SECONDS = 10.0, 0.005  # and 7,140 files in the same time


def unsquashfs() -> str | None:
    """The unsquashfs to use, or None: switched off, or not installed."""
    if os.environ.get(ENV_OFF, "").strip() not in ("", "0"):
        return None
    return shutil.which("unsquashfs")


def plan(todo: list[Entry], out: SafeRoot, inode: Callable[[Any], tuple[int, int, int]],
         closed: frozenset[str] = frozenset()) -> dict[str, int]:
    """The files of `todo` unsquashfs can write as the walk would, path -> size. `inode` gives
    a file node's (inode type, file size, inode number) as the inode itself says them.
    `closed`: directories ("" the root) whose mode denies their owner something; unsquashfs
    gives a directory its mode when it is done with it, so while a later run of it goes on,
    the files an earlier one wrote there could not be read by the walk or the analysis."""
    counts = Counter(str(path).rstrip("/") for _, path, _ in todo if path)
    shared = {path for path, n in counts.items() if n > 1}
    # unsquashfs refuses a whole directory that lists a name twice: nothing under it is listed
    shared |= {path.rpartition("/")[0] for path in shared} | closed
    # where names with a backslash land once the SafeRoot reads it as a separator: new paths
    # from the first such name on (`a/b\\c` is `a/b/c`: `a/b` and `a/b/c` may collide)
    moved: set[str] = set()
    for _, path, _ in todo:
        if path and "\\" in path:
            try:
                rel = clean_member_name(path)
            except UnsafePath:
                continue
            first = next(i for i, part in enumerate(path.split("/")) if "\\" in part)
            parts = rel.split("/")
            moved.update("/".join(parts[:i]) for i in range(first + 1, len(parts) + 1))
    limits = out.budget.limits
    files, total = out.budget.files, out.budget.bytes
    chosen: dict[str, int] = {}
    listed: dict[str, set[str]] = {}  # directory -> the names in it on a listed path
    numbers: Counter[int] = Counter()
    number_of: dict[str, int] = {}
    for op, path, node in todo:
        if op != FILE:
            continue
        try:
            kind, size, number = inode(node)
            rel = clean_member_name(path)
        except Exception:  # the walk records it; nothing written either way
            continue
        # the walk's own refusals, with every earlier file counted at its declared size (what
        # it writes is never more, so a file accepted here is accepted by the walk)
        if (size > limits.max_member_bytes or total + size > limits.max_total_bytes
                or (size > limits.ratio_floor and size > limits.max_ratio * max(
                    out.source_size, 1))):
            continue
        files += 1
        if files > limits.max_files:
            break
        total += size
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(len(parts) + 1)]  # "" is the root
        if (rel != path or kind not in _REGULAR_INODES or "\n" in path
                or any(p in shared or p in moved for p in prefixes)):
            continue
        if not _room(listed, parts):
            continue
        chosen[path] = size
        numbers[number] += 1
        number_of[path] = number
    return {path: size for path, size in chosen.items() if numbers[number_of[path]] == 1}


def _room(listed: dict[str, set[str]], parts: list[str]) -> bool:
    """Whether one more path fits under MAX_NAMES listed names a directory; if so, counted.
    unsquashfs compares each name it reads with every listed name of that directory (and
    each listed line with those before it): 20,000 in one directory took 1.7 s of CPU,
    100,000 would take about a minute; past the cap the walk writes them (2 ms each)."""
    levels = [("/".join(parts[:i]), parts[i]) for i in range(len(parts))]
    if any(name not in listed.get(top, ()) and len(listed.get(top, ())) >= MAX_NAMES
           for top, name in levels):
        return False
    for top, name in levels:
        listed.setdefault(top, set()).add(name)
    return True


def _limits(largest: int) -> Callable[[], None]:
    def apply() -> None:  # in the child: no file past the largest declared size
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest, largest))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead (EFBIG)

    return apply


def _argv(program: str, listing: Path, dest: Path, src: Path, again: bool = False
          ) -> list[str]:
    # -da/-fr: 16 MiB queues each (the defaults, 256 MiB each, made it a 250 MB process; with
    # these it takes 38 MB, for the same CPU time on the 7,140-file rootfs benchmark)
    argv = [program, "-quiet", "-no-progress", "-no-xattrs", "-no-wildcards",
            "-processors", str(cores()), "-data-queue", "16", "-frag-queue", "16",
            # a later part: the directories an earlier one made are there already (unsquashfs
            # stops at one unless forced; the files it is given are new names either way)
            *(["-force"] if again else []),
            "-extract-file", str(listing), "-dest", str(dest), str(src)]
    caps = _capabilities()
    setpriv = shutil.which("setpriv")
    if caps & _CAP_MKNOD and caps & _CAP_SETPCAP and setpriv is not None:
        # this process may make devices: not this child (without CAP_SETPCAP it could not
        # drop it, and setpriv would fail every time; it is never asked for one anyway)
        argv = [setpriv, "--inh-caps=-mknod", "--bounding-set=-mknod", *argv]
    return argv


_CAP_SETPCAP = 1 << 8
_CAP_MKNOD = 1 << 27


def _capabilities() -> int:
    """This process's effective capabilities (Linux); all of them for root where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return -1 if os.geteuid() == 0 else 0


def run(program: str, src: Path, files: dict[str, int], out: SafeRoot,
        before: dict[str, int] | None = None, started: Callable[[Any], None] | None = None
        ) -> bool:
    """Have unsquashfs write `files` into the root; True when it did, exactly. `before`: the
    files earlier runs wrote (the walk may be writing others of its own meanwhile); None: the
    root was empty. `started` is given the process, to stop it."""
    listing = out.base.parent / (out.base.name + f".unsquashfs-{len(before or ())}")
    listing.write_bytes(b"".join(b"\\" + path.encode("utf-8", "surrogateescape") + b"\n"
                                 for path in files))
    # the container's time, and no more than a slow machine needs for this much (a hostile
    # image that keeps unsquashfs busy must leave the walk its time to fall back)
    left = min(out.deadline - time.monotonic(),
               START_SECONDS + sum(files.values()) / SLOWEST + len(files) * FILE_SECONDS)
    try:
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(
                _argv(program, listing, out.base, src, before is not None),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=errors,
                preexec_fn=_limits(max(max(files.values()), 1)))
            if started is not None:
                started(proc)
            try:
                proc.wait(timeout=max(left, 0.01))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if proc.returncode != 0:
                errors.seek(max(0, errors.tell() - 2000))
                log.info("unsquashfs exited %s: %s", proc.returncode,
                         errors.read().decode("utf-8", "replace").strip()[-400:])
                return False
    except (OSError, subprocess.SubprocessError) as exc:  # time-out, or it would not start
        log.info("unsquashfs failed: %s", exc)
        return False
    finally:
        listing.unlink(missing_ok=True)
    try:
        return _written_as_listed(out.base, files, before)
    except OSError as exc:
        log.info("unsquashfs output unreadable: %s", exc)
        return False


def _written_as_listed(base: Path, files: dict[str, int],
                       before: dict[str, int] | None = None) -> bool:
    """Only the listed files, each a regular file of its one name and declared size. Modes are
    reset to the SafeRoot's (an image's 000 directory would lock the walk out of it, its setuid
    bits have no business here). Never follows a link: any link found is a failure. With
    `before` (a later run), the files of earlier runs may be there too, and regular files of
    the walk's own, which it writes meanwhile; anything else is still a failure."""
    found = 0
    stack = [(base, "")]
    while stack:
        directory, prefix = stack.pop()
        os.chmod(directory, _DIR_MODE)
        with os.scandir(directory) as listed:
            for entry in listed:
                rel = prefix + entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # an earlier run's file the walk refused, removed
                    continue
                if stat.S_ISDIR(st.st_mode):
                    stack.append((Path(entry.path), rel + "/"))
                    continue
                size = files.get(rel)
                if size is None and before is not None:
                    size = before.get(rel)
                    if size is None and stat.S_ISREG(st.st_mode):
                        continue  # the walk's own
                if not stat.S_ISREG(st.st_mode) or size != st.st_size or st.st_nlink != 1:
                    log.info("unsquashfs wrote %r unlike the listing", rel)
                    return False
                if stat.S_IMODE(st.st_mode) != _FILE_MODE:
                    os.chmod(entry.path, _FILE_MODE)
                found += rel in files
    return found == len(files)


# unsquashfs runs on the listing in parts, each four times the one before: the first is small,
# so that the walk and the analysis start on its files while the next part is written, and they
# are few, since each run reads the image's tables again (0.1 to 0.2 s for the 7,140-file
# benchmark; unsquashfs writes files faster than the walk takes them, so later parts can grow)
FIRST_PART_FILES = 256
FIRST_PART_BYTES = 8 << 20
GROWTH = 4


def parts(files: dict[str, int]) -> list[dict[str, int]]:
    """`files` in listing order, cut into consecutive parts growing GROWTH times each."""
    out: list[dict[str, int]] = []
    part: dict[str, int] = {}
    total = 0
    for path, size in files.items():
        part[path] = size
        total += size
        grown = GROWTH ** len(out)
        if len(part) >= FIRST_PART_FILES * grown or total >= FIRST_PART_BYTES * grown:
            out.append(part)
            part, total = {}, 0
    if part:
        out.append(part)
    return out


def prepare(src: Path, todo: list[Entry], out: SafeRoot,
            inode: Callable[[Any], tuple[int, int, int]],
            closed: frozenset[str] = frozenset()) -> Take | None:
    """Start unsquashfs for what `plan` allows; the `take` that counts its files in the walk,
    or None (nothing to do, or its first part failed: the root is empty again and the walk
    writes it all). The first part is written before this returns, the others meanwhile."""
    program = unsquashfs()
    if program is None or any(out.base.iterdir()):
        return None
    files = plan(todo, out, inode, closed)
    if len(files) < MIN_FILES:  # starting a process costs more than writing a few in Python
        return None
    runs = parts(files)
    try:
        done = run(program, src, runs[0], out)
    except Exception as exc:  # the disk full for the listing, say: the walk does it all
        log.info("unsquashfs not used: %s", exc)
        done = False
    if not done:
        _empty(out.base)
        return None
    return _Taker(program, src, runs, out)


def _reopen(base: Path, strays: bool = False) -> None:
    """Give every directory under `base` the SafeRoot's mode back (unsquashfs leaves the
    image's, 000 perhaps); with `strays`, remove what is neither a directory nor a regular
    file."""
    stack = [base]
    while stack:
        directory = stack.pop()
        with contextlib.suppress(OSError):
            os.chmod(directory, _DIR_MODE)
            with os.scandir(directory) as listed:
                for entry in listed:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif strays and not entry.is_file(follow_symlinks=False):
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)


def _empty(base: Path) -> None:
    """Remove what unsquashfs wrote; its directories may still have the image's modes (000)."""
    _reopen(base)
    remove_tree(base)
    base.mkdir(parents=True, exist_ok=True)
    if any(base.iterdir()):  # never walk into leftovers: they would pass for members
        raise OSError(f"cannot empty {base.name} after unsquashfs")


class _Taker:
    """The walk's hook: a file unsquashfs wrote is counted (or refused and removed) in turn.

    The parts after the first are written by a thread, one unsquashfs at a time, while the
    walk takes the files of the parts before; the walk waits for a file's part only when it
    reaches that file. A part that fails is removed again and, with every part after it, left
    to the walk, so the files are the same as without the accelerator.
    """

    def __init__(self, program: str, src: Path, runs: list[dict[str, int]], out: SafeRoot
                 ) -> None:
        # path -> (declared size, its part): one dict, 100,000 files wait here
        self.waiting = {path: (size, k) for k, files in enumerate(runs)
                        for path, size in files.items()}
        self.ready = [threading.Event() for _ in runs]
        self.ready[0].set()
        self.failed_from = len(runs)  # parts from this one on are the walk's to write
        self.stopped = False
        self.proc: Any = None
        self.thread: threading.Thread | None = None
        if len(runs) > 1:
            self.thread = threading.Thread(target=self._rest, args=(program, src, runs, out),
                                           name="unsquashfs", daemon=True)
            self.thread.start()

    def _rest(self, program: str, src: Path, runs: list[dict[str, int]], out: SafeRoot
              ) -> None:
        before = dict(runs[0])
        try:
            for k in range(1, len(runs)):
                done = False
                if not self.stopped:
                    try:
                        done = run(program, src, runs[k], out, before, self._started)
                    except Exception as exc:  # the disk full for the listing, say
                        log.info("unsquashfs not used: %s", exc)
                if not done:
                    self.failed_from = k  # before the walk is let through to part k
                    _undo(out.base, runs[k])
                    return
                before.update(runs[k])
                self.ready[k].set()
        finally:
            for event in self.ready:
                event.set()

    def _started(self, proc: Any) -> None:
        self.proc = proc
        if self.stopped:
            proc.kill()

    def __call__(self, out: SafeRoot, path: str, node: Any) -> bool:
        waiting = self.waiting.get(path)
        if waiting is None:
            return False
        size, part = waiting
        self.ready[part].wait()
        del self.waiting[path]
        if part >= self.failed_from:
            return False
        try:
            kept = out.adopt(path, size)
        except BaseException:
            (out.base / path).unlink(missing_ok=True)
            raise
        if not kept:
            (out.base / path).unlink(missing_ok=True)
        return True

    def discard(self, base: Path) -> None:
        """Files written but never reached (the walk stopped at a limit): not members. A run
        still going is stopped first, and its part removed."""
        self.stopped = True
        if self.thread is not None:
            if self.proc is not None:
                with contextlib.suppress(OSError):
                    self.proc.kill()
            self.thread.join()
        for path in self.waiting:
            with contextlib.suppress(OSError):
                (base / path).unlink()
        self.waiting = {}


def _undo(base: Path, files: dict[str, int]) -> None:
    """After a failed later part: its files, and anything but a directory or a regular file
    (the walk's own, or an earlier part's), go; directories get the SafeRoot's mode back."""
    for path in files:
        with contextlib.suppress(OSError):
            (base / path).unlink()
    _reopen(base, strays=True)


def discard(take: Take | None, base: Path) -> None:
    if isinstance(take, _Taker):
        take.discard(base)
