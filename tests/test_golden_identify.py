"""Identify on the committed golden binaries (tests/golden/identify/): the PE with its version
resource and Authenticode signature, the gcc-built ELF files, the device tree and the Mach-O
dylib read the same facts as the fresh builds in test_identify.py / test_identify_macho.py, on
a machine without mingw-w64, osslsigncode, gcc, dtc or clang."""

from __future__ import annotations

import hashlib
from pathlib import Path

import golden
import pytest

from provenance.identify import identify
from provenance.model import Artifact, Facts, Problem


def run(path: Path) -> tuple[Facts, tuple[Problem, ...]]:
    data = path.read_bytes()
    art = Artifact((path.name,), hashlib.sha256(data).hexdigest(), len(data), "data", 0,
                   local=path)
    return identify(art, data[:4096])


def load(key: str, tmp_path: Path) -> Path:
    if golden.entry(key) is None:
        pytest.fail(f"golden fixture {key} missing: run python tests/golden/make.py")
    return golden.materialize(key, tmp_path)


def test_pe_version_pdb_imports(tmp_path: Path) -> None:
    facts, problems = run(load("identify/pe/exe", tmp_path))
    assert not problems and facts.format == "pe"
    assert facts.first("pe.version.CompanyName") == "Huawei Technologies Co., Ltd."
    assert facts.first("pe.version.OriginalFilename") == "HwOs2Ec.exe"
    assert facts.version == "3.1.0.7" and facts.supplier == "Huawei Technologies Co., Ltd."
    assert facts.first("pe.pdb") == "HwOs2Ec.pdb"
    assert "USER32.dll!MessageBoxA" in facts.values("pe.import")
    assert facts.first("pe.signature.verified") is None


def test_pe_authenticode(tmp_path: Path) -> None:
    facts, _ = run(load("identify/pe/signed", tmp_path))
    assert facts.first("pe.signer.O") == "Huawei Technologies Co., Ltd."
    assert facts.first("pe.signer.CN") == "Huawei Code Signing"
    assert facts.first("pe.signer.C") == "CN"
    assert facts.first("pe.issuer.CN") == "Test Root CA"
    assert facts.first("pe.signer.serial") == "1234abcd"
    assert facts.first("pe.signature.digest") == "SHA_256"
    assert facts.first("pe.signature.verified") == "true", facts.first("pe.signature.status")


def test_pe_tampered_signature_does_not_verify(tmp_path: Path) -> None:
    data = bytearray(golden.data("identify/pe/signed"))
    data[0x400] ^= 0xFF  # inside .text: the Authenticode digest no longer matches
    bad = tmp_path / "bad.exe"
    bad.write_bytes(bytes(data))
    facts, _ = run(bad)
    assert facts.first("pe.signer.O") == "Huawei Technologies Co., Ltd."
    assert facts.first("pe.signature.verified") == "false"


def test_elf_executable_and_shared_object(tmp_path: Path) -> None:
    facts, problems = run(load("identify/elf/exe", tmp_path))
    assert not problems and facts.format == "elf"
    assert facts.values("elf.rpath") == ("/opt/app/lib",)
    assert "libhi.so.1" in facts.values("elf.needed")
    assert "HI_MPI_SYS_Init" in facts.values("elf.import")
    assert len(facts.first("elf.build_id") or "") == 40
    facts, _ = run(load("identify/elf/lib", tmp_path))
    assert facts.name == "libhi.so.1" and facts.values("elf.runpath") == ("/opt/hisi/lib",)
    assert {"HI_MPI_SYS_Init", "HI_MPI_SYS_Exit"} <= set(facts.values("elf.export"))
    assert facts.first("copyright.holder") == "Huawei Technologies Co., Ltd."


def test_kernel_module_modinfo(tmp_path: Path) -> None:
    facts, problems = run(load("identify/elf/ko", tmp_path))
    assert not problems and facts.name == "hw_modem"
    assert facts.first("modinfo.author") == "Huawei Technologies Co., Ltd."
    assert facts.values("modinfo.usb_id") == ("12d1:1001",)
    assert facts.values("modinfo.pci_id") == ("19e5:a250",)
    assert "hisilicon,hisi-sys" in facts.values("dt.compatible")


def test_device_tree(tmp_path: Path) -> None:
    facts, problems = run(load("identify/dtb/dtb", tmp_path))
    assert not problems and facts.format == "dtb"
    assert facts.first("dt.model") == "Hisilicon HI3516CV300 DEMO Board"
    assert facts.values("dt.vendor_prefix") == ("hisilicon",)


def test_macho_dylib(tmp_path: Path) -> None:
    facts, problems = run(load("identify/macho/dylib", tmp_path))
    assert problems == ()
    assert (facts.format, facts.arch, facts.name) == ("macho", "arm64", "@rpath/libHwSdk.dylib")
    assert facts.values("macho.install_name") == ("@rpath/libHwSdk.dylib",)
    assert facts.values("macho.dylib") == ()
    assert facts.values("macho.platform") == ("MACOS",)
    assert facts.values("macho.minos") == ("11.0.0",)
    assert facts.values("macho.identifier") == ("libHwSdk.dylib",)


def test_a_missing_toolchain_falls_back_to_the_golden_binaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import identify_fixtures as fx

    monkeypatch.setattr(fx.shutil, "which", lambda _name: None)
    exe = fx.build_pe(tmp_path)
    assert exe.read_bytes() == golden.data("identify/pe/exe")
    assert fx.sign_pe(exe, tmp_path).read_bytes() == golden.data("identify/pe/signed")
    elfs = fx.build_elf(tmp_path)
    assert sorted(elfs) == ["exe", "ko", "lib"] and elfs["exe"].name == "app"
    with pytest.raises(fx.Missing, match="go not installed"):  # no golden Go binary
        fx.build_go(tmp_path)
