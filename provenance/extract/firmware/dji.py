"""DJI signed firmware module `IM*H` (the `.sig` files inside a DJI firmware package).

Layout, as read and written by dji-firmware-tools' `dji_imah_fwsig.py` (ImgPkgHeader,
ImgChunkHeader, imah_unsign/imah_sign), all little-endian:
- a 192-byte header: magic `IM*H`, header version (0, 1 or 2: the 2016, 2017 and 2018 formats),
  size, header_size (192 + 32 per chunk), signature_size (a 2048-bit RSA signature: 256),
  payload_size, target_size (header + signature + payload), auth and encryption key ids (four
  characters each), the module name, version, BCD date, chunk count, and the SHA-256 of the
  payload at 160;
- one 32-byte header per chunk: four-character id, offset (from the payload start), size,
  attributes (bit 0: stored in plain), load address;
- the signature, then the payload.

A plain chunk (or every chunk of an image with no encryption key) is unpacked as `<id>.bin`. An
encrypted chunk stays opaque with a Problem: keys are never guessed or shipped. The header sizes
must agree with each other before a blob is taken for IM*H, and the payload digest must match
before it is said to be DJI's.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import NamedTuple

from provenance.extract.base import Encrypted
from provenance.extract.firmware._container import Container, FactSink, Header, at
from provenance.extract.firmware._io import Blob, Corrupt, Namer, ascii_name, put, trailer
from provenance.extract.saferoot import SafeRoot
from provenance.model import ProblemKind

MAGIC = b"IM*H"
HEADER = 192
CHUNK = 32
SIGNATURE = 256
MAX_CHUNKS = 64
_HEAD = struct.Struct("<4s7I4BI4s4s16s32s4sII")  # up to `date` (offset 108)
_CHUNK = struct.Struct("<4sIIIQ8x")


class _Head(NamedTuple):
    version: int  # 0, 1, 2: the 2016, 2017, 2018 formats
    chunks: int
    payload: int  # where the payload starts: after the chunk headers and the signature
    payload_size: int
    end: int  # target_size: header, signature and payload
    auth_key: bytes
    enc_key: bytes  # empty: nothing is encrypted
    name: bytes
    module_version: int
    date: int  # BCD 0xYYYYMMDD


def _fields(head: bytes) -> _Head | None:
    """The header, when its sizes agree with each other as the signer writes them."""
    if len(head) < HEADER or not head.startswith(MAGIC):
        return None
    (_, version, size, _, header_size, signature_size, payload_size, target_size, _, _, _, _,
     _, auth_key, enc_key, _, name, _, module_version, date) = _HEAD.unpack_from(head)
    chunks = struct.unpack_from("<I", head, 156)[0]
    if (version > 2 or not 0 < chunks <= MAX_CHUNKS or header_size != HEADER + CHUNK * chunks
            or signature_size != SIGNATURE
            or target_size != header_size + signature_size + payload_size
            or size != target_size):
        return None
    return _Head(version, chunks, header_size + signature_size, payload_size, target_size,
                 auth_key.rstrip(b"\0"), enc_key.rstrip(b"\0"), name.split(b"\0", 1)[0],
                 module_version, date)


def detect(head: bytes, name: str) -> bool:
    return _fields(head) is not None


def _digest_ok(blob: Blob, start: int, n: int) -> bool:
    """Whether the payload's SHA-256 is the one the header declares (streamed)."""
    digest = hashlib.sha256()
    for p in range(start, start + n, 1 << 20):
        digest.update(blob.mm[p : min(start + n, p + (1 << 20))])
    return digest.digest() == blob.read(160, 32)


def extract(src: Path, out: SafeRoot) -> None:
    with Blob(src) as blob:
        h = _fields(blob.read(0, min(blob.size, HEADER)))
        if h is None:
            raise Corrupt("bad IM*H header")
        if not blob.has(0, h.end):
            raise Corrupt("the payload runs past the end of the file")
        if not _digest_ok(blob, h.payload, h.payload_size):
            out.problem("payload SHA-256 does not match the header", ProblemKind.CORRUPT)
        names = Namer()
        plain = 0
        encrypted: list[str] = []
        for i in range(h.chunks):
            cid, off, n, attrib, _ = _CHUNK.unpack_from(blob.read(HEADER + CHUNK * i, CHUNK))
            if n == 0:
                continue  # an empty slot ("0" in the signer's module list)
            label = names(ascii_name(cid, f"chunk{i}") + ".bin")
            if off + n > h.payload_size:
                out.problem(f"chunk at {off:#x}+{n:#x} outside the payload", ProblemKind.CORRUPT,
                            label)
            elif attrib & 1 or not h.enc_key:
                put(out, label, blob, h.payload + off, n)
                plain += 1
            else:
                encrypted.append(label)
        how = f"encrypted with key {h.enc_key.decode('ascii', 'replace')!r} (not decrypted)"
        if encrypted and not plain:
            raise Encrypted(f"every chunk is {how}")
        for label in encrypted:
            out.problem(how, ProblemKind.ENCRYPTED, label)
        trailer(out, blob, h.end)


def _date(bcd: int) -> str:
    text = f"{bcd:08x}"
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if text.isdigit() else ""


def header(src: Path, sink: FactSink) -> Header:
    """The module's name, version, date, format and key ids (`detect` accepted the head). It is
    DJI's when the payload is whole and its digest is the declared one."""
    with Blob(src) as blob:
        h = _fields(blob.read(0, min(blob.size, HEADER)))
        if h is None:
            return Header(own=False)
        own = blob.has(0, h.end) and _digest_ok(blob, h.payload, h.payload_size)
    v = h.module_version
    sink.add("dji.name", h.name, at(64))
    sink.add("dji.version", ".".join(f"{v >> s & 0xFF:02d}" for s in (24, 16, 8, 0)), at(100))
    sink.add("dji.date", _date(h.date), at(104))
    sink.add("dji.format", str(2016 + h.version), at(4))
    sink.add("dji.enc_key", h.enc_key, at(44))
    sink.add("dji.auth_key", h.auth_key, at(40))
    return Header(name=h.name.decode("ascii", "replace") or None, own=own)


FORMAT = Container("dji-imah", "DJI IM*H signed firmware module: plain chunks (encrypted ones "
                   "opaque)", detect, extract, header=header, vendor="dji",
                   source="dji_fwtools",
                   facts=(("`dji.name` / `.version` / `.date` / `.format` / `.enc_key` / "
                           "`.auth_key`",
                           "DJI IM*H module header: module name, version, BCD date, format year "
                           "and key ids",
                           "`01.04.05.00`"),))

# the registry (firmware/__init__.py): this module's formats, and their place in detection
FORMATS = (FORMAT,)
ORDER = 140
