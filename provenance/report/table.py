"""The terminal summary as plain text (no colour, no terminal needed). Pure."""

from __future__ import annotations

import io

from rich.console import Console

from provenance.model import ScanResult
from provenance.report.summary import summary

WIDTH = 140


def render(result: ScanResult) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, color_system=None, force_terminal=False,
                      highlight=False, emoji=False, soft_wrap=False)
    console.print(summary(result))
    return buffer.getvalue()
