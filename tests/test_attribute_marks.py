"""Identity marks (attribute/marks.py): each kind with a positive and a near-miss negative.

The files are built here (ELF through samples/elfgen.py, class files and configs by hand) and go
through the real path: the built-in signature set, the generated YARA rules, identification and
resolution.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from provenance.attribute.marks import _own_path, _own_symbol, _Symbols
from provenance.attribute.resolve import resolve
from provenance.attribute.yara_scan import scan_file
from provenance.identify import identify
from provenance.model import Artifact, Relationship
from provenance.signatureset import SignatureSet, load
from provenance.signatureset.marks import marks_of, yara_source

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))
from elfgen import ElfSpec, build


@pytest.fixture(scope="module")
def sigset() -> SignatureSet:
    return load()


def attributions(sigset: SignatureSet, path: Path) -> dict[tuple[str, Relationship], float]:
    artifact = Artifact((path.name,), "0" * 64, path.stat().st_size, "file", 0, path)
    facts, _ = identify(artifact, path.read_bytes()[:4096])
    hits = scan_file(sigset, path)
    return {(a.vendor, a.relationship): a.confidence
            for a in resolve(facts, hits, sigset, path.name)}


def made_by(attrs: dict[tuple[str, Relationship], float], vendor: str) -> float:
    return attrs.get((vendor, Relationship.MADE_BY), 0.0)


def elf(tmp_path: Path, name: str, **spec: object) -> Path:
    path = tmp_path / name
    path.write_bytes(build(ElfSpec(**spec)))  # type: ignore[arg-type]
    return path


def test_generated_rules_compile_for_the_builtin_set(sigset):
    from provenance.signatureset.compile import compile_yara

    source = yara_source(sigset)
    assert "rule marks__dahua__cxx" in source
    compile_yara({"marks": source})


# -- names: density in the binary's own text ---------------------------------------------------


def test_many_vendor_strings_in_a_binary_are_the_vendors_code(tmp_path, sigset):
    strings = [f"hikvision stream error {i}" for i in range(25)]
    attrs = attributions(sigset, elf(tmp_path, "libcore.so", soname="libcore.so",
                                     strings=strings))
    assert made_by(attrs, "hikvision") >= 0.7


def test_a_few_vendor_strings_are_a_mention(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "libvms.so", soname="libvms.so",
                                     strings=["protocol: HIKVISION", "protocol: DAHUA"]))
    assert made_by(attrs, "hikvision") == 0 and made_by(attrs, "dahua") == 0
    assert (("hikvision", Relationship.MENTIONS)) in attrs


def test_source_code_naming_a_vendor_is_not_made_by(tmp_path, sigset):
    path = tmp_path / "hik_client.py"
    path.write_text("\n".join(f"# talk to the Hikvision camera, step {i}" for i in range(40)))
    assert made_by(attributions(sigset, path), "hikvision") == 0


def test_chinese_legal_name_in_gbk_and_utf16_is_read(tmp_path, sigset):
    name = "浙江大华技术股份有限公司"
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00" * 16 + ("Copyright (c) 2009, " + name).encode("gb18030")
                     + b"\x00" * 16 + name.encode("utf-16le") + b"\x00\x00")
    hits = {h.rule: h for h in scan_file(sigset, path)}
    texts = {m.data.decode() for m in hits["marks__dahua__names"].matches}
    assert "Copyright (c) 2009, " + name in texts and name in texts


# -- build paths ----------------------------------------------------------------------------------


def test_build_paths_in_the_vendors_tree_count(tmp_path, sigset):
    paths = [f"/home/x/device/hisilicon/bigfish/drm/src/f{i}.c" for i in range(6)]
    attrs = attributions(sigset, elf(tmp_path, "libdrm.so", strings=paths))
    assert made_by(attrs, "hisilicon") >= 0.5


@pytest.mark.parametrize("path", [
    "/opt/tuxera/output/hisilicon-stb/ntfs/index.c",  # a third party's folder for the chip
    "/Users/dahua/project/Pods/AFNetworking/AFURLSessionManager.m",  # a login, foreign code
    "/home/hisilicon/work/app.c",  # a developer's home
])
def test_paths_that_only_resemble_the_vendors_tree_do_not(path):
    brand = "dahua" if "dahua" in path else "hisilicon"
    assert not _own_path(path, brand)


def test_own_path_positive():
    assert _own_path("D:\\src\\Hisilicon\\sdk\\a.c", "hisilicon")


# -- C++ namespaces: defined versus used ----------------------------------------------------------


def test_cxx_namespace_defined_in_the_module(tmp_path, sigset):
    exports = [f"_ZN5Dahua5Infra6CClass{i}C1Ev" for i in range(12)]
    attrs = attributions(sigset, elf(tmp_path, "libinfra.so", soname="libinfra.so",
                                     exports=exports))
    assert made_by(attrs, "dahua") >= 0.7


def test_one_namespace_reference_is_not_made_by(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "libclient.so",
                                     strings=["wraps Dahua::Infra::CThread"]))
    assert made_by(attrs, "dahua") == 0


# -- Java packages: own classes versus references -------------------------------------------------


def class_file(this: str, refs: tuple[str, ...] = ()) -> bytes:
    """A minimal class file: a constant pool of Utf8 + Class entries, then the class header."""
    pool = b""
    names = (this, "java/lang/Object", *refs)
    for i, name in enumerate(names):
        raw = name.encode()
        pool += b"\x01" + struct.pack(">H", len(raw)) + raw  # Utf8 at 2i+1
        pool += b"\x07" + struct.pack(">H", 2 * i + 1)  # Class at 2i+2
    head = b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, 52, 2 * len(names) + 1)
    return head + pool + struct.pack(">HHHHHHHH", 0x21, 2, 4, 0, 0, 0, 0, 0)


def test_class_in_the_vendor_package_is_made_by(tmp_path, sigset):
    path = tmp_path / "HCNetSDK.class"
    path.write_bytes(class_file("com/hikvision/netsdk/HCNetSDK"))
    assert made_by(attributions(sigset, path), "hikvision") >= 0.7


def test_class_that_refers_to_the_vendor_package_is_a_client(tmp_path, sigset):
    path = tmp_path / "Bridge.class"
    path.write_bytes(class_file("org/example/Bridge", ("com/hikvision/netsdk/HCNetSDK",)))
    attrs = attributions(sigset, path)
    assert made_by(attrs, "hikvision") == 0
    assert ("hikvision", Relationship.SUPPORTS) in attrs


# -- exported API families ------------------------------------------------------------------------


def test_exporting_an_api_family_is_the_sdk(tmp_path, sigset):
    exports = ["NET_DVR_Init", "NET_DVR_Login_V40", "NET_DVR_Logout", "NET_DVR_Cleanup",
               "NET_DVR_GetLastError", "NET_DVR_SetConnectTime"]
    attrs = attributions(sigset, elf(tmp_path, "libsdk.so", soname="libsdk.so",
                                     exports=exports))
    assert made_by(attrs, "hikvision") >= 0.7


def test_a_few_exports_of_the_family_are_not_enough(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "libshim.so", soname="libshim.so",
                                     exports=["NET_DVR_Init", "NET_DVR_Cleanup"]))
    assert made_by(attrs, "hikvision") == 0


# -- configuration, toolchain and boot markers ----------------------------------------------------


def test_vendor_tr069_parameters_in_a_config(tmp_path, sigset):
    path = tmp_path / "ctree.xml"
    path.write_text("<InternetGatewayDevice>" + "".join(
        f'<X_HW_Param{i} v="1"/>' for i in range(30)) + "</InternetGatewayDevice>")
    assert made_by(attributions(sigset, path), "huawei") >= 0.7


def test_a_couple_of_vendor_parameters_are_not_enough(tmp_path, sigset):
    path = tmp_path / "acs.xml"
    path.write_text('<map><p n="X_HW_WlanEnable"/><p n="X_HW_Token"/></map>')
    assert made_by(attributions(sigset, path), "huawei") == 0


def test_toolchain_tag_alone_stays_below_restricted(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "gpio_i2c.ko",
                                     comment="GCC: (Hisilicon_v300) 4.8.3",
                                     modinfo={"license": ["GPL"], "author": ["Law @ JUAN"]}))
    assert made_by(attrs, "hisilicon") < 0.7


def test_sdk_banner_with_toolchain_is_the_vendors_module(tmp_path, sigset):
    attrs = attributions(sigset, elf(
        tmp_path, "hi3516_venc.ko", comment="GCC: (Hisilicon_v500) 4.9.4",
        strings=["[VENC] Version: [Hi3516CV300_MPP_V1.0.3.0 B020 Release]"],
        modinfo={"license": ["Proprietary"]}))
    assert made_by(attrs, "hisilicon") >= 0.7


def test_boot_loader_board_banner(tmp_path, sigset):
    path = tmp_path / "boot.bin"
    path.write_bytes(b"\x00" * 64 + b"Board: ZTE zx279128sevb\x00zteboot_verify_kernel\x00")
    assert made_by(attributions(sigset, path), "zte") >= 0.7


def test_name_density_in_a_file_declaring_another_maker_is_supports(sigset):
    from provenance.attribute.marks import mark_evidence
    from provenance.attribute.yara_scan import Hit, StringMatch
    from provenance.model import Fact, Facts

    hit = Hit("marks__hytera__names", tuple(
        StringMatch("$ascii__0", i * 40, f"HyteraTagParameter_{i}".encode()) for i in range(25)))
    third_party = Facts("pe", items=(Fact("pe.version.CompanyName", "B.P.G. Radiocomunicazioni",
                                          "x.dll#VS_VERSIONINFO/CompanyName"),))
    rels = {(v, r) for v, r, *_ in mark_evidence((hit,), third_party, sigset, "x.dll")}
    assert rels == {("hytera", Relationship.SUPPORTS)}
    own = {(v, r) for v, r, *_ in mark_evidence((hit,), Facts("pe"), sigset, "x.dll")}
    assert own == {("hytera", Relationship.MADE_BY)}


def test_gbk_copyright_line_naming_the_vendor_is_a_declaration(tmp_path, sigset):
    path = tmp_path / "netsdk.h"
    path.write_bytes("/* Copyright (c) 2009, 浙江大华技术股份有限公司 */\n".encode("gb18030"))
    assert made_by(attributions(sigset, path), "dahua") >= 0.5  # its measured confidence


def test_copyright_line_in_source_code_stays_a_mention(tmp_path, sigset):
    path = tmp_path / "client.py"
    path.write_text("# works with cameras (c) Hikvision firmware\n")
    assert made_by(attributions(sigset, path), "hikvision") == 0


def test_a_document_naming_a_vendor_often_is_not_its_code(tmp_path, sigset):
    path = tmp_path / "changelog"  # no suffix: a Debian changelog
    path.write_text("\n".join(f"  * net: hisilicon: fix hns3 issue {i}" for i in range(40)))
    assert made_by(attributions(sigset, path), "hisilicon") == 0


def test_a_list_of_paths_is_not_a_build_trace(tmp_path, sigset):
    path = tmp_path / "md5sums"
    path.write_text("\n".join(f"{i:032x}  lib/modules/6.1/kernel/drivers/net/ethernet/huawei/"
                              f"hinic/part{i}.ko" for i in range(10)))
    assert made_by(attributions(sigset, path), "huawei") == 0


def test_vendor_like_register_names_in_code_are_not_configuration(tmp_path, sigset):
    strings = [f"X_HW_REG_{i}" for i in range(30)]
    attrs = attributions(sigset, elf(tmp_path, "iwlwifi.ko", strings=strings,
                                     modinfo={"license": ["GPL"]}))
    assert made_by(attrs, "huawei") == 0


@pytest.mark.parametrize(("text", "counted"), [
    ("IsChildZTEProduct", True), ("g_zte_current_version", True), ("ZTE Corporation", True),
    ("ztest_runner", False), ("Aztech router", False), ("AZTEC code", False),
    # three letters alone, or beside punctuation and digits, are what random bytes hold too
    ("ZTE", False), ("+Zte", False), ("&zte9", False),
])
def test_short_names_count_only_as_a_word_of_an_identifier(sigset, text, counted):
    from provenance.attribute.marks import mark_evidence
    from provenance.attribute.yara_scan import Hit, StringMatch

    hit = Hit("marks__zte__names", (StringMatch("$ascii__0", 0, text.encode()),))
    found = [v for v, *_ in mark_evidence((hit,), None, sigset, "x.bin")]
    assert (found == ["zte"]) is counted


def test_pdf_author_is_a_declaration(tmp_path, sigset):
    path = tmp_path / "api.pdf"
    path.write_bytes(b"%PDF-1.5\n1 0 obj\n<< /Title(API Reference) /Author(Hytera) >>\nendobj\n"
                     + b"\x00\x01stream\xff" * 4)
    assert made_by(attributions(sigset, path), "hytera") > 0


@pytest.mark.parametrize(("text", "vendor", "declares"), [
    ("Copyright (c) 2009, 浙江大华技术股份有限公司", "dahua", True),
    ("@note HangZhou Hikvision Digital Technology Co., Ltd. All Right Reserved.", "hikvision",
     True),
    ("/Title(API Reference) /Author(Hytera)", "hytera", True),
    ("Copyright (c) 2026 zte-cfgs contributors", "zte", False),  # a project named after it
    ("Copyright 2019 Shanghai Dahua Scale Factory", "dahua", False),  # a false friend
])
def test_a_declaration_must_name_the_vendor_as_holder(sigset, text, vendor, declares):
    from provenance.attribute.marks import _declares

    assert _declares(text, vendor, sigset) is declares


def test_jni_library_implementing_a_vendor_package_is_made_by(tmp_path, sigset):
    attrs = attributions(sigset, elf(
        tmp_path, "libCpuFeatures.so", soname="libCpuFeatures.so",
        exports=["Java_org_MediaPlayer_PlayM4_Player_GetCpuFeatures", "android_getCpuCount"]))
    assert made_by(attrs, "hikvision") > 0


def test_jni_library_of_another_package_is_not(tmp_path, sigset):
    attrs = attributions(sigset, elf(
        tmp_path, "libbridge.so", soname="libbridge.so",
        exports=["Java_org_example_Bridge_open"], strings=["org/MediaPlayer/PlayM4/Player"]))
    assert made_by(attrs, "hikvision") == 0


def test_exports_named_after_the_vendor_are_its_api(tmp_path, sigset):
    exports = [f"DaHua_aacEnc_Stage{i}" for i in range(6)]
    attrs = attributions(sigset, elf(tmp_path, "libconv.so", soname="libconv.so",
                                     exports=exports))
    assert made_by(attrs, "dahua") >= 0.7


def test_one_vendor_named_export_is_review_at_most(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "libact.so", soname="libact.so",
                                     exports=["zte_rohm_camera_open_lib"]))
    assert 0 < made_by(attrs, "zte") < 0.7


def test_vendor_name_inside_an_export_is_not_its_namespace(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "libvms.so", soname="libvms.so",
                                     exports=["vms_open_hikvision", "vms_close_hikvision"]))
    assert made_by(attrs, "hikvision") == 0


def test_source_binding_of_a_vendor_sdk_requires_it(tmp_path, sigset):
    path = tmp_path / "MvCameraControl_class.py"
    path.write_text("\n".join(f"    def f{i}(self):\n        return dll.MV_CC_Op{i}(self.h)"
                              for i in range(12)))
    attrs = attributions(sigset, path)
    assert ("hikrobot", Relationship.REQUIRES) in attrs and made_by(attrs, "hikrobot") == 0


def test_a_few_vendor_calls_in_source_are_not_a_binding(tmp_path, sigset):
    path = tmp_path / "demo.py"
    path.write_text("sdk.NET_DVR_Init()\nsdk.NET_DVR_Login_V40(info)\nsdk.NET_DVR_Cleanup()\n")
    assert not {r for (v, r) in attributions(sigset, path) if v == "hikvision"} - {
        Relationship.MENTIONS, Relationship.SUPPORTS}


def test_a_generic_api_prefix_needs_its_anchor_function(tmp_path, sigset):
    generic = [f"CLIENT_Connect{i}" for i in range(8)]  # some RPC library's client API
    attrs = attributions(sigset, elf(tmp_path, "librpc.so", soname="librpc.so", exports=generic))
    assert made_by(attrs, "dahua") == 0
    attrs = attributions(sigset, elf(tmp_path, "libnetsdk.so", soname="libnetsdk.so",
                                     exports=[*generic, "CLIENT_Init"]))
    assert made_by(attrs, "dahua") >= 0.7


# -- banners, own symbols, module names ---------------------------------------------------------


def test_a_boxed_banner_naming_the_vendor_is_its_program(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "t1", type=2, strings=[
        "*" * 40, "*           HIKVISION DVS ", "           *", "BUILD: %s-%s"]))
    assert made_by(attrs, "hikvision") >= 0.7


@pytest.mark.parametrize("line", [
    "protocol: HIKVISION",  # a table entry, not a banner
    "*  connect to the HIKVISION camera at the address given on the command line  *",  # prose
])
def test_a_name_that_is_not_a_banner_title_stays_a_mention(tmp_path, sigset, line):
    attrs = attributions(sigset, elf(tmp_path, "tool", type=2, strings=[line]))
    assert made_by(attrs, "hikvision") == 0


def test_a_banner_in_source_code_is_not_the_vendors_program(tmp_path, sigset):
    path = tmp_path / "hello.c"
    path.write_text('puts("*           HIKVISION DVS ");\n')
    assert made_by(attributions(sigset, path), "hikvision") == 0


def test_symbols_of_its_own_in_the_vendors_namespace(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "fw_flashing", type=2, strings=[
        "g_zte_current_version_number", "g_zte_current_version_base_address"]))
    assert 0 < made_by(attrs, "zte") < 0.7  # on its own: review
    attrs = attributions(sigset, elf(tmp_path, "fw_flashing2", type=2, strings=[
        "g_zte_current_version_number"], comment="GCC: (GNU) 4.1.2 ZTE Embsys-TSP V2.08"))
    assert made_by(attrs, "zte") >= 0.7  # with the vendor's toolchain: two sources agree


@pytest.mark.parametrize("symbol", [
    "hmac_find_huawei_ie",  # code that handles the vendor's data
    "vms_login_zte",
    "ZTE",  # a bare table entry
])
def test_symbols_that_only_name_the_vendor_further_in_are_not_its_namespace(tmp_path, sigset,
                                                                            symbol):
    attrs = attributions(sigset, elf(tmp_path, "app", type=2, strings=[symbol]))
    assert made_by(attrs, "zte") == 0 and made_by(attrs, "huawei") == 0


def test_a_dynamic_symbol_is_not_counted_as_its_own(sigset):
    mark = marks_of(sigset)["marks__zte__names"]
    assert _own_symbol("g_zte_current_version", mark, _Symbols())
    # imported (a client's call) or exported (weighed as the API it names): not counted here
    assert not _own_symbol("zte_get_version", mark, _Symbols(linked=frozenset(
        {"zte_get_version"})))


def test_a_library_named_in_the_vendors_package_namespace(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "com.nubia.node.beauty.so",
                                     soname="com.nubia.node.beauty.so",
                                     strings=["com.nubia.node.beauty"]))
    assert made_by(attrs, "nubia") >= 0.7


def test_a_library_that_only_refers_to_the_vendors_namespace(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "libbeauty.so", soname="libbeauty.so",
                                     strings=["com.nubia.node.beauty"]))
    assert made_by(attrs, "nubia") == 0
    attrs = attributions(sigset, elf(tmp_path, "com.nubiafans.tool.so",  # another namespace
                                     soname="com.nubiafans.tool.so"))
    assert made_by(attrs, "nubia") == 0


def test_a_source_binding_counts_whole_words_of_the_prefix(tmp_path, sigset):
    # BSD <sys/tree.h> splay-tree macros end in Dahua's generic `PLAY_` prefix: a changelog
    # naming a dozen of them binds no Dahua SDK
    macros = ["SPLAY_" + m for m in ("ENTRY", "HEAD", "INIT", "FIND", "NEXT", "MIN", "MAX",
                                    "EMPTY", "ROOT", "LEFT", "RIGHT", "INSERT", "REMOVE")]
    path = tmp_path / "changelog"
    path.write_text("".join(f"  * Add {m} (PLAY_OpenStream is not called here)\n"
                            for m in macros))
    assert not {r for v, r in attributions(sigset, path) if v == "dahua"} - {
        Relationship.MENTIONS}
    # another player SDK whose functions end in the prefix (`H264_PLAY_OpenFile`, a DVR
    # maker's H264Play.dll) is not Dahua's either; Dahua's own names are a binding
    calls = ["OpenFile", "Play", "Stop", "Pause", "Fast", "Slow", "CloseFile", "GetPictureSize",
             "SetPlayPos", "GetPlayPos", "OneByOne", "RefreshPlay"]
    path = tmp_path / "player.cs"
    path.write_text("".join(f"    public static extern bool H264_PLAY_{c}(int port);\n"
                            for c in calls))
    assert ("dahua", Relationship.REQUIRES) not in attributions(sigset, path)
    path.write_text("".join(f"    public static extern bool PLAY_{c}(int port);\n"
                            for c in calls))
    assert ("dahua", Relationship.REQUIRES) in attributions(sigset, path)
