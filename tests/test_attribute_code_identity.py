"""Code identity in managed and Apple binaries, and vendor contacts compiled into a file
(attribute/marks.py `module` and `domains`), each with a positive and a near-miss negative;
the CLI metadata reader (identify/dotnet.py) on generated metadata, hostile bytes and, when the
development corpus is on this machine, real assemblies; per-kind calibration ceilings."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from dotnet_fixtures import metadata
from test_attribute_marks import attributions, elf, made_by

from provenance.attribute.evaluate import Evaluation, KindStats, calibration_yaml
from provenance.attribute.marks import mark_evidence
from provenance.identify import dotnet, macho
from provenance.model import Fact, Facts, Relationship
from provenance.signatureset import SignatureSet, load, load_calibration

CORPUS = Path.home() / ".cache" / "provenance-dev-binaries"


@pytest.fixture(scope="module")
def sigset() -> SignatureSet:
    return load()


# -- the CLI metadata reader ------------------------------------------------------------------


@pytest.mark.parametrize("wide", [False, True])
def test_typedef_namespaces_are_defined_and_typeref_namespaces_used(wide):
    data = metadata(["HuaweiCloud.SDK.Core.Region", "HuaweiCloud.SDK.Core.Auth.Provider"],
                    ["System.Object", "Newtonsoft.Json.JsonConvert",
                     "HuaweiCloud.SDK.Core.Region"], wide=wide)
    module, defined, used = dotnet.read_namespaces(data, 0)
    assert module == "Vendor.dll"
    assert defined == ["HuaweiCloud.SDK.Core", "HuaweiCloud.SDK.Core.Auth"]
    assert used == ["System", "Newtonsoft.Json"]  # a namespace it defines is not a use


@pytest.mark.parametrize("cut", [8, 40, 90, -12])
def test_truncated_or_corrupt_metadata_raises_a_metadata_error(cut):
    data = metadata(["Vendor.Sdk.Player"], ["System.Object"])
    with pytest.raises(dotnet.MetadataError):
        dotnet.read_namespaces(data[:cut], 0)


def test_an_absurd_row_count_is_refused():
    data = bytearray(metadata(["Vendor.Sdk.Player"], ["System.Object"]))
    rows_at = data.index(b"#~\0\0") - 8
    tables = int.from_bytes(data[rows_at : rows_at + 4], "little")
    data[tables + 24 + 4 : tables + 28 + 4] = (1 << 30).to_bytes(4, "little")  # TypeRef rows
    with pytest.raises(dotnet.MetadataError):
        dotnet.read_namespaces(bytes(data), 0)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="development corpus not fetched here")
def test_real_managed_assemblies_from_the_corpus():
    from provenance.identify import pe

    found = {}
    for path in sorted(CORPUS.glob("*/*.dll")):
        facts, problems = pe.read(path, path.name)
        defined = facts.values("dotnet.namespace")
        if defined:
            found[path.name] = (defined, facts.values("dotnet.namespace_ref"))
            assert not [p for p in problems if ".NET" in p.message]
    if not found:
        pytest.skip("no managed assembly in this corpus")
    for defined, used in found.values():
        assert "System" in used and "System" not in defined


# -- module identity: defined versus used -------------------------------------------------------


def _facts(fmt: str, **keys: list[str]) -> Facts:
    items = tuple(Fact(key.replace("__", "."), value, "x#CLI") for key, values in keys.items()
                  for value in values)
    return Facts(format=fmt, items=items)


def _found(sigset: SignatureSet, facts: Facts) -> dict[tuple[str, Relationship], str]:
    return {(v, rel): ev.rule for v, rel, ev, _, _ in mark_evidence((), facts, sigset, "x")}


def test_an_assembly_defining_the_vendors_namespaces_is_the_vendors(sigset):
    facts = _facts("pe", dotnet__namespace=["HuaweiCloud.SDK.Core", "HuaweiCloud.SDK.Core.Auth",
                                            "HuaweiCloud.SDK.Iam.V3"])
    assert _found(sigset, facts)[("huawei", Relationship.MADE_BY)] == "marks:module:defined"


def test_an_assembly_using_the_vendors_namespaces_is_a_client(sigset):
    found = _found(sigset, _facts("pe", dotnet__namespace=["MyCompany.CloudTools"],
                                  dotnet__namespace_ref=["HuaweiCloud.SDK.Core"]))
    assert ("huawei", Relationship.MADE_BY) not in found
    assert found[("huawei", Relationship.SUPPORTS)] == "marks:module:client"
    # a longer word is another namespace: `HuaweiCloud.SDKs` is not `HuaweiCloud.SDK`
    assert not _found(sigset, _facts("pe", dotnet__namespace=["HuaweiCloud.SDKs.Tools"]))


def test_a_declared_other_maker_turns_defined_namespaces_into_supports(sigset):
    facts = _facts("pe", dotnet__namespace=["HuaweiCloud.SDK.Core"],
                   pe__version__CompanyName=["Example Integrations Ltd"])
    found = _found(sigset, facts)
    assert ("huawei", Relationship.MADE_BY) not in found
    assert ("huawei", Relationship.SUPPORTS) in found


def _clang_object(tmp_path: Path, source: str) -> Path:
    if not shutil.which("clang"):
        pytest.skip("clang is needed to build a Mach-O object (apt: clang)")
    src = tmp_path / "t.m"
    src.write_text(source)
    out = tmp_path / "t.o"
    subprocess.run(["clang", "-target", "arm64-apple-ios12.0", "-c", str(src), "-o", str(out)],
                   check=True, capture_output=True)
    return out


SWIFT_AND_OBJC = """
__attribute__((objc_root_class)) @interface LCOpenSDK_PlayWindow + (void)a; @end
@implementation LCOpenSDK_PlayWindow + (void)a {} @end
__attribute__((objc_root_class)) @interface LCOpenSDK_AudioTalk + (void)a; @end
@implementation LCOpenSDK_AudioTalk + (void)a {} @end
@interface EZOpenSDK + (void)b; @end
void use(void) { [EZOpenSDK b]; }
void play(void) __asm__("_$s14LCOpenMediaSDK6PlayerC4playyyF");
void play(void) {}
extern void make(void) __asm__("_$s7SnapKit4makeyyF");
void call(void) { make(); }
"""


def test_macho_defined_classes_and_swift_modules_versus_used_ones(tmp_path, sigset):
    obj = _clang_object(tmp_path, SWIFT_AND_OBJC)
    facts, _ = macho.read(obj, obj.name)
    assert set(facts.values("macho.objc_class")) == {"LCOpenSDK_PlayWindow",
                                                     "LCOpenSDK_AudioTalk"}
    assert facts.values("macho.objc_class_ref") == ("EZOpenSDK",)
    assert facts.values("macho.swift_module") == ("LCOpenMediaSDK",)
    assert facts.values("macho.swift_module_ref") == ("SnapKit",)
    attrs = attributions(sigset, obj)
    assert made_by(attrs, "imou") >= 0.7  # three names of its own in LCOpenSDK's family
    assert made_by(attrs, "ezviz") == 0  # it only calls EZOpenSDK
    assert ("ezviz", Relationship.SUPPORTS) in attrs


def test_macho_near_miss_a_class_whose_name_only_starts_alike(tmp_path, sigset):
    obj = _clang_object(tmp_path, """
__attribute__((objc_root_class)) @interface LCOpenSDKs + (void)a; @end
@implementation LCOpenSDKs + (void)a {} @end
""")
    assert made_by(attributions(sigset, obj), "imou") == 0


def test_a_swift_interface_names_its_module(tmp_path, sigset):
    path = tmp_path / "arm64-apple-ios.swiftinterface"
    path.write_text("// swift-interface-format-version: 1.0\n// swift-module-flags: -target "
                    "arm64-apple-ios12.0 -module-name LCOpenMediaSDK\nimport Foundation\n")
    assert made_by(attributions(sigset, path), "imou") > 0
    client = tmp_path / "Player.swiftinterface"
    client.write_text("// swift-module-flags: -module-name MyApp\nimport LCOpenMediaSDK\n")
    attrs = attributions(sigset, client)
    assert made_by(attrs, "imou") == 0 and ("imou", Relationship.SUPPORTS) in attrs


# -- contact: e-mail addresses and service hosts -----------------------------------------------


def test_a_support_address_at_the_vendors_domain_in_a_binary(tmp_path, sigset):
    attrs = attributions(sigset, elf(tmp_path, "devinit", strings=[
        "Please mail support_rpwd@global.dahuatech.com to reset the password"]))
    assert 0.5 <= made_by(attrs, "dahua") < 0.7  # review alone; restricted with more


@pytest.mark.parametrize("text", [
    "mail support@notdahuatech.com",  # another domain that ends alike
    "https://dahuatech.com.example.net/login",  # the vendor's name as a subdomain of another
])
def test_addresses_that_only_resemble_the_vendors_domain(tmp_path, sigset, text):
    attrs = attributions(sigset, elf(tmp_path, "tool", strings=[text]))
    # the word may still be a mention of the name, never a contact or a service
    assert not [k for k in attrs if k[0] == "dahua" and k[1] != Relationship.MENTIONS]


def test_an_authors_address_in_source_is_a_mention(tmp_path, sigset):
    path = tmp_path / "client.py"
    path.write_text("# Author: someone <someone@dahuatech.com>\nprint('hello')\n")
    attrs = attributions(sigset, path)
    assert made_by(attrs, "dahua") == 0 and ("dahua", Relationship.MENTIONS) in attrs


def test_service_hosts_are_a_client_of_the_vendors_cloud(tmp_path, sigset):
    hosts = [f"https://{r}.ezvizlife.com/api/login" for r in ("apiieu", "apiius", "apiisa")]
    attrs = attributions(sigset, elf(tmp_path, "libcloud.so", strings=hosts))
    assert made_by(attrs, "ezviz") == 0
    assert attrs.get(("ezviz", Relationship.SERVICE), 0) >= 0.3
    one = attributions(sigset, elf(tmp_path, "libone.so", strings=hosts[:1]))
    assert one.get(("ezviz", Relationship.SERVICE), 0) < 0.3  # one link is not a client


# -- calibration ceilings ------------------------------------------------------------------------


def test_a_kinds_ceiling_bounds_its_calibrated_confidence():
    assert KindStats(9, 0).confidence == 0.9
    assert KindStats(9, 0).capped(0.6) == 0.6
    assert KindStats(3, 0).capped(None) == 0.75
    assert KindStats(2, 0).capped(0.6) is None  # still too few sightings


def test_calibration_keeps_its_ceilings_and_loading_applies_them(tmp_path):
    ev = Evaluation(rows=(), total=0, positives=0, flagged=0, right_vendor=0, negatives=0,
                    false_restricted=0, review=0, accepted=0, errors=0, seconds=0.0,
                    by_vendor=(), by_strength=(), by_type=(),
                    confusion={}, kinds={"marks:x": KindStats(9, 0), "marks:y": KindStats(9, 0)})
    text = calibration_yaml(ev, [("m.json", "dir")], date(2026, 1, 1),
                            {"marks:x": (0.6, "one symbol is a weak mark")})
    path = tmp_path / "calibration.yml"
    path.write_text(text)
    assert load_calibration(path) == {"marks:x": 0.6, "marks:y": 0.9}
    assert "one symbol is a weak mark" in text
    path.write_text(text.replace("confidence: 0.6", "confidence: 0.9"))  # a hand edit
    assert load_calibration(path)["marks:x"] == 0.6


# -- an API family with its anchor function -------------------------------------------------------


def test_the_gige_transport_api_family_needs_its_anchor(tmp_path, sigset):
    names = ["EnumDevice", "ConnectDevice", "GetSDKVersion", "ForceIp", "GetImageBuffer"]
    sdk = elf(tmp_path, "libgige.so", soname="libgige.so",
              exports=[f"MV_GEV_{n}" for n in [*names, "CreateHandle"]])
    assert made_by(attributions(sigset, sdk), "hikrobot") >= 0.7
    # the same prefix without the family's anchor: another library's MV_GEV_ names
    other = elf(tmp_path, "libother.so", soname="libother.so",
                exports=[f"MV_GEV_{n}" for n in names])
    assert made_by(attributions(sigset, other), "hikrobot") == 0


def test_a_header_declaring_the_vendors_classes_versus_one_using_them(tmp_path, sigset):
    header = tmp_path / "LCOpenSDK_PlayWindow.h"
    header.write_text("#import <Foundation/Foundation.h>\n"
                      "@interface LCOpenSDK_PlayWindow : NSObject\n- (void)play;\n@end\n"
                      "@protocol LCOpenSDK_EventListener <NSObject>\n@end\n")
    assert made_by(attributions(sigset, header), "imou") > 0
    client = tmp_path / "MyPlayer.h"  # a category and a forward declaration: a client's
    client.write_text("#import \"LCOpenSDK_PlayWindow.h\"\n@protocol LCOpenSDK_EventListener;\n"
                      "@interface LCOpenSDK_PlayWindow (Mine)\n- (void)mine;\n@end\n")
    attrs = attributions(sigset, client)
    assert made_by(attrs, "imou") == 0 and ("imou", Relationship.SUPPORTS) in attrs


def test_mutated_metadata_never_raises_anything_but_a_metadata_error():
    import random

    rng = random.Random(13)
    base = metadata(["Vendor.Sdk.Player", "Vendor.Sdk.Net.Client"],
                    ["System.Object", "System.IO.Stream"], wide=True)
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            _, defined, used = dotnet.read_namespaces(bytes(data), 0)
        except dotnet.MetadataError:
            continue
        assert len(defined) <= dotnet.MAX_NAMES and len(used) <= dotnet.MAX_NAMES


def test_stdcall_decorated_exports_count_as_their_family(tmp_path, sigset):
    names = ["Init@4", "UnInit@0", "OpenStream@12", "CloseStream@4", "StartPlay@4"]
    sdk = elf(tmp_path, "player.so", soname="player.so",
              exports=[f"_IVS_PLAY_{n}" for n in names])
    assert made_by(attributions(sigset, sdk), "huawei") >= 0.7
    other = elf(tmp_path, "other.so", soname="other.so",  # no anchor: another IVS library
                exports=[f"_IVS_PLAY_{n}" for n in names[1:]] + ["_IVS_PLAY_Start@4"])
    assert made_by(attributions(sigset, other), "huawei") == 0
