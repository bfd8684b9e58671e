"""The command line: the typer app, its commands (one module each in provenance/commands/,
with their shared options in commands/common.py) and `main`. Only the CLI prints or exits.

Exit codes (DESIGN §7): 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage
error; 3 no verdict possible (input unreadable, signature set invalid).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperArgument, TyperOption

from provenance import __version__
from provenance.commands.common import EXIT_NO_VERDICT, EXIT_OK
from provenance.commands.config import ConfiguredCommand
from provenance.report.terminal import printable

app = typer.Typer(
    name="provenance",
    help="Who made each part of a firmware image, installer or package, how sure we are, "
    "and whether any of it falls under a restricted-origin list.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        print(f"provenance {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    """provenance: a firmware and software-package provenance auditor."""


class _Command(ConfiguredCommand):
    """A command whose options show readable metavars (`PATH`, `N`, `a|b`) instead of the
    Python types typer prints (`<list[Path]>`, `<bool>`); flags show none. Its options also
    come from PROVENANCE_* variables and the config file (commands/config.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption) and param.metavar is None:
                param.metavar = _metavar(param)
            elif isinstance(param, TyperArgument) and param.metavar is None:
                param.metavar = (param.name or "arg").upper()

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


def _metavar(option: TyperOption) -> str:
    if option.is_flag:
        return ""
    kind = option.type_descriptor
    if kind.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in kind.choices or ())
    if kind.is_path:
        return "PATH"
    base = get_args(kind.annotation)[0] if kind.is_list else kind.annotation
    return {int: "N", float: "NUM"}.get(base, "TEXT")


def _register_commands() -> None:
    # Sub-commands live in provenance/commands/, one module each, registered explicitly here.
    from provenance.commands import config, enrich, fleet, policies, render, scan, signatures

    app.command("scan", cls=_Command)(scan.scan)
    app.command("render", cls=_Command, help="Re-render a saved CycloneDX report (html, "
                "sarif, table, markdown, cyclonedx-xml...) without rescanning.")(render.render)
    app.command("enrich", cls=_Command, help="Add makers and restricted-origin flags to an "
                "existing SBOM (CycloneDX 1.2-1.6, SPDX 2.2/2.3, SPDX 3.0 best effort).")(
        enrich.enrich_command)
    app.command("fleet", cls=_Command, help="Scan many images (a directory of images or a list "
                "file): one CycloneDX report each plus a fleet summary; optionally on a Dask "
                "cluster.")(fleet.fleet)
    app.add_typer(policies.app, name="policies")
    app.add_typer(signatures.app, name="signatures")
    app.add_typer(config.app, name="config")


_register_commands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # last resort: one line, not a traceback
        if os.environ.get("PROVENANCE_DEBUG"):
            raise
        err.print(Text.assemble(("internal error:", "bold red"),
                                f" {type(exc).__name__}: {printable(exc)}"))
        sys.exit(EXIT_NO_VERDICT)


if __name__ == "__main__":
    main()
