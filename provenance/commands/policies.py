"""`provenance policies list` and `provenance policies show ID`: the restricted-origin lists.

Register with `app.add_typer(policies.app, name="policies")`. `--signatures DIR` adds a user's
own signature directories (with a policies/ folder), exactly as for `scan`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from provenance.commands.common import SignaturesOpt, check_policies, load_sigset
from provenance.model import Verdict
from provenance.policy import DEFAULT_POLICIES
from provenance.signatureset import Policy, Threshold

app = typer.Typer(help="List and show the restricted-origin policies.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)

def _threshold(t: Threshold) -> str:
    if not t.relationships:
        return "nothing"
    return f"{', '.join(r.value for r in t.relationships)} at confidence >= {t.min_confidence:.2f}"


def describe(policy: Policy, default: bool = False) -> str:
    """The full text `policies show` prints (pure, for tests and other front ends)."""
    lines = [f"{policy.id}{'  (default)' if default else ''}", f"  {policy.name}",
             f"  jurisdiction: {policy.jurisdiction}", f"  source: {policy.source}",
             f"  restricted: {_threshold(policy.restricted)}",
             f"  review: {_threshold(policy.review)}",
             "  (supports and mentions are never flagged unless listed above)", "", "  entries:"]
    for e in policy.entities:
        lines.append(f"  - {e.entity}")
        lines.append(f"      vendors: {', '.join(e.vendors)}"
                     + ("  (with subsidiaries and affiliates)" if e.affiliates else ""))
        lines.append(f"      in force: {e.in_force}" + (f" until {e.until}" if e.until else ""))
        lines.append(f"      source: {e.source}")
        if e.scope:
            lines.append(f"      scope: {e.scope}")
        if e.at_most is not Verdict.RESTRICTED:
            lines.append(f"      gives at most: {e.at_most.value}")
    if policy.notes:
        lines += ["", "  notes:", f"  {policy.notes.strip()}"]
    if policy.path:
        lines += ["", f"  file: {policy.path}"]
    return "\n".join(lines) + "\n"


@app.command("list")
def list_policies(signatures: SignaturesOpt = None) -> None:
    """List the known policies; `*` marks the default set (used when scan gets no --policy)."""
    sigset = load_sigset(signatures)
    width = max((len(p) for p in sigset.policies), default=0)
    for pid in sorted(sigset.policies):
        policy = sigset.policies[pid]
        mark = "*" if pid in DEFAULT_POLICIES else " "
        dates = sorted({e.in_force for e in policy.entities})
        since = dates[0] if len(dates) == 1 else f"{dates[0]}..{dates[-1]}"
        typer.echo(f"{mark} {pid:<{width}}  {policy.jurisdiction:<3} {since:<22} {policy.name}")


@app.command("show")
def show(
    policy_id: Annotated[str, typer.Argument(metavar="ID", help="Policy id (see `list`).")],
    signatures: SignaturesOpt = None,
) -> None:
    """Show one policy: thresholds, every entry with its legal source, date and scope."""
    sigset = load_sigset(signatures)
    check_policies(sigset, [policy_id])
    typer.echo(describe(sigset.policies[policy_id], policy_id in DEFAULT_POLICIES), nl=False)
