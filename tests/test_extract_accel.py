"""The unsquashfs accelerator (extract/accel.py): the same report and problems as the pure-Python
walk, on images built by the real mksquashfs from trees with what a hostile or odd rootfs holds.

Each case extracts (and scans) the same image with and without the accelerator
(PROVENANCE_NO_ACCEL) and compares: files written and their bytes, links, problems, budget, and
the `--reproducible` CycloneDX report byte for byte. A spy on `accel.run` (calling through)
proves the accelerated side did use unsquashfs, so the comparison cannot pass by not using it.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import zipfile
from pathlib import Path

import pytest
from extract_fixtures import need, run

from provenance.extract import accel
from provenance.extract.filesystems import SQUASHFS
from provenance.extract.limits import Budget, LimitExceeded, Limits, parse_size
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

WEIRD = [" lead space", "#hash", "new\nline", "tab\tname", "ünïcödé ✓.txt", "a*b?[c]",
         "back\\slash", "+(x)", "C:colon", "-dash"]


def _tree(top: Path) -> None:
    rnd = random.Random(17)
    for i in range(240):  # many small files, the rootfs case
        sub = top / "usr" / "share" / f"d{i % 12}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_bytes(f"config {i}\n".encode() * rnd.randint(1, 40))
    lib = top / "lib"
    lib.mkdir()
    data = rnd.randbytes(300_000)
    (lib / "libx.so.1").write_bytes(data)
    (lib / "libx.so").symlink_to("libx.so.1")  # relative
    (lib / "abs").symlink_to("/etc/passwd")  # absolute
    (lib / "dangling").symlink_to("nothere")
    (lib / "out").symlink_to("../../../etc/shadow")  # pointing out of the root
    os.link(lib / "libx.so.1", lib / "libx-hard.so.1")  # a hard link: one inode, two names
    # a large file with whole blocks of zeros (sparse in the image, holes when written)
    (top / "big.img").write_bytes(rnd.randbytes(700_000) + bytes(1 << 20) + rnd.randbytes(5000))
    (top / "over.bin").write_bytes(rnd.randbytes(3 << 20))  # over a 2 MiB member limit
    weird = top / "weird"
    weird.mkdir()
    for name in WEIRD:
        (weird / name).write_bytes(name.encode() + b" body\n")
    (weird / os.fsdecode(b"latin1-\xe9t\xe9")).write_bytes(b"not UTF-8\n")  # raw bytes name
    # `back\slash` lands at back/slash in the SafeRoot, before the real one (walk order)
    (weird / "back").mkdir()
    (weird / "back" / "slash").write_bytes(b"the real back/slash\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # a nested archive member
        z.writestr("inner/readme.txt", "nested\n" * 50)
        z.writestr("inner/data.bin", rnd.randbytes(20_000))
    (top / "pkg.zip").write_bytes(buf.getvalue())
    (top / "dev").mkdir()
    (top / "run").mkdir()


def _image(tmp: Path) -> Path:
    need("mksquashfs", "unsquashfs")
    src = tmp / "src"
    _tree(src)
    pseudo = tmp / "pseudo"  # devices and FIFOs without root
    pseudo.write_text("dev/null c 666 0 0 1 3\ndev/sda b 660 0 0 8 0\nrun/fifo i 644 0 0 f\n"
                      # modes an image may give: a read-only directory (the walk still writes
                      # the files unsquashfs is not given into it), an unreadable file, setuid
                      "weird m 555 0 0\nusr/share/d1/f1.txt m 000 0 0\nbig.img m 4755 0 0\n")
    image = tmp / "rootfs.squashfs"
    run("mksquashfs", src, image, "-comp", "xz", "-noappend", "-no-progress", "-quiet",
        "-pf", pseudo)
    return image


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _image(tmp_path_factory.mktemp("accel"))


@pytest.fixture(params=["one-part", "parts"])
def parts(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """unsquashfs in one run, or in several (4 files, then 16, 64...): the walk takes the files
    of a part while the next is written. True for several."""
    if request.param == "parts":
        monkeypatch.setattr(accel, "FIRST_PART_FILES", 4)
    return request.param == "parts"


class _Spy:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.results: list[bool] = []
        real = accel.run

        def run(*args: object) -> bool:
            self.results.append(real(*args))  # type: ignore[arg-type]
            return self.results[-1]

        monkeypatch.setattr(accel, "run", run)


def _extract(image: Path, out: Path, limits: Limits, accelerated: bool,
             monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...]:
    if accelerated:
        monkeypatch.delenv(accel.ENV_OFF, raising=False)
    else:
        monkeypatch.setenv(accel.ENV_OFF, "1")
    root = SafeRoot(out, Budget(limits), "rootfs.squashfs", image.stat().st_size)
    finished: list[tuple[str, str, int, bytes]] = []  # the walker's hook: in the same order
    root.on_member = lambda rel, _, sha, size, head: finished.append((rel, sha, size, head))
    try:
        SQUASHFS.extract(image, root)
    except LimitExceeded as exc:  # as extract.container records it: the image stops there
        root.problem(str(exc), ProblemKind.LIMIT)
    except Exception as exc:  # a damaged image
        root.problem(f"cannot unpack: {type(exc).__name__}: {exc}")
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_symlink() or not path.is_file():
            assert path.is_dir() and not path.is_symlink(), path  # nothing but files and dirs
            continue
        st = path.stat()
        assert st.st_nlink == 1 and not st.st_mode & 0o7000, path  # no hard links, no setuid
        files[path.relative_to(out).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    problems = [(p.location, p.kind, p.message) for p in root.problems]
    return files, dict(root.links), problems, root.budget.files, root.budget.bytes, finished


LIMITS = {
    "defaults": Limits(),
    "member and total": Limits(max_member_bytes=parse_size("2M"), max_total_bytes=2_300_000),
    "file count": Limits(max_files=150),
}


@pytest.mark.parametrize("case", list(LIMITS))
def test_the_accelerator_extracts_what_the_python_walk_does(
        image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, parts: bool
        ) -> None:
    spy = _Spy(monkeypatch)
    python = _extract(image, tmp_path / "py", LIMITS[case], False, monkeypatch)
    assert spy.results == []  # switched off: unsquashfs never ran
    fast = _extract(image, tmp_path / "c", LIMITS[case], True, monkeypatch)
    if case == "file count" and parts:  # the walk stopped while a later part was written
        assert spy.results[0] and len(spy.results) > 1
    else:
        assert all(spy.results) and (len(spy.results) > 1) == parts
    assert fast == python
    files, links, problems, *_ = python
    text = "\n".join(message for _, _, message in problems)
    if case != "file count":  # that one stops before the devices and links
        assert "device node, FIFO or socket" in text and "points outside the root" in text
    if case == "defaults":
        assert not any(kind == "limit" for _, kind, _ in problems)
        assert {"weird/ lead space", "weird/new\nline", "weird/a*b?[c]", "big.img",
                "lib/libx-hard.so.1", "pkg.zip", "weird/back/slash~2"} <= set(files)
        assert links["lib/libx.so"] == "libx.so.1" and "lib/out" not in links
    elif case == "member and total":
        assert "over the member limit" in text and "would pass the total limit" in text
    else:
        assert "file count limit (150)" in text and len(files) == 150


def test_past_the_names_per_directory_cap_the_walk_writes_the_rest(
        image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accel, "MAX_NAMES", 10)  # usr/share/d* hold 20 files each
    listed: list[int] = []
    plan = accel.plan
    monkeypatch.setattr(accel, "plan", lambda *a: listed.append(len(r := plan(*a))) or r)
    python = _extract(image, tmp_path / "py", Limits(), False, monkeypatch)
    fast = _extract(image, tmp_path / "c", Limits(), True, monkeypatch)
    assert fast == python
    assert 10 * 10 < listed[0] < 200  # ten files in ten of usr/share/d*, and the others


def test_output_unlike_the_listing_is_removed_and_the_walk_writes_all(
        image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: bool) -> None:
    """Were the hard-linked pair listed (plan leaves it out), unsquashfs would write one inode
    under two names: the check after it finds a file of two links, removes everything it
    wrote (under the image's read-only and unreadable modes too) and the walk writes all.
    In parts, the pair comes last: the parts before are taken, the last one is the walk's."""
    plan = accel.plan

    def with_the_pair(*args: object) -> dict[str, int]:
        files = plan(*args)  # type: ignore[arg-type]
        size = 300_000  # lib/libx.so.1
        return {**files, "lib/libx.so.1": size, "lib/libx-hard.so.1": size}

    monkeypatch.setattr(accel, "plan", with_the_pair)
    spy = _Spy(monkeypatch)
    python = _extract(image, tmp_path / "py", Limits(), False, monkeypatch)
    fast = _extract(image, tmp_path / "c", Limits(), True, monkeypatch)
    assert spy.results[-1] is False and all(spy.results[:-1])
    assert (len(spy.results) > 1) == parts
    assert fast == python


def test_unsquashfs_out_of_time_leaves_the_image_to_the_walk(
        image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accel, "START_SECONDS", 0.0)  # a hundredth of a second: killed
    monkeypatch.setattr(accel, "FILE_SECONDS", 0.0)
    monkeypatch.setattr(accel, "SLOWEST", 1 << 40)
    spy = _Spy(monkeypatch)
    python = _extract(image, tmp_path / "py", Limits(), False, monkeypatch)
    fast = _extract(image, tmp_path / "c", Limits(), True, monkeypatch)
    assert spy.results == [False]
    assert fast == python


def test_truncated_and_corrupt_images_fall_back_to_the_same_result(
        image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: bool) -> None:
    data = image.read_bytes()
    cut = tmp_path / "cut.squashfs"
    cut.write_bytes(data[: len(data) * 2 // 3])
    bad = bytearray(data)
    for offset in range(3000, len(bad) // 2, 50_000):  # data blocks come first
        bad[offset : offset + 8] = b"\xa5" * 8
    corrupt = tmp_path / "corrupt.squashfs"
    corrupt.write_bytes(bad)
    bad = bytearray(data)
    for offset in range(len(bad) * 9 // 10, len(bad) - 200, 700):  # the inode and directory tables
        bad[offset : offset + 4] = b"\x5a" * 4
    tables = tmp_path / "tables.squashfs"
    tables.write_bytes(bad)
    for broken in (cut, corrupt, tables):
        spy = _Spy(monkeypatch)
        python = _extract(broken, tmp_path / f"{broken.stem}-py", Limits(), False, monkeypatch)
        fast = _extract(broken, tmp_path / f"{broken.stem}-c", Limits(), True, monkeypatch)
        assert fast == python
        assert python[2], "a damaged image must leave problems"
        # nothing listed, or it failed (in parts: at the first damaged one), and the rest is
        # the walk's
        assert not spy.results or spy.results[-1] is False, broken
        assert all(spy.results[:-1]) and (parts or len(spy.results) <= 1)


def _scan(image: Path, out: Path, accelerated: bool, monkeypatch: pytest.MonkeyPatch,
          *limits: str) -> tuple[int, bytes]:
    from typer.testing import CliRunner

    from provenance.cli import app

    if accelerated:
        monkeypatch.delenv(accel.ENV_OFF, raising=False)
    else:
        monkeypatch.setenv(accel.ENV_OFF, "1")
    result = CliRunner().invoke(app, ["scan", str(image), "--reproducible", "-q", "--no-cache",
                                      "--jobs", "1", "-o", str(out), *limits],
                                catch_exceptions=False)
    return result.exit_code, out.read_bytes()


@pytest.mark.parametrize("limits", [(), ("--max-member-bytes", "2M", "--max-total-bytes",
                                         "2300000", "--max-files", "200")])
def test_the_report_is_byte_identical_either_way(
        image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limits: tuple[str, ...],
        parts: bool) -> None:
    spy = _Spy(monkeypatch)
    python = _scan(image, tmp_path / "py.cdx.json", False, monkeypatch, *limits)
    fast = _scan(image, tmp_path / "c.cdx.json", True, monkeypatch, *limits)
    assert spy.results[0] and all(spy.results[:-1]) and (len(spy.results) > 1) == parts
    assert fast == python
    if not limits:
        assert b"inner/readme.txt" in python[1]  # the nested archive, unpacked on both sides


def test_switched_off_or_missing_means_no_unsquashfs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(accel.ENV_OFF, "1")
    assert accel.unsquashfs() is None
    monkeypatch.setenv(accel.ENV_OFF, "0")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert accel.unsquashfs() is None


def test_a_file_entry_over_a_device_inode_makes_no_device(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dissect takes a member's type from its directory entry, unsquashfs from its inode: an
    image whose entry says file over an inode that says character device must not have
    unsquashfs make the device (it is never listed), and gives the walk's result either way."""
    need("mksquashfs", "unsquashfs")
    src = tmp_path / "src"
    src.mkdir()
    (src / "victim").write_bytes(b"v" * 100)
    for i in range(10):
        (src / f"ok{i}").write_bytes(b"fine %d\n" % i)
    image = tmp_path / "hostile.squashfs"
    run("mksquashfs", src, image, "-noI", "-noD", "-noF", "-noappend", "-no-progress",
        "-quiet")  # uncompressed tables: the inode can be edited in place
    data = bytearray(image.read_bytes())
    # inodes in name order, 32 bytes each for a file in a fragment: ok0..ok9, then victim
    at = int.from_bytes(data[64:72], "little") + 2 + 10 * 32  # past the metadata block header
    assert int.from_bytes(data[at + 12 : at + 16], "little") == 11  # inode number 11...
    assert int.from_bytes(data[at : at + 2], "little") == 2  # ...a regular file's inode...
    data[at : at + 2] = (5).to_bytes(2, "little")  # ...now says character device
    image.write_bytes(data)
    spy = _Spy(monkeypatch)
    python = _extract(image, tmp_path / "py", Limits(), False, monkeypatch)
    fast = _extract(image, tmp_path / "c", Limits(), True, monkeypatch)
    assert fast == python and spy.results == [True]
    assert "victim" not in python[0] and len(python[0]) == 10


def test_two_entries_of_one_name_are_left_to_the_walk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory listing one name twice (a hostile image): the walk keeps the second as
    `name~2`; unsquashfs refuses the whole directory. Nothing in it is listed, so unsquashfs
    writes the rest and both sides agree."""
    need("mksquashfs", "unsquashfs")
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    for i in range(4):
        (src / "d" / f"ok{i}").write_bytes(b"content %d\n" % i * (i + 1))
    (src / "e").mkdir()
    for i in range(accel.MIN_FILES):
        (src / "e" / f"fine{i}").write_bytes(b"unsquashfs writes these %d\n" % i)
    image = tmp_path / "twice.squashfs"
    run("mksquashfs", src, image, "-noI", "-noD", "-noF", "-noappend", "-no-progress",
        "-quiet")
    data = bytearray(image.read_bytes())
    directories = int.from_bytes(data[72:80], "little")
    at = data.index(b"ok1", directories)
    data[at : at + 3] = b"ok0"
    image.write_bytes(data)
    spy = _Spy(monkeypatch)
    python = _extract(image, tmp_path / "py", Limits(), False, monkeypatch)
    fast = _extract(image, tmp_path / "c", Limits(), True, monkeypatch)
    assert fast == python and spy.results == [True]
    assert {"d/ok0", "d/ok0~2", "d/ok2", "d/ok3"} | {f"e/fine{i}" for i in range(
        accel.MIN_FILES)} == set(python[0])
