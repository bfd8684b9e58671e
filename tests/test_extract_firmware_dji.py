"""DJI IM*H signed firmware modules (extract/firmware/dji.py): built here to the layout
dji-firmware-tools' signer writes (dji_imah_fwsig.py imah_sign), then unpacked, identified and
attributed. The format's coverage case is declared here (FORMAT_CASES), not in a shared table.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import date
from pathlib import Path

import pytest
from format_cases import ABSENT, Negative, data, firmware

from provenance import pipeline
from provenance.extract import detect, extract
from provenance.extract.firmware import dji
from provenance.identify import fwheaders
from provenance.model import ProblemKind, Verdict
from provenance.pipeline.blobs import AnalysisOptions

KERNEL = bytes(range(256)) * 13 + b"\x7fELF-ish tail"
ROOTFS = b"bootargs=console=ttyS0 mtdparts=dji:1M(boot)\n" * 60


def imah(chunks: list[tuple[bytes, bytes, bool]], enc_key: bytes = b"", version: int = 2,
         date_bcd: int = 0x20190416, module_version: int = 0x01040500, digest: bytes | None = None,
         name: bytes = b"wm220_0306") -> bytes:
    """An IM*H image: header, chunk headers, a 256-byte signature (zeros: never checked), the
    payload with each chunk padded to 32 bytes, as imah_sign lays them out."""
    payload = b""
    table = b""
    for cid, body, plain in chunks:
        table += struct.pack("<4sIIIQ8x", cid, len(payload), len(body), 1 if plain else 0,
                             0x80000000)
        payload += body + bytes(-len(body) % 32)
    header_size = 192 + 32 * len(chunks)
    target = header_size + 256 + len(payload)
    head = struct.pack("<4s7I4BI4s4s16s32s4sII20s16s8sII", b"IM*H", version, target, 0,
                       header_size, 256, len(payload), target, 0, 1, 0, 0, 1, b"PRAK", enc_key,
                       bytes(16), name, b"FCCA", module_version, date_bcd, bytes(20), bytes(16),
                       bytes(8), 0, len(chunks))
    head += digest if digest is not None else hashlib.sha256(payload).digest()
    assert len(head) == 192
    return head + table + bytes(256) + payload


def plain_module() -> tuple[bytes, dict[str, bytes]]:
    return (imah([(b"0306", KERNEL, True), (b"0801", ROOTFS, True)]),
            {"0306.bin": KERNEL, "0801.bin": ROOTFS})


def _near_miss() -> bytes:
    """A real header whose target size is one byte off: its sizes no longer agree."""
    image = bytearray(plain_module()[0])
    struct.pack_into("<I", image, 28, struct.unpack_from("<I", image, 28)[0] + 1)
    return bytes(image)


FORMAT_CASES = {
    "dji-imah": (firmware(plain_module, "wm220_0306_v01.04.05.00_20190416.sig"),
                 Negative(data("wm220_0306.sig", _near_miss), ABSENT,
                          "IM*H header whose target size disagrees with its parts")),
}


def _write(tmp_path: Path, image: bytes, name: str = "wm220_0306.sig") -> Path:
    path = tmp_path / name
    path.write_bytes(image)
    return path


def test_header_facts_and_vendor(tmp_path: Path) -> None:
    path = _write(tmp_path, plain_module()[0])
    assert detect(path.read_bytes()[:4096], path.name) is dji.FORMAT
    facts, problems = fwheaders.read(path, path.name)
    assert not problems
    assert (facts.format, facts.name) == ("dji-imah", "wm220_0306")
    assert [(f.key, f.value) for f in facts.items[:3]] == [
        ("container.format", "dji-imah"), ("container.vendor", "dji"),
        ("container.relationship", "made-by")]
    assert {k: facts.first(k) for k in ("dji.version", "dji.date", "dji.format",
                                        "dji.auth_key", "dji.enc_key")} == {
        "dji.version": "01.04.05.00", "dji.date": "2019-04-16", "dji.format": "2018",
        "dji.auth_key": "PRAK", "dji.enc_key": None}


def test_encrypted_chunks_stay_opaque(tmp_path: Path) -> None:
    image = imah([(b"0306", KERNEL, False), (b"0801", ROOTFS, True)], enc_key=b"PUEK")
    tree, problems = extract(_write(tmp_path, image), tmp_path / "w")
    assert [a.chain[-1] for a in tree.children] == ["0801.bin"]
    assert [(p.kind, p.location.rsplit("/", 1)[-1]) for p in problems] == [
        (ProblemKind.ENCRYPTED, "0306.bin")]
    every = imah([(b"0306", KERNEL, False)], enc_key=b"UFIE")
    tree, problems = extract(_write(tmp_path, every, "all.sig"), tmp_path / "w2")
    assert tree.kind == "dji-imah" and tree.opaque and "encrypted" in tree.opaque
    assert [p.kind for p in problems] == [ProblemKind.ENCRYPTED]


def test_a_wrong_payload_digest_is_a_problem_and_no_claim(tmp_path: Path) -> None:
    image = imah([(b"0306", KERNEL, True)], digest=bytes(32))
    path = _write(tmp_path, image)
    tree, problems = extract(path, tmp_path / "w")
    assert [a.chain[-1] for a in tree.children] == ["0306.bin"]
    assert [p.message for p in problems] == ["payload SHA-256 does not match the header"]
    facts, _ = fwheaders.read(path, path.name)
    assert facts.format == "dji-imah" and facts.first("container.vendor") is None
    cut = image[:-100]  # the payload runs past the end: refused, and no claim either
    tree, problems = extract(_write(tmp_path, cut, "cut.sig"), tmp_path / "w2")
    assert tree.opaque and "past the end" in tree.opaque
    assert fwheaders.read(tmp_path / "cut.sig", "cut.sig")[0].first("container.vendor") is None


@pytest.mark.parametrize(("offset", "value"), [(4, 3), (20, 128), (16, 192), (156, 65)])
def test_header_fields_must_agree(offset: int, value: int) -> None:
    """Version, signature size, header size and chunk count are each checked."""
    image = bytearray(plain_module()[0])
    assert dji.detect(bytes(image), "x.sig")
    struct.pack_into("<I", image, offset, value)
    assert not dji.detect(bytes(image), "x.sig")


def test_scan_attributes_the_module_to_dji(tmp_path: Path, sigset) -> None:
    path = _write(tmp_path, plain_module()[0])
    options = pipeline.ScanOptions(reproducible=True, as_of=date(2026, 1, 1),
                                   analysis=AnalysisOptions(jobs=1, use_cache=False))
    result = pipeline.scan(path, sigset, options)
    assert result.root.kind == "dji-imah" and len(result.root.children) == 2
    made = next(a for a in result.root.attributions if a.vendor == "dji")
    assert [e.rule for e in made.evidence] == ["container:dji-imah"]
    assert result.verdict == Verdict.RESTRICTED
