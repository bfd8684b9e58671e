"""Mach-O: a real dylib built with clang + lld (ad-hoc signed), and a signed code signature."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from identify_fixtures import pkcs7_signature

from provenance.attribute.resolve import resolve
from provenance.identify import identify, macho
from provenance.identify.base import Sink
from provenance.model import Artifact, Facts, Relationship


def _identify(path: Path) -> Facts:
    artifact = Artifact((path.name,), "0" * 64, path.stat().st_size, "file", 0, local=path)
    facts, problems = identify(artifact, path.read_bytes()[:4096])
    assert problems == ()
    return facts


def test_real_dylib_install_name_build_version_and_adhoc_identifier(tmp_path):
    if not (shutil.which("clang") and shutil.which("lld")):
        pytest.skip("clang and lld are needed to build a Mach-O (apt: clang lld)")
    src = tmp_path / "sdk.c"
    src.write_text("int HwSdk_Init(void) { return 0; }\n")
    lib = tmp_path / "libHwSdk.dylib"
    subprocess.run(["clang", "-target", "arm64-apple-macos11", "-nostdlib", "-fuse-ld=lld",
                    "-shared", "-Wl,-install_name,@rpath/libHwSdk.dylib", "-Wl,-adhoc_codesign",
                    "-o", str(lib), str(src)], check=True, capture_output=True, timeout=120)
    facts = _identify(lib)
    assert (facts.format, facts.arch, facts.name) == ("macho", "arm64", "@rpath/libHwSdk.dylib")
    assert facts.values("macho.install_name") == ("@rpath/libHwSdk.dylib",)
    assert facts.values("macho.dylib") == ()  # its own id is not a dependency
    assert facts.values("macho.platform") == ("MACOS",)
    assert facts.values("macho.minos") == ("11.0.0",)
    assert facts.values("macho.identifier") == ("libHwSdk.dylib",)
    assert facts.values("macho.team_id") == ()  # ad-hoc: no team, no signer


def _superblob(identifier: bytes, team: bytes, cms: bytes) -> bytes:
    ident_off, team_off = 88, 88 + len(identifier) + 1
    cd = bytearray(struct.pack(">IIIIIIIIIBBBBIII", 0xFADE0C02, 0, 0x20200, 0, 0, ident_off, 0,
                               0, 0, 32, 2, 0, 12, 0, 0, team_off))
    cd = cd.ljust(ident_off, b"\0") + identifier + b"\0" + team + b"\0"
    struct.pack_into(">I", cd, 4, len(cd))
    cms_blob = struct.pack(">II", 0xFADE0B01, len(cms) + 8) + cms
    header_len = 12 + 8 * 2
    blob = struct.pack(">III", 0xFADE0CC0, 0, 2)
    blob += struct.pack(">II", 0, header_len) + struct.pack(">II", 0x10000, header_len + len(cd))
    blob += bytes(cd) + cms_blob
    return blob[:4] + struct.pack(">I", len(blob)) + blob[8:]


def test_signed_code_signature_team_id_and_signer_make_signed_by(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed for the CMS signature (apt: openssl)")
    cms = pkcs7_signature(tmp_path, b"code directory hash")  # O=Huawei Device Co., Ltd.
    blob = _superblob(b"com.huawei.hwsdk", b"HWTEAM1234", cms)
    sink = Sink("HwSdk#slice[0]")
    signer = macho.code_signature(blob, sink, "HwSdk#slice[0]/LC_CODE_SIGNATURE")
    facts = Facts("macho", items=tuple(sink.facts))
    assert signer == "Huawei Device Co., Ltd."
    assert facts.values("macho.identifier") == ("com.huawei.hwsdk",)
    assert facts.values("macho.team_id") == ("HWTEAM1234",)
    assert "Huawei Device Co., Ltd." in facts.values("macho.signer.O")
    from provenance import signatureset

    (attribution,) = [a for a in resolve(facts, (), signatureset.load(), "HwSdk")
                      if a.vendor == "huawei"]
    assert attribution.relationship == Relationship.SIGNED_BY


def test_truncated_code_signature_is_a_problem_not_a_crash():
    sink = Sink("x")
    assert macho.code_signature(struct.pack(">III", 0xFADE0CC0, 100, 50), sink, "x") is None
    assert sink.problems and sink.problems[0].kind == "truncated"
