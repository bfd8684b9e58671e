"""The command line: the typer app, its commands (one module each in provenance/commands/,
with their shared options in commands/common.py) and `main`. Only the CLI prints or exits.

Exit codes (DESIGN §7): 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage
error; 3 no verdict possible (input unreadable, signature set invalid); 130 interrupted.
Every error is one line on stderr (the README's error table; tests/test_cli_errors.py).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperArgument, TyperGroup, TyperOption

from provenance import __version__
from provenance.commands.common import EXIT_NO_VERDICT, EXIT_OK, EXIT_USAGE, fail
from provenance.commands.config import ConfiguredCommand
from provenance.report.terminal import printable

# click's exceptions, wherever this typer takes click from (recent typers carry their own copy)
_errors = sys.modules[typer.BadParameter.__module__]
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def _sigint(_signo: int, _frame: object) -> None:
    # a second Ctrl-C must not cut short the removal of the temporary tree the first one began
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


@contextmanager
def _one_interrupt() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt once, then is ignored until the command has unwound."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, _sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _stop_workers() -> None:
    """An interrupted scan leaves no worker processes running on behind it."""
    blobs = sys.modules.get("provenance.pipeline.blobs")
    if blobs is not None:
        blobs.stop_pool()


class _Group(TyperGroup):
    """The root command: every error a person can make on the command line is one line
    (`error: ...`) and exit 2, like the errors the commands report themselves, instead of
    click's usage block and box; `--help` stays as it is. Ctrl-C prints `interrupted` and
    exits 130, after the temporary tree has been removed on the way out."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False
        if not standalone:
            return super().main(*args, **kwargs)
        try:
            with _one_interrupt():
                code = super().main(*args, **kwargs)
        except _errors.ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help was shown
                sys.exit(exc.exit_code)
            where = exc.ctx.command_path if isinstance(exc, _errors.UsageError) and exc.ctx else ""
            hint = f" (see '{where} --help')" if where else ""
            message = " ".join(exc.format_message().split())
            # always 2: click's own code for some (1) would read as "findings" in CI
            sys.exit(fail(message + hint, EXIT_USAGE).exit_code)
        except typer.Abort:  # end of input at a prompt
            sys.exit(fail("aborted", EXIT_USAGE).exit_code)
        if code == EXIT_INTERRUPTED:  # typer's KeyboardInterrupt
            _stop_workers()
            err.print("interrupted")
        sys.exit(code if isinstance(code, int) else EXIT_OK)


app = typer.Typer(
    cls=_Group,
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
        app(prog_name="provenance")
    except KeyboardInterrupt:  # before or after a command ran
        _stop_workers()
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # last resort: one line, not a traceback
        if os.environ.get("PROVENANCE_DEBUG"):
            raise
        err.print(Text.assemble(("internal error:", "bold red"),
                                f" {type(exc).__name__}: {printable(exc)}"))
        sys.exit(EXIT_NO_VERDICT)


if __name__ == "__main__":
    main()
