"""The extracted tree is removed beside the report: by `rm -rf`, or a thread without one, and
whatever rm leaves is removed when the scan waits for it."""

from __future__ import annotations

import atexit
import shutil
from pathlib import Path

import pytest

from provenance.pipeline import _Removal


def _tree(top: Path) -> Path:
    for i in range(20):
        d = top / f"d{i}" / "deeper"
        d.mkdir(parents=True)
        (d / "f.txt").write_bytes(b"x" * i)
        (top / f"link{i}").symlink_to(d)
    (top / "outside").symlink_to("/")  # followed by neither remover
    return top


def test_rm_removes_the_tree(tmp_path: Path) -> None:
    top = _tree(tmp_path / "t")
    removal = _Removal(top)
    assert removal._rm is not None, "rm is on every POSIX system this runs on"
    removal.wait()
    assert not top.exists() and list(tmp_path.iterdir()) == []


def test_without_rm_a_thread_removes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    top = _tree(tmp_path / "t")
    removal = _Removal(top)
    assert removal._rm is None and removal._thread is not None
    removal.wait()
    assert not top.exists()


@pytest.mark.parametrize("rm", ["/bin/false", "/nonexistent/rm"])
def test_what_rm_leaves_or_cannot_start_for_is_removed_on_wait(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rm: str) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: rm)
    top = _tree(tmp_path / "t")
    removal = _Removal(top)
    removal.wait()
    assert not top.exists()


def test_a_removal_never_waited_for_is_waited_for_at_exit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", registered.remove)
    monkeypatch.setattr(shutil, "which", lambda _name: "/bin/false")  # rm removes nothing
    top = _tree(tmp_path / "t")
    removal = _Removal(top)
    assert registered == [removal.wait]
    registered[0]()  # what the interpreter does at exit
    assert not top.exists() and registered == []
