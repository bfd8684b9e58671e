"""What every command shares: the exit codes of DESIGN §7, the --fail-on levels, one-line errors."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NO_VERDICT = 0, 1, 2, 3


class FailOn(StrEnum):
    restricted = "restricted"
    review = "review"
    never = "never"


def fail(message: str, code: int) -> typer.Exit:
    """Print a one-line error and give the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg="red")
    return typer.Exit(code)


def write_output(text: str, dest: Path | None) -> None:
    """Write a report to `dest`, or to stdout for None or "-"; a failed write is exit code 3."""
    if dest is None or str(dest) == "-":
        sys.stdout.write(text)
        return
    try:
        dest.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {dest}: {exc.strerror}", EXIT_NO_VERDICT) from None
