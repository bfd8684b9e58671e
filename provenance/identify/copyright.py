"""Copyright statements in binaries (as strings) and sources, normalised to holder and years.

A statement counts only with a year or a (c)/© mark next to the word, so that licence prose
("the above copyright notice") is not mistaken for a holder. Bounded: the first MAX_SCAN bytes
and MAX_STATEMENTS distinct statements per blob.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from provenance.identify.base import Sink, at, clean

MAX_STATEMENTS = 50

# (c), the UTF-8 copyright sign, or its Latin-1 byte, which must not end a UTF-8 letter ("é"
# is C3 A9: "été 2019" in a French catalogue is no statement); each begins with a literal, so
# that alone it is searched as fast as a byte
LATIN1_MARK = rb"\xa9(?<![\x80-\xc1\xc3-\xf4]\xa9)"
_MARK = rb"(?:\([cC]\)|\xc2\xa9|" + LATIN1_MARK + rb")"
_YEAR_NEXT = rb"(?=[ \t]*(?:19|20)\d\d)"  # what a mark without the word needs after it
STATEMENT = re.compile(
    rb"(?:(?:Copyright|COPYRIGHT|copyright)(?:[ \t]*" + _MARK + rb")?|"
    + _MARK + _YEAR_NEXT + rb")"
    rb"[ \t:]*([\x20-\x7e\xc2-\xf4\x80-\xbf]{2,200})"
)
YEARS = re.compile(
    r"^(?:(?:19|20)\d\d(?:\s*[-–,/]\s*(?:(?:19|20)\d\d|present|now))*[\s,.]*)+", re.I
)
TRAILING_YEARS = re.compile(r"[\s,]+(?:19|20)\d\d(?:\s*[-–,]\s*(?:19|20)\d\d)*\.?$")
MARK_TEXT = re.compile(r"^\s*(?:\(c\)|©)\s*", re.I)
TAIL = re.compile(
    r"\s*(?:[,;]?\s*all\s+rights\s+reserved.*|\s+licensed\s+under.*|\s+<[^>]*>.*|\*/.*|\s+-->.*)$",
    re.I,
)
YEAR = re.compile(r"(?:19|20)\d\d")
ABBREV = re.compile(r"\b(?:Ltd|Inc|Co|Corp|Ltda|S\.A|B\.V|L\.P|A\.G|N\.V)\.$", re.I)


def normalise(text: str) -> tuple[str, str, bool]:
    """(holder, years, has_mark) from what follows the word "Copyright"."""
    rest = text.strip()
    marked = False
    for _ in range(3):
        stripped = MARK_TEXT.sub("", rest)
        marked = marked or stripped != rest
        rest = stripped
    found = YEARS.match(rest)
    years = ""
    if found:
        years = found.group(0)
        rest = rest[found.end() :]
    rest = MARK_TEXT.sub("", rest)
    rest = re.sub(r"^(?:by\s+)", "", rest, flags=re.I)
    rest = TAIL.sub("", rest)
    tail = TRAILING_YEARS.search(rest)  # "Huawei Technologies Co., Ltd. 2025"
    if tail and rest[: tail.start()].strip():
        years = years or tail.group(0)
        rest = rest[: tail.start()]
    holder = rest.strip(" \t,;:-\"'*#/")
    if holder.endswith(".") and not ABBREV.search(holder):
        holder = holder[:-1].rstrip()
    year_list = YEAR.findall(years)
    span = "-".join(dict.fromkeys([year_list[0], year_list[-1]])) if year_list else ""
    return holder, span, marked


# The words are found with bytes.find (memchr speed); the regex then runs only where they are.
# A regex alternation scanned over megabytes of binary is ~30x slower. Each has its anchor
# (`identify.anchors`): a blob without it is not searched for it.
WORDS = ((b"opyright", 1, "copyright"), (b"OPYRIGHT", 1, "copyright-upper"))
# A mark starts a statement of its own only before a year ("(c) 2019 Acme", "\xa9 2021"), so
# each mark is searched with its year (a literal-prefix search): a bare 0xA9 byte is
# everywhere in binaries, and ends the UTF-8 of accented letters (a French catalogue has
# thousands), and each of those was a failed match of the statement before. Two passes find
# the four marks: "(c)" and "(C)" in one, and the Latin-1 sign in the other, which finds the
# UTF-8 sign too (its second byte; its first, 0xC2, is no letter's lead byte the look-behind
# refuses). Four passes took 0.26 s of the rootfs benchmark's text, two take 0.15 s.
PAREN_C = re.compile(rb"\([cC]\)" + _YEAR_NEXT)
LATIN1_SIGN = re.compile(LATIN1_MARK + _YEAR_NEXT)
MAX_ANCHORS = 4000  # of each word and each mark, per blob
# literals without which a pass finds nothing, as YARA strings (`identify.anchors`); the
# Latin-1 sign has none: one byte, in most binaries
ANCHORS = {"copyright": ('"opyright"',), "copyright-upper": ('"OPYRIGHT"',),
           "paren-c": ('"(c)"', '"(C)"')}


def _candidates(data: bytes | Any, present: frozenset[str] | None = None
                ) -> list[re.Match[bytes]]:
    """The statements in `data`; `present`: the anchors it holds, when known."""
    starts: set[int] = set()
    for word, back, anchor in WORDS:
        if present is not None and anchor not in present:
            continue
        pos = data.find(word)
        count = 0
        while pos >= 0 and count < MAX_ANCHORS:
            starts.add(max(0, pos - back))
            count += 1
            pos = data.find(word, pos + 1)
    starts.update(_marks(data, present))
    statements: list[re.Match[bytes]] = []
    end = -1
    for start in sorted(starts):
        if start < end:
            continue  # inside a statement already taken
        match = STATEMENT.match(data, start)
        if match is not None:
            statements.append(match)
            end = match.end()
    return statements


def _marks(data: bytes | Any, present: frozenset[str] | None = None) -> Iterator[int]:
    """Where each mark followed by a year starts, the first MAX_ANCHORS of each mark."""
    counts = [0, 0]  # "(c)", "(C)"
    parens = PAREN_C.finditer(data) if present is None or "paren-c" in present else ()
    for found in parens:
        upper = data[found.start() + 1] == ord("C")
        if counts[upper] < MAX_ANCHORS:
            counts[upper] += 1
            yield found.start()
        elif counts[not upper] >= MAX_ANCHORS:
            break
    latin1 = utf8 = 0
    # memchr first: most texts hold no 0xA9 at all, and the regex's scan is 10x slower
    signs = LATIN1_SIGN.finditer(data) if data.find(b"\xa9") >= 0 else ()
    for found in signs:
        at = found.start()
        if latin1 < MAX_ANCHORS:
            latin1 += 1
            yield at
        if at and data[at - 1] == 0xC2 and utf8 < MAX_ANCHORS:  # "\xc2\xa9": the UTF-8 sign
            utf8 += 1
            yield at - 1
        if latin1 >= MAX_ANCHORS and utf8 >= MAX_ANCHORS:
            break


def scan(data: bytes | Any, sink: Sink, present: frozenset[str] | None = None) -> int:
    """`copyright.*` facts for the statements in `data`; returns how many were kept.
    `present`: the anchors `data` holds (`identify.anchors`), when known."""
    seen: set[str] = set()
    for match in _candidates(data, present):
        if len(seen) >= MAX_STATEMENTS:
            break
        raw = bytes(match.group(0)).decode("utf-8", "replace")
        body = bytes(match.group(1)).decode("utf-8", "replace")
        prefix_mark = bool(re.search(r"\(c\)|©", raw[: len(raw) - len(body)], re.I))
        holder, years, marked = normalise(body)
        if not (years or marked or prefix_mark):
            continue  # prose about copyright, not a statement
        if len(holder) < 2 or not re.search(r"[A-Za-z]{2}", holder) or holder.lower() in {
            "notice", "holders", "holder", "owner", "the", "and", "statement"
        }:
            continue
        text = clean(raw)
        if text in seen:
            continue
        seen.add(text)
        where = at(match.start())
        sink.add("copyright.text", text, where)
        sink.add("copyright.holder", holder, where)
        if years:
            sink.add("copyright.years", years, where)
    return len(seen)
