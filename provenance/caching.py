"""Where remembered results are kept and which build of the tool they are valid for.

Kept apart from the result cache (`pipeline.cache`) so that `provenance.direct` can tell both
without importing the pipeline: starting it is most of what a remembered scan costs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from provenance import __version__


def default_dir() -> Path:
    """`$XDG_CACHE_HOME/provenance`, else `~/.cache/provenance`."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "provenance"


_tool_key: str | None = None


def tool_key() -> str:
    """The version plus a digest of the package source and of the parser libraries' versions:
    a code change or a LIEF/YARA upgrade invalidates what was remembered."""
    global _tool_key
    if _tool_key is None:
        from importlib import metadata

        top = Path(__file__).resolve().parent  # the whole `provenance` package
        h = hashlib.sha256()
        for dist in ("lief", "yara-python", "dissect.squashfs"):
            with contextlib.suppress(metadata.PackageNotFoundError):
                h.update(f"{dist}=={metadata.version(dist)}\0".encode())
        for path in sorted(top.rglob("*.py")):
            h.update(path.relative_to(top).as_posix().encode() + b"\0")
            with contextlib.suppress(OSError):
                h.update(path.read_bytes())
        _tool_key = f"{__version__}+{h.hexdigest()[:16]}"
    return _tool_key
