"""`provenance enrich SBOM`: the SBOM a team already has, with makers and policy flags added.

Register with `app.command("enrich")(enrich.enrich_command)`; `scan` can hand an SBOM input
over with `enrich.looks_like_sbom(path)`. Exit codes as for scan: 0 nothing at or above
--fail-on, 1 findings at or above it, 2 usage error, 3 no verdict (not an SBOM, unreadable,
invalid signature set).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from provenance.commands.common import (
    EXIT_FINDINGS,
    EXIT_NO_VERDICT,
    EXIT_OK,
    EXIT_USAGE,
    FailOn,
    fail,
    write_output,
)
from provenance.enrich_read import looks_like_sbom

__all__ = ["app", "enrich_command", "looks_like_sbom", "summary_text"]

app = typer.Typer(help="Enrich an existing SBOM with makers and restricted-origin flags.",
                  add_completion=False, pretty_exceptions_enable=False)



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
                                              "JSON or tag-value, 3.0 JSON-LD) file.",
                                         show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the enriched CycloneDX 1.6 JSON here ('-' or none: "
        "stdout).")] = None,
    artifacts: Annotated[Path | None, typer.Option(
        "--artifacts", help="Directory with the components' files: each is found by SHA-256 "
        "(or file name) and analysed for binary evidence.")] = None,
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", "-p", help="Restricted-origin list to apply (repeatable). Default: the "
        "three US lists, as for scan.")] = None,
    as_of: Annotated[str | None, typer.Option(
        help="Evaluate policies as of this date (YYYY-MM-DD); default today.")] = None,
    fail_on: Annotated[FailOn, typer.Option(
        help="Exit 1 when any finding is at or above this level.")] = FailOn.restricted,
    signatures: Annotated[list[Path] | None, typer.Option(
        "--signatures", help="Extra signature directory (repeatable), as for scan.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Add manufacturer, provenance properties, evidence and findings to an SBOM."""
    from provenance import signatureset
    from provenance.enrich import SbomError, enrich
    from provenance.model import Verdict
    from provenance.policy import DEFAULT_POLICIES

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise fail(f"--as-of: not a date: {as_of!r} (use YYYY-MM-DD)", EXIT_USAGE) from None
    try:
        sigset = signatureset.load(tuple(signatures or ()))
    except signatureset.SignatureError as exc:
        raise fail(f"invalid signature set: {exc}", EXIT_NO_VERDICT) from None
    policies = tuple(policy) if policy else DEFAULT_POLICIES
    unknown = [p for p in policies if p not in sigset.policies]
    if unknown:
        raise fail(f"unknown policy {', '.join(unknown)} (known: "
                    f"{', '.join(sorted(sigset.policies))})", EXIT_USAGE)
    if artifacts is not None and not artifacts.is_dir():
        raise fail(f"--artifacts {artifacts}: not a directory", EXIT_USAGE)
    try:
        doc, findings, _problems = enrich(sbom, sigset, policies, day, artifacts)
    except SbomError as exc:
        raise fail(f"not a valid SBOM: {exc}", EXIT_NO_VERDICT) from None
    write_output(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)
    if not quiet:
        typer.echo(summary_text(doc, findings), err=True, nl=False)
    levels = {FailOn.restricted: Verdict.RESTRICTED, FailOn.review: Verdict.REVIEW}
    level = levels.get(fail_on)
    worst = max((f.level.rank for f in findings if f.waiver is None), default=0)
    if level is not None and worst >= level.rank:
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_OK)


app.command(name="enrich")(enrich_command)
