"""ISO 9660 images, with Rock Ridge or Joliet names when present, read with pycdlib.

pycdlib: pure Python, maintained, reads every ISO 9660 extension without mounting; files are
opened as streams (open_file_from_iso), so members go through the SafeRoot chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provenance.extract.base import Format
from provenance.extract.fswalk import Reader, walk
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind


def detect(head: bytes, name: str) -> bool:
    # the descriptor is at 0x8001, past the head: candidates are an empty system area, a
    # hybrid image's MBR, or the name; confirm() reads the descriptor
    if len(head) >= 0x8006:
        return head[0x8001:0x8006] == b"CD001"
    return (
        name.lower().endswith(".iso")
        or (len(head) >= 512 and head[510:512] == b"\x55\xaa")
        or (len(head) >= 2048 and not head[:2048].strip(b"\0"))
    )


def confirm(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(0x8001)
        return f.read(5) == b"CD001"


def extract(src: Path, out: SafeRoot) -> None:
    import pycdlib

    iso = pycdlib.PyCdlib()
    with open(src, "rb") as f:
        iso.open_fp(f)
        try:
            # pycdlib quietly shortens files that run past the end of a cut image: compare the
            # size the volume declares with the file's
            pvd = iso.pvds[0]
            declared = pvd.space_size * pvd.log_block_size
            actual = src.stat().st_size
            if actual < declared:
                out.problem(f"image truncated: the volume declares {declared} bytes, the file "
                            f"has {actual}; files at the end are short or missing",
                            ProblemKind.TRUNCATED)
            if iso.has_rock_ridge():
                facet = "rr_path"
            elif iso.has_joliet():
                facet = "joliet_path"
            else:
                facet = "iso_path"

            def name_of(record: Any) -> str:
                if facet == "rr_path" and record.rock_ridge is not None:
                    return str(record.rock_ridge.name().decode("utf-8", "surrogateescape"))
                ident = record.file_identifier()
                text = ident.decode("utf-16-be") if facet == "joliet_path" else ident.decode(
                    "latin-1")
                return text.split(";", 1)[0].rstrip(".") if facet == "iso_path" else text

            def children(node: tuple[str, Any]) -> Iterable[tuple[str, Any]]:
                path, _ = node
                for record in iso.list_children(**{facet: path or "/"}):
                    if record is None or record.is_dot() or record.is_dotdot():
                        continue
                    name = name_of(record)
                    yield name, (f"{path}/{name}", record)

            def kind(node: tuple[str, Any]) -> str:
                record = node[1]
                if record.is_dir():
                    return "dir"
                rr = record.rock_ridge if facet == "rr_path" else None
                if rr is not None and rr.is_symlink():
                    return "link"
                return "file"

            def link(node: tuple[str, Any]) -> str:
                return str(node[1].rock_ridge.symlink_path().decode("utf-8", "surrogateescape"))

            def open_member(node: tuple[str, Any]) -> Any:
                return iso.open_file_from_iso(**{facet: node[0]})

            reader = Reader(
                children=children,
                kind=kind,
                key=lambda n: n[1].extent_location() if n[1] is not None else -1,
                link=link,
                open=open_member,
                size=lambda n: n[1].get_data_length(),
            )
            walk(("", None), reader, out)
        finally:
            iso.close()


FORMAT = Format("iso9660", "ISO 9660 with Rock Ridge and Joliet names (pycdlib)", detect, extract,
                confirm, through_members=True)
