"""ext2/3/4 files are read straight from the image by their data runs (`filesystems._Runs`),
with the bytes dissect's own stream gives; what the runs cannot answer (inline data, a run past
the end of a cut image) is left to dissect."""

from __future__ import annotations

import os
import random
import stat

import pytest
from extract_fixtures import need, run

from provenance.extract import extract
from provenance.extract.filesystems import _runs_of


def _tree(top):
    rng = random.Random(5)
    top.mkdir()
    for size in (0, 1, 59, 60, 100, 4095, 4096, 4097, 12288, 70_000):
        (top / f"f{size}").write_bytes(rng.randbytes(size))
    (top / "big").write_bytes(rng.randbytes(3 << 20))
    with open(top / "sparse", "wb") as f:  # holes between data: sparse runs
        f.write(b"head")
        f.seek(1 << 20)
        f.write(b"middle")
        f.seek(3 << 20)
        f.write(b"tail")
    (top / "d").mkdir()
    (top / "d" / "nested.txt").write_bytes(b"nested\n" * 1000)


def _image(tmp_path, kind, features=()):
    need("mke2fs")
    src = tmp_path / "src"
    if not src.exists():
        _tree(src)
    path = tmp_path / f"{kind}-{len(features)}.img"
    run("mke2fs", "-q", "-F", "-t", kind, *(a for f in features for a in ("-O", f)), "-d", src,
        path, "16M")
    return src, path


def _regular(fs):
    """Every regular file, each directory listed once (dissect lists an inline-data directory
    as itself, endlessly: the walk refuses such an entry)."""
    stack, out, seen = [fs.root], [], {fs.root.inum}
    while stack:
        node = stack.pop()
        try:
            children = list(node.iterdir())
        except EOFError:  # a directory past the end of a cut image
            continue
        for child in children:
            if child.filename in (".", "..") or child.inum in seen:
                continue
            seen.add(child.inum)
            if child.filetype == stat.S_IFDIR:
                stack.append(child)
            elif child.filetype == stat.S_IFREG:
                out.append(child)
    return out


def _both(path):
    """(dissect's bytes, the runs' bytes, read by runs?) of every regular file."""
    from dissect.extfs import ExtFS

    with open(path, "rb") as f:
        fs = ExtFS(f)
        size = os.fstat(f.fileno()).st_size
        out = []
        for node in _regular(fs):
            want = node.open().read(node.size + 1)
            stream = _runs_of(node, f.fileno(), size, fs.block_size)
            got = b"".join(iter(lambda s=stream: s.read(3000), b""))
            out.append((want, got, type(stream).__name__ == "_Runs"))
    return out


@pytest.mark.parametrize(("kind", "features"), [
    ("ext2", ()), ("ext3", ()), ("ext4", ()), ("ext4", ("inline_data",)),
])
def test_files_read_by_their_runs_are_the_bytes_dissect_reads(tmp_path, kind, features):
    _, path = _image(tmp_path, kind, features)
    files = _both(path)
    assert len(files) == (12 if "inline_data" in features else 13)  # d/ is unreadable there
    assert all(want == got for want, got, _ in files)
    by_runs = sum(direct for *_, direct in files)
    if "inline_data" in features:
        assert 0 < by_runs < len(files)  # the small files live in their inodes: dissect's
    else:
        assert by_runs == len(files) - 1  # all but the empty one


def test_a_cut_image_is_read_as_dissect_reads_it(tmp_path):
    """A run past the end of the image (an image cut short) is left to dissect, whose answer
    (a truncated member, and its problem) is the scan's as before; a file whose runs all lie
    before the cut is read by them, whole."""
    from dissect.extfs import ExtFS

    src, path = _image(tmp_path, "ext4")
    with open(path, "rb") as f:
        fs = ExtFS(f)
        ends = {n.filename: max(((b + c) * fs.block_size for b, c in n.dataruns()
                                 if b is not None), default=0)
                for n in _regular(fs)}
        # into the last run of the image: the file there is cut short, those before are not
        cut = max(b for n in _regular(fs) for b, _ in n.dataruns() if b is not None)
        cut = cut * fs.block_size + 2
    cut_path = tmp_path / "cut.img"
    cut_path.write_bytes(path.read_bytes()[:cut])
    files = _both(cut_path)
    assert all(want == got for want, got, _ in files)
    assert not all(direct for *_, direct in files)
    root, problems = extract(cut_path, tmp_path / "x")
    assert any("truncated" in p.message for p in problems)
    before = [name for name, end in ends.items() if 0 < end <= cut]
    assert before
    by_name = {a.name: a for a in root.walk() if a.kind == "file"}
    for name in before:
        original = next(src.rglob(name))
        assert by_name[name].local.read_bytes() == original.read_bytes()
