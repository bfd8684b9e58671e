"""A hostile corpus, generated at test time: every case must stay inside the extraction root,
hold the limits, leave a Problem, and let the scan finish."""

from __future__ import annotations

import gzip
import io
import os
import struct
import tarfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from extract_fixtures import BUILDERS, TREE, need, populate, run

import provenance.extract as extract_module
from provenance.extract import Limits, extract
from provenance.model import Artifact, Problem

MiB = 1 << 20
SMALL = Limits(max_depth=6, max_files=500, max_total_bytes=40 * MiB, max_member_bytes=24 * MiB,
               max_ratio=20.0, ratio_floor=2 * MiB, seconds_per_format=60.0)


def snapshot(top: Path) -> set[str]:
    return {p.relative_to(top).as_posix() for p in top.rglob("*")}


def scan(tmp: Path, path: Path, limits: Limits = SMALL) -> tuple[Artifact, tuple[Problem, ...]]:
    """Extract under tmp/work and check nothing appeared in tmp outside it."""
    work = tmp / "work"
    before = snapshot(tmp)
    tree, problems = extract(path, work, limits)
    after = {p for p in snapshot(tmp) if p != "work" and not p.startswith("work/")}
    assert after == before, f"written outside the root: {sorted(after - before)}"
    written = sum(p.stat().st_size for p in work.rglob("*") if p.is_file() and not p.is_symlink())
    assert written <= limits.max_total_bytes + (1 << 20)
    assert not any(p.is_symlink() for p in work.rglob("*")), "a link was created on disk"
    assert not list(work.glob("*.tool")), "tool scratch directory left behind"
    return tree, problems


def kinds(problems: tuple[Problem, ...]) -> set[str]:
    return {p.kind for p in problems}


# -- path traversal, absolute paths, links ---------------------------------------------------------

ESCAPES = ("../escape-{u}.txt", "a/../../escape2-{u}.txt", "/tmp/escape-abs-{u}.txt",
           "..\\escape3-{u}.txt", "C:/escape4-{u}.txt")


def _escape_names() -> tuple[str, list[str]]:
    u = uuid.uuid4().hex[:8]
    return u, [n.format(u=u) for n in ESCAPES]


def _assert_no_escape(tmp: Path, u: str) -> None:
    for base in (tmp, tmp.parent, Path("/tmp"), Path("/")):
        assert not list(base.glob(f"escape*{u}*")), f"escaped into {base}"


def test_tar_traversal_absolute_and_links(tmp_path: Path) -> None:
    u, names = _escape_names()
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tf:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 4
            tf.addfile(info, io.BytesIO(b"evil"))
        for name, target, kind in [
            ("up", "../../../../etc", tarfile.SYMTYPE),
            ("hard", "../../etc/passwd", tarfile.LNKTYPE),
            ("hardabs", "/etc/passwd", tarfile.LNKTYPE),
            ("loop1", "loop2", tarfile.SYMTYPE),
            ("loop2", "loop1", tarfile.SYMTYPE),
            ("dev", "", tarfile.CHRTYPE),
            ("fifo", "", tarfile.FIFOTYPE),
        ]:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            tf.addfile(info)
        # a file written "through" a link: links are never created, so it stays inside
        info = tarfile.TarInfo(f"up/escape-through-{u}")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"evil"))
        info = tarfile.TarInfo("ok.txt")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"ok"))
    tree, problems = scan(tmp_path, path)
    _assert_no_escape(tmp_path, u)
    messages = " ".join(p.message for p in problems)
    for fragment in ("traversal", "absolute", "points outside", "device node", "symlink loop"):
        assert fragment in messages, fragment
    assert "ok.txt" in {c.chain[-1] for c in tree.children}
    assert not (Path("/etc") / f"escape-through-{u}").exists()


def test_zip_traversal_and_absolute(tmp_path: Path) -> None:
    u, names = _escape_names()
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(zipfile.ZipInfo(name), b"evil")
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, b"../../../../etc/shadow")
        zf.writestr("ok.txt", b"ok")
    tree, problems = scan(tmp_path, path)
    _assert_no_escape(tmp_path, u)
    unsafe = [p for p in problems if p.kind == "unsafe"]
    # zipfile itself strips "../" and drive letters on read; we refuse on the raw names
    assert len(unsafe) >= len(names) - 2 + 1
    assert "ok.txt" in {c.chain[-1] for c in tree.children}


def _newc(name: str, data: bytes, mode: int = 0o100644) -> bytes:
    raw = name.encode() + b"\0"
    fields = [0, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0]
    head = b"070701" + b"".join(f"{v:08X}".encode() for v in fields) + raw
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def test_cpio_traversal_absolute_and_devices(tmp_path: Path) -> None:
    u, names = _escape_names()
    blob = b"".join(_newc(n, b"evil") for n in names)
    blob += _newc("link", b"../../../../../etc", 0o120777)
    blob += _newc("dev/console", b"", 0o020600)
    blob += _newc("ok.txt", b"ok") + _newc("TRAILER!!!", b"")
    path = tmp_path / "evil.cpio"
    path.write_bytes(blob)
    tree, problems = scan(tmp_path, path)
    _assert_no_escape(tmp_path, u)
    assert len([p for p in problems if p.kind == "unsafe"]) == len(names) + 2
    assert tree.opaque is None and "ok.txt" in {c.chain[-1] for c in tree.children}


def test_squashfs_traversal_name(tmp_path: Path) -> None:
    """A directory entry patched to '../evil' in an image with uncompressed metadata."""
    need("mksquashfs")
    src = populate(tmp_path / "src", links=False)
    (src / "..xevil").write_bytes(b"evil")
    path = tmp_path / "evil.squashfs"
    run("mksquashfs", src, path, "-noI", "-noD", "-noF", "-noX", "-noappend", "-no-progress",
        "-quiet")
    image = path.read_bytes()
    assert image.count(b"..xevil") == 1
    path.write_bytes(image.replace(b"..xevil", b"../evil"))
    tree, problems = scan(tmp_path, path)
    assert not (tmp_path / "evil").exists()
    assert any(p.kind == "unsafe" and "../evil" in p.message for p in problems)
    assert "hello.txt" in {c.chain[-1] for c in tree.children}


# -- bombs ----------------------------------------------------------------------------------------

def _zeros_zip(path: Path, size: int, name: str = "zeros.bin") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf, \
            zf.open(name, "w", force_zip64=True) as member:
        chunk = b"\0" * MiB
        for _ in range(size // MiB):
            member.write(chunk)
    return path


def test_nested_zip_bomb(tmp_path: Path) -> None:
    inner = _zeros_zip(tmp_path / "inner.zip", 16 * MiB)
    middle = tmp_path / "middle.zip"
    with zipfile.ZipFile(middle, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(8):
            zf.write(inner, f"inner{i}.zip")
    outer = tmp_path / "bomb.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(8):
            zf.write(middle, f"middle{i}.zip")
    for p in (inner, middle):
        p.unlink()
    # 64 x 16 MiB = 1 GiB if nothing stopped it
    _tree, problems = scan(tmp_path, outer)
    assert "limit" in kinds(problems)


def test_overlapping_zip_bomb(tmp_path: Path) -> None:
    """Many central-directory entries pointing at one local file (Fifield's construction)."""
    single = _zeros_zip(tmp_path / "one.zip", 8 * MiB, "a.bin").read_bytes()
    eocd = single.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", single, eocd + 16)[0]
    central = single[cd_offset:eocd]
    entries = []
    for i in range(40):
        entry = bytearray(central)
        name = f"{i:04d}.bin".encode()[:5].ljust(5, b"x")
        entry[46:51] = name  # same length as "a.bin": only the name differs
        entries.append(bytes(entry))
    cd = b"".join(entries)
    end = bytearray(single[eocd:])
    struct.pack_into("<HHII", end, 8, len(entries), len(entries), len(cd), cd_offset)
    path = tmp_path / "overlap.zip"
    path.write_bytes(single[:cd_offset] + cd + bytes(end))
    (tmp_path / "one.zip").unlink()
    _tree, problems = scan(tmp_path, path)
    assert problems and kinds(problems) & {"corrupt", "limit"}


def test_tar_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for i in range(4):
            info = tarfile.TarInfo(f"zeros{i}")
            info.size = 20 * MiB
            tf.addfile(info, io.BytesIO(b"\0" * info.size))
    _tree, problems = scan(tmp_path, path)
    assert "limit" in kinds(problems)


def test_gzip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        for _ in range(100):
            f.write(b"\0" * MiB)
    tree, problems = scan(tmp_path, path)
    assert "limit" in kinds(problems)
    assert tree.opaque and "limit" in tree.opaque
    # the partial member is removed, not left half-written
    assert not [p for p in (tmp_path / "work").rglob("*") if p.is_file()]


def test_file_count_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(SMALL.max_files + 50):
            zf.writestr(f"f{i}", b"x")
    _tree, problems = scan(tmp_path, path)
    assert any(p.kind == "limit" and "file count" in p.message for p in problems)


def test_nesting_past_the_depth_limit(tmp_path: Path) -> None:
    data = b"core"
    for _ in range(SMALL.max_depth + 4):
        data = gzip.compress(data, mtime=0)
    path = tmp_path / "deep.gz"
    path.write_bytes(data)
    tree, problems = scan(tmp_path, path)
    assert any(p.kind == "limit" and "depth" in p.message for p in problems)
    deepest = max(tree.walk(), key=lambda a: a.depth)
    assert deepest.depth == SMALL.max_depth and deepest.opaque


# -- truncated and corrupt archives of each family ------------------------------------------------

# zstd and lz4 as their command-line tools write them: with content checksums, which the
# library defaults leave out (without one, scrambled data is undetectable by design)
_PICK = {"zstd": "zstd-cli", "lz4": "lz4-cli"}
FAMILIES = [(fmt, _PICK.get(fmt, next(iter(cases)))) for fmt, cases in BUILDERS.items()
            if fmt != "nsis"]


def _damage(how: str) -> Callable[[bytes], bytes]:
    def truncate(data: bytes) -> bytes:
        # cut inside the content, not in the padding after it: in the middle of the random
        # file when a format stores it as is, else halfway through what is not padding
        at = data.find(TREE["bin/blob.bin"][30_000:30_064])
        if at < 0:
            at = len(data.rstrip(b"\xff").rstrip(b"\0")) // 2
        return data[:at]

    def corrupt(data: bytes) -> bytes:
        # keep the head (so the format is still detected), scramble the structures after it
        buf = bytearray(data)
        rng = __import__("random").Random(len(data))
        for i in range(64, len(buf), 97):
            if i < 512 or 0x400 <= i < 0x440 or 0x8000 <= i < 0x8010:
                continue  # where the detectors look: keep it, so the format is still tried
            buf[i] = rng.randrange(256)
        return bytes(buf)

    return truncate if how == "truncated" else corrupt


@pytest.mark.parametrize("how", ["truncated", "corrupt"])
@pytest.mark.parametrize(("fmt", "case"), FAMILIES, ids=[f for f, _ in FAMILIES])
def test_damaged_archives(fmt: str, case: str, how: str, tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    built = BUILDERS[fmt][case](tmp_path / "build")
    damaged = tmp_path / ("damaged-" + built.path.name)
    damaged.write_bytes(_damage(how)(built.path.read_bytes()))
    tree, problems = scan(tmp_path, damaged)
    assert tree.sha256  # the damaged blob itself is still in the result, hashed
    assert problems, f"{how} {fmt} left no Problem: {[a.path for a in tree.walk()]}"


def test_unreadable_input_is_a_result_not_an_exception(tmp_path: Path) -> None:
    missing = tmp_path / "nope.bin"
    tree, problems = extract(missing, tmp_path / "work")
    assert tree.opaque and problems


def test_interrupted_scan_leaves_no_partial_member(tmp_path: Path) -> None:
    """A limit that trips mid-member removes the partial file before the branch stops."""
    path = tmp_path / "big.gz"
    with gzip.open(path, "wb") as f:
        f.write(os.urandom(3 * MiB))
    limits = Limits(max_total_bytes=1 * MiB)
    _tree, problems = scan(tmp_path, path, limits)
    assert "limit" in kinds(problems)
    assert not [p for p in (tmp_path / "work").rglob("*") if p.is_file()]


# -- nothing left behind --------------------------------------------------------------------------

def test_scan_leaves_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        sigset) -> None:
    """Through the pipeline: extraction work, tool scratch and all, is gone after the scan,
    also when the scan is interrupted in the middle of a container; --keep-extracted keeps it."""
    import tempfile

    from provenance import pipeline

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    built = BUILDERS["tar"]["tar.gz"](tmp_path)
    pipeline.scan(built.path, sigset, pipeline.ScanOptions())
    assert not list(temp.iterdir())

    kept = tmp_path / "kept"
    pipeline.scan(built.path, sigset, pipeline.ScanOptions(keep_extracted=kept))
    assert not list(temp.iterdir())
    assert sorted(p.name for p in kept.rglob("*.txt")) == ["hello.txt"]

    def interrupted(src: Path, out: object) -> None:
        raise KeyboardInterrupt

    # a container whose extraction is interrupted after the work area was created
    stub = replace(extract_module.EXTRACTORS[1], extract=interrupted)
    monkeypatch.setattr(extract_module, "EXTRACTORS", (stub,))
    from provenance.pipeline.blobs import AnalysisOptions

    uncached = pipeline.ScanOptions(analysis=AnalysisOptions(use_cache=False))
    with pytest.raises(KeyboardInterrupt):  # (a cached result would not unpack it again)
        pipeline.scan(built.path, sigset, uncached)
    assert not list(temp.iterdir())


def _leaves(tree: Artifact) -> dict[str, Artifact]:
    return {a.chain[-1]: a for a in tree.walk() if a.kind not in ("directory",)}


def test_duplicate_member_names_keep_every_copy(tmp_path: Path) -> None:
    # readers disagree on which of two same-named entries wins: a hidden first copy must not
    # be overwritten by a benign second one
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("lib/x.so", b"hidden first copy")
        z.writestr("lib/x.so", b"benign second copy")
        z.writestr("lib/x.so", b"third copy")
    tree, problems = scan(tmp_path, path)
    leaves = _leaves(tree)
    assert {n: a.size for n, a in leaves.items()
            if n.startswith("lib/")} == {"lib/x.so": 17, "lib/x~2.so": 18, "lib/x~3.so": 10}
    dups = [p for p in problems if p.kind == "duplicate"]
    assert [p.location for p in dups] == ["dup.zip!/lib/x.so"] * 2
    assert "'lib/x~2.so'" in dups[0].message and "'lib/x~3.so'" in dups[1].message


def test_a_file_and_a_link_of_the_same_name_are_both_kept(tmp_path: Path) -> None:
    path = tmp_path / "dup.tar"
    with tarfile.open(path, "w") as tar:
        link = tarfile.TarInfo("bin/tool")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        tar.addfile(link)
        data = b"a real binary hidden behind the link's name"
        info = tarfile.TarInfo("bin/tool")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    tree, problems = scan(tmp_path, path)
    leaves = _leaves(tree)
    assert leaves["bin/tool"].kind == "symlink"
    assert leaves["bin/tool~2"].size == 43 and leaves["bin/tool~2"].kind == "file"
    assert [p.kind for p in problems] == ["duplicate"]


def test_a_duplicate_name_is_seen_but_is_no_coverage_gap(tmp_path: Path) -> None:
    from provenance import pipeline, signatureset
    from provenance.model import Coverage
    from provenance.pipeline.blobs import AnalysisOptions

    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as z, pytest.warns(UserWarning):
        z.writestr("a.txt", b"one")
        z.writestr("a.txt", b"two")
    result = pipeline.scan(path, signatureset.load(),
                           pipeline.ScanOptions(analysis=AnalysisOptions(use_cache=False)))
    assert result.coverage == Coverage.COMPLETE
    assert [p.kind for p in result.problems] == ["duplicate"]
    assert {c.name for c in result.root.walk()} >= {"a.txt", "a~2.txt"}


def test_big_endian_cramfs_rewrite_is_bounded(tmp_path: Path) -> None:
    # a directory that lists itself, a block-pointer table past the end, unknown flags, and a
    # cut superblock: each is a Problem (or a library error recorded as corrupt), never a hang
    import struct

    from provenance.extract import cramfs_layout
    from provenance.extract.base import FormatProblem, Unsupported

    built = BUILDERS["cramfs"]["cramfs-big-endian"](tmp_path)
    image = bytearray(built.path.read_bytes())
    loop = bytearray(image)
    root_w2 = struct.unpack_from(">I", loop, 72)[0]
    first_child = (root_w2 & 0x3FFFFFF) * 4
    # make the first entry a directory whose entries are the root's own
    struct.pack_into(">I", loop, first_child, 0o040755 << 16)
    struct.pack_into(">I", loop, first_child + 4, 64 << 8)
    struct.pack_into(">I", loop, first_child + 8, (root_w2 & 0x3FFFFFF))
    assert cramfs_layout.normalise(bytes(loop))[:4] == cramfs_layout.MAGIC_LE
    far = bytearray(image)
    struct.pack_into(">I", far, first_child, 0o100644 << 16)
    struct.pack_into(">I", far, first_child + 4, 40_000 << 8)
    struct.pack_into(">I", far, first_child + 8, (len(far) // 4 - 2))
    with pytest.raises(FormatProblem, match="past the end"):
        cramfs_layout.normalise(bytes(far))
    flagged = bytearray(image)
    struct.pack_into(">I", flagged, 8, 0x800)
    with pytest.raises(Unsupported):
        cramfs_layout.normalise(bytes(flagged))
    with pytest.raises(FormatProblem, match="truncated"):
        cramfs_layout.normalise(bytes(image[:70]))
    for name, data in (("loop", loop), ("far", far), ("flagged", flagged)):
        path = tmp_path / f"{name}.cramfs"
        path.write_bytes(data)
        tree, problems = scan(tmp_path / name, path)
        assert tree.kind == "cramfs" and problems


def test_a_member_through_a_symlink_is_recorded_as_unsafe(tmp_path: Path, sigset) -> None:
    """`link` -> /tmp, then `link/file`: kept inside the root (the link is never followed),
    and recorded as an unsafe Problem once per link, so coverage is not `complete`."""
    from provenance import pipeline
    from provenance.model import Coverage
    from provenance.pipeline import AnalysisOptions

    u = uuid.uuid4().hex[:8]
    path = tmp_path / "through.tar"
    with tarfile.open(path, "w") as tf:
        for name, target in (("link", "/tmp"), ("up", "../..")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
        for name in (f"link/escape-{u}.txt", f"link/escape2-{u}.txt", f"up/escape3-{u}.txt",
                     "ok.txt"):
            info = tarfile.TarInfo(name)
            info.size = 4
            tf.addfile(info, io.BytesIO(b"evil"))
    tree, problems = scan(tmp_path, path)
    _assert_no_escape(tmp_path, u)
    assert not list(Path("/tmp").glob(f"escape*-{u}.txt"))
    through = [p for p in problems if "runs through the symlink" in p.message]
    assert [(p.kind, p.location) for p in through] == [
        ("unsafe", f"through.tar!/link/escape-{u}.txt"),
        ("unsafe", f"through.tar!/up/escape3-{u}.txt")]
    assert "'/tmp'" in through[0].message
    assert f"link/escape-{u}.txt" in {c.chain[-1] for c in tree.children}
    result = pipeline.scan(path, sigset, pipeline.ScanOptions(
        limits=SMALL, analysis=AnalysisOptions(use_cache=False)))
    assert result.coverage == Coverage.PARTIAL
