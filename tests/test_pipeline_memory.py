"""What keeps a scan's memory flat in file count gives the same report: the CycloneDX JSON
written in pieces as it is rendered, and parts inference reading text samples lazily (the
peak itself is measured by `tests/bench_scan.py --profile rootfs --files 100000`)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from test_analysis import make_tar, tree_files

from provenance import pipeline
from provenance.commands.common import write_output
from provenance.extract import extract
from provenance.parts import BlobView, board_collection, infer, text_sample
from provenance.parts.inference import blob_signals, combine
from provenance.parts.sample import SCAN_LIMIT, TEXT_HEAD, wanted
from provenance.pipeline import blobs, codec
from provenance.pipeline.blobs import AnalysisOptions, analyse_all
from provenance.report import cyclonedx, sarif, stream

CONFIG = b"#!/bin/sh\ninsmod /lib/modules/hi3516ev200_sys.ko\ninsmod hi_gpon.ko\n"


def _files() -> dict[str, bytes]:
    files = tree_files(30, seed=3)
    # one text at three paths (one under a doc folder, where it gets no sample), and a text
    # at one path only: samples read once per content, kept until the content's last path
    files["rootfs/etc/init.d/S10load"] = CONFIG
    files["rootfs/usr/share/doc/load/example"] = CONFIG
    files["rootfs/opt/etc/S10load"] = CONFIG
    files["rootfs/etc/modem.conf"] = b"usb_modeswitch -v 12d1 -p 1506\nAT^NDISDUP=1,1\n"
    return files


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tar(tmp_path_factory.mktemp("img") / "fw.tar.gz", _files())


def _eager(nodes, by_sha) -> list[BlobView]:
    """The views as the pipeline made them before they were lazy: all at once."""
    samples: dict[str, tuple[str, bool]] = {}
    views = []
    for node in nodes:
        analysis = by_sha.get(node.sha256)
        if analysis is None or node.children or node.local is None:
            continue
        textual = wanted(node.path, analysis.facts, [h.rule for h in analysis.hits], node.size)
        if textual is None:
            views.append(BlobView(node.path, analysis.facts))
            continue
        if node.sha256 not in samples:
            data = node.local.read_bytes()[:TEXT_HEAD if textual else SCAN_LIMIT]
            samples[node.sha256] = text_sample(data, textual)
        views.append(BlobView(node.path, analysis.facts, *samples[node.sha256]))
    return views


def test_lazy_views_are_the_eager_ones_read_once(image: Path, tmp_path: Path, sigset,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tree, _ = extract(image, tmp_path / "x")
    nodes = [a for a in tree.walk() if a.local is not None and a.kind != "directory"]
    by_sha = analyse_all(nodes, sigset, AnalysisOptions(jobs=1, use_cache=False))
    expected = _eager(nodes, by_sha)
    assert any(v.text.startswith("usb_modeswitch") and v.textual for v in expected)
    assert not next(v for v in expected if "usr/share/doc" in v.location).text
    sampled: list[str] = []

    def counted(data, textual=None):
        sampled.append(bytes(data[:64]).decode("latin-1"))
        return text_sample(data, textual)

    monkeypatch.setattr(blobs, "text_sample", counted)
    views = pipeline._Views(nodes, by_sha)
    assert list(views.signals()) == [s for view in expected for s in blob_signals(view)]
    assert sum(1 for s in sampled if s.startswith("#!/bin/sh\ninsmod")) == 1  # 3 paths, 1 read
    assert combine(views.signals()) == infer(expected) != ()
    assert board_collection(views.dtbs()) == board_collection(expected)


def _result(image: Path, sigset, jobs: int):
    options = pipeline.ScanOptions(reproducible=True,
                                   analysis=AnalysisOptions(jobs=jobs, use_cache=False))
    return pipeline.scan(image, sigset, options)


def test_streamed_report_is_the_rendered_one_in_bounded_pieces(
        image: Path, sigset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _result(image, sigset, 2)
    whole = cyclonedx.render(result)
    assert whole == json.dumps(cyclonedx.to_dict(result), indent=2, ensure_ascii=False) + "\n"
    monkeypatch.setattr(cyclonedx, "STREAM_PIECE", 4096)
    pieces = list(stream("cyclonedx-json", result))
    assert "".join(pieces) == whole
    assert len(pieces) > 3
    assert all(4096 <= len(p) < 4096 + 16384 for p in pieces[:-1])  # one component over
    # written as they come, the file holds the bytes of the whole text
    dest = tmp_path / "r.cdx.json"
    write_output(stream("cyclonedx-json", result), dest)
    assert dest.read_bytes() == whole.encode()
    # a format without a streamed writer is its one rendered string
    assert list(stream("sarif", result)) == [sarif.render(result)]


def test_parallel_report_is_the_serial_one(image: Path, sigset) -> None:
    """With the Artifacts dropped after the build and the views lazy, a pooled scan still
    writes the serial scan's bytes (parts inferred, a duplicate at several paths)."""
    serial, pooled = _result(image, sigset, 1), _result(image, sigset, 2)
    assert serial.parts
    assert cyclonedx.render(pooled) == cyclonedx.render(serial)
    assert sarif.render(pooled) == sarif.render(serial)


def test_scan_cache_entry_is_made_a_component_at_a_time_unchanged(
        image: Path, sigset, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-scan cache entry, compressed as it is encoded, is the one-shot entry: the same
    JSON text (entries written before still load), and it loads back equal."""
    result = _result(image, sigset, 2)
    monkeypatch.setattr(codec, "_PIECE", 512)  # many compressor calls
    blob = codec.dump_scan(result)
    text = json.dumps(codec._plain(result), separators=(",", ":"), ensure_ascii=False)
    assert json.loads(zlib.decompress(blob)) == json.loads(text)  # orjson's, or json's
    assert codec.load_scan(blob) == result
    assert codec.load_scan(zlib.compress(text.encode("utf-8", codec.TEXT_ERRORS))) == result


def test_attributions_resolved_in_the_workers_are_the_main_process_ones(
        image: Path, sigset, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    """A blob's attributions and parts signals are found where it is analysed, at its first
    path; those of the same content at other paths (libmpi.so at three, its evidence located
    at each; the load script at three) as soon as its analysis is in, never again when the
    tree is built. The report is the one of doing all of it while building the tree."""
    calls: list[str] = []
    viewed: list[str] = []
    real, real_signals = pipeline.resolve, pipeline.blob_signals
    elsewhere: list[str] = []
    real_at = blobs.at_path_of

    def counted(facts, hits, sigset, location):
        calls.append(location)
        return real(facts, hits, sigset, location)

    def signals(view):
        viewed.append(view.location)
        return real_signals(view)

    def at(artifact, analysis, sigset, content=None):  # forked workers count in their own copy
        elsewhere.append(artifact.path)
        return real_at(artifact, analysis, sigset, content)

    monkeypatch.setattr(pipeline, "resolve", counted)
    monkeypatch.setattr(pipeline, "blob_signals", signals)
    monkeypatch.setattr(blobs, "at_path_of", at)
    # workers forked now run the wrappers, whichever test ran before in this process; and the
    # next test gets workers forked without them
    blobs.shutdown_pool()
    request.addfinalizer(blobs.shutdown_pool)
    shared = _result(image, sigset, 2)
    assert calls == [] and viewed == [] and shared.parts  # nothing left for the tree builder
    assert sum("libmpi" in p for p in elsewhere) == 2  # its other paths, in this process
    assert sum("S10load" in p for p in elsewhere) <= 2 and len(elsewhere) < 10
    located = [(c.path, e.location) for c in shared.components() if "libmpi" in c.path
               for a in c.attributions if a.vendor == "hisilicon" for e in a.evidence
               if "@0x" in e.location]
    assert len({path for path, _ in located}) == 3
    assert all(where.startswith(path + "@") for path, where in located)

    real_done = blobs.Analyser._done

    def unresolved(self, sha, analysis, at_path=None, entry=None):  # none from the workers
        real_done(self, sha, analysis, None, entry)

    monkeypatch.setattr(blobs.Analyser, "_done", unresolved)
    monkeypatch.setattr(blobs.Analyser, "_elsewhere", lambda *_args: None)
    alone = _result(image, sigset, 2)
    assert len(calls) > 60 and len(viewed) > 40
    assert cyclonedx.render(shared) == cyclonedx.render(alone)


def test_a_loaded_scan_keeps_each_short_string_once(image: Path, sigset) -> None:
    """JSON gives every occurrence of "file" or "content.type" its own string; a scan loaded
    from the cache shares them, as the scan that made it did, and is equal to it."""
    result = _result(image, sigset, 2)
    back = codec.load_scan(codec.dump_scan(result))
    assert back == result
    kinds = [c.kind for c in back.components()]
    keys = [f.key for c in back.components() if c.facts for f in c.facts.items]
    assert len(kinds) > 50 and len(keys) > 50
    assert len({id(k) for k in kinds}) == len(set(kinds))
    assert len({id(k) for k in keys}) == len(set(keys))
    assert not codec._words  # nothing kept past the load


def test_workers_encode_the_cache_entries(image: Path, tmp_path: Path, sigset,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Each blob's cache entry is encoded in the worker that analysed it (the main process only
    stores it), and is the entry the main process would have written: read back, it is the
    analysis."""
    tree, _ = extract(image, tmp_path / "x")
    nodes = [a for a in tree.walk() if a.local is not None and a.kind != "directory"]
    here: list[str] = []
    real = blobs.encode

    def counted(analysis, base):  # forked workers count in their own copy of the list
        here.append(base)
        return real(analysis, base)

    monkeypatch.setattr(blobs, "encode", counted)
    options = AnalysisOptions(jobs=2, cache_dir=tmp_path / "cache")
    analyser = blobs.Analyser(sigset, options)
    first = {}
    for node in nodes:
        first.setdefault(node.sha256, node)
        analyser.submit(node)
    by_sha = analyser.finish()
    assert analyser.pool is not None and len(by_sha) > 30
    assert here == []
    cache = blobs._open_cache(options, sigset)
    assert cache is not None
    stored = cache.get_many((sha, blobs.context(node)) for sha, node in first.items())
    assert len(stored) == len(by_sha)
    for (sha, _), entry in stored.items():
        assert entry == real(by_sha[sha], first[sha].path)
        assert blobs.decode(entry, first[sha].path) == by_sha[sha]
