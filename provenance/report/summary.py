"""The terminal summary (rich). Builds renderables; the CLI decides where they are printed."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from provenance.model import Component, ScanResult, Verdict
from provenance.report.terminal import printable as safe

_STYLE = {Verdict.RESTRICTED: "bold red", Verdict.REVIEW: "bold yellow", Verdict.CLEAR: "green"}
MAX_OPAQUE_ROWS = 20


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def summary(result: ScanResult) -> Group:
    parts: list[object] = []
    head = Text()
    head.append("verdict: ")
    head.append(result.verdict.value.upper(), style=_STYLE[result.verdict])
    head.append(f"   coverage: {result.coverage.value}")
    head.append(f"   {result.stats.files} components, {_size(result.stats.bytes)} examined")
    head.append(f"   policies: {safe(', '.join(result.policies))}")
    waived = sum(1 for f in result.findings if f.waiver is not None)
    if waived:
        head.append(f"   waived: {waived}")
    parts.append(head)
    by_ref: dict[str, Component] = {c.ref: c for c in result.components()}
    if result.findings:
        # one block per finding, not a table: path chains are long and must stay readable
        parts.append(Text("\nFlagged components", style="bold"))
        for f in result.findings:
            comp = by_ref[f.component]
            attribution = next((a for a in comp.attributions if a.vendor == f.vendor
                                and a.relationship == f.relationship), None)
            line = Text("  ")
            if f.waiver is not None:
                line.append(f"{f.level.value.upper()} (waived)", style="dim")
            else:
                line.append(f.level.value.upper(), style=_STYLE[f.level])
            line.append(f"  {safe(f.vendor)} {f.relationship.value} {f.confidence:.2f}")
            if attribution is not None and attribution.component:
                line.append(f"  ({safe(attribution.component)})")
            parts.append(line)
            parts.append(Text.assemble("      at: ", (safe(f.location), "bold")))
            if attribution is not None:
                ev = attribution.evidence[0]
                parts.append(Text(f"      evidence: {safe(ev.rule)}: {safe(ev.detail)}"))
            lists = ", ".join(sorted({safe(e.policy) for e in f.entries}))
            parts.append(Text(f"      listed by: {lists}"))
            if f.waiver is not None:
                parts.append(Text(f"      waived: {safe(f.waiver)}", style="dim"))
    opaque = [c for c in result.components() if c.opaque]
    if opaque or result.problems:
        table = Table(title="Not fully examined", title_justify="left")
        table.add_column("where", overflow="fold")
        table.add_column("why", overflow="fold")
        rows = [(c.path, c.opaque or "") for c in opaque]
        rows += [(p.location, f"{p.stage}: {p.message}") for p in result.problems
                 if p.location not in {c.path for c in opaque}]
        for where, why in rows[:MAX_OPAQUE_ROWS]:
            table.add_row(safe(where), safe(why))
        if len(rows) > MAX_OPAQUE_ROWS:
            table.add_row("…", f"{len(rows) - MAX_OPAQUE_ROWS} more in the report")
        parts.append(table)
    return Group(*parts)  # type: ignore[arg-type]
