"""`provenance scan PATH`: who made each part of one input, and what a policy flags.

An SBOM input is enriched (`commands.enrich.run`), not unpacked. Exit codes (DESIGN §7): 0
nothing at or above --fail-on; 1 findings at or above it; 2 usage error; 3 no verdict possible
(input unreadable, signature set invalid, --require-complete with partial coverage).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from provenance import packed
from provenance.commands.common import (
    EXIT_NO_VERDICT,
    EXIT_USAGE,
    AsOfOpt,
    CacheDirOpt,
    ContributedOpt,
    FailOn,
    FailOnOpt,
    JobsOpt,
    Judging,
    MaxMemoryOpt,
    NoCacheOpt,
    PolicyOpt,
    ReproducibleOpt,
    SignaturesOpt,
    VexOutOpt,
    WaiversOpt,
    analysis_options,
    exit_for,
    exit_on_sigterm,
    fail,
    judging,
    reports,
    tune_gc,
    unchecked,
    vex_targets,
    write_output,
    write_vex,
)
from provenance.extract.limits import Limits, parse_size
from provenance.report.terminal import printable

if TYPE_CHECKING:
    from provenance.direct import Watch
    from provenance.model import ScanResult
    from provenance.pipeline import ScanOptions
    from provenance.pipeline.memo import Memo, Outcome

_DEFAULT_LIMITS = Limits()


def _size(text: str) -> int:
    """`--max-total-bytes 4G`: a size as a person writes it; anything else is a usage error."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

LOG_WIDTH = 240  # the summary's width when it goes to a file or a CI log, not a terminal


class _DelayedProgress:
    """A progress display on a terminal's stderr that appears only when a scan takes longer
    than a moment: what is being unpacked with the files and bytes written so far, then the
    analysis. Nothing goes to a pipe or a log (the caller passes no console there)."""

    DELAY = 0.7
    EVERY = 0.1  # seconds between two updates of the unpacking line
    WIDTH = 60  # characters of a container's path shown (its end: the innermost part)

    def __init__(self, console: Console | None) -> None:
        self.console = console
        self.started = time.monotonic()
        self.last = 0.0
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if self.console is None or time.monotonic() - self.started < self.DELAY:
            return
        try:
            self._show(phase, done, total)
        except Exception:  # a display that fails (a closed terminal) must not fail the scan
            self.console = None

    def unpacking(self, location: str, files: int, size: int) -> None:
        """The extraction's hook (`ScanOptions.on_unpack`), called per file and per chunk."""
        now = time.monotonic()
        if self.console is None or now - self.last < self.EVERY:
            return
        self.last = now
        where = printable(location)  # a member name may carry escape sequences
        if len(where) > self.WIDTH:
            where = "…" + where[-(self.WIDTH - 1):]
        self(f"unpacking {where}: {files:,} files, {size / 1e6:,.1f} MB", 0, None)

    def _show(self, description: str, done: int, total: int | None) -> None:
        if self.progress is None:
            from rich.progress import BarColumn, Progress, TextColumn

            # markup off: the description holds names from the input
            self.progress = Progress(TextColumn("{task.description}", markup=False),
                                     BarColumn(), TextColumn("{task.fields[count]}"),
                                     console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(description, total=total, count="")
        count = f"{done}/{total}" if total is not None else ""
        self.progress.update(self.task, description=description, completed=done, total=total,
                             count=count)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def scan(
    path: Annotated[Path, typer.Argument(help="Firmware image, installer, package, binary or "
                                              "directory to scan.", show_default=False)],
    output: Annotated[list[Path] | None, typer.Option(
        "--output", "-o", metavar="FILE", help="Write a report here ('-' for stdout); without "
        "--format its extension names the format (.cdx.json .json .xml .sarif .html .md .txt). "
        "Repeat with --format to write several; they pair up in order.")] = None,
    format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", metavar="FORMAT", help="Report format for the matching --output, or "
        "for stdout when there is none: cyclonedx-json, cyclonedx-xml, sarif, html, markdown, "
        "table.")] = None,
    fail_on: FailOnOpt = FailOn.restricted,
    policy: PolicyOpt = None,
    waivers: WaiversOpt = None,
    vex_out: VexOutOpt = None,
    signatures: SignaturesOpt = None,
    as_of: AsOfOpt = None,
    contributed_as_made_by: ContributedOpt = False,
    require_complete: Annotated[bool, typer.Option(
        help="Exit 3 when coverage is partial (something could not be unpacked or parsed).")]
    = False,
    reproducible: ReproducibleOpt = False,
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
    max_total_bytes: Annotated[int, typer.Option(
        metavar="SIZE", parser=_size, help="Most bytes to extract in the whole scan (4096, 512M, "
        "4G).")] = _DEFAULT_LIMITS.max_total_bytes,
    max_member_bytes: Annotated[int, typer.Option(
        metavar="SIZE", parser=_size, help="Largest single extracted file (4096, 512M, 1G).")]
    = _DEFAULT_LIMITS.max_member_bytes,
    max_ratio: Annotated[float, typer.Option(
        help="Largest expansion of one member against its container (bytes out / bytes in), "
        "past 64 MiB; a member past it is refused alone.")]
    = _DEFAULT_LIMITS.max_ratio,
    jobs: JobsOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    seconds_per_format: Annotated[float, typer.Option(
        help="Longest time to spend unpacking one container.")]
    = _DEFAULT_LIMITS.seconds_per_format,
    max_seconds: Annotated[float, typer.Option(
        help="Longest time for the whole extraction, every container together.")]
    = _DEFAULT_LIMITS.max_seconds,
    max_memory: MaxMemoryOpt = None,
) -> None:
    """Scan PATH and report who made each component and what a policy flags."""
    from provenance import pipeline
    from provenance.commands import enrich
    from provenance.identify.sbom_read import MAX_SBOM, looks_like_sbom
    from provenance.pipeline.cache import close_caches
    from provenance.pipeline.memo import Outcome
    from provenance.report import FORMATS

    # what the imports made is never looked at again, which also spares the interpreter's exit
    # a walk over it: a warm scan that writes back remembered reports ends 0.1 s sooner
    tune_gc()
    pairs = reports(format or [], output or [], FORMATS)
    formats, outputs = [f for f, _ in pairs], [d or Path("-") for _, d in pairs]
    vex = vex_targets(vex_out)
    # an SBOM is enriched; one past enrich's size bound is scanned as a file like any other,
    # so the report says what was not read instead of refusing the input
    sbom = path.is_file() and looks_like_sbom(path) and path.stat().st_size <= MAX_SBOM
    if sbom and sum(1 for f in formats if f == "cyclonedx-json") > 1:
        raise fail("an SBOM input is enriched into one CycloneDX JSON report", EXIT_USAGE)
    limits = Limits(max_depth, max_files, max_total_bytes, max_member_bytes, max_ratio,
                    seconds_per_format=seconds_per_format, max_seconds=max_seconds,
                    max_memory=max_memory)
    more = {"limits": limits, "reproducible": reproducible, "keep_extracted": keep_extracted,
            "analysis": analysis_options(jobs, cache_dir, no_cache)}
    watch = None
    if quiet and reproducible and facts is None and not vex and not sbom:
        # what `provenance.direct` checks before the next run of this command line; noted
        # before anything is read
        watch = _watch(path, signatures, waivers)
        # all it needs is what this very scan wrote before: found by the signature set's
        # digest, before the set is read and checked (a tenth of a second)
        early = unchecked(signatures, policy, as_of, waivers, contributed_as_made_by)
        if early is not None:
            scan_options = early.scan_options(**more)
            _recall(pipeline.memo(path, early.digest, scan_options), formats, outputs,
                    require_complete, fail_on, watch, scan_options.as_of is None)
    judged = judging(signatures, policy, as_of, waivers, contributed_as_made_by)
    if sbom:  # an SBOM is enriched, not unpacked: `scan` on it does what `enrich` does
        cdx = [dest for fmt, dest in pairs if fmt == "cyclonedx-json"]
        enrich.run(path, cdx[0] if cdx else None, None, judged, fail_on, quiet,
                   rendered=[(fmt, dest) for fmt, dest in pairs if fmt != "cyclonedx-json"],
                   vex=vex)
    options = judged.scan_options(**more)
    to_stderr = any(str(o) == "-" for o in outputs)
    out = Console(stderr=to_stderr, highlight=False, soft_wrap=False)
    if not out.is_terminal:  # a CI log: no wrapping at 80 columns, paths stay whole
        out = Console(stderr=to_stderr, highlight=False, soft_wrap=True, width=LOG_WIDTH)
    # progress goes to stderr, and only to a terminal: never into a log or a redirected file
    result = _scan(path, judged, options, show=not quiet and sys.stderr.isatty())
    memo = pipeline.memo(path, judged.sigset.digest, options, result.root.sha256)
    writing = time.monotonic()
    _write(result, formats, outputs, facts, memo)
    write_vex(vex, result, judged.waivers)
    if memo is not None and watch is not None:
        memo.flush()
        # the input's digest, taken during the scan: direct mode need not read it again
        _remember(watch, memo, memo.entries(formats), Outcome.of(result), outputs,
                  options.as_of is None, require_complete, fail_on,
                  {str(path): "sha256:" + result.root.sha256})
    close_caches()
    if not quiet:
        from dataclasses import replace

        from provenance.pipeline.cost import with_report
        from provenance.report.summary import summary

        saved = [str(dest) for dest in outputs if str(dest) != "-"]
        # the summary line adds what the reports cost to write (no report can hold that)
        result = replace(result, cost=with_report(result.cost, time.monotonic() - writing))
        out.print(summary(result, saved[0] if saved else None))
    raise _exit(Outcome.of(result), require_complete, fail_on)


def _recall(memo: Memo | None, formats: list[str], outputs: list[Path], require_complete: bool,
            fail_on: FailOn, watch: Watch | None, dated: bool) -> None:
    """Write the remembered reports of this very scan and exit as it did; return when they
    are not all remembered (the scan then runs, and remembers them)."""
    if memo is None:
        return
    recalled = memo.recall(formats)
    if recalled is None:
        return
    outcome, blobs = recalled
    for blob, dest in zip(blobs, outputs, strict=True):
        write_output(packed.text(blob), dest)
    if watch is not None:
        _remember(watch, memo, blobs, outcome, outputs, dated, require_complete, fail_on)
    raise _exit(outcome, require_complete, fail_on)


def _watch(path: Path, signatures: list[Path] | None, waivers: Path | None) -> Watch | None:
    """What `provenance.direct` must find unchanged to answer this command line again: the
    input, the signature directories, the config files looked for, the waivers."""
    from provenance import direct
    from provenance.commands.config import looked_for
    from provenance.signatureset import builtin_dir

    if not direct.wanted():
        return None
    deps = [("real", str(path)), ("file", str(path))]
    deps += [("tree", str(top)) for top in (builtin_dir(), *(signatures or ()))]
    deps += [("file", str(found)) for found in looked_for()]
    deps += [("file", str(waivers))] if waivers is not None else []
    return direct.watch(deps)


def _remember(watch: Watch, memo: Memo, blobs: list[bytes] | None, outcome: Outcome,
              outputs: list[Path], dated: bool, require_complete: bool, fail_on: FailOn,
              known: dict[str, str] | None = None) -> None:
    """Leave `provenance.direct` the reports just written (`blobs`: their packed entries),
    when the exit needs no message (`known`: digests of files, `Watch.record`)."""
    if blobs is not None and not _partial(outcome, require_complete):
        watch.record(memo.cache.path.parent, dated, [str(dest) for dest in outputs], blobs,
                     exit_for(outcome.verdict, fail_on).exit_code, known)


def _partial(outcome: Outcome, require_complete: bool) -> bool:
    """Whether the scan ends in exit 3 for partial coverage (--require-complete)."""
    return require_complete and outcome.coverage.value != "complete"


def _exit(outcome: Outcome, require_complete: bool, fail_on: FailOn) -> typer.Exit:
    """How a scan ends: exit 3 for partial coverage under --require-complete, else by verdict."""
    if _partial(outcome, require_complete):
        return fail(f"coverage is partial: {outcome.problems} problem(s), see the report",
                    EXIT_NO_VERDICT)
    return exit_for(outcome.verdict, fail_on)


def _scan(path: Path, judged: Judging, options: ScanOptions, show: bool) -> ScanResult:
    """Run the pipeline with a progress display; its errors become exit codes 2 and 3."""
    from provenance import pipeline

    tune_gc()  # again: the signature set and the options are kept all scan long
    progress = _DelayedProgress(Console(stderr=True, highlight=False, soft_wrap=True)
                                if show else None)
    if show:
        options = replace(options, on_unpack=progress.unpacking)
    try:
        with exit_on_sigterm():
            return pipeline.scan(path, judged.sigset, options, progress)
    except pipeline.UsageError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except pipeline.InputError as exc:
        raise fail(str(exc), EXIT_NO_VERDICT) from None
    finally:
        progress.stop()


def _write(result: ScanResult, formats: list[str], outputs: list[Path],
           facts: Path | None, memo: Memo | None = None) -> None:
    from provenance.pipeline.facts_dump import facts_json
    from provenance.pipeline.memo import Outcome
    from provenance.report import stream

    for fmt, dest in zip(formats, outputs, strict=True):
        pieces = stream(fmt, result)
        write_output(pieces if memo is None else memo.record(fmt, pieces, Outcome.of(result)),
                     dest)
    if memo is not None:
        memo.flush()
    if facts is not None:
        try:
            facts.write_text(facts_json(result), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {facts}: {exc.strerror}", EXIT_NO_VERDICT) from None
