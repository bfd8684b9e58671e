"""Problem.stage and Problem.kind are enums: a typo is a type error (mypy) or a ValueError,
and what reports and the cache store is still the plain string of old."""

from __future__ import annotations

import ast
import json
import zlib
from pathlib import Path

import pytest
from test_report_build import sample_result

from provenance import extract
from provenance.extract.base import FormatProblem
from provenance.model import Facts, Problem, ProblemKind, Stage
from provenance.pipeline.blobs import Analysis, decode, encode
from provenance.report import cyclonedx
from provenance.report.load import ReportError, from_cyclonedx

PACKAGE = Path(__file__).resolve().parent.parent / "provenance"

# The strings reports and cache entries hold: changing one breaks reading old reports back.
KINDS = {"corrupt", "truncated", "limit", "unsupported", "unsafe", "tool-missing", "duplicate",
         "encrypted", "encrypted-or-compressed", "error"}
STAGES = {"extract", "identify", "attribute", "report"}


def test_the_stored_values_are_the_old_strings() -> None:
    assert {k.value for k in ProblemKind} == KINDS
    assert {s.value for s in Stage} == STAGES
    assert json.dumps([ProblemKind.TOOL_MISSING, Stage.EXTRACT]) == '["tool-missing", "extract"]'
    assert f"{Stage.IDENTIFY} {ProblemKind.CORRUPT}" == "identify corrupt"


def test_a_typo_is_refused() -> None:
    with pytest.raises(ValueError):
        ProblemKind("corupt")
    with pytest.raises(ValueError):
        Stage("extrct")
    with pytest.raises(ValueError):
        Problem("x", "identify", "m", "corupt")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Problem("x", "identfy", "m")  # type: ignore[arg-type]


def test_strings_read_back_become_members() -> None:
    p = Problem("x", "identify", "m", "corrupt")  # type: ignore[arg-type]
    assert p.kind is ProblemKind.CORRUPT and p.stage is Stage.IDENTIFY
    assert p == Problem("x", Stage.IDENTIFY, "m", ProblemKind.CORRUPT)
    assert Problem("x", Stage.EXTRACT, "m").kind is ProblemKind.ERROR


def _calls(tree: ast.AST) -> list[tuple[str, ast.expr]]:
    """(what, argument) for every stage and kind passed to Problem(...) or x.problem(...)."""
    out: list[tuple[str, ast.expr]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        keywords = {k.arg: k.value for k in node.keywords}
        if name == "Problem":
            positions = {"stage": 1, "kind": 3}
        elif name == "problem" and isinstance(func, ast.Attribute):
            positions = {"kind": 1}
        else:
            continue
        for what, index in positions.items():
            arg = node.args[index] if len(node.args) > index else keywords.get(what)
            if arg is not None:
                out.append((what, arg))
    return out


def test_every_kind_and_stage_in_the_code_is_a_member() -> None:
    enums = {"ProblemKind": ProblemKind, "Stage": Stage}
    seen: dict[str, set[str]] = {"ProblemKind": set(), "Stage": set()}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in enums):
                assert node.attr in enums[node.value.id].__members__, f"{path}: {node.attr}"
                seen[node.value.id].add(node.attr)
        for what, arg in _calls(tree):  # a string literal left at a call site: a valid one
            if isinstance(arg, ast.Constant):
                valid = KINDS if what == "kind" else STAGES
                assert arg.value in valid, f"{path}:{arg.lineno}: {what} {arg.value!r}"
    assert {"CORRUPT", "TRUNCATED", "LIMIT", "DUPLICATE", "ENCRYPTED_OR_COMPRESSED"} \
        <= seen["ProblemKind"]
    assert {"EXTRACT", "IDENTIFY", "ATTRIBUTE", "REPORT"} <= seen["Stage"]


def test_format_problem_kinds_are_members() -> None:
    assert extract.EXTRACTORS  # every extractor module imported, so every subclass defined
    todo = [FormatProblem]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        assert isinstance(cls.kind, ProblemKind), cls


def test_cache_entries_written_before_the_enums_decode_to_members() -> None:
    base = "fw.bin!/a.so"
    old = {"f": ["elf", None, None, None, None, None, []], "h": [],
           "p": [[["#dynamic"], "identify", "ELF header unreadable", "corrupt"],
                 ["", "attribute", "YARA scan failed: timeout", "error"]]}
    blob = zlib.compress(json.dumps(old, separators=(",", ":")).encode(), 1)
    value = decode(blob, base)
    assert value.problems == (
        Problem(base + "#dynamic", Stage.IDENTIFY, "ELF header unreadable", ProblemKind.CORRUPT),
        Problem("", Stage.ATTRIBUTE, "YARA scan failed: timeout", ProblemKind.ERROR))
    assert all(type(p.kind) is ProblemKind and type(p.stage) is Stage for p in value.problems)
    again = encode(Analysis(Facts("elf"), (), value.problems), base)
    assert zlib.decompress(again) == zlib.decompress(blob)  # the same entry, byte for byte


def test_reports_keep_the_strings_and_refuse_an_unknown_kind() -> None:
    doc = cyclonedx.to_dict(sample_result())
    props = doc["metadata"]["component"]["properties"]
    stored = [p for p in props if p["name"] == "provenance:problem"]
    assert [p["value"] for p in stored] == [
        '{"kind":"unsupported","location":"fw image.tar.gz!/rootfs/opt/blob.enc",'
        '"message":"encrypted (high entropy)","stage":"extract"}']
    back = from_cyclonedx(doc)
    assert [type(p.kind) for p in back.problems] == [ProblemKind]
    stored[0]["value"] = stored[0]["value"].replace('"unsupported"', '"unsuported"')
    with pytest.raises(ReportError):
        from_cyclonedx(doc)
