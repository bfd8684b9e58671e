"""The README's supported-formats table, generated from the registry so it cannot drift."""

from __future__ import annotations

from provenance.extract import EXTRACTORS

START = "<!-- formats:start -->"
END = "<!-- formats:end -->"


def formats_markdown() -> str:
    """A Markdown table of every registered format, in detection order."""
    lines = ["| format | what is read (library) |", "|---|---|"]
    for fmt in EXTRACTORS:
        doc = fmt.doc.replace("|", "\\|")
        lines.append(f"| `{fmt.name}` | {doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(f"{START}\n{formats_markdown()}{END}")
