"""The one sanitiser for text that came from an input (names, paths, evidence) on its way to a
terminal or a line-oriented report. Pure.

A tar member named `ESC[2J … verdict: CLEAR` must not clear the screen or forge a verdict, and a
bidi override (U+202E) must not reorder what the reader sees: every character that is not
printable is shown as a visible escape instead.
"""

from __future__ import annotations


def printable(text: object) -> str:
    """One line of printable text: control, format (bidi), surrogate and other unprintable
    characters become visible escapes (`\\x1b`, `\\u202e`); newlines too, so one value stays
    one line."""
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)
