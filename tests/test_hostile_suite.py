"""The CI subset of the hostile corpus (tests/hostile_corpus.py): each input is scanned by the
CLI in a child process and must finish in time, under the memory and disk bounds measured from
outside, with a report, no traceback, coverage `partial` and a Problem; where the MPP SDK
library sits behind the hostile part, the verdict is still `restricted`.

`python tests/hostile_bench.py` runs every case, the slow ones too, and prints the table."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_corpus import CASES, MAX_SECONDS, Case, missing_tools, run

FAST = [c for c in CASES if c.fast]
# Cases whose extraction holds the bounds but another stage does not yet (the fix is outside
# extract): strict, so the test says when it is fixed.
# cases a fix outside extract/ is still owed for (none now: identify/tarball.py reads through
# extract.tar's bounded stream since the base-256 and tar.xz cases found it looping)
ELSEWHERE: dict[str, str] = {}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", FAST, ids=[c.name for c in FAST])
def test_hostile_input_within_bounds(case: Case, tmp_path: Path) -> None:
    missing = missing_tools(case)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    if case.name in ELSEWHERE:
        pytest.xfail(ELSEWHERE[case.name])
    measure = run(case, tmp_path, timeout=2 * MAX_SECONDS)
    assert not measure.faults(case), (measure.faults(case), measure.stderr[-2000:])
    temp = str(tmp_path / "tmp")
    assert not any(temp in p.get("message", "") or temp in p.get("location", "")
                   for p in measure.problems), "a Problem names a local temporary path"
