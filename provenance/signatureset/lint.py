"""`provenance signatures lint`: the soft checks of a signature set, one small class each.

`load()` holds the hard schema (closed rule meta, vendor keys, references): a set that fails it
cannot be read at all. The checks here read a loaded set, as capa's `scripts/lint.py` does its
rules: each `Lint` has a name, a level, a recommendation and a `check` that yields one message
per problem. A lint applies to a vendor, a rule, a rule's samples (run against the compiled
set) or the set's directories; `LINTS` is the registry, in the order problems are reported.
"""

from __future__ import annotations

import functools
import re
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from provenance.model import Relationship
from provenance.signatureset import (
    NAMESPACE_ECOSYSTEMS,
    SAMPLE_SPEC_SUFFIX,
    Rule,
    SignatureError,
    SignatureSet,
    Vendor,
    load,
)
from provenance.signatureset import samples as samples_mod
from provenance.signatureset.compile import compile_yara
from provenance.signatureset.samples import (
    MAX_SAMPLE_BYTES,
    SAMPLE_NAME,
    Sample,
    SampleResult,
    SpecError,
)

WEAK_MAX_CONFIDENCE = 0.3  # a name-only rule can never outvote structural evidence
WEAK_RELATIONSHIPS = {Relationship.MENTIONS, Relationship.MADE_BY, Relationship.CONTAINS}
MIN_STRING_BYTES = 4

_TEXT_STRING = re.compile(r'^\s*\$\w*\s*=\s*"((?:[^"\\]|\\.)*)"', re.M)
_REGEX_STRING = re.compile(r"^\s*\$\w*\s*=\s*/(.*)/[is]*(?:\s|$)", re.M)
_CITE = re.compile(r"\[([a-z0-9_]+)\]")  # a [source_key] citation inside free text
_HEX16 = re.compile(r"^[0-9a-f]{4}$")
# a CPE 2.3 vendor component as NVD writes it: lower case, no wildcard, no quoting needed
_CPE_VENDOR = re.compile(r"^[a-z0-9][a-z0-9._\-]*$")
_OUI = re.compile(r"^([0-9A-F]{2}:){2}[0-9A-F]{2}(:[0-9A-F]{2}){0,3}(/\d{2})?$")  # MA-L/M/S
_LEADING_WILDCARD = re.compile(r"^(\.|\\[wWsSdD]|\[[^\]]*\])[*+?{]")


class Level(StrEnum):
    FAIL = "fail"  # the set is invalid: `signatures lint` exits 3
    WARN = "warn"  # reported; the set stays valid


@dataclass
class Context:
    """What the lints of one run share: the set, and each rule's samples built once."""

    sigset: SignatureSet
    _samples: dict[str, list[Sample] | SpecError] = field(default_factory=dict)

    def samples(self, rule: Rule) -> list[Sample] | SpecError:
        if rule.id not in self._samples:
            try:
                self._samples[rule.id] = samples_mod.samples_of(self.sigset, rule)
            except SpecError as exc:
                self._samples[rule.id] = exc
        return self._samples[rule.id]


@dataclass(frozen=True, slots=True)
class Violation:
    lint: Lint
    message: str

    @property
    def level(self) -> Level:
        return self.lint.level

    def __str__(self) -> str:
        return self.message


class Lint:
    name: ClassVar[str] = "lint"
    level: ClassVar[Level] = Level.FAIL
    recommendation: ClassVar[str] = ""


class VendorLint(Lint):
    def check(self, ctx: Context, vendor: Vendor) -> Iterator[str]:
        raise NotImplementedError


class RuleLint(Lint):
    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        raise NotImplementedError


class SampleLint(Lint):
    """Runs only once every rule compiles: `results` are the rule's samples against the set."""

    def check(self, ctx: Context, rule: Rule, results: list[SampleResult]) -> Iterator[str]:
        raise NotImplementedError


class DirectoryLint(Lint):
    def check(self, ctx: Context, top: Path) -> Iterator[str]:
        raise NotImplementedError


# -- vendors -----------------------------------------------------------------------------------


class MalformedIdentifier(VendorLint):
    name = "malformed identifier"
    recommendation = ("Write USB and PCI ids as 4 lowercase hex digits, OUIs as AA:BB:CC[/NN], "
                      "CPE vendors as NVD writes them (lower case, e.g. dahuasecurity)")

    def check(self, ctx: Context, vendor: Vendor) -> Iterator[str]:
        for key, pattern in (("usb_ids", _HEX16), ("pci_ids", _HEX16), ("ouis", _OUI),
                             ("cpe_vendors", _CPE_VENDOR)):
            for fact in getattr(vendor, key):
                if not pattern.match(fact.value):
                    yield f"{vendor.path}: {key} {fact.value!r} is malformed"


class UnknownCitation(VendorLint):
    name = "citation of an unknown source"
    recommendation = "Cite in ownership and notes only [keys] of this file's sources"

    def check(self, ctx: Context, vendor: Vendor) -> Iterator[str]:
        for key in ("ownership", "notes"):
            for ref in _CITE.findall(getattr(vendor, key)):
                if ref not in vendor.sources:
                    yield f"{vendor.path}: {key} cites [{ref}], which is not in sources"


class UnknownEcosystem(VendorLint):
    name = "unknown namespace ecosystem"
    recommendation = f"Use namespaces of {', '.join(sorted(NAMESPACE_ECOSYSTEMS))}"

    def check(self, ctx: Context, vendor: Vendor) -> Iterator[str]:
        unknown = set(vendor.namespaces) - NAMESPACE_ECOSYSTEMS
        if unknown:
            yield f"{vendor.path}: unknown namespace ecosystems {sorted(unknown)}"


class UnsourcedCountry(VendorLint):
    name = "country without a source"
    recommendation = "Add country_source: the key of the source that gives the country"

    def check(self, ctx: Context, vendor: Vendor) -> Iterator[str]:
        if vendor.country and not vendor.country_source:
            yield f"{vendor.path}: country needs country_source (a key of sources)"


class UnsourcedParent(VendorLint):
    name = "parent without a source"
    recommendation = "Add parent_source: the key of the source that gives the parent"

    def check(self, ctx: Context, vendor: Vendor) -> Iterator[str]:
        if vendor.parent and not vendor.parent_source:
            yield f"{vendor.path}: parent needs parent_source (a key of sources)"


class DuplicateOui(VendorLint):
    name = "OUI listed twice"
    recommendation = "List each OUI once"

    def check(self, ctx: Context, vendor: Vendor) -> Iterator[str]:
        seen = Counter(f.value for f in vendor.ouis)
        yield from (f"{vendor.path}: OUI {v} listed twice" for v, n in seen.items() if n > 1)


# -- rules -------------------------------------------------------------------------------------


def _strings_block(rule: Rule) -> str:
    text = rule.path.read_text(encoding="utf-8")
    return text.split("strings:", 1)[-1].split("condition:", 1)[0] if "strings:" in text else ""


class YaraProblem(RuleLint):
    name = "YARA error or warning"
    recommendation = "Fix the rule until it compiles alone without a YARA warning"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        try:
            error = _yara_error(rule.id, rule.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            error = str(exc)
        if error is not None:
            yield f"{rule.path}: YARA: {error}"


@functools.lru_cache(maxsize=1024)
def _yara_error(rule_id: str, source: str) -> str | None:
    """The error or warning of one rule compiled alone, by its text: a lint run compiles every
    rule again, and the same text always gives the same answer (once per process)."""
    import yara

    try:
        compile_yara({rule_id: source}, strict=True)
    except yara.Error as exc:  # errors, and warnings
        return str(exc)
    return None


class ShortString(RuleLint):
    name = "short string"
    recommendation = f"Match text of at least {MIN_STRING_BYTES} bytes: shorter fires anywhere"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        for raw in _TEXT_STRING.findall(_strings_block(rule)):
            if len(re.sub(r"\\x[0-9a-fA-F]{2}|\\.", "_", raw)) < MIN_STRING_BYTES:
                yield f"{rule.path}: string {raw!r} is shorter than {MIN_STRING_BYTES} bytes"


class LeadingWildcard(RuleLint):
    name = "regex with a leading wildcard"
    recommendation = "Anchor the regex on literal bytes: a leading wildcard scans slowly"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        for raw in _REGEX_STRING.findall(_strings_block(rule)):
            if _LEADING_WILDCARD.match(raw):
                yield f"{rule.path}: regex /{raw}/ starts with a wildcard (slow scan)"


class RuleOutsideVendorFolder(RuleLint):
    name = "rule outside its vendor's folder"
    recommendation = "Move the rule to yara/<vendor>/"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        if rule.path.parent.name != rule.vendor:
            yield f"{rule.path}: must live in yara/{rule.vendor}/ (its vendor)"


class WeakRuleTooConfident(RuleLint):
    name = "weak rule too confident"
    recommendation = f"Give a weak (name-only) rule a confidence <= {WEAK_MAX_CONFIDENCE}"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        if rule.weak and rule.confidence > WEAK_MAX_CONFIDENCE:
            yield f"{rule.path}: a weak rule's confidence must be <= {WEAK_MAX_CONFIDENCE}"


class WeakRuleStrongRelationship(RuleLint):
    name = "weak rule with a strong relationship"
    recommendation = f"A weak rule claims only {', '.join(sorted(WEAK_RELATIONSHIPS))}"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        if rule.weak and rule.relationship not in WEAK_RELATIONSHIPS:
            yield f"{rule.path}: a weak rule cannot claim {rule.relationship}"


class BadVersionRegex(RuleLint):
    name = "version_regex does not compile"
    recommendation = "Write version_regex as a Python regular expression"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        if rule.version_regex:
            try:
                re.compile(rule.version_regex)
            except re.error as exc:
                yield f"{rule.path}: version_regex: {exc}"


class BadSampleSpec(RuleLint):
    name = "sample spec does not build"
    recommendation = "Fix the parts of <rule>.samples.yml (see signatureset/samples.py)"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        found = ctx.samples(rule)
        if isinstance(found, SpecError):
            yield str(found)


class MissingSamples(RuleLint):
    name = "no samples"
    recommendation = f"Add <rule>{SAMPLE_SPEC_SUFFIX} beside the rule"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        if not _has_samples(ctx, rule):
            yield f"{rule.path}: no samples: add {samples_mod.spec_path(rule).name} beside it"


class MissingPositive(RuleLint):
    name = "no positive sample"
    recommendation = "Add a positive-* sample: bytes the rule must fire on"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        found = ctx.samples(rule)
        if isinstance(found, list) and _has_samples(ctx, rule) and not any(
                s.positive for s in found):
            yield f"{rule.id}: no positive sample (positive-*)"


class MissingNegative(RuleLint):
    name = "no near-miss negative sample"
    recommendation = "Add a negative-* sample: a near miss the rule must not fire on"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        found = ctx.samples(rule)
        if isinstance(found, list) and _has_samples(ctx, rule) and all(s.positive for s in found):
            yield f"{rule.id}: no near-miss negative sample (negative-*)"


def _has_samples(ctx: Context, rule: Rule) -> bool:
    """A spec or a sample folder (a rule with neither is reported once, by `MissingSamples`)."""
    return samples_mod.spec_path(rule).is_file() or (
        samples_mod.sample_dir(ctx.sigset, rule) is not None)


class ExecutableSample(RuleLint):
    name = "executable sample file"
    recommendation = "chmod a-x the sample file"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        for path in _sample_files(ctx, rule):
            if path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
                yield f"{path}: a sample must not be executable"


class OversizedSample(RuleLint):
    name = "oversized sample file"
    recommendation = f"Keep a sample under {MAX_SAMPLE_BYTES} bytes: the smallest that shows it"

    def check(self, ctx: Context, rule: Rule) -> Iterator[str]:
        for path in _sample_files(ctx, rule):
            if path.stat().st_size > MAX_SAMPLE_BYTES:
                yield f"{path}: a sample must stay under {MAX_SAMPLE_BYTES} bytes"


def _sample_files(ctx: Context, rule: Rule) -> list[Path]:
    folder = samples_mod.sample_dir(ctx.sigset, rule)
    return samples_mod.sample_files(folder) if folder is not None else []


# -- samples against the compiled set ----------------------------------------------------------


class MissesPositive(SampleLint):
    name = "rule misses its positive"
    recommendation = "Fix the rule or the positive sample: the rule must fire on it"

    def check(self, ctx: Context, rule: Rule, results: list[SampleResult]) -> Iterator[str]:
        for r in results:
            if r.expected and not r.ok:
                yield f"{rule.id}: misses its positive {r.sample.name}"


class FiresOnNegative(SampleLint):
    name = "rule fires on its negative"
    recommendation = "Tighten the rule: it must not fire on its near miss"

    def check(self, ctx: Context, rule: Rule, results: list[SampleResult]) -> Iterator[str]:
        for r in results:
            if not r.expected and rule.id in r.fired:
                yield f"{rule.id}: fires on its negative {r.sample.name}"


class FalseFriendFires(SampleLint):
    name = "a rule fires on a false friend"
    recommendation = "Tighten the rules named: no rule may fire on a negative-falsefriend-*"

    def check(self, ctx: Context, rule: Rule, results: list[SampleResult]) -> Iterator[str]:
        for r in results:
            if not r.ok and not r.expected and rule.id not in r.fired:
                yield f"{rule.id}: false friend fires {', '.join(r.fired)} {r.sample.name}"


# -- directories -------------------------------------------------------------------------------


class OrphanSamples(DirectoryLint):
    name = "samples of an unknown rule"
    recommendation = "Remove them, or name them after the rule they test"

    def check(self, ctx: Context, top: Path) -> Iterator[str]:
        ids = {r.id for r in ctx.sigset.rules}
        yara_dir = top / "yara"
        specs = sorted(yara_dir.rglob(f"*{SAMPLE_SPEC_SUFFIX}")) if yara_dir.is_dir() else []
        for spec in specs:
            rule_id = spec.name.removesuffix(SAMPLE_SPEC_SUFFIX)
            if not (spec.parent / f"{rule_id}.yar").is_file() or rule_id not in ids:
                yield f"{spec}: samples for unknown rule {rule_id}"
        for folder in _sample_folders(top):
            if folder.name not in ids:
                yield f"{folder}: samples for unknown rule {folder.name}"


class MisnamedSample(DirectoryLint):
    name = "misnamed sample"
    recommendation = "Name samples positive-<what> or negative-<what> (negative-falsefriend-*)"

    def check(self, ctx: Context, top: Path) -> Iterator[str]:
        for rule in ctx.sigset.rules:
            found = ctx.samples(rule)
            if samples_mod.top_of(ctx.sigset, rule) != top or not isinstance(found, list):
                continue
            for sample in found:
                if sample.origin.suffix != ".bin" and not SAMPLE_NAME.match(
                        sample.name.removesuffix(".bin")):
                    yield (f"{sample.origin}: {sample.name.removesuffix('.bin')}: samples are "
                           "named positive-* or negative-*")
        for folder in _sample_folders(top):
            for path in sorted(folder.iterdir()):
                if not re.match(r"^(positive|negative)-[\w.-]+\.bin$", path.name):
                    yield f"{path}: samples are named positive-*.bin or negative-*.bin"


def _sample_folders(top: Path) -> list[Path]:
    root = top / "samples"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._")


# -- the registry and the run ------------------------------------------------------------------

LINTS: tuple[Lint, ...] = (
    MalformedIdentifier(), UnknownCitation(), UnknownEcosystem(), UnsourcedCountry(),
    UnsourcedParent(), DuplicateOui(),
    YaraProblem(), ShortString(), LeadingWildcard(), RuleOutsideVendorFolder(),
    WeakRuleTooConfident(), WeakRuleStrongRelationship(), BadVersionRegex(), BadSampleSpec(),
    MissingSamples(), MissingPositive(), MissingNegative(), ExecutableSample(), OversizedSample(),
    OrphanSamples(), MisnamedSample(),
    MissesPositive(), FiresOnNegative(), FalseFriendFires(),
)


def run_lints(sigset: SignatureSet, lints: Sequence[Lint] = LINTS) -> list[Violation]:
    """Every violation in `sigset`: vendors, then rules, then directories, then samples."""
    ctx = Context(sigset)
    out: list[Violation] = []
    for vendor in sigset.vendors.values():
        for lint in lints:
            if isinstance(lint, VendorLint):
                out += [Violation(lint, m) for m in lint.check(ctx, vendor)]
    for rule in sigset.rules:
        for lint in lints:
            if isinstance(lint, RuleLint):
                out += [Violation(lint, m) for m in lint.check(ctx, rule)]
    for top in sigset.directories:
        for lint in lints:
            if isinstance(lint, DirectoryLint):
                out += [Violation(lint, m) for m in lint.check(ctx, top)]
    sample_lints = [lint for lint in lints if isinstance(lint, SampleLint)]
    if sample_lints and sigset.rules and not any(isinstance(v.lint, YaraProblem) for v in out):
        out += _sample_violations(ctx, sample_lints)
    return out


def _sample_violations(ctx: Context, lints: list[SampleLint]) -> list[Violation]:
    import yara

    try:
        compiled: Any = samples_mod.compiled_rules(ctx.sigset)
    except (yara.Error, OSError) as exc:  # each rule compiles alone, but not the set together
        return [Violation(YaraProblem(), f"YARA: the rules do not compile together: {exc}")]
    out = []
    for rule in ctx.sigset.rules:
        found = ctx.samples(rule)
        if not isinstance(found, list):
            continue
        results = samples_mod.run(compiled, found)
        for lint in lints:
            out += [Violation(lint, m) for m in lint.check(ctx, rule, results)]
    return out


class SchemaError(Lint):
    """Not a check of its own: how `lint` reports a set that `load()` refuses."""

    name = "signature set does not load"
    recommendation = "Fix the file named: the set cannot be read until it loads"


def lint(sigset_dirs: Sequence[Path] = ()) -> list[Violation]:
    """Every problem of the built-in set plus `sigset_dirs`; no FAIL among them means valid."""
    try:
        sigset = load(tuple(Path(d) for d in sigset_dirs))
    except SignatureError as exc:  # the hard schema: closed meta, unique ids, references
        return [Violation(SchemaError(), str(exc))]
    return run_lints(sigset)
