"""Identify reads every fact kind from fixtures built by real toolchains at test time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import identify_fixtures as fx
import pytest

from provenance.identify import facts_to_dict, identify
from provenance.model import Artifact, Facts, Problem


def run(path: Path, name: str | None = None) -> tuple[Facts, tuple[Problem, ...]]:
    data = path.read_bytes()
    art = Artifact((name or path.name,), hashlib.sha256(data).hexdigest(), len(data), "data", 0,
                   local=path)
    return identify(art, data[:4096])


def fact(facts: Facts, key: str) -> str | None:
    return facts.first(key)


def build(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except fx.Missing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def elfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(fx.build_elf, tmp_path_factory.mktemp("elf"))


def test_elf_executable(elfs: dict[str, Path]) -> None:
    facts, problems = run(elfs["exe"])
    assert not problems
    assert facts.format == "elf" and fact(facts, "elf.type") == "DYN"
    assert fact(facts, "elf.interpreter", ).startswith("/lib")  # type: ignore[union-attr]
    assert facts.values("elf.rpath") == ("/opt/app/lib",)
    assert "libhi.so.1" in facts.values("elf.needed")
    assert len(fact(facts, "elf.build_id") or "") == 40
    assert "HI_MPI_SYS_Init" in facts.values("elf.import")
    assert any(f.location == "app#NT_GNU_BUILD_ID" for f in facts.items)


def test_elf_shared_object(elfs: dict[str, Path]) -> None:
    facts, _ = run(elfs["lib"])
    assert facts.name == "libhi.so.1" and fact(facts, "elf.soname") == "libhi.so.1"
    assert facts.values("elf.runpath") == ("/opt/hisi/lib",)
    assert {"HI_MPI_SYS_Init", "HI_MPI_SYS_Exit"} <= set(facts.values("elf.export"))
    assert any(v.startswith("GCC:") for v in facts.values("elf.comment"))
    # the copyright string in .rodata, found by the content scanner at its offset
    assert fact(facts, "copyright.holder") == "Huawei Technologies Co., Ltd."
    assert fact(facts, "copyright.years") == "2019"
    loc = next(f.location for f in facts.items if f.key == "copyright.holder")
    assert loc.startswith("libhi.so@0x")


def test_kernel_module_modinfo(elfs: dict[str, Path]) -> None:
    facts, problems = run(elfs["ko"])
    assert not problems
    assert fact(facts, "modinfo.author") == "Huawei Technologies Co., Ltd."
    assert fact(facts, "modinfo.description") == "Huawei modem driver"
    assert fact(facts, "modinfo.license") == "GPL"
    assert (fact(facts, "modinfo.vermagic") or "").startswith("4.9.37 SMP")
    assert facts.values("modinfo.usb_id") == ("12d1:1001",)
    assert facts.values("modinfo.pci_id") == ("19e5:a250",)
    assert len(facts.values("modinfo.alias")) == 2
    assert facts.name == "hw_modem"
    assert "hisilicon,hisi-sys" in facts.values("dt.compatible")
    assert "hisilicon" in facts.values("dt.vendor_prefix")


def test_go_build_info(tmp_path: Path) -> None:
    binary = build(fx.build_go, tmp_path)
    facts, _ = run(binary)
    assert (fact(facts, "go.version") or "").startswith("go1.")
    assert fact(facts, "go.path") == "example.com/hello"
    assert (fact(facts, "go.module") or "").startswith("example.com/hello")


@pytest.fixture(scope="module")
def pes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("pe")
    exe = build(fx.build_pe, out)
    return {"exe": exe, "signed": build(fx.sign_pe, exe, out)}


def test_pe_version_pdb_imports(pes: dict[str, Path]) -> None:
    facts, problems = run(pes["exe"])
    assert not problems
    assert fact(facts, "pe.version.CompanyName") == "Huawei Technologies Co., Ltd."
    assert fact(facts, "pe.version.OriginalFilename") == "HwOs2Ec.exe"
    assert facts.version == "3.1.0.7" and facts.supplier == "Huawei Technologies Co., Ltd."
    assert fact(facts, "pe.pdb") == "HwOs2Ec.pdb"
    assert "USER32.dll!MessageBoxA" in facts.values("pe.import")
    assert fact(facts, "pe.signature.verified") is None


def test_pe_authenticode(pes: dict[str, Path]) -> None:
    facts, _ = run(pes["signed"])
    assert fact(facts, "pe.signer.O") == "Huawei Technologies Co., Ltd."
    assert fact(facts, "pe.signer.CN") == "Huawei Code Signing"
    assert fact(facts, "pe.signer.C") == "CN"
    assert fact(facts, "pe.issuer.CN") == "Test Root CA"
    assert fact(facts, "pe.signer.serial") == "1234abcd"
    assert fact(facts, "pe.signature.digest") == "SHA_256"
    assert fact(facts, "pe.signature.verified") == "true", fact(facts, "pe.signature.status")


def test_pe_tampered_signature_does_not_verify(pes: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(pes["signed"].read_bytes())
    data[0x400] ^= 0xFF  # inside .text: the Authenticode digest no longer matches
    bad = tmp_path / "bad.exe"
    bad.write_bytes(bytes(data))
    facts, _ = run(bad)
    assert fact(facts, "pe.signer.O") == "Huawei Technologies Co., Ltd."
    assert fact(facts, "pe.signature.verified") == "false"


def test_embedded_certificates(tmp_path: Path) -> None:
    pem, der = build(fx.build_cert_blob, tmp_path)
    for blob in (pem, der):
        facts, _ = run(blob)
        assert fact(facts, "cert.subject.CN") == "HUAWEI C2PA ECC384 Root CA E346"
        assert fact(facts, "cert.subject.O") == "Huawei Technologies Co., Ltd."
        assert fact(facts, "cert.issuer.CN") == "HUAWEI C2PA ECC384 Root CA E346"
        assert fact(facts, "cert.not_after") and fact(facts, "cert.not_before")
        loc = next(f.location for f in facts.items if f.key == "cert.subject")
        assert loc.startswith(blob.name + "@0x")
    assert any(f.location == f"der.bin@0x{5 * 33:x}" for f in run(der)[0].items)


def test_device_tree(tmp_path: Path) -> None:
    dtb = build(fx.build_dtb, tmp_path)
    facts, problems = run(dtb)
    assert not problems and facts.format == "dtb"
    assert fact(facts, "dt.model") == "Hisilicon HI3516CV300 DEMO Board"
    assert {"hisilicon,hi3516cv300", "hisilicon,hisi-sys", "simple-bus"} <= set(
        facts.values("dt.compatible"))
    assert facts.values("dt.vendor_prefix") == ("hisilicon",)
    assert any(f.location == "board.dtb#/soc/sys@12020000/compatible" for f in facts.items)


def test_firmware_headers(tmp_path: Path) -> None:
    cases = {
        "uImage": (fx.uimage(), "uimage.name", "Linux-4.9.37-hi3516cv300"),
        "UPDATE.APP": (fx.update_app(), "updateapp.hardware_id", "HW7x27"),
        "digicap.dav": (fx.digicap(), "digicap.device_class", "0x2f"),
        "config.bin": (fx.zte_config(), "zte.model", "ZXHN H298N"),
    }
    for name, (data, key, value) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        facts, problems = run(path)
        assert fact(facts, key) == value, name
        assert not problems, name
    facts, _ = run(tmp_path / "UPDATE.APP")
    assert facts.values("updateapp.hardware_id") == ("HW7x27", "HI3798MV")
    facts, _ = run(tmp_path / "digicap.dav")
    assert fact(facts, "digicap.oem_code") == "1" and fact(facts, "digicap.language") == "2"
    facts, _ = run(fx.dahua_zip(tmp_path))
    assert fact(facts, "dahua.hwid") == fx.DAHUA_HWID.decode()


def test_apk(tmp_path: Path) -> None:
    _, der = build(fx.build_cert_blob, tmp_path / "c")
    apk = build(fx.build_apk, tmp_path, (tmp_path / "c" / "c.der").read_bytes())
    assert der.exists()
    facts, problems = run(apk)
    assert not problems and facts.format == "apk"
    assert facts.name == "com.huawei.hwid" and facts.version == "6.12.0.300"
    assert fact(facts, "apk.version_code") == "61200300"
    schemes = facts.values("apk.signature.scheme")
    assert schemes == ("v1", "v2")
    signers = {(f.value, f.location.rsplit("#", 1)[-1].rsplit("!/", 1)[-1])
               for f in facts.items if f.key == "apk.signer.O"}
    assert ("Huawei Device Co., Ltd.", "META-INF/CERT.RSA") in signers
    assert ("Huawei Technologies Co., Ltd.", "APK-Signing-Block/v2") in signers


def test_axml_utf8_pool() -> None:
    from provenance.identify import axml

    attrs = axml.manifest_attributes(fx.axml("com.mm.android.dmss", "4.1", 41, utf8=True))
    assert attrs == {"versionCode": "41", "versionName": "4.1", "package": "com.mm.android.dmss"}


def test_jar(tmp_path: Path) -> None:
    facts, problems = run(fx.build_jar(tmp_path))
    assert not problems and facts.format == "jar"
    assert fact(facts, "jar.manifest.Implementation-Vendor") == "Huawei Technologies Co., Ltd."
    assert fact(facts, "jar.manifest.Bundle-SymbolicName") == "com.huawei.agconnect.core"
    assert fact(facts, "maven.groupId") == "com.huawei.agconnect"
    assert fact(facts, "maven.organization.name") == "Huawei"
    assert facts.purl == "pkg:maven/com.huawei.agconnect/agconnect-core@1.9.1.301"


@pytest.fixture(scope="module")
def pkgs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return fx.build_packages(tmp_path_factory.mktemp("pkg"))


@pytest.mark.parametrize("kind", ["wheel", "sdist", "metadata"])
def test_python_metadata(pkgs: dict[str, Path], kind: str) -> None:
    facts, problems = run(pkgs[kind])
    assert not problems
    assert facts.name == "huaweicloudsdkcore" and facts.version == "3.1.219"
    assert facts.purl == "pkg:pypi/huaweicloudsdkcore@3.1.219"
    assert fact(facts, "manifest.author_email") == "hwcloudsdk@huawei.com"
    assert fact(facts, "manifest.email_domain") == "huawei.com"
    assert fact(facts, "manifest.homepage") == (
        "https://github.com/huaweicloud/huaweicloud-sdk-python-v3")
    assert fact(facts, "manifest.repository")


@pytest.mark.parametrize("kind", ["package.json", "npm"])
def test_npm(pkgs: dict[str, Path], kind: str) -> None:
    facts, problems = run(pkgs[kind])
    assert not problems
    assert facts.purl == "pkg:npm/%40huaweicloud/huaweicloud-sdk-iam@3.1.172"
    assert facts.supplier == "HuaweiCloud_SDK"
    assert fact(facts, "manifest.email_domain") == "huawei.com"
    assert fact(facts, "manifest.publisher") == "huaweicloud"
    assert (fact(facts, "manifest.repository") or "").endswith("huaweicloud-sdk-nodejs-v3.git")


@pytest.mark.parametrize("kind", ["deb", "control"])
def test_debian(pkgs: dict[str, Path], kind: str) -> None:
    facts, problems = run(pkgs[kind])
    assert not problems
    assert facts.name == "hisi-osdrv" and facts.version == "1.0.1.2-1"
    assert facts.purl == "pkg:deb/hisi-osdrv@1.0.1.2-1?arch=armhf"
    assert fact(facts, "manifest.maintainer") == "HiSilicon Build"
    assert fact(facts, "manifest.email_domain") == "hisilicon.com"


def test_opkg_and_rpm(pkgs: dict[str, Path]) -> None:
    facts, _ = run(pkgs["ipk"])
    assert facts.format == "ipk" and facts.name == "luci-app-zte"
    assert fact(facts, "manifest.email_domain") == "zte.com.cn"
    facts, problems = run(pkgs["rpm"])
    assert not problems and facts.format == "rpm"
    assert facts.purl == "pkg:rpm/kesl@11.4.0-1234?arch=x86_64"
    assert facts.supplier == "AO Kaspersky Lab"
    assert fact(facts, "manifest.email_domain") == "kaspersky.com"


@pytest.mark.parametrize(("name", "data", "spec", "count"), [
    ("bom.json", fx.cdx_json("1.6"), "1.6", 3),
    ("bom12.json", fx.cdx_json("1.2"), "1.2", 3),
    ("bom.xml", fx.cdx_xml("1.4"), "1.4", 2),
    ("spdx.json", fx.spdx_json(), "SPDX-2.3", 2),
    ("spdx.spdx", fx.SPDX_TV.encode(), "SPDX-2.2", 2),
])
def test_sbom(tmp_path: Path, name: str, data: bytes, spec: str, count: int) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    facts, problems = run(path)
    assert not problems and facts.format == "sbom"
    assert fact(facts, "sbom.spec_version") == spec
    assert fact(facts, "sbom.component_count") == str(count)
    assert facts.values("sbom.component")
    assert fact(facts, "sbom.purl")


def test_copyright_in_source(tmp_path: Path) -> None:
    src = tmp_path / "hinic_main.c"
    src.write_text("// SPDX-License-Identifier: GPL-2.0\n/* Copyright(c) 2017 Huawei "
                   "Technologies Co., Ltd */\n/* the above copyright notice applies */\n")
    facts, _ = run(src)
    assert facts.values("copyright.holder") == ("Huawei Technologies Co., Ltd",)
    assert fact(facts, "copyright.years") == "2017"


def test_facts_to_dict(pkgs: dict[str, Path]) -> None:
    facts, _ = run(pkgs["package.json"])
    out = facts_to_dict(facts)
    assert json.loads(json.dumps(out)) == out
    assert out["purl"].startswith("pkg:npm/")
    assert out["facts"]["manifest.name"][0]["location"] == "package.json#name"


def test_sbom_with_sorted_keys_is_recognised_past_its_head():
    """cyclonedx-py sorts keys: "bomFormat" comes last, far past the first 4 KiB."""
    from pathlib import Path

    from provenance.identify import identify
    from provenance.model import Artifact

    path = Path(__file__).parent / "fixtures" / "sbom" / "pyenv-cdx-1.6.json"
    artifact = Artifact((path.name,), "0" * 64, path.stat().st_size, "file", 0, local=path)
    facts, _ = identify(artifact, path.read_bytes()[:4096])
    assert facts.format == "sbom"
    assert "pkg:pypi/huaweicloudsdkcore@3.1.219" in facts.values("sbom.purl")


# --- SBOMs read through the libraries (cyclonedx-python-lib, spdx-tools, defusedxml) ----------

SBOM_FIX = Path(__file__).parent / "fixtures" / "sbom"


def scan_facts(tmp_path: Path, image: Path) -> tuple[dict[str, dict[str, list[tuple[str, str]]]],
                                                      list[dict[str, str]], int]:
    """`provenance scan --facts` of an image: facts per member, the report's problems, exit."""
    from typer.testing import CliRunner

    from provenance.cli import app

    out, report = tmp_path / "facts.json", tmp_path / "report.json"
    result = CliRunner().invoke(app, ["scan", str(image), "-q", "--facts", str(out),
                                      "-o", str(report)], catch_exceptions=False)
    rows: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for row in json.loads(out.read_text())["components"]:
        member = row["location"].rsplit("!/", 1)[-1]
        for f in row["facts"]:
            rows.setdefault(member, {}).setdefault(f["key"], []).append(
                (f["value"], f["location"].rsplit("!/", 1)[-1]))
    doc = json.loads(report.read_text())
    problems = [json.loads(p["value"]) for p in doc["metadata"]["component"]["properties"]
                if p["name"] == "provenance:problem"]
    return rows, problems, result.exit_code


# a CycloneDX XML document cyclonedx-python-lib's model refuses (no such component type)
BAD_TYPE_XML = fx.cdx_xml("1.4").replace(b'type="library" bom-ref', b'type="gizmo" bom-ref')
IMAGE_SBOMS = {
    "usr/share/sbom/app.cdx.xml": fx.cdx_xml("1.2"),
    "usr/share/sbom/hik-bom.xml": fx.cdx_xml("1.4"),
    "etc/sbom/fw.spdx": fx.SPDX_TV.encode(),
    "opt/sdk/sdk.spdx.json": fx.spdx_json(),
    "opt/py/bom.json": (SBOM_FIX / "pyenv-cdx-1.4.json").read_bytes(),
    "opt/py/sbom.spdx.jsonld": (SBOM_FIX / "pyenv-spdx-3.0.jsonld").read_bytes(),
    "opt/broken/bom.xml": fx.cdx_xml("1.4")[:-40],  # cut short: not well-formed
    "opt/gizmo/bom.xml": BAD_TYPE_XML,
    "opt/bad-shape/bom.json": b'{"bomFormat": "CycloneDX", "specVersion": "1.5", '
                              b'"components": {"a": 1}, "metadata": {"component": '
                              b'{"type": "firmware", "name": "fw", "version": "1"}}}',
    "opt/laughs/bom.xml": b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "ha">'
                          b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                          b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4">&b;</bom>',
}


def sbom_image(tmp_path: Path, kind: str) -> Path:
    import io
    import tarfile
    import zipfile

    if kind == "tar":
        image = tmp_path / "fw.tar"
        with tarfile.open(image, "w") as tar:
            for name, data in IMAGE_SBOMS.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        image = tmp_path / "fw.zip"
        with zipfile.ZipFile(image, "w") as z:
            for name, data in IMAGE_SBOMS.items():
                z.writestr(name, data)
    return image


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_sboms_inside_an_image_are_read_through_the_libraries(tmp_path: Path, kind: str) -> None:
    rows, problems, code = scan_facts(tmp_path, sbom_image(tmp_path, kind))
    assert code in (0, 1)  # the scan completed, whatever the SBOMs held
    xml12 = rows["usr/share/sbom/app.cdx.xml"]
    assert xml12["sbom.spec_version"] == [("1.2", "usr/share/sbom/app.cdx.xml#bom@xmlns")]
    # the library's model sorts components; the locations are still the document's
    assert xml12["sbom.component"] == [
        ("libhcnetsdk 6.1.9", "usr/share/sbom/app.cdx.xml#component[0]"),
        ("zlib 1.2.13", "usr/share/sbom/app.cdx.xml#component[1]")]
    assert ("zlib project", "usr/share/sbom/app.cdx.xml#component[1].supplier.name") \
        in xml12["sbom.supplier"]
    assert rows["usr/share/sbom/hik-bom.xml"]["sbom.purl"] == [
        ("pkg:generic/libhcnetsdk@6.1.9", "usr/share/sbom/hik-bom.xml#component[0]")]
    tv = rows["etc/sbom/fw.spdx"]
    assert tv["sbom.spec_version"][0][0] == "SPDX-2.2"
    assert tv["sbom.component"] == [("dhnetsdk 3.050", "etc/sbom/fw.spdx#package[0]"),
                                    ("busybox 1.36.1", "etc/sbom/fw.spdx#package[1]")]
    # spdx-tools' actor model: the supplier's name, not "Organization: ..."
    assert tv["sbom.supplier"] == [("Zhejiang Dahua Technology Co., Ltd.",
                                    "etc/sbom/fw.spdx#package[0].supplier.name")]
    assert rows["opt/sdk/sdk.spdx.json"]["sbom.component"][1] == (
        "busybox 1.36.1", "opt/sdk/sdk.spdx.json#packages[1]")
    py = rows["opt/py/bom.json"]
    assert py["sbom.component_count"][0][0] == "26"
    assert ("pkg:pypi/huaweicloudsdkcore@3.1.219",
            "opt/py/bom.json#components[9]") in py["sbom.purl"]
    spdx3 = rows["opt/py/sbom.spdx.jsonld"]
    assert spdx3["sbom.spec_version"][0][0] == "SPDX-3.0"
    assert spdx3["sbom.component_count"][0][0] == "27"
    assert all("#@graph[" in where for _, where in spdx3["sbom.component"])

    by_member = {}
    for p in problems:
        by_member.setdefault(p["location"].rsplit("!/", 1)[-1].split("#")[0], []).append(p)
    broken = by_member["opt/broken/bom.xml"][0]["message"]
    assert broken.startswith("SBOM unreadable: not well-formed")
    assert [p["kind"] for p in by_member["opt/laughs/bom.xml"]] == ["unsafe"]
    # the model refuses the gizmo: its components are still read, with the reason
    gizmo = rows["opt/gizmo/bom.xml"]
    assert [v for v, _ in gizmo["sbom.component"]] == ["libhcnetsdk 6.1.9", "zlib 1.2.13"]
    messages = " ".join(p["message"] for p in by_member["opt/gizmo/bom.xml"])
    assert "schema" in messages and "gizmo" in messages
    assert "cyclonedx-python-lib could not read it" in messages
    assert rows["opt/bad-shape/bom.json"]["sbom.component"] == [
        ("fw 1", "opt/bad-shape/bom.json#metadata.component")]
    assert "'components' must be an array" in by_member["opt/bad-shape/bom.json"][0]["message"]
    for member in ("usr/share/sbom/app.cdx.xml", "usr/share/sbom/hik-bom.xml",
                   "etc/sbom/fw.spdx", "opt/sdk/sdk.spdx.json", "opt/py/bom.json"):
        assert member not in by_member  # schema-valid documents give no problems


def test_library_checks_give_problems(tmp_path: Path) -> None:
    """Defects only the libraries see: the XSD's element order, spdx-tools' mandatory fields."""
    path = tmp_path / "bom.xml"
    path.write_bytes(fx.cdx_xml("1.4", "<publisher>late</publisher>"))
    facts, problems = run(path)
    assert fact(facts, "sbom.component_count") == "2"
    assert any("CycloneDX XML 1.4 schema" in p.message and "publisher" in p.message
               for p in problems)
    path = tmp_path / "x.spdx"
    path.write_text(fx.SPDX_TV.replace("PackageLicenseConcluded: GPL-2.0-only\n", ""))
    facts, problems = run(path)
    assert fact(facts, "sbom.component_count") == "2"
    assert [p.message for p in problems] == ["SPDX: license_concluded is mandatory in SPDX-2.2"]
    assert problems[0].location == "x.spdx"


def test_spdx_tools_refusal_is_read_leniently(tmp_path: Path) -> None:
    path = tmp_path / "x.spdx"
    path.write_text(fx.SPDX_TV.replace("PackageVersion: 1.36.1", "PackageVersion: 1.36.1\n"
                                       "PackageChecksum: NOTANALG: 12"))
    facts, problems = run(path)
    assert facts.values("sbom.component") == ("dhnetsdk 3.050", "busybox 1.36.1")
    assert any(p.message.endswith("read leniently") for p in problems)


def test_cyclonedx_json_of_an_unknown_version_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(fx.cdx_json("2.0"))
    facts, problems = run(path)
    assert fact(facts, "sbom.component_count") == "3"
    assert [p.kind for p in problems] == ["unsupported"]


def test_sbom_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.identify import sbom_read

    monkeypatch.setattr(sbom_read, "MAX_LIBRARY", 100)  # no library sees more than this
    path = tmp_path / "bom.xml"
    path.write_bytes(fx.cdx_xml("1.4"))
    facts, problems = run(path)
    assert facts.values("sbom.component") == ("libhcnetsdk 6.1.9", "zlib 1.2.13")
    assert [p.kind for p in problems] == ["limit"]
    path = tmp_path / "spdx.json"
    path.write_bytes(fx.spdx_json())
    facts, problems = run(path)
    assert fact(facts, "sbom.component_count") == "2"
    assert [p.kind for p in problems] == ["limit"]
    monkeypatch.setattr(sbom_read, "MAX_COMPONENTS", 1)
    facts, problems = run(path)
    assert fact(facts, "sbom.component_count") == "1"
    assert "only the first 1 read" in problems[-1].message


def test_tar_holding_an_sbom_first_is_not_an_sbom(tmp_path: Path) -> None:
    from provenance.identify.sbom import detect

    image = sbom_image(tmp_path, "tar")
    assert not detect(image.read_bytes()[:4096], image.name)
    assert detect(fx.cdx_xml("1.4"), "x") and detect(b"\xef\xbb\xbf" + fx.cdx_xml("1.4"), "x")


def test_enrich_and_identify_share_one_reader_and_one_mapping() -> None:
    from provenance import enrich
    from provenance.enrich import read
    from provenance.identify import sbom, sbom_read

    assert read.read_sbom is sbom_read.read_sbom and sbom.detect is sbom_read.detect
    assert enrich.component_facts is sbom.component_facts


def _statements_everywhere(data: bytes) -> list[tuple[int, int]]:
    """The reference: the statement regex tried at every offset, left to right."""
    from provenance.identify import copyright

    spans, end = [], -1
    for start in range(len(data)):
        if start < end:
            continue
        match = copyright.STATEMENT.match(data, start)
        if match is not None:
            spans.append(match.span())
            end = match.end()
    return spans


def test_copyright_candidates_are_every_statement() -> None:
    """The anchored search finds what trying every offset finds: marks before a year in
    Latin-1 and UTF-8, words with and without marks, and no statement in accented text (its
    UTF-8 0xA9 bytes) or at a mark without a year."""
    import random

    from provenance.identify import copyright

    text = ("Copyright (c) 2019 Acme Inc.\n(C) 2020 Beta Corp\n\u00a9 2021 Gamma Ltd\n"
            "caf\u00e9 \u00e9t\u00e9 2019 d\u00e9j\u00e0\n(c) no year here\nCOPYRIGHT Delta\n"
            "copyright \u00a9 Epsilon\n").encode()
    samples = [text, text.replace("\u00a9".encode(), b"\xa9"), b"\xa9 1999 Zeta\x00\xa9\xa9"]
    rnd = random.Random(17)
    pieces = [b"(c)", b"(C)", b"\xc2\xa9", b"\xa9", b" 2019", b"20", b"opyright", b"C",
              b"OPYRIGHT", b" Acme", b"\t", b"\x00", b"\xc3"]
    samples += [b"".join(rnd.choice(pieces) for _ in range(60)) for _ in range(300)]
    for data in samples:
        assert [m.span() for m in copyright._candidates(data)] == _statements_everywhere(data)
    holders = [m.group(1) for m in copyright._candidates(samples[0])]
    assert holders == [b"2019 Acme Inc.", b"2020 Beta Corp", b"2021 Gamma Ltd", b"Delta",
                       b"Epsilon"]


def test_each_copyright_mark_has_its_own_bound() -> None:
    """Two passes find the four marks; each mark still keeps its own first MAX_ANCHORS: a
    statement after thousands of another mark's is found."""
    from provenance.identify import copyright

    many = copyright.MAX_ANCHORS + 10
    for crowd, late in ((b"(c) 2019 A\n", b"(C) 2020 Late Corp\n"),
                        (b"\xa9 2019 A\n", "\u00a9 2020 Late Corp\n".encode()),
                        ("\u00a9 2019 A\n".encode(), b"(c) 2020 Late Corp\n")):
        data = crowd * many + late
        spans = [m.span() for m in copyright._candidates(data)]
        assert spans[-1] == (len(crowd) * many, len(data) - 1), crowd
        assert len(spans) == copyright.MAX_ANCHORS + 1


def test_an_unknown_elf_class_is_kept_quietly(tmp_path: Path) -> None:
    """LIEF warns of an enum value it does not know (e_ident's class here): the number is the
    fact, and no Python warning reaches the terminal."""
    import warnings

    from elfgen import ElfSpec, build

    data = bytearray(build(ElfSpec(soname="libx.so", exports=["x_init"])))
    data[4] = 97  # EI_CLASS
    path = tmp_path / "libx.so"
    path.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts, _ = run(path)
    assert facts.format == "elf" and fact(facts, "elf.class") == "97"
    assert not caught


def test_add_all_records_what_add_records() -> None:
    """The plain-name shortcut of `Sink.add_all` (ELF symbols) gives `add`'s facts exactly."""
    from provenance.identify.base import MAX_FACTS, MAX_VALUE, Sink

    values = ["HI_MPI_SYS_Init", "_ZN5Dahua5Infra4TimeEv", "with space", " lead", "tab\there",
              "new\nline", "nbsp\u00a0x", "ideo\u3000x", "x" * (MAX_VALUE + 5), "", "\x00",
              "caf\u00e9", "\u200bzero-width", "last"]
    one, many = Sink("fw.bin!/lib/libx.so"), Sink("fw.bin!/lib/libx.so")
    for value in values:
        one.add("elf.export", value, "#dynsym")
    many.add_all("elf.export", values, "#dynsym")
    assert many.facts == one.facts and len(one.facts) == len(values) - 2
    full = Sink("x")
    full.add_all("elf.import", (f"f{i}" for i in range(MAX_FACTS + 10)))
    assert len(full.facts) == MAX_FACTS
