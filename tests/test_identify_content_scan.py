"""Which blobs the content scanners (copyright, certificates, MAC addresses) read is declared by
the identifiers (`Identifier.content_scan`, over the formats they write), not kept in a list."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from elfgen import ElfSpec, build
from test_identify_fuzz import FILE_CASES, SEEDS

from provenance.extract.base import HEAD_SIZE
from provenance.identify import CONTENT_SCAN, IDENTIFIERS, SCANNED_FORMATS, identify
from provenance.model import Artifact

NOTICE = "Copyright (c) 2019 Huawei Technologies Co., Ltd. All rights reserved."


def test_each_format_has_one_declaration() -> None:
    seen: dict[str, tuple[str, bool]] = {}
    for ident in IDENTIFIERS:
        for fmt in (ident.name, *ident.formats):
            if fmt in seen:
                assert seen[fmt][1] == ident.content_scan, (fmt, seen[fmt][0], ident.name)
            seen[fmt] = (ident.name, ident.content_scan)
    assert set(seen) == set(CONTENT_SCAN)
    assert {"elf", "pe", "macho"} == SCANNED_FORMATS  # the executables


@pytest.mark.parametrize(("name", "seed", "reader"), FILE_CASES)
def test_a_reader_writes_only_the_formats_its_identifier_declares(
        tmp_path: Path, name: str, seed: str, reader: object) -> None:
    [ident] = [i for i in IDENTIFIERS if i.read is reader]
    path = tmp_path / name
    path.write_bytes(SEEDS[seed])
    facts, _ = ident.read(path, name)
    assert facts.format in {ident.name, *ident.formats}


def _identify(path: Path, kind: str = "file", children: bool = False) -> set[str]:
    kids = (Artifact((path.name, "x"), "", 0, "file", 1),) if children else ()
    artifact = Artifact((path.name,), "0" * 64, path.stat().st_size, kind, 0, path, kids)
    with open(path, "rb") as f:
        facts, _ = identify(artifact, f.read(HEAD_SIZE))
    return {f.key for f in facts.items}


def test_an_executable_is_scanned(tmp_path: Path) -> None:
    lib = tmp_path / "libx.so"
    lib.write_bytes(build(ElfSpec(soname="libx.so", strings=[NOTICE])))
    assert "copyright.holder" in _identify(lib)


def test_a_package_is_not_scanned_as_a_whole(tmp_path: Path) -> None:
    jar = tmp_path / "x.jar"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Title: x\n")
        zf.writestr("NOTICE", NOTICE)  # stored: the statement is in the jar's bytes
    jar.write_bytes(buffer.getvalue())
    assert NOTICE.encode() in jar.read_bytes()
    assert not any(k.startswith("copyright.") for k in _identify(jar))


def test_an_unidentified_blob_follows_the_declaration_of_its_kind(tmp_path: Path) -> None:
    """A tar no identifier takes (no package suffix) is still a tar: not scanned as a whole,
    even when nothing came out of it; the same bytes of an unknown kind are scanned."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        info = tarfile.TarInfo("NOTICE")
        info.size = len(NOTICE)
        tf.addfile(info, io.BytesIO(NOTICE.encode()))
    blob = tmp_path / "rootfs.img"
    blob.write_bytes(buffer.getvalue())
    assert not any(k.startswith("copyright.") for k in _identify(blob, kind="tar"))
    assert "copyright.holder" in _identify(blob, kind="file")
    assert not any(k.startswith("copyright.") for k in _identify(blob, children=True))
