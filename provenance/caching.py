"""Where remembered results are kept and which build of the tool they are valid for.

Kept apart from the result cache (`pipeline.cache`) so that `provenance.direct` can tell both
without importing the pipeline: starting it is most of what a remembered scan costs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
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
        top = Path(__file__).resolve().parent  # the whole `provenance` package
        h = hashlib.sha256()
        versions = installed(PARSERS)
        for dist in PARSERS:
            if dist in versions:
                h.update(f"{dist}=={versions[dist]}\0".encode())
        for path in sorted(top.rglob("*.py")):
            h.update(path.relative_to(top).as_posix().encode() + b"\0")
            with contextlib.suppress(OSError):
                h.update(path.read_bytes())
        _tool_key = f"{__version__}+{h.hexdigest()[:16]}"
    return _tool_key


# the libraries whose upgrade can change a result (gzip's: only an error's wording)
PARSERS = ("lief", "yara-python", "dissect.squashfs", "isal")


def installed(names: tuple[str, ...]) -> dict[str, str]:
    """The version of each of these distributions that is installed, read from the name of its
    `.dist-info` directory, the first on sys.path, as importlib.metadata finds it. Not through
    importlib.metadata: importing it (and the e-mail parser it reads METADATA with) was 0.03 s
    of the 0.1 s that direct mode takes to answer."""
    wanted = {_normal(name): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listed = os.listdir(entry or ".")
        except OSError:
            continue
        for directory in listed:
            stem, dot, rest = directory.rpartition(".")
            if not dot or rest != "dist-info" or "-" not in stem:
                continue
            name, _, version = stem.partition("-")
            dist = wanted.get(_normal(name))
            if dist is not None and dist not in found:
                found[dist] = version
    return found


def _normal(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()
