"""The YARA edge: compile the rule set once per process, scan a file, return plain hits."""

from __future__ import annotations

import os
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
_saved: set[Path] = set()  # compiled-rule files known to be on disk


def compile_rules(sigset: SignatureSet, cache_dir: Path | None = None) -> Any:
    """Compiled rules for this signature set, once per process.

    With `cache_dir`, the compiled form is also kept on disk by signature digest and libyara
    version, so each pool worker loads it instead of compiling.
    """
    import yara

    saved = None
    if cache_dir is not None and sigset.rules:
        name = sigset.digest.removeprefix("sha256:")[:32]
        saved = cache_dir / f"rules-{name}-yara{yara.__version__}.yarc"
    cached = _compiled.get(sigset.digest)
    if sigset.digest in _compiled:
        if saved is not None and saved not in _saved:
            _save(cached, saved)
        return cached
    if not sigset.rules:
        _compiled[sigset.digest] = None
        return None
    if saved is not None:
        try:
            compiled = yara.load(filepath=str(saved))
            _compiled[sigset.digest] = compiled
            _saved.add(saved)
            return compiled
        except (yara.Error, OSError):
            pass  # absent, or from another build: compile and save again
    sources = {rule.id: str(rule.path) for rule in sigset.rules}
    try:
        compiled = yara.compile(filepaths=sources)
    except yara.Error as exc:
        raise SignatureError(f"YARA rules do not compile: {exc}") from exc
    if saved is not None:
        _save(compiled, saved)
    _compiled[sigset.digest] = compiled
    return compiled


def _save(compiled: Any, saved: Path) -> None:
    import yara

    _saved.add(saved)
    if saved.exists():
        return
    tmp = saved.with_name(f"{saved.name}.{os.getpid()}.tmp")
    try:
        saved.parent.mkdir(parents=True, exist_ok=True)
        compiled.save(str(tmp))
        tmp.replace(saved)  # atomic: a concurrent loader sees no file or a whole one
    except (yara.Error, OSError):
        tmp.unlink(missing_ok=True)


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
