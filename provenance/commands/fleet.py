"""`provenance fleet INPUTS --out-dir DIR`: scan many images, one report each plus a summary.

INPUTS is a directory of images or a list file (one path per line). `app` is a one-command
typer app (for tests and standalone use); the main CLI registers the function itself:
`app.command("fleet")(fleet.fleet)`.

Exit codes: 0 every input clear or review; 1 some input restricted; 2 usage error; 3 some input
had no verdict (unreadable) and none was restricted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance.commands.common import (
    EXIT_FINDINGS,
    EXIT_NO_VERDICT,
    EXIT_OK,
    EXIT_USAGE,
    fail,
)

app = typer.Typer(help="Scan many images: one CycloneDX report each plus a fleet summary.",
                  add_completion=False, pretty_exceptions_enable=False)



@app.command()
def fleet(
    inputs: Annotated[Path, typer.Argument(help="A directory of images, or a file listing one "
                                                "path per line.", show_default=False)],
    out_dir: Annotated[Path, typer.Option(
        "--out-dir", help="Where the reports and fleet-summary.csv/.json go.",
        show_default=False)],
    dask: Annotated[str | None, typer.Option(
        "--dask", help="Run on this Dask distributed scheduler (tcp://host:8786), one task per "
        "image. Needs the dask extra.")] = None,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", help="Worker processes per local scan (default: one per core).",
        min=1)] = None,
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", "-p", help="Restricted-origin list to apply (repeatable).")] = None,
    signatures: Annotated[list[Path] | None, typer.Option(
        "--signatures", help="Extra signature directory (repeatable).")] = None,
    reproducible: Annotated[bool, typer.Option(
        help="Byte-identical reports for identical input: no timestamp, no timings.")] = False,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Result cache directory (default: the user cache directory).")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Neither read nor write the result cache.")] = False,
) -> None:
    """Scan every image in INPUTS; write one CycloneDX report each and a fleet summary."""
    from provenance import fleet as fleet_mod
    from provenance import pipeline, signatureset
    from provenance.analysis import AnalysisOptions

    if not inputs.exists():
        raise fail(f"{inputs}: no such file or directory", EXIT_USAGE)
    options = pipeline.ScanOptions(
        policies=tuple(policy) if policy else pipeline.DEFAULT_POLICIES,
        reproducible=reproducible,
        analysis=AnalysisOptions(jobs=jobs, cache_dir=cache_dir, use_cache=not no_cache),
    )
    try:
        sigset = signatureset.load(tuple(signatures or ()))
        rows = fleet_mod.scan_many(inputs, out_dir, sigset, options, dask)
    except signatureset.SignatureError as exc:
        raise fail(f"invalid signature set: {exc}", EXIT_NO_VERDICT) from None
    except pipeline.UsageError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise fail(f"{exc.filename or inputs}: {exc.strerror}", EXIT_USAGE) from None
    counts: dict[str, int] = {}
    for row in rows:
        key = row.verdict or "error"
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    typer.echo(f"{len(rows)} input(s): {summary or 'none'}; summary in "
               f"{out_dir / fleet_mod.SUMMARY_CSV}")
    if counts.get("restricted"):
        raise typer.Exit(EXIT_FINDINGS)
    if counts.get("error"):
        raise typer.Exit(EXIT_NO_VERDICT)
    raise typer.Exit(EXIT_OK)
