"""The YARA edge: compile the rule set once per process, scan a file, return plain hits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.signatureset import SignatureError, SignatureSet

MAX_MATCHES_PER_RULE = 8  # evidence, not an index: a few offsets are enough


@dataclass(frozen=True, slots=True)
class StringMatch:
    identifier: str
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    matches: tuple[StringMatch, ...]


_compiled: dict[str, Any] = {}


def compile_rules(sigset: SignatureSet) -> Any:
    """Compiled rules for this signature set, compiled once per process."""
    cached = _compiled.get(sigset.digest)
    if cached is not None:
        return cached
    import yara

    sources = {rule.id: str(rule.path) for rule in sigset.rules}
    try:
        compiled = yara.compile(filepaths=sources) if sources else None
    except yara.Error as exc:
        raise SignatureError(f"YARA rules do not compile: {exc}") from exc
    _compiled[sigset.digest] = compiled
    return compiled


def _hits(matches: list[Any]) -> tuple[Hit, ...]:
    out = []
    for match in matches:
        found: list[StringMatch] = []
        for string in match.strings:
            for instance in string.instances[:MAX_MATCHES_PER_RULE]:
                found.append(StringMatch(string.identifier, instance.offset,
                                         bytes(instance.matched_data[:200])))
        found.sort(key=lambda m: m.offset)
        out.append(Hit(match.rule, tuple(found[:MAX_MATCHES_PER_RULE])))
    return tuple(sorted(out, key=lambda h: h.rule))


def scan_file(sigset: SignatureSet, path: Path, timeout: int = 60) -> tuple[Hit, ...]:
    rules = compile_rules(sigset)
    if rules is None:
        return ()
    return _hits(rules.match(filepath=str(path), timeout=timeout))


def scan_bytes(sigset: SignatureSet, data: bytes, timeout: int = 60) -> tuple[Hit, ...]:
    rules = compile_rules(sigset)
    if rules is None:
        return ()
    return _hits(rules.match(data=data, timeout=timeout))
