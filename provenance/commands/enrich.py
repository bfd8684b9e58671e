"""`provenance enrich SBOM`: the SBOM a team already has, with makers and policy flags added.

Register with `app.command("enrich")(enrich.enrich_command)`; `scan` hands an SBOM input
(`identify.sbom_read.looks_like_sbom(path)`) over to `run`, with its `--waivers`. Exit codes as
for scan: 0 nothing unwaived at or above --fail-on, 1 findings at or above it, 2 usage error, 3
no verdict (not an SBOM, unreadable, invalid signature set).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from provenance.commands.common import (
    EXIT_NO_VERDICT,
    EXIT_USAGE,
    AsOfOpt,
    ContributedOpt,
    FailOn,
    FailOnOpt,
    Judging,
    PolicyOpt,
    SignaturesOpt,
    VexOutOpt,
    WaiversOpt,
    exit_for,
    fail,
    judging,
    tune_gc,
    vex_targets,
    write_json,
    write_output,
    write_vex,
)

__all__ = ["enrich_command", "run", "summary_text"]


def summary_text(doc: dict[str, object], findings: tuple[object, ...]) -> str:
    """A few lines for a human: the verdict, then one line per finding."""
    from provenance.model import Finding

    meta = doc.get("metadata")
    props = meta.get("component", {}).get("properties", []) if isinstance(meta, dict) else []
    values = {p.get("name"): p.get("value") for p in props if isinstance(p, dict)}
    lines = [f"verdict: {values.get('provenance:verdict')}  coverage: "
             f"{values.get('provenance:coverage')}  components: "
             f"{values.get('provenance:components')}  findings: {len(findings)}"]
    for f in findings:
        if isinstance(f, Finding):
            lines.append(f"  {f.level.value:<10} {f.vendor:<10} {f.location}: {f.rationale}")
    return "\n".join(lines) + "\n"


def enrich_command(
    sbom: Annotated[Path, typer.Argument(help="CycloneDX (JSON/XML 1.2-1.6) or SPDX (2.2/2.3 "
                                              "JSON or tag-value, 3.0 JSON-LD) file; '-' reads "
                                              "standard input (`syft IMAGE -o "
                                              "cyclonedx-json@1.6 | provenance enrich -`).",
                                         show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the enriched CycloneDX 1.6 JSON here ('-' or none: "
        "stdout).")] = None,
    artifacts: Annotated[Path | None, typer.Option(
        "--artifacts", help="Directory with the components' files: each is found by SHA-256 "
        "(or file name) and analysed for binary evidence.")] = None,
    policy: PolicyOpt = None,
    as_of: AsOfOpt = None,
    waivers: WaiversOpt = None,
    vex_out: VexOutOpt = None,
    fail_on: FailOnOpt = FailOn.restricted,
    signatures: SignaturesOpt = None,
    contributed_as_made_by: ContributedOpt = False,
    validate: Annotated[bool, typer.Option(
        "--validate", help="Check the input and the output against the CycloneDX schema "
        "strictly, every URL and e-mail format included (seconds per SBOM; by default only "
        "the structure is checked).")] = False,
    fill_supplier: Annotated[bool, typer.Option(
        "--fill-supplier", help="Write the attributed maker into each component's empty "
        "`supplier` (name, URL, country) when its made-by evidence, other than the SBOM's own "
        "declarations, is at least 0.9; record the evidence in provenance:supplier-source and "
        "the maker's CPE vendor name in provenance:cpe-vendor. A declared supplier is never "
        "changed: one the evidence contradicts gets provenance:supplier-conflict and a review "
        "finding.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Add manufacturer, provenance properties, evidence and findings to an SBOM."""
    vex = vex_targets(vex_out)
    judged = judging(signatures, policy, as_of, waivers, contributed_as_made_by)
    run(sbom, output, artifacts, judged, fail_on, quiet, strict=validate,
        fill_supplier=fill_supplier, vex=vex)


def _stdin_copy(folder: str) -> Path:
    """Standard input in a file `read_sbom` reads with its usual bounds: one byte past the
    largest SBOM enrich reads is enough for it to refuse the input as too large."""
    from provenance.identify.sbom_read import MAX_SBOM

    path = Path(folder) / "stdin"
    with open(path, "wb") as f:
        remaining = MAX_SBOM + 1
        while remaining > 0:
            block = sys.stdin.buffer.read(min(remaining, 1 << 20))
            if not block:
                break
            f.write(block)
            remaining -= len(block)
    return path


def run(sbom: Path, output: Path | None, artifacts: Path | None, judged: Judging,
        fail_on: FailOn, quiet: bool, *, strict: bool = False, fill_supplier: bool = False,
        rendered: Sequence[tuple[str, Path | None]] = (),
        vex: list[tuple[str, Path]] | None = None) -> NoReturn:
    """Enrich `sbom` ('-': standard input) into `output` and exit as `--fail-on` says
    (`enrich`, and `scan` of an SBOM); waived findings do not count. `rendered`: other report
    formats (`scan bom.json -f html`), drawn from the enriched document as `render` draws
    them."""
    from provenance.enrich import SbomError, enrich
    from provenance.model import Verdict

    tune_gc()
    if artifacts is not None and not artifacts.is_dir():
        raise fail(f"--artifacts {artifacts}: not a directory", EXIT_USAGE)
    try:
        stdin = str(sbom) == "-"
        with (tempfile.TemporaryDirectory(prefix="provenance-stdin-") if stdin
              else contextlib.nullcontext("")) as folder:
            doc, findings, _problems = enrich(
                _stdin_copy(folder) if stdin else sbom, judged.sigset, judged.policies,
                judged.as_of or date.today(), artifacts, judged.waivers, strict=strict,
                fill_supplier=fill_supplier, source="stdin" if stdin else None)
    except SbomError as exc:
        raise fail(f"not a valid SBOM: {exc}", EXIT_NO_VERDICT) from None
    except OSError as exc:  # standard input or the temporary copy
        raise fail(f"cannot read the SBOM: {exc}", EXIT_NO_VERDICT) from None
    if output is not None or not rendered:
        write_json(doc, output)
    if rendered or vex:
        from provenance.report import FORMATS
        from provenance.report.load import ReportError, from_cyclonedx

        try:
            result = from_cyclonedx(doc)
        except ReportError as exc:
            raise fail(f"cannot render the enriched SBOM: {exc}", EXIT_NO_VERDICT) from None
        for fmt, dest in rendered:
            write_output(FORMATS[fmt](result), dest)
        if vex:  # stated now: the enriched document's timestamp is the SBOM's own
            from dataclasses import replace
            from datetime import UTC, datetime

            now = datetime.now(UTC).isoformat(timespec="seconds")
            write_vex(vex, replace(result, started=now), judged.waivers)
    if not quiet:
        typer.echo(summary_text(doc, findings), err=True, nl=False)
    worst = max((f.level for f in findings if f.waiver is None), key=lambda v: v.rank,
                default=Verdict.CLEAR)
    raise exit_for(worst, fail_on)
