"""Bundles (attribute/bundle.py): unmarked code beside vendor-made siblings, through a real scan
of a generated tar, with near misses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from provenance import pipeline
from provenance.model import Relationship
from provenance.pipeline.blobs import AnalysisOptions
from provenance.signatureset import load

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))
from elfgen import ElfSpec, build
from identify_fixtures import tar_bytes


def _tar(path: Path, files: dict[str, bytes]) -> Path:
    path.write_bytes(tar_bytes(files, compress=""))
    return path


def _scan(path: Path, tmp_path: Path):
    options = pipeline.ScanOptions(analysis=AnalysisOptions(jobs=1, cache_dir=tmp_path / "c"))
    result = pipeline.scan(path, load(), options)
    return {c.name: c for c in result.components()}


def _sdk(name: str, prefix: str = "NET_DVR_") -> bytes:
    return build(ElfSpec(soname=name, exports=[f"{prefix}Fn{i}" for i in range(8)]))


def test_unmarked_runtime_beside_vendor_libraries_goes_to_review(tmp_path):
    comps = _scan(_tar(tmp_path / "sdk.tar", {
        "lib/libhcnetsdk.so": _sdk("libhcnetsdk.so"),
        "lib/libHCCore.so": _sdk("libHCCore.so"),
        "lib/libAudioRender.so": build(ElfSpec(soname="libAudioRender.so",
                                               exports=["CBaseAudioRender_Open"])),
    }), tmp_path)
    (a,) = [a for a in comps["libAudioRender.so"].attributions if a.vendor == "hikvision"]
    assert a.relationship == Relationship.MADE_BY and a.confidence < 0.7
    assert "libhcnetsdk.so" in a.evidence[0].detail or "libHCCore.so" in a.evidence[0].detail


@pytest.mark.parametrize("extra", [
    # a third party's library that names its own maker
    {"lib/libcrypto.so": build(ElfSpec(soname="libcrypto.so",
                                       strings=["Copyright (c) 1998-2020 The OpenSSL Project"]))},
])
def test_a_file_that_declares_its_maker_is_left_alone(tmp_path, extra):
    files = {"lib/libhcnetsdk.so": _sdk("libhcnetsdk.so"), "lib/libHCCore.so": _sdk("libHCCore.so"),
             **extra}
    comps = _scan(_tar(tmp_path / "sdk.tar", files), tmp_path)
    assert not [a for a in comps["libcrypto.so"].attributions if a.vendor == "hikvision"]


def test_one_vendor_sibling_is_not_a_bundle(tmp_path):
    comps = _scan(_tar(tmp_path / "app.tar", {
        "lib/libhcnetsdk.so": _sdk("libhcnetsdk.so"),
        "lib/libapp.so": build(ElfSpec(soname="libapp.so", exports=["app_main"])),
    }), tmp_path)
    assert not comps["libapp.so"].attributions


def test_two_vendor_families_lend_nothing(tmp_path):
    comps = _scan(_tar(tmp_path / "mixed.tar", {
        "lib/libhcnetsdk.so": _sdk("libhcnetsdk.so"), "lib/libHCCore.so": _sdk("libHCCore.so"),
        "lib/libmv.so": _sdk("libmv.so", "MV_CC_"), "lib/libhw.so": _sdk("libhw.so", "IHW265D_"),
        "lib/libapp.so": build(ElfSpec(soname="libapp.so", exports=["app_main"])),
    }), tmp_path)
    assert not comps["libapp.so"].attributions


def test_a_rootfs_folder_lends_only_what_a_vendor_library_loads(tmp_path):
    others = {f"lib/libsys{i}.so": build(ElfSpec(soname=f"libsys{i}.so",
                                                 exports=[f"sys{i}_open"])) for i in range(5)}
    mpi = build(ElfSpec(soname="libhcnetsdk.so", needed=["libsys0.so"],
                        exports=[f"NET_DVR_Fn{i}" for i in range(8)]))
    comps = _scan(_tar(tmp_path / "rootfs.tar", {
        **others, "lib/libhcnetsdk.so": mpi, "lib/libHCCore.so": _sdk("libHCCore.so")}),
        tmp_path)
    assert [a.vendor for a in comps["libsys0.so"].attributions] == ["hikvision"]  # NEEDed
    assert not comps["libsys3.so"].attributions  # an unrelated system library
