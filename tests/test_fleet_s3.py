"""Fleets from and to object storage: a real S3 API (moto's server on loopback) through s3fs.

Object keys and sizes are untrusted: names are sanitised, nothing lands outside the output
prefix, and a download is bounded by the extraction's total-bytes limit.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from test_fleet import _options, _reports
from typer.testing import CliRunner

from provenance.cli import app
from provenance.extract.limits import Limits
from provenance.pipeline import InputError, UsageError, fleet

BUCKET = "fleet"


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[tuple[dict[str, str], object]]:
    yield from moto_s3(tmp_path_factory)


def moto_s3(tmp_path_factory) -> Iterator[tuple[dict[str, str], object]]:
    """A moto S3 server on 127.0.0.1 with one bucket; the environment (also for subprocesses)
    that points boto at it, set in this process while the module runs; an s3fs of it."""
    s3fs = pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    nowhere = str(tmp_path_factory.mktemp("aws") / "none")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://{host}:{port}",
           "AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere}
    saved = {k: os.environ.get(k) for k in [*env, "AWS_PROFILE", "AWS_SESSION_TOKEN"]}
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(k, None)
    os.environ.update(env)
    # fsspec keeps one S3FileSystem per set of arguments: one made for an earlier server
    # (another module's) would still point at that server's port
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.makedirs(BUCKET, exist_ok=True)  # moto keeps its state per process, not per server
        yield env, fs
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()
        s3fs.S3FileSystem.clear_instance_cache()


def objects(fs, prefix: str) -> dict[str, bytes]:
    """Every object under a prefix, by key relative to it, as a fresh listing."""
    fs.invalidate_cache()
    return {key[len(prefix):]: fs.cat_file(key) for key in fs.find(prefix)}


def test_s3_in_and_out_equals_local(s3, tmp_path: Path, sigset, restricted_sample: Path,
                                    clean_sample: Path) -> None:
    _, fs = s3
    images = tmp_path / "images"
    images.mkdir()
    for sample in (restricted_sample, clean_sample):
        shutil.copy(sample, images)
    local = fleet.scan_many(images, tmp_path / "local", sigset, _options(tmp_path))
    for p in images.iterdir():
        fs.put_file(str(p), f"{BUCKET}/same/in/{p.name}")
    fs.pipe_file(f"{BUCKET}/same/in/.hidden", b"skipped like a local dot file")
    rows = fleet.scan_many(f"s3://{BUCKET}/same/in/", f"s3://{BUCKET}/same/out/", sigset,
                           _options(tmp_path / "other"))
    assert [r.input for r in rows] == [f"s3://{BUCKET}/same/in/{p.name}"
                                       for p in sorted(images.iterdir())]
    assert [replace(r, input="", seconds=0) for r in rows] == \
        [replace(r, input="", seconds=0) for r in local]
    out = objects(fs, f"{BUCKET}/same/out/")
    assert {k: v for k, v in out.items() if k.endswith(".cdx.json")} == \
        _reports(tmp_path / "local")
    summary = json.loads(out[fleet.SUMMARY_JSON])
    assert [s["verdict"] for s in summary] == ["restricted", "clear"]
    assert out[fleet.SUMMARY_CSV].splitlines()[0] == b",".join(f.encode() for f in fleet.FIELDS)
    assert not [p for p in Path(tempfile.gettempdir()).glob("provenance-fleet-*")]


def test_s3_list_file_relative_absolute_and_missing(s3, tmp_path: Path, sigset,
                                                    clean_sample: Path) -> None:
    _, fs = s3
    fs.put_file(str(clean_sample), f"{BUCKET}/lists/fw/router.zip")
    fs.pipe_file(f"{BUCKET}/lists/all.txt",
                 b"# relative to the list, from the bucket's root, a full URL, a missing one\n"
                 b"fw/router.zip\n/fleet/lists/fw/router.zip\n"
                 b"s3://fleet/lists/fw/router.zip\nfw/missing.bin\n")
    rows = fleet.scan_many(f"s3://{BUCKET}/lists/all.txt", tmp_path / "out", sigset,
                           _options(tmp_path))
    assert [r.input for r in rows] == ["s3://fleet/lists/fw/router.zip"] * 3 + \
        ["s3://fleet/lists/fw/missing.bin"]
    assert [r.verdict for r in rows] == ["clear"] * 3 + [None]
    assert rows[3].error == "s3://fleet/lists/fw/missing.bin: no such object"
    assert sorted(p.name for p in (tmp_path / "out").glob("*.cdx.json")) == \
        ["router.zip.2.cdx.json", "router.zip.3.cdx.json", "router.zip.cdx.json"]
    with pytest.raises(UsageError, match="no such object or prefix"):
        fleet.scan_many(f"s3://{BUCKET}/nothing-here", tmp_path / "o", sigset, _options(tmp_path))
    with pytest.raises(UsageError, match="s3://no-such-bucket/out: no such bucket"):
        fleet.scan_many(f"s3://{BUCKET}/lists/all.txt", "s3://no-such-bucket/out", sigset,
                        _options(tmp_path))
    assert not fs.exists("no-such-bucket")


# Keys an attacker who can upload to the input bucket might choose.
HOSTILE_KEYS = ["..\\..\\evil.sh", "a\tb\x7f.bin", "\u202egnp.exe", "..", " ", "x" * 900,
                "%2e%2e%2fup.bin"]


def test_hostile_object_keys_stay_inside_the_output(s3, tmp_path: Path, sigset) -> None:
    _, fs = s3
    for i, key in enumerate(HOSTILE_KEYS):
        fs.pipe_file(f"{BUCKET}/hostile/in/{i}/{key}", b"#!/bin/sh\necho hello\n")
    fs.pipe_file(f"{BUCKET}/hostile/in/..", b"a key that is a parent reference")
    sources = [f"s3://{BUCKET}/hostile/in/{i}/{key}" for i, key in enumerate(HOSTILE_KEYS)]
    sources.append(f"s3://{BUCKET}/hostile/in/..")
    before = set(fs.find(BUCKET))
    local_out = tmp_path / "deep" / "out"
    for out in (f"s3://{BUCKET}/hostile/out", str(local_out)):
        rows = fleet.scan_many(sources, out, sigset, _options(tmp_path))
        assert all(r.verdict == "clear" and r.report for r in rows), rows
        names = [r.report for r in rows]
        assert len(set(names)) == len(names)
        for name in names:
            assert "/" not in name and "\\" not in name and not name.startswith(".")
            assert name.isprintable() and len(name.encode()) <= 255
    fs.invalidate_cache()
    assert all(key.startswith(f"{BUCKET}/hostile/out/") for key in set(fs.find(BUCKET)) - before)
    assert sorted(p.name for p in local_out.iterdir()) == \
        sorted([*names, fleet.SUMMARY_CSV, fleet.SUMMARY_JSON])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "deep"]
    assert names[3] == "input.cdx.json" and names[0] == "evil.sh.cdx.json"


def test_download_is_bounded_by_the_extraction_limit(s3, tmp_path: Path, sigset) -> None:
    _, fs = s3
    fs.pipe_file(f"{BUCKET}/big/fw.bin", b"\x7fELF" + bytes(8000))
    fs.pipe_file(f"{BUCKET}/big/ok.txt", b"small enough\n")
    options = replace(_options(tmp_path), limits=Limits(max_total_bytes=4096))
    rows = fleet.scan_many(f"s3://{BUCKET}/big/", tmp_path / "out", sigset, options)
    assert rows[0].verdict is None and rows[0].report is None
    assert rows[0].error == ("s3://fleet/big/fw.bin: 8004 bytes, over the 4096-byte limit on "
                             "the bytes a scan may write")
    assert rows[1].verdict == "clear"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["fleet-summary.csv", "fleet-summary.json", "ok.txt.cdx.json"]


def test_copy_stops_at_the_limit_whatever_the_store_declared() -> None:
    out = io.BytesIO()
    assert fleet.copy_bounded(io.BytesIO(b"x" * 5000), out, 5000, "n") == 5000
    with pytest.raises(InputError, match="more than the 4999-byte limit"):
        fleet.copy_bounded(io.BytesIO(b"x" * 5000), io.BytesIO(), 4999, "n")


def test_safe_names() -> None:
    assert fleet.safe_name("s3://b/fw/router-v1.2+3.bin") == "router-v1.2+3.bin"
    assert fleet.safe_name("s3://b/dir/") == "dir"
    assert fleet.safe_name("s3://b/k/..") == "input"
    assert fleet.safe_name("s3://b/k/..\\..\\x") == "x"
    assert fleet.safe_name("s3://b/.bashrc") == "bashrc"
    assert fleet.safe_name("s3://b/-rf") == "rf" and fleet.safe_name("s3://b/+1") == "1"
    assert fleet.safe_name("gs://b/a b\tc\x00d") == "a_b_c_d"
    assert fleet.safe_name("s3://b/固件.bin") == "固件.bin"
    assert len(fleet.safe_name("s3://b/" + "固" * 300).encode()) <= fleet.MAX_NAME_BYTES
    assert fleet.report_names(["s3://a/FW.bin", "s3://b/fw.bin", "fw.bin.2", "x/fw.bin"]) == \
        ["FW.bin.cdx.json", "fw.bin.2.cdx.json", "fw.bin.2.2.cdx.json", "fw.bin.3.cdx.json"]


def test_cli_with_urls(s3, tmp_path: Path, clean_sample: Path) -> None:
    _, fs = s3
    fs.put_file(str(clean_sample), f"{BUCKET}/cli/in/{clean_sample.name}")
    result = CliRunner().invoke(app, ["fleet", f"s3://{BUCKET}/cli/in/", "--out-dir",
                                      f"s3://{BUCKET}/cli/out/", "-j", "1", "--cache-dir",
                                      str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert f"summary in s3://{BUCKET}/cli/out/fleet-summary.csv" in result.output
    assert set(objects(fs, f"{BUCKET}/cli/out/")) == \
        {"router-clean.zip.cdx.json", fleet.SUMMARY_CSV, fleet.SUMMARY_JSON}
    missing = CliRunner().invoke(app, ["fleet", f"s3://{BUCKET}/cli/none/", "--out-dir",
                                       str(tmp_path / "o")])
    assert missing.exit_code == 2 and "no such object or prefix" in missing.output
    local = tmp_path / "images"
    local.mkdir()
    shutil.copy(clean_sample, local)
    done = CliRunner().invoke(app, ["fleet", f"file://{local}", "--out-dir",
                                    f"file://{tmp_path / 'lo'}", "-j", "1", "--no-cache"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "lo" / "router-clean.zip.cdx.json").exists()


def test_urls_without_the_extra_are_a_usage_error(monkeypatch, tmp_path: Path, sigset) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)  # as if not installed: import fails
    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    with pytest.raises(UsageError, match=r"fleet extra: pip install 'provenance\[fleet\]'"):
        fleet.scan_many("s3://b/x/", tmp_path / "o", sigset, _options(tmp_path))


def test_unknown_protocol_is_a_usage_error(tmp_path: Path, sigset) -> None:
    pytest.importorskip("fsspec")
    with pytest.raises(UsageError, match="nosuchproto://x"):
        fleet.scan_many("nosuchproto://x/", tmp_path / "o", sigset, _options(tmp_path))
