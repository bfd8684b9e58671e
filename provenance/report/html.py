"""A self-contained HTML report: one file, inline CSS and JS, no network assets. Pure.

The first screen holds the verdict, the restricted makers with their counts and the policies;
then the finding groups (report/groups.py), each linking to its strongest member; then every
component in a paged, sortable, filterable table that JavaScript draws from data embedded in the
page, so that a 30,000-component report stays responsive: filtering scans an array of prepared
search strings and draws one page. Identical blobs (same SHA-256) are one row with their
occurrence count and paths. A row opens its details: maker, hashes, attributions with evidence,
policy entries. A link may carry a filter: `report.html#q=libmpi`, `#flagged`, `#ref=<bom-ref>`.
After each filter the page records its time in `body[data-filter-ms]` (the browser test reads it).
"""

from __future__ import annotations

import html
import json

from provenance.model import Component, Finding, ScanResult, Verdict
from provenance.pipeline import cost as scan_cost
from provenance.report.cyclonedx import findings_by_ref
from provenance.report.groups import groups
from provenance.report.terminal import printable

MAX_EVIDENCE_ROWS = 12
MAX_GROUP_ROWS = 500  # finding groups listed before the component table


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
#components{width:100%}
#components th{cursor:pointer;user-select:none}
tr.row{cursor:pointer}
tr.row.restricted td:first-child{border-left:4px solid #c62828}
tr.row.restricted{background:#fdecea}
tr.row.review td:first-child{border-left:4px solid #f9a825}
tr.row.review{background:#fff8e1}
tr.details>td{background:#fafbfc}
.count{color:#455a64;font-weight:600}
.info{margin:4px 0 8px 14px;font-size:13px}
.opaque{color:#8d6e63;font-style:italic;margin-left:8px}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.hidden{display:none}
"""

_JS = """
(function(){
  var D=JSON.parse(document.getElementById('data').textContent), PAGE=100;
  var box=document.getElementById('filter'), only=document.getElementById('flagged-only');
  var body=document.getElementById('rows'), info=document.getElementById('match-count');
  var RANK={restricted:0,review:1,clear:2}, order=null, page=0, key='v', dir=1, open={};
  function esc(s){
    return String(s).replace(/[&<>"']/g,function(c){return '&#'+c.charCodeAt(0)+';';});}
  function cmp(a,b){var x=D[a][key],y=D[b][key];if(key==='v'){x=RANK[x];y=RANK[y];}
    return (x<y?-1:x>y?1:(D[a].p<D[b].p?-1:1))*dir;}
  function draw(){
    var html=[], end=Math.min(order.length,(page+1)*PAGE);
    for(var i=page*PAGE;i<end;i++){var r=D[order[i]];
      html.push('<tr class="row '+r.v+'" data-i="'+order[i]+'" id="'+esc(r.r)+'"><td>'
        +(r.v==='clear'?'':'<span class="badge '+r.v+'">'+r.v+'</span>')
        +(r.w?' <span class="badge waived">waived</span>':'')+'</td><td><code>'+esc(r.p)+'</code>'
        +(r.n>1?' <span class="count">&times;'+r.n+'</span>':'')+'</td><td>'+esc(r.a)
        +'</td><td>'+esc(r.m)+'</td><td>'+esc(r.k)+'</td><td>'+r.s+'</td></tr>');
      if(open[order[i]])html.push('<tr class="details"><td colspan="6">'+r.d+'</td></tr>');}
    body.innerHTML=html.join('');
    document.getElementById('page').textContent=order.length?('rows '+(page*PAGE+1)+'-'+end
      +' of '+order.length):'no match';
  }
  function apply(){
    var t0=performance.now(), q=box.value.trim().toLowerCase(), flagged=only.checked;
    order=[];for(var i=0;i<D.length;i++){var r=D[i];
      if((!flagged||r.f)&&(!q||r.q.indexOf(q)>=0))order.push(i);}
    order.sort(cmp);page=0;draw();
    info.textContent=(q||flagged)?order.length+' match':'';
    document.body.setAttribute('data-filter-ms',(performance.now()-t0).toFixed(1));
  }
  box.addEventListener('input',apply);only.addEventListener('change',apply);
  document.getElementById('prev').addEventListener('click',function(){if(page>0){page--;draw();}});
  document.getElementById('next').addEventListener('click',function(){
    if((page+1)*PAGE<order.length){page++;draw();}});
  document.getElementById('head').addEventListener('click',function(e){
    var k=e.target.getAttribute('data-k');if(!k)return;dir=(k===key)?-dir:1;key=k;order.sort(cmp);
    page=0;draw();});
  body.addEventListener('click',function(e){var tr=e.target.closest('tr.row');if(!tr)return;
    var i=+tr.getAttribute('data-i');open[i]=!open[i];draw();});
  function fromHash(){var h=decodeURIComponent(location.hash.slice(1));
    if(h==='flagged'){only.checked=true;}
    else if(h.indexOf('q=')===0){box.value=h.slice(2);}
    else if(h.indexOf('ref=')===0){for(var i=0;i<D.length;i++)
      if(D[i].refs.indexOf(h.slice(4))>=0){box.value=D[i].p;open[i]=true;break;}}
    apply();}
  window.addEventListener('hashchange',fromHash);fromHash();
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
            f"<td>{escape(e.in_force)}</td><td>{escape(e.source)}"
            + "".join(f"<br><small>{escape(c)}</small>" for c in e.citations) + "</td>"
            f"<td>{escape(e.scope)}</td></tr>" for e in f.entries)
        waived = (f" {_badge('waived')} {escape(f.waiver)}" if f.waiver is not None else "")
        out.append(f"<div class='finding'>{_badge(f.level.value)} {escape(f.rationale)}{waived}"
                   "</div><table class='entries'><tr><th>policy</th><th>entity</th>"
                   "<th>in force</th><th>source</th><th>scope</th></tr>" + entries + "</table>")
    return "<div class='info'>" + "".join(out) + "</div>"


def _parts(result: ScanResult) -> str:
    """The hardware parts section: what the firmware is built for, as inferred."""
    if not result.parts:
        return ""
    rows = []
    for p in result.parts:
        maker = result.vendors.get(p.maker)
        evidence = "<br>".join(f"<code>{escape(e.rule)}</code>: <code>{escape(e.detail)}</code>"
                               f" @ <code>{escape(e.location)}</code>"
                               for e in p.evidence[:MAX_EVIDENCE_ROWS])
        rows.append(f"<tr><td>{escape(p.part_class.value)}</td><td>{escape(p.model or '-')}</td>"
                    f"<td>{escape(maker.name if maker else p.maker)}</td>"
                    f"<td>{p.confidence:.2f}</td><td>{evidence}</td></tr>")
    return ("<h2>Hardware parts (inferred from the firmware)</h2><table id='parts'><tr>"
            "<th>class</th><th>model</th><th>maker</th><th>confidence</th><th>evidence</th></tr>"
            + "".join(rows) + "</table>")


MAX_PATHS = 50  # paths listed for a blob that occurs many times


def _rows(result: ScanResult) -> list[dict[str, object]]:
    """One row per distinct blob (components with the same SHA-256 are one row with their
    count; a directory or an unhashed part is its own row), worst first."""
    index = findings_by_ref(result)
    rows: dict[str, dict[str, object]] = {}
    paths: dict[str, list[str]] = {}
    for c in result.components():
        key = c.sha256 if c.sha256 and not c.children else c.ref
        paths.setdefault(key, []).append(c.path)
        if key in rows:
            rows[key]["n"] = int(rows[key]["n"]) + 1  # type: ignore[call-overload]
            rows[key]["refs"].append(c.ref)  # type: ignore[attr-defined]
            continue
        findings = index.get(c.ref, ())
        live = [f for f in findings if f.waiver is None]
        verdict = result.verdicts.get(c.ref, Verdict.CLEAR)
        top = c.top
        maker = c.manufacturer.name if c.manufacturer else ""
        search = [c.path, c.name, maker, *(a.vendor for a in c.attributions),
                  *(e.policy for f in findings for e in f.entries)]
        rows[key] = {
            "r": c.ref, "refs": [c.ref], "p": printable(c.path), "n": 1,
            "v": verdict.value, "f": bool(live), "w": bool(findings) and not live,
            "a": printable(f"{top.vendor} {top.relationship.value} {top.confidence:.2f}")
            if top else "",
            "m": printable(maker), "k": printable(c.kind), "s": c.size,
            "d": _details(c, findings, result) if (c.attributions or findings or c.sha256)
            else "",
            "q": printable(" ".join(search)).lower(),  # what the reader sees is what matches
        }
    for key, row in rows.items():
        if int(row["n"]) > 1:  # type: ignore[call-overload]
            listed = paths[key][:MAX_PATHS]
            more = len(paths[key]) - len(listed)
            row["d"] = (f"<div class='info'>{len(paths[key])} occurrences: "
                        + "<br>".join(f"<code>{escape(x)}</code>" for x in listed)
                        + (f"<br>… {more} more" if more else "") + f"</div>{row['d']}")
            row["q"] = str(row["q"]) + " " + printable(" ".join(paths[key])).lower()
    return list(rows.values())


def _data(rows: list[dict[str, object]]) -> str:
    """The rows as JSON that is safe inside a <script> element."""
    return (json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def render(result: ScanResult) -> str:
    by_ref = {c.ref: c for c in result.components()}
    table = _rows(result)
    grouped = groups(result)
    rows = []
    for g in grouped[:MAX_GROUP_ROWS]:
        c = by_ref.get(g.lead.component)
        waived = f" {_badge('waived')}" if g.waived else ""
        where = (f"<a href='#ref={escape(g.lead.component)}'><code>{escape(g.lead.location)}"
                 "</code></a>")
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
                + (f"<p>… {len(grouped) - MAX_GROUP_ROWS} more groups: filter the components "
                   "below with “flagged only”.</p>" if len(grouped) > MAX_GROUP_ROWS else "")
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
        f"<span>policies: {escape(', '.join(result.policies))}"
        + (f" (as of {escape(result.as_of)})" if result.as_of else "") + "</span>"
        f"<span>{result.stats.files} components, {result.stats.bytes} bytes</span>"
        f"<span>provenance {escape(result.tool_version)}</span></div>"
        + (f"<div class='meta'><span>{escape(spent)}</span></div>"
           if (spent := scan_cost.line(result.cost)) else "")
        + (f"<div class='meta'><span>restricted makers (findings): {restricted}</span></div>"
           if restricted else "")
        + "</header><main>"
        f"<h2>Findings ({len(result.findings)} in {len(grouped)} groups)</h2>{findings}"
        + _parts(result)
        + (f"<h2>Not fully examined</h2><ul>{problems}</ul>" if problems else "")
        + f"<h2>Components ({len(table)} distinct of {result.stats.files})</h2>"
        "<div id='controls'>"
        "<input id='filter' type='search' placeholder='filter: path, vendor, maker, policy'>"
        " <label><input id='flagged-only' type='checkbox'> flagged only</label>"
        " <span id='match-count'></span> <button id='prev'>&lsaquo; prev</button>"
        " <span id='page'></span> <button id='next'>next &rsaquo;</button></div>"
        "<table id='components'><thead id='head'><tr><th data-k='v'>verdict</th>"
        "<th data-k='p'>path</th><th data-k='a'>attribution</th><th data-k='m'>maker</th>"
        "<th data-k='k'>kind</th><th data-k='s'>bytes</th></tr></thead><tbody id='rows'>"
        "</tbody></table>"
        f"<script type='application/json' id='data'>{_data(table)}</script>"
        f"</main><script>{_JS}</script></body></html>\n"
    )
