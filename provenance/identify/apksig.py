"""The APK Signing Block (v2/v3/v3.1 schemes): signer certificates, read without verifying.

Layout (source.android.com/docs/security/features/apksigning/v2): before the zip central
directory, `u64 size, (u64 len, u32 id, value)*, u64 size, "APK Sig Block 42"`.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

MAGIC = b"APK Sig Block 42"
SCHEMES = {0x7109871A: "v2", 0xF05368C0: "v3", 0x1B93AD61: "v3.1"}
MAX_BLOCK = 16 << 20
MAX_CERTS = 20


def _lp(data: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(data):
        raise ValueError("length prefix truncated")
    (n,) = struct.unpack_from("<I", data, pos)
    if n > len(data) - pos - 4:
        raise ValueError("length-prefixed value beyond its container")
    return data[pos + 4 : pos + 4 + n], pos + 4 + n


def _sequence(data: bytes, limit: int = 64) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    while pos < len(data) and len(out) < limit:
        item, pos = _lp(data, pos)
        out.append(item)
    return out


def block(f: BinaryIO, size: int) -> bytes | None:
    """The signing block's pairs area, located via the end-of-central-directory record."""
    tail = min(size, 65_557)
    f.seek(size - tail)
    end = f.read(tail)
    eocd = end.rfind(b"PK\x05\x06")
    if eocd < 0 or eocd + 20 > len(end):
        return None
    (cd_offset,) = struct.unpack_from("<I", end, eocd + 16)
    if cd_offset < 32 or cd_offset > size:
        return None
    f.seek(cd_offset - 24)
    footer = f.read(24)
    if footer[8:] != MAGIC:
        return None
    (block_size,) = struct.unpack_from("<Q", footer, 0)
    if block_size > MAX_BLOCK or block_size + 8 > cd_offset:
        raise ValueError("APK signing block size out of range")
    f.seek(cd_offset - block_size - 8 + 8)
    return f.read(block_size - 24)


def signer_certs(pairs: bytes) -> list[tuple[str, bytes]]:
    """(scheme, DER certificate) for each signer of each known scheme."""
    out: list[tuple[str, bytes]] = []
    pos = 0
    while pos + 12 <= len(pairs) and len(out) < MAX_CERTS:
        length, pair_id = struct.unpack_from("<QI", pairs, pos)
        if length < 4 or length > len(pairs) - pos - 8:
            raise ValueError("signing block pair length out of range")
        value = pairs[pos + 12 : pos + 8 + length]
        pos += 8 + length
        scheme = SCHEMES.get(pair_id)
        if scheme is None:
            continue
        signers, _ = _lp(value, 0)
        for signer in _sequence(signers):
            signed_data, _ = _lp(signer, 0)
            _digests, at = _lp(signed_data, 0)
            certs, _ = _lp(signed_data, at)
            out.extend((scheme, cert) for cert in _sequence(certs, MAX_CERTS))
    return out
