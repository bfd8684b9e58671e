"""Every registered format and identifier has a positive fixture and a look-alike negative.

The two tables below are keyed by registry name (`provenance.extract.EXTRACTORS`,
`provenance.identify.IDENTIFIERS`); a format's or reader's own test module may declare its row
instead (`FORMAT_CASES` / `READER_CASES`, see tests/format_cases.py), so a new one touches no
shared table. A registered name without a row fails, so a new format or reader cannot land
without both; a row for a name no longer registered fails too, and so does a name with two.

Positives run on any machine: a case that needs an external tool to build is read from its
golden fixture (tests/golden/). Only NSIS and Inno Setup need a program to *extract* (7z,
innoextract); without it their positive checks detection and the tool-missing reason.

A negative is a look-alike: the format's magic over a body that is not the format, or a
near-miss (a related format, the magic in the wrong place, a name without the content). It
must not be read as the format. Each row says which way it is turned down:
- ABSENT: no detector of that format claims it (another format or none does);
- REFUSED: the format claims it by its magic, then reports a Problem and unpacks nothing (for a
  reader: it reads none of the facts that make a positive).
A row whose look-alike the code gets wrong today is marked `xfail` with the reason (strict: the
mark must go once the code is fixed).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import shutil
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import elfgen
import firmware_fixtures as fw
import golden
import identify_fixtures as idf
import pytest
from extract_fixtures import EXTRACT_TOOLS, TOOL_BUILDERS, Built, golden_built, members
from format_cases import (
    ABSENT,
    REFUSED,
    Negative,
    Positive,
    Reads,
    data,
    declared,
    firmware,
    junk,
    magic,
    write,
)

from provenance.extract import EXTRACTORS, extract
from provenance.identify import IDENTIFIERS, identify
from provenance.model import Artifact, Facts, Problem, ProblemKind

# == extraction ===================================================================================

def case(fmt: str, name: str) -> Positive:
    """A case of tests/extract_fixtures.py: its golden fixture when there is one (tool-built),
    else the pure-Python builder itself; one that needs a tool and has no golden file fails."""

    def build(tmp: Path) -> Built:
        found = golden_built(fmt, name, tmp)
        if found is not None:
            return found
        try:
            return TOOL_BUILDERS[fmt][name](tmp)
        except pytest.skip.Exception as exc:
            pytest.fail(f"{fmt}/{name} needs a tool and has no golden fixture: {exc}")

    return Positive(build)


def flash_dump(tmp: Path) -> Built:
    """A raw flash dump: bootloader, uImage, SquashFS and JFFS2 at erase-block offsets."""
    sqfs = case("squashfs", "xz").build(tmp / "sqfs").path.read_bytes()
    jffs2 = case("jffs2", "jffs2-le").build(tmp / "jffs2").path.read_bytes().rstrip(b"\xff")
    image, names = fw.flash_dump(sqfs, jffs2)
    parts = {n: "" for n in names.values() if n.endswith((".uimage", ".squashfs", ".jffs2"))}
    return Built(write(tmp, "fw.bin", image), parts, exact=False)


EXTRACT_POSITIVE: dict[str, Positive] = {
    "zip": case("zip", "jar"),
    "tar": case("tar", "tar.gz"),
    "7z": case("7z", "py7zr"),
    "rpm": case("rpm", "rpm-xz"),
    "ar": case("ar", "deb"),
    "cpio": case("cpio", "newc"),
    "cab": case("cab", "gcab-mszip"),
    "iso9660": case("iso9660", "rock-ridge"),
    "squashfs": case("squashfs", "xz"),
    "cramfs": case("cramfs", "cramfs-big-endian"),
    "jffs2": case("jffs2", "jffs2-le"),
    "ubi": case("ubi", "ubinize"),
    "ubifs": case("ubifs", "lzo"),
    "ext": case("ext", "ext4"),
    "fat": case("fat", "fat16"),
    "romfs": case("romfs", "genromfs"),
    "gzip": case("gzip", "gzip"),
    "bzip2": case("bzip2", "bzip2"),
    "xz": case("xz", "xz"),
    "zstd": case("zstd", "zstandard"),
    "lz4": case("lz4", "lz4-frame"),
    "msi": case("msi", "wixl"),
    "nsis": case("nsis", "makensis"),
    "innosetup": case("innosetup", "inno-5.5.6-zlib"),
    "lzma": case("lzma", "lzma-alone"),
    "uimage": firmware(fw.uimage_single),
    "fit": firmware(fw.fit),
    "trx": firmware(fw.trx),
    "android-boot": firmware(lambda: fw.android_boot(2)),
    "android-sparse": firmware(fw.android_sparse),
    "uefi-capsule": firmware(fw.uefi_capsule),
    "uefi-fv": firmware(fw.uefi_fv),
    "zimage": firmware(fw.zimage_arm),
    "huawei-update-app": firmware(fw.update_app, "UPDATE.APP"),
    "huawei-hwnp": firmware(fw.hwnp),
    "hikvision-dav": firmware(fw.digicap, "digicap.dav"),
    "dahua-dhzip": firmware(fw.dahua),
    "zte-config": firmware(fw.zte_config, "config.bin"),
    "ihex": firmware(fw.ihex, "fw.hex"),
    "srec": firmware(fw.srec, "fw.srec"),
    "flash": Positive(flash_dump, top=True),
}


def _tar_bad_checksum() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        tf.addfile(info, io.BytesIO(b"hello\n"))
    block = bytearray(raw.getvalue())
    block[148:156] = b"0000000\0"  # the header checksum no longer matches
    return bytes(block)


def _mbr() -> bytes:
    """A partition table sector: 0x55AA at 510, as a FAT boot sector has, but no BPB."""
    sector = bytearray(512)
    sector[446:462] = struct.pack("<B3sB3sII", 0x80, b"\0\x02\0", 0x83, b"\xff\xff\xff", 1, 4095)
    sector[510:512] = b"\x55\xaa"
    return bytes(sector) + bytes(4096)


def _plain_dtb() -> bytes:
    """A device tree blob that is a board description, not a FIT image (no /images node)."""
    return fw.fdt(("", {"model": b"Demo Board\0", "compatible": b"demo,board\0"}, []))


def _ram_test_pattern() -> bytes:
    """The review's probe (2.4 B): a RAM-test pattern with UPDATE.APP's magic at offset 92."""
    pattern = bytearray(b"\x55\xaa\x5a\xa5\x00\xff\x0f\xf0" * 540)
    pattern[92:96] = b"\x55\xaa\x5a\xa5"
    return bytes(pattern)


def _pe_stub(marker: bytes) -> bytes:
    return b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80) + bytes(0x3C) + b"PE\0\0" + bytes(
        1000) + marker + bytes(3000)


def _text_flash(n: int = 70_000) -> bytes:
    rng = random.Random(5)
    words = [b"boot", b"log:", b"eth0", b"up", b"ok", b"\n"]
    return b" ".join(rng.choice(words) for _ in range(n // 3))[:n]


EXTRACT_NEGATIVE: dict[str, Negative] = {
    "zip": Negative(magic("a.zip", b"PK\x03\x04"), REFUSED, "zip local header over noise"),
    "tar": Negative(data("a.tar", _tar_bad_checksum), REFUSED, "ustar header, wrong checksum"),
    "7z": Negative(magic("a.7z", b"7z\xbc\xaf\x27\x1c"), REFUSED, "7z signature over noise"),
    "rpm": Negative(magic("a.rpm", b"\xed\xab\xee\xdb"), REFUSED, "rpm lead magic over noise"),
    "ar": Negative(magic("a.a", b"!<arch>\n"), REFUSED, "ar magic over noise"),
    "cpio": Negative(magic("a.cpio", b"070701"), REFUSED, "newc magic over noise"),
    "cab": Negative(magic("a.cab", b"MSCF\0\0\0\0"), REFUSED, "MSCF over noise"),
    "iso9660": Negative(magic("a.iso", b"\x01CD001", 40_000, 0x8000 + 0x800), ABSENT,
                        "volume descriptor id one sector late"),
    "squashfs": Negative(magic("a.sqfs", b"hsqs"), REFUSED, "hsqs over noise"),
    "cramfs": Negative(magic("a.cramfs", b"\x45\x3d\xcd\x28"), REFUSED, "cramfs magic over noise"),
    "jffs2": Negative(magic("a.jffs2", b"\x85\x19\x01\xe0"), REFUSED, "jffs2 node magic over noise",
                      xfail="claimed as an empty JFFS2 image, with no Problem"),
    "ubi": Negative(magic("a.ubi", b"UBI#\x01"), REFUSED, "UBI EC header over noise"),
    "ubifs": Negative(magic("a.ubifs", b"\x31\x18\x10\x06"), ABSENT, "UBIFS node magic over noise"),
    "ext": Negative(magic("a.img", b"\x53\xef", 8192, 0x438), REFUSED,
                    "ext superblock magic, nothing else"),
    "fat": Negative(data("disk.img", _mbr), ABSENT, "an MBR sector: 55AA without a BPB"),
    "romfs": Negative(magic("a.romfs", b"-rom1fs-"), REFUSED, "-rom1fs- over noise"),
    "gzip": Negative(magic("a.gz", b"\x1f\x8b\x08\x00"), REFUSED, "gzip header over noise"),
    "bzip2": Negative(magic("a.bz2", b"BZh9"), REFUSED, "bzip2 header over noise"),
    "xz": Negative(magic("a.xz", b"\xfd7zXZ\0"), REFUSED, "xz header over noise"),
    "zstd": Negative(magic("a.zst", b"\x28\xb5\x2f\xfd"), REFUSED, "zstd frame magic over noise"),
    "lz4": Negative(magic("a.lz4", b"\x04\x22\x4d\x18"), REFUSED, "lz4 frame magic over noise"),
    "msi": Negative(magic("a.msi", bytes.fromhex("d0cf11e0a1b11ae1")), REFUSED,
                    "OLE signature over noise (no MSI tables)"),
    "nsis": Negative(data("setup.exe", lambda: _pe_stub(b"Nullsoft Install System v3")),
                     ABSENT, "a PE naming Nullsoft, without the NSIS header"),
    "innosetup": Negative(data("setup.exe", lambda: _pe_stub(b"Inno Setup version 5")),
                          ABSENT, "a PE naming Inno Setup, without its setup data"),
    "lzma": Negative(magic("a.lzma", b"\x5d\0\0\x80\0"), ABSENT, "lzma-alone properties, noise"),
    "uimage": Negative(magic("uImage", b"\x27\x05\x19\x56"), REFUSED,
                       "uImage magic, header CRC wrong",
                       xfail="a header whose CRC fails still gives its payload as a member (by "
                             "design: test_uimage_bad_header_crc_is_a_problem)"),
    "fit": Negative(data("board.dtb", _plain_dtb), ABSENT, "a plain device tree, no /images"),
    "trx": Negative(magic("a.trx", b"HDR0"), ABSENT, "HDR0 over noise"),
    "android-boot": Negative(magic("boot.img", b"ANDROID!"), ABSENT, "ANDROID! over noise"),
    "android-sparse": Negative(magic("a.simg", b"\x3a\xff\x26\xed"), ABSENT,
                               "sparse magic over noise"),
    "uefi-capsule": Negative(magic("a.cap", fw.uefi_capsule()[0][:16]), REFUSED,
                             "a capsule GUID over noise"),
    "uefi-fv": Negative(magic("a.fv", b"_FVH", 4096, 0x28), ABSENT, "_FVH over noise"),
    "zimage": Negative(magic("zImage", b"\x18\x28\x6f\x01", 4096, 0x24), REFUSED,
                       "ARM zImage magic, no payload"),
    "huawei-update-app": Negative(data("UPDATE.APP", _ram_test_pattern), ABSENT,
                                  "RAM-test pattern with 55AA5AA5 at 92"),
    "huawei-hwnp": Negative(magic("a.bin", b"HWNP"), ABSENT, "HWNP over noise"),
    "hikvision-dav": Negative(magic("digicap.dav", fw.digicap()[0][:4]), ABSENT,
                              "digicap's obfuscated magic over noise"),
    "dahua-dhzip": Negative(magic("DH_IPC.bin", b"DH\x03\x04"), REFUSED,
                            "DH over noise (no zip behind it)"),
    "zte-config": Negative(magic("config.bin", bytes.fromhex("99999999444444445555555"
                                                             "5aaaaaaaa")), REFUSED,
                           "ZTE magic over noise"),
    "ihex": Negative(data("fw.hex", b":10000000" + b"ZZ" * 16 + b"00\n" * 40), ABSENT,
                     "colon lines that are not hex records"),
    "srec": Negative(data("fw.srec", b"S0 is not a record\nS1 neither\n" * 20), ABSENT,
                     "S-prefixed lines that are not records"),
    "flash": Negative(data("boot.log", _text_flash), ABSENT, "a large text file"),
}

# rows a format's own test module declares (FORMAT_CASES), beside the ones tabled here
TABLED_FORMATS = frozenset(EXTRACT_POSITIVE) | frozenset(EXTRACT_NEGATIVE)
DECLARED_FORMATS = declared("FORMAT_CASES")
EXTRACT_POSITIVE |= {k: p for k, (p, _) in DECLARED_FORMATS.items() if isinstance(p, Positive)}
EXTRACT_NEGATIVE |= {k: n for k, (_, n) in DECLARED_FORMATS.items()}

REGISTERED_FORMATS = [f.name for f in EXTRACTORS]


def test_every_format_has_a_positive_and_a_negative() -> None:
    registered = set(REGISTERED_FORMATS)
    assert all(isinstance(p, Positive) for p, _ in DECLARED_FORMATS.values())
    assert set(DECLARED_FORMATS) & set(TABLED_FORMATS) == set(), "declared and tabled"
    assert registered - set(EXTRACT_POSITIVE) == set(), "formats without a positive fixture"
    assert registered - set(EXTRACT_NEGATIVE) == set(), "formats without a look-alike negative"
    assert set(EXTRACT_POSITIVE) | set(EXTRACT_NEGATIVE) <= registered, "rows for no format"


def top_members(tree: Artifact) -> dict[str, str]:
    return {a.chain[-1]: a.sha256 for a in tree.walk()
            if a is not tree and len(a.chain) == len(tree.chain) + 1 and a.kind != "directory"}




@pytest.mark.parametrize("fmt", REGISTERED_FORMATS)
def test_positive(fmt: str, tmp_path: Path) -> None:
    if fmt not in EXTRACT_POSITIVE:
        pytest.fail(f"{fmt} has no positive fixture (add a row to EXTRACT_POSITIVE)")
    positive = EXTRACT_POSITIVE[fmt]
    (tmp_path / "in").mkdir()
    built = positive.build(tmp_path / "in")
    tree, problems = extract(built.path, tmp_path / "work")
    assert tree.kind == fmt, f"detected as {tree.kind}"
    missing = [t for t in EXTRACT_TOOLS.get(fmt, ()) if shutil.which(t) is None]
    if missing:  # the installer's program is not here: recognised, opaque, and says why
        assert tree.opaque and missing[0] in tree.opaque
        assert [p.kind for p in problems] == [ProblemKind.TOOL_MISSING]
        return
    if fmt == "flash":  # its noise region is a finding of its own
        problems = [p for p in problems if p.kind != ProblemKind.ENCRYPTED_OR_COMPRESSED]
    assert tree.opaque is None and not problems, (tree.opaque, problems)
    if positive.top:
        found = top_members(tree)
        if built.exact:
            assert found == built.files
        else:
            assert set(built.files) <= set(found), sorted(found)
        return
    files, links = members(tree)
    if built.by_hash:
        assert set(built.files.values()) <= set(files.values()), sorted(files)
    elif built.exact:
        assert (files, links) == (built.files, built.links)
    else:
        assert {k: files.get(k) for k in built.files} == built.files, sorted(files)


@pytest.mark.parametrize("fmt", REGISTERED_FORMATS)
def test_negative(fmt: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if fmt not in EXTRACT_NEGATIVE:
        pytest.fail(f"{fmt} has no look-alike negative (add a row to EXTRACT_NEGATIVE)")
    negative = EXTRACT_NEGATIVE[fmt]
    if negative.xfail:
        request.applymarker(pytest.mark.xfail(reason=negative.xfail, strict=True))
    (tmp_path / "in").mkdir()
    path = negative.make(tmp_path / "in")
    tree, problems = extract(path, tmp_path / "work")
    if negative.expect == ABSENT:
        assert tree.kind != fmt, f"{negative.what}: claimed as {fmt} ({tree.opaque})"
    else:
        assert tree.kind == fmt, f"{negative.what}: not even tried as {fmt} ({tree.kind})"
        # a stream that fails at once may leave an empty partial member ("keeps what it
        # yielded"): nothing with bytes in it may come out
        unpacked = [(a.chain[-1], a.size) for a in tree.walk() if a is not tree and a.size]
        assert problems and not unpacked, f"{negative.what}: unpacked as {fmt}: {unpacked}"


# == identification ===============================================================================

def golden_file(key: str) -> Callable[[Path], Path]:
    return lambda tmp: golden.materialize(key, tmp)


def _elf(tmp: Path) -> Path:
    spec = elfgen.ElfSpec(soname="libhi.so.1", needed=["libc.so.6"], exports=["HI_MPI_SYS_Init"])
    return write(tmp, "libhi.so.1", elfgen.build(spec))


def _java_class(this: bytes = b"com/example/Demo", major: int = 52) -> bytes:
    pool = [b"\x01" + struct.pack(">H", len(this)) + this, b"\x07" + struct.pack(">H", 1)]
    return (b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, major, len(pool) + 1) + b"".join(pool)
            + struct.pack(">HHHHHHH", 0x21, 2, 0, 0, 0, 0, 0))


def _package(role: str) -> Callable[[Path], Path]:
    return lambda tmp: idf.build_packages(tmp)[role]


IDENTIFY_POSITIVE: dict[str, Reads] = {
    "elf": Reads(_elf, "elf", {"elf.soname": "libhi.so.1", "elf.needed": "libc.so.6",
                               "elf.export": "HI_MPI_SYS_Init"}),
    "pe": Reads(golden_file("identify/pe/signed"), "pe", {
        "pe.version.CompanyName": "Huawei Technologies Co., Ltd.",
        "pe.signer.CN": "Huawei Code Signing", "pe.signature.verified": "true"}),
    "java-class": Reads(data("Demo.class", _java_class), "java-class",
                        {"java.class": "com/example/Demo"}),
    "macho": Reads(golden_file("identify/macho/dylib"), "macho",
                   {"macho.install_name": "@rpath/libHwSdk.dylib"}),
    "dtb": Reads(golden_file("identify/dtb/dtb"), "dtb",
                 {"dt.model": "Hisilicon HI3516CV300 DEMO Board"}),
    "zip": Reads(idf.build_jar, "jar", {"maven.groupId": "com.huawei.agconnect"}),
    "rpm": Reads(idf.build_rpm, "rpm", {"manifest.vendor": "AO Kaspersky Lab",
                                         "manifest.name": "kesl"}),
    "debian": Reads(_package("deb"), "deb", {"manifest.name": "hisi-osdrv"}),
    "tarball": Reads(_package("npm"), "npm", {"manifest.name": "@huaweicloud/huaweicloud-sdk-iam"}),
    "firmware-header": Reads(data("uImage", idf.uimage), "uimage",
                             {"uimage.name": "Linux-4.9.37-hi3516cv300"}),
    "sbom": Reads(data("bom.json", idf.cdx_json), "sbom",
                  {"sbom.format": "CycloneDX",
                                            "sbom.component": "huaweicloudsdkcore 3.1.219"}),
    "python-metadata": Reads(data("METADATA", idf.PY_METADATA.encode()), "python-metadata",
                             {"manifest.name": "huaweicloudsdkcore"}),
    "npm": Reads(data("package.json", json.dumps(idf.NPM_PACKAGE).encode()), "npm",
                 {"manifest.name": "@huaweicloud/huaweicloud-sdk-iam"}),
}


def _ne_exe() -> bytes:
    """A 16-bit NE executable: MZ, but e_lfanew points at "NE", not "PE\\0\\0"."""
    return b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80) + bytes(0x3C) + b"NE" + junk(2000)


def _static_lib() -> bytes:
    body = b"int f;\n"
    return b"!<arch>\n" + f"{'f.o/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode(
    ) + body + b"\n"


def _gzip_text() -> bytes:
    return gzip.compress(b"not a tar archive\n" * 200, mtime=0)


def _zip_without_manifest() -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("notes.txt", "plain zip, no manifest\n")
    data = bytearray(raw.getvalue())
    data[30:40] = junk(10)  # the first member's name and data: the archive no longer reads
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 16:eocd + 20] = struct.pack("<I", 0xFFFFFF)  # central directory out of range
    return bytes(data)


IDENTIFY_NEGATIVE: dict[str, Negative] = {
    "elf": Negative(magic("libx.so", b"\x7fELF\x01\x01\x01"), REFUSED, "ELF ident over noise"),
    "pe": Negative(data("app.exe", _ne_exe), ABSENT, "MZ with an NE header (16-bit)"),
    "java-class": Negative(data("Fat", b"\xca\xfe\xba\xbe\0\0\0\x02" + junk(200)), ABSENT,
                           "CAFEBABE with an architecture count: a fat Mach-O"),
    "macho": Negative(data("Demo.class", lambda: _java_class(major=61)), ABSENT,
                      "CAFEBABE with a class version: a Java class"),
    "dtb": Negative(magic("board.dtb", b"\xd0\x0d\xfe\xed"), REFUSED, "FDT magic over noise"),
    "zip": Negative(data("app.jar", _zip_without_manifest), REFUSED,
                    "a zip whose directory points past the end"),
    "rpm": Negative(magic("a.rpm", b"\xed\xab\xee\xdb"), REFUSED, "rpm lead magic over noise"),
    "debian": Negative(data("libf.a", _static_lib), ABSENT, "an ar archive that is a static lib"),
    "tarball": Negative(data("demo-1.0.tar.gz", _gzip_text), REFUSED,
                        "a .tar.gz name on gzipped text"),
    "firmware-header": Negative(data("UPDATE.APP", _ram_test_pattern), ABSENT,
                                "RAM-test pattern with 55AA5AA5 at 92"),
    "sbom": Negative(data("bom.json", b'{"bomFormat": "NotCycloneDX", "data": [1, 2]}'), REFUSED,
                     "bomFormat key with another value"),
    "python-metadata": Negative(data("README", idf.PY_METADATA.encode()), ABSENT,
                                "core metadata text under another name"),
    "npm": Negative(data("package.json", b'{"name": "left-pad", "version": '), REFUSED,
                    "package.json cut short"),
}

TABLED_READERS = frozenset(IDENTIFY_POSITIVE) | frozenset(IDENTIFY_NEGATIVE)
DECLARED_READERS = declared("READER_CASES")
IDENTIFY_POSITIVE |= {k: r for k, (r, _) in DECLARED_READERS.items() if isinstance(r, Reads)}
IDENTIFY_NEGATIVE |= {k: n for k, (_, n) in DECLARED_READERS.items()}

REGISTERED_READERS = [i.name for i in IDENTIFIERS]


def test_every_identifier_has_a_positive_and_a_negative() -> None:
    registered = set(REGISTERED_READERS)
    assert all(isinstance(r, Reads) for r, _ in DECLARED_READERS.values())
    assert set(DECLARED_READERS) & set(TABLED_READERS) == set(), "declared and tabled"
    assert registered - set(IDENTIFY_POSITIVE) == set(), "readers without a positive fixture"
    assert registered - set(IDENTIFY_NEGATIVE) == set(), "readers without a look-alike negative"
    assert set(IDENTIFY_POSITIVE) | set(IDENTIFY_NEGATIVE) <= registered, "rows for no reader"


def run_identify(path: Path) -> tuple[Facts, tuple[Problem, ...]]:
    data = path.read_bytes()
    art = Artifact((path.name,), hashlib.sha256(data).hexdigest(), len(data), "file", 0,
                   local=path)
    return identify(art, data[:4096])


def reader_of(path: Path) -> str | None:
    head = path.read_bytes()[:4096]
    return next((i.name for i in IDENTIFIERS if i.detect(head, path.name)), None)


@pytest.mark.parametrize("name", REGISTERED_READERS)
def test_reader_positive(name: str, tmp_path: Path) -> None:
    if name not in IDENTIFY_POSITIVE:
        pytest.fail(f"{name} has no positive fixture (add a row to IDENTIFY_POSITIVE)")
    reads = IDENTIFY_POSITIVE[name]
    (tmp_path / "in").mkdir()
    path = reads.make(tmp_path / "in")
    assert reader_of(path) == name
    facts, problems = run_identify(path)
    assert facts.format == reads.format and not problems, (facts.format, problems)
    for key, value in reads.facts.items():
        assert value in facts.values(key), (key, facts.values(key))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # LIEF on an ELF header of noise
@pytest.mark.parametrize("name", REGISTERED_READERS)
def test_reader_negative(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if name not in IDENTIFY_NEGATIVE:
        pytest.fail(f"{name} has no look-alike negative (add a row to IDENTIFY_NEGATIVE)")
    negative = IDENTIFY_NEGATIVE[name]
    if negative.xfail:
        request.applymarker(pytest.mark.xfail(reason=negative.xfail, strict=True))
    (tmp_path / "in").mkdir()
    path = negative.make(tmp_path / "in")
    facts, problems = run_identify(path)
    # what makes a positive: its format's facts, by key
    made = {k: facts.values(k) for k in IDENTIFY_POSITIVE[name].facts if facts.values(k)}
    if negative.expect == ABSENT:
        assert reader_of(path) != name, f"{negative.what}: claimed by {name}"
        assert not made, f"{negative.what}: read as {name}: {made}"
    else:
        assert reader_of(path) == name, f"{negative.what}: not even tried by {name}"
        assert not made, f"{negative.what}: read as {name}: {made} {problems}"


# == the registries themselves ====================================================================

def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
             modules: dict[str, str]) -> list[str]:
    """A throwaway package of the given modules, importable for this test only."""
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    for module, text in modules.items():
        (tmp_path / name / f"{module}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return [str(tmp_path / name)]


FW = "from provenance.extract.firmware import trx\nFORMATS = (trx.FORMAT,)\n"
READER = "from provenance.identify import rpm\nIDENTIFIER = rpm.IDENTIFIER\n"


def test_registries_follow_the_declared_order_not_file_names(tmp_path, monkeypatch) -> None:
    from provenance.extract import firmware
    from provenance.identify import registered as readers

    path = _package(tmp_path, monkeypatch, "fw_order", {
        "a_last": FW + "ORDER = 20\n", "b_first": FW + "ORDER = 10\n", "_private": FW,
        "helper": "X = 1\n"})
    assert [m.__name__ for m in firmware.registered(path, "fw_order")] == [
        "fw_order.b_first", "fw_order.a_last"]
    path = _package(tmp_path, monkeypatch, "id_order", {
        "a": READER + "ORDER = 2\n", "b": READER + "ORDER = 1\n", "c": "ORDER = 0\n"})
    assert len(readers(path, "id_order")) == 2


@pytest.mark.parametrize(("order_a", "order_b", "error"), [
    ("ORDER = 5\n", "ORDER = 5\n", "share ORDER 5"),
    ("ORDER = 5\n", "", "no integer ORDER"),
    ("ORDER = 5\n", "ORDER = '6'\n", "no integer ORDER"),
])
def test_registries_refuse_a_missing_or_shared_order(tmp_path, monkeypatch, order_a: str,
                                                     order_b: str, error: str) -> None:
    from provenance.extract import firmware
    from provenance.identify import registered as readers

    tag = tmp_path.name  # unique per test: a package name imported once per session
    path = _package(tmp_path, monkeypatch, f"fw_{tag}", {"a": FW + order_a, "b": FW + order_b})
    with pytest.raises((TypeError, ValueError), match=error):
        firmware.registered(path, f"fw_{tag}")
    path = _package(tmp_path, monkeypatch, f"id_{tag}", {"a": READER + order_a,
                                                        "b": READER + order_b})
    with pytest.raises((TypeError, ValueError), match=error):
        readers(path, f"id_{tag}")
