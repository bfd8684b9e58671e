"""What every command shares: the exit codes of DESIGN §7, the --fail-on levels, one-line errors."""

from __future__ import annotations

from enum import StrEnum

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
