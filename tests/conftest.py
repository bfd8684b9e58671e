"""Shared fixtures: the bundled samples and a loaded signature set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(SAMPLES))  # samples/elfgen.py builds synthetic ELF files for tests


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Keep the per-blob result cache of every test out of the user's cache directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


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
