#!/usr/bin/env python3
"""Rewrite the generated blocks of README.md (supported formats, signature table).

    python tests/update_readme.py

The tests marked `readme` fail when a block is stale; this script is how to refresh them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def blocks() -> dict[str, str]:
    from provenance.extract.formats_doc import formats_markdown
    from provenance.identify.facts import facts_markdown
    from provenance.signatureset.docs import calibration_markdown, signatures_markdown

    table = signatures_markdown()
    # signatures_markdown() carries its own markers; formats_markdown() does not
    inner = re.sub(r"^<!-- signatures:start -->\n|<!-- signatures:end -->\n?$", "", table)
    return {"formats": formats_markdown(), "signatures": inner,
            "calibration": calibration_markdown(), "facts": facts_markdown()}


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name, body in blocks().items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start not in text:
            print(f"README.md has no {start} marker", file=sys.stderr)
            return 1
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{body.rstrip()}\n{end}{tail}"
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
