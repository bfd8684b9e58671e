"""Scan many images: one CycloneDX report per input plus a fleet summary (CSV and JSON).

Inputs and the output directory are local paths or fsspec URLs (`s3://bucket/prefix/`,
`gs://...`, `file:///...`), so workers on other machines need no shared disk. Locally the images
are scanned one after another, each with the analysis pool. With a Dask scheduler address the
same work runs on an existing Dask distributed cluster, one task per image (DESIGN §8: an
existing engine, never a home-made scheduler). A remote input is copied to the worker's scratch
space (bounded by the extraction's total-bytes limit), scanned as a local file and deleted. With
a remote output each task writes its own report there; with a local output the client writes
it, since a worker's local disk is not the client's. Reports go to names derived from the
input's name but sanitised, so an object key cannot write outside the output prefix.

Each image is reported exactly once: a task is retried by Dask when its worker dies, and a retry
writes the same report name again (an S3 PUT replaces an object whole). An image that kills
every worker it runs on ends as an error row, not a lost fleet.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import posixpath
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

from provenance.model import Verdict
from provenance.pipeline import InputError, ScanOptions, UsageError, scan
from provenance.signatureset import SignatureSet

SUMMARY_CSV = "fleet-summary.csv"
SUMMARY_JSON = "fleet-summary.json"
FIELDS = ("input", "report", "verdict", "restricted_vendors", "coverage", "seconds", "error")
MAX_LIST_BYTES = 16 << 20  # a list file of a million URLs is well under this
MAX_NAME_BYTES = 200  # a report name, before `.cdx.json`: under every filesystem's 255
CONNECT_SECONDS = 10.0  # to reach the Dask scheduler; Dask's own default is 30 s
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_UNSAFE = re.compile(r"[^\w.+-]")  # \w is Unicode letters and digits: no separators, no controls


@dataclass(frozen=True, slots=True)
class FleetRow:
    input: str
    report: str | None  # report file name in the output directory
    verdict: str | None  # None when no verdict was possible (see error)
    restricted_vendors: tuple[str, ...]
    coverage: str | None
    seconds: float
    error: str | None = None


def is_remote(location: str | Path) -> bool:
    """A URL with a scheme other than `file://`: read and written through fsspec."""
    match = _SCHEME.match(str(location))
    return match is not None and match.group(1).lower() not in ("file", "local")


def _local(location: str | Path) -> Path:
    text = str(location)
    match = _SCHEME.match(text)
    return Path(text[match.end():] if match else text).expanduser()


def _fs(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and path of a URL; a missing extra or backend is a usage error."""
    try:
        from fsspec.core import url_to_fs
    except ImportError as exc:
        raise UsageError(f"{url}: URLs need the fleet extra: pip install 'provenance[fleet]'"
                         ) from exc
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:  # gcsfs not installed, unknown protocol
        raise UsageError(f"{url}: {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def safe_name(source: str | Path) -> str:
    """The last component of a path or object key, made safe as a file name: separators and
    control characters become `_`, no leading dot (no `..`, no hidden file), no leading `-` or
    `+` (read as an option by a shell tool, or as a formula by a spreadsheet), at most 200 bytes.
    An object key is untrusted: `a/../../x`, `..` or `\\n` must not name anything outside the
    output directory."""
    base = re.split(r"[/\\]", str(source).rstrip("/\\"))[-1]
    name = _UNSAFE.sub("_", base).lstrip(".+-")
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    return name or "input"


def read_inputs(inputs: str | Path | Sequence[str | Path]) -> list[str]:
    """A directory or URL prefix (its files, sorted; hidden ones skipped), a list file (one path
    or URL per line, `#` comments, relative entries relative to the list) or explicit inputs."""
    if not isinstance(inputs, str | Path):
        return [str(i) for i in inputs]
    if is_remote(inputs):
        return _read_remote_inputs(str(inputs))
    top = _local(inputs)
    if top.is_dir():
        return [str(p) for p in sorted(top.iterdir())
                if p.is_file() and not p.name.startswith(".")]
    if not top.exists():
        raise UsageError(f"{inputs}: no such file or directory")
    with open(top, "rb") as f:
        text = _bounded_text(f, str(inputs))
    out = []
    for line in _entries(text):
        if is_remote(line) or line.startswith("file://"):
            out.append(line)
        else:
            path = Path(line).expanduser()
            out.append(str(path if path.is_absolute() else top.parent / path))
    return out


def _read_remote_inputs(url: str) -> list[str]:
    fs, path = _fs(url)
    try:
        if fs.isdir(path):
            entries = fs.ls(path, detail=True)
            files = sorted(e["name"] for e in entries if e.get("type") == "file"
                           and not posixpath.basename(e["name"].rstrip("/")).startswith("."))
            return [fs.unstrip_protocol(name) for name in files]
        if not fs.isfile(path):
            raise UsageError(f"{url}: no such object or prefix")
        with fs.open(path, "rb") as f:
            text = _bounded_text(f, url)
    except UsageError:
        raise
    except Exception as exc:  # the backend's own errors (credentials, network, permissions)
        raise UsageError(f"{url}: cannot list: {_one_line(exc)}") from exc
    # entries relative to the list's own prefix, `/x` from the root of its filesystem (for S3,
    # bucket x): the list is the user's own, unlike the objects it names
    scheme = url.split("://", 1)[0] + "://"
    parent = posixpath.dirname(path.rstrip("/"))
    return [line if _SCHEME.match(line) else
            scheme + posixpath.normpath(posixpath.join(parent, line)).lstrip("/")
            for line in _entries(text)]


def _bounded_text(f: IO[bytes], name: str) -> str:
    data = f.read(MAX_LIST_BYTES + 1)
    if len(data) > MAX_LIST_BYTES:
        raise UsageError(f"{name}: a list file over {MAX_LIST_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{name}: neither a directory nor a UTF-8 list file") from None


def _entries(text: str) -> list[str]:
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def report_names(sources: Sequence[str | Path]) -> list[str]:
    """`NAME.cdx.json` with NAME the input's safe name, numbered when two inputs would share a
    report, also on a case-insensitive filesystem."""
    used: set[str] = set()
    names = []
    for source in sources:
        base = safe_name(source)
        name, n = f"{base}.cdx.json", 1
        while name.casefold() in used:
            n += 1
            name = f"{base}.{n}.cdx.json"
        used.add(name.casefold())
        names.append(name)
    return names


@contextlib.contextmanager
def local_copy(source: str, max_bytes: int) -> Iterator[Path]:
    """The input as a local file: a local path as it is; a remote object downloaded under its
    safe name into a scratch directory (the Dask worker's, which Dask purges after a killed
    worker) and deleted afterwards. More than `max_bytes` is refused, whatever size the store
    declared."""
    if not is_remote(source):
        yield _local(source)
        return
    fs, path = _fs(source)
    try:
        size = fs.size(path)
    except FileNotFoundError:
        raise InputError(f"{source}: no such object") from None
    except Exception as exc:
        raise InputError(f"{source}: cannot read: {_one_line(exc)}") from exc
    if size is not None and size > max_bytes:
        raise InputError(f"{source}: {size} bytes, over the {max_bytes}-byte limit on the "
                         "bytes a scan may write")
    with tempfile.TemporaryDirectory(prefix="provenance-fleet-", dir=_scratch()) as tmp:
        dest = Path(tmp) / safe_name(source)
        try:
            with fs.open(path, "rb") as src, open(dest, "wb") as out:
                copy_bounded(src, out, max_bytes, source)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"{source}: cannot download: {_one_line(exc)}") from exc
        yield dest


def copy_bounded(src: IO[bytes], out: IO[bytes], max_bytes: int, name: str) -> int:
    """Copy at most `max_bytes`; a stream longer than that (a store that under-declared an
    object's size) is an InputError."""
    copied = 0
    while chunk := src.read(min(1 << 20, max_bytes + 1 - copied)):
        copied += len(chunk)
        if copied > max_bytes:
            raise InputError(f"{name}: more than the {max_bytes}-byte limit on the bytes a "
                             "scan may write")
        out.write(chunk)
    return copied


def _scratch() -> str | None:
    """The Dask worker's own directory when running in one (not importing distributed, which
    costs seconds, where it is not loaded already)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return str(distributed.get_worker().local_directory)
    except ValueError:  # not on a Dask worker
        return None


def scan_one(source: str, name: str, sigset: SignatureSet, options: ScanOptions,
             out: str | None = None) -> tuple[FleetRow, str | None]:
    """Scan one input: its summary row, and its report text (None on error, or when written to
    `out` here). Never raises on input."""
    from provenance.report import cyclonedx

    started = time.monotonic()

    def failed(message: str) -> tuple[FleetRow, None]:
        return FleetRow(source, None, None, (), None, round(time.monotonic() - started, 3),
                        message), None

    try:
        with local_copy(source, options.limits.max_total_bytes) as path:
            result = scan(path, sigset, options)
        text = cyclonedx.render(result)
    except InputError as exc:
        return failed(str(exc))
    except UsageError:
        raise
    except Exception as exc:  # one bad image must not stop a fleet
        return failed(f"internal error: {type(exc).__name__}: {exc}")
    vendors = sorted({f.vendor for f in result.findings
                      if f.level == Verdict.RESTRICTED and f.waiver is None})
    row = FleetRow(source, name, result.verdict.value, tuple(vendors), result.coverage.value,
                   round(time.monotonic() - started, 3))
    if out is None:
        return row, text
    return write_report(out, row, text), None


def _check(sigset: SignatureSet, options: ScanOptions) -> None:
    unknown = [p for p in options.policies if p not in sigset.policies]
    if unknown:
        known = ", ".join(sorted(sigset.policies))
        raise UsageError(f"unknown policy {', '.join(unknown)} (known: {known})")


def scan_many(
    inputs: str | Path | Sequence[str | Path], out: str | Path, sigset: SignatureSet,
    options: ScanOptions, dask_address: str | None = None,
    connect_seconds: float = CONNECT_SECONDS,
) -> list[FleetRow]:
    """Scan every input; write one report each and the summary to `out` (a directory or URL
    prefix); rows in input order."""
    _check(sigset, options)
    sources = read_inputs(inputs)
    names = report_names(sources)
    out = str(out)
    _make_dir(out)
    if dask_address is None:
        rows = [write_report(out, *scan_one(source, name, sigset, options))
                for source, name in zip(sources, names, strict=True)]
    else:
        rows = _on_dask(dask_address, connect_seconds, sources, names, sigset, options, out)
    write_summary(out, rows)
    return rows


def _identity(value: Any) -> Any:
    return value


def _on_dask(
    address: str, connect_seconds: float, sources: list[str], names: list[str],
    sigset: SignatureSet, options: ScanOptions, out: str,
) -> list[FleetRow]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise UsageError("--dask needs the fleet extra: pip install 'provenance[fleet]'"
                         ) from exc
    # Each worker is one process per core already: no pool inside a task (a daemonic worker
    # could not start one anyway); the worker's result cache is its own.
    task_options = replace(options, analysis=replace(options.analysis, jobs=1))
    remote_out = out if is_remote(out) else None
    try:
        client = Client(address, timeout=connect_seconds)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler {address} within "
                         f"{connect_seconds:g} s: {_one_line(exc)}") from None
    rows: list[FleetRow | None] = [None] * len(sources)
    with client:
        # keys unique to this run: two fleets on one cluster must not share each other's
        # results (nor signature sets: `--contributed-as-made-by` changes the policies only)
        run = uuid.uuid4().hex[:12]
        # A task, not scattered data: if every worker holding it dies, Dask computes it again
        # from the task's own copy instead of failing every scan with "lost dependencies".
        shared = client.submit(_identity, sigset, key=f"provenance-signatures-{run}")
        futures = {client.submit(scan_one, source, name, shared, task_options, remote_out,
                                 pure=False, key=f"provenance-scan-{run}-{i}-{name}"): i
                   for i, (source, name) in enumerate(zip(sources, names, strict=True))}
        for future in as_completed(futures):
            i = futures.pop(future)
            rows[i] = _settle(future, sources[i], out)
            future.release()
    return [row for row in rows if row is not None]


def _settle(future: Any, source: str, out: str) -> FleetRow:
    """A finished task's row, its report written here if the worker did not; a task Dask gave up
    on (its worker died `allowed-failures` times) is an error row."""
    from distributed import KilledWorker

    if future.status == "cancelled":
        raise UsageError(f"the Dask scheduler cancelled the scan of {source}: did it stop?")
    try:
        row, text = future.result()
    except KilledWorker as exc:
        return FleetRow(source, None, None, (), None, 0.0,
                        f"workers died scanning this input: {_one_line(exc)}")
    except UsageError:
        raise
    except Exception as exc:
        return FleetRow(source, None, None, (), None, 0.0,
                        f"internal error: {type(exc).__name__}: {_one_line(exc)}")
    return write_report(out, row, text)


def _make_dir(out: str) -> None:
    if not is_remote(out):
        _local(out).mkdir(parents=True, exist_ok=True)
        return
    fs, path = _fs(out)
    try:
        split = getattr(fs, "split_path", None)
        if split is None:
            fs.makedirs(path, exist_ok=True)
        elif not fs.exists(split(path)[0]):
            # an object store: prefixes need no creating, and a typo must not create a bucket
            raise UsageError(f"{out}: no such bucket")
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"{out}: cannot write there: {_one_line(exc)}") from exc


def _put(out: str, name: str, data: bytes) -> None:
    """Write one file whole. Local: a temporary name renamed over the target, so a killed
    writer leaves no half report. Remote: one PUT, which object stores apply atomically."""
    if not is_remote(out):
        target = _local(out) / name
        tmp = target.with_name(f".{name}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
        return
    fs, path = _fs(out)
    fs.pipe_file(f"{path.rstrip('/')}/{name}", data)


def write_report(out: str, row: FleetRow, text: str | None) -> FleetRow:
    if text is None or row.report is None:
        return row
    try:
        _put(out, row.report, text.encode("utf-8"))
    except Exception as exc:  # OSError locally; the store's own errors remotely
        return replace(row, report=None, error=f"cannot write report: {_one_line(exc)}")
    return row


def write_summary(out: str | Path, rows: Sequence[FleetRow]) -> None:
    records = [asdict(r) | {"restricted_vendors": list(r.restricted_vendors)} for r in rows]
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(FIELDS)
    for r in rows:
        writer.writerow([r.input, r.report or "", r.verdict or "", ";".join(r.restricted_vendors),
                         r.coverage or "", r.seconds, r.error or ""])
    try:
        _put(str(out), SUMMARY_JSON, (json.dumps(records, indent=2) + "\n").encode("utf-8"))
        _put(str(out), SUMMARY_CSV, table.getvalue().encode("utf-8"))
    except Exception as exc:  # OSError locally; the store's own errors remotely
        raise UsageError(f"{out}: cannot write the summary: {_one_line(exc)}") from exc


def summary_location(out: str | Path) -> str:
    return f"{str(out).rstrip('/')}/{SUMMARY_CSV}" if is_remote(out) else str(
        _local(out) / SUMMARY_CSV)

