"""Shared fixtures: the bundled samples and a loaded signature set."""

from __future__ import annotations

import gc
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


@pytest.fixture(autouse=True)
def _collector_as_it_was():
    """A scanning command tunes this process's garbage collector (`commands.common.tune_gc`):
    undone after each test, so that what later tests make is collected as usual, and nothing
    imported stays frozen at exit (nanobind reports LIEF's objects as leaked if they do)."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


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


@pytest.fixture(autouse=True, scope="session")
def _signature_files_parsed_once():
    """Each vendor and policy YAML file `signatureset` reads is parsed once per session, keyed by
    its path, size and modification time: `signatureset.load()` runs in every in-process CLI
    call and three times per lint test, and YAML construction was most of their time. Nothing
    in `signatureset` mutates what it reads; a file a test writes or changes is read anew."""
    from provenance import signatureset

    real = signatureset._yaml
    parsed: dict[tuple[str, int, int], dict] = {}

    def once(path: Path) -> dict:
        try:
            st = path.stat()
        except OSError:
            return real(path)  # its own error, as without the memo
        key = (str(path), st.st_mtime_ns, st.st_size)
        if key not in parsed:
            parsed[key] = real(path)
        return parsed[key]

    signatureset._yaml = once
    yield
    signatureset._yaml = real


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
