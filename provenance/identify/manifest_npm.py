"""npm package.json (bare, or `package/package.json` in an npm tarball)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provenance.identify import manifest
from provenance.identify.base import MAX_MEMBER, Identifier, Sink
from provenance.model import Facts, Problem


def detect(head: bytes, name: str) -> bool:
    return name == "package.json" and head.lstrip()[:1] == b"{"


def _text(value: Any, key: str = "url") -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get(key), str):
        return str(value[key])
    return None


def _person(sink: Sink, role: str, value: Any, at: str) -> str | None:
    if isinstance(value, dict):
        name = _text(value, "name")
        if name:
            sink.add(f"manifest.{role}", name, at)
        manifest.email(sink, role, _text(value, "email"), at)
        return name
    return manifest.person(sink, role, _text(value), at)


def facts_from(raw: bytes, sink: Sink, at: str) -> tuple[Facts, tuple[Problem, ...]]:
    try:
        doc = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        sink.problem(f"package.json: {exc}")
        return sink.result("npm")
    if not isinstance(doc, dict):
        sink.problem("package.json is not an object")
        return sink.result("npm")
    name, version = _text(doc.get("name"), ""), _text(doc.get("version"), "")
    sink.add("manifest.name", name, f"{at}#name")
    sink.add("manifest.version", version, f"{at}#version")
    author = _person(sink, "author", doc.get("author"), f"{at}#author")
    people = doc.get("maintainers")
    for item in people[:20] if isinstance(people, list) else []:
        _person(sink, "maintainer", item, f"{at}#maintainers")
    people = doc.get("contributors")
    for item in people[:20] if isinstance(people, list) else []:
        _person(sink, "contributor", item, f"{at}#contributors")
    sink.add("manifest.homepage", _text(doc.get("homepage")), f"{at}#homepage")
    sink.add("manifest.repository", _text(doc.get("repository")), f"{at}#repository")
    sink.add("manifest.bugs", _text(doc.get("bugs")), f"{at}#bugs")
    sink.add("manifest.publisher", _text(doc.get("publisher"), "name"), f"{at}#publisher")
    publisher = doc.get("_npmUser")
    sink.add("manifest.publisher", _text(publisher, "name"), f"{at}#_npmUser")
    sink.add("manifest.license", _text(doc.get("license"), "type"), f"{at}#license")
    namespace, short = None, name
    if name and name.startswith("@") and "/" in name:
        namespace, short = name.split("/", 1)
    return sink.result("npm", name=name, version=version, supplier=author,
                       purl=manifest.purl("npm", short, version, namespace))


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    with open(path, "rb") as f:
        return facts_from(f.read(MAX_MEMBER), Sink(where), "")


IDENTIFIER = Identifier("npm", detect, read)
ORDER = 130  # place in detection (identify/__init__.py): lower is tried first
