"""The result cache: bytes per (input, context, signature set, tool build), in SQLite.

A re-scan of an unchanged image should cost little more than hashing it (DESIGN §8). It holds
these kinds of entry (this module only stores bytes):

- one blob's Analysis (`pipeline.blobs`), whose `context` is what identification reads besides
  the bytes: the blob's kind, its file name (name-based readers such as `package.json`) and
  whether it was unpacked into children. Two blobs with the same bytes and context always get
  the same Analysis;
- one whole scan's ScanResult (`pipeline.scan`), whose context, `scan:<digest>`, names the
  input's file name and the options that change the result (both encoded by `pipeline.codec`),
  and beside it an empty entry under `size:<the input's size>` and the same context: a scan
  of an input of that size is kept, so a first scan of an input need not hash it before it
  starts;
- each report a `--reproducible` scan wrote, compressed, under that scan's key with
  `:report:<format>` added to its context (`pipeline.memo`).

Entries are keyed by (sha256, context, signature-set digest, tool key). The tool key is the
version plus a digest of the package's own source and of the parser libraries' versions (LIEF,
yara-python), so neither a developer editing a reader nor an upgrade ever gets stale facts from
an older build.

Concurrency: WAL journal, a busy timeout, one connection per process, writes batched in
transactions. Any database error disables or rebuilds the cache; it is never fatal to a scan.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from provenance.caching import default_dir, tool_key

DB_NAME = "results-v1.sqlite"
BUSY_TIMEOUT_MS = 10_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS analysis (
    sha256 TEXT NOT NULL,
    context TEXT NOT NULL,
    signatures TEXT NOT NULL,
    tool TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (sha256, context, signatures, tool)
) WITHOUT ROWID
"""


# -- the store ------------------------------------------------------------------------------------

Key = tuple[str, str]  # (sha256, context)


def _storable(context: str) -> str:
    """A key SQLite can store: a path chain with an undecodable byte of a member name (a lone
    surrogate) is kept as its escaped text, which no decodable chain can equal."""
    try:
        context.encode("utf-8")
    except UnicodeEncodeError:
        return "\0" + context.encode("utf-8", "surrogateescape").hex()
    return context


class ResultCache:
    """One process's handle on the cache for one signature set. Errors disable it, quietly."""

    WRITE_BATCH = 512

    def __init__(self, directory: Path, signatures: str) -> None:
        self.path = directory / DB_NAME
        self.signatures = signatures
        self.tool = tool_key()
        self.pending: list[tuple[str, str, str, str, bytes]] = []
        self.db: sqlite3.Connection | None = None
        self.notes: list[str] = []  # what went wrong, for the curious (never raised)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.db = self._open()
        except sqlite3.DatabaseError as exc:  # not a database, malformed: move aside, rebuild
            self._move_aside(exc)
            try:
                self.db = self._open()
            except (sqlite3.Error, OSError) as again:
                self.notes.append(f"cache disabled: {again}")
        except OSError as exc:
            self.notes.append(f"cache disabled: {exc}")

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Switching a new file to WAL takes an exclusive lock, and SQLite does not run the
            # busy handler for it: processes creating the cache together retry for a while.
            for attempt in range(50):
                try:
                    db.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or attempt == 49:
                        raise
                    time.sleep(0.05)
            db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable enough for a cache
            db.execute(_SCHEMA)
            db.execute("SELECT count(*) FROM analysis WHERE sha256 = ''").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self, exc: BaseException) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.notes.append(f"corrupt cache moved aside: {exc}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            try:
                if src.exists():
                    src.replace(Path(f"{src}.corrupt-{stamp}-{os.getpid()}"))
            except OSError:
                pass

    def _failed(self, exc: BaseException) -> None:
        """A database error mid-scan: move a corrupt file aside, stop using the cache."""
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
        self.db = None
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            self._move_aside(exc)
        else:
            self.notes.append(f"cache disabled: {exc}")

    def get_many(self, keys: Iterable[Key]) -> dict[Key, bytes]:
        """Stored values for the keys that have one."""
        out: dict[Key, bytes] = {}
        if self.db is None:
            return out
        wanted = list(dict.fromkeys(keys))
        try:
            for i in range(0, len(wanted), 500):  # under SQLite's host-parameter limit
                chunk = wanted[i:i + 500]
                stored = {(sha, _storable(ctx)): (sha, ctx) for sha, ctx in chunk}
                marks = ",".join("?" * len(chunk))
                rows = self.db.execute(
                    f"SELECT sha256, context, value FROM analysis WHERE sha256 IN ({marks})"
                    " AND signatures = ? AND tool = ?",
                    (*(sha for sha, _ in chunk), self.signatures, self.tool),
                ).fetchall()
                for sha, context, value in rows:
                    if (sha, context) in stored:
                        out[stored[(sha, context)]] = value
        except sqlite3.Error as exc:
            self._failed(exc)
            return {}
        return out

    def put(self, key: Key, value: bytes) -> None:
        self.pending.append((key[0], _storable(key[1]), self.signatures, self.tool, value))
        if len(self.pending) >= self.WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write pending entries in one transaction."""
        rows, self.pending = self.pending, []
        if self.db is None or not rows:
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO analysis VALUES (?,?,?,?,?)", rows)
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                if self.db is not None and self.db.in_transaction:
                    self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self._failed(exc)

    def close(self) -> None:
        self.flush()
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = None


_open_caches: dict[tuple[int, Path, str], ResultCache] = {}


def close_caches() -> None:
    """Close this process's handles, once a command has written all it will. The last
    connection to close folds the write-ahead log into the database (SQLite's checkpoint):
    left open, the 6 MB log of the 7,140-file benchmark's scan made the next scan's start pay
    for it (0.68 s against 0.53 s for a warm re-scan, on disk)."""
    for key in [key for key in _open_caches if key[0] == os.getpid()]:
        _open_caches.pop(key).close()


def open_cache(directory: Path | None, signatures: str) -> ResultCache:
    """This process's cache handle (one connection per process, reopened after a fork)."""
    where = (directory or default_dir()).resolve()
    key = (os.getpid(), where, signatures)
    cache = _open_caches.get(key)
    if cache is None or cache.db is None:
        cache = ResultCache(where, signatures)
        _open_caches[key] = cache
    return cache
