"""Run at the start of every Python process whose PYTHONPATH names this directory, such as the
fresh interpreter a scan analyses one blob in (`pipeline.isolate`). When the test set
PROVENANCE_TEST_HOOKS, the hooks it names (`analysis_hooks.py`) are installed there just as the
test installed them in its own process, so the blob behaves the same in the child."""

import os
import sys
from pathlib import Path

if os.environ.get("PROVENANCE_TEST_HOOKS"):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import analysis_hooks

    analysis_hooks.install(os.environ["PROVENANCE_TEST_HOOKS"])
