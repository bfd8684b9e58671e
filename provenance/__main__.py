"""The `provenance` command (and `python -m provenance`): a scan remembered whole is answered by
`provenance.direct` before the CLI, typer and the pipeline are imported."""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130  # as `provenance.cli` exits on Ctrl-C


def main() -> None:
    if sys.argv[1:2] == ["scan"]:
        from provenance import direct

        try:
            code = direct.answer(sys.argv[1:])
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            sys.exit(EXIT_INTERRUPTED)
        if code is not None:
            sys.exit(code)
    from provenance.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
