"""What every package-manifest reader shares: people ("Name <mail>"), e-mail domains, purls."""

from __future__ import annotations

import re

from provenance.identify.base import Sink, clean

EMAIL = re.compile(r"[\w.+-]{1,64}@([\w-]{1,63}(?:\.[\w-]{1,63})+)")
PERSON = re.compile(r"^\s*([^<(]*?)\s*(?:<([^>]*)>)?\s*(?:\(([^)]*)\))?\s*$")


def person(sink: Sink, role: str, text: str | None, at: str) -> str | None:
    """`manifest.<role>` (name), `manifest.<role>_email` and `manifest.email_domain` facts."""
    text = clean(text)
    if not text:
        return None
    found = PERSON.match(text)
    name, mail = (found.group(1), found.group(2)) if found else (text, None)
    if not mail and EMAIL.fullmatch(name or ""):
        name, mail = "", name
    if name:
        sink.add(f"manifest.{role}", name, at)
    if mail:
        email(sink, role, mail, at)
    return name or mail


def email(sink: Sink, role: str, text: str | None, at: str) -> None:
    for part in clean(text).split(","):
        part = part.strip().strip("<>")
        match = EMAIL.search(part)
        if match:
            sink.add(f"manifest.{role}_email", match.group(0), at)
            sink.add("manifest.email_domain", match.group(1).lower(), at)


def purl(kind: str, name: str | None, version: str | None, namespace: str | None = None,
         qualifiers: dict[str, str] | None = None) -> str | None:
    """A package-url string, or None when the name is missing or unusable."""
    if not name:
        return None
    from packageurl import PackageURL

    try:
        return str(PackageURL(type=kind, namespace=namespace or None, name=name,
                              version=version or None, qualifiers=qualifiers or None).to_string())
    except Exception:  # hostile names packageurl refuses
        return None


def rfc822(text: str, limit: int = 2000) -> dict[str, list[str]]:
    """Headers of an RFC 822-style block (METADATA, PKG-INFO, control): repeated keys kept,
    continuation lines folded; stops at the first blank line."""
    fields: dict[str, list[str]] = {}
    last: str | None = None
    for count, line in enumerate(text.splitlines()):
        if count >= limit or not line.strip():
            break
        if line[0] in " \t" and last is not None:
            fields[last][-1] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = key.strip()
        fields.setdefault(last, []).append(value.strip())
    return fields
