"""The walker: unknown inputs, blobs the carver declines, corrupt zip members, the node hook."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from provenance.extract import extract


def test_high_entropy_unknown_input_is_opaque_with_the_reason(tmp_path):
    blob = tmp_path / "fw.enc"
    blob.write_bytes(random.Random(7).randbytes(256 << 10))
    root, problems = extract(blob, tmp_path / "x")
    assert root.kind == "unknown" and "likely encrypted or compressed" in (root.opaque or "")
    assert [p.kind for p in problems] == ["encrypted-or-compressed"]


def test_low_entropy_unknown_input_is_a_plain_file(tmp_path):
    blob = tmp_path / "nvram.bin"
    blob.write_bytes(b"\xff" * (128 << 10) + b"config=1\n" * 100)
    root, problems = extract(blob, tmp_path / "x")
    assert (root.kind, root.opaque, problems) == ("file", None, ())


def test_high_entropy_member_is_not_flagged(tmp_path):
    # only the input itself: compressed members (images, packed data) are ordinary
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("photo.jpg.enc", random.Random(3).randbytes(128 << 10))
    root, problems = extract(archive, tmp_path / "x")
    assert problems == () and root.children[0].opaque is None


def test_corrupt_deflate_member_is_a_problem_and_the_rest_is_extracted(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", b"A" * 5000)
        zf.writestr("b.txt", b"B" * 5000)
    data = bytearray(buf.getvalue())
    start = data.index(b"a.txt") + len("a.txt")
    data[start + 2:start + 12] = b"\xff" * 10  # break a.txt's deflate stream
    archive = tmp_path / "bad.zip"
    archive.write_bytes(bytes(data))
    root, problems = extract(archive, tmp_path / "x")
    b = next(c for c in root.children if c.chain[-1] == "b.txt")
    assert b.size == 5000  # the intact member is complete
    # the broken one keeps what was read, and says so
    assert any(p.location.endswith("!/a.txt") and p.kind == "corrupt" for p in problems)


def test_every_blob_is_reported_once_members_before_their_container(tmp_path, clean_sample):
    seen = []
    root, _ = extract(clean_sample, tmp_path / "x", on_node=seen.append)
    assert [a.chain for a in seen][-1] == root.chain
    assert sorted(a.chain for a in seen) == sorted(a.chain for a in root.walk())


def test_only_the_input_itself_is_judged_by_entropy(tmp_path):
    top = tmp_path / "dir"
    top.mkdir()
    (top / "tables.bin").write_bytes(random.Random(5).randbytes(256 << 10))
    root, problems = extract(top, tmp_path / "x")  # a file in an input directory is a member
    assert problems == () and root.children[0].kind == "file"
    dense_elf = tmp_path / "GB18030.so"
    dense_elf.write_bytes(b"\x7fELF\x02\x01\x01" + random.Random(6).randbytes(256 << 10))
    root, problems = extract(dense_elf, tmp_path / "y")  # known executables are read, not opaque
    assert problems == () and root.opaque is None


def test_zip_member_with_an_empty_name_is_a_problem(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("kernel.img", b"K" * 100)
        zf.writestr("ok.txt", b"fine")
    # found by fuzzing the Dahua reader: a NUL as the first byte of a central-directory name
    data = buf.getvalue().replace(b"kernel.img", b"\x00ernel.img")
    archive = tmp_path / "nul.zip"
    archive.write_bytes(data)
    root, problems = extract(archive, tmp_path / "x")
    assert [c.chain[-1] for c in root.children] == ["ok.txt"]
    assert any("empty name" in p.message for p in problems)


@pytest.mark.parametrize(("magic", "major", "order"), [(b"hsqs", 3, "<"), (b"sqsh", 3, ">"),
                                                       (b"sqsh", 4, ">")])
def test_older_squashfs_is_opaque_and_unsupported_not_a_plain_file(tmp_path, magic, major,
                                                                   order):
    import struct

    header = bytearray(magic + bytes(92))
    header[28:30] = struct.pack(order + "H", major)
    path = tmp_path / "rootfs.img"
    path.write_bytes(bytes(header) + bytes(4000))
    tree, problems = extract(path, tmp_path / "w")
    assert tree.kind == "squashfs" and "only little-endian version 4" in (tree.opaque or "")
    assert [p.kind for p in problems] == ["unsupported"]


def test_members_are_finished_while_their_container_is_still_unpacking(tmp_path, monkeypatch):
    """Each member is classified from the digest and head taken as it was written, and a plain
    one goes to analysis at once: when the first is handed over, the last is not written yet,
    and no member is read back to be hashed (only the input is)."""
    import provenance.extract as extract_module

    src = tmp_path / "in.tar"
    blobs = {f"m{i:02d}.txt": f"member {i}\n".encode() * (i + 1) for i in range(12)}
    blobs["inner.zip"] = _zip({"z.txt": b"zipped\n"})
    _tar_of(src, blobs)
    from provenance.extract import saferoot

    hashed = []
    real_hash = extract_module.hash_file
    # the walk's own reads, and the input's (`hash_input` remembers it for the scan)
    for module in (extract_module, saferoot):
        monkeypatch.setattr(module, "hash_file", lambda p: hashed.append(p) or real_hash(p))
    handed: list[tuple[str, bool]] = []

    def on_node(artifact):
        last = artifact.local.parent / "inner.zip"
        handed.append((artifact.chain[-1], last.exists()))

    root, problems = extract(src, tmp_path / "work", on_node=on_node)
    assert problems == ()
    assert handed[0] == ("m00.txt", False)  # the zip (written last) is not there yet
    assert [h[0] for h in handed] == [*sorted(n for n in blobs if n != "inner.zip"), "z.txt",
                                       "inner.zip", "in.tar"]
    assert hashed == [src]  # members' digests come from their writes, the input's from disk
    import hashlib

    by_name = {a.chain[-1]: a for a in root.walk()}
    for name, data in blobs.items():
        assert by_name[name].sha256 == hashlib.sha256(data).hexdigest()
        assert by_name[name].size == len(data)
    assert by_name["z.txt"].sha256 == hashlib.sha256(b"zipped\n").hexdigest()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar_of(path, files: dict[str, bytes]) -> None:
    import tarfile

    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_the_input_is_unpacked_while_its_digest_is_taken(tmp_path):
    """The input's SHA-256 may arrive after the walk has started (`extract.Digest`: a worker
    takes it): the members are unpacked and handed on meanwhile, and the input is handed on
    last, with its own digest, never the placeholder."""
    import hashlib
    from concurrent.futures import Future

    src = tmp_path / "in.tar"
    _tar_of(src, {"a.txt": b"alpha\n", "b.txt": b"beta\n"})
    taking: Future[tuple[str, int, bytes]] = Future()
    handed = []

    def on_node(artifact):
        handed.append((artifact.chain[-1], artifact.sha256, taking.done()))
        if not taking.done():  # the digest comes in while the walk is under way
            data = src.read_bytes()
            taking.set_result((hashlib.sha256(data).hexdigest(), len(data), data[:4096]))

    root, problems = extract(src, tmp_path / "work", on_node=on_node,
                             digest=lambda path: taking)
    assert problems == ()
    expected = hashlib.sha256(src.read_bytes()).hexdigest()
    assert root.sha256 == expected and root.size == src.stat().st_size
    assert handed[0][0] == "a.txt" and handed[0][2] is False  # unpacked before the digest came
    assert handed[-1] == ("in.tar", expected, True)


def test_a_digest_lost_with_its_worker_is_taken_here(tmp_path):
    """The process taking the input's digest died (a broken pool): it is taken here; a read
    error is the input's, and the input is unreadable."""
    import hashlib
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    src = tmp_path / "in.tar"
    _tar_of(src, {"a.txt": b"alpha\n"})

    def failing(exc: BaseException):
        taking: Future[tuple[str, int, bytes]] = Future()
        taking.set_exception(exc)
        return lambda path: _Pending(taking)  # failed once the walk asks for it

    root, _ = extract(src, tmp_path / "w1", digest=failing(BrokenProcessPool("gone")))
    assert root.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert [c.chain[-1] for c in root.children] == ["a.txt"]
    root, problems = extract(src, tmp_path / "w2",
                             digest=failing(OSError(5, "Input/output error")))
    assert root.kind == "unreadable"
    assert [p.message for p in problems] == ["cannot read: Input/output error"]


class _Pending:
    """A future that says it is not done yet, whatever it holds: the walk unpacks first."""

    def __init__(self, future):
        self.future = future

    def done(self) -> bool:
        return False

    def result(self):
        return self.future.result()


class _Recorded(io.BytesIO):
    """A stream that notes the size of each read asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, n: int | None = -1, /) -> bytes:
        self.asked.append(-1 if n is None else n)
        return super().read(n)


def test_a_stream_is_read_in_reads_sized_by_what_it_says_it_holds():
    """A member read in CHUNK reads asked for 1 MiB of memory per read (22 us for a 2 KB
    file): reads are sized by the declared size, plus a byte to see the end. A stream that
    holds more than it says is still read whole, a CHUNK at a time past its size; one that
    holds less ends where it ends."""
    from provenance.extract.saferoot import CHUNK, chunks

    small = _Recorded(b"x" * 2048)
    assert b"".join(chunks(small, 2048)) == b"x" * 2048
    assert small.asked == [2049, 1]
    liar = _Recorded(b"y" * (3 * CHUNK + 10))
    assert b"".join(chunks(liar, 100)) == b"y" * (3 * CHUNK + 10)
    assert liar.asked == [101, CHUNK, CHUNK, CHUNK, CHUNK]
    short = _Recorded(b"z" * 10)
    assert b"".join(chunks(short, 5000)) == b"z" * 10 and short.asked == [5001, 4991]
    unknown = _Recorded(b"w" * (CHUNK + 1))
    assert b"".join(chunks(unknown)) == b"w" * (CHUNK + 1)
    assert unknown.asked == [CHUNK, CHUNK, CHUNK]
    large = _Recorded(b"v" * (2 * CHUNK))
    assert b"".join(chunks(large, 2 * CHUNK)) == b"v" * (2 * CHUNK)
    assert large.asked == [CHUNK, CHUNK, 1]


def test_a_small_blob_read_whole_is_what_it_held_when_hashed(tmp_path):
    """The analysis reads a small blob whole, at the size it had when hashed; one that grew
    since is scanned from disk, as a large one is."""
    from provenance.pipeline.blobs import _read_head

    path = tmp_path / "blob"
    path.write_bytes(b"a" * 5000)
    head, whole = _read_head(path, 5000)
    assert head == b"a" * 4096 and whole == b"a" * 5000
    head, whole = _read_head(path, 4000)  # it held 4000 bytes when hashed
    assert head == b"a" * 4096 and whole is None
    path.write_bytes(b"")
    assert _read_head(path, 0) == (b"", b"")


def test_a_read_cut_short_is_read_on_to_the_end():
    """An unbuffered read may return less than asked before the end (network and FUSE file
    systems do): the blob is still read whole, and its head too."""
    from provenance.pipeline.blobs import _read_upto

    class Trickle(io.BytesIO):
        def read(self, n: int | None = -1, /) -> bytes:
            return super().read(min(3, n if n is not None and n >= 0 else 3))

    assert _read_upto(Trickle(b"abcdefghij"), 8) == b"abcdefgh"
    assert _read_upto(Trickle(b"abcdefghij"), 50) == b"abcdefghij"
    assert _read_upto(Trickle(b""), 5) == b""
