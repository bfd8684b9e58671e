"""The terminal summary (rich). Builds renderables; the CLI decides where they are printed."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from provenance.model import ScanResult, Verdict
from provenance.pipeline import cost as scan_cost
from provenance.report.groups import groups
from provenance.report.terminal import printable as safe

_STYLE = {Verdict.RESTRICTED: "bold red", Verdict.REVIEW: "bold yellow", Verdict.CLEAR: "green"}
MAX_OPAQUE_ROWS = 20
MAX_GROUPS = 20


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def summary(result: ScanResult, report: str | None = None) -> Group:
    """The verdict line, the finding groups (at most MAX_GROUPS; `report` names where the
    rest are) and what was not fully examined."""
    parts: list[object] = []
    head = Text()
    head.append("verdict: ")
    head.append(result.verdict.value.upper(), style=_STYLE[result.verdict])
    head.append(f"   coverage: {result.coverage.value}")
    head.append(f"   {result.stats.files} components, {_size(result.stats.bytes)} examined")
    head.append(f"   policies: {safe(', '.join(result.policies))}"
                + (f" (as of {safe(result.as_of)})" if result.as_of else ""))
    waived = sum(1 for f in result.findings if f.waiver is not None)
    if waived:
        head.append(f"   waived: {waived}")
    parts.append(head)
    spent = scan_cost.line(result.cost)
    if spent:
        parts.append(Text(spent, style="dim"))
    if result.parts:  # the hardware the firmware is built for, as inferred (provenance/parts)
        parts.append(Text("\nHardware parts (inferred from the firmware)", style="bold"))
        for p in result.parts[:MAX_GROUPS]:
            maker = result.vendors.get(p.maker)
            parts.append(Text(f"  {p.part_class.value}: {safe(p.label)} by "
                              f"{safe(maker.name if maker else p.maker)} {p.confidence:.2f} "
                              f"({safe(', '.join(p.kinds))})"))
    grouped = groups(result)
    if grouped:
        # one block per group, not a table: path chains are long and must stay readable
        parts.append(Text(f"\nFlagged: {len(result.findings)} finding(s) in {len(grouped)} "
                          "group(s) (package or folder, per vendor)", style="bold"))
        for g in grouped[:MAX_GROUPS]:
            line = Text("  ")
            if g.waived:
                line.append(f"{g.level.value.upper()} (waived)", style="dim")
            else:
                line.append(g.level.value.upper(), style=_STYLE[g.level])
            line.append(f"  {safe(g.vendor)} {'/'.join(g.relationships)} {g.confidence:.2f}")
            size = len(g.members)
            where = f"package {g.package}" if g.kind == "package" else "folder"
            line.append(f"  {size} file{'s' if size > 1 else ''} in {safe(where)}")
            parts.append(line)
            parts.append(Text.assemble("      at: ", (safe(g.unit if size > 1 else g.lead.location),
                                                    "bold")))
            if size > 1:
                parts.append(Text(f"      e.g.: {safe(g.lead.location)}"))
            if g.evidence is not None:
                parts.append(Text(f"      evidence: {safe(g.evidence.rule)}: "
                                  f"{safe(g.evidence.detail)}"))
            parts.append(Text(f"      listed by: {safe(', '.join(g.policies))}"))
            if g.lead.waiver is not None:
                parts.append(Text(f"      waived: {safe(g.lead.waiver)}", style="dim"))
        if len(grouped) > MAX_GROUPS:
            rest = grouped[MAX_GROUPS:]
            where = f" in {safe(report)}" if report else " in the report (-o FILE)"
            parts.append(Text(f"  … {len(rest)} more group(s), "
                              f"{sum(len(g.members) for g in rest)} finding(s){where}"))
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
