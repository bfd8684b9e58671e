"""The bounded text sample parts inference reads from each blob.

A text file (a script, a udev rule, a config, a boot log): its first `TEXT_HEAD` bytes decoded
as UTF-8 with replacement, so line numbers in evidence are the file's own.

A binary: printable ASCII runs of at least `MIN_RUN` characters from its first `SCAN_LIMIT`
bytes, one run per line, at most `SAMPLE_LIMIT` characters, as `strings` prints them, but only
the runs parts inference can use, because every binary of an image passes through here:
- a U-Boot image or environment (it holds `U-Boot` or `bootcmd=`): all its runs, since banner
  lines (`CPU : ZX279128S`) stand alone;
- any other binary: the runs holding one of the catalog's anchors (`_MPP_V` of an SDK version
  string), found with a byte search, not a regex over the whole file.
Pure functions over bytes: the pipeline reads the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from provenance.model import Facts
from provenance.parts.model import BlobView

TEXT_HEAD = 256 << 10  # scripts and configs that select parts are small; a log's head suffices
SCAN_LIMIT = 16 << 20  # U-Boot, libraries and modules keep their strings well inside this
SAMPLE_LIMIT = 1 << 20  # characters kept from one binary
MIN_RUN = 5
MAX_ANCHOR_HITS = 64  # runs kept per anchor
MAX_RUN = 4096  # characters kept either side of an anchor
U_BOOT_MARKS = (b"U-Boot", b"bootcmd=")
RUN = re.compile(rb"[\x20-\x7e\t]{%d,}" % MIN_RUN)
PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09}


def is_text(head: bytes) -> bool:
    """Text, not a binary: no NUL and few control bytes in the head (as identify decides)."""
    if not head or b"\0" in head:
        return False
    control = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B))
    return control * 100 <= len(head)


def text_sample(data: bytes | memoryview, textual: bool | None = None,
                anchors: Sequence[str] | None = None) -> tuple[str, bool]:
    """(sample, textual) for one blob's bytes. `textual` None: decided from the first 4 KiB.
    `anchors` None: the built-in catalog's (`Catalog.anchors`)."""
    if textual is None:
        textual = is_text(bytes(data[:4096]))
    if textual:
        return bytes(data[:TEXT_HEAD]).decode("utf-8", "replace"), True
    head = bytes(data[:SCAN_LIMIT])
    if any(mark in head for mark in U_BOOT_MARKS):
        return _all_runs(head), False
    if anchors is None:
        from provenance.parts.catalog import builtin

        anchors = builtin().anchors()
    return _anchored_runs(head, anchors), False


def _all_runs(head: bytes) -> str:
    out: list[str] = []
    size = 0
    for match in RUN.finditer(head):
        out.append(match.group(0).decode("ascii"))
        size += len(out[-1]) + 1
        if size >= SAMPLE_LIMIT:
            break
    return "\n".join(out)[:SAMPLE_LIMIT]


def _anchored_runs(head: bytes, anchors: Sequence[str]) -> str:
    """The printable runs around each case-insensitive occurrence of an anchor."""
    lower = head.lower() if anchors else b""
    spans: dict[int, int] = {}
    for anchor in anchors:
        needle = anchor.lower().encode("ascii")
        at = lower.find(needle)
        hits = 0
        while at >= 0 and hits < MAX_ANCHOR_HITS:
            start, end = at, at + len(needle)
            low, high = max(0, at - MAX_RUN), min(len(head), end + MAX_RUN)
            while start > low and head[start - 1] in PRINTABLE:
                start -= 1
            while end < high and head[end] in PRINTABLE:
                end += 1
            if end - start >= MIN_RUN:
                spans[start] = end
            hits += 1
            at = lower.find(needle, end)
    out = [head[s:e].decode("ascii") for s, e in sorted(spans.items())]
    return "\n".join(out)[:SAMPLE_LIMIT]


def blob_view(location: str, facts: Facts, data: bytes | memoryview,
              textual: bool | None = None) -> BlobView:
    """The BlobView of one blob from its bytes (a leaf: a file, not a container)."""
    sample, is_textual = text_sample(data, textual)
    return BlobView(location, facts, sample, is_textual)


# -- choosing the blobs to sample -----------------------------------------------------------------

RULE = "parts__anchors"  # the generated YARA rule: a binary worth a text sample
# text under these folders documents software; it selects no part of the device
DOC_DIRS = ("usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/",
            "usr/include/", "usr/share/licenses/")
TEXT_MAX = 1 << 20  # a text file larger than this is a log or data dump, not a config


def yara_source(anchors: Sequence[str]) -> str:
    """One YARA rule matching a binary that holds a catalog anchor or a U-Boot mark: only such
    binaries get a text sample (every blob is YARA-scanned anyway; reading them all again would
    double the cost of a large image)."""
    strings = [*(f'"{_quoted(a)}" nocase' for a in dict.fromkeys(anchors)),  # as text_sample
               *(f"{{ {mark.hex(' ').upper()} }}" for mark in U_BOOT_MARKS)]
    body = "\n".join(f"        $a{i} = {text}" for i, text in enumerate(strings))
    return (f"rule {RULE}\n{{\n    strings:\n{body}\n    condition:\n        any of them\n}}\n")


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def wanted(location: str, facts: Facts, rule_hits: Sequence[str], size: int) -> bool | None:
    """Whether a blob gets a text sample: True (a text file), False (a binary), None (no
    sample: its facts and name are all parts inference reads of it)."""
    if RULE in rule_hits:
        return False
    # the whole chain: `usr/share/doc/x/changelog.gz!/changelog` is documentation too (1,126
    # of the rootfs benchmark's 3,728 text samples were such changelogs, 40 KB each)
    if facts.first("content.type") == "text" and size <= TEXT_MAX \
            and not any(d in location for d in DOC_DIRS):
        return True
    return None

