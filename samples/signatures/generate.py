"""Write the samples of the built-in YARA rules as files: OUTDIR/<rule_id>/<name>.bin.

Each rule's samples are specified beside it, in `signatures/yara/<vendor>/<rule>.samples.yml`
(the parts are listed in `provenance/signatureset/samples.py`); `provenance signatures lint`
and `test` build them from there. This directory keeps the files built from them, for tests
that read a sample from disk and for `yara` on the command line; a test checks they match.
Usage: python samples/signatures/generate.py [OUTDIR]   (default: this directory)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the source tree's provenance

from provenance.signatureset import load
from provenance.signatureset.samples import write


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent
    print(f"{len(write(load(), out))} samples written to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
