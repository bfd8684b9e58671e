"""A fleet on a Dask cluster run the way users run one: `dask scheduler` and two `dask worker`
processes (each a nanny and its worker), inputs and reports on S3 (moto's server on loopback).
A worker SIGKILLed in the middle of a scan loses no image, and reports none twice."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from test_analysis import make_tar, tree_files
from test_fleet import _options, _reports
from test_fleet_s3 import BUCKET, moto_s3, objects
from typer.testing import CliRunner

import provenance
from provenance.cli import app
from provenance.pipeline import fleet

distributed = pytest.importorskip("distributed")
ROOT = Path(provenance.__file__).resolve().parent.parent


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "dask", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(procs: list[subprocess.Popen]) -> None:
    """Each process was started in a session of its own: its group is it and its children
    (a nanny's worker, multiprocessing's resource tracker), and nothing else. SIGTERM first,
    all together: a group killed outright takes its resource tracker with it, and the named
    semaphores it would have removed stay in /dev/shm (twelve per run of this module)."""
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, None)):
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, sig)
        deadline = time.monotonic() + (wait or 60.0)
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
        if all(p.poll() is not None for p in procs):
            return


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[tuple[dict[str, str], object]]:
    yield from moto_s3(tmp_path_factory)


@pytest.fixture(scope="module")
def cluster(s3, tmp_path_factory) -> Iterator[tuple[str, object]]:
    """The scheduler's address and a client of it (the processes' logs are in its directory)."""
    env_s3, _ = s3
    top = tmp_path_factory.mktemp("dask")
    env = os.environ | env_s3 | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "XDG_CACHE_HOME": str(top / "cache")}
    sched_file = top / "scheduler.json"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(sched_file)], env, top / "scheduler.log")]
    try:
        for i in range(2):
            procs.append(_start(["worker", "--scheduler-file", str(sched_file), "--host",
                                 "127.0.0.1", "--nthreads", "1", "--name", f"w{i}",
                                 "--no-dashboard", "--local-directory", str(top / f"w{i}")],
                                env, top / f"worker{i}.log"))
        deadline = time.monotonic() + 90
        while not sched_file.exists():
            assert procs[0].poll() is None, (top / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        client = distributed.Client(scheduler_file=str(sched_file), timeout=60)
        try:
            client.wait_for_workers(2, timeout=90)
            yield client.scheduler.address, client
        finally:
            client.close()
    finally:
        _stop(procs)


class KillDuringScan(distributed.WorkerPlugin):
    """On the first worker to start a task whose key contains `marker`: SIGKILL the worker's
    own process once the input is being downloaded or scanned in its scratch space (its file
    exists there). A file created with O_EXCL makes it one kill per fleet: the retry runs.
    Pickled by value (see below): the workers cannot import this test module."""

    name = "provenance-test-kill"

    def __init__(self, marker: str, flag: str) -> None:
        self.marker, self.flag, self.key = marker, flag, ""

    def setup(self, worker) -> None:
        self.scratch = Path(worker.local_directory)

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish == "executing" and self.marker in str(key):
            self.key = str(key)
            threading.Thread(target=self._kill, daemon=True).start()

    def _kill(self) -> None:
        deadline = time.monotonic() + 60
        while not list(self.scratch.glob(f"provenance-fleet-*/{self.marker}")):
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        try:
            fd = os.open(self.flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, f"{os.getpid()} {self.key}".encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


def test_killed_worker_loses_no_image_and_doubles_none(cluster, s3, tmp_path: Path, sigset,
                                                       restricted_sample: Path,
                                                       clean_sample: Path) -> None:
    address, client = cluster
    _, fs = s3
    big = make_tar(tmp_path / "big.tar.gz", tree_files(60, seed=3))
    for p in (big, restricted_sample, clean_sample):
        fs.put_file(str(p), f"{BUCKET}/kill/in/{p.name}")
    flag = tmp_path / "killed"
    cloudpickle = pytest.importorskip("cloudpickle")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        client.register_plugin(KillDuringScan("big.tar.gz", str(flag)))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    try:
        rows = fleet.scan_many(f"s3://{BUCKET}/kill/in/", f"s3://{BUCKET}/kill/out/", sigset,
                               _options(tmp_path), address)
    finally:
        client.unregister_worker_plugin(KillDuringScan.name)
    _, key = flag.read_text().split(" ", 1)  # the kill happened, during this task
    assert [r.input for r in rows] == [f"s3://{BUCKET}/kill/in/{n}" for n in
                                       ("big.tar.gz", "ipcam-hi3516ev200.tar.gz",
                                        "router-clean.zip")]
    assert [r.verdict for r in rows] == ["restricted", "restricted", "clear"], rows
    assert all(r.error is None for r in rows)
    # the big image ran again after its worker died: the scheduler saw it processing twice
    story = client.story(key)
    assert sum(1 for event in story if event[3] == "processing") >= 2, story
    out = objects(fs, f"{BUCKET}/kill/out/")
    assert sorted(out) == sorted([fleet.SUMMARY_CSV, fleet.SUMMARY_JSON,
                                  *(r.report for r in rows)])
    summary = json.loads(out[fleet.SUMMARY_JSON])
    assert [s["input"] for s in summary] == [r.input for r in rows]
    report = json.loads(out["big.tar.gz.cdx.json"])
    assert report["metadata"]["component"]["name"] == "big.tar.gz"
    assert len(report["components"]) > 100


def test_local_output_is_written_by_the_client_as_a_serial_run_would(
        cluster, tmp_path: Path, sigset, restricted_sample: Path, clean_sample: Path) -> None:
    address, _ = cluster
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(restricted_sample, images / restricted_sample.name)
    shutil.copy(clean_sample, images / clean_sample.name)
    make_tar(images / "generated.tar.gz", tree_files(12))
    serial = fleet.scan_many(images, tmp_path / "serial", sigset, _options(tmp_path))
    remote = fleet.scan_many(images, tmp_path / "dask", sigset, _options(tmp_path / "other"),
                             address)
    assert [replace(r, seconds=0) for r in remote] == [replace(r, seconds=0) for r in serial]
    assert [r.verdict for r in serial] == ["restricted", "restricted", "clear"]  # sorted by name
    assert _reports(tmp_path / "dask") == _reports(tmp_path / "serial")
    assert len(_reports(tmp_path / "serial")) == 3


def test_unreachable_scheduler_fails_fast_on_one_line(tmp_path: Path, clean_sample: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    result = CliRunner().invoke(app, ["fleet", str(clean_sample.parent), "--out-dir",
                                      str(tmp_path / "o"), "--dask", f"tcp://127.0.0.1:{port}",
                                      "--dask-timeout", "1"])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"error: cannot reach the Dask scheduler "
                                    f"tcp://127.0.0.1:{port} within 1 s")
    assert time.monotonic() - started < 25  # Dask's own connect timeout is 30 s
    assert not (tmp_path / "o" / fleet.SUMMARY_CSV).exists()
