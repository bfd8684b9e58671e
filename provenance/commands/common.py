"""What the commands share: the exit codes of DESIGN §7, the options that decide a verdict
(`--policy`, `--as-of`, `--waivers`, `--fail-on`, `--signatures`, `--contributed-as-made-by`)
with their checking, the analysis options, and one-line errors.

A command declares an option with its alias here (`policy: PolicyOpt = None`), turns the
verdict options into `Judging` with `judging(...)` (exit 2 on a bad date, waiver file or policy
id, exit 3 on an invalid signature set) and maps the outcome to an exit code with `exit_for`.
"""

from __future__ import annotations

import gc
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provenance.model import Verdict
from provenance.policy import DEFAULT_POLICIES
from provenance.report.terminal import printable

if TYPE_CHECKING:
    from provenance.model import ScanResult
    from provenance.pipeline import ScanOptions
    from provenance.pipeline.blobs import AnalysisOptions
    from provenance.policy.waivers import Waiver
    from provenance.signatureset import SignatureSet

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NO_VERDICT = 0, 1, 2, 3


class FailOn(StrEnum):
    restricted = "restricted"
    review = "review"
    never = "never"


# -- options: one declaration each, the same name, help and type in every command ------------

PolicyOpt = Annotated[list[str] | None, typer.Option(
    "--policy", "-p", help=f"Restricted-origin list to apply (repeatable). Default: "
    f"{', '.join(DEFAULT_POLICIES)}; `provenance policies list` shows them all.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Evaluate policies as of this date (YYYY-MM-DD); default today.")]
WaiversOpt = Annotated[Path | None, typer.Option(
    "--waivers", help="Waiver file (YAML or JSON): accepted findings, each with a "
    "justification, an approver and an expiry date. Waived findings stay in the report but do "
    "not fail.")]
FailOnOpt = Annotated[FailOn, typer.Option(
    "--fail-on", help="Exit 1 when any finding is at or above this level.")]
SignaturesOpt = Annotated[list[Path] | None, typer.Option(
    "--signatures", help="Extra signature directory (vendors/, yara/, policies/); adds to the "
    "built-in set (repeatable).")]
ContributedOpt = Annotated[bool, typer.Option(
    "--contributed-as-made-by", help="Count `contributed` (a vendor's code as upstream open "
    "source, built and shipped by someone else: review at most by default) wherever a policy "
    "counts made-by.")]
ReproducibleOpt = Annotated[bool, typer.Option(  # --reproducible/--no-reproducible
    help="Byte-identical reports for identical input: no timestamp, no timings.")]
JobsOpt = Annotated[int | None, typer.Option(
    "--jobs", "-j", help="Worker processes for identification and scanning (default: one per "
    "core).", min=1)]
CacheDirOpt = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Result cache directory (default: the user cache directory).")]
NoCacheOpt = Annotated[bool, typer.Option(
    "--no-cache", help="Neither read nor write the result cache.")]
VexOutOpt = Annotated[list[Path] | None, typer.Option(
    "--vex-out", metavar="FILE", help="Also write the waived findings as VEX, in the format "
    "the name ends with: .openvex.json (OpenVEX 0.2.0, for Grype and Trivy) or .cdx.json "
    "(CycloneDX 1.6 VEX, for Dependency-Track); repeatable.")]


def _memory(text: str) -> int:
    from provenance.extract.limits import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


MaxMemoryOpt = Annotated[int | None, typer.Option(
    "--max-memory", metavar="SIZE", parser=_memory, help="Memory ceiling (what is allocated, "
    "not mapped files) of each process, the main one and every worker (512M, 2G); a parser "
    "past it gives up that blob alone, with a limit Problem. Default: the machine's memory "
    "shared by the processes, 512M to 2G.", show_default=False)]


def fail(message: str, code: int) -> typer.Exit:
    """Print a one-line error and give the exit to raise (what came from an input, such as a
    path or a parser's message, is shown escaped)."""
    typer.secho(f"error: {printable(message)}", err=True, fg="red")
    return typer.Exit(code)


def load_sigset(signatures: list[Path] | None, contributed_as_made_by: bool = False
                ) -> SignatureSet:
    """The built-in signature set plus `--signatures`; an invalid set is exit 3. With
    `contributed_as_made_by`, every policy counts `contributed` as made-by."""
    from provenance import signatureset

    try:
        sigset = signatureset.load(tuple(signatures or ()))
    except signatureset.SignatureError as exc:
        raise fail(f"invalid signature set: {exc}", EXIT_NO_VERDICT) from None
    if contributed_as_made_by:
        from provenance.policy import contributed_as_made_by as made_by_view

        sigset = made_by_view(sigset)
    return sigset


def check_policies(sigset: SignatureSet, policy: list[str] | None) -> tuple[str, ...]:
    """The `--policy` ids (the default lists when none), each known to `sigset`; else exit 2."""
    policies = tuple(policy) if policy else DEFAULT_POLICIES
    unknown = [p for p in policies if p not in sigset.policies]
    if unknown:
        raise fail(f"unknown policy {', '.join(unknown)} (known: "
                   f"{', '.join(sorted(sigset.policies))})", EXIT_USAGE)
    return policies


def parse_as_of(as_of: str | None) -> date | None:
    """`--as-of` as a date (None: today, decided by whoever evaluates); a non-date is exit 2."""
    try:
        return date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise fail(f"--as-of: not a date: {as_of!r} (use YYYY-MM-DD)", EXIT_USAGE) from None


def read_waivers(waivers: Path | None) -> tuple[Waiver, ...]:
    """The `--waivers` file's waivers (none without one); an unusable file is exit 2."""
    if waivers is None:
        return ()
    from provenance.policy.waivers import WaiverError, load_waivers

    try:
        return load_waivers(waivers)
    except WaiverError as exc:
        raise fail(f"--waivers: {exc}", EXIT_USAGE) from None


@dataclass(frozen=True, slots=True)
class Verdicts:
    """What decides a verdict besides the signature set: the lists, the date, the waivers."""

    policies: tuple[str, ...]
    as_of: date | None
    waivers: tuple[Waiver, ...]
    contributed_as_made_by: bool

    def scan_options(self, **more: Any) -> ScanOptions:
        """The pipeline's options with these settings and `more` (limits, analysis...)."""
        from provenance.pipeline import ScanOptions

        return ScanOptions(policies=self.policies, as_of=self.as_of, waivers=self.waivers,
                           contributed_as_made_by=self.contributed_as_made_by, **more)


@dataclass(frozen=True, slots=True)
class Judging(Verdicts):
    """The verdict options, checked against the signature set they were read with."""

    sigset: SignatureSet


@dataclass(frozen=True, slots=True)
class Unchecked(Verdicts):
    """The verdict options before the signature set is read: its digest (from the files'
    bytes, `signatureset.digest`), the policy ids not yet checked against it. Enough to find
    what a scan with these very options and signature files remembered (`scan -q
    --reproducible`): a scan is remembered only once it ran, so only with a valid set and known
    policies; anything else is judged as usual."""

    digest: str


def judging(signatures: list[Path] | None, policy: list[str] | None, as_of: str | None,
            waivers: Path | None = None, contributed_as_made_by: bool = False) -> Judging:
    """Check the verdict options in one order for every command: the date and the waiver file
    (exit 2), the signature set (exit 3), then the policy ids against it (exit 2)."""
    day = parse_as_of(as_of)
    waived = read_waivers(waivers)
    sigset = load_sigset(signatures, contributed_as_made_by)
    return Judging(check_policies(sigset, policy), day, waived, contributed_as_made_by, sigset)


def unchecked(signatures: list[Path] | None, policy: list[str] | None, as_of: str | None,
              waivers: Path | None = None, contributed_as_made_by: bool = False
              ) -> Unchecked | None:
    """`judging` without reading the signature set (exit 2 on a bad date or waiver file, in the
    same order); None when the set's files cannot be read (`judging` says why)."""
    from provenance import signatureset

    day = parse_as_of(as_of)
    waived = read_waivers(waivers)
    try:
        digest = signatureset.digest(tuple(signatures or ()))
    except signatureset.SignatureError:
        return None
    return Unchecked(tuple(policy) if policy else DEFAULT_POLICIES, day, waived,
                     contributed_as_made_by, digest)


# Cyclic garbage collected every 50,000 net allocations (not 700), and whole-heap collections
# rare: a scan keeps millions of long-lived objects (the tree, the analyses, a cached result),
# and the default thresholds had the main process walk them all again and again: 0.8 s of a
# 10 s scan of 7,140 files went to 7 full collections, 0.4 s of a 1.5 s warm one.
GC_THRESHOLDS = (50_000, 20, 10)


def tune_gc() -> None:
    """For a command that scans: collect less often, and never again look at what the imports
    made (`gc.freeze`, which also keeps forked workers from copying those pages when they
    collect). The workers inherit both."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def analysis_options(jobs: int | None, cache_dir: Path | None, no_cache: bool
                     ) -> AnalysisOptions:
    """`--jobs`, `--cache-dir` and `--no-cache` as the pipeline takes them."""
    from provenance.pipeline.blobs import AnalysisOptions

    return AnalysisOptions(jobs=jobs, cache_dir=cache_dir, use_cache=not no_cache)


def fails(level: Verdict, fail_on: FailOn) -> bool:
    """Whether a verdict (or the worst unwaived finding) is at or above `--fail-on`."""
    threshold = {FailOn.restricted: Verdict.RESTRICTED, FailOn.review: Verdict.REVIEW}
    at = threshold.get(fail_on)
    return at is not None and level.rank >= at.rank


def exit_for(level: Verdict, fail_on: FailOn) -> typer.Exit:
    """Exit 1 when `level` is at or above `--fail-on`, else 0 (DESIGN §7)."""
    return typer.Exit(EXIT_FINDINGS if fails(level, fail_on) else EXIT_OK)


def _sigterm(_signo: int, _frame: object) -> None:
    raise SystemExit(128 + signal.SIGTERM)


@contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while the work runs, so temporary extraction trees are
    removed on the way out; the handler before is put back after. A process that runs commands
    in-process (the tests, a caller's program) must not keep it: the children it forks later
    inherit it, and a multiprocessing.Pool, which stops its workers with SIGTERM, then hung
    in its teardown now and then (a worker left waiting on the pool's queue lock; reproduced
    within 400 pools, never without the handler)."""
    before = signal.signal(signal.SIGTERM, _sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def write_output(text: str | Iterable[str], dest: Path | None) -> None:
    """Write a report to `dest`, or to stdout for None or "-"; a failed write is exit code 3.
    `text` may come in pieces (`report.stream`), written as they are made: a 100,000-file
    report is never one string in memory."""
    from provenance.direct import write_report  # light: no pipeline behind it

    pieces = (text,) if isinstance(text, str) else text
    if dest is None or str(dest) == "-":
        write_report(pieces, "-")
        return
    try:
        write_report(pieces, str(dest))
    except OSError as exc:
        raise fail(f"cannot write {dest}: {exc.strerror}", EXIT_NO_VERDICT) from None


def write_json(value: Any, dest: Path | None) -> None:
    """A JSON document (indent 2, `json_safe`), written as it is encoded, a megabyte at a time:
    a 1,000,000-component SBOM is never one string in memory (three copies of it were half
    the peak memory of such an `enrich`). The bytes are those of `json.dumps`."""
    import itertools
    import json

    from provenance.report.cyclonedx import STREAM_PIECE, grouped, json_safe

    chunks = itertools.chain(json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(value),
                             ("\n",))
    write_output((json_safe(piece) for piece in grouped(chunks, STREAM_PIECE)), dest)


# `-o FILE` without `-f`: the format its extension names (longest suffix first)
FORMAT_BY_SUFFIX = {".cdx.json": "cyclonedx-json", ".sarif.json": "sarif",
                    ".cdx.xml": "cyclonedx-xml", ".json": "cyclonedx-json",
                    ".xml": "cyclonedx-xml", ".sarif": "sarif",
                    ".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown",
                    ".txt": "table"}


def reports(formats: list[str], outputs: list[Path], known: Iterable[str]
            ) -> list[tuple[str, Path | None]]:
    """(format, destination) pairs from `-f` and `-o` as users of Trivy and Grype write them:
    `-o report.html` takes its format from the extension, `-f sarif` alone writes to stdout,
    and several of each pair up in order. Anything ambiguous is a usage error, never a guess:
    an unknown extension, unequal counts, two reports on stdout."""
    known = tuple(known)
    bad = [f for f in formats if f not in known]
    if bad:
        raise fail(f"unknown format {', '.join(bad)} (known: {', '.join(known)})", EXIT_USAGE)
    if not outputs:
        if len(formats) > 1:
            raise fail("two reports cannot both go to stdout: give each --format an --output",
                       EXIT_USAGE)
        return [(formats[0], None)] if formats else []
    if not formats:
        formats = [_format_of(dest) for dest in outputs]
    if len(formats) != len(outputs):
        raise fail("give one --output per --format", EXIT_USAGE)
    if sum(1 for dest in outputs if str(dest) == "-") > 1:
        raise fail("two reports cannot both go to stdout ('-')", EXIT_USAGE)
    return [(fmt, None if str(dest) == "-" else dest) for fmt, dest in zip(formats, outputs,
                                                                          strict=True)]


def _format_of(dest: Path) -> str:
    if str(dest) == "-":
        return "cyclonedx-json"
    name = dest.name.lower()
    for suffix, fmt in FORMAT_BY_SUFFIX.items():
        if name.endswith(suffix):
            return fmt
    raise fail(f"cannot tell the report format of {dest} from its extension: give --format "
               f"(extensions: {', '.join(FORMAT_BY_SUFFIX)})", EXIT_USAGE)


# `--vex-out FILE`: the format its name ends with; nothing else is guessed
VEX_BY_SUFFIX = {".openvex.json": "openvex", ".cdx.json": "cyclonedx"}


def vex_targets(paths: list[Path] | None) -> list[tuple[str, Path]]:
    """(format, file) for each `--vex-out`, checked before the scan starts: a name that ends
    with neither suffix is a usage error."""
    out = []
    for dest in paths or ():
        fmt = next((f for s, f in VEX_BY_SUFFIX.items() if dest.name.lower().endswith(s)), None)
        if fmt is None:
            raise fail(f"--vex-out {dest}: name the file *.openvex.json (OpenVEX) or *.cdx.json "
                       "(CycloneDX VEX)", EXIT_USAGE)
        out.append((fmt, dest))
    return out


def write_vex(targets: list[tuple[str, Path]], result: ScanResult,
              waivers: tuple[Waiver, ...]) -> None:
    """Write the waived findings of `result` to each `--vex-out` target. An OpenVEX document
    needs a statement: with nothing waived none is written, and stderr says so."""
    from provenance import __version__
    from provenance.report import vex

    for fmt, dest in targets:
        doc = (vex.openvex(result, waivers, __version__) if fmt == "openvex"
               else vex.cyclonedx_vex(result, waivers, __version__))
        if doc is None:
            typer.echo(f"note: no waived finding, so no OpenVEX written to {printable(str(dest))}",
                       err=True)
            continue
        write_output(vex.render(doc), dest)
