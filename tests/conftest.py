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
    """Each test gets its own, empty result cache (and compiled-rule files), out of the user's
    cache directory: no test is answered from another test's scans, so a test that scans
    really scans whatever ran before it. A test that wants a warm cache warms it itself."""
    where = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(where))
    before = set(_cache_handles())
    yield where
    _close_cache_handles(before)


def _cache_handles() -> dict:
    """This process's open result-cache handles, if `provenance.pipeline.cache` is loaded."""
    module = sys.modules.get("provenance.pipeline.cache")
    return getattr(module, "_open_caches", {})


def _close_cache_handles(keep: set) -> None:
    """Close the cache handles a test opened: `open_cache` keeps one per directory for the life
    of the process, and a directory per test would pile them up."""
    handles = _cache_handles()
    for key in set(handles) - keep:
        handles.pop(key).close()


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
