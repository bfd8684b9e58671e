"""Shared fixtures: the bundled samples and a loaded signature set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(SAMPLES))  # samples/elfgen.py builds synthetic ELF files for tests


@pytest.fixture(scope="session")
def sigset():
    from provenance import signatureset

    return signatureset.load()


@pytest.fixture(scope="session")
def restricted_sample() -> Path:
    return SAMPLES / "ipcam-hi3516ev200.tar.gz"


@pytest.fixture(scope="session")
def clean_sample() -> Path:
    return SAMPLES / "router-clean.zip"
