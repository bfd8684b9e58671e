"""The committed golden fixtures (see README.md here; `make.py` rebuilds them).

`manifest.json` maps a key (`extract/<format>/<case>` or `identify/<name>/<role>`) to the stored
file, its original name and SHA-256 and, for extraction, the members it must yield.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import random
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
STORE_RAW_MAX = 64 << 10  # larger images (mostly padding) are stored xz-compressed

# The tree the golden extraction fixtures hold: tests/extract_fixtures.TREE, smaller (its 70 KB
# random file would make every image over 64 KiB). The random file is the slice of TREE's around
# offset 30,000, where the damage tests (test_extract_hostile) cut it: they cut this one too.
GOLDEN_TREE: dict[str, bytes] = {
    "hello.txt": b"hello provenance\n",
    "bin/blob.bin": random.Random(7).randbytes(70_000)[28_500:31_500],
    "etc/config/settings.conf": b"key=value\n" * 300,
}


@cache
def manifest() -> dict[str, dict[str, Any]]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}


def entry(key: str) -> dict[str, Any] | None:
    return manifest().get(key)


def data(key: str) -> bytes:
    """The fixture's bytes as built (decompressed when stored .xz), checked against its hash."""
    found = manifest()[key]
    raw = (HERE / found["file"]).read_bytes()
    if found["file"].endswith(".xz"):
        raw = lzma.decompress(raw)
    if hashlib.sha256(raw).hexdigest() != found["sha256"]:
        raise AssertionError(f"golden fixture {found['file']} does not match its manifest")
    return raw


def materialize(key: str, where: Path) -> Path:
    """Write the fixture under `where` with the name its tool gave it; returns the path."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / manifest()[key]["name"]
    path.write_bytes(data(key))
    path.chmod(0o644)
    return path
