"""Debian and opkg control files: bare, inside a .deb (ar) and inside an .ipk (ar or tar.gz)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from provenance.identify import manifest
from provenance.identify.base import MAX_MEMBER, Identifier, Sink
from provenance.model import Facts, Problem, ProblemKind

MAX_MEMBERS = 64


def detect(head: bytes, name: str) -> bool:
    if name == "control" and head.startswith(b"Package:"):
        return True
    return head.startswith(b"!<arch>\ndebian-binary") or (
        name.endswith(".ipk") and head.startswith((b"!<arch>\n", b"\x1f\x8b"))
    )


def parse(text: str, sink: Sink, at: str, kind: str) -> tuple[Facts, tuple[Problem, ...]]:
    fields = {k: v[0] for k, v in manifest.rfc822(text).items()}
    name, version = fields.get("Package"), fields.get("Version")
    if not name:
        sink.problem("control file without Package")
    for key in ("Package", "Version", "Architecture", "Source", "Homepage", "Vcs-Git",
                "Vcs-Browser", "Original-Maintainer"):
        if key in fields:
            fact = {"Package": "name", "Homepage": "homepage", "Vcs-Git": "repository",
                    "Vcs-Browser": "repository"}.get(key, key.lower().replace("-", "_"))
            sink.add(f"manifest.{fact}", fields[key], f"{at}#{key}")
    maintainer = manifest.person(sink, "maintainer", fields.get("Maintainer"), f"{at}#Maintainer")
    arch = fields.get("Architecture")
    quals = {"arch": arch} if arch else None
    purl = manifest.purl("deb" if kind == "deb" else "generic", name, version, None, quals)
    return sink.result(kind, name=name, version=version, supplier=maintainer, purl=purl)


def _control_from_tar(blob: bytes, sink: Sink) -> str | None:
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tf:
            for count, member in enumerate(tf):
                if count >= MAX_MEMBERS:
                    break
                if member.isfile() and member.name.lstrip("./") == "control":
                    handle = tf.extractfile(member)
                    if handle is not None:
                        return handle.read(MAX_MEMBER).decode("utf-8", "replace")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        sink.problem(f"control archive: {exc}")
    return None


def _ar_members(data: bytes, sink: Sink, size_on_disk: int | None = None) -> dict[str, bytes]:
    """Members of a System V ar archive (the .deb outer layer), from its first `len(data)`
    bytes. A member that runs past them but not past `size_on_disk` was cut by this bounded
    read, not by the file (a large data.tar.xz): it is kept partial, and no problem."""
    out: dict[str, bytes] = {}
    pos = 8
    while pos + 60 <= len(data) and len(out) < MAX_MEMBERS:
        header = data[pos : pos + 60]
        if header[58:60] != b"`\n":
            sink.problem(f"ar member header corrupt at 0x{pos:x}")
            break
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip() or "0")
        except ValueError:
            sink.problem(f"ar member size unreadable at 0x{pos:x}")
            break
        body = data[pos + 60 : pos + 60 + size]
        if len(body) < size:
            if size_on_disk is None or pos + 60 + size > size_on_disk:
                sink.problem(f"ar member {name} truncated", ProblemKind.TRUNCATED)
            out[name] = body
            break  # the rest lies past what was read
        out[name] = body
        pos += 60 + size + (size & 1)
    return out


def read(path: Path, where: str) -> tuple[Facts, tuple[Problem, ...]]:
    sink = Sink(where)
    kind = "ipk" if path.name.endswith(".ipk") or where.endswith(".ipk") else "deb"
    with open(path, "rb") as f:
        head = f.read(8)
        f.seek(0)
        if head.startswith(b"Package:"):
            return parse(f.read(MAX_MEMBER).decode("utf-8", "replace"), sink, "", kind)
        if head.startswith(b"!<arch>\n"):
            # control.tar.* comes before data.tar.*; read only as far as it goes
            members = _ar_members(f.read(MAX_MEMBER * 4), sink, path.stat().st_size)
        else:
            outer = f.read(MAX_MEMBER * 16)
            members = {}
            try:
                with tarfile.open(fileobj=io.BytesIO(outer), mode="r:gz") as tf:
                    for count, member in enumerate(tf):
                        if count >= MAX_MEMBERS:
                            break
                        base = member.name.lstrip("./")
                        if member.isfile() and base.startswith("control.tar"):
                            handle = tf.extractfile(member)
                            members[base] = handle.read(MAX_MEMBER) if handle else b""
                            break
            except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                sink.problem(f"ipk: {exc}")
    control = next((v for k, v in members.items() if k.startswith("control.tar")), None)
    if control is None:
        sink.problem("no control.tar member", ProblemKind.CORRUPT)
        return sink.result(kind)
    text = _control_from_tar(control, sink)
    if text is None:
        sink.problem("no control file in control.tar")
        return sink.result(kind)
    return parse(text, sink, "!/control.tar!/control", kind)


IDENTIFIER = Identifier("debian", detect, read, formats=frozenset({"deb", "ipk"}))
ORDER = 80  # place in detection (identify/__init__.py): lower is tried first
