"""The self-contained HTML report, loaded in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report_build import clean_result, sample_result

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


def _li(dom: str, ref: str) -> str:
    match = re.search(rf"<li [^>]*id=\"{re.escape(ref)}\"[^>]*>", dom)
    assert match, ref
    return match.group(0)


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
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text


@needs_browser
def test_flagged_components_shown_in_browser(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html.render(sample_result()), encoding="utf-8")
    done = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'data-ready="1"' in dom  # the inline script ran
    libmpi = _li(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libmpi_so")
    assert 'data-flagged="1"' in libmpi and "hidden" not in libmpi
    assert re.search(r'class="node restricted"><span class="name">libmpi\.so', dom)
    assert re.search(r'class="node review"><span class="name">libgk_api\.so', dom)
    assert "HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release" in dom
    assert "Huawei Technologies Company (or any subsidiary" in dom
    # flagged parts and the input holding them are opened; a clean leaf is not
    assert re.search(r'<details open="">\s*<summary class="node restricted">', dom)
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
    assert "hidden" in _li(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libmpi_so")
    assert "hidden" not in _li(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libgk_api_so")
    assert "hidden" not in _li(dom, "ref-root")  # ancestors of a match stay
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri() + "#flagged").stdout
    assert "hidden" in _li(dom, "ref-fw_image_tar_gz-rootfs_lib_modules_option_ko")
    assert "hidden" not in _li(dom, "ref-fw_image_tar_gz-rootfs_usr_lib_libmpi_so")


@needs_browser
def test_clean_report_in_browser(tmp_path):
    page = tmp_path / "clean.html"
    page.write_text(html.render(clean_result()), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "No component is flagged." in dom and 'data-flagged="1"' not in dom
