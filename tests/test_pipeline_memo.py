"""A warm `scan -q --reproducible` writes back the reports it wrote cold (pipeline/memo.py),
without decoding the cached ScanResult or rendering it, and exits as the cold scan did."""

from __future__ import annotations

import gc
import gzip
import io
import sqlite3
import tarfile
import zlib

import pytest
from typer.testing import CliRunner

from provenance import pipeline, signatureset
from provenance.cli import app
from provenance.pipeline import codec
from provenance.report import cyclonedx, sarif


def scan(sample, tmp_path, *extra: str, name: str = "warm"):
    outs = [tmp_path / f"{name}.cdx.json", tmp_path / f"{name}.sarif"]
    result = CliRunner().invoke(app, [
        "scan", str(sample), "--jobs", "1", "--cache-dir", str(tmp_path / "cache"),
        "-o", str(outs[0]), "-o", str(outs[1]), *extra], catch_exceptions=False)
    return result.exit_code, [o.read_bytes() if o.exists() else None for o in outs]


def nothing_decoded_or_rendered(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("remembered reports are written back as they are")

    for where, name in ((pipeline, "extract"), (codec, "load_scan"),
                        (cyclonedx, "stream"), (sarif, "render")):
        monkeypatch.setattr(where, name, refuse)


def test_a_warm_quiet_reproducible_scan_writes_back_the_cold_reports(
        restricted_sample, tmp_path, monkeypatch):
    code, cold = scan(restricted_sample, tmp_path, "-q", "--reproducible", name="cold")
    assert code == 1  # restricted
    nothing_decoded_or_rendered(monkeypatch)
    # found by the signature set's digest: the set itself is neither parsed nor checked
    monkeypatch.setattr(signatureset, "load", lambda *_a: pytest.fail("the set was loaded"))
    gc.unfreeze()
    code, warm = scan(restricted_sample, tmp_path, "-q", "--reproducible")
    assert code == 1 and warm == cold
    assert gc.get_freeze_count() > 0  # the imports frozen first: the exit does not walk them
    # the exit code follows --fail-on from the remembered verdict
    code, again = scan(restricted_sample, tmp_path, "-q", "--reproducible", "--fail-on", "never")
    assert code == 0 and again == cold


def test_the_memo_is_used_only_where_the_reports_are_all_that_is_needed(
        restricted_sample, tmp_path, monkeypatch):
    scan(restricted_sample, tmp_path, "-q", "--reproducible", name="cold")
    loads = []
    real = codec.load_scan
    monkeypatch.setattr(codec, "load_scan", lambda blob: loads.append(1) or real(blob))
    scan(restricted_sample, tmp_path, "--reproducible")  # a summary is printed: the result
    scan(restricted_sample, tmp_path, "-q")  # not reproducible: a time and a cost are written
    scan(restricted_sample, tmp_path, "-q", "--reproducible", "--facts",
         str(tmp_path / "facts.json"))
    assert len(loads) == 3
    scan(restricted_sample, tmp_path, "-q", "--reproducible")
    assert len(loads) == 3


def test_another_format_policy_or_date_is_rendered_and_then_remembered(
        restricted_sample, tmp_path, monkeypatch):
    scan(restricted_sample, tmp_path, "-q", "--reproducible", name="cold")
    html = tmp_path / "r.html"
    loads = []
    real = codec.load_scan
    monkeypatch.setattr(codec, "load_scan", lambda blob: loads.append(1) or real(blob))
    for _ in range(2):
        CliRunner().invoke(app, [
            "scan", str(restricted_sample), "--jobs", "1", "--cache-dir", str(tmp_path / "cache"),
            "-q", "--reproducible", "-o", str(html)], catch_exceptions=False)
    assert len(loads) == 1 and b"<html" in html.read_bytes()
    _, dated = scan(restricted_sample, tmp_path, "-q", "--reproducible",
                       "--as-of", "2019-01-01", name="dated")
    _, dated_again = scan(restricted_sample, tmp_path, "-q", "--reproducible",
                             "--as-of", "2019-01-01")
    assert dated == dated_again
    assert b'"2019-01-01"' in dated[0] and b'"2019-01-01"' not in html.read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "header"])
def test_a_damaged_memo_is_a_miss(restricted_sample, tmp_path, damage):
    _, cold = scan(restricted_sample, tmp_path, "-q", "--reproducible", name="cold")
    db = sqlite3.connect(tmp_path / "cache" / "results-v1.sqlite")
    rows = db.execute("SELECT sha256, context, value FROM analysis "
                      "WHERE context LIKE '%:report:%'").fetchall()
    assert {context.rsplit(":", 1)[1] for _, context, _ in rows} == {"cyclonedx-json", "sarif"}
    for sha, context, value in rows:
        broken = {"truncate": value[: len(value) // 2], "garbage": b"not zlib",
                  "header": zlib.compress(b"no header line")}[damage]
        db.execute("UPDATE analysis SET value = ? WHERE sha256 = ? AND context = ?",
                   (broken, sha, context))
    db.commit()
    db.close()
    code, warm = scan(restricted_sample, tmp_path, "-q", "--reproducible")
    assert code == 1 and warm == cold


def test_require_complete_from_the_memo(tmp_path):
    """A partial scan's remembered outcome still exits 3 under --require-complete."""
    partial = tmp_path / "cut.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"x" * 4096
        info = tarfile.TarInfo("a.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    partial.write_bytes(gzip.compress(buf.getvalue())[:-40])  # a truncated stream
    first = scan(partial, tmp_path, "-q", "--reproducible", "--require-complete", name="cold")
    second = scan(partial, tmp_path, "-q", "--reproducible", "--require-complete")
    assert first[0] == second[0] == 3
    assert first[1] == second[1]


def test_the_digest_is_the_loaded_sets(tmp_path):
    """`signatureset.digest` reads the files `load` reads, and no others."""
    extra = tmp_path / "extra"
    (extra / "vendors").mkdir(parents=True)
    builtin = signatureset.builtin_dir()
    (extra / "vendors" / "acme.yml").write_text(
        (builtin / "vendors" / "hikvision.yml").read_text().replace("id: hikvision", "id: acme"))
    assert signatureset.digest() == signatureset.load().digest
    assert signatureset.digest((extra,)) == signatureset.load((extra,)).digest
    (extra / "vendors" / "acme.samples.yml").write_text("not part of the set\n")
    (extra / "notes.txt").write_text("nor this\n")
    assert signatureset.digest((extra,)) == signatureset.load((extra,)).digest
    (extra / "vendors" / "acme.yml").write_text(
        (extra / "vendors" / "acme.yml").read_text() + "\n# edited\n")
    assert signatureset.digest((extra,)) != signatureset.digest()
    with pytest.raises(signatureset.SignatureError):
        signatureset.digest((tmp_path / "missing",))


def test_an_unknown_policy_or_a_changed_set_is_judged_as_usual(restricted_sample, tmp_path):
    """Nothing was remembered for options no scan ran with: the usual errors and scans."""
    scan(restricted_sample, tmp_path, "-q", "--reproducible", name="cold")
    result = CliRunner().invoke(app, [
        "scan", str(restricted_sample), "--jobs", "1", "--cache-dir", str(tmp_path / "cache"),
        "-q", "--reproducible", "-o", str(tmp_path / "x.cdx.json"), "--policy", "no-such"])
    assert result.exit_code == 2 and "unknown policy no-such" in result.output
    broken = tmp_path / "broken"
    (broken / "vendors").mkdir(parents=True)
    (broken / "vendors" / "bad.yml").write_text("- not a mapping\n")
    result = CliRunner().invoke(app, [
        "scan", str(restricted_sample), "--jobs", "1", "--cache-dir", str(tmp_path / "cache"),
        "-q", "--reproducible", "-o", str(tmp_path / "x.cdx.json"), "--signatures",
        str(broken)])
    assert result.exit_code == 3 and "invalid signature set" in result.output


def test_a_scan_leaves_no_write_ahead_log(restricted_sample, tmp_path):
    """The command closes the cache once it has written everything: SQLite folds the log into
    the database then, instead of the next scan's start paying for it."""
    scan(restricted_sample, tmp_path, "-q", "--reproducible", name="cold")
    cache = tmp_path / "cache"
    assert (cache / "results-v1.sqlite").stat().st_size > 0
    assert not (cache / "results-v1.sqlite-wal").exists()
    code, warm = scan(restricted_sample, tmp_path, "-q", "--reproducible")  # and still reads it
    assert code == 1 and warm[0] is not None
