"""Scan many images: one CycloneDX report per input plus a fleet summary (CSV and JSON).

Locally the images are scanned one after another, each with the analysis pool. With a Dask
scheduler address the same work runs on an existing Dask distributed cluster, one task per
image (DESIGN §8: an existing engine, never a home-made scheduler). Each task returns its row
and report text and the client writes the files, so workers need the inputs (a shared path)
and the signature files, but no shared output directory. Results are the same either way.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from provenance.model import Verdict
from provenance.pipeline import InputError, ScanOptions, UsageError, scan
from provenance.signatureset import SignatureSet

SUMMARY_CSV = "fleet-summary.csv"
SUMMARY_JSON = "fleet-summary.json"
FIELDS = ("input", "report", "verdict", "restricted_vendors", "coverage", "seconds", "error")


@dataclass(frozen=True, slots=True)
class FleetRow:
    input: str
    report: str | None  # report file name in the output directory
    verdict: str | None  # None when no verdict was possible (see error)
    restricted_vendors: tuple[str, ...]
    coverage: str | None
    seconds: float
    error: str | None = None


def read_inputs(inputs: Path | Sequence[Path]) -> list[Path]:
    """A directory (its files, sorted), a list file (one path per line; `#` comments; relative
    paths are relative to the list file) or an explicit sequence of paths."""
    if not isinstance(inputs, Path):
        return list(inputs)
    if inputs.is_dir():
        return sorted(p for p in inputs.iterdir() if p.is_file() and not p.name.startswith("."))
    out = []
    for line in inputs.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            path = Path(line).expanduser()
            out.append(path if path.is_absolute() else inputs.parent / path)
    return out


def report_names(paths: Sequence[Path]) -> list[str]:
    """`NAME.cdx.json`, numbered when two inputs share a name."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        base = path.name or "input"
        n = seen.get(base, 0)
        seen[base] = n + 1
        names.append(f"{base}.cdx.json" if n == 0 else f"{base}.{n + 1}.cdx.json")
    return names


def scan_one(path: Path, name: str, sigset: SignatureSet,
             options: ScanOptions) -> tuple[FleetRow, str | None]:
    """Scan one input: its summary row and report text (None on error). Never raises on input."""
    from provenance.report import cyclonedx

    started = time.monotonic()
    try:
        result = scan(path, sigset, options)
        text = cyclonedx.render(result)
    except InputError as exc:
        return FleetRow(str(path), None, None, (), None,
                        round(time.monotonic() - started, 3), str(exc)), None
    except UsageError:
        raise
    except Exception as exc:  # one bad image must not stop a fleet
        return FleetRow(str(path), None, None, (), None, round(time.monotonic() - started, 3),
                        f"internal error: {type(exc).__name__}: {exc}"), None
    vendors = sorted({f.vendor for f in result.findings
                      if f.level == Verdict.RESTRICTED and f.waiver is None})
    row = FleetRow(str(path), name, result.verdict.value, tuple(vendors), result.coverage.value,
                   round(time.monotonic() - started, 3))
    return row, text


def _check(sigset: SignatureSet, options: ScanOptions) -> None:
    unknown = [p for p in options.policies if p not in sigset.policies]
    if unknown:
        known = ", ".join(sorted(sigset.policies))
        raise UsageError(f"unknown policy {', '.join(unknown)} (known: {known})")


def scan_many(
    inputs: Path | Sequence[Path], out_dir: Path, sigset: SignatureSet, options: ScanOptions,
    dask_address: str | None = None,
) -> list[FleetRow]:
    """Scan every input; write one report each and the summary; rows in input order."""
    _check(sigset, options)
    paths = read_inputs(inputs)
    names = report_names(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[FleetRow] = []
    if dask_address is None:
        for path, name in zip(paths, names, strict=True):
            row, text = scan_one(path, name, sigset, options)
            rows.append(_write(out_dir, row, text))
    else:
        for row, text in _on_dask(dask_address, paths, names, sigset, options):
            rows.append(_write(out_dir, row, text))
    write_summary(out_dir, rows)
    return rows


def _on_dask(
    address: str, paths: list[Path], names: list[str], sigset: SignatureSet, options: ScanOptions
) -> list[tuple[FleetRow, str | None]]:
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError("--dask needs the dask extra: pip install 'provenance[dask]'") from exc
    # Each worker is one process per core already: no pool inside a task (a daemonic worker
    # could not start one anyway); the worker's result cache is its own.
    task_options = replace(options, analysis=replace(options.analysis, jobs=1))
    with Client(address) as client:
        shared = client.scatter(sigset, broadcast=True)
        futures = [client.submit(scan_one, path, name, shared, task_options, pure=False,
                                 key=f"provenance-scan-{i}-{name}")
                   for i, (path, name) in enumerate(zip(paths, names, strict=True))]
        return list(client.gather(futures))


def _write(out_dir: Path, row: FleetRow, text: str | None) -> FleetRow:
    if text is None or row.report is None:
        return row
    try:
        (out_dir / row.report).write_text(text, encoding="utf-8")
    except OSError as exc:
        return replace(row, report=None, error=f"cannot write report: {exc.strerror}")
    return row


def write_summary(out_dir: Path, rows: Sequence[FleetRow]) -> None:
    records = [asdict(r) | {"restricted_vendors": list(r.restricted_vendors)} for r in rows]
    (out_dir / SUMMARY_JSON).write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    with open(out_dir / SUMMARY_CSV, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for r in rows:
            writer.writerow([r.input, r.report or "", r.verdict or "",
                             ";".join(r.restricted_vendors), r.coverage or "", r.seconds,
                             r.error or ""])
