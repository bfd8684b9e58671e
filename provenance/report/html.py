"""A self-contained HTML report: one file, inline CSS and JS, no network assets. Pure.

The component tree of the input with flagged parts highlighted (and their ancestors opened),
per component its maker, relationship, confidence, evidence and the policy entries that flag it,
and a filter box (text match on path, vendor or maker; "flagged only" switch). A link may
carry a filter: `report.html#q=libmpi` or `report.html#flagged`.
"""

from __future__ import annotations

import html

from provenance.model import Component, Finding, ScanResult, Verdict
from provenance.report.cyclonedx import findings_by_ref
from provenance.report.groups import groups
from provenance.report.terminal import printable

MAX_EVIDENCE_ROWS = 12


def escape(text: str) -> str:
    """HTML-safe and printable: control and bidi characters of an input are shown escaped."""
    return html.escape(printable(text))

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 22px}
header h1{margin:0 0 4px;font-size:20px}
main{padding:14px 22px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;
text-transform:uppercase}
.badge.restricted{background:#c62828;color:#fff}.badge.review{background:#f9a825;color:#1d2330}
.badge.clear{background:#2e7d32;color:#fff}.badge.waived{background:#78909c;color:#fff}
.meta span{margin-right:18px}
#controls{position:sticky;top:0;background:#f6f7f9;padding:8px 0;z-index:2}
#filter{width:420px;max-width:90%;padding:6px 8px;font-size:14px}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff}
td,th{border:1px solid #d5d9e0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef0f4}
ul.tree{list-style:none;padding-left:18px;margin:0}
ul.tree>li{margin:2px 0}
details>summary{cursor:pointer}
.node{border-left:4px solid transparent;padding:2px 6px;background:#fff;margin:1px 0}
.node.restricted{border-left-color:#c62828;background:#fdecea}
.node.review{border-left-color:#f9a825;background:#fff8e1}
.name{font-family:ui-monospace,Menlo,Consolas,monospace}
.maker{color:#455a64;margin-left:8px}
.info{margin:4px 0 8px 14px;font-size:13px}
.opaque{color:#8d6e63;font-style:italic;margin-left:8px}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.hidden{display:none}
"""

_JS = """
(function(){
  var box=document.getElementById('filter'), only=document.getElementById('flagged-only');
  function apply(){
    var q=box.value.trim().toLowerCase(), flagged=only.checked;
    var items=Array.prototype.slice.call(document.querySelectorAll('ul.tree li')).reverse();
    var shown=0;
    items.forEach(function(li){
      var own=(li.getAttribute('data-search')||'');
      var hit=(!q||own.indexOf(q)>=0)&&(!flagged||li.getAttribute('data-flagged')==='1');
      var child=li.querySelector(':scope>details>ul.tree>li:not(.hidden)');
      var visible=hit||!!child;
      li.classList.toggle('hidden',!visible);
      if(visible&&child&&(q||flagged)){var d=li.querySelector(':scope>details');if(d)d.open=true;}
      if(hit)shown++;
    });
    document.getElementById('match-count').textContent=(q||flagged)?shown+' match':'';
  }
  box.addEventListener('input',apply);only.addEventListener('change',apply);
  // A link can carry a filter: report.html#q=libmpi or #flagged
  var h=decodeURIComponent(location.hash.slice(1));
  if(h==='flagged'){only.checked=true;apply();}
  else if(h.indexOf('q=')===0){box.value=h.slice(2);apply();}
  document.body.setAttribute('data-ready','1');
})();
"""


def _badge(level: str) -> str:
    return f'<span class="badge {level}">{escape(level)}</span>'


def _details(c: Component, findings: tuple[Finding, ...], result: ScanResult) -> str:
    out: list[str] = []
    if c.manufacturer is not None:
        m = c.manufacturer
        out.append(f"<div>maker: <b>{escape(m.name)}</b>"
                   + (f" ({escape(m.country)})" if m.country else "")
                   + (f", part of {escape(m.parent)}" if m.parent else "") + "</div>")
    if c.supplier:
        out.append(f"<div>supplier: {escape(c.supplier)}</div>")
    meta = [f"sha256 <code>{escape(c.sha256)}</code>" if c.sha256 else "",
            f"{c.size} bytes", escape(c.kind)]
    if c.version:
        meta.append(f"version {escape(c.version)}")
    if c.purl:
        meta.append(f"<code>{escape(c.purl)}</code>")
    out.append("<div>" + " · ".join(x for x in meta if x) + "</div>")
    if c.attributions:
        rows = []
        for a in c.attributions:
            vendor = result.vendors.get(a.vendor)
            who = escape(a.vendor) + (f" ({escape(vendor.name)})" if vendor else "")
            evs = "<br>".join(
                f"<code>{escape(ev.rule)}</code> {escape(ev.signal)}: "
                f"<code>{escape(ev.detail)}</code> @ <code>{escape(ev.location)}</code>"
                for ev in a.evidence[:MAX_EVIDENCE_ROWS])
            rows.append(f"<tr><td>{who}</td><td>{escape(a.relationship.value)}</td>"
                        f"<td>{a.confidence:.2f}</td><td>{evs}</td></tr>")
        out.append("<table class='attributions'><tr><th>vendor</th><th>relationship</th>"
                   "<th>confidence</th><th>evidence</th></tr>" + "".join(rows) + "</table>")
    for f in findings:
        entries = "".join(
            f"<tr><td>{escape(e.policy)}</td><td>{escape(e.entity)}</td>"
            f"<td>{escape(e.in_force)}</td><td>{escape(e.source)}</td>"
            f"<td>{escape(e.scope)}</td></tr>" for e in f.entries)
        waived = (f" {_badge('waived')} {escape(f.waiver)}" if f.waiver is not None else "")
        out.append(f"<div class='finding'>{_badge(f.level.value)} {escape(f.rationale)}{waived}"
                   "</div><table class='entries'><tr><th>policy</th><th>entity</th>"
                   "<th>in force</th><th>source</th><th>scope</th></tr>" + entries + "</table>")
    return "<div class='info'>" + "".join(out) + "</div>"


def _tree(c: Component, result: ScanResult, index: dict[str, tuple[Finding, ...]]) -> str:
    verdict = result.verdicts.get(c.ref, Verdict.CLEAR)
    findings = index.get(c.ref, ())
    own = [f for f in findings if f.waiver is None]
    level = max((f.level for f in own), key=lambda v: v.rank, default=Verdict.CLEAR)
    top = c.top
    maker = c.manufacturer.name if c.manufacturer else ""
    search = " ".join([c.path, c.name, maker, *(a.vendor for a in c.attributions),
                       *(e.policy for f in findings for e in f.entries)]).lower()
    label = (f"<span class='name'>{escape(c.name or c.path)}</span>"
             + (f" {_badge(verdict.value)}" if verdict != Verdict.CLEAR else "")
             + (f" {_badge('waived')}" if findings and not own else "")
             + (f"<span class='maker'>{escape(top.vendor)} {escape(top.relationship.value)} "
                f"{top.confidence:.2f}</span>" if top else "")
             + (f"<span class='maker'>made by {escape(maker)}</span>" if maker else "")
             + (f"<span class='opaque'>opaque: {escape(c.opaque)}</span>" if c.opaque else ""))
    css = f"node {level.value}" if level != Verdict.CLEAR else "node"
    children = "".join(_tree(child, result, index) for child in c.children)
    body = _details(c, findings, result) if (c.attributions or findings or c.sha256) else ""
    sub = f"<ul class='tree'>{children}</ul>" if children else ""
    is_open = " open" if verdict != Verdict.CLEAR or c is result.root else ""
    return (f"<li id='{escape(c.ref)}' data-flagged='{'1' if own else '0'}' "
            f"data-search='{escape(search)}'><details{is_open}>"
            f"<summary class='{css}'>{label}</summary>{body}{sub}</details></li>")


def render(result: ScanResult) -> str:
    by_ref = {c.ref: c for c in result.components()}
    grouped = groups(result)
    rows = []
    for g in grouped:
        c = by_ref.get(g.lead.component)
        waived = f" {_badge('waived')}" if g.waived else ""
        where = (f"<a href='#{escape(g.lead.component)}'><code>{escape(g.lead.location)}</code>"
                 "</a>")
        if len(g.members) > 1:
            where = (f"<code>{escape(g.unit)}</code>"
                     + (f" (package {escape(g.package)})" if g.package else "")
                     + f"<br>e.g. {where}")
        rows.append(
            f"<tr><td>{_badge(g.level.value)}{waived}</td><td>{where}</td>"
            f"<td>{len(g.members)}</td><td>{escape(g.vendor)}</td>"
            f"<td>{escape('/'.join(g.relationships))}</td><td>{g.confidence:.2f}</td>"
            f"<td>{escape(', '.join(g.policies))}</td>"
            f"<td>{escape(c.manufacturer.name if c and c.manufacturer else '')}</td></tr>")
    findings = ("<table id='findings'><tr><th>level</th><th>where</th><th>files</th>"
                "<th>vendor</th><th>relationship</th><th>confidence</th><th>policies</th>"
                "<th>maker</th></tr>" + "".join(rows) + "</table>"
                ) if rows else "<p>No component is flagged.</p>"
    makers: dict[str, int] = {}
    for f in result.findings:
        if f.level == Verdict.RESTRICTED and f.waiver is None:
            makers[f.vendor] = makers.get(f.vendor, 0) + 1
    restricted = ", ".join(f"{escape(result.vendors[v].name if v in result.vendors else v)}: {n}"
                           for v, n in sorted(makers.items(), key=lambda kv: -kv[1]))
    problems = "".join(f"<li><code>{escape(p.location or '(scan)')}</code>: {escape(p.stage)} "
                       f"{escape(p.kind)}: {escape(p.message)}</li>" for p in result.problems)
    title = f"provenance: {result.root.path}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        # No network: a strict CSP keeps even a stray URL in the data from loading anything.
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><div class='meta'>"
        f"<span>verdict {_badge(result.verdict.value)}</span>"
        f"<span>coverage: <b>{escape(result.coverage.value)}</b></span>"
        f"<span>policies: {escape(', '.join(result.policies))}</span>"
        f"<span>{result.stats.files} components, {result.stats.bytes} bytes</span>"
        f"<span>provenance {escape(result.tool_version)}</span></div>"
        + (f"<div class='meta'><span>restricted makers (findings): {restricted}</span></div>"
           if restricted else "")
        + "</header><main>"
        f"<h2>Findings ({len(result.findings)} in {len(grouped)} groups)</h2>{findings}"
        + (f"<h2>Not fully examined</h2><ul>{problems}</ul>" if problems else "")
        + "<h2>Components</h2><div id='controls'>"
        "<input id='filter' type='search' placeholder='filter: path, vendor, maker, policy'>"
        " <label><input id='flagged-only' type='checkbox'> flagged only</label>"
        " <span id='match-count'></span></div>"
        f"<ul class='tree' id='tree'>{_tree(result.root, result, findings_by_ref(result))}</ul>"
        f"</main><script>{_JS}</script></body></html>\n"
    )
