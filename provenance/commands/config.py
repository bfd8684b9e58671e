"""Configuration as Trivy, Grype and cve-bin-tool users know it: a file, environment variables
mirroring the flags, and `provenance config show`.

Every option of `scan`, `enrich`, `render` and `fleet` can be set three more ways than on the
command line; the first that sets it wins:

1. the flag (`--fail-on review`);
2. `PROVENANCE_<OPTION>`, the option's name upper-cased with `_` for `-`
   (`PROVENANCE_FAIL_ON=review`); a repeatable option takes several values separated by spaces
   (paths: by `:`), a flag takes 1/0, true/false, yes/no;
3. the config file, `provenance.toml` or `.provenance.yaml`: a flat mapping from option name
   (`fail-on` or `fail_on`) to value, found in the input's parent directory or the nearest one
   above it. The walk starts above the input, so a scanned directory never configures its own
   audit. Relative paths in it are relative to the file. A key that applies to no command,
   a value of the wrong type or a file both ways named in one directory is a one-line error,
   exit 2: the file is input like any other;
4. the default.

`ConfiguredCommand` does this for a command: it names each option's environment variable and,
once the command line and the environment are parsed, fills from the file what neither set.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from typer import _click as click  # the click typer runs on (vendored since typer 0.24)
from typer._click.core import ParameterSource
from typer._click.globals import get_current_context
from typer.core import TyperArgument, TyperCommand, TyperOption

from provenance.commands.common import EXIT_USAGE, fail
from provenance.report.terminal import printable

ENV_PREFIX = "PROVENANCE_"
FILE_NAMES = ("provenance.toml", ".provenance.yaml")
MAX_FILE_BYTES = 1 << 20  # a settings file, not data
_META = "provenance.config"  # ctx.meta key: the file the values came from

app = typer.Typer(help="The effective configuration: flags, PROVENANCE_* variables, "
                  "provenance.toml / .provenance.yaml, defaults.", no_args_is_help=True)


def env_name(param: click.Parameter) -> str:
    return ENV_PREFIX + (param.name or "").upper()


def _options(command: click.Command) -> list[TyperOption]:
    return [p for p in command.params if isinstance(p, TyperOption) and not p.is_eager
            and p.name]


class ConfiguredCommand(TyperCommand):
    """A command whose options also come from PROVENANCE_* variables and the config file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for option in _options(self):
            if option.envvar is None:
                option.envvar = env_name(option)
                option.show_envvar = True

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        apply_file(ctx)
        return rest


def _start(ctx: click.Context) -> Path:
    """Where the walk for a config file starts: the parent of the command's input (its first
    path argument), else the working directory."""
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if isinstance(param, TyperArgument) and isinstance(value, str | Path) \
                and str(value) != "-":
            return Path(value).absolute().parent
    return Path.cwd()


def find_config(start: Path, looked: list[Path] | None = None) -> Path | None:
    """The config file in `start` or the nearest directory above it; two in one directory are
    ambiguous (exit 2). `looked` gets every name looked for on the way, the found one too."""
    for directory in (start, *start.parents):
        candidates = [directory / n for n in FILE_NAMES]
        if looked is not None:
            looked.extend(candidates)
        try:
            found = [c for c in candidates if c.is_file()]
        except OSError:  # an unreadable directory on the way up holds no config for us
            continue
        if len(found) > 1:
            raise fail(f"both {found[0]} and {found[1]}: keep one config file", EXIT_USAGE)
        if found:
            return found[0]
    return None


def looked_for() -> list[Path]:
    """Every config file name the running command looked for, present or not (what a
    remembered scan depends on: `provenance.direct`)."""
    looked: list[Path] = []
    find_config(_start(get_current_context()), looked)
    return looked


def load_config(path: Path) -> dict[str, Any]:
    """The file's mapping, keys as option names (`fail_on`); unreadable or not a flat mapping
    is exit 2."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise fail(f"{path}: over {MAX_FILE_BYTES} bytes; a config file is a few settings",
                       EXIT_USAGE)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read: {exc}", EXIT_USAGE) from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, RecursionError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise fail(f"{path}: not {'TOML' if path.suffix == '.toml' else 'YAML'}: {first}",
                   EXIT_USAGE) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise fail(f"{path}: expected a mapping of option names to values", EXIT_USAGE)
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _configured(ctx: click.Context) -> dict[str, ConfiguredCommand]:
    """The configurable commands of the app `ctx` runs in (found from the root context, so
    this module needs no import of the CLI)."""
    root = ctx.find_root().command
    commands = getattr(root, "commands", None) or {root.name or "": root}
    return {n: c for n, c in commands.items() if isinstance(c, ConfiguredCommand)}


def known_options(ctx: click.Context) -> dict[str, set[str]]:
    """Every configurable option name, with the commands that have it."""
    out: dict[str, set[str]] = {}
    for name, command in _configured(ctx).items():
        for option in _options(command):
            out.setdefault(option.name or "", set()).add(name)
    return out


def _raw(key: str, value: Any, option: TyperOption, where: Path) -> Any:
    """The file's value as the command line would have given it: text, or a list of texts
    for a repeatable option; the wrong type is exit 2."""
    def scalar(v: Any) -> str:
        if isinstance(v, date):  # YAML reads 2026-12-31 as a date
            return v.isoformat()
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise fail(f"{where}: {key}: expected text or a number, got "
                       f"{type(v).__name__}", EXIT_USAGE)
        text = str(v)
        if option.type_descriptor.is_path and text and not Path(text).is_absolute():
            text = str(where.parent / text)  # relative to the config file
        return text

    if option.is_flag:
        if not isinstance(value, bool):
            raise fail(f"{where}: {key}: expected true or false, got {type(value).__name__}",
                       EXIT_USAGE)
        return value
    if option.multiple:
        if not isinstance(value, list):
            raise fail(f"{where}: {key}: expected a list, got {type(value).__name__}",
                       EXIT_USAGE)
        return [scalar(v) for v in value]
    return scalar(value)


def apply_file(ctx: click.Context) -> None:
    """Fill from the config file each option neither a flag nor an environment variable set."""
    path = find_config(_start(ctx))
    if path is None:
        return
    settings = load_config(path)
    known = known_options(ctx)
    unknown = sorted(k for k in settings if k not in known)
    if unknown:
        names = ", ".join(n.replace("_", "-") for n in sorted(known))
        raise fail(f"{path}: unknown key {printable(unknown[0].replace('_', '-'))} (known: "
                   f"{names})", EXIT_USAGE)
    ctx.meta[_META] = path
    for option in _options(ctx.command):
        name = option.name or ""
        if name not in settings:
            continue
        key = name.replace("_", "-")
        try:  # checked even where a flag or a variable wins: a bad file is never silent
            value = option.process_value(ctx, _raw(key, settings[name], option, path))
        except click.exceptions.BadParameter as exc:
            raise fail(f"{path}: {key}: {exc.message}", EXIT_USAGE) from None
        if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None):
            continue
        ctx.params[name] = value
        ctx.set_parameter_source(name, ParameterSource.DEFAULT_MAP)


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value) if value else "(none)"
    return str(getattr(value, "value", value))


def effective(ctx: click.Context) -> list[tuple[str, str, str]]:
    """(option, value, where it came from) for each option of the parsed command."""
    rows = []
    for option in _options(ctx.command):
        name = option.name or ""
        source = ctx.get_parameter_source(name) or ParameterSource.DEFAULT
        where = {ParameterSource.COMMANDLINE: "flag",
                 ParameterSource.ENVIRONMENT: f"env {option.envvar}",
                 ParameterSource.DEFAULT_MAP: f"file {ctx.meta.get(_META)}"
                 }.get(source, "default")
        rows.append((name.replace("_", "-"), _shown(ctx.params.get(name)), where))
    return rows


@app.command("show", context_settings={"allow_extra_args": True,
                                        "ignore_unknown_options": True})
def show(
    ctx: typer.Context,
    command: Annotated[str, typer.Argument(
        help="The command whose configuration to show, followed by its arguments as you "
        "would run it (`config show scan fw.bin --fail-on review`).")] = "scan",
) -> None:
    """Print each option's effective value and where it came from: flag, env PROVENANCE_*,
    file (provenance.toml / .provenance.yaml, found above the input), default."""
    commands = _configured(ctx)
    target = commands.get(command)
    if target is None:
        raise fail(f"config show: no configurable command {command!r} (commands: "
                   f"{', '.join(sorted(commands))})", EXIT_USAGE)
    try:
        # resilient: the input may be left out; flags, variables and the file are still read
        sub = target.make_context(command, list(ctx.args), parent=ctx, resilient_parsing=True)
    except click.ClickException as exc:
        raise fail(f"config show: {exc.format_message()}", EXIT_USAGE) from None
    path = sub.meta.get(_META)
    typer.echo(f"# {command}: config file {printable(str(path)) if path else '(none found)'}")
    rows = effective(sub)
    width = max(len(n) for n, _, _ in rows)
    shown = [printable(v) for _, v, _ in rows]
    pad = min(max(len(v) for v in shown), 40)
    for (name, _, source), value in zip(rows, shown, strict=True):
        typer.echo(f"{name:<{width}}  {value:<{pad}}  [{printable(source)}]")
