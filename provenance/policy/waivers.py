"""Waivers: an approved, time-limited exception for a finding (`--waivers FILE`).

A waiver file is YAML or JSON: a list of waivers, or a mapping with a `waivers` list. Each
waiver names the components it covers (at least one of `purl`, `sha256`, `path`) and the vendor,
and carries a justification, an approver and an expiry date::

    waivers:
      - path: "fw.bin!/rootfs!/usr/lib/libmpi.so"   # fnmatch glob on the path chain
        vendor: hisilicon                            # the finding's vendor ("*" for any)
        policy: us-ndaa-889                          # optional: only findings from this list
        justification: "Lab unit, never deployed"
        approver: "J. Doe (security)"
        expires: 2026-12-31                          # last day the waiver applies

A purl without a version (`pkg:deb/debian/foo`) covers every version of that package. Applying
waivers is pure: a waived finding stays in the report with `waiver` set; `rollup` then ignores it,
so a waived finding does not count toward any verdict or the exit code. An expired waiver does
not apply, and the finding's rationale says "waiver expired on DATE".
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from provenance.model import Component, Finding

__all__ = ["Waiver", "WaiverError", "apply_waivers", "load_waivers", "parse_waivers"]

_KEYS = {"purl", "sha256", "path", "vendor", "policy", "justification", "approver", "expires"}


class WaiverError(ValueError):
    """The waiver file cannot be used: unreadable, malformed, or a waiver lacks a field."""


@dataclass(frozen=True, slots=True)
class Waiver:
    vendor: str
    justification: str
    approver: str
    expires: date
    purl: str | None = None
    sha256: str | None = None
    path: str | None = None
    policy: str | None = None

    def matches(self, finding: Finding, component: Component | None) -> bool:
        if self.vendor not in ("*", finding.vendor):
            return False
        if self.policy is not None and self.policy not in {e.policy for e in finding.entries}:
            return False
        if self.path is not None and fnmatch.fnmatchcase(finding.location, self.path):
            return True
        if component is None:
            return False
        if self.sha256 is not None and component.sha256.lower() == self.sha256:
            return True
        return self.purl is not None and component.purl is not None and _purl_matches(
            self.purl, component.purl)

    def describe(self) -> str:
        return (f"{self.justification} (approved by {self.approver}, "
                f"expires {self.expires.isoformat()})")


def _purl_matches(pattern: str, purl: str) -> bool:
    if pattern == purl:
        return True
    bare = purl.split("#", 1)[0].split("?", 1)[0]
    if pattern == bare:
        return True
    # A versionless pattern covers every version; "@" only separates the version in a purl.
    return "@" not in pattern and bare.split("@", 1)[0] == pattern


def _text(where: str, item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WaiverError(f"{where}: {key} is required and must be text")
    return value.strip()


def _one(where: str, item: object) -> Waiver:
    if not isinstance(item, dict):
        raise WaiverError(f"{where}: a waiver must be a mapping")
    unknown = set(item) - _KEYS
    if unknown:
        raise WaiverError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})")
    raw = item.get("expires")
    try:
        # YAML reads an unquoted 2026-12-31 as a date already; JSON gives text.
        expires = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        raise WaiverError(f"{where}: expires must be a date (YYYY-MM-DD), got {raw!r}") from None
    match = {k: item.get(k) for k in ("purl", "sha256", "path")}
    if not any(match.values()):
        raise WaiverError(f"{where}: give at least one of purl, sha256 or path")
    for key, value in match.items():
        if value is not None and not isinstance(value, str):
            raise WaiverError(f"{where}: {key} must be text")
    sha = match["sha256"]
    hexdigits = set("0123456789abcdef")
    if sha is not None and (len(sha) != 64 or not set(sha.lower()) <= hexdigits):
        raise WaiverError(f"{where}: sha256 must be 64 hex digits")
    policy = item.get("policy")
    return Waiver(
        vendor=_text(where, item, "vendor"),
        justification=_text(where, item, "justification"),
        approver=_text(where, item, "approver"),
        expires=expires,
        purl=match["purl"],
        sha256=sha.lower() if sha else None,
        path=match["path"],
        policy=str(policy) if policy else None,
    )


def parse_waivers(data: object, where: str = "waivers") -> tuple[Waiver, ...]:
    """Waivers from already-parsed YAML/JSON data."""
    if isinstance(data, dict) and set(data) == {"waivers"}:
        data = data["waivers"]
    if data is None:
        return ()
    if not isinstance(data, list):
        raise WaiverError(f"{where}: expected a list of waivers or a mapping with 'waivers'")
    return tuple(_one(f"{where}: waiver {i + 1}", item) for i, item in enumerate(data))


# A waiver file is a list of flat mappings: two levels, three with the `waivers` key. Deeper
# documents are refused before they are built (PyYAML builds them by recursion), and so are
# files far larger than any list of exceptions a person approves.
MAX_DEPTH = 16
MAX_FILE_BYTES = 16 << 20


def _nesting(text: str) -> int:
    """How deep the document's collections nest, read from the parser's events (the event
    parser keeps its own stack; only building the document recurses)."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return deepest


def load_waivers(path: Path) -> tuple[Waiver, ...]:
    """Read a YAML or JSON waiver file (JSON is YAML). Raises WaiverError on any problem."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise WaiverError(f"{path}: {size} bytes, over the {MAX_FILE_BYTES}-byte limit for "
                              "a waiver file")
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WaiverError(f"{path}: cannot read: {exc}") from None
    try:
        if _nesting(text) > MAX_DEPTH:
            raise WaiverError(f"{path}: nested more than {MAX_DEPTH} levels deep; a waiver file "
                              "is a list of flat mappings")
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WaiverError(f"{path}: not YAML or JSON: {_first_line(exc)}") from None
    except ValueError as exc:  # a YAML date that is no date (2027-02-30) fails as it is built
        raise WaiverError(f"{path}: not a valid date: {_first_line(exc)}") from None
    except RecursionError:  # aliases can still build deep data from a shallow text
        raise WaiverError(f"{path}: nested too deeply") from None
    return parse_waivers(data, str(path))


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def apply_waivers(
    findings: Iterable[Finding], components: Iterable[Component], waivers: Iterable[Waiver],
    today: date,
) -> tuple[Finding, ...]:
    """Mark the findings a waiver covers; note the ones only an expired waiver covered.

    The first live waiver that matches wins. Waived findings stay in the result, with
    `waiver` set; they must not count toward the exit code (`rollup` skips them).
    """
    by_ref = {c.ref: c for c in components}
    rules = tuple(waivers)
    out: list[Finding] = []
    for finding in findings:
        component = by_ref.get(finding.component)
        matching = [w for w in rules if w.matches(finding, component)]
        live = [w for w in matching if w.expires >= today]
        if live:
            out.append(dataclasses.replace(finding, waiver=live[0].describe()))
        elif matching:
            last = max(matching, key=lambda w: w.expires)
            note = (f"; waiver expired on {last.expires.isoformat()} "
                    f"({last.justification}, approved by {last.approver})")
            out.append(dataclasses.replace(finding, rationale=finding.rationale + note))
        else:
            out.append(finding)
    return tuple(out)
