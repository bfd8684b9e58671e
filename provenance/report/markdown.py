"""A Markdown summary for CI job pages (GitHub step summary, GitLab job page). Pure."""

from __future__ import annotations

from provenance.model import ScanResult, Verdict
from provenance.pipeline import cost as scan_cost
from provenance.report.groups import groups
from provenance.report.terminal import printable

MAX_ROWS = 200  # groups listed in full; a job page is not the place for thousands
_ICON = {Verdict.RESTRICTED: "🔴", Verdict.REVIEW: "🟡", Verdict.CLEAR: "🟢"}


def _cell(text: str) -> str:
    """Table-cell safe: no pipes, newlines or control characters, code spans kept from
    breaking."""
    text = printable(text.replace("\n", " "))
    return text.replace("\\", "\\\\").replace("|", "\\|").strip()


def _code(text: str) -> str:
    return f"`{_cell(text).replace('`', chr(0x2032))}`" if text else ""


def render(result: ScanResult) -> str:
    lines = [
        "# provenance report",
        "",
        f"**Verdict: {_ICON[result.verdict]} {result.verdict.value.upper()}** · "
        f"coverage: **{result.coverage.value}** · input: {_code(result.root.path)}",
        "",
        f"- policies: {', '.join(result.policies) or '(none)'}"
        + (f", evaluated as of {result.as_of}" if result.as_of else ""),
        f"- components: {result.stats.files}, bytes examined: {result.stats.bytes}, "
        f"opaque: {result.stats.opaque}",
    ]
    waived = [f for f in result.findings if f.waiver is not None]
    live = [f for f in result.findings if f.waiver is None]
    counts = {v: sum(1 for f in live if f.level == v) for v in (Verdict.RESTRICTED, Verdict.REVIEW)}
    lines.append(f"- findings: {counts[Verdict.RESTRICTED]} restricted, "
                 f"{counts[Verdict.REVIEW]} review, {len(waived)} waived")
    lines.append(f"- tool: provenance {result.tool_version}, signatures "
                 f"{_code(result.signature_digest[:23])}")
    spent = scan_cost.line(result.cost)
    if spent:
        lines.append(f"- {spent}")
    if result.parts:
        lines += ["", "## Hardware parts (inferred)", "",
                  "| class | model | maker | confidence | evidence |", "|---|---|---|---:|---|"]
        for p in result.parts[:MAX_ROWS]:
            maker = result.vendors.get(p.maker)
            first = f"{p.evidence[0].rule}: {p.evidence[0].detail}"
            lines.append(f"| {p.part_class.value} | {_cell(p.model or '-')} "
                         f"| {_cell(maker.name if maker else p.maker)} | {p.confidence:.2f} "
                         f"| {_code(first[:160])} |")
    grouped = groups(result)
    if result.findings:
        lines += ["", "## Findings", "",
                  f"{len(result.findings)} finding(s) in {len(grouped)} group(s): one row per "
                  "package or folder and vendor.", "",
                  "| level | where | files | vendor | relationship | confidence | lists "
                  "| evidence |",
                  "|---|---|---:|---|---|---:|---|---|"]
        for g in grouped[:MAX_ROWS]:
            ev = f"{g.evidence.rule}: {g.evidence.detail}" if g.evidence else ""
            level = f"{_ICON[g.level]} {g.level.value}"
            if g.waived:
                level = f"~~{level}~~ waived: {_cell(g.lead.waiver or '')}"
            maker = result.vendors.get(g.vendor)
            vendor = g.vendor + (f" ({_cell(maker.name)})" if maker else "")
            where = _code(g.lead.location) if len(g.members) == 1 else (
                _code(g.unit) + (f" (package {_cell(g.package)})" if g.package else "")
                + f", e.g. {_code(g.lead.location)}")
            lines.append(f"| {level} | {where} | {len(g.members)} | {vendor} "
                         f"| {'/'.join(g.relationships)} | {g.confidence:.2f} "
                         f"| {', '.join(g.policies)} | {_code(ev[:160])} |")
        if len(grouped) > MAX_ROWS:
            rest = grouped[MAX_ROWS:]
            lines.append(f"\n…and {len(rest)} more group(s), "
                         f"{sum(len(g.members) for g in rest)} finding(s), in the full report.")
        scopes = sorted({(e.policy, e.entity, e.source, e.scope, e.citations)
                         for f in result.findings for e in f.entries})
        lines += ["", "## Policy entries", ""]
        lines += [f"- **{p}** — {_cell(ent)}: {_cell(src)}"
                  + (f"; scope: {_cell(sc)}" if sc else "")
                  + "".join(f"\n  - [{_cell(c.partition(': ')[0])}] {_cell(c.partition(': ')[2])}"
                            for c in cites)
                  for p, ent, src, sc, cites in scopes]
    else:
        lines += ["", "No component is flagged by the selected policies."]
    opaque = [c for c in result.components() if c.opaque]
    if opaque or result.problems:
        lines += ["", "## Not fully examined", ""]
        lines += [f"- {_code(c.path)}: {_cell(c.opaque or '')}" for c in opaque[:MAX_ROWS]]
        lines += [f"- {_code(p.location or '(scan)')}: {p.stage} {p.kind}: {_cell(p.message)}"
                  for p in result.problems[:MAX_ROWS]]
    return "\n".join(lines) + "\n"
