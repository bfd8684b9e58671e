"""Boot, firmware and vendor containers: each generated fixture unpacks to the expected members."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import firmware_fixtures as fx
import pytest
from format_cases import declared

from provenance.extract import detect, extract
from provenance.extract.firmware import FORMATS
from provenance.extract.limits import Budget, Limits
from provenance.extract.saferoot import SafeRoot
from provenance.model import Problem

BY_NAME = {f.name: f for f in FORMATS}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unpack(fmt_name: str, data: bytes, tmp_path: Path, name: str = "sample.bin"
           ) -> tuple[dict[str, str], list[Problem]]:
    """Run one extractor directly; returns member -> sha256 and the Problems."""
    src = tmp_path / name
    src.write_bytes(data)
    fmt = detect(data[:4096], name)
    assert fmt is not None and fmt.name == fmt_name, f"detected as {fmt and fmt.name}"
    root = SafeRoot(tmp_path / "out", Budget(Limits()), name, len(data))
    fmt.extract(src, root)
    files = {p.relative_to(root.base).as_posix(): sha(p.read_bytes())
             for p in root.base.rglob("*") if p.is_file()}
    return files, root.problems


def expect(members: dict[str, bytes]) -> dict[str, str]:
    return {k: sha(v) for k, v in members.items()}


CASES: list[tuple[str, Callable[[], tuple[bytes, dict[str, bytes]]]]] = [
    ("uimage", fx.uimage_single),
    ("uimage", fx.uimage_multi),
    ("fit", fx.fit),
    ("fit", fx.fit_external),
    ("trx", fx.trx),
    ("android-boot", lambda: fx.android_boot(0)),
    ("android-boot", lambda: fx.android_boot(1)),
    ("android-boot", lambda: fx.android_boot(2)),
    ("android-boot", lambda: fx.android_boot(3)),
    ("android-boot", lambda: fx.android_boot(4)),
    ("android-sparse", fx.android_sparse),
    ("ihex", fx.ihex),
    ("srec", fx.srec),
    ("zimage", fx.zimage_arm),
    ("zimage", fx.bzimage),
    ("zimage", fx.zimage_lz4),
    ("zimage", fx.zimage_zstd),
    ("uefi-fv", fx.uefi_fv),
    ("uefi-capsule", fx.uefi_capsule),
    ("uefi-capsule", fx.uefi_fmp_capsule),
    ("huawei-update-app", fx.update_app),
    ("huawei-hwnp", fx.hwnp),
    ("hikvision-dav", fx.digicap),
    ("hikvision-dav", lambda: fx.digicap(swap=True)),
    ("dahua-dhzip", fx.dahua),
    ("zte-config", fx.zte_config),
    ("zte-config", lambda: fx.zte_config(1, header=False)),
]


@pytest.mark.parametrize(("fmt", "build"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_fixture_members(fmt: str, build: Callable[[], tuple[bytes, dict[str, bytes]]],
                         tmp_path: Path) -> None:
    data, members = build()
    files, problems = unpack(fmt, data, tmp_path)
    assert files == expect(members)
    assert problems == []


def test_every_format_has_a_fixture() -> None:
    # a format's own test module may declare its fixture instead (tests/format_cases.py)
    assert {c[0] for c in CASES} | {"flash"} | set(declared("FORMAT_CASES")) >= set(BY_NAME)


def test_flash_is_last() -> None:
    assert FORMATS[-1].name == "flash"


# -- corrupt input: member-level Problems, not exceptions --------------------------------------


def test_uimage_bad_header_crc_is_a_problem(tmp_path: Path) -> None:
    kernel = b"\x1f\x8b" + bytes(100)
    files, problems = unpack("uimage", fx.uimage(kernel, bad_crc=True), tmp_path)
    assert files == {"Linux-6.1.gz": sha(kernel)}
    assert [p.message for p in problems] == ["uImage header CRC mismatch"]


def test_uimage_truncated(tmp_path: Path) -> None:
    data = fx.uimage(bytes(range(256)) * 4)[:500]
    files, problems = unpack("uimage", data, tmp_path)
    assert files == {"Linux-6.1.gz": sha(data[64:])}
    assert any(p.kind == "truncated" for p in problems)


def test_trx_bad_crc(tmp_path: Path) -> None:
    data = bytearray(fx.trx()[0])
    data[-1] ^= 0xFF
    _, problems = unpack("trx", bytes(data), tmp_path)
    assert [p.message for p in problems] == ["TRX CRC mismatch"]


def test_hwnp_bad_item_crc(tmp_path: Path) -> None:
    data = bytearray(fx.hwnp()[0])
    data[-1] ^= 0xFF
    _, problems = unpack("huawei-hwnp", bytes(data), tmp_path)
    assert [(p.message, p.location.rsplit("/", 1)[-1]) for p in problems] == [
        ("item CRC32 mismatch", "rootfs")]


def test_ihex_bad_checksum(tmp_path: Path) -> None:
    data, members = fx.ihex()
    lines = data.split(b"\r\n")
    lines[1] = lines[1][:-2] + b"00"
    files, problems = unpack("ihex", b"\r\n".join(lines), tmp_path)
    assert files == expect(members)
    assert [p.message for p in problems] == ["line 2: checksum mismatch"]


def test_update_app_lone_magic_is_not_enough() -> None:
    """Catalog §6: `55 AA 5A A5` is a common test pattern; a lone magic must not match."""
    fake = bytes(92) + b"\x55\xaa\x5a\xa5" + bytes(200)
    assert detect(fake, "x.bin") is None or detect(fake, "x.bin").name != "huawei-update-app"
    data = bytearray(fx.update_app()[0])
    data[92 + 12 + 8 + 8 + 32] = 0x01  # control byte inside the partition name
    fmt = detect(bytes(data[:4096]), "UPDATE.APP")
    assert fmt is None or fmt.name != "huawei-update-app"


def test_zte_aes_stays_opaque(tmp_path: Path) -> None:
    data, _ = fx.zte_config(ptype=3)
    src = tmp_path / "config.bin"
    src.write_bytes(data)
    root, problems = extract(src, tmp_path / "work")
    assert root.kind == "zte-config"
    assert root.opaque is not None and "encrypted (AES)" in root.opaque
    assert not root.children
    assert any(p.kind == "encrypted" for p in problems)


def test_dahua_ignores_dh_inside_data(tmp_path: Path) -> None:
    """Only real header positions are patched: `DH\\x03\\x04` inside a stored member stays."""
    import io
    import zipfile

    body = b"xxDH\x03\x04yy" * 10
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.bin", body)
    data = buf.getvalue().replace(b"PK\x03\x04", b"DH\x03\x04").replace(b"PK\x01\x02",
                                                                        b"DH\x01\x02")
    files, problems = unpack("dahua-dhzip", data, tmp_path)
    assert files == {"a.bin": sha(body)} and problems == []


def test_recursive_chain_through_walker(tmp_path: Path) -> None:
    """A uImage's gzip kernel is unpacked again by the walker: the path chain shows both."""
    data, _ = fx.uimage_single()
    src = tmp_path / "uImage"
    src.write_bytes(data)
    root, problems = extract(src, tmp_path / "work")
    assert root.kind == "uimage" and problems == ()
    (gz,) = root.children
    assert gz.chain == ("uImage", "Linux-6.1.gz") and gz.kind == "gzip"
    assert [c.sha256 for c in gz.children] == [sha(fx.text(1, 20_000))]


def test_plain_dtb_is_a_leaf(tmp_path: Path) -> None:
    """A bare device tree is emitted as is (identification reads it), not unpacked again."""
    src = tmp_path / "board.dtb"
    src.write_bytes(fx.dtb())
    assert detect(fx.dtb(), "board.dtb") is None
    root, problems = extract(src, tmp_path / "work")
    assert root.children == () and root.opaque is None and problems == ()


@pytest.mark.parametrize("blocks", [1 << 22, 1 << 12])
def test_sparse_bomb_stops_at_a_limit(tmp_path: Path, blocks: int) -> None:
    """A 40-byte sparse image claiming gigabytes of "don't care" blocks stops at a limit."""
    import struct

    data = struct.pack("<IHHHHIIII", 0xED26FF3A, 1, 0, 28, 12, 4096, blocks, 1, 0)
    data += struct.pack("<HHII", 0xCAC3, 0, blocks, 12)
    src = tmp_path / "bomb.img"
    src.write_bytes(data)
    limits = Limits(max_member_bytes=64 << 20, ratio_floor=1 << 20)
    root, problems = extract(src, tmp_path / "work", limits)
    assert root.opaque is not None and not root.children
    assert problems and problems[0].kind in ("corrupt", "limit")
    written = sum(p.stat().st_size for p in (tmp_path / "work").rglob("*") if p.is_file())
    assert written <= 2 << 20


def test_uefi_nested_volume_through_walker(tmp_path: Path) -> None:
    """FV -> LZMA section -> FV image section -> the inner volume's file, as one chain."""
    data, _ = fx.uefi_fv()
    src = tmp_path / "bios.fd"
    src.write_bytes(data)
    root, problems = extract(src, tmp_path / "work")
    assert problems == ()
    (inner,) = [a for a in root.walk() if a.chain[-1].endswith("/0/1.fv")]
    assert inner.kind == "uefi-fv"
    assert [c.sha256 for c in inner.children] == [sha(fx.blob(35, 200))]
