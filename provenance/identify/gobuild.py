"""Go build info (`\\xff Go buildinf:`), as Go 1.18+ binaries carry it inline: toolchain version,
main package path, main module and dependencies (bounded)."""

from __future__ import annotations

from provenance.identify.base import Sink
from provenance.model import ProblemKind

MAGIC = b"\xff Go buildinf:"
MAX_DEPS = 500


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("varint truncated")


def _string(data: bytes, pos: int) -> tuple[str, int]:
    length, pos = _uvarint(data, pos)
    if length > len(data) - pos:
        raise ValueError("string beyond the section")
    return data[pos : pos + length].decode("utf-8", "replace"), pos + length


def parse(data: bytes, sink: Sink, where: str) -> tuple[str | None, str | None]:
    """Facts `go.*` from a build-info blob starting with MAGIC; returns (module, version)."""
    if not data.startswith(MAGIC) or len(data) < 32:
        return None, None
    if not data[15] & 0x2:
        sink.problem("Go build info before Go 1.18 (pointer format) is not read",
                     ProblemKind.UNSUPPORTED)
        return None, None
    try:
        version, pos = _string(data, 32)
        modinfo, _ = _string(data, pos)
    except ValueError as exc:
        sink.problem(f"Go build info: {exc}", ProblemKind.TRUNCATED)
        return None, None
    sink.add("go.version", version, where)
    if len(modinfo) >= 33:
        modinfo = modinfo[16:-16]  # sentinels around the module text
    module = mod_version = None
    deps = 0
    for line in modinfo.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            sink.add("go.path", rest, where)
        elif kind == "mod" and fields[0]:
            module, mod_version = fields[0], fields[1] if len(fields) > 1 else None
            sink.add("go.module", f"{module}@{mod_version}" if mod_version else module, where)
        elif kind == "dep" and len(fields) >= 2 and deps < MAX_DEPS:
            deps += 1
            sink.add("go.dep", f"{fields[0]}@{fields[1]}", where)
    return module, mod_version
