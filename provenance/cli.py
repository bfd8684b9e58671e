"""The command line. The only module that prints or exits.

Exit codes (DESIGN §7): 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage
error; 3 no verdict possible (input unreadable, signature set invalid).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from provenance import __version__
from provenance.commands.common import (
    EXIT_FINDINGS,
    EXIT_NO_VERDICT,
    EXIT_OK,
    EXIT_USAGE,
    FailOn,
    fail,
    write_output,
)
from provenance.extract.limits import Limits

_DEFAULT_LIMITS = Limits()

app = typer.Typer(
    name="provenance",
    help="Who made each part of a firmware image, installer or package, how sure we are, "
    "and whether any of it falls under a restricted-origin list.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        print(f"provenance {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    """provenance: a firmware and software-package provenance auditor."""


class _DelayedProgress:
    """A progress bar that appears only when a scan takes longer than a moment."""

    DELAY = 0.7

    def __init__(self, console: Console | None) -> None:
        self.console = console
        self.started = time.monotonic()
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.console is None or time.monotonic() - self.started < self.DELAY:
            return
        if self.progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(phase, total=total)
        self.progress.update(self.task, description=phase, completed=done, total=total)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _sigterm(_signo: int, _frame: object) -> None:
    # Turn SIGTERM into SystemExit so temporary extraction trees are removed on the way out.
    raise SystemExit(128 + signal.SIGTERM)


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="Firmware image, installer, package, binary or "
                                              "directory to scan.", show_default=False)],
    output: Annotated[list[Path] | None, typer.Option(
        "--output", "-o", help="Write a report here ('-' for stdout). Repeat with --format to "
        "write several formats; they pair up in order.")] = None,
    format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="Report format for the matching --output: cyclonedx-json, "
        "cyclonedx-xml, sarif, html, markdown, table.")] = None,
    fail_on: Annotated[FailOn, typer.Option(
        help="Exit 1 when any finding is at or above this level.")] = FailOn.restricted,
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", "-p", help="Restricted-origin list to apply (repeatable). Default: "
        "us-ndaa-889, us-fcc-covered-list, us-kaspersky-icts-2024; `provenance policies list` "
        "shows them all.")] = None,
    waivers: Annotated[Path | None, typer.Option(
        help="Waiver file (YAML or JSON): accepted findings, each with a justification, an "
        "approver and an expiry date. Waived findings stay in the report but do not fail.")]
    = None,
    signatures: Annotated[list[Path] | None, typer.Option(
        "--signatures", help="Extra signature directory (vendors/, yara/, policies/); adds to "
        "the built-in set (repeatable).")] = None,
    as_of: Annotated[str | None, typer.Option(
        help="Evaluate policies as of this date (YYYY-MM-DD); default today.")] = None,
    contributed_as_made_by: Annotated[bool, typer.Option(
        "--contributed-as-made-by", help="Count `contributed` (a vendor's code as upstream "
        "open source, built and shipped by someone else: review at most by default) wherever "
        "a policy counts made-by.")] = False,
    require_complete: Annotated[bool, typer.Option(
        help="Exit 3 when coverage is partial (something could not be unpacked or parsed).")]
    = False,
    reproducible: Annotated[bool, typer.Option(
        help="Byte-identical reports for identical input: no timestamp, no timings.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No summary and no progress display.")] = False,
    facts: Annotated[Path | None, typer.Option(
        "--facts", help="Also write, as JSON, every fact identification read for each component "
        "(a debugging aid).")] = None,
    keep_extracted: Annotated[Path | None, typer.Option(
        help="Keep the extracted tree in this directory for the analyst.")] = None,
    max_depth: Annotated[int, typer.Option(help="Deepest nesting of containers to open.")]
    = _DEFAULT_LIMITS.max_depth,
    max_files: Annotated[int, typer.Option(help="Most files to extract in the whole scan.")]
    = _DEFAULT_LIMITS.max_files,
    max_total_bytes: Annotated[int, typer.Option(help="Most bytes to extract in the whole scan.")]
    = _DEFAULT_LIMITS.max_total_bytes,
    max_member_bytes: Annotated[int, typer.Option(help="Largest single extracted file.")]
    = _DEFAULT_LIMITS.max_member_bytes,
    max_ratio: Annotated[float, typer.Option(
        help="Largest expansion of one container (bytes out / bytes in), past 64 MiB.")]
    = _DEFAULT_LIMITS.max_ratio,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", help="Worker processes for identification and scanning (default: one "
        "per core).", min=1)] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Result cache directory (default: the user cache directory).")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Neither read nor write the result cache.")] = False,
    seconds_per_format: Annotated[float, typer.Option(
        help="Longest time to spend unpacking one container.")]
    = _DEFAULT_LIMITS.seconds_per_format,
) -> None:
    """Scan PATH and report who made each component and what a policy flags."""
    from provenance import pipeline, signatureset
    from provenance.analysis import AnalysisOptions
    from provenance.commands.enrich import enrich_command
    from provenance.enrich_read import looks_like_sbom
    from provenance.facts_dump import facts_json
    from provenance.model import Verdict
    from provenance.policy.waivers import WaiverError, load_waivers
    from provenance.report import FORMATS
    from provenance.report.summary import summary

    outputs = output or []
    formats = format or ["cyclonedx-json"] * len(outputs)
    if path.is_file() and looks_like_sbom(path):
        # an SBOM is enriched, not unpacked: `scan` on it does what `enrich` does
        if any(f != "cyclonedx-json" for f in formats) or len(outputs) > 1:
            raise fail("an SBOM input is enriched into one CycloneDX JSON --output", EXIT_USAGE)
        enrich_command(path, outputs[0] if outputs else None, None, policy, as_of, fail_on,
                       signatures, quiet)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise fail(f"unknown format {', '.join(bad)} (known: {', '.join(FORMATS)})", EXIT_USAGE)
    if len(formats) != len(outputs):
        raise fail("give one --output per --format", EXIT_USAGE)
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise fail(f"--as-of: not a date: {as_of!r} (use YYYY-MM-DD)", EXIT_USAGE) from None
    try:
        waived = load_waivers(waivers) if waivers else ()
    except WaiverError as exc:
        raise fail(f"--waivers: {exc}", EXIT_USAGE) from None
    limits = Limits(max_depth, max_files, max_total_bytes, max_member_bytes, max_ratio,
                    seconds_per_format=seconds_per_format)
    options = pipeline.ScanOptions(
        policies=tuple(policy) if policy else pipeline.DEFAULT_POLICIES,
        limits=limits, reproducible=reproducible, as_of=day, keep_extracted=keep_extracted,
        analysis=AnalysisOptions(jobs=jobs, cache_dir=cache_dir, use_cache=not no_cache),
        waivers=waived, whole_scan_cache=facts is None,
        contributed_as_made_by=contributed_as_made_by,
    )
    to_stdout = any(str(o) == "-" for o in outputs)
    out = Console(stderr=to_stdout, highlight=False, soft_wrap=False)
    show = not quiet and out.is_terminal
    progress = _DelayedProgress(err if show else None)
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        sigset = signatureset.load(tuple(signatures or ()))
        if contributed_as_made_by:
            from provenance.policy import contributed_as_made_by as made_by_view

            sigset = made_by_view(sigset)
        result = pipeline.scan(path, sigset, options, progress)
    except signatureset.SignatureError as exc:
        raise fail(f"invalid signature set: {exc}", EXIT_NO_VERDICT) from None
    except pipeline.UsageError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except pipeline.InputError as exc:
        raise fail(str(exc), EXIT_NO_VERDICT) from None
    finally:
        progress.stop()
    for fmt, dest in zip(formats, outputs, strict=True):
        write_output(FORMATS[fmt](result), dest)
    if facts is not None:
        try:
            facts.write_text(facts_json(result), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {facts}: {exc.strerror}", EXIT_NO_VERDICT) from None
    if not quiet:
        out.print(summary(result))
    if require_complete and result.coverage.value != "complete":
        raise fail(f"coverage is partial: {len(result.problems)} problem(s), see the report",
                   EXIT_NO_VERDICT)
    threshold = {FailOn.restricted: Verdict.RESTRICTED, FailOn.review: Verdict.REVIEW}
    level = threshold.get(fail_on)
    if level is not None and result.verdict.rank >= level.rank:
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_OK)


def _register_commands() -> None:
    # Sub-commands live in provenance/commands/, one module each, registered explicitly here.
    from provenance.commands import enrich, fleet, policies, render, signatures

    app.command("render", help="Re-render a saved CycloneDX report (html, sarif, table, "
                "markdown, cyclonedx-xml...) without rescanning.")(render.render)
    app.command("enrich", help="Add makers and restricted-origin flags to an existing SBOM "
                "(CycloneDX 1.2-1.6, SPDX 2.2/2.3, SPDX 3.0 best effort).")(enrich.enrich_command)
    app.command("fleet", help="Scan many images (a directory of images or a list file): one "
                "CycloneDX report each plus a fleet summary; optionally on a Dask cluster.")(
        fleet.fleet)
    app.add_typer(policies.app, name="policies")
    app.add_typer(signatures.app, name="signatures")


_register_commands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # last resort: one line, not a traceback
        if os.environ.get("PROVENANCE_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}")
        sys.exit(EXIT_NO_VERDICT)


if __name__ == "__main__":
    main()
