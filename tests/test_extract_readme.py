"""The README's format table is the registry's: regenerate with
`python -m provenance.extract.formats_doc` and paste between the markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.extract.formats_doc import END, START, formats_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_table_lists_every_format() -> None:
    from provenance.extract import EXTRACTORS

    table = formats_markdown()
    for fmt in EXTRACTORS:
        assert f"| `{fmt.name}` |" in table


@pytest.mark.readme
def test_readme_lists_the_registered_formats() -> None:
    expected = formats_markdown()
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        pytest.fail(f"README.md has no {START} ... {END} block; paste:\n{START}\n{expected}{END}")
    current = text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert current == expected, f"README.md format table is stale; paste:\n{START}\n{expected}{END}"
