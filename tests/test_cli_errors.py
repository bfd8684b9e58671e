"""Every error the README promises is one line on stderr with the exit code the README gives.

The cases are keyed by the rows of the README's error table (section "Exit codes"): a row added
there without a case here fails `test_every_documented_error_has_a_case`.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_errors() -> dict[str, int]:
    """The README's error table: row text -> exit code."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("| error | exit |", 1)[1]
    rows: dict[str, int] = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = int(cells[1])
    return rows


Case = Callable[[Path], list[list[str]]]  # tmp_path -> the command lines that must fail so


def _input(tmp: Path) -> str:
    path = tmp / "x.bin"
    path.write_bytes(b"hello\n")
    return str(path)


def _waivers(tmp: Path) -> list[list[str]]:
    files = {"not-yaml.yml": "waivers: [\n",
             "no-field.yml": "waivers:\n  - path: '*/x'\n    approved_by: me\n",
             "bad-date.yml": "waivers:\n  - path: '*/x'\n    justification: j\n"
                             "    approved_by: me\n    expires: 2027-02-30\n"}
    for name, body in files.items():
        (tmp / name).write_text(body, encoding="utf-8")
    return [["scan", "--waivers", str(tmp / name), _input(tmp)]
            for name in ("missing.yml", *files)]


def _unreadable(tmp: Path) -> list[list[str]]:
    fifo = tmp / "fifo"
    os.mkfifo(fifo)
    if os.geteuid() == 0:  # root reads any file: this one fails to read at offset 0 (EIO)
        unreadable = "/proc/self/mem"
    else:
        locked = tmp / "locked.bin"
        locked.write_bytes(b"secret")
        locked.chmod(0)
        unreadable = str(locked)
    return [["scan", str(fifo)], ["scan", unreadable]]


def _bad_signatures(tmp: Path) -> list[list[str]]:
    sig = tmp / "sig"
    (sig / "vendors").mkdir(parents=True)
    (sig / "vendors" / "broken.yml").write_text("id: [\n", encoding="utf-8")
    return [["scan", "--signatures", str(sig), _input(tmp)]]


def _partial(tmp: Path) -> list[list[str]]:
    archive = tmp / "p.tar"
    with tarfile.open(archive, "w") as tar:
        data = b"\x1f\x8b\x08\x00" + b"cut short"  # a gzip member that ends in its header
        info = tarfile.TarInfo("t.gz")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return [["scan", "-q", "--require-complete", str(archive)]]


def _unwritable(tmp: Path) -> list[list[str]]:
    nowhere = tmp / "no-such-dir"
    return [["scan", "-q", "-o", str(nowhere / "r.cdx.json"), _input(tmp)],
            ["scan", "-q", "--facts", str(nowhere / "facts.json"), _input(tmp)]]


def _config(tmp: Path) -> list[list[str]]:
    # the file is looked for from the input's parent up: one folder per bad file
    argvs = []
    for n, text in enumerate(["colour = 1\n", 'jobs = "many"\n']):
        folder = tmp / f"cfg{n}"
        folder.mkdir()
        (folder / "provenance.toml").write_text(text)
        (folder / "x.bin").write_bytes(b"just bytes\n")
        argvs.append(["scan", str(folder / "x.bin")])
    return argvs


def _render(tmp: Path) -> list[list[str]]:
    (tmp / "bad.json").write_text("not json", encoding="utf-8")
    (tmp / "other.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6"}',
                                    encoding="utf-8")
    return [["render", str(tmp / "bad.json")], ["render", str(tmp / "other.json")]]


def _enrich(tmp: Path) -> list[list[str]]:
    (tmp / "plain.json").write_text('{"a": 1}', encoding="utf-8")
    return [["enrich", str(tmp / "plain.json")]]


# row of the README table -> (the command lines, what the one line must say)
CASES: dict[str, tuple[Case, str]] = {
    "unknown command or option (`provenance scan --colour x.bin`)": (
        lambda t: [["scan", "--colour", _input(t)], ["sacn", _input(t)]],
        r"No such (option|command)"),
    "missing argument (`provenance scan`)": (
        lambda t: [["scan"], ["render"], ["policies", "show"]], r"Missing argument"),
    "bad option value (`--jobs 0`, `--fail-on sometimes`, `--max-total-bytes 16Q`)": (
        lambda t: [["scan", "--jobs", "0", _input(t)], ["scan", "--fail-on", "sometimes",
                                                         _input(t)],
                   ["scan", "--max-total-bytes", "16Q", _input(t)]], r"Invalid value"),
    "unknown report format (`-f pdf`)": (
        lambda t: [["scan", "-f", "pdf", _input(t)], ["render", "-f", "pdf", _input(t)]],
        r"unknown format pdf"),
    "an `--output` extension that names no format (`-o report.pdf`)": (
        lambda t: [["scan", "-o", str(t / "report.pdf"), _input(t)]], r"cannot tell"),
    "two reports to stdout (`-f html -f sarif`)": (
        lambda t: [["scan", "-f", "html", "-f", "sarif", _input(t)]], r"stdout"),
    "unequal numbers of `--format` and `--output`": (
        lambda t: [["scan", "-f", "html", "-o", str(t / "a.html"), "-o", str(t / "b.html"),
                    _input(t)]], r"one --output per --format"),
    "unknown policy (`-p no-such-list`)": (
        lambda t: [["scan", "-p", "no-such-list", _input(t)]], r"unknown policy no-such-list"),
    "`--as-of` that is not a date (`2027-02-30`)": (
        lambda t: [["scan", "--as-of", "2027-02-30", _input(t)]], r"--as-of: not a date"),
    "unusable waiver file (missing, not YAML, a field missing, an expiry of `2027-02-30`)": (
        _waivers, r"--waivers: "),
    "`fleet`: INPUTS missing": (
        lambda t: [["fleet", str(t / "missing"), "--out-dir", str(t / "out")]],
        r"no such file"),
    "a config file key that no option has, or a value of the wrong type (`provenance.toml`)": (
        _config, r"provenance\.toml: (unknown key colour|jobs: )"),
    "a `--vex-out` name that is neither `*.openvex.json` nor `*.cdx.json`": (
        lambda t: [["scan", "--vex-out", str(t / "v.json"), _input(t)]], r"--vex-out .*: name"),
    "input missing": (lambda t: [["scan", str(t / "missing.bin")]], r"no such file"),
    "input unreadable, or not a regular file (a FIFO, a device)": (
        _unreadable, r"cannot read|not a regular file"),
    "invalid signature set (`--signatures DIR`)": (_bad_signatures, r"invalid signature set"),
    "`--require-complete` with partial coverage": (_partial, r"coverage is partial"),
    "a report or `--facts` file cannot be written": (_unwritable, r"cannot write"),
    "`render`: not JSON, or not a provenance report": (_render, r"not JSON|not a|no provenance"),
    "`enrich`: not a valid SBOM": (_enrich, r"not a valid SBOM"),
}
# rows whose test needs a process of its own: the test that covers each
ELSEWHERE = {
    "`fleet --dask`: the scheduler cannot be reached within `--dask-timeout`":
        "test_fleet_cluster.py::test_unreachable_scheduler_fails_fast_on_one_line",
    "interrupted (Ctrl-C): prints `interrupted`, the temporary tree is removed":
        "test_cli_interrupt.py::test_ctrl_c_prints_one_line_exits_130_and_leaves_no_tree",
}


def test_every_documented_error_has_a_case() -> None:
    rows = documented_errors()
    assert len(rows) >= 15, "the README's error table was not found"
    missing = [row for row in rows if row not in CASES and row not in ELSEWHERE]
    assert not missing, f"documented errors without a test: {missing}"
    stale = [row for row in [*CASES, *ELSEWHERE] if row not in rows]
    assert not stale, f"tests for errors the README no longer documents: {stale}"
    for row, where in ELSEWHERE.items():
        module, test = where.split("::")
        text = (Path(__file__).parent / module).read_text(encoding="utf-8")
        assert f"def {test}(" in text, (row, where)


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["provenance", *argv])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 0, capsys.readouterr().err


@pytest.mark.parametrize("row", sorted(CASES))
def test_documented_error_is_one_line_with_its_exit_code(
        row: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    expected = documented_errors()[row]
    make, says = CASES[row]
    monkeypatch.setenv("NO_COLOR", "1")
    for argv in make(tmp_path):
        code, err = _run(argv, monkeypatch, capsys)
        lines = err.splitlines()
        assert code == expected, (argv, code, err)
        assert len(lines) == 1, (argv, err)
        assert lines[0].startswith("error: ") and re.search(says, lines[0]), (argv, err)
        assert "Traceback" not in err and "╭" not in err


def test_help_stays_rich(monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["provenance", "scan", "--help"])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "Usage: provenance scan" in out and "╭" in out and len(out.splitlines()) > 20
