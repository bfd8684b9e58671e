"""Flattened device tree (DTB) structure walker, and FIT images built on it.

A plain DTB is a leaf (identification reads it later); a FIT is a DTB whose /images node holds
the payloads, inline (`data`) or external (`data-offset`/`data-position` + `data-size`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provenance.extract.base import Format
from provenance.extract.firmware._io import Blob, Corrupt, Namer, ascii_name, put, trailer
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAGIC = b"\xd0\x0d\xfe\xed"
HEADER = struct.Struct(">10I")
MAX_NODES = 100_000
MAX_DEPTH = 64
BEGIN_NODE, END_NODE, PROP, NOP, END = 1, 2, 3, 4, 9


@dataclass
class Node:
    name: str
    props: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (offset, length)
    children: list[Node] = field(default_factory=list)


def header(head: bytes, size: int | None = None) -> tuple[int, int, int, int, int] | None:
    """(totalsize, off_struct, off_strings, size_strings, size_struct) if the header is sane."""
    if len(head) < 40 or not head.startswith(MAGIC):
        return None
    total, o_struct, o_strings, o_rsv, version, last, _, s_strings, s_struct = HEADER.unpack(
        head[:40]
    )[1:]
    if not (16 <= version <= 17 and last <= version and total >= 40):
        return None
    if size is not None and total > size:
        return None
    for off, n in ((o_struct, s_struct), (o_strings, s_strings), (o_rsv, 0)):
        if off < 40 or off + n > total:
            return None
    return total, o_struct, o_strings, s_strings, s_struct


def parse(blob: Blob, base: int = 0) -> Node:
    """Walk the structure block with every offset checked; raises Corrupt on bad structure."""
    hdr = header(blob.read(base, 40), blob.size - base)
    if hdr is None:
        raise Corrupt("bad device-tree header")
    _, o_struct, o_strings, s_strings, s_struct = hdr
    pos, end = base + o_struct, base + o_struct + s_struct
    strings = blob.read(base + o_strings, s_strings)
    root: Node | None = None
    stack: list[Node] = []
    count = 0
    while pos + 4 <= end:
        (tok,) = blob.unpack(">I", pos)
        pos += 4
        if tok == BEGIN_NODE:
            nul = blob.mm.find(b"\x00", pos, end)
            if nul < 0:
                raise Corrupt("unterminated node name")
            node = Node(bytes(blob.mm[pos:nul]).decode("ascii", "replace"))
            pos = (nul + 4) & ~3
            count += 1
            if count > MAX_NODES or len(stack) >= MAX_DEPTH:
                raise Corrupt("device tree too large or too deep")
            if stack:
                stack[-1].children.append(node)
            elif root is None:
                root = node
            else:
                raise Corrupt("second root node")
            stack.append(node)
        elif tok == END_NODE:
            if not stack:
                raise Corrupt("unbalanced END_NODE")
            stack.pop()
        elif tok == PROP:
            if not stack or pos + 8 > end:
                raise Corrupt("property outside a node")
            length, nameoff = blob.unpack(">II", pos)
            pos += 8
            if pos + length > end or nameoff >= len(strings):
                raise Corrupt("property runs past the structure block")
            pname = strings[nameoff : strings.find(b"\x00", nameoff)].decode("ascii", "replace")
            stack[-1].props[pname] = (pos, length)
            pos = (pos + length + 3) & ~3
        elif tok == NOP:
            continue
        elif tok == END:
            break
        else:
            raise Corrupt(f"unknown token {tok:#x} at {pos - 4:#x}")
    if root is None:
        raise Corrupt("empty device tree")
    return root


def _u32(blob: Blob, prop: tuple[int, int] | None) -> int | None:
    if prop is None or prop[1] != 4:
        return None
    return int(blob.unpack(">I", prop[0])[0])


def _images(root: Node) -> Node | None:
    return next((c for c in root.children if c.name == "images"), None)


def is_fit(head: bytes) -> bool:
    """A FIT names an `images` node early in its structure block (within the head)."""
    hdr = header(head)
    return hdr is not None and b"images\x00" in head[hdr[1] : hdr[1] + 512]


def detect_fit(head: bytes, name: str) -> bool:
    return is_fit(head)


def extract_fit(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        root = parse(blob)
        images = _images(root)
        if images is None:
            raise Corrupt("FIT without an /images node")
        total = header(blob.read(0, 40))[0]  # type: ignore[index]  # parse() validated it
        ext_base = (total + 3) & ~3  # data-offset is relative to the end of the FIT
        names = Namer()
        for img in images.children:
            label = ascii_name(img.name.encode(), "image")
            for off, n in _payloads(blob, img, ext_base, out, label):
                put(out, names(label + ".bin"), blob, off, n)
        trailer(out, blob, max([total, *(o + n for _, (o, n) in _all_external(blob, images,
                                                                              ext_base))]))


def _payloads(
    blob: Blob, img: Node, ext_base: int, out: SafeRoot, label: str
) -> Iterator[tuple[int, int]]:
    if "data" in img.props:
        yield img.props["data"]
        return
    size = _u32(blob, img.props.get("data-size"))
    offset = _u32(blob, img.props.get("data-offset"))
    position = _u32(blob, img.props.get("data-position"))
    if size is None or (offset is None and position is None):
        out.problem("image node without data", ProblemKind.CORRUPT, label)
        return
    yield (position if position is not None else ext_base + (offset or 0)), size


def _all_external(blob: Blob, images: Node, ext_base: int) -> Iterator[tuple[str, tuple[int,
                                                                                      int]]]:
    for img in images.children:
        if "data" in img.props:
            continue
        size = _u32(blob, img.props.get("data-size"))
        offset = _u32(blob, img.props.get("data-offset"))
        position = _u32(blob, img.props.get("data-position"))
        if size is not None and (offset is not None or position is not None):
            start = position if position is not None else ext_base + (offset or 0)
            if blob.has(start, size):
                yield img.name, (start, size)


FIT = Format("fit", "U-Boot FIT image: each /images payload (hand-written FDT walker)",
             detect_fit, extract_fit)

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FIT,)
ORDER = 20
