#!/usr/bin/env python3
"""Run the whole hostile corpus and print what each input cost, measured from outside.

    python tests/hostile_bench.py              # every case
    python tests/hostile_bench.py zip-42 ...   # only these

Each case is built in a fresh temporary directory and scanned by the CLI under
`/usr/bin/time -v` (peak RSS); the bytes written are the peak of `du` over the scan's TMPDIR,
polled every 50 ms. The bounds: under 60 s, under 1 GiB RSS, at most 1.5x the configured total,
a report, no traceback, coverage partial with a Problem (and `restricted` where the MPP SDK
library sits behind the hostile part).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile_corpus import CASES, TOTAL, missing_tools, run


def main(names: list[str]) -> int:
    chosen = [c for c in CASES if not names or c.name in names]
    print(f"configured total: {TOTAL >> 20} MiB; bound on bytes written: {TOTAL * 3 >> 21} MiB")
    print("| input | what | stage | s | peak RSS MiB | written MiB | exit | coverage | verdict "
          "| result |")
    print("|---|---|---|---:|---:|---:|---:|---|---|---|")
    failed = 0
    for case in chosen:
        missing = missing_tools(case)
        if missing:
            print(f"| {case.name} | {case.what} | {case.scope} | | | | | | | skipped: needs "
                  f"{', '.join(missing)} |")
            continue
        with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
            m = run(case, Path(tmp))
        faults = m.faults(case)
        failed += bool(faults)
        print(f"| {case.name} | {case.what} | {case.scope} | {m.seconds:.1f} | "
              f"{m.rss / (1 << 20):.0f} | {m.written / (1 << 20):.0f} | {m.exit} | "
              f"{m.coverage or '-'} | {m.verdict or '-'} | "
              f"{'ok' if not faults else 'FAIL: ' + '; '.join(faults)} |", flush=True)
    print(f"\n{len(chosen) - failed} of {len(chosen)} within bounds")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
