"""The one place YARA source becomes compiled rules.

Scanning (`attribute/yara_scan.compile_rules`, which adds the marks generated from the vendor
files and keeps the result on disk), `signatures lint` (each rule alone, warnings as errors) and
the sample tests all compile here, so a rule means the same thing on every path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def compile_yara(sources: Mapping[str, str], *, strict: bool = False) -> Any:
    """Compile namespace -> YARA source. `strict` turns YARA warnings (a slow or always-true
    string, ...) into errors. Raises `yara.Error`; the callers word the message."""
    import yara  # imported late: loading a signature set must not need libyara

    return yara.compile(sources=dict(sources), error_on_warning=strict)
