"""The samples of each rule, and running the rule set over them (`provenance signatures test`).

A rule's samples are specified beside it: `yara/<vendor>/<rule>.samples.yml` maps each sample
name (`positive-*`, `negative-*`) to the parts its bytes are built from. The spec is data, not
code, so a user's `--signatures DIR` can carry one too, and building it is bounded. Samples are
synthetic (written by the rule author from a cited layout), never bytes copied from a product.
A directory may instead keep ready files in `DIR/samples/<rule>/positive-*.bin`, `negative-*.bin`.
A `negative-falsefriend-*` sample encodes a false friend (catalog §6): no rule at all may fire.

Parts (a sample is one part; a list is the concatenation of its parts):
  "text"                     UTF-8 bytes of the string (use `hex` for other bytes)
  {hex: "55aa 5aa5"}         bytes in hex, blanks ignored
  {wide: "text"}             UTF-16LE
  {zeros: N}                 N zero bytes
  {filler: [N, SEED]}        N deterministic pseudo-random bytes (an LCG), so not all zeros
  {pack: [FMT, INT, ...]}    struct.pack, e.g. ["<II", 102, 1]
  {pad: [N, PART]}           PART padded with zeros to N bytes (never cut)
  {repeat: [N, PART]}        PART N times
  {cstrings: [PART, ...]}    each part NUL-terminated
  {elf: [PART, ...]}         a minimal ELF32 LE header, then the parts as C strings
  {pe: [PART, ...]}          a minimal PE header (MZ, e_lfanew 0x40, PE\\0\\0), then C strings
  {cert: [NAME, ...]}        a certificate-shaped blob: each name as a DER X.509 Name (O=NAME)
  {xor16: [KEYHEX, PART]}    PART obfuscated with a 16-byte key, the Hikvision digicap schedule
YAML anchors (`&head`, `*head`) share parts between the samples of one file.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from provenance.signatureset import (
    SAFE_LOADER,
    SAMPLE_SPEC_SUFFIX,
    Rule,
    SignatureSet,
    builtin_dir,
)
from provenance.signatureset.compile import compile_yara

MAX_SAMPLE_BYTES = 64 * 1024
MAX_SPEC_PARTS = 10_000  # bounds the work an aliased (billion-laughs) spec can ask for

SAMPLE_NAME = re.compile(r"^(positive|negative)-[\w.-]+$")


class SpecError(ValueError):
    """A sample specification cannot be built."""


@dataclass(frozen=True, slots=True)
class Sample:
    rule: str
    name: str  # positive-<what>.bin or negative-<what>.bin, as written to disk
    data: bytes
    origin: Path  # the spec file or the sample file it comes from

    @property
    def positive(self) -> bool:
        return self.name.startswith("positive-")


@dataclass(frozen=True, slots=True)
class SampleResult:
    rule: str
    sample: Sample
    fired: tuple[str, ...]  # every rule of the set that fired on it

    @property
    def expected(self) -> bool:  # True for a positive sample
        return self.sample.positive

    @property
    def ok(self) -> bool:
        if self.expected:
            return self.rule in self.fired
        if self.sample.name.startswith("negative-falsefriend-"):
            return not self.fired
        return self.rule not in self.fired


# -- building a spec ---------------------------------------------------------------------------


def filler(n: int, seed: int = 1) -> bytes:
    """Deterministic pseudo-random bytes (an LCG), so samples are not all zeros."""
    out = bytearray()
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


def cstrings(items: Iterable[bytes]) -> bytes:
    return b"\0".join(items) + b"\0"


def elf(items: Iterable[bytes]) -> bytes:
    head = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HHI", 1, 40, 1)
    return head.ljust(52, b"\0") + cstrings(items)


def pe(items: Iterable[bytes]) -> bytes:
    mz = bytearray(b"MZ" + bytes(0x3E))
    mz[0x3C:0x40] = struct.pack("<I", 0x40)
    return bytes(mz) + b"PE\0\0" + struct.pack("<HH", 0x8664, 1) + bytes(0xF4) + cstrings(items)


def _der_name(name: bytes) -> bytes:
    """An X.509 Name with one O attribute as DER: SEQ { SET { SEQ { OID 2.5.4.10, UTF8 } } }."""
    if len(name) > 100:  # short-form DER lengths only
        raise SpecError("a cert name is at most 100 bytes")
    atv = b"\x06\x03\x55\x04\x0a" + bytes([0x0C, len(name)]) + name
    seq = b"\x30" + bytes([len(atv)]) + atv
    rdn = b"\x31" + bytes([len(seq)]) + seq
    return b"\x30" + bytes([len(rdn)]) + rdn


def cert(names: Iterable[bytes]) -> bytes:
    return b"\x30\x82\x01\x00" + b"".join(_der_name(n) for n in names) + filler(32, 7)


def xor16(key: bytes, data: bytes) -> bytes:
    if len(key) != 16:
        raise SpecError("xor16 needs a 16-byte key")
    return bytes(b ^ key[(i + (i >> 4)) & 0xF] for i, b in enumerate(data))


class _Builder:
    def __init__(self) -> None:
        self.parts = 0

    def bytes_of(self, part: Any) -> bytes:
        self.parts += 1
        if self.parts > MAX_SPEC_PARTS:
            raise SpecError(f"more than {MAX_SPEC_PARTS} parts")
        if isinstance(part, str):
            out = part.encode("utf-8")
        elif isinstance(part, list):
            out = b"".join(self._items(part))
        elif isinstance(part, dict) and len(part) == 1:
            ((op, arg),) = part.items()
            fn = self._ops().get(str(op))
            if fn is None:
                raise SpecError(f"unknown part {op!r}")
            out = fn(arg)
        else:
            raise SpecError(f"a part is a string, a list or a one-key mapping, not {part!r}")
        return self._sized(out)

    @staticmethod
    def _sized(data: bytes) -> bytes:
        if len(data) > MAX_SAMPLE_BYTES:
            raise SpecError(f"a sample must stay under {MAX_SAMPLE_BYTES} bytes")
        return data

    def _ops(self) -> dict[str, Callable[[Any], bytes]]:
        return {
            "hex": _hex,
            "wide": lambda a: _text(a).encode("utf-16-le"),
            "zeros": lambda a: bytes(_count(a)),
            "filler": self._filler,
            "pack": self._pack,
            "pad": self._pad,
            "repeat": self._repeat,
            "cstrings": lambda a: cstrings(self._items(a)),
            "elf": lambda a: elf(self._items(a)),
            "pe": lambda a: pe(self._items(a)),
            "cert": lambda a: cert(self._items(a)),
            "xor16": lambda a: xor16(_hex(_pair(a)[0]), self.bytes_of(_pair(a)[1])),
        }

    def _filler(self, arg: Any) -> bytes:
        n, seed = _ints(arg, 2)
        return filler(_count(n), seed)

    def _pad(self, arg: Any) -> bytes:
        n, part = _pair(arg)
        return self.bytes_of(part).ljust(_count(n), b"\0")

    def _repeat(self, arg: Any) -> bytes:
        n, part = _pair(arg)
        data = self.bytes_of(part)
        if len(data) * _count(n) > MAX_SAMPLE_BYTES:  # checked before the bytes exist
            raise SpecError(f"a sample must stay under {MAX_SAMPLE_BYTES} bytes")
        return data * n

    def _items(self, arg: Any) -> list[bytes]:
        """The parts of a list, their total bounded as it grows (not only once joined)."""
        if not isinstance(arg, list):
            raise SpecError(f"expected a list of parts, not {arg!r}")
        out, total = [], 0
        for part in arg:
            out.append(self.bytes_of(part))
            total += len(out[-1])
            if total > MAX_SAMPLE_BYTES:
                raise SpecError(f"a sample must stay under {MAX_SAMPLE_BYTES} bytes")
        return out

    def _pack(self, arg: Any) -> bytes:
        if not isinstance(arg, list) or not arg or not isinstance(arg[0], str):
            raise SpecError(f"pack takes [FORMAT, INT, ...], not {arg!r}")
        try:
            if struct.calcsize(arg[0]) > MAX_SAMPLE_BYTES:
                raise SpecError(f"pack format {arg[0]!r} is too large")
            return struct.pack(arg[0], *_ints(arg[1:], len(arg) - 1))
        except struct.error as exc:
            raise SpecError(f"pack {arg!r}: {exc}") from None


def _text(arg: Any) -> str:
    if not isinstance(arg, str):
        raise SpecError(f"expected a string, not {arg!r} (quote it)")
    return arg


def _hex(arg: Any) -> bytes:
    try:
        return bytes.fromhex("".join(_text(arg).split()))
    except ValueError:
        raise SpecError(f"not hex: {arg!r}") from None


def _count(arg: Any) -> int:
    if isinstance(arg, bool) or not isinstance(arg, int) or not 0 <= arg <= MAX_SAMPLE_BYTES:
        raise SpecError(f"expected a count up to {MAX_SAMPLE_BYTES}, not {arg!r}")
    return arg


def _ints(arg: Any, n: int) -> list[int]:
    if not isinstance(arg, list) or len(arg) != n:
        raise SpecError(f"expected {n} integers, not {arg!r}")
    if any(isinstance(v, bool) or not isinstance(v, int) for v in arg):
        raise SpecError(f"expected integers, not {arg!r}")
    return arg


def _pair(arg: Any) -> tuple[Any, Any]:
    if not isinstance(arg, list) or len(arg) != 2:
        raise SpecError(f"expected [N, PART], not {arg!r}")
    return arg[0], arg[1]


def build_spec(path: Path, rule_id: str) -> list[Sample]:
    """Every sample of one spec file. Raises `SpecError` naming the file and the sample."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping of sample name to parts")
    samples = []
    for name, part in data.items():
        try:
            samples.append(Sample(rule_id, f"{name}.bin", _Builder().bytes_of(part), path))
        except SpecError as exc:
            raise SpecError(f"{path}: {name}: {exc}") from None
    return samples


# -- finding a rule's samples ------------------------------------------------------------------


def spec_path(rule: Rule) -> Path:
    """Where a rule's sample specification sits: beside the rule file."""
    return rule.path.with_name(rule.id + SAMPLE_SPEC_SUFFIX)


def top_of(sigset: SignatureSet, rule: Rule) -> Path | None:
    """The signature directory (built-in or `--signatures DIR`) that holds `rule`."""
    for top in sigset.directories:
        if rule.path.resolve().is_relative_to(top.resolve()):
            return top
    return None


def sample_dir(sigset: SignatureSet, rule: Rule) -> Path | None:
    """`DIR/samples/<rule>/`, ready sample files of a user directory, if there is one."""
    top = top_of(sigset, rule)
    folder = top / "samples" / rule.id if top is not None else None
    return folder if folder is not None and folder.is_dir() else None


def sample_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("positive-*.bin")) + sorted(folder.glob("negative-*.bin"))


def _read(path: Path) -> bytes:
    with path.open("rb") as f:  # bounded: lint reports a file over the limit by its size
        return f.read(MAX_SAMPLE_BYTES + 1)


def samples_of(sigset: SignatureSet, rule: Rule) -> list[Sample]:
    """The rule's samples, positives first, each group by name. Raises `SpecError`."""
    found = []
    if spec_path(rule).is_file():
        found += build_spec(spec_path(rule), rule.id)
    folder = sample_dir(sigset, rule)
    if folder is not None:
        found += [Sample(rule.id, p.name, _read(p), p) for p in sample_files(folder)]
    return sorted(found, key=lambda s: (not s.positive, s.name))


def compiled_rules(sigset: SignatureSet) -> Any:
    """The rule files alone, without the marks: a sample tests its own rule set."""
    return compile_yara({r.id: r.path.read_text(encoding="utf-8") for r in sigset.rules})


def run(compiled: Any, samples: Iterable[Sample]) -> list[SampleResult]:
    return [SampleResult(s.rule, s, tuple(sorted({m.rule for m in compiled.match(data=s.data)})))
            for s in samples]


def test_rules(sigset: SignatureSet) -> list[SampleResult]:
    """Run the whole rule set over every rule's samples. Raises `SpecError`, `yara.Error`."""
    if not sigset.rules:
        return []
    compiled = compiled_rules(sigset)
    return run(compiled, (s for rule in sigset.rules for s in samples_of(sigset, rule)))


test_rules.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def write(sigset: SignatureSet, out: Path) -> list[Path]:
    """Write the samples built from the specs of the built-in rules as
    `out/<rule>/<name>.bin` (`samples/signatures/` of the source tree keeps such a copy)."""
    written = []
    builtin = builtin_dir().resolve()
    for rule in sigset.rules:
        if not rule.path.resolve().is_relative_to(builtin) or not spec_path(rule).is_file():
            continue
        folder = out / rule.id
        folder.mkdir(parents=True, exist_ok=True)
        for sample in build_spec(spec_path(rule), rule.id):
            if not SAMPLE_NAME.match(sample.name.removesuffix(".bin")):  # also keeps it in folder
                raise SpecError(f"{sample.origin}: {sample.name}: not positive-* or negative-*")
            path = folder / sample.name
            path.write_bytes(sample.data)
            path.chmod(0o644)
            written.append(path)
    return written
