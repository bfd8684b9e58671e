"""The process pool and the cache give exactly what a serial, uncached scan gives."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

import analysis_hooks
import pytest
from elfgen import ET_EXEC, ET_REL, ElfSpec, build

from provenance import pipeline
from provenance.extract import extract
from provenance.pipeline import blobs
from provenance.pipeline.blobs import AnalysisOptions, analyse_all
from provenance.report import cyclonedx


def tree_files(n: int = 80, seed: int = 7) -> dict[str, bytes]:
    """A small root filesystem: libraries, executables, modules, text, duplicates, HiSilicon."""
    rnd = random.Random(seed)
    files: dict[str, bytes] = {}
    for i in range(n):
        exports = [f"acme_fn_{i}_{j}" for j in range(rnd.randint(1, 12))]
        strings = [f"acme component {i} v{rnd.randint(1, 9)}.{rnd.randint(0, 20)}"]
        payload = rnd.randbytes(rnd.randint(0, 30_000)).hex()[:2000]
        kind = i % 3
        if kind == 0:
            data = build(ElfSpec(soname=f"libacme{i}.so", needed=["libc.so.0"], exports=exports,
                                 strings=[*strings, payload]))
            files[f"rootfs/usr/lib/libacme{i}.so"] = data
        elif kind == 1:
            data = build(ElfSpec(type=ET_EXEC, needed=["libc.so.0"], exports=["main"],
                                 strings=strings))
            files[f"rootfs/usr/bin/acme{i}"] = data
        else:
            data = build(ElfSpec(type=ET_REL, exports=["init_module"], strings=strings,
                                 modinfo={"license": ["GPL"], "vermagic": ["4.9.37 SMP"]}))
            files[f"rootfs/lib/modules/acme{i}.ko"] = data
        files[f"rootfs/etc/acme/{i}.conf"] = f"# Copyright (c) 2020 Acme Corp.\nid={i}\n".encode()
    libmpi = build(ElfSpec(
        soname="libmpi.so", needed=["libc.so.0"],
        exports=["HI_MPI_SYS_Init", "HI_MPI_SYS_Exit", "HI_MPI_VB_Init", "HI_MPI_VENC_CreateChn"],
        strings=["HI_VERSION=Hi3516EV200_MPP_V1.0.1.2", "mmz_userdev"],
        comment="GCC: (Hisilicon_v300) 6.3.0"))
    files["rootfs/usr/lib/libmpi.so"] = libmpi
    files["rootfs/opt/sdk/libmpi.so"] = libmpi  # the same blob twice, same name
    files["rootfs/opt/sdk/libmpi-copy.so"] = libmpi  # and under another name
    files["rootfs/etc/empty-a"] = b""
    files["rootfs/etc/empty-b"] = b""
    files["rootfs/package.json"] = b'{"name": "acme-ui", "version": "1.2.3"}'
    files["rootfs/www/package.json.bak"] = b'{"name": "acme-ui", "version": "1.2.3"}'
    return files


def make_tar(path: Path, files: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_tar(tmp_path / "fw.tar.gz", tree_files())


@pytest.fixture
def force_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the pool even for this small tree (it would fall back to serial)."""
    monkeypatch.setattr(blobs, "SERIAL_MAX_FILES", 0)
    monkeypatch.setattr(blobs, "SERIAL_MAX_BYTES", 0)
    monkeypatch.setattr(blobs, "BATCH_FILES", 7)  # several batches, out-of-order completion


def _nodes(image: Path, work: Path) -> list:
    tree, _ = extract(image, work)
    return [a for a in tree.walk() if a.local is not None and a.kind != "directory"]


def test_pool_equals_serial(image: Path, tmp_path: Path, sigset, force_pool) -> None:
    nodes = _nodes(image, tmp_path / "x")
    serial = analyse_all(nodes, sigset, AnalysisOptions(jobs=1, use_cache=False))
    seen: list[tuple[int, int]] = []
    pooled = analyse_all(nodes, sigset, AnalysisOptions(jobs=2, use_cache=False),
                         lambda phase, done, total: seen.append((done, total)))
    assert list(pooled) == list(serial)  # same keys, same order
    assert pooled == serial
    assert len(serial) < len(nodes)  # duplicates were analysed once
    assert seen[-1] == (len(serial), len(serial))
    assert any(h.rule for a in serial.values() for h in a.hits)  # the YARA path was exercised


def test_cache_warm_equals_cold(image: Path, tmp_path: Path, sigset, force_pool) -> None:
    nodes = _nodes(image, tmp_path / "x")
    reference = analyse_all(nodes, sigset, AnalysisOptions(jobs=1, use_cache=False))
    opts = AnalysisOptions(jobs=2, cache_dir=tmp_path / "cache")
    cold = analyse_all(nodes, sigset, opts)
    assert (tmp_path / "cache" / "results-v1.sqlite").exists()
    assert list((tmp_path / "cache").glob("rules-*.yarc"))  # compiled rules saved for workers
    warm = analyse_all(nodes, sigset, opts)
    assert cold == reference
    assert warm == reference


def test_scan_reports_identical(image: Path, tmp_path: Path, sigset, force_pool) -> None:
    def report(analysis_options: AnalysisOptions) -> str:
        options = pipeline.ScanOptions(reproducible=True, analysis=analysis_options)
        return cyclonedx.render(pipeline.scan(image, sigset, options))

    serial = report(AnalysisOptions(jobs=1, use_cache=False))
    assert '"hisilicon"' in serial
    assert report(AnalysisOptions(jobs=2, use_cache=False)) == serial
    cached = AnalysisOptions(jobs=2, cache_dir=tmp_path / "cache")
    assert report(cached) == serial
    assert report(cached) == serial  # warm


def test_cache_entry_moves_with_the_blob(tmp_path: Path, sigset) -> None:
    """A blob cached at one path is reported at its own path in another image."""
    files = tree_files(6)
    one = make_tar(tmp_path / "one.tar.gz", files)
    two = make_tar(tmp_path / "two.tar.gz", {k.replace("rootfs/", "root2/"): v
                                             for k, v in files.items()})
    opts = AnalysisOptions(jobs=1, cache_dir=tmp_path / "cache")
    analyse_all(_nodes(one, tmp_path / "x1"), sigset, opts)
    nodes = _nodes(two, tmp_path / "x2")
    warm = analyse_all(nodes, sigset, opts)
    fresh = analyse_all(nodes, sigset, AnalysisOptions(jobs=1, use_cache=False))
    assert warm == fresh
    locations = {f.location for a in warm.values() for f in a.facts.items}
    assert locations and all("root2/" in loc for loc in locations if "/" in loc)


def test_small_trees_stay_in_process(image: Path, tmp_path: Path, sigset,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object) -> None:
        raise AssertionError("a pool was started for a tiny tree")

    monkeypatch.setattr(blobs, "_get_pool", no_pool)
    nodes = _nodes(image, tmp_path / "x")[:5]
    assert analyse_all(nodes, sigset, AnalysisOptions(jobs=2, use_cache=False))


@pytest.mark.parametrize(("how", "kind", "ended"), [
    ("segv", "corrupt", "killed by SIGSEGV"),  # a real invalid read in native code
    ("exit", "corrupt", "exit status 1"),
    ("oom-kill", "limit", "killed by SIGKILL"),
    ("bad-alloc", "limit", "killed by SIGABRT"),
])
def test_a_crashing_parser_does_not_fail_the_scan(image: Path, tmp_path: Path, sigset,
                                                  force_pool, monkeypatch: pytest.MonkeyPatch,
                                                  how: str, kind: str, ended: str) -> None:
    """The blob whose analysis kills its worker is found, run once more alone in a fresh
    interpreter to learn how it dies, and reported: out of memory is a `limit`, anything else
    `corrupt`. Every other blob is analysed as a serial scan would."""
    nodes = _nodes(image, tmp_path / "x")
    serial = analyse_all(nodes, sigset, AnalysisOptions(jobs=1, use_cache=False))
    victim = next(a for a in nodes if a.name == "libacme3.so")
    analysis_hooks.use(monkeypatch, f"die:{victim.sha256}:{how}")
    try:
        pooled = analyse_all(nodes, sigset, AnalysisOptions(jobs=2, use_cache=False))
    finally:
        blobs.shutdown_pool()
    [problem] = pooled[victim.sha256].problems
    assert (problem.kind, problem.location) == (kind, victim.path)
    assert problem.message.startswith("memory ceiling" if kind == "limit" else
                                      "analysis crashed its worker process")
    assert f"({ended})" in problem.message or f"was {ended})" in problem.message
    del pooled[victim.sha256], serial[victim.sha256]
    assert pooled == serial


def _hits_by_path(root_file: Path, work: Path, sigset) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    nodes = _nodes(root_file, work)
    out = analyse_all(nodes, sigset, AnalysisOptions(jobs=1, use_cache=False))
    by_path = {n.path: n for n in nodes}
    return by_path, {n.path: {h.rule for h in out[n.sha256].hits} for n in nodes}


def test_an_unpacked_archive_is_searched_through_its_members_only(tmp_path: Path, sigset) -> None:
    # an uncompressed tar holds libmpi.so's strings verbatim: the rule must fire on the member,
    # not again on the tar (which would make the archive itself look HiSilicon-made)
    files = {k: v for k, v in tree_files(6).items() if "libmpi" in k}
    tar = make_tar(tmp_path / "plain.tar", files, "w")
    nodes, hits = _hits_by_path(tar, tmp_path / "w", sigset)
    assert nodes["plain.tar"].unpacked and not hits["plain.tar"]
    assert any(hits[p] for p in hits if p.endswith("libmpi.so"))


def test_a_container_with_a_problem_or_a_header_of_its_own_is_still_searched(
        tmp_path: Path, sigset) -> None:
    files = {k: v for k, v in tree_files(6).items() if "libmpi" in k}
    files["../escape.so"] = files["rootfs/usr/lib/libmpi.so"]  # refused: bytes not in a member
    tar = make_tar(tmp_path / "bad.tar", files, "w")
    nodes, hits = _hits_by_path(tar, tmp_path / "w", sigset)
    assert not nodes["bad.tar"].unpacked and hits["bad.tar"]
    # a vendor container's own header is evidence: the digicap rule still fires on it
    sample = Path(__file__).parent.parent / "samples/signatures/hikvision_digicap"
    dav = tmp_path / "digicap.dav"
    dav.write_bytes((sample / "positive-digicap.bin").read_bytes())
    nodes, hits = _hits_by_path(dav, tmp_path / "w2", sigset)
    assert not nodes["digicap.dav"].unpacked and "hikvision_digicap" in hits["digicap.dav"]


def test_a_blob_of_one_repeated_byte_is_read_in_chunks_and_not_scanned(tmp_path: Path,
                                                                      sigset) -> None:
    from provenance.extract.base import uniform_byte
    from provenance.model import Artifact

    erased = tmp_path / "erased.bin"
    erased.write_bytes(b"\xff" * (3 << 20))
    assert uniform_byte(erased) == 0xFF
    near = tmp_path / "near.bin"  # one other byte at the very end: an ordinary blob
    near.write_bytes(b"\xff" * (3 << 20) + b"HI_VERSION=Hi3516EV200_MPP_V1.0.1.2")
    assert uniform_byte(near) is None
    for path, uniform in ((erased, "ff"), (near, None)):
        artifact = Artifact((path.name,), "0" * 64, path.stat().st_size, "file", 0, path)
        analysis = blobs.analyse(artifact, sigset)
        assert analysis.facts.first("content.uniform") == uniform
        assert bool(analysis.hits) is (uniform is None)  # the near miss is scanned, and hit
    result = pipeline.scan(erased, sigset, pipeline.ScanOptions(
        analysis=AnalysisOptions(use_cache=False)))
    assert not result.root.children  # not carved as a flash dump either


def test_a_small_blob_is_opened_once_for_its_analysis_and_parts_sample(
        tmp_path: Path, sigset, monkeypatch) -> None:
    """Its bytes are read once: identification's head, the content scanners (copyright, MAC
    addresses), YARA and the parts text sample all take them from that read, and give what
    they give when each opens the file itself."""
    import builtins

    from provenance.model import Artifact
    from provenance.parts.inference import blob_signals

    config = tmp_path / "70-modem.rules"
    config.write_bytes(b"# Copyright (c) 2019 HiSilicon Technologies Co., Ltd.\n"
                       b"# mac=00:e0:fc:12:34:56\n"
                       b'ATTRS{idVendor}=="12d1", ATTRS{idProduct}=="1506"\n')
    artifact = Artifact(("fw.bin", "etc/udev/rules.d/70-modem.rules"), "0" * 64,
                        config.stat().st_size, "file", 1, config)
    alone = blobs.analyse(artifact, sigset)  # each part opens the file itself
    kind = blobs.sample_kind(artifact, alone)
    assert kind is True  # a text file: parts inference reads its sample
    view = blobs.parts_view(artifact, alone, kind)
    assert alone.facts.first("copyright.holder") and alone.facts.first("net.mac")

    opened: list[str] = []
    real = builtins.open

    def counted(file, *args, **kwargs):
        if str(file) == str(config):
            opened.append(str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counted)
    analysis, here, _ = blobs._attributed(artifact, sigset)
    assert len(opened) == 1
    assert analysis == alone
    assert here is not None and here.signals == blob_signals(view)
    assert here.signals  # the sample was read: the modem's USB ids are a parts signal
