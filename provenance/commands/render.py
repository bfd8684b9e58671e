"""`provenance render REPORT.json --format FMT [--output FILE]`: re-render a saved report.

Reads a CycloneDX JSON report written by `provenance scan` and writes it in another format
without rescanning. The main CLI registers the function: `app.command("render")(render.render)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from provenance.commands.common import (
    EXIT_NO_VERDICT,
    EXIT_USAGE,
    fail,
    write_output,
)
from provenance.report import FORMATS


def render(
    report: Annotated[Path, typer.Argument(help="A CycloneDX JSON report written by "
                                                "`provenance scan`.", show_default=False)],
    format: Annotated[str, typer.Option(
        "--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")] = "table",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write here instead of standard output.")] = None,
) -> None:
    """Re-render REPORT.json (html, sarif, table, markdown, cyclonedx-xml...) without rescanning."""
    from provenance.report.load import ReportError, from_cyclonedx  # the pipeline's model

    if format not in FORMATS:
        raise fail(f"unknown format {format} (known: {', '.join(FORMATS)})", EXIT_USAGE)
    try:
        doc = json.loads(report.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"cannot read {report}: {exc.strerror}", EXIT_NO_VERDICT) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise fail(f"{report}: not JSON: {exc}", EXIT_NO_VERDICT) from None
    try:
        result = from_cyclonedx(doc)
    except ReportError as exc:
        raise fail(f"{report}: {exc}", EXIT_NO_VERDICT) from None
    write_output(FORMATS[format](result), output)
