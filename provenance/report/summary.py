"""The terminal summary (rich). Builds renderables; the CLI decides where they are printed."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from provenance.model import Component, ScanResult, Verdict

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
    head.append(f"   policies: {', '.join(result.policies)}")
    waived = sum(1 for f in result.findings if f.waiver is not None)
    if waived:
        head.append(f"   waived: {waived}")
    parts.append(head)
    by_ref: dict[str, Component] = {c.ref: c for c in result.components()}
    if result.findings:
        table = Table(title="Flagged components", title_justify="left", show_lines=False)
        for col in ("level", "component", "vendor", "relationship", "conf.", "strongest evidence"):
            table.add_column(col, overflow="fold")
        for f in result.findings:
            comp = by_ref[f.component]
            attribution = next((a for a in comp.attributions if a.vendor == f.vendor
                                and a.relationship == f.relationship), None)
            ev = attribution.evidence[0] if attribution else None
            evidence = f"{ev.rule}: {ev.detail}" if ev else ""
            level = Text(f.level.value, style=_STYLE[f.level])
            if f.waiver is not None:
                level = Text(f"{f.level.value} (waived)", style="dim")
            table.add_row(level, f.location, f.vendor,
                          f.relationship.value, f"{f.confidence:.2f}", evidence)
        parts.append(table)
    opaque = [c for c in result.components() if c.opaque]
    if opaque or result.problems:
        table = Table(title="Not fully examined", title_justify="left")
        table.add_column("where", overflow="fold")
        table.add_column("why", overflow="fold")
        rows = [(c.path, c.opaque or "") for c in opaque]
        rows += [(p.location, f"{p.stage}: {p.message}") for p in result.problems
                 if p.location not in {c.path for c in opaque}]
        for where, why in rows[:MAX_OPAQUE_ROWS]:
            table.add_row(where, why)
        if len(rows) > MAX_OPAQUE_ROWS:
            table.add_row("…", f"{len(rows) - MAX_OPAQUE_ROWS} more in the report")
        parts.append(table)
    return Group(*parts)  # type: ignore[arg-type]
