"""Identity marks as YARA: the `marks:` blocks of the vendor files (`signatures/vendors/*.yml`)
become one generated rule per vendor and mark kind, compiled with the rule files
(signatureset.compile). attribute/marks.py reads the hits of these rules in context.
"""

from __future__ import annotations

from dataclasses import dataclass

from provenance.signatureset import SignatureSet

MARKS_PREFIX = "marks__"  # generated rules are named marks__<vendor>__<kind>


@dataclass(frozen=True, slots=True)
class Mark:
    vendor: str
    kind: str
    values: tuple[str, ...]


def rule_name(vendor: str, kind: str) -> str:
    return f"{MARKS_PREFIX}{vendor.replace('-', '_')}__{kind}"


_marks_cache: dict[str, dict[str, Mark]] = {}


def marks_of(sigset: SignatureSet) -> dict[str, Mark]:
    """Generated rule name -> the vendor's marks of one kind (built once per signature set:
    attribution asks for every blob)."""
    if sigset.digest in _marks_cache:
        return _marks_cache[sigset.digest]
    out: dict[str, Mark] = {}
    for vendor in sigset.vendors.values():
        for kind, items in vendor.marks.items():
            if items:
                out[rule_name(vendor.id, kind)] = Mark(vendor.id, kind,
                                                       tuple(i.value for i in items))
        if vendor.domains:  # e-mail addresses and service hosts compiled into a file
            out[rule_name(vendor.id, "domains")] = Mark(
                vendor.id, "domains",
                tuple(d.value.lower().lstrip("@*.") for d in vendor.domains))
    _marks_cache[sigset.digest] = out
    return out


ENCODINGS = ("utf-8", "utf-16le", "utf-16be", "gb18030")


def _text(value: str, exact: bool = False) -> list[tuple[str, str]]:
    """(encoding, YARA string) for one literal, in every encoding a binary may carry it. The
    encoding names the string, so the scanner reads the text around a match in the right one."""
    if value.isascii():
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        if exact:
            return [("ascii", f'"{quoted}" ascii wide')]
        # any case; for short names _tokens() then keeps `g_zte_version`, not `ztest`
        return [("ascii", f'"{quoted}" ascii wide nocase')]
    out = []
    for encoding in ENCODINGS:
        try:
            raw = value.encode(encoding)
        except UnicodeEncodeError:
            continue
        out.append((encoding, "{ " + " ".join(f"{b:02X}" for b in raw) + " }"))
    return out


def _strings(kind: str, value: str) -> list[tuple[str, str]]:
    if kind == "cxx":  # Itanium (nested) name, MSVC decoration, demangled text
        return [("ascii", f'"{len(value)}{value}"'), ("ascii", f'"@{value}@"'),
                ("ascii", f'"{value}::"')]
    if kind == "java":  # class-file and dex internal names, source and reflection strings
        return [("ascii", '"' + value.replace(".", "/") + '/"'), ("ascii", f'"{value}."')]
    if kind == "module":  # a .NET namespace, Swift module or Objective-C class family as text
        return [("ascii", f'"{value}"')]
    if kind == "domains":
        return [("ascii", f'"{value}" ascii wide nocase')]
    if kind == "api":
        value = value.partition("|")[0]
    exact = kind in ("config", "build", "firmware", "api")
    if exact and len(value) > 2 and value.startswith("/") and value.endswith("/"):
        return [("ascii", value)]  # a regular expression (same syntax in YARA and Python)
    return _text(value, exact=exact)


def yara_source(sigset: SignatureSet) -> str:
    """One YARA rule per vendor and mark kind (`api` prefixes are read from symbol facts in
    binaries, and from these strings in source code and documents)."""
    rules = []
    for name, mark in sorted(marks_of(sigset).items()):
        defs = dict.fromkeys(s for value in mark.values for s in _strings(mark.kind, value))
        # named `$<codec>__<n>` (`utf_16le`): the scanner reads the text around a match in it
        body = "\n".join(f"        ${enc.replace('-', '_')}__{i} = {d}"
                         for i, (enc, d) in enumerate(defs))
        rules.append(f"rule {name}\n{{\n    strings:\n{body}\n    condition:\n"
                     f"        any of them\n}}\n")
    return "\n".join(rules)
