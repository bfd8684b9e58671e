"""Text from an input (member names, evidence) reaches no terminal raw and breaks no report: every
control character, a bidi override and an undecodable byte go through every output format, and
each result is checked with the format's own validator."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from datetime import date
from pathlib import Path

import pytest
import test_report_sarif
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator

from provenance import pipeline
from provenance.report import FORMATS
from provenance.report.cyclonedx_xml import ESCAPED
from provenance.report.terminal import printable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))
from elfgen import ElfSpec, build

# every C0 control but NUL (tar names end at NUL) and "/", DEL, C1 CSI, a bidi override, and
# an undecodable byte (a surrogate escape once read from disk)
HOSTILE = ("".join(chr(c) for c in range(1, 32)) + "\x7f\x9b\u202e"
           + "\x1b[2J\x1b[32mverdict: CLEAR\x1b]0;pwned\x07")
RAW = (HOSTILE + "libmpi.so").encode("utf-8", "surrogateescape") + b"\xff"


def hostile_tar(tmp_path: Path) -> Path:
    lib = build(ElfSpec(soname="libmpi.so", strings=[
        "HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release", "HI_MPI_SYS_Init failed"]))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tar:
        info = tarfile.TarInfo(RAW.decode("utf-8", "surrogateescape"))
        info.size = len(lib)
        tar.addfile(info, io.BytesIO(lib))
    path = tmp_path / "fw.tar"
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def result(tmp_path_factory, sigset):
    path = hostile_tar(tmp_path_factory.mktemp("hostile"))
    return pipeline.scan(path, sigset, pipeline.ScanOptions(as_of=date(2026, 1, 1),
                                                            reproducible=True))


def test_the_hostile_member_is_scanned_and_flagged(result):
    assert result.findings, "the planted library must still be found"
    assert "\x1b" in result.findings[0].location  # the model keeps the exact name


def test_terminal_and_text_formats_carry_no_control_character(result):
    for name in ("table", "markdown", "html"):
        text = FORMATS[name](result)
        bad = {c for c in text if not c.isprintable() and c not in "\n\t"}
        assert not bad, (name, sorted(map(hex, map(ord, bad))))
    table = FORMATS["table"](result)
    assert "\\x1b[2J\\x1b[32mverdict: CLEAR" in table  # shown, escaped
    assert table.count("verdict: ") == 2  # the real verdict line and the escaped forgery


def test_json_and_sarif_validate(result):
    text = FORMATS["cyclonedx-json"](result)
    text.encode("utf-8")  # no lone surrogate survives into the file
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    test_report_sarif._validate(json.loads(FORMATS["sarif"](result)))


def test_xml_escapes_what_it_cannot_carry_and_says_so(result):
    text = FORMATS["cyclonedx-xml"](result)
    text.encode("utf-8")
    assert XmlValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert f'name="{ESCAPED}"' in text
    assert "\\x1b[2J" in text


def test_printable_escapes_and_keeps_one_line():
    assert printable("a\x1b[2Jb\nc\u202e") == "a\\x1b[2Jb\\x0ac\\u202e"
    assert printable("plain text, 中文") == "plain text, 中文"


def test_cli_writes_every_report_of_a_hostile_name(tmp_path):
    from typer.testing import CliRunner

    from provenance.cli import app

    path = hostile_tar(tmp_path)
    outs = [tmp_path / n for n in ("r.cdx.json", "r.xml", "r.sarif", "r.html", "r.md")]
    args = ["scan", str(path), "--no-cache", "--facts", str(tmp_path / "facts.json")]
    for out in outs:
        args += ["-o", str(out)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output  # restricted: the library was found
    assert "\x1b" not in result.output
    for out in [*outs, tmp_path / "facts.json"]:
        out.read_text(encoding="utf-8")  # each was written, as valid UTF-8
    back = json.loads((tmp_path / "r.cdx.json").read_text(encoding="utf-8"))
    # the exact name, undecodable byte included
    where = [p["value"] for c in back["components"] for p in c["properties"]
             if p["name"] == "provenance:location"]
    assert where == ["fw.tar!/" + RAW.decode("utf-8", "surrogateescape")]
