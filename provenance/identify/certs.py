"""X.509 certificates: PEM and DER embedded anywhere in a blob, and the subject/issuer facts
every signature reader (PE, APK, JAR, Mach-O) shares. Parsing is `cryptography`'s; the scan that
finds candidates is bounded in bytes looked at, attempts and certificates kept."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

from provenance.identify.base import Sink, at, mapped

MAX_CERTS = 50
MAX_ATTEMPTS = 200  # DER candidates tried per blob: "30 82 .. .. 30 82" also occurs by chance
MAX_DER = 64 << 10

PEM = re.compile(
    rb"-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----([A-Za-z0-9+/=\s]{64,65536}?)"
    rb"-----END (?:TRUSTED |X509 )?CERTIFICATE-----"
)
DER = re.compile(rb"\x30\x82(..)\x30\x82", re.DOTALL)
# literals without which a pass finds nothing, as YARA strings (`identify.anchors`)
ANCHORS = {"pem": ('"-----BEGIN "',), "der": ("{ 30 82 ?? ?? 30 82 }",)}
NAME_KEYS = {"O": "2.5.4.10", "CN": "2.5.4.3", "C": "2.5.4.6", "OU": "2.5.4.11"}


def load_der(data: bytes) -> Any | None:
    """A certificate from DER bytes, or None when they are not one."""
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(data)
    except Exception:  # hostile input: any parse failure means "not a certificate"
        return None


def _name_parts(name: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for short, oid in NAME_KEYS.items():
        for attr in name:
            if attr.oid.dotted_string == oid and short not in out:
                out[short] = str(attr.value)
    return out


def _rfc4514(name: Any) -> str:
    try:
        return str(name.rfc4514_string())
    except Exception:  # undecodable attribute values
        return ""


def cert_facts(sink: Sink, prefix: str, cert: Any, where: str, subject_key: str = "subject",
               issuer_key: str = "issuer") -> None:
    """`<prefix>.<subject_key>[.O|CN|C|OU]`, issuer likewise, serial, validity, SHA-256."""
    from cryptography.hazmat.primitives import hashes

    for key, name in ((subject_key, "subject"), (issuer_key, "issuer")):
        try:
            value = getattr(cert, name)
        except Exception as exc:  # a malformed Name is still worth reporting as a problem
            sink.problem(f"certificate {name}: {exc}")
            continue
        sink.add(f"{prefix}.{key}", _rfc4514(value), where)
        for short, text in _name_parts(value).items():
            sink.add(f"{prefix}.{key}.{short}", text, where)
    own = prefix if subject_key == "subject" else f"{prefix}.{subject_key}"
    try:
        sink.add(f"{own}.serial", format(cert.serial_number, "x"), where)
        sink.add(f"{own}.not_before", cert.not_valid_before_utc.isoformat(), where)
        sink.add(f"{own}.not_after", cert.not_valid_after_utc.isoformat(), where)
        sink.add(f"{own}.sha256", cert.fingerprint(hashes.SHA256()).hex(), where)
    except Exception as exc:  # odd serials and dates outside datetime's range
        sink.problem(f"certificate fields: {exc}")


def pkcs7_certs(der: bytes) -> list[Any]:
    """Certificates carried in a PKCS#7/CMS SignedData (APK v1, JAR, Mach-O CMS blob)."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        return list(pkcs7.load_der_pkcs7_certificates(der))
    except Exception:  # not PKCS#7, or no certificates in it
        return []


def scan(data: bytes | Any, sink: Sink, present: frozenset[str] | None = None) -> int:
    """Embedded certificates in `data` as `cert.*` facts at their offsets; returns how many.
    `present`: the anchors `data` holds (`identify.anchors`), when known."""
    found = 0
    seen: set[bytes] = set()
    pems = PEM.finditer(data) if present is None or "pem" in present else ()
    for match in pems:
        if found >= MAX_CERTS:
            return found
        try:
            der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
        except (binascii.Error, ValueError):
            sink.problem(f"PEM certificate at 0x{match.start():x}: bad base64")
            continue
        cert = load_der(der)
        if cert is None:
            sink.problem(f"PEM certificate at 0x{match.start():x}: not a valid X.509 certificate")
        elif der not in seen:
            seen.add(der)
            cert_facts(sink, "cert", cert, at(match.start()))
            found += 1
    attempts = 0
    pos = 0
    ders = present is None or "der" in present
    while ders and found < MAX_CERTS and attempts < MAX_ATTEMPTS:
        der_match = DER.search(data, pos)
        if der_match is None:
            break
        match = der_match
        pos = match.start() + 1
        length = int.from_bytes(match.group(1), "big") + 4
        if length < 200 or length > MAX_DER or match.start() + length > len(data):
            continue
        attempts += 1
        der = bytes(data[match.start() : match.start() + length])
        if der in seen:
            continue
        cert = load_der(der)
        if cert is not None:
            seen.add(der)
            cert_facts(sink, "cert", cert, at(match.start()))
            found += 1
            pos = match.start() + length
    return found


def read_blob(path: Path, sink: Sink) -> int:
    with mapped(path) as data:
        return scan(data, sink)
