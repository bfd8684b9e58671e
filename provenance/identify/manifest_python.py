"""Python core metadata (METADATA in wheels, PKG-INFO in sdists and eggs, or a bare file)."""

from __future__ import annotations

import re
from pathlib import Path

from provenance.identify import manifest
from provenance.identify.base import MAX_MEMBER, Identifier, Sink
from provenance.model import Facts, Problem

NAMES = ("METADATA", "PKG-INFO")


def detect(head: bytes, name: str) -> bool:
    return name in NAMES and head.startswith(b"Metadata-Version:")


def parse(text: str, sink: Sink, at: str) -> tuple[str | None, str | None, str | None]:
    """Facts from core metadata; returns (name, version, supplier)."""
    fields = manifest.rfc822(text)

    def first(key: str) -> str | None:
        return fields[key][0] if fields.get(key) else None

    name = first("Name")
    version = first("Version")
    if not name:
        sink.problem("Python metadata without Name")
    sink.add("manifest.name", name, f"{at}#Name")
    sink.add("manifest.version", version, f"{at}#Version")
    author = manifest.person(sink, "author", first("Author"), f"{at}#Author")
    for mail in fields.get("Author-email", []):
        name_part = re.sub(r"<[^>]*>", "", mail).strip(' "')
        if name_part and "@" not in name_part and not author:
            author = name_part
            sink.add("manifest.author", name_part, f"{at}#Author-email")
        manifest.email(sink, "author", mail, f"{at}#Author-email")
    maint = manifest.person(sink, "maintainer", first("Maintainer"),
                            f"{at}#Maintainer")
    for mail in fields.get("Maintainer-email", []):
        manifest.email(sink, "maintainer", mail, f"{at}#Maintainer-email")
    for home in fields.get("Home-page", []):
        sink.add("manifest.homepage", home, f"{at}#Home-page")
    for url in fields.get("Project-URL", [])[:50]:
        label, _, link = url.partition(",")
        key = "repository" if re.search(r"source|repo|code|github", label, re.I) else "url"
        if label.strip().lower() in ("homepage", "home"):
            key = "homepage"
        sink.add(f"manifest.{key}", link.strip(), f"{at}#Project-URL")
    sink.add("manifest.license", first("License"), f"{at}#License")
    return name, version, author or maint


def facts_from(text: str, sink: Sink, at: str, fmt: str) -> tuple[Facts, tuple[Problem, ...]]:
    name, version, supplier = parse(text, sink, at)
    norm = re.sub(r"[-_.]+", "-", name).lower() if name else None
    return sink.result(fmt, name=name, version=version, supplier=supplier,
                       purl=manifest.purl("pypi", norm, version))


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    with open(path, "rb") as f:
        text = f.read(MAX_MEMBER).decode("utf-8", "replace")
    return facts_from(text, sink, "", "python-metadata")


IDENTIFIER = Identifier("python-metadata", detect, read)
ORDER = 120  # place in detection (identify/__init__.py): lower is tried first
