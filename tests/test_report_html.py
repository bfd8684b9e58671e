"""The self-contained HTML report, loaded in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report_build import (
    ENTRY,
    HISI,
    _ev,
    clean_result,
    component,
    sample_result,
)

from provenance.model import (
    Attribution,
    Component,
    Coverage,
    Finding,
    Relationship,
    ScanResult,
    Stats,
    Verdict,
)
from provenance.policy import rollup
from provenance.report import html

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(BROWSER is None, reason="chromium is not installed "
                                   "(apt-get install chromium; see tests/apt-packages-report.txt)")
ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "test-artifacts"


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _row(dom: str, ref: str) -> str | None:
    match = re.search(rf"<tr [^>]*id=\"{re.escape(ref)}\"[^>]*>", dom)
    return match.group(0) if match else None


def _ms(dom: str) -> float:
    match = re.search(r'data-filter-ms="([0-9.]+)"', dom)
    assert match, "the filter did not run"
    return float(match.group(1))


def large_result(n: int = 30_000) -> ScanResult:
    """A /usr/lib-sized report: n components, every 10th a copy of one of 13 shared blobs,
    every 500th a restricted HiSilicon library."""
    parts, findings = [], []
    for i in range(n):
        chain = ("rootfs.img", f"usr/lib/dir{i % 97}/lib{i}.so")
        if i % 500 == 0:
            made = Attribution("hisilicon", Relationship.MADE_BY, 0.9, (
                _ev("hisilicon_mpp_version", "HI_VERSION=Hi3516", chain[1]),))
            c = component(chain, f"{i + 5 * 10**9:064x}", manufacturer=HISI,
                          attributions=(made,))
            findings.append(Finding(c.ref, c.path, "hisilicon", Verdict.RESTRICTED,
                                    Relationship.MADE_BY, 0.9, (ENTRY,), "made-by hisilicon"))
        else:
            sha = f"{i % 13:064x}" if i % 10 == 1 else f"{i + 10**9:064x}"
            c = component(chain, sha)
        parts.append(c)
    root = Component(ref="ref-root", chain=("rootfs.img",), name="rootfs.img", kind="ext",
                     sha256="f" * 64, size=1, children=tuple(parts))
    verdicts = rollup(root, tuple(findings))
    return ScanResult(root=root, findings=tuple(findings), problems=(),
                      coverage=Coverage.COMPLETE, verdict=verdicts[root.ref], verdicts=verdicts,
                      stats=Stats(files=n, bytes=n), tool_version="0.1.0",
                      signature_digest="sha256:" + "0" * 64, policies=("us-ndaa-889",),
                      vendors={"hisilicon": HISI})


def test_self_contained_no_network_assets():
    text = html.render(sample_result())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert "default-src 'none'" in text


def test_untrusted_names_are_escaped():
    r = sample_result()
    import dataclasses

    evil = dataclasses.replace(r.root.children[4], name="<script>alert(1)</script>")
    root = dataclasses.replace(r.root, children=(*r.root.children[:4], evil))
    text = html.render(dataclasses.replace(r, root=root))
    # in the embedded data, where the page's script escapes it again before drawing it
    assert "<script>alert(1)" not in text and "\\u003cscript\\u003ealert(1)" in text


@needs_browser
def test_flagged_components_shown_in_browser(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html.render(sample_result()), encoding="utf-8")
    done = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'data-ready="1"' in dom  # the inline script ran
    libmpi = _row(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libmpi_so")
    assert libmpi and 'class="row restricted"' in libmpi
    assert 'class="row review"' in (_row(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libgk_api_so")
                                    or "")
    # worst first: the restricted library is the first row
    assert dom.index("libmpi.so</code></td><td>hisilicon") < dom.index("busybox")
    assert "Huawei Technologies Company (or any subsidiary" in dom  # the findings' entries
    # a group's link opens its component with the evidence
    dom = _chromium(tmp_path, "--dump-dom",
                    page.as_uri() + "#ref=ref-fw_image_tar_gz-rootfs_usr_lib_libmpi_so").stdout
    assert 'class="details"' in dom and "HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release" in dom
    # screenshot for a human look (kept under build/test-artifacts)
    shot = tmp_path / "report.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900", page.as_uri())
    assert done.returncode == 0 and shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "report-html.png")


@needs_browser
def test_filter_in_browser(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html.render(sample_result()), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri() + "#q=libgk").stdout
    assert _row(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libmpi_so") is None
    assert _row(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libgk_api_so")
    assert 'id="match-count">1 match' in dom
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri() + "#flagged").stdout
    assert _row(dom, "ref-fw_image_tar_gz-rootfs_lib_modules_option_ko") is None
    assert _row(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libmpi_so")


@needs_browser
def test_clean_report_in_browser(tmp_path):
    page = tmp_path / "clean.html"
    page.write_text(html.render(clean_result()), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "No component is flagged." in dom and 'class="row restricted"' not in dom


def test_identical_blobs_are_one_row():
    rows = html._rows(large_result(2_000))
    shared = [r for r in rows if int(r["n"]) > 1]  # type: ignore[call-overload]
    assert len(shared) == 13 and sum(int(r["n"]) for r in shared) == 200  # type: ignore[call-overload]
    assert "occurrences" in str(shared[0]["d"])


@needs_browser
def test_large_report_first_screen_and_filter_time(tmp_path):
    result = large_result()
    page = tmp_path / "large.html"
    page.write_text(html.render(result), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri() + "#q=dir7/lib").stdout
    head = dom[: dom.index("<h2>Components")]
    assert "restricted makers (findings): HiSilicon Technologies Co., Ltd.: 60" in head
    start = dom.index('<tbody id="rows">')
    drawn = dom[start:dom.index("</tbody>", start)]
    assert drawn.count('<tr class="row ') == 100  # one page drawn, not 30,000 rows
    assert _ms(dom) < 200, _ms(dom)  # filtering 30,000 components, measured in the browser
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri() + "#flagged").stdout
    assert 'id="match-count">60 match' in dom and _ms(dom) < 200
    shot = tmp_path / "large.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900", page.as_uri())
    assert done.returncode == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "report-html-large.png")
