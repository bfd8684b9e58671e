"""`provenance fleet INPUTS --out-dir DIR`: scan many images, one report each plus a summary.

INPUTS is a directory of images or a list file (one path or URL per line); it and DIR may be
fsspec URLs (`s3://bucket/prefix/`). The main CLI registers the function:
`app.command("fleet")(fleet.fleet)`. The verdict options are those of `scan`.

Exit codes: 0 no input at or above --fail-on; 1 some input at or above it (default: restricted);
2 usage error; 3 some input had no verdict (unreadable) and none was at or above --fail-on.
"""

from __future__ import annotations

from typing import Annotated

import typer

from provenance.commands.common import (
    EXIT_FINDINGS,
    EXIT_NO_VERDICT,
    EXIT_OK,
    EXIT_USAGE,
    AsOfOpt,
    CacheDirOpt,
    ContributedOpt,
    FailOn,
    FailOnOpt,
    JobsOpt,
    NoCacheOpt,
    PolicyOpt,
    ReproducibleOpt,
    SignaturesOpt,
    WaiversOpt,
    analysis_options,
    exit_on_sigterm,
    fail,
    fails,
    judging,
    tune_gc,
)


class PathOrURL(str):
    """A local path or an fsspec URL, kept as written (a Path would fold `s3://` to `s3:/`);
    the help shows its name as the argument's type."""

    __slots__ = ()


def fleet(
    inputs: Annotated[PathOrURL, typer.Argument(
        parser=PathOrURL, metavar="INPUTS", show_default=False,
        help="A directory of images or a file listing one path or URL per line; either may be "
        "a URL (s3://bucket/images/, gs://..., file://...; needs the fleet extra).")],
    out_dir: Annotated[str, typer.Option(
        "--out-dir", metavar="DIR", show_default=False,
        help="Where the reports and fleet-summary.csv/.json go: a directory or a URL prefix "
        "(s3://bucket/reports/).")],
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDR", help="Run on this Dask distributed scheduler "
        "(tcp://host:8786), one task per image. Needs the fleet extra.")] = None,
    dask_timeout: Annotated[float, typer.Option(
        "--dask-timeout", metavar="SECONDS", min=0.1,
        help="Seconds to reach the Dask scheduler before giving up.")] = 10.0,
    fail_on: FailOnOpt = FailOn.restricted,
    policy: PolicyOpt = None,
    waivers: WaiversOpt = None,
    signatures: SignaturesOpt = None,
    as_of: AsOfOpt = None,
    contributed_as_made_by: ContributedOpt = False,
    reproducible: ReproducibleOpt = False,
    jobs: JobsOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Scan every image in INPUTS; write one CycloneDX report each and a fleet summary."""
    from provenance import pipeline
    from provenance.model import Verdict
    from provenance.pipeline import fleet as fleet_mod

    tune_gc()
    judged = judging(signatures, policy, as_of, waivers, contributed_as_made_by)
    options = judged.scan_options(reproducible=reproducible,
                                  analysis=analysis_options(jobs, cache_dir, no_cache))
    try:
        with exit_on_sigterm():
            rows = fleet_mod.scan_many(str(inputs), out_dir, judged.sigset, options, dask,
                                       dask_timeout)
    except pipeline.UsageError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise fail(f"{exc.filename or inputs}: {exc.strerror or exc}", EXIT_USAGE) from None
    counts: dict[str, int] = {}
    for row in rows:
        key = row.verdict or "error"
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    typer.echo(f"{len(rows)} input(s): {summary or 'none'}; summary in "
               f"{fleet_mod.summary_location(out_dir)}")
    worst = max((Verdict(r.verdict) for r in rows if r.verdict), key=lambda v: v.rank,
                default=Verdict.CLEAR)
    if fails(worst, fail_on):
        raise typer.Exit(EXIT_FINDINGS)
    if counts.get("error"):
        raise typer.Exit(EXIT_NO_VERDICT)
    raise typer.Exit(EXIT_OK)
