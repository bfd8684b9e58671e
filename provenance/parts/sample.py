"""The bounded text sample parts inference reads from each blob.

A text file (a script, a udev rule, a config, a boot log): its first `TEXT_HEAD` bytes decoded
as UTF-8 with replacement, so line numbers in evidence are the file's own. A binary (U-Boot, a
library, a kernel module, a firmware blob): the runs of at least `MIN_RUN` printable ASCII
characters in its first `SCAN_LIMIT` bytes, one run per line, up to `SAMPLE_LIMIT` characters,
as `strings` prints them. Pure functions over bytes: the pipeline reads the bytes.
"""

from __future__ import annotations

import re

TEXT_HEAD = 256 << 10  # scripts and configs that select parts are small; a log's head suffices
SCAN_LIMIT = 16 << 20  # U-Boot, libraries and modules keep their banners well inside this
SAMPLE_LIMIT = 1 << 20  # characters of printable runs kept from one binary
MIN_RUN = 5
RUN = re.compile(rb"[\x20-\x7e\t]{%d,}" % MIN_RUN)


def is_text(head: bytes) -> bool:
    """Text, not a binary: no NUL and few control bytes in the head (as identify decides)."""
    if not head or b"\0" in head:
        return False
    control = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B))
    return control * 100 <= len(head)


def text_sample(data: bytes | memoryview, textual: bool | None = None) -> tuple[str, bool]:
    """(sample, textual) for one blob's bytes. `textual` None: decided from the first 4 KiB."""
    if textual is None:
        textual = is_text(bytes(data[:4096]))
    if textual:
        return bytes(data[:TEXT_HEAD]).decode("utf-8", "replace"), True
    out: list[str] = []
    size = 0
    for match in RUN.finditer(data[:SCAN_LIMIT]):
        run = match.group(0).decode("ascii")
        out.append(run)
        size += len(run) + 1
        if size >= SAMPLE_LIMIT:
            break
    return "\n".join(out)[:SAMPLE_LIMIT], False
