"""Direct mode: a repeated `provenance scan --quiet --reproducible` answered before the command
line is even parsed, the way ccache's direct mode answers a repeated compile.

The `provenance` command (`provenance.__main__`) asks `answer` first. For `scan ...` it looks
for an entry named by a digest of all that the command line's meaning can depend on before a
file is read: the arguments, the working directory and the whole environment (the PROVENANCE_*
variables, the cache and config locations, the locale, the time zone). The last run of that
very command wrote the entry (`Watch.record`, called by `commands.scan`). It holds:

- what that run read, and what each held then (`fingerprint`): the input's bytes and where its
  path led; every file and name under the signature directories; each config file the walk up
  from the input looked for, present or not; the waiver file;
- the tool build (`caching.tool_key`) and, when no --as-of was given, the date;
- the reports it wrote, packed (`provenance.packed`), where it wrote them, and its exit code;
  the whole behind a CRC-32.

When all of it still holds, the reports are written again and the command exits as it did,
without importing the CLI or the pipeline. A file whose stamp (device, inode, size, modification
and change times, `_stamp`) is the one recorded is taken to hold what it held without being
read again, as git's index and rsync's quick check do; hashing the input was most of what was
left (0.07 s for an 89 MB SquashFS, 0.35 s for a 443 MB ext4 image). Anything else (no
entry, a damaged one, any error) goes on to the CLI, which does it all from scratch and reports
what went wrong. Entries live in the cache directory's `direct/`, found where --cache-dir or
PROVENANCE_CACHE_DIR on this command line name it, else in the default one; an entry unused for
a week is removed.

An entry is written only when nothing the run read changed after it started (a change time from
before the start, less a margin for the kernel's coarse clock): a file edited during a scan
never leaves an entry that pairs its new bytes with reports made from the old ones. What this
cannot see is a config file that appeared and was removed again while the scan ran.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from provenance import packed
from provenance.caching import default_dir, tool_key

ENTRY_VERSION = 3
DIRECTORY = "direct"
KEEP_SECONDS = 7 * 24 * 3600  # an entry not used for a week is removed when another is written
RACY_SECONDS = 1.0  # a file changed later than this before the start makes no entry
Dep = tuple[str, str]  # (kind, path as the command named it): "file", "tree" or "real"


@dataclass(frozen=True)
class Pending:
    """A scan the launcher looked up and did not find: the scan command may record it."""

    key: str
    started: float  # time.time() before anything was read
    where: Path  # the cache directory the launcher looked in


_pending: Pending | None = None


def answer(argv: list[str]) -> int | None:
    """The exit code of a remembered run of the command line `argv`, its reports written
    again; None when there is none (a `scan` is then noted for `watch`)."""
    global _pending
    _pending = None
    if argv[:1] != ["scan"]:
        return None
    started = time.time()
    try:
        key = command_key(argv, os.environ, os.getcwd())
        where = look_in(argv, os.environ)
    except OSError:  # no working directory, no home: the CLI says what is wrong
        return None
    try:
        code = recall(where / DIRECTORY / key)
    except Exception:  # a fault in a cache is a miss: the CLI does it all from scratch
        if os.environ.get("PROVENANCE_DEBUG"):
            raise
        code = None
    if code is None:
        _pending = Pending(key, started, where)
    return code


def command_key(argv: list[str], environ: Any, cwd: str) -> str:
    """The entry's name: what the command line means, before any file is read."""
    # `_` is the shell's note of the program's own path, not something the program reads
    text = json.dumps([ENTRY_VERSION, argv, cwd, sorted(i for i in environ.items() if i[0] != "_")])
    return hashlib.sha256(text.encode()).hexdigest()


def look_in(argv: list[str], environ: Any) -> Path:
    """The cache directory this command names, as far as its words tell without parsing them:
    a wrong guess only misses (the key holds the whole command line)."""
    named = environ.get("PROVENANCE_CACHE_DIR", "")
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--cache-dir" and i + 1 < len(argv):
            named = argv[i + 1]
        elif arg.startswith("--cache-dir="):
            named = arg.partition("=")[2]
    return Path(named) if named else default_dir()


# -- what a file held -----------------------------------------------------------------------------


def fingerprint(kind: str, path: str, stamped: tuple[str, str] | None = None
                ) -> tuple[str, float, str]:
    """What `path` holds now, as `kind` reads it, the latest change time that reading saw (0
    where none) and, for a file, its stamp (`_stamp`): "file" is a regular file's SHA-256 (""
    for none: absent, a directory, a FIFO), "tree" every name under a directory and every
    file's SHA-256, "real" where the path leads. `stamped`: a file's SHA-256 and the stamp it
    was taken with; a file whose stamp is unchanged is not read again."""
    if kind == "file":
        return _file(path, stamped)
    if kind == "tree":
        return (*_tree(Path(path)), "")
    if kind == "real":
        return str(Path(path).resolve()), 0.0, ""
    raise ValueError(f"unknown kind {kind!r}")


def _file(path: str, stamped: tuple[str, str] | None = None) -> tuple[str, float, str]:
    try:  # non-blocking: a FIFO put where a config file was looked for must not hang the scan
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:  # absent (its directory's change time would say nothing: output lands there)
        return "", 0.0, ""
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)  # after the open: an NFS client checks its cached attributes there
        # a link put in place of the file is newer than the file it now leads to
        changed = max(st.st_ctime, _ctime(path, follow=False))
        if not stat.S_ISREG(st.st_mode):
            return "", changed, ""
        stamp = _stamp(st)
        if stamped is not None and stamp and stamp == stamped[1]:
            return stamped[0], changed, stamp
        digest = "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()
        if _stamp(os.fstat(fd)) != stamp:  # written to while it was read
            stamp = ""
        return digest, changed, stamp


def _stamp(st: os.stat_result) -> str:
    """What says a file is the one it was without reading it, as git's index and rsync's quick
    check do: device, inode, size, modification and change times. Any write sets the change
    time to the present, and nothing but the clock can set it back. An entry keeps a stamp only
    for a file last changed a margin before its scan began (`Watch.record`), so a write after
    that always shows, given a clock finer than the margin: a change time on a whole second
    (FAT, some network file systems, or one time in 250 on a 4 ms clock) gives no stamp, and
    such a file is hashed every time."""
    if st.st_ctime_ns % 1_000_000_000 == 0:
        return ""
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _ctime(path: str, follow: bool = True) -> float:
    try:
        return os.stat(path, follow_symlinks=follow).st_ctime
    except OSError:
        return 0.0


def _tree(top: Path) -> tuple[str, float]:
    """Every name under `top` (a superset of what `signatureset` reads there, from the same
    walk) and every file's digest."""
    if not top.is_dir():
        return "", _ctime(str(top))
    digest, newest = hashlib.sha256(), _ctime(str(top))
    for path in sorted(top.rglob("*")):
        held, changed = _file(str(path))[:2] if path.is_file() else ("", _ctime(str(path)))
        digest.update(path.relative_to(top).as_posix().encode("utf-8", "surrogateescape")
                      + b"\0" + held.encode() + b"\n")
        newest = max(newest, changed)
    return "sha256:" + digest.hexdigest(), newest


# -- the entry ------------------------------------------------------------------------------------


def recall(entry: Path) -> int | None:
    """Write the reports the entry holds and give the exit code, when every file it names
    still holds what it did; None (nothing written) otherwise."""
    try:
        with open(entry, "rb") as f:
            data = f.read()
    except OSError:
        return None
    try:
        head, blobs = _unpacked(data)
        if head["tool"] != tool_key():
            return None
        if head["today"] is not None and head["today"] != date.today().isoformat():
            return None
        for kind, path, held, stamp in head["deps"]:
            if fingerprint(kind, path, (held, stamp) if stamp else None)[0] != held:
                return None
    except (ValueError, KeyError, TypeError, IndexError, RecursionError, zlib.error, OSError):
        return None
    try:
        for blob, dest in zip(blobs, head["outputs"], strict=True):
            write_report(packed.text(blob), dest)
    except OSError:
        return None  # the CLI writes them again, and says what failed
    with contextlib.suppress(OSError):
        os.utime(entry)  # still in use: kept another week
    return int(head["code"])


def write_report(pieces: Iterable[str], dest: str) -> None:
    """A report's pieces to `dest`, or to stdout for "-", as they come; OSError when a write
    fails (`commands.common.write_output` writes through this too)."""
    if dest == "-":
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    with open(dest, "w", encoding="utf-8") as f:
        for piece in pieces:
            f.write(piece)


def _unpacked(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The header and the packed reports of an entry; ValueError unless it is well formed and
    its checksum holds (a damaged entry must fail here, not half-way through writing a report
    or with another exit code: a CRC of the whole, not a first decompression, tells)."""
    check, newline, body = data.partition(b"\n")
    if not newline or check != b"%08x" % zlib.crc32(body):
        raise ValueError("damaged entry")
    line, newline, rest = body.partition(b"\n")
    head = json.loads(line) if newline else None
    if not isinstance(head, dict) or head.get("version") != ENTRY_VERSION:
        raise ValueError("not an entry of this version")
    sizes, outputs, deps = head["sizes"], head["outputs"], head["deps"]
    if not (_texts(outputs) and isinstance(sizes, list) and len(sizes) == len(outputs)
            and all(type(n) is int and n >= 0 for n in sizes) and sum(sizes) == len(rest)
            and isinstance(deps, list) and all(isinstance(d, list) and len(d) == 4
                                               and _texts(d) for d in deps)
            and isinstance(head["tool"], str) and type(head["code"]) is int
            and (head["today"] is None or isinstance(head["today"], str))):
        raise ValueError("malformed entry")
    blobs, at = [], 0
    for size in sizes:
        blobs.append(rest[at:at + size])
        at += size
    return head, blobs


def _texts(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)


def wanted() -> bool:
    """Whether the launcher started this process for a scan it did not find remembered."""
    return _pending is not None


def watch(deps: Iterable[Dep]) -> Watch | None:
    """What a scan the launcher did not find remembered will depend on, noted as the command
    starts (None when the launcher did not start this scan: nothing is recorded)."""
    if _pending is None:
        return None
    deps = list(deps)
    return Watch(_pending, deps, [_present(kind, path) for kind, path in deps], date.today(),
                 [_start_stamp(kind, path) for kind, path in deps])


def _start_stamp(kind: str, path: str) -> str:
    """A file's stamp as the scan starts ("" for none): with it unchanged at the end, a digest
    the scan took of the file meanwhile is what it holds (`Watch.record`'s `known`)."""
    if kind != "file":
        return ""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return _stamp(st) if stat.S_ISREG(st.st_mode) else ""


def _present(kind: str, path: str) -> str:
    if kind == "real":
        return str(Path(path).resolve())
    return str(os.path.isdir(path) if kind == "tree" else os.path.isfile(path))


@dataclass(frozen=True)
class Watch:
    pending: Pending
    deps: list[Dep]
    present: list[str]  # `_present` of each dep at the start: a file removed meanwhile shows
    today: date  # the date at the start, which a scan without --as-of judged by
    stamps: list[str]  # `_start_stamp` of each dep

    def record(self, cache_dir: Path, dated: bool, outputs: list[str], blobs: list[bytes],
               code: int, known: dict[str, str] | None = None) -> bool:
        """Remember the scan, once it has written its reports: whether an entry was written.
        `dated`: the verdicts are as of today (no --as-of). None is written when the launcher
        looked in another cache directory, or when something the scan read changed after it
        started, the date included (then the next run records it). `known`: path -> the
        "sha256:" digest the scan took of that file, used while the file's stamp is the one it
        had at the start (the input is not read a third time: 0.35 s for a 443 MiB image)."""
        if len(blobs) != len(outputs) or (dated and date.today() != self.today):
            return False
        try:
            if cache_dir.resolve() != self.pending.where.resolve():
                return False
            held = []
            for (kind, path), before, start in zip(self.deps, self.present, self.stamps,
                                                   strict=True):
                digest = (known or {}).get(path) if kind == "file" and start else None
                value, changed, stamp = fingerprint(kind, path,
                                                    (digest, start) if digest else None)
                if changed >= self.pending.started - RACY_SECONDS \
                        or _present(kind, path) != before:
                    return False
                held.append([kind, path, value, stamp])
            head = {"version": ENTRY_VERSION, "tool": tool_key(),
                    "today": self.today.isoformat() if dated else None, "deps": held,
                    "outputs": outputs, "sizes": [len(b) for b in blobs], "code": code}
            directory = cache_dir / DIRECTORY
            directory.mkdir(parents=True, exist_ok=True)
            _prune(directory)
            import tempfile  # here: a recall never needs it
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".new-")
            try:
                body = b"".join([json.dumps(head).encode(), b"\n", *blobs])
                with os.fdopen(fd, "wb") as f:
                    f.write(b"%08x\n" % zlib.crc32(body))
                    f.write(body)
                os.replace(temporary, directory / self.pending.key)
            except BaseException:
                os.unlink(temporary)
                raise
        except Exception:  # a cache is never a reason for a scan to fail
            if os.environ.get("PROVENANCE_DEBUG"):
                raise
            return False
        return True


def _prune(directory: Path) -> None:
    old = time.time() - KEEP_SECONDS
    for entry in os.scandir(directory):
        try:
            if entry.stat().st_mtime < old:
                os.unlink(entry.path)
        except OSError:
            pass
