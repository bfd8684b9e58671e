"""The fact-key registry (identify/facts.py): what readers emit and what attribution reads are
registered, and the README shows the table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from provenance import pipeline
from provenance.attribute import bundle, marks
from provenance.identify.facts import facts_markdown, registered
from provenance.pipeline.blobs import AnalysisOptions
from provenance.signatureset import load

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "samples"))
from elfgen import ElfSpec, build  # noqa: E402
from identify_fixtures import tar_bytes  # noqa: E402


def _mixed(path: Path) -> Path:
    """A tar of what the readers here can be shown without apt tools."""
    files = {
        "lib/libsdk.so": build(ElfSpec(soname="libsdk.so", needed=["libc.so"],
                                       exports=["NET_DVR_Init"],
                                       strings=["Copyright (c) 2019 Example Co., Ltd.",
                                                "hisilicon,hi3516cv300"])),
        "lib/drv.ko": build(ElfSpec(modinfo={"license": ["GPL"], "author": ["A B <a@b.org>"],
                                            "alias": ["usb:v12D1p1001d*"]})),
        "etc/ctree.xml": b"<cfg ethaddr=00:18:82:12:34:56 />\n",
        "pkg/package.json": b'{"name": "x", "version": "1.0.0", "author": "A <a@b.org>"}',
    }
    path.write_bytes(tar_bytes(files, compress=""))
    return path


@pytest.mark.parametrize("name", ["ipcam-hi3516ev200.tar.gz", "router-clean.zip", "mixed"])
def test_every_fact_a_reader_emits_is_registered(tmp_path, name):
    path = _mixed(tmp_path / "mixed.tar") if name == "mixed" else ROOT / "samples" / name
    options = pipeline.ScanOptions(analysis=AnalysisOptions(jobs=1, cache_dir=tmp_path / "c"))
    result = pipeline.scan(path, load(), options)
    keys = {f.key for c in result.components() if c.facts for f in c.facts.items}
    assert keys, "the scan read no facts at all"
    assert sorted(k for k in keys if not registered(k)) == []


def test_every_key_attribution_reads_is_registered():
    import importlib

    resolve = importlib.import_module("provenance.attribute.resolve")
    read = {*resolve.FACT_KINDS, "sbom.component", "sbom.name", "sbom.version", "sbom.purl",
            *marks.DECLARED_MAKER, *bundle.DECLARED_MAKER,
            "cert.subject", "cert.subject.O", "net.mac", "dt.vendor_prefix", "modinfo.usb_id",
            "modinfo.pci_id", "container.vendor", "java.class", "content.type", "elf.export",
            "pe.export", "macho.export", "elf.import", "pe.import", "macho.import",
            "pe.signature.verified", "manifest.homepage", "manifest.repository"}
    assert sorted(k for k in read if not registered(k)) == []


def test_unknown_keys_are_not_registered():
    assert not registered("elf.bogus") and not registered("pe.version.Company.Name")


@pytest.mark.readme
def test_readme_has_the_fact_table():
    assert facts_markdown().rstrip() in (ROOT / "README.md").read_text(encoding="utf-8")
