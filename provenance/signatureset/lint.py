"""Signature-set tooling behind `provenance signatures list|lint|test` (DESIGN §5).

Pure functions over a loaded `SignatureSet` plus the rule samples on disk; the CLI only prints.
Samples live in `<root>/<rule_id>/positive-*.bin` and `negative-*.bin`. The built-in rules use
`samples/signatures/` of the source tree; a user directory `DIR` uses `DIR/samples/`. A
`negative-falsefriend-*` sample encodes a false friend (catalog §6): no rule at all may fire on it.
"""

from __future__ import annotations

import re
import stat
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.model import Relationship
from provenance.signatureset import (
    NAMESPACE_ECOSYSTEMS,
    Rule,
    SignatureError,
    SignatureSet,
    builtin_dir,
    load,
)

WEAK_MAX_CONFIDENCE = 0.3  # a name-only rule can never outvote structural evidence
WEAK_RELATIONSHIPS = {Relationship.MENTIONS, Relationship.MADE_BY, Relationship.CONTAINS}
MAX_SAMPLE_BYTES = 64 * 1024
MIN_STRING_BYTES = 4
README_START, README_END = "<!-- signatures:start -->", "<!-- signatures:end -->"

_TEXT_STRING = re.compile(r'^\s*\$\w*\s*=\s*"((?:[^"\\]|\\.)*)"', re.M)
_REGEX_STRING = re.compile(r"^\s*\$\w*\s*=\s*/(.*)/[is]*(?:\s|$)", re.M)
_CITE = re.compile(r"\[([a-z0-9_]+)\]")  # a [source_key] citation inside free text
_HEX16 = re.compile(r"^[0-9a-f]{4}$")
_OUI = re.compile(r"^([0-9A-F]{2}:){2}[0-9A-F]{2}(:[0-9A-F]{2}){0,3}(/\d{2})?$")  # MA-L/M/S
_LEADING_WILDCARD = re.compile(r"^(\.|\\[wWsSdD]|\[[^\]]*\])[*+?{]")


@dataclass(frozen=True, slots=True)
class SampleResult:
    rule: str
    sample: Path
    expected: bool  # True for a positive sample
    fired: tuple[str, ...]  # every rule of the set that fired on it

    @property
    def ok(self) -> bool:
        if self.expected:
            return self.rule in self.fired
        if self.sample.name.startswith("negative-falsefriend-"):
            return not self.fired
        return self.rule not in self.fired


@dataclass(frozen=True, slots=True)
class Listing:
    vendors: tuple[dict[str, str], ...]
    rules: tuple[dict[str, str], ...]
    counts: dict[str, int]


def source_samples_dir() -> Path:
    """Samples of the built-in rules (present in a source checkout, not in an installed wheel)."""
    return builtin_dir().parent / "samples" / "signatures"


def sample_root(sigset: SignatureSet, rule: Rule) -> Path | None:
    """Where the samples of `rule` live: by the signature directory that holds the rule."""
    for top in sigset.directories:
        try:
            rule.path.resolve().relative_to(top.resolve())
        except ValueError:
            continue
        builtin = top.resolve() == builtin_dir().resolve()
        root = source_samples_dir() if builtin else top / "samples"
        return root if root.is_dir() else None
    return None


def samples_of(sigset: SignatureSet, rule: Rule) -> tuple[list[Path], list[Path]]:
    root = sample_root(sigset, rule)
    if root is None or not (root / rule.id).is_dir():
        return [], []
    folder = root / rule.id
    return sorted(folder.glob("positive-*.bin")), sorted(folder.glob("negative-*.bin"))


def _compiled(sigset: SignatureSet) -> Any:
    import yara

    return yara.compile(filepaths={r.id: str(r.path) for r in sigset.rules})


def test_rules(sigset: SignatureSet) -> list[SampleResult]:
    """Run the whole rule set over every rule's samples."""
    if not sigset.rules:
        return []
    rules = _compiled(sigset)
    results = []
    for rule in sigset.rules:
        positives, negatives = samples_of(sigset, rule)
        for path, expected in [(p, True) for p in positives] + [(n, False) for n in negatives]:
            fired = tuple(sorted({m.rule for m in rules.match(data=path.read_bytes())}))
            results.append(SampleResult(rule.id, path, expected, fired))
    return results


test_rules.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _rule_text_problems(rule: Rule) -> list[str]:
    text = rule.path.read_text(encoding="utf-8")
    body = text.split("strings:", 1)[-1].split("condition:", 1)[0] if "strings:" in text else ""
    problems = []
    for raw in _TEXT_STRING.findall(body):
        value = re.sub(r"\\x[0-9a-fA-F]{2}|\\.", "_", raw)
        if len(value) < MIN_STRING_BYTES:
            problems.append(f"{rule.path}: string {raw!r} is shorter than {MIN_STRING_BYTES} bytes")
    for raw in _REGEX_STRING.findall(body):
        if _LEADING_WILDCARD.match(raw):
            problems.append(f"{rule.path}: regex /{raw}/ starts with a wildcard (slow scan)")
    return problems


def _compile_problems(rule: Rule) -> list[str]:
    import yara

    try:
        compiled = yara.compile(filepath=str(rule.path), error_on_warning=True)
    except yara.Error as exc:  # errors and, with error_on_warning, warnings
        return [f"{rule.path}: YARA: {exc}"]
    return [f"{rule.path}: YARA warning: {w}" for w in getattr(compiled, "warnings", []) or []]


def _vendor_problems(sigset: SignatureSet) -> list[str]:
    problems = []
    for vendor in sigset.vendors.values():
        facts = [*vendor.legal_names, *vendor.aliases, *vendor.signers, *vendor.usb_ids,
                 *vendor.pci_ids, *vendor.ouis, *vendor.domains,
                 *(f for items in vendor.namespaces.values() for f in items)]
        for fact in facts:
            if fact.source not in vendor.sources:
                problems.append(f"{vendor.path}: {fact.value!r} cites unknown source {fact.source}")
        for key, pattern in (("usb_ids", _HEX16), ("pci_ids", _HEX16), ("ouis", _OUI)):
            for fact in getattr(vendor, key):
                if not pattern.match(fact.value):
                    problems.append(f"{vendor.path}: {key} {fact.value!r} is malformed")
        for key in ("ownership", "notes"):
            for ref in _CITE.findall(getattr(vendor, key)):
                if ref not in vendor.sources:
                    problems.append(f"{vendor.path}: {key} cites [{ref}], which is not in sources")
        unknown_eco = set(vendor.namespaces) - NAMESPACE_ECOSYSTEMS
        if unknown_eco:
            problems.append(f"{vendor.path}: unknown namespace ecosystems {sorted(unknown_eco)}")
        if vendor.country and not vendor.country_source:
            problems.append(f"{vendor.path}: country needs country_source (a key of sources)")
        if vendor.parent and not vendor.parent_source:
            problems.append(f"{vendor.path}: parent needs parent_source (a key of sources)")
        seen = Counter(f.value for f in vendor.ouis)
        problems += [f"{vendor.path}: OUI {v} listed twice" for v, n in seen.items() if n > 1]
    return problems


def _rule_problems(sigset: SignatureSet, rule: Rule) -> list[str]:
    problems = _compile_problems(rule) + _rule_text_problems(rule)
    if rule.path.parent.name != rule.vendor:
        problems.append(f"{rule.path}: must live in yara/{rule.vendor}/ (its vendor)")
    if rule.weak and rule.confidence > WEAK_MAX_CONFIDENCE:
        problems.append(f"{rule.path}: a weak rule's confidence must be <= {WEAK_MAX_CONFIDENCE}")
    if rule.weak and rule.relationship not in WEAK_RELATIONSHIPS:
        problems.append(f"{rule.path}: a weak rule cannot claim {rule.relationship}")
    if rule.version_regex:
        try:
            re.compile(rule.version_regex)
        except re.error as exc:
            problems.append(f"{rule.path}: version_regex: {exc}")
    if sample_root(sigset, rule) is None:
        if sample_root_missing_is_ok(sigset, rule):
            return problems
        return [*problems, f"{rule.path}: no samples directory for this signature directory"]
    positives, negatives = samples_of(sigset, rule)
    if not positives:
        problems.append(f"{rule.id}: no positive sample (positive-*.bin)")
    if not negatives:
        problems.append(f"{rule.id}: no near-miss negative sample (negative-*.bin)")
    for path in positives + negatives:
        mode = path.stat().st_mode
        if mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
            problems.append(f"{path}: a sample must not be executable")
        if path.stat().st_size > MAX_SAMPLE_BYTES:
            problems.append(f"{path}: a sample must stay under {MAX_SAMPLE_BYTES} bytes")
    return problems


def sample_root_missing_is_ok(sigset: SignatureSet, rule: Rule) -> bool:
    """Built-in rules of an installed wheel ship without samples (they are tested upstream)."""
    builtin = builtin_dir().resolve()
    return rule.path.resolve().is_relative_to(builtin) and not source_samples_dir().is_dir()


def lint(sigset_dirs: Sequence[Path] = ()) -> list[str]:
    """Every problem of the built-in set plus `sigset_dirs`; an empty list means valid."""
    try:
        sigset = load(tuple(Path(d) for d in sigset_dirs))
    except SignatureError as exc:  # schema, closed meta, unique ids, references
        return [str(exc)]
    problems = _vendor_problems(sigset)
    for rule in sigset.rules:
        problems += _rule_problems(sigset, rule)
    ids = {r.id for r in sigset.rules}
    roots = {root for r in sigset.rules if (root := sample_root(sigset, r)) is not None}
    for root in sorted(roots):
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._"):
            if folder.name not in ids:
                problems.append(f"{folder}: samples for unknown rule {folder.name}")
            for path in sorted(folder.iterdir()):
                if not re.match(r"^(positive|negative)-[\w.-]+\.bin$", path.name):
                    problems.append(f"{path}: samples are named positive-*.bin or negative-*.bin")
    if not any(": YARA: " in p for p in problems):  # the set compiles: run the samples
        for result in test_rules(sigset):
            if not result.ok:
                if result.expected:
                    what = "misses its positive"
                elif result.rule in result.fired:
                    what = "fires on its negative"
                else:
                    what = f"false friend fires {', '.join(result.fired)}"
                problems.append(f"{result.rule}: {what} {result.sample.name}")
    return problems


def list_rows(sigset: SignatureSet) -> Listing:
    rule_count = Counter(r.vendor for r in sigset.rules)
    vendors = tuple(
        {"id": v.id, "name": v.name, "country": v.country or "", "parent": v.parent or "",
         "rules": str(rule_count[v.id]), "ouis": str(len(v.ouis)),
         "usb": ",".join(f.value for f in v.usb_ids), "pci": ",".join(f.value for f in v.pci_ids)}
        for v in sorted(sigset.vendors.values(), key=lambda v: v.id)
    )
    rules = tuple(
        {"id": r.id, "vendor": r.vendor, "relationship": str(r.relationship),
         "confidence": f"{r.confidence:.2f}", "weak": "yes" if r.weak else "",
         "component": r.component}
        for r in sigset.rules
    )
    counts = {"vendors": len(sigset.vendors), "rules": len(sigset.rules),
              "weak_rules": sum(r.weak for r in sigset.rules), "policies": len(sigset.policies)}
    return Listing(vendors, rules, counts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def signatures_markdown(sigset: SignatureSet | None = None) -> str:
    """The README signature table, generated from the rule files (kept in sync by a test)."""
    sigset = sigset or load()
    lines = [
        README_START,
        "<!-- generated by provenance.signature_tools.signatures_markdown(); do not edit -->",
        "",
        "| rule | vendor | relationship | confidence | description |",
        "|---|---|---|---|---|",
    ]
    for r in sigset.rules:
        conf = f"{r.confidence:.2f}" + (" (weak)" if r.weak else "")
        lines.append(f"| `{r.id}` | {r.vendor} | {r.relationship} | {conf} | "
                     f"{_cell(r.description)} |")
    lines += ["", f"{len(sigset.rules)} rules, {len(sigset.vendors)} vendors.", README_END]
    return "\n".join(lines) + "\n"


def calibration_markdown() -> str:
    """The README evidence-kind table, generated from the built-in `calibration.yml`."""
    import yaml

    path = builtin_dir() / "calibration.yml"
    kinds = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("kinds") or {}
    lines = ["<!-- generated by provenance.signature_tools.calibration_markdown(); do not edit -->",
             "", "| evidence kind | positives | negatives | precision | confidence used |",
             "|---|---|---|---|---|"]
    for kind, row in sorted(kinds.items(), key=lambda kv: (-kv[1]["positives"], kv[0])):
        used = f"{row['confidence']:.2f}" if "confidence" in row else "rule or code default"
        lines.append(f"| `{kind}` | {row['positives']} | {row['negatives']} | "
                     f"{row['precision']:.2f} | {used} |")
    return "\n".join(lines) + "\n"
