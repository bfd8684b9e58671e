"""UBI images and UBIFS filesystems with ubi-reader.

ubi-reader is the only maintained reader of either (pure Python; LZO via lzallright wheels,
zstd via zstandard). Its file extractor writes to disk itself and exits the process on fatal
errors, so only its parsers are used: UBI volumes are written out as images (a UBIFS volume,
or a SquashFS one under ubiblock, then opens recursively), and UBIFS files are read through its
index walk and written through the SafeRoot. A `.ubi` file fed straight to the UBIFS reader
fails (shared/reference/dependencies.md), hence the two steps.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provenance.extract.base import Format, FormatProblem
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

UBI_MAGIC = b"UBI#"
UBIFS_MAGIC = b"\x31\x18\x10\x06"
_DATA_BLOCK = 4096
MAX_DECODED = 256 << 20  # most one file ubi-reader may decode in memory


class UbiError(FormatProblem):
    kind = ProblemKind.CORRUPT


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """ubi-reader prints and calls sys.exit on fatal errors: capture both."""
    from ubireader import settings

    # anything but "exit" keeps going on errors; "fatal" still exits, caught below
    settings.error_action = "raise"  # type: ignore[assignment]
    settings.logging_on = settings.logging_on_verbose = False
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            yield buf
    except SystemExit as exc:
        text = buf.getvalue().strip().splitlines()
        raise UbiError(text[-1] if text else "ubi-reader gave up") from exc


def _ubi_detect(head: bytes, name: str) -> bool:
    return head.startswith(UBI_MAGIC)


def _ubifs_detect(head: bytes, name: str) -> bool:
    # common header magic, then node type 6 (superblock) at offset 20
    return head.startswith(UBIFS_MAGIC) and len(head) > 20 and head[20] == 6


def _peb_size(src: Path) -> int | None:
    """Erase blocks each start with an EC header: the first power of two (16 KiB to 4 MiB) where
    another one starts is the block size. ubi-reader's own guess fails on images of a few
    blocks (it returned -393216 on a 3-block image)."""
    size = src.stat().st_size
    with open(src, "rb") as f:
        peb = 16 << 10
        while peb <= (4 << 20) and peb < size:
            f.seek(peb)
            if f.read(4) == UBI_MAGIC:
                return peb
            peb <<= 1
    return size if size <= (4 << 20) else None  # a single block


def _ubi_extract(src: Path, out: SafeRoot) -> None:
    from ubireader.ubi import ubi
    from ubireader.ubi_io import ubi_file

    with _quiet():
        peb = _peb_size(src)
        if not peb:
            raise UbiError("cannot determine the erase block size")
        ufile = ubi_file(str(src), peb)
        try:
            image_set = ubi(ufile)
            many = len(image_set.images) > 1
            for image in image_set.images:
                for vol_name, volume in image.volumes.items():
                    name = f"{image.image_seq}/{vol_name}" if many else vol_name
                    writer = out.create(name or f"volume{volume.vol_id}")
                    if writer is None:
                        continue
                    with writer:
                        for chunk in volume.reader(image_set):
                            if not writer.write(chunk):
                                break
        finally:
            ufile.close()


def _ubifs_extract(src: Path, out: SafeRoot) -> None:
    from ubireader.ubi_io import ubi_file
    from ubireader.ubifs import ubifs, walk
    from ubireader.ubifs.defines import (
        UBIFS_DATA_KEY,
        UBIFS_ITYPE_DIR,
        UBIFS_ITYPE_LNK,
        UBIFS_ITYPE_REG,
        UBIFS_S_KEY_BLOCK_BITS,
    )
    from ubireader.ubifs.misc import process_reg_file
    from ubireader.utils import guess_leb_size

    # ubi-reader decodes a file whole in memory (and pads the gaps of a sparse one)
    limit = min(out.budget.limits.max_member_bytes, MAX_DECODED)
    with _quiet():
        leb = guess_leb_size(str(src))
        if not leb:
            raise UbiError("cannot determine the logical erase block size")
        ufile = ubi_file(str(src), leb)
        try:
            fs = ubifs(ufile)
            inodes: dict[int, Any] = {}
            bad: list[int] = []
            walk.index(fs, fs.master_node.root_lnum, fs.master_node.root_offs, inodes, bad)
            if bad:
                out.problem(f"bad blocks in LEBs {sorted(set(bad))[:20]}", ProblemKind.CORRUPT)
            if 1 not in inodes:
                raise UbiError("no root inode")
            start_key = UBIFS_DATA_KEY << UBIFS_S_KEY_BLOCK_BITS
            stack: list[tuple[str, int]] = [("", 1)]
            seen = {1}
            while stack:
                prefix, inum = stack.pop()
                for dent in inodes[inum].get("dent", []):
                    name = dent.name if isinstance(dent.name, str) else dent.name.decode(
                        "utf-8", "surrogateescape")
                    path = prefix + name
                    node = inodes.get(dent.inum)
                    out.check_time()
                    if node is None:
                        out.problem("directory entry without an inode", ProblemKind.CORRUPT, path)
                    elif dent.type == UBIFS_ITYPE_DIR:
                        if dent.inum in seen:
                            out.problem("directory loop; not entered again",
                                        ProblemKind.CORRUPT, path)
                            continue
                        seen.add(dent.inum)
                        out.mkdir(path)
                        stack.append((path + "/", dent.inum))
                    elif dent.type == UBIFS_ITYPE_REG:
                        # process_reg_file pads gaps up to the highest block key: bound that
                        # first so a forged key cannot make it allocate gigabytes
                        blocks = [d.key["khash"] - start_key for d in node.get("data", [])]
                        size = node["ino"].size
                        padded = max(blocks, default=0) * _DATA_BLOCK
                        refused = out.declared_over(max(size, padded))
                        if refused is None and max(size, padded) > limit:
                            refused = (f"declared size {max(size, padded)} bytes is over the "
                                       f"{limit}-byte bound for decoding in memory")
                        if refused is not None:
                            out.problem(refused, ProblemKind.LIMIT, path)
                            continue
                        data = process_reg_file(fs, node, path, inodes) or b""
                        out.write(path, io.BytesIO(memoryview(data)[:size]), min(size, len(data)))
                    elif dent.type == UBIFS_ITYPE_LNK:
                        out.link(path, bytes(node["ino"].data).decode("utf-8", "surrogateescape"))
                    else:
                        out.refuse(path, "device node, FIFO or socket")
        finally:
            ufile.close()


UBI = Format("ubi", "UBI images: each volume as an image (ubi-reader)", _ubi_detect, _ubi_extract,
             through_members=True)
UBIFS = Format("ubifs", "UBIFS filesystems (ubi-reader)", _ubifs_detect, _ubifs_extract,
               through_members=True)
