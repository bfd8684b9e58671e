"""`provenance signatures eval`: score the tool on a labelled corpus. Pure logic, no scanning.

A manifest (`{"about": ..., "artifacts": [...]}`, the format of ../shared/corpus/*.json) lists
artifacts with their ground truth: `restricted`, the expected `vendor`, the verdicts that count
as right (`accept`) and how much in-file evidence there is (`strength`). The command scans each
file and hands this module one `Outcome` per artifact; this module computes the metrics and
formats them.

The metrics follow the reference scorer (../shared/tools/score-corpus) exactly:

- a positive (`restricted: true`) counts as found only with the verdict `restricted`; recall is
  found / positives, both without the artifacts that gave an error (1.0 with no positives);
- the right vendor: one of the vendors of the restricted-or-review components (each such
  component's top attribution, as the report's `provenance:vendor` says) is in the expected
  vendor's family. A family is a vendor with its parents: the vendor catalog's `parent` plus the
  scorer's own subsidiary table (`SCORER_PARENTS`), so the two agree;
- false restricted: negatives with the verdict `restricted`; accepted: artifacts whose verdict
  is in `accept`, out of every artifact (errors included).

Evidence kinds (for calibrating confidences): every `Evidence.rule` of every attribution in the
scan, except attributions whose relationship only mentions, supports or calls a vendor
(`mentions`, `supports`, `service`: they say nothing about who made the file). On a positive
a kind counts when it supports a vendor of the labelled vendor's family; on a negative, for any
vendor. Each artifact
counts once per kind; precision = positives / (positives + negatives).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from provenance.model import Relationship, ScanResult, Verdict
from provenance.report.terminal import printable as escape

# score-corpus's FAMILY table (subsidiary or brand -> parent), kept identical
SCORER_PARENTS: dict[str, str] = {
    "hisilicon": "huawei", "sanechips": "zte", "nubia": "zte", "ezviz": "hikvision",
    "hikrobot": "hikvision", "hilook": "hikvision", "imou": "dahua", "lorex": "dahua",
}
# relationships whose evidence is not counted per kind: they do not say who made the file
# (`service`: the file calls the vendor's cloud, which its makers and its clients both do)
NOT_COUNTED = frozenset({Relationship.MENTIONS.value, Relationship.SUPPORTS.value,
                         Relationship.SERVICE.value})
STRENGTHS = ("strong", "moderate", "weak", "none-in-file", "unlabelled")
VERDICTS = ("restricted", "review", "clear", "error")
DETAIL_WIDTH = 60  # characters of evidence detail in a row
ID_WIDTH = 56
MIN_SUPPORT = 3  # sightings before a kind's measured precision sets its confidence
MAX_CALIBRATED = 0.95
SEEN_ON_NEGATIVES = 0.65  # below the default policies' restricted threshold (0.7)


class ManifestError(Exception):
    """The manifest cannot be read or is not a manifest: exit code 3."""


# -- input ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expected:
    """One labelled artifact of a manifest."""

    id: str
    restricted: bool
    vendor: str | None
    accept: tuple[str, ...]
    strength: str  # strong | moderate | weak | none-in-file | unlabelled (not given)
    corpus: Path  # where the files are (DIR)
    path: str | None = None  # a file relative to the corpus, instead of the id's folder
    manifest: str = ""


def load_manifest(manifest: Path, corpus: Path) -> tuple[Expected, ...]:
    """The artifacts of one manifest, files under `corpus`. ManifestError if unreadable."""
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{manifest}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{manifest}: not JSON: {exc}") from None
    artifacts = doc.get("artifacts") if isinstance(doc, dict) else None
    if not isinstance(artifacts, list):
        raise ManifestError(f"{manifest}: no `artifacts` list")
    out: list[Expected] = []
    for n, art in enumerate(artifacts):
        where = f"{manifest}: artifact {n + 1}"
        if not isinstance(art, dict):
            raise ManifestError(f"{where}: not an object")
        ident, rel = art.get("id"), art.get("path")
        if not (isinstance(ident, str) and ident) and not (isinstance(rel, str) and rel):
            raise ManifestError(f"{where}: needs an `id` or a `path`")
        name = ident if isinstance(ident, str) and ident else str(rel)
        accept = art.get("accept")
        if not isinstance(accept, list) or not accept or not all(
                isinstance(v, str) for v in accept):
            raise ManifestError(f"{where} ({name}): `accept` must be a list of verdicts")
        if not isinstance(art.get("restricted"), bool):
            raise ManifestError(f"{where} ({name}): `restricted` must be true or false")
        vendor = art.get("vendor")
        if vendor is not None and not isinstance(vendor, str):
            raise ManifestError(f"{where} ({name}): `vendor` must be a vendor id or null")
        strength = art.get("strength")
        out.append(Expected(
            id=name, restricted=art["restricted"], vendor=vendor or None, accept=tuple(accept),
            strength=strength if isinstance(strength, str) and strength else "unlabelled",
            corpus=corpus, path=rel if isinstance(rel, str) and rel else None,
            manifest=str(manifest),
        ))
    return tuple(out)


def target(expected: Expected) -> Path:
    """The file to scan: `path` under the corpus, else the single file in `<corpus>/<id>/`."""
    if expected.path is not None:
        return expected.corpus / expected.path
    folder = expected.corpus / expected.id
    try:
        files = [p for p in folder.iterdir() if p.is_file()]
    except OSError as exc:
        raise FileNotFoundError(f"{folder}: {exc.strerror or 'cannot list'}") from None
    if len(files) != 1:
        raise FileNotFoundError(f"expected one file under {expected.id}/, found {len(files)}")
    return files[0]


# -- what one scan said ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the tool said about one artifact (verdict None: an error, see `error`)."""

    verdict: str | None
    vendor: str | None = None  # the top restricted/review finding's vendor
    vendors: tuple[str, ...] = ()  # vendors of restricted/review components (scorer semantics)
    file_type: str | None = None  # the root component's identified format
    deciding: str = ""  # "rule: detail" of the top finding's strongest evidence
    evidence: tuple[tuple[str, str], ...] = ()  # (rule, vendor) pairs seen, sorted
    error: str | None = None
    seconds: float = 0.0


def error_outcome(message: str, seconds: float = 0.0) -> Outcome:
    return Outcome(verdict=None, error=message, seconds=seconds)


def _kinds(pairs: Iterable[tuple[str, str, str]]) -> tuple[tuple[str, str], ...]:
    """(rule, vendor) of (rule, vendor, relationship) triples, without the uncounted ones."""
    return tuple(sorted({(rule, vendor) for rule, vendor, rel in pairs
                         if rel not in NOT_COUNTED}))


def outcome_from_result(result: ScanResult, seconds: float = 0.0) -> Outcome:
    """Read a scan result the way score-corpus reads its CycloneDX report."""
    root = result.root
    # the report's `components`: the root's descendants, or the root itself when it has none
    listed = ([c for child in root.children for c in child.walk()]
              or ([root] if root.kind != "directory" else []))
    vendors: set[str] = set()
    for comp in listed:
        top = comp.top
        level = result.verdicts.get(comp.ref, Verdict.CLEAR)
        if level in (Verdict.RESTRICTED, Verdict.REVIEW) and top is not None:
            vendors.add(top.vendor)
    flagged = [(n, f) for n, f in enumerate(result.findings) if f.waiver is None]
    vendor, deciding = None, ""
    if flagged:
        _, best = min(flagged, key=lambda nf: (-nf[1].level.rank, -nf[1].confidence, nf[0]))
        vendor = best.vendor
        found = next((c for c in result.components() if c.ref == best.component), None)
        attribution = None if found is None else next(
            (a for a in found.attributions
             if a.vendor == best.vendor and a.relationship == best.relationship), None)
        if attribution is not None:
            ev = max(attribution.evidence, key=lambda e: e.confidence)
            deciding = f"{ev.rule}: {ev.detail}"
    facts = root.facts
    file_type = facts.format if facts is not None and facts.format else root.kind
    evidence = _kinds((ev.rule, a.vendor, a.relationship.value)
                      for c in result.components() for a in c.attributions for ev in a.evidence)
    return Outcome(verdict=result.verdict.value, vendor=vendor, vendors=tuple(sorted(vendors)),
                   file_type=file_type, deciding=deciding, evidence=evidence, seconds=seconds)


def _props(node: Mapping[str, Any]) -> dict[str, str]:
    items = node.get("properties") or []
    return {str(p.get("name")): str(p.get("value")) for p in items if isinstance(p, dict)}


def _walk_doc(components: Any) -> Iterable[Mapping[str, Any]]:
    stack = list(reversed(components)) if isinstance(components, list) else []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            kids = node.get("components")
            if isinstance(kids, list):
                stack.extend(reversed(kids))


def outcome_from_document(doc: Mapping[str, Any], seconds: float = 0.0) -> Outcome:
    """Read an enriched SBOM (what `scan` makes of an SBOM input) like score-corpus does."""
    meta = doc.get("metadata")
    meta_component = meta.get("component") if isinstance(meta, dict) else None
    meta_component = meta_component if isinstance(meta_component, dict) else {}
    verdict = _props(meta_component).get("provenance:verdict")
    if verdict is None:
        return error_outcome("the report has no verdict", seconds)
    vendors: set[str] = set()
    triples: list[tuple[str, str, str]] = []
    findings: list[tuple[int, dict[str, Any], Mapping[str, Any]]] = []
    for node in [meta_component, *_walk_doc(doc.get("components"))]:
        props = node.get("properties") or []
        values = _props(node)
        if node is not meta_component and values.get("provenance:verdict") in (
                "restricted", "review") and values.get("provenance:vendor"):
            vendors.add(values["provenance:vendor"])
        for p in props if isinstance(props, list) else []:
            if not isinstance(p, dict):
                continue
            try:
                if p.get("name") == "provenance:attribution":
                    a = json.loads(p.get("value", ""))
                    triples += [(str(ev.get("rule")), str(a.get("vendor")),
                                 str(a.get("relationship"))) for ev in a.get("evidence", [])]
                elif p.get("name") == "provenance:finding":
                    f = json.loads(p.get("value", ""))
                    if f.get("level") in ("restricted", "review") and not f.get("waiver"):
                        findings.append((len(findings), f, node))
            except (ValueError, AttributeError, TypeError):
                continue
    vendor, deciding = None, ""
    if findings:
        rank = {"restricted": 2, "review": 1}
        _, best, node = min(findings, key=lambda t: (-rank[t[1]["level"]],
                                                     -float(t[1].get("confidence", 0)), t[0]))
        vendor = str(best.get("vendor"))
        for p in node.get("properties") or []:
            try:
                a = json.loads(p.get("value", "")) if p.get("name") == (
                    "provenance:attribution") else None
            except (ValueError, AttributeError, TypeError):
                a = None
            if a and a.get("vendor") == best.get("vendor") and a.get("evidence") and a.get(
                    "relationship") == best.get("relationship"):
                ev = max(a["evidence"], key=lambda e: float(e.get("confidence", 0)))
                deciding = f"{ev.get('rule')}: {ev.get('detail')}"
                break
    return Outcome(verdict=verdict, vendor=vendor, vendors=tuple(sorted(vendors)),
                   file_type="sbom", deciding=deciding, evidence=_kinds(triples),
                   seconds=seconds)


# -- metrics --------------------------------------------------------------------------------


SameFamily = Callable[[str, str], bool]


def family_matcher(catalog_parents: Mapping[str, str | None]) -> SameFamily:
    """`same(a, b)`: whether two vendor ids share a family (a vendor and its parents), by the
    vendor catalog's parents and, where the catalog gives none, the scorer's table."""
    parents = dict(SCORER_PARENTS)
    parents.update({k: v for k, v in catalog_parents.items() if v})

    def family(vendor: str) -> set[str]:
        chain: list[str] = []
        current: str | None = vendor
        while current and current not in chain:
            chain.append(current)
            current = parents.get(current)
        return set(chain)

    def same(a: str, b: str) -> bool:
        return a == b or bool(family(a) & family(b))

    return same


@dataclass(frozen=True, slots=True)
class Row:
    expected: Expected
    outcome: Outcome

    @property
    def error(self) -> bool:
        return self.outcome.verdict is None

    @property
    def ok(self) -> bool:
        return self.outcome.verdict is not None and self.outcome.verdict in self.expected.accept

    def right_vendor(self, same: SameFamily) -> bool:
        """A positive flagged restricted with a vendor of the expected family (scorer rule)."""
        exp = self.expected.vendor
        return (self.expected.restricted and self.outcome.verdict == "restricted"
                and exp is not None and any(same(v, exp) for v in self.outcome.vendors))


@dataclass(slots=True)
class Group:
    """Counts for one vendor, strength or file type."""

    key: str
    positives: int = 0  # labelled restricted, scanned without error
    flagged: int = 0  # ... and flagged restricted
    right_vendor: int = 0  # ... with a vendor of the labelled family
    negatives: int = 0  # labelled not restricted, scanned without error
    false_restricted: int = 0  # ... but flagged restricted
    review: int = 0  # ... sent to review
    errors: int = 0
    flagged_as: int = 0  # (vendors) artifacts flagged restricted with this top finding vendor
    correct_as: int = 0  # ... that are positives of this vendor's family

    @property
    def recall(self) -> float | None:
        return self.flagged / self.positives if self.positives else None

    @property
    def precision(self) -> float | None:
        """Flagged restricted that are positives, among this group's artifacts."""
        hits = self.flagged + self.false_restricted
        return self.flagged / hits if hits else None

    @property
    def vendor_precision(self) -> float | None:
        """Flagged restricted as this vendor that are positives of its family."""
        return self.correct_as / self.flagged_as if self.flagged_as else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "recall": _round(self.recall), "precision": _round(self.precision),
                "vendor_precision": _round(self.vendor_precision)}


@dataclass(frozen=True, slots=True)
class KindStats:
    positives: int  # positives where the kind supported the labelled vendor family
    negatives: int  # negatives where the kind supported any vendor

    @property
    def precision(self) -> float:
        return self.positives / (self.positives + self.negatives)

    @property
    def confidence(self) -> float | None:
        """The confidence attribution uses for this kind: the lower Wilson bound (z = 1) of its
        measured precision, so three clean sightings give 0.75 and nine give 0.90, while a kind
        that also fired on negatives stays low: such a kind is capped at SEEN_ON_NEGATIVES, so on
        its own it can send a file to review, never to restricted. None below MIN_SUPPORT."""
        n = self.positives + self.negatives
        if n < MIN_SUPPORT:
            return None
        p, z = self.precision, 1.0
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        margin = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        cap = SEEN_ON_NEGATIVES if self.negatives else MAX_CALIBRATED
        return round(min(cap, max(0.05, centre - margin)), 2)

    def capped(self, ceiling: float | None) -> float | None:
        """The confidence, at most the kind's ceiling (calibration.yml `ceilings:`): what one
        such mark can say whatever its record, so a weak kind seen on a few clean files
        (a single symbol, a banner) cannot calibrate into `restricted` on its own."""
        conf = self.confidence
        return conf if conf is None or ceiling is None else min(conf, ceiling)


@dataclass(frozen=True, slots=True)
class Evaluation:
    rows: tuple[Row, ...]
    total: int
    positives: int
    flagged: int
    right_vendor: int
    negatives: int
    false_restricted: int
    review: int  # negatives sent to review
    accepted: int
    errors: int
    seconds: float
    by_vendor: tuple[Group, ...]
    by_strength: tuple[Group, ...]
    by_type: tuple[Group, ...]
    confusion: dict[str, dict[str, int]]  # positive|negative -> verdict|error -> count
    kinds: dict[str, KindStats] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.flagged / self.positives if self.positives else 1.0


def _tally(groups: dict[str, Group], key: str, row: Row, same: SameFamily) -> Group:
    g = groups.setdefault(key, Group(key))
    verdict = row.outcome.verdict
    if verdict is None:
        g.errors += 1
    elif row.expected.restricted:
        g.positives += 1
        g.flagged += verdict == "restricted"
        g.right_vendor += row.right_vendor(same)
    else:
        g.negatives += 1
        g.false_restricted += verdict == "restricted"
        g.review += verdict == "review"
    return g


def evaluate(rows: Sequence[Row], same: SameFamily) -> Evaluation:
    """Every metric of a set of scored rows."""
    by_vendor: dict[str, Group] = {}
    by_strength: dict[str, Group] = {}
    by_type: dict[str, Group] = {}
    confusion = {side: dict.fromkeys(VERDICTS, 0) for side in ("positive", "negative")}
    kind_pos: dict[str, int] = {}
    kind_neg: dict[str, int] = {}
    for row in rows:
        exp, out = row.expected, row.outcome
        _tally(by_vendor, exp.vendor or "-", row, same)
        _tally(by_strength, exp.strength, row, same)
        _tally(by_type, out.file_type or ("error" if row.error else "-"), row, same)
        side = "positive" if exp.restricted else "negative"
        confusion[side][out.verdict if out.verdict in VERDICTS else "error"] += 1
        if row.error:
            continue
        if out.verdict == "restricted" and out.vendor:
            g = by_vendor.setdefault(out.vendor, Group(out.vendor))
            g.flagged_as += 1
            g.correct_as += bool(exp.restricted and exp.vendor and same(out.vendor, exp.vendor))
        if exp.restricted:
            seen = {rule for rule, vendor in out.evidence
                    if exp.vendor is not None and same(vendor, exp.vendor)}
            for rule in seen:
                kind_pos[rule] = kind_pos.get(rule, 0) + 1
        else:
            for rule in {rule for rule, _ in out.evidence}:
                kind_neg[rule] = kind_neg.get(rule, 0) + 1
    scored = [r for r in rows if not r.error]
    pos = [r for r in scored if r.expected.restricted]
    neg = [r for r in scored if not r.expected.restricted]
    strength_order = {s: n for n, s in enumerate(STRENGTHS)}
    return Evaluation(
        rows=tuple(rows),
        total=len(rows),
        positives=len(pos),
        flagged=sum(r.outcome.verdict == "restricted" for r in pos),
        right_vendor=sum(r.right_vendor(same) for r in pos),
        negatives=len(neg),
        false_restricted=sum(r.outcome.verdict == "restricted" for r in neg),
        review=sum(r.outcome.verdict == "review" for r in neg),
        accepted=sum(r.ok for r in rows),
        errors=len(rows) - len(scored),
        seconds=round(sum(r.outcome.seconds for r in rows), 3),
        by_vendor=tuple(sorted(by_vendor.values(), key=lambda g: (g.key == "-", g.key))),
        by_strength=tuple(sorted(by_strength.values(),
                                 key=lambda g: (strength_order.get(g.key, 99), g.key))),
        by_type=tuple(sorted(by_type.values(), key=lambda g: g.key)),
        confusion=confusion,
        kinds={k: KindStats(kind_pos.get(k, 0), kind_neg.get(k, 0))
               for k in sorted(set(kind_pos) | set(kind_neg))},
    )


def fails(ev: Evaluation, min_recall: float | None, max_false_restricted: int | None,
          max_errors: int | None = None) -> list[str]:
    """Which thresholds the evaluation misses (empty: all hold)."""
    out = []
    if min_recall is not None and ev.recall < min_recall:
        out.append(f"recall {ev.recall:.2f} is below --min-recall {min_recall:g}")
    if max_false_restricted is not None and ev.false_restricted > max_false_restricted:
        out.append(f"false-restricted {ev.false_restricted} is above --max-false-restricted "
                   f"{max_false_restricted}")
    if max_errors is not None and ev.errors > max_errors:
        out.append(f"errors {ev.errors} is above --max-errors {max_errors}")
    return out


# -- output ---------------------------------------------------------------------------------


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def summary_lines(ev: Evaluation) -> list[str]:
    """The scorer's closing lines, the same wording."""
    lines = [f"positives flagged restricted: {ev.flagged}/{ev.positives}; with the right "
             f"vendor: {ev.right_vendor}/{ev.positives}"]
    tallied = [g for g in ev.by_strength if g.positives or g.errors]
    if len([g for g in ev.by_strength if g.positives]) > 1:
        lines.append("recall by in-file evidence: " + ", ".join(
            f"{escape(g.key)} {g.flagged}/{g.positives}" for g in tallied if g.positives))
    lines.append(f"negatives flagged restricted: {ev.false_restricted}/{ev.negatives}; sent to "
                 f"review: {ev.review}/{ev.negatives}")
    lines.append(f"errors: {ev.errors}; scan time: {ev.seconds:.1f} s")
    lines.append(totals_line(ev))
    return lines


def totals_line(ev: Evaluation) -> str:
    return (f"recall {ev.recall:.2f} · false-restricted {ev.false_restricted} · accepted "
            f"{ev.accepted}/{ev.total} · errors {ev.errors}")


def row_lines(rows: Sequence[Row]) -> list[str]:
    w = min(max((len(escape(r.expected.id)) for r in rows), default=8), ID_WIDTH)
    w = max(w, len("artifact"))
    lines = [f"{'artifact'.ljust(w)}  {'expected':<18} {'verdict':<10} {'vendor':<14} "
             f"{'':<5} {'s':>6}  deciding evidence"]
    for r in rows:
        out = r.outcome
        mark = "ERROR" if r.error else "OK" if r.ok else "WRONG"
        note = f"error: {out.error}" if r.error else out.deciding or "-"
        lines.append(
            f"{clip(escape(r.expected.id), w).ljust(w)}  "
            f"{clip(escape('/'.join(r.expected.accept)), 18):<18} "
            f"{escape(out.verdict or 'error'):<10} {clip(escape(out.vendor or '-'), 14):<14} "
            f"{mark:<5} {out.seconds:6.1f}  {clip(escape(note), DETAIL_WIDTH + 20)}")
    return lines


def _group_table(title: str, groups: Sequence[Group], vendors: bool = False) -> list[str]:
    w = max([len(title)] + [len(clip(escape(g.key), 24)) for g in groups])
    if vendors:
        head = (f"{title.ljust(w)}  {'pos':>4} {'flagged':>7} {'right-vendor':>12} "
                f"{'recall':>6}  {'flagged-as':>10} {'precision':>9}  {'neg':>4} "
                f"{'false-r':>7} {'errors':>6}")
    else:
        head = (f"{title.ljust(w)}  {'pos':>4} {'flagged':>7} {'recall':>6}  {'neg':>4} "
                f"{'false-r':>7} {'review':>6} {'precision':>9} {'errors':>6}")
    lines = [head]
    for g in groups:
        key = clip(escape(g.key), 24).ljust(w)
        if vendors:
            lines.append(f"{key}  {g.positives:>4} {g.flagged:>7} {g.right_vendor:>12} "
                         f"{_pct(g.recall):>6}  {g.flagged_as:>10} "
                         f"{_pct(g.vendor_precision):>9}  {g.negatives:>4} "
                         f"{g.false_restricted:>7} {g.errors:>6}")
        else:
            lines.append(f"{key}  {g.positives:>4} {g.flagged:>7} {_pct(g.recall):>6}  "
                         f"{g.negatives:>4} {g.false_restricted:>7} {g.review:>6} "
                         f"{_pct(g.precision):>9} {g.errors:>6}")
    return lines


def report_lines(ev: Evaluation) -> list[str]:
    """The whole terminal report, every input-derived string escaped."""
    lines = row_lines(ev.rows)
    lines += ["", "by labelled vendor (precision: of the artifacts flagged restricted with "
              "this top vendor, the positives of its family)"]
    lines += _group_table("vendor", ev.by_vendor, vendors=True)
    lines += ["", "by strength (precision: flagged restricted that are positives)"]
    lines += _group_table("strength", ev.by_strength)
    lines += ["", "by file type (the root component's identified format)"]
    lines += _group_table("type", ev.by_type)
    lines += ["", "confusion: expected x verdict",
              f"{'':<10} " + " ".join(f"{v:>10}" for v in VERDICTS)]
    for side in ("positive", "negative"):
        lines.append(f"{side:<10} " + " ".join(f"{ev.confusion[side][v]:>10}"
                                               for v in VERDICTS))
    lines += ["", "evidence kinds (artifacts where the kind supported the labelled vendor family "
              "on positives, any vendor on negatives)"]
    if ev.kinds:
        w = min(max(len(escape(k)) for k in ev.kinds), 48)
        lines.append(f"{'rule'.ljust(w)}  {'pos':>4} {'neg':>4} {'precision':>9}")
        for kind, ks in sorted(ev.kinds.items(), key=lambda kv: (kv[1].precision, kv[0])):
            lines.append(f"{clip(escape(kind), w).ljust(w)}  {ks.positives:>4} "
                         f"{ks.negatives:>4} {ks.precision:>9.2f}")
    else:
        lines.append("(no evidence seen)")
    lines += ["", *summary_lines(ev)]
    return lines


def to_json(ev: Evaluation, manifests: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Everything, machine-readable (strings as read; JSON escapes them). `manifests`: the
    (manifest, corpus directory) pairs scored."""
    return {
        "manifests": [{"manifest": m, "dir": d} for m, d in manifests],
        "totals": {
            "artifacts": ev.total, "positives": ev.positives, "flagged": ev.flagged,
            "right_vendor": ev.right_vendor, "negatives": ev.negatives,
            "false_restricted": ev.false_restricted, "review": ev.review,
            "accepted": ev.accepted, "errors": ev.errors, "recall": _round(ev.recall),
            "seconds": ev.seconds,
        },
        "rows": [{
            "id": r.expected.id, "manifest": r.expected.manifest,
            "expected": {"restricted": r.expected.restricted, "vendor": r.expected.vendor,
                         "accept": list(r.expected.accept), "strength": r.expected.strength},
            "verdict": r.outcome.verdict, "ok": r.ok, "vendor": r.outcome.vendor,
            "vendors": list(r.outcome.vendors), "file_type": r.outcome.file_type,
            "deciding": r.outcome.deciding, "error": r.outcome.error,
            "seconds": r.outcome.seconds,
            "evidence": [{"rule": rule, "vendor": vendor} for rule, vendor in r.outcome.evidence],
        } for r in ev.rows],
        "by_vendor": [g.as_dict() for g in ev.by_vendor],
        "by_strength": [g.as_dict() for g in ev.by_strength],
        "by_type": [g.as_dict() for g in ev.by_type],
        "confusion": ev.confusion,
        "kinds": kinds_dict(ev),
    }


def kinds_dict(ev: Evaluation, ceilings: Mapping[str, tuple[float, str]] | None = None,
               ) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    for k, s in ev.kinds.items():
        row: dict[str, float | int] = {"positives": s.positives, "negatives": s.negatives,
                                       "precision": round(s.precision, 4)}
        conf = s.capped((ceilings or {}).get(k, (None, ""))[0])
        if conf is not None:
            row["confidence"] = conf
        out[k] = row
    return out


def calibration_yaml(ev: Evaluation, manifests: Sequence[tuple[str, str]], day: date,
                     ceilings: Mapping[str, tuple[float, str]] | None = None) -> str:
    """The per-kind table as YAML, with a comment saying what produced it. The ceilings
    (hand-set, each with its reason in calibration.yml) are written back unchanged."""
    head = [
        "# Evidence-kind calibration written by `provenance signatures eval`.",
        f"# produced: {day.isoformat()}",
        *[f"# manifest: {escape(m)} (files in {escape(d)})" for m, d in manifests],
        f"# artifacts: {ev.total} ({ev.positives} positives, {ev.negatives} negatives, "
        f"{ev.errors} errors not counted)",
        "# positives: positives on which the kind (Evidence.rule) supported the labelled vendor's",
        "#   family; negatives: negatives on which it supported any vendor; each artifact counts",
        "#   once per kind; attributions that only mention, support or call a vendor are not",
        "#   counted.",
        "# precision = positives / (positives + negatives); confidence (what attribution uses,",
        f"#   when seen at least {MIN_SUPPORT} times) = lower Wilson bound (z = 1) of precision,",
        f"#   at most {SEEN_ON_NEGATIVES} for a kind seen on any negative, and at most the",
        "#   kind's ceiling (`ceilings:`, kept by hand: what one such mark can say at best)",
    ]
    body = yaml.safe_dump({"kinds": kinds_dict(ev, ceilings)}, sort_keys=True,
                          allow_unicode=True, default_flow_style=False)
    if ceilings:
        body += yaml.safe_dump({"ceilings": {k: {"ceiling": c, "why": why}
                                             for k, (c, why) in sorted(ceilings.items())}},
                               sort_keys=False, allow_unicode=True, default_flow_style=False,
                               width=100)
    return "\n".join(head) + "\n" + body
