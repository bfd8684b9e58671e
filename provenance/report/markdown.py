"""A Markdown summary for CI job pages (GitHub step summary, GitLab job page). Pure."""

from __future__ import annotations

from provenance.model import Component, ScanResult, Verdict
from provenance.report.terminal import printable

MAX_ROWS = 200  # findings listed in full; a job page is not the place for thousands
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
        f"- policies: {', '.join(result.policies) or '(none)'}",
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
    by_ref: dict[str, Component] = {c.ref: c for c in result.components()}
    if result.findings:
        lines += ["", "## Findings", "",
                  "| level | component | vendor | relationship | confidence | policy entries "
                  "| evidence |",
                  "|---|---|---|---|---:|---|---|"]
        for f in result.findings[:MAX_ROWS]:
            comp = by_ref.get(f.component)
            att = next((a for a in comp.attributions if a.vendor == f.vendor
                        and a.relationship == f.relationship), None) if comp else None
            ev = f"{att.evidence[0].rule}: {att.evidence[0].detail}" if att else ""
            entries = "<br>".join(
                _cell(f"{e.policy}: {e.entity} (in force {e.in_force})") for e in f.entries)
            level = f"{_ICON[f.level]} {f.level.value}"
            if f.waiver is not None:
                level = f"~~{level}~~ waived: {_cell(f.waiver)}"
            maker = result.vendors.get(f.vendor)
            vendor = f.vendor + (f" ({_cell(maker.name)})" if maker else "")
            lines.append(f"| {level} | {_code(f.location)} | {vendor} | {f.relationship.value} "
                         f"| {f.confidence:.2f} | {entries} | {_code(ev[:160])} |")
        if len(result.findings) > MAX_ROWS:
            lines.append(f"\n…and {len(result.findings) - MAX_ROWS} more in the full report.")
        scopes = sorted({(e.policy, e.entity, e.source, e.scope) for f in result.findings
                         for e in f.entries})
        lines += ["", "## Policy entries", ""]
        lines += [f"- **{p}** — {_cell(ent)}: {_cell(src)}"
                  + (f"; scope: {_cell(sc)}" if sc else "") for p, ent, src, sc in scopes]
    else:
        lines += ["", "No component is flagged by the selected policies."]
    opaque = [c for c in result.components() if c.opaque]
    if opaque or result.problems:
        lines += ["", "## Not fully examined", ""]
        lines += [f"- {_code(c.path)}: {_cell(c.opaque or '')}" for c in opaque[:MAX_ROWS]]
        lines += [f"- {_code(p.location or '(scan)')}: {p.stage} {p.kind}: {_cell(p.message)}"
                  for p in result.problems[:MAX_ROWS]]
    return "\n".join(lines) + "\n"
