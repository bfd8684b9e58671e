"""The YARA edge: compile the rule set once per process, scan a file, return plain hits."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.identify import anchors
from provenance.model import pickled_by_fields
from provenance.parts.catalog import builtin as parts_catalog
from provenance.parts.sample import yara_source as parts_yara_source
from provenance.signatureset import SignatureError, SignatureSet
from provenance.signatureset.compile import compile_yara
from provenance.signatureset.marks import MARKS_PREFIX, yara_source

MAX_MATCHES_PER_RULE = 8  # evidence, not an index: a few offsets are enough
MAX_MARK_CONTEXTS = 64
MAX_MARK_INSTANCES = 4096
CONTEXT = 96  # bytes read either side of a mark to recover the string around it


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class StringMatch:
    identifier: str
    offset: int
    data: bytes


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    matches: tuple[StringMatch, ...]


_compiled: dict[str, Any] = {}
_saved: set[Path] = set()  # compiled-rule files known to be on disk


def compile_rules(sigset: SignatureSet, cache_dir: Path | None = None) -> Any:
    """Compiled rules for this signature set, once per process.

    With `cache_dir`, the compiled form is also kept on disk by signature digest, the rules
    generated here and libyara version, so each pool worker loads it instead of compiling.
    """
    import yara

    saved = None
    if cache_dir is not None and sigset.rules:
        saved = cache_dir / _saved_name(sigset)
    cached = _compiled.get(sigset.digest)
    if sigset.digest in _compiled:
        if saved is not None and saved not in _saved:
            _save(cached, saved)
        return cached
    generated = _generated(sigset)
    if not sigset.rules and "marks" not in generated:
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
    try:  # one compile: the rule files, and the rules generated here
        sources = {rule.id: rule.path.read_text(encoding="utf-8") for rule in sigset.rules}
        compiled = compile_yara({**sources, **generated})
    except (yara.Error, OSError) as exc:
        raise SignatureError(f"YARA rules do not compile: {exc}") from exc
    if saved is not None:
        _save(compiled, saved)
    _compiled[sigset.digest] = compiled
    return compiled


def _generated(sigset: SignatureSet) -> dict[str, str]:
    """The rules made here, by namespace: the marks of the vendor files (when there are any),
    which binaries get a parts text sample, and which passes of the content scanners can find
    anything (`identify.anchors`). Made once per process: the marks take 30 ms."""
    made = _made.get(sigset.digest)
    if made is None:
        marks = yara_source(sigset)
        made = _made[sigset.digest] = {
            **({"marks": marks} if marks else {}),
            "parts": parts_yara_source(parts_catalog().anchors()),
            "anchors": anchors.yara_source(),
        }
    return made


_made: dict[str, dict[str, str]] = {}


def _saved_name(sigset: SignatureSet) -> str:
    """The file of the compiled rules: the rules generated here change with the code, not the
    signature digest (a file compiled without the anchors would skip no pass, for ever)."""
    import yara

    made = hashlib.sha256("\0".join(_generated(sigset).values()).encode()).hexdigest()
    digest = sigset.digest.removeprefix("sha256:")[:32]
    return f"rules-{digest}-{made[:12]}-yara{yara.__version__}.yarc"


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


def _ascii(byte: int) -> bool:
    return 0x20 <= byte < 0x7F or byte == 0x09


def _context(data: bytes, start: int, end: int, encoding: str) -> bytes:
    """The string a mark sits in, as UTF-8: the printable run around [start, end), at most
    CONTEXT bytes either side, in the encoding the mark was found in (`ascii`, `wide` for
    UTF-16LE ASCII, `utf-8`, `utf-16le`, `utf-16be`, `gb18030`)."""
    lo, hi = max(0, start - CONTEXT), min(len(data), end + CONTEXT)
    window = bytes(data[lo:hi])
    s, e = start - lo, end - lo
    if encoding == "ascii" and window[s:e][1::2].count(0) == (e - s) // 2 and e - s >= 4:
        encoding = "wide"  # an `ascii wide` string that matched in its UTF-16LE form
    if encoding in ("wide", "utf-16le", "utf-16be"):
        codec = "utf-16be" if encoding == "utf-16be" else "utf-16le"

        def unit(i: int) -> bool:
            char = window[i : i + 2].decode(codec, "replace")
            return char.isprintable() and char != "\ufffd"
        while s >= 2 and unit(s - 2):
            s -= 2
        while e + 2 <= len(window) and unit(e):
            e += 2
        return window[s:e].decode(codec, "replace").encode()
    ok = _ascii if encoding == "ascii" else (lambda b: _ascii(b) or b >= 0x80)
    while s > 0 and ok(window[s - 1]):
        s -= 1
    while e < len(window) and ok(window[e]):
        e += 1
    return window[s:e].decode("utf-8" if encoding != "gb18030" else "gb18030",
                              "replace").encode()



def _mark_matches(match: Any, data: bytes) -> tuple[StringMatch, ...]:
    """Distinct strings around a mark's instances: their number is the evidence."""
    seen: dict[bytes, StringMatch] = {}
    count = 0
    for string in match.strings:
        for instance in string.instances:
            count += 1
            if count > MAX_MARK_INSTANCES or len(seen) >= MAX_MARK_CONTEXTS:
                break
            # marks strings are named by encoding: $ascii__0, $utf_8__1, $utf_16le__2
            encoding = string.identifier[1:].rsplit("__", 1)[0].replace("_", "-")
            text = _context(data, instance.offset, instance.offset + instance.matched_length,
                            encoding)
            seen.setdefault(text[:240], StringMatch(string.identifier, instance.offset,
                                                    text[:240]))
    return tuple(sorted(seen.values(), key=lambda m: m.offset))


def _hits(matches: list[Any], data: bytes | None = None) -> tuple[Hit, ...]:
    out = []
    for match in matches:
        if match.rule.startswith(anchors.PREFIX):  # read by `scanned`, no evidence
            continue
        if match.rule.startswith(MARKS_PREFIX) and data is not None:
            out.append(Hit(match.rule, _mark_matches(match, data)))
            continue
        found: list[StringMatch] = []
        for string in match.strings:
            for instance in string.instances[:MAX_MATCHES_PER_RULE]:
                found.append(StringMatch(string.identifier, instance.offset,
                                         bytes(instance.matched_data[:200])))
        found.sort(key=lambda m: m.offset)
        out.append(Hit(match.rule, tuple(found[:MAX_MATCHES_PER_RULE])))
    return tuple(sorted(out, key=lambda h: h.rule))


# a blob's hits, and the content scanners' anchors it holds (`identify.anchors`; None: unknown)
Scanned = tuple[tuple[Hit, ...], frozenset[str] | None]


def scanned_file(sigset: SignatureSet, path: Path, timeout: int = 60) -> Scanned:
    rules = compile_rules(sigset)
    if rules is None:
        return (), None
    import mmap

    with open(path, "rb") as f:
        # YARA takes a path as UTF-8 text: a member name with an undecodable byte (a lone
        # surrogate) cannot be one, so such a file is read through its open descriptor
        name = str(path)
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            name = f"/proc/self/fd/{f.fileno()}"
        matches = rules.match(filepath=name, timeout=timeout)
        present = anchors.present(m.rule for m in matches)
        if not any(m.rule.startswith(MARKS_PREFIX) for m in matches) or not path.stat().st_size:
            return _hits(matches), present
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _hits(matches, data), present  # type: ignore[arg-type]  # slices like bytes


def scanned_bytes(sigset: SignatureSet, data: bytes, timeout: int = 60) -> Scanned:
    rules = compile_rules(sigset)
    if rules is None:
        return (), None
    matches = rules.match(data=data, timeout=timeout)
    return _hits(matches, data), anchors.present(m.rule for m in matches)


def scan_file(sigset: SignatureSet, path: Path, timeout: int = 60) -> tuple[Hit, ...]:
    return scanned_file(sigset, path, timeout)[0]


def scan_bytes(sigset: SignatureSet, data: bytes, timeout: int = 60) -> tuple[Hit, ...]:
    return scanned_bytes(sigset, data, timeout)[0]
