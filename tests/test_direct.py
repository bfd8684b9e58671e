"""Direct mode (provenance/direct.py): a repeated `scan -q --reproducible` is answered before
the CLI starts, and only while everything the first run read still holds what it held."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provenance import caching, direct
from provenance.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_pending(monkeypatch):
    """What `answer` notes for the scan command is this test's only."""
    monkeypatch.setattr(direct, "_pending", None)


@pytest.fixture
def fresh_ok(monkeypatch):
    """Inputs written by the test a moment ago still make entries (the margin for the kernel's
    coarse clock is tested on its own)."""
    monkeypatch.setattr(direct, "RACY_SECONDS", -3600.0)


def launch(argv: list[str]) -> tuple[int, str]:
    """What `provenance.__main__` does, in this process: (exit code, "hit" or "miss")."""
    code = direct.answer(argv)
    if code is not None:
        return code, "hit"
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    return result.exit_code, "miss"


@pytest.fixture
def image(restricted_sample, tmp_path) -> Path:
    work = tmp_path / "in"
    work.mkdir()
    return Path(shutil.copy(restricted_sample, work / restricted_sample.name))


def argv(image: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["scan", str(image), "-q", "--reproducible", "--jobs", "1", "--cache-dir",
            str(tmp_path / "cache"), "-o", str(tmp_path / "r.cdx.json"), "-o",
            str(tmp_path / "r.sarif"), *extra]


def reports(tmp_path: Path) -> list[bytes]:
    return [(tmp_path / n).read_bytes() for n in ("r.cdx.json", "r.sarif")]


def entries(tmp_path: Path) -> list[Path]:
    where = tmp_path / "cache" / direct.DIRECTORY
    return sorted(p for p in where.iterdir() if not p.name.startswith(".")) \
        if where.exists() else []


def test_a_repeated_scan_is_answered_before_typer_or_the_pipeline_is_imported(
        restricted_sample, tmp_path):
    """The real command, in its own processes: the bundled sample is older than the margin."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    cmd = [sys.executable, "-X", "importtime", "-m", "provenance", "scan", str(restricted_sample),
           "-q", "--reproducible", "--jobs", "1", "-o", str(tmp_path / "r.cdx.json"), "-o", "-"]
    cold = subprocess.run(cmd, env=env, capture_output=True, cwd=tmp_path)
    assert cold.returncode == 1, cold.stderr[-2000:]  # restricted
    first = (tmp_path / "r.cdx.json").read_bytes()
    (tmp_path / "r.cdx.json").unlink()
    assert len(list((tmp_path / "xdg" / "provenance" / direct.DIRECTORY).iterdir())) == 1
    warm = subprocess.run(cmd, env=env, capture_output=True, cwd=tmp_path)
    assert warm.returncode == 1
    assert (tmp_path / "r.cdx.json").read_bytes() == first
    assert warm.stdout == cold.stdout and warm.stdout.startswith(b"{")  # the SARIF, on stdout
    imported = {line.rsplit(b"|", 1)[-1].strip().decode() for line in warm.stderr.splitlines()
                if line.startswith(b"import time:")}
    assert "provenance.direct" in imported
    assert not {m for m in imported if m.split(".")[0] == "typer"
                or m.startswith(("provenance.pipeline", "provenance.cli", "lief", "yara"))}
    # the cold run did import them: the check above can fail
    assert b"provenance.pipeline" in cold.stderr and b" typer" in cold.stderr


def test_an_answer_is_the_scan_it_stands_for(image, tmp_path, fresh_ok):
    cold = launch(argv(image, tmp_path))
    assert cold == (1, "miss")
    written = reports(tmp_path)
    assert len(entries(tmp_path)) == 1
    for path in (tmp_path / "r.cdx.json", tmp_path / "r.sarif"):
        path.unlink()
    assert launch(argv(image, tmp_path)) == (1, "hit")
    assert reports(tmp_path) == written
    # another --fail-on is another command line: scanned (from the memo), then answered
    assert launch(argv(image, tmp_path, "--fail-on", "never")) == (0, "miss")
    assert launch(argv(image, tmp_path, "--fail-on", "never")) == (0, "hit")
    assert reports(tmp_path) == written


def test_a_changed_input_environment_config_or_signature_file_is_a_miss(
        image, tmp_path, fresh_ok, monkeypatch):
    extra = tmp_path / "sigs"
    extra.mkdir()
    line = argv(image, tmp_path, "--signatures", str(extra))
    assert launch(line) == (1, "miss")
    assert launch(line) == (1, "hit")

    (extra / "notes.txt").write_text("not a rule, but under the directory\n")
    assert launch(line) == (1, "miss")  # every name under a signature directory counts
    assert launch(line) == (1, "hit")

    config = image.parent / "provenance.toml"
    config.write_text('fail-on = "never"\n')
    assert launch(line) == (0, "miss")  # the config file now found above the input
    assert launch(line) == (0, "hit")
    config.write_text('fail-on = "review"\n')
    assert launch(line) == (1, "miss")
    config.unlink()
    assert launch(line) == (1, "miss")

    monkeypatch.setenv("PROVENANCE_FAIL_ON", "never")
    assert launch(line) == (0, "miss")
    monkeypatch.delenv("PROVENANCE_FAIL_ON")
    assert launch(line) == (1, "hit")

    image.write_bytes(image.read_bytes() + b"\0")  # other bytes, the same name
    assert launch(line)[1] == "miss"
    assert launch(line)[1] == "hit"


def test_another_build_or_another_day_is_a_miss(image, tmp_path, fresh_ok, monkeypatch):
    line = argv(image, tmp_path)
    assert launch(line) == (1, "miss")
    monkeypatch.setattr(direct, "tool_key", lambda: caching.tool_key() + "-edited")
    assert direct.answer(line) is None
    monkeypatch.setattr(direct, "tool_key", caching.tool_key)
    assert direct.answer(line) == 1

    class Tomorrow(date):
        @classmethod
        def today(cls):
            return date.today() + timedelta(days=1)

    monkeypatch.setattr(direct, "date", Tomorrow)
    assert direct.answer(line) is None  # judged as of the day it ran
    monkeypatch.setattr(direct, "date", date)
    assert direct.answer(line) == 1
    # with --as-of, the day the scan runs does not matter
    dated = argv(image, tmp_path, "--as-of", "2026-01-01")
    assert launch(dated)[1] == "miss"
    monkeypatch.setattr(direct, "date", Tomorrow)
    assert launch(dated)[1] == "hit"


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "code", "forged", "empty"])
def test_a_damaged_entry_is_a_miss_and_the_scan_writes_the_reports(
        image, tmp_path, fresh_ok, damage):
    line = argv(image, tmp_path)
    launch(line)
    written = reports(tmp_path)
    (entry,) = entries(tmp_path)
    data = entry.read_bytes()
    _, _, body = data.partition(b"\n")
    head, _, rest = body.partition(b"\n")
    if damage == "truncate":
        data = data[:-10]
    elif damage == "flip":
        data = data[:-100] + bytes([data[-100] ^ 1]) + data[-99:]
    elif damage == "header":  # well formed, checksum right, a dep of the wrong shape
        fields = json.loads(head)
        fields["deps"] = [["file", 3, 4]]
        body = json.dumps(fields).encode() + b"\n" + rest
        data = b"%08x\n" % zlib.crc32(body) + body
    elif damage == "code":  # one bit: exit 1 would read as 0
        assert b'"code": 1' in data
        data = data.replace(b'"code": 1', b'"code": 0')
    elif damage == "forged":  # another version's
        fields = json.loads(head)
        fields["version"] = 1
        body = json.dumps(fields).encode() + b"\n" + rest
        data = b"%08x\n" % zlib.crc32(body) + body
    else:
        data = b""
    entry.write_bytes(data)
    for path in (tmp_path / "r.cdx.json", tmp_path / "r.sarif"):
        path.unlink()
    assert direct.answer(line) is None
    assert not (tmp_path / "r.cdx.json").exists()  # nothing half-written
    assert launch(line) == (1, "miss")
    assert reports(tmp_path) == written
    assert direct.answer(line) == 1  # and recorded again


def test_a_file_changed_after_the_scan_started_makes_no_entry(image, tmp_path):
    """The default margin: an input written just now might change again within the kernel's
    clock tick, unseen; the next run records it."""
    line = argv(image, tmp_path)
    assert launch(line) == (1, "miss")
    assert entries(tmp_path) == []
    os.utime(image, (time.time() - 10, time.time() - 10))  # mtime: no help, ctime is now
    assert launch(line) == (1, "miss")
    assert entries(tmp_path) == []


def test_a_file_removed_while_the_scan_ran_makes_no_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(direct, "_pending", direct.Pending("k", time.time() + 3600, tmp_path))
    there = tmp_path / "provenance.toml"
    there.write_text("")
    watch = direct.watch([("file", str(there))])
    assert watch is not None
    there.unlink()
    assert not watch.record(tmp_path, False, ["-"], [b""], 0)
    watch = direct.watch([("file", str(there))])
    assert watch is not None and watch.record(tmp_path, False, ["-"], [b""], 0)
    # a scan that wrote its cache elsewhere than the launcher looks leaves nothing to find
    assert not watch.record(tmp_path / "elsewhere", False, ["-"], [b""], 0)


def test_the_launcher_looks_where_the_command_line_names_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PROVENANCE_CACHE_DIR", raising=False)
    assert direct.look_in(["scan", "x"], os.environ) == tmp_path / "xdg" / "provenance"
    monkeypatch.setenv("PROVENANCE_CACHE_DIR", "env")
    assert direct.look_in(["scan", "x"], os.environ) == Path("env")
    assert direct.look_in(["scan", "--cache-dir", "a", "x"], os.environ) == Path("a")
    assert direct.look_in(["scan", "--cache-dir=b", "x"], os.environ) == Path("b")
    assert direct.look_in(["scan", "--", "--cache-dir=b"], os.environ) == Path("env")
    # the shell's `_` is not part of the command
    assert direct.command_key(["scan"], {"_": "/a"}, "/") == \
        direct.command_key(["scan"], {"_": "/b"}, "/")
    assert direct.command_key(["scan"], {"A": "1"}, "/") != \
        direct.command_key(["scan"], {"A": "2"}, "/")


def test_only_a_quiet_reproducible_scan_of_a_file_is_recorded(image, tmp_path, fresh_ok):
    loud = [a for a in argv(image, tmp_path) if a != "-q"]
    assert launch(loud)[1] == "miss" and entries(tmp_path) == []
    assert launch([a for a in argv(image, tmp_path) if a != "--reproducible"])[1] == "miss"
    assert entries(tmp_path) == []
    assert launch([*argv(image, tmp_path), "--no-cache"])[1] == "miss"
    assert entries(tmp_path) == []
    assert direct.answer(["render", "x"]) is None and direct._pending is None


def test_every_other_command_goes_straight_to_the_cli(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "provenance", "--help"],
                          env=env, capture_output=True)
    assert done.returncode == 0 and b"scan" in done.stdout
    assert b"provenance.direct" not in done.stderr


def test_a_fault_in_direct_mode_is_a_miss_the_cli_answers(image, tmp_path, fresh_ok,
                                                          monkeypatch):
    line = argv(image, tmp_path)
    monkeypatch.setenv("PROVENANCE_DEBUG", "1")  # part of the command line's key
    launch(line)
    monkeypatch.delenv("PROVENANCE_DEBUG")
    launch(line)
    written = reports(tmp_path)
    assert len(entries(tmp_path)) == 2

    def broken(*_args):
        raise RuntimeError("a bug in the cache")

    monkeypatch.setattr(direct, "fingerprint", broken)
    assert launch(line) == (1, "miss")
    assert reports(tmp_path) == written
    monkeypatch.setenv("PROVENANCE_DEBUG", "1")
    with pytest.raises(RuntimeError):
        direct.answer(line)


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The files direct mode reads to hash them, as they are hashed."""
    import hashlib

    read: list[str] = []
    real = hashlib.file_digest

    def counted(f, *args):
        read.append(os.readlink(f"/proc/self/fd/{f.fileno()}"))
        return real(f, *args)

    monkeypatch.setattr(hashlib, "file_digest", counted)
    return read


def test_an_unchanged_input_is_not_read_again_and_a_rewritten_one_always_is(
        image, tmp_path, fresh_ok, hashed):
    """The input's stamp (device, inode, size, times) stands for its bytes; a write keeping
    the size and putting the modification time back still changes the change time."""
    line = argv(image, tmp_path)
    assert launch(line) == (1, "miss")
    hashed.clear()
    assert launch(line) == (1, "hit")
    assert str(image) not in hashed  # the 5 KB sample stands in for a 500 MB image
    before = image.stat()
    data = bytearray(image.read_bytes())
    data[-1] ^= 0xFF  # the gzip trailer's last byte: same size, other bytes
    image.write_bytes(bytes(data))
    os.utime(image, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert image.stat().st_size == before.st_size
    assert image.stat().st_mtime_ns == before.st_mtime_ns
    assert launch(line)[1] == "miss"
    assert str(image) in hashed


def test_the_cold_scan_records_the_digest_it_took_without_reading_the_input_again(
        image, tmp_path, fresh_ok, hashed):
    """The scan hashed its input; with the input's stamp the one it had at the start, the
    entry takes that digest (a 443 MiB image was read a third time for it, 0.35 s)."""
    import hashlib

    line = argv(image, tmp_path)
    assert launch(line) == (1, "miss")
    assert str(image) not in hashed and len(entries(tmp_path)) == 1
    head = json.loads(entries(tmp_path)[0].read_bytes().split(b"\n")[1])
    held = {path: value for kind, path, value, _ in head["deps"] if kind == "file"}
    assert held[str(image)] == "sha256:" + hashlib.sha256(image.read_bytes()).hexdigest()
    assert launch(line) == (1, "hit")


def test_a_change_time_on_a_whole_second_gives_no_stamp():
    def stat(ctime_ns: int) -> os.stat_result:
        # mode, inode, device, links, uid, gid, size, three times in s (int, float), then ns
        return os.stat_result((0o100644, 7, 8, 1, 0, 0, 10, 0, 0, 3, 0.0, 0.0, 3.0,
                               0, 2_000_000_000, ctime_ns))

    fine, coarse = stat(3_000_000_004), stat(3_000_000_000)
    assert direct._stamp(fine) and direct._stamp(coarse) == ""


def test_the_parser_versions_are_the_ones_importlib_metadata_reads(tmp_path, monkeypatch):
    """The tool build's key reads installed versions from `.dist-info` names, without
    importlib.metadata (its import was a third of a direct answer); the same versions, the
    first on sys.path as importlib.metadata takes it, and a name compared as PEP 503 says."""
    from importlib import metadata

    from provenance import caching

    assert caching.installed(caching.PARSERS) == {
        dist: metadata.version(dist) for dist in caching.PARSERS}
    for where, version in (("a", "9.9"), ("b", "1.0")):
        (tmp_path / where / f"Yara_Python-{version}.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert caching.installed(("yara-python", "lief")) == {"yara-python": "9.9"}
