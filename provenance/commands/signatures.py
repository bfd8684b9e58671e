"""`provenance signatures list|lint|test`: inspect and check signature sets.

Exit codes (DESIGN §7): 0 the set is valid; 3 it is invalid (no verdict would be possible).
The lead registers `app` in provenance/cli.py as the `signatures` sub-command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance import signature_tools as tools
from provenance.signatureset import SignatureError, SignatureSet, load

EXIT_OK, EXIT_INVALID = 0, 3

app = typer.Typer(
    help="List, lint and test signature sets (vendors, YARA rules, policies).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SignaturesOpt = Annotated[
    list[Path] | None,
    typer.Option("--signatures", help="An extra signature directory (repeatable).",
                 file_okay=False),
]


def _load(dirs: list[Path] | None) -> SignatureSet:
    try:
        return load(tuple(dirs or ()))
    except SignatureError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from exc


@app.command("list")
def list_(signatures: SignaturesOpt = None) -> None:
    """Vendors and rules of the set, with counts."""
    listing = tools.list_rows(_load(signatures))
    typer.echo("vendors:")
    for v in listing.vendors:
        typer.echo(f"  {v['id']:<16} {v['country'] or '--':<3} parent={v['parent'] or '-':<10} "
                   f"rules={v['rules']:<3} ouis={v['ouis']:<5} {v['name']}")
    typer.echo("rules:")
    for r in listing.rules:
        weak = " weak" if r["weak"] else ""
        typer.echo(f"  {r['id']:<32} {r['vendor']:<12} {r['relationship']:<11} "
                   f"{r['confidence']}{weak}  {r['component']}")
    typer.echo(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in listing.counts.items()))


@app.command()
def lint(signatures: SignaturesOpt = None) -> None:
    """Check schema, closed meta, unique ids, references, samples and YARA warnings."""
    problems = tools.lint(tuple(signatures or ()))
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s): the signature set is invalid", err=True)
        raise typer.Exit(EXIT_INVALID)
    typer.echo("signature set is valid")


@app.command()
def test(signatures: SignaturesOpt = None) -> None:
    """Run every rule over its positive and near-miss negative samples."""
    results = tools.test_rules(_load(signatures))
    failed = [r for r in results if not r.ok]
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        kind = "positive" if r.expected else "negative"
        typer.echo(f"{mark} {r.rule:<32} {kind} {r.sample.name}  fired={','.join(r.fired) or '-'}")
    typer.echo(f"{len(results) - len(failed)}/{len(results)} samples behave")
    if failed:
        raise typer.Exit(EXIT_INVALID)
