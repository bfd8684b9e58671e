"""Findings rolled up by package or folder (report/groups.py), as every renderer lists them."""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from identify_fixtures import tar_bytes

from provenance import pipeline
from provenance.report import markdown, sarif, table
from provenance.report.groups import groups
from provenance.report.summary import MAX_GROUPS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))
from elfgen import ElfSpec, build

MPP = ["HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release", "HI_MPI_SYS_Init failed"]


def _lib(i: int) -> bytes:
    return build(ElfSpec(soname=f"libmpi{i}.so", strings=[*MPP, f"unit {i}"]))


@pytest.fixture(scope="module")
def result(tmp_path_factory, sigset):
    members = {f"sdk/lib/libmpi{i}.so": _lib(i) for i in range(12)}  # one SDK folder
    members |= {f"extra{i}/libmpi.so": _lib(100 + i) for i in range(MAX_GROUPS + 3)}
    path = tmp_path_factory.mktemp("groups") / "fw.tar"
    path.write_bytes(tar_bytes(members, ""))
    return pipeline.scan(path, sigset, pipeline.ScanOptions(as_of=date(2026, 1, 1),
                                                            reproducible=True))


def test_findings_of_one_folder_are_one_group(result):
    grouped = groups(result)
    sdk = next(g for g in grouped if g.unit == "fw.tar!/sdk/lib")
    assert (sdk.kind, sdk.vendor, len(sdk.members)) == ("folder", "hisilicon", 12)
    assert sdk.evidence is not None and sdk.level.value == "restricted"
    assert grouped[0] is sdk  # the largest restricted group first
    # one per folder, and the input's own: built on the HiSilicon SoC these libraries are for
    assert len(grouped) == 1 + MAX_GROUPS + 3 + 1
    (device,) = [g for g in grouped if g.unit == "fw.tar"]
    assert device.relationships == ("part",) and device.vendor == "hisilicon"
    listed = {f for g in grouped for f in g.members}
    assert all(f in listed for f in result.findings)


def test_terminal_caps_the_groups_and_names_the_report(result):
    from rich.console import Console

    from provenance.report.summary import summary

    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(summary(result, "out.cdx.json"))
    text = buf.getvalue()
    assert "12 files in folder" in text
    assert "… 5 more group(s), 5 finding(s) in out.cdx.json" in text
    assert text.count("listed by:") == MAX_GROUPS
    assert len(table.render(result).splitlines()) < 8 * MAX_GROUPS


def test_markdown_and_sarif_list_groups(result):
    md = markdown.render(result)
    assert "| 12 |" in md or "12 files" in md
    doc = sarif.to_dict(result)
    results = doc["runs"][0]["results"]
    assert len(results) == len(groups(result))
    sdk = next(r for r in results if r["properties"]["members"] == 12)
    assert len(sdk["relatedLocations"]) >= 11  # the other members, to drill into
    json.dumps(doc)


def test_a_package_is_one_group(tmp_path, sigset):
    pkg = {"package/package.json": json.dumps({
        "name": "@hmscore/demo-kit", "version": "1.0.0", "author": "Huawei"}).encode()}
    pkg |= {f"package/lib/part{i}.js": b"// Copyright (c) Huawei Technologies Co., Ltd. "
            b"2020-2024. All rights reserved.\nmodule.exports = 1;\n" for i in range(6)}
    path = tmp_path / "hmscore-demo-kit-1.0.0.tgz"
    path.write_bytes(tar_bytes(pkg))
    res = pipeline.scan(path, sigset, pipeline.ScanOptions(as_of=date(2026, 1, 1)))
    grouped = groups(res)
    assert len(res.findings) > 1
    assert [(g.kind, g.vendor) for g in grouped] == [("package", "huawei")]
    assert grouped[0].package and "demo-kit" in grouped[0].package


def test_html_lists_groups_and_the_restricted_makers_first(result):
    from provenance.report import html

    page = html.render(result)
    head = page[: page.index("<h2>Components")]
    assert "restricted makers (findings): HiSilicon" in head
    assert f"in {len(groups(result))} groups" in head
    assert "<td>12</td>" in head
