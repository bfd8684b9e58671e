"""`provenance signatures list|lint|test|eval`: inspect, check and evaluate signature sets.

Exit codes (DESIGN §7): 0 the set is valid; 3 it is invalid (no verdict would be possible).
`eval` scores the tool on a labelled corpus: 0 its thresholds hold, 1 one does not, 2 usage
error, 3 unreadable manifest or signature set.
The lead registers `app` in provenance/cli.py as the `signatures` sub-command.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provenance.attribute import evaluate
from provenance.attribute.evaluate import Expected, Outcome, escape
from provenance.commands.common import (
    EXIT_FINDINGS,
    EXIT_NO_VERDICT,
    EXIT_OK,
    EXIT_USAGE,
    CacheDirOpt,
    JobsOpt,
    NoCacheOpt,
    PolicyOpt,
    SignaturesOpt,
    analysis_options,
    check_policies,
    exit_on_sigterm,
    fail,
    load_sigset,
    write_output,
)
from provenance.signatureset import SignatureSet
from provenance.signatureset import docs as sigdocs
from provenance.signatureset import lint as siglint
from provenance.signatureset import samples as sigsamples

if TYPE_CHECKING:
    from provenance.pipeline import ScanOptions

app = typer.Typer(
    help="List, lint and test signature sets (vendors, YARA rules, policies).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

@app.command("list")
def list_(signatures: SignaturesOpt = None) -> None:
    """Vendors and rules of the set, with counts."""
    listing = sigdocs.list_rows(load_sigset(signatures))
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
    violations = siglint.lint(tuple(signatures or ()))
    for violation in violations:
        typer.echo(violation.message, err=True)
    failed = [v for v in violations if v.level is siglint.Level.FAIL]
    if failed:
        typer.echo(f"{len(failed)} problem(s): the signature set is invalid", err=True)
        raise typer.Exit(EXIT_NO_VERDICT)
    typer.echo("signature set is valid")


@app.command()
def test(signatures: SignaturesOpt = None) -> None:
    """Run every rule over its positive and near-miss negative samples."""
    import yara

    try:
        results = sigsamples.test_rules(load_sigset(signatures))
    except (sigsamples.SpecError, yara.Error) as exc:  # `signatures lint` says more
        raise fail(escape(exc), EXIT_NO_VERDICT) from None
    failed = [r for r in results if not r.ok]
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        kind = "positive" if r.expected else "negative"
        typer.echo(f"{mark} {r.rule:<32} {kind} {r.sample.name}  fired={','.join(r.fired) or '-'}")
    typer.echo(f"{len(results) - len(failed)}/{len(results)} samples behave")
    if failed:
        raise typer.Exit(EXIT_NO_VERDICT)


def _pair(text: str) -> tuple[Path, Path]:
    manifest, sep, corpus = text.rpartition(":")
    if not sep or not manifest or not corpus:
        raise fail(f"--also {escape(text)}: expected MANIFEST:DIR", EXIT_USAGE)
    return Path(manifest), Path(corpus)


def _score_one(expected: Expected, sigset: SignatureSet, options: ScanOptions) -> Outcome:
    """Scan one labelled artifact as `provenance scan` would. Never raises on a bad input."""
    from provenance import pipeline
    from provenance.enrich import SbomError, enrich
    from provenance.identify.sbom_read import looks_like_sbom

    started = time.monotonic()

    def took() -> float:
        return round(time.monotonic() - started, 3)

    try:
        path = evaluate.target(expected)
    except FileNotFoundError as exc:
        return evaluate.error_outcome(str(exc))
    try:
        if path.is_file() and looks_like_sbom(path):  # `scan` enriches an SBOM input
            doc, _, _ = enrich(path, sigset, options.policies, options.as_of or date.today())
            return evaluate.outcome_from_document(doc, took())
        return evaluate.outcome_from_result(pipeline.scan(path, sigset, options), took())
    except (pipeline.InputError, SbomError) as exc:
        return evaluate.error_outcome(str(exc), took())
    except Exception as exc:  # one bad input must not stop the evaluation
        return evaluate.error_outcome(f"internal error: {type(exc).__name__}: {exc}", took())


@app.command("eval")
def eval_(
    manifest: Annotated[Path, typer.Argument(
        help="Labelled corpus manifest (JSON: {\"artifacts\": [{id, restricted, vendor, "
        "accept, strength, ...}]}).", show_default=False)],
    corpus: Annotated[Path, typer.Argument(
        metavar="DIR", help="The corpus files: DIR/<id>/<one file> (or DIR/<path>).",
        show_default=False)],
    also: Annotated[list[str] | None, typer.Option(
        "--also", metavar="MANIFEST:DIR", help="Another manifest and its corpus, scored "
        "together with the first (repeatable).")] = None,
    signatures: SignaturesOpt = None,
    policy: PolicyOpt = None,
    jobs: JobsOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    min_recall: Annotated[float | None, typer.Option(
        help="Exit 1 when recall (positives flagged restricted) is below this.",
        min=0.0, max=1.0)] = None,
    max_false_restricted: Annotated[int | None, typer.Option(
        help="Exit 1 when more negatives than this are flagged restricted.", min=0)] = None,
    max_errors: Annotated[int | None, typer.Option(
        help="Exit 1 when more artifacts than this could not be scored (score-corpus fails on "
        "any error: use 0 to match it).", min=0)] = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write every row and metric as JSON here ('-': stdout, and the "
        "text report goes to stderr).")] = None,
    calibration_out: Annotated[Path | None, typer.Option(
        "--calibration-out", help="Write the per-evidence-kind table as YAML here (kinds: "
        "{rule: {positives, negatives, precision}}).")] = None,
) -> None:
    """Score the tool on a labelled corpus: verdict per file, recall and precision by vendor,
    strength and file type, and the precision of each evidence kind.

    Exit codes: 0 the thresholds given hold; 1 one does not; 2 usage error; 3 the manifest or
    the signature set cannot be read.
    """
    from provenance import pipeline

    pairs = [(manifest, corpus), *(_pair(a) for a in also or ())]
    for _, folder in pairs:
        if not folder.is_dir():
            raise fail(f"{escape(folder)}: not a directory", EXIT_USAGE)
    sigset = load_sigset(signatures)
    policies = check_policies(sigset, policy)
    try:
        labelled = [e for m, folder in pairs for e in evaluate.load_manifest(m, folder)]
    except evaluate.ManifestError as exc:
        raise fail(escape(exc), EXIT_NO_VERDICT) from None
    options = pipeline.ScanOptions(
        policies=policies, analysis=analysis_options(jobs, cache_dir, no_cache))
    show = sys.stderr.isatty()
    rows = []
    with exit_on_sigterm():
        for n, expected in enumerate(labelled, 1):
            if show:
                typer.echo(f"[{n}/{len(labelled)}] {escape(expected.id)}", err=True)
            rows.append(evaluate.Row(expected, _score_one(expected, sigset, options)))
    result = evaluate.evaluate(rows, evaluate.family_matcher(
        {v.id: v.parent for v in sigset.vendors.values()}))
    names = [(str(m), str(folder)) for m, folder in pairs]
    to_stdout = json_out is not None and str(json_out) == "-"
    typer.echo("\n".join(evaluate.report_lines(result)), err=to_stdout)
    if json_out is not None:
        write_output(json.dumps(evaluate.to_json(result, names), indent=2, ensure_ascii=False)
                     + "\n", json_out)
    if calibration_out is not None:
        write_output(evaluate.calibration_yaml(result, names, date.today(), sigset.ceilings),
                     calibration_out)
    missed = evaluate.fails(result, min_recall, max_false_restricted, max_errors)
    for reason in missed:
        typer.echo(f"threshold: {reason}", err=True)
    raise typer.Exit(EXIT_FINDINGS if missed else EXIT_OK)
