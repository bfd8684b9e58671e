"""No recursion on input depth (issue 14, item 4): input nested past any limit is a Problem or a
one-line error, never a RecursionError."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from generate import ipcam_files

from provenance.extract import Limits, extract
from provenance.policy.waivers import WaiverError, load_waivers

MARKER = "usr/lib/libmpi.so"
LIBMPI = ipcam_files()["rootfs/usr/lib/libmpi.so"][0]


def test_tar_1500_directories_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        name = ""
        for _ in range(1500):
            name += "d/"
            info = tarfile.TarInfo(name.rstrip("/"))
            info.type = tarfile.DIRTYPE
            tf.addfile(info)
        info = tarfile.TarInfo(name + "bottom.txt")
        info.size = 6
        tf.addfile(info, io.BytesIO(b"bottom"))
        info = tarfile.TarInfo(MARKER)
        info.size = len(LIBMPI)
        tf.addfile(info, io.BytesIO(LIBMPI))
    tree, problems = extract(path, tmp_path / "work", Limits())
    assert MARKER in {a.chain[-1] for a in tree.walk()}
    deep = [p for p in problems if "directories deep" in p.message]
    assert deep and all(p.kind == "limit" and len(p.message) < 500 for p in deep)


def test_input_directory_1500_levels_deep(tmp_path: Path) -> None:
    """A directory input deeper than the interpreter's recursion limit (os.walk recurses)."""
    top = tmp_path / "tree"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(1500):  # by descriptor: the path would pass PATH_MAX for os calls
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"leaf")
        os.close(leaf)
    finally:
        os.close(fd)
    (top / "top.txt").write_bytes(b"top")
    try:
        tree, _problems = extract(top, tmp_path / "work", Limits())
        names = {a.chain[-1].rsplit("/", 1)[-1] for a in tree.walk()}
        assert {"top.txt", "leaf.txt"} <= names
    finally:
        _flatten(top)  # pytest removes old temporary trees with a recursive rmtree


def _flatten(top: Path) -> None:
    """Move each level of a `d/d/d/...` chain up to `top` (one descriptor at a time), so that
    removing the tree no longer recurses 1,500 levels deep."""
    fd = os.open(top, os.O_RDONLY)
    try:
        parent, i = "d", 0
        while True:
            try:
                pfd = os.open(parent, os.O_RDONLY, dir_fd=fd)
            except FileNotFoundError:
                return
            try:
                os.rename("d", f"level{i}", src_dir_fd=pfd, dst_dir_fd=fd)
            except FileNotFoundError:
                return
            finally:
                os.close(pfd)
            parent, i = f"level{i}", i + 1
    finally:
        os.close(fd)


@pytest.mark.parametrize("form", ["json", "yaml-flow", "yaml-block"])
def test_waivers_10000_levels_deep(form: str, tmp_path: Path) -> None:
    n = 10_000
    if form == "json":
        text = "[" * n + "]" * n
    elif form == "yaml-flow":
        text = "waivers: " + "{a: " * n + "1" + "}" * n
    else:
        text = "waivers:\n" + "- " * n + "x\n"  # compact block sequences, one per level
    path = tmp_path / f"deep.{form}"
    path.write_text(text)
    with pytest.raises(WaiverError, match="nested more than 16 levels deep") as info:
        load_waivers(path)
    assert "\n" not in str(info.value)


def test_waiver_file_past_the_size_bound(tmp_path: Path) -> None:
    path = tmp_path / "huge.yml"
    with open(path, "wb") as f:
        f.truncate(17 << 20)
    with pytest.raises(WaiverError, match="over the 16777216-byte limit"):
        load_waivers(path)
