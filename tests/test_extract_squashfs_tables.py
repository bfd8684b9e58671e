"""The accelerator's one-pass listing (extract/squashfs_tables.py) lists exactly what dissect's
nodes list, on images the real mksquashfs builds with every compressor and table layout; on a
damaged image it either still does, or gives up (`Unlike`) and dissect lists it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from extract_fixtures import need, run
from test_extract_accel import _tree

from provenance.extract import filesystems, squashfs_tables
from provenance.extract.limits import Budget, Limits
from provenance.extract.saferoot import SafeRoot


def _listings(image: Path, work: Path) -> tuple[Any, Any]:
    """(dissect's listing, the one-pass listing or the Unlike it raised)."""
    caches: list[Any] = []
    with open(image, "rb") as f:
        fs = filesystems._squashfs(f, caches)
        reader = filesystems._inode_reader(lambda n: n.inode_number)
        out = SafeRoot(work, Budget(Limits()), "image", image.stat().st_size)
        slow = filesystems._listing(fs.get("/"), reader, out)
        try:
            tables = squashfs_tables.Tables(fs)
            fast = filesystems._listing(tables.root, filesystems._tables_reader(tables, reader),
                                        out)
        except squashfs_tables.Unlike as exc:
            fast = exc
    return slow, fast


def _big_tree(top: Path) -> None:
    _tree(top)
    wide = top / "wide"  # over 256 entries and 8 KiB of listing: several headers, an index
    wide.mkdir()
    for i in range(700):
        (wide / f"entry-with-a-longish-name-{i:04d}").write_bytes(b"x" * (i % 7))
    deep = top
    for i in range(40):
        deep = deep / f"level{i}"
    deep.mkdir(parents=True)
    (deep / "bottom").write_bytes(b"deep\n")
    (top / "empty").mkdir()
    (top / "long-link").symlink_to("t" * 3000)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need("mksquashfs")
    top = tmp_path_factory.mktemp("tables") / "src"
    _big_tree(top)
    return top


LAYOUTS = {
    "gzip": ["-comp", "gzip"],
    "xz, small blocks": ["-comp", "xz", "-b", "4096"],
    "lz4, no fragments": ["-comp", "lz4", "-no-fragments"],
    "zstd, always fragments": ["-comp", "zstd", "-always-use-fragments"],
    "lzo": ["-comp", "lzo"],
    "uncompressed tables": ["-noI", "-noD", "-noF", "-noX"],
    "no xattrs, no exports": ["-no-xattrs", "-no-exports"],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_one_pass_listing_is_dissects(tree: Path, tmp_path: Path, layout: str) -> None:
    image = tmp_path / "image.squashfs"
    pseudo = tmp_path / "pseudo"
    pseudo.write_text("dev/null c 666 0 0 1 3\ndev/sda b 660 0 0 8 0\nrun/fifo i 644 0 0 f\n"
                      "weird m 555 0 0\nusr/share/d1/f1.txt m 000 0 0\nbig.img m 4755 0 0\n")
    run("mksquashfs", tree, image, "-noappend", "-no-progress", "-quiet", "-pf", pseudo,
        *LAYOUTS[layout])
    slow, fast = _listings(image, tmp_path / "out")
    assert not isinstance(fast, squashfs_tables.Unlike), fast
    assert fast == slow
    ops = {op for op, _, _ in slow[1]}
    assert {"mkdir", "file", "link", "other"} <= ops  # every kind of entry was compared
    assert len(slow[1]) > 1000 and slow[0]  # and a directory the walk must not close


def test_a_damaged_image_is_listed_the_same_or_left_to_dissect(tmp_path: Path) -> None:
    """Bytes changed in the inode and directory tables (uncompressed, so that a change is a
    change of a field, not an undecodable block): each listing is dissect's, or none."""
    need("mksquashfs")
    src = tmp_path / "src"
    _tree(src)
    plain = tmp_path / "plain.squashfs"
    run("mksquashfs", src, plain, "-noI", "-noD", "-noF", "-noappend", "-no-progress", "-quiet")
    data = plain.read_bytes()
    inodes = int.from_bytes(data[64:72], "little")  # the tables follow the data from here
    rnd = random.Random(5)
    same = unlike = 0
    for trial in range(60):
        bad = bytearray(data)
        for _ in range(rnd.choice([1, 2, 8])):
            bad[rnd.randrange(inodes, len(bad) - 100)] = rnd.randrange(256)
        damaged = tmp_path / f"d{trial}.squashfs"
        damaged.write_bytes(bad)
        slow, fast = _listings(damaged, tmp_path / f"out{trial}")
        if isinstance(fast, squashfs_tables.Unlike):
            unlike += 1
        else:
            assert fast == slow, trial
            same += 1
    assert same and unlike  # both ways were taken


def test_the_accelerator_lists_in_one_pass(
        tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The accelerated extraction takes the one-pass listing (not dissect's, as on a damaged
    image), and extracts what the walk does."""
    need("mksquashfs", "unsquashfs")
    image = tmp_path / "image.squashfs"
    run("mksquashfs", tree, image, "-noappend", "-no-progress", "-quiet")
    tops: list[type] = []
    real = filesystems._listing
    monkeypatch.setattr(filesystems, "_listing",
                        lambda top, *a: tops.append(type(top)) or real(top, *a))
    out = SafeRoot(tmp_path / "out", Budget(Limits()), "image", image.stat().st_size)
    filesystems.SQUASHFS.extract(image, out)
    assert tops == [squashfs_tables.Node]
