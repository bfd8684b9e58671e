"""Fuzzing the hand-written firmware parsers and the carver (hypothesis).

Inputs are valid fixtures with random byte edits, truncations and splices, plus random bytes
behind each magic. For each input: the parser raises nothing but its own "unusable container"
errors, nothing is written outside the extraction root, output stays within the limits, and
`extract()` (the walker) never raises. Set FIRMWARE_FUZZ_EXAMPLES for a longer campaign.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import firmware_fixtures as fx
import pytest
from format_cases import Positive, declared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.extract import extract
from provenance.extract.base import FormatProblem
from provenance.extract.firmware import FORMATS
from provenance.extract.limits import Budget, LimitExceeded, Limits
from provenance.extract.saferoot import SafeRoot

EXAMPLES = int(os.environ.get("FIRMWARE_FUZZ_EXAMPLES", "40"))
LIMITS = Limits(max_files=2000, max_total_bytes=64 << 20, max_member_bytes=32 << 20,
                max_ratio=250.0, ratio_floor=8 << 20, seconds_per_format=10.0)
BY_NAME = {f.name: f for f in FORMATS}


def _flash() -> tuple[bytes, dict[str, bytes]]:
    kernel = fx.uimage(fx.blob(1, 3000))
    image = bytearray(b"\xff" * 0x6000)
    image[:0x800] = fx.bootloader(0x800)
    image[0x1000 : 0x1000 + len(kernel)] = kernel
    gz = fx.gzip.compress(b"a" * 5000, mtime=0)
    image[0x4000 : 0x4000 + len(gz)] = gz
    return bytes(image), {}


SEEDS: dict[str, list[Callable[[], tuple[bytes, dict[str, bytes]]]]] = {
    "uimage": [fx.uimage_single, fx.uimage_multi],
    "fit": [fx.fit, fx.fit_external],
    "trx": [fx.trx],
    "android-boot": [lambda: fx.android_boot(2), lambda: fx.android_boot(4)],
    "android-sparse": [fx.android_sparse],
    "ihex": [fx.ihex],
    "srec": [fx.srec],
    "zimage": [fx.zimage_arm, fx.bzimage],
    "uefi-fv": [fx.uefi_fv],
    "uefi-capsule": [fx.uefi_capsule, fx.uefi_fmp_capsule],
    "huawei-update-app": [fx.update_app],
    "huawei-hwnp": [fx.hwnp],
    "hikvision-dav": [fx.digicap],
    "dahua-dhzip": [fx.dahua],
    "zte-config": [fx.zte_config, lambda: fx.zte_config(1, header=False)],
    "flash": [_flash],
}
# a container whose own test module declares its positive (FORMAT_CASES) is fuzzed from it
SEEDS |= {fmt: [positive.seed] for fmt, (positive, _) in declared("FORMAT_CASES").items()
          if isinstance(positive, Positive) and positive.seed is not None and fmt not in SEEDS}
# what a parser may raise to say "this container is unusable"; anything else is a bug
EXPECTED: tuple[type[BaseException], ...] = (FormatProblem, LimitExceeded)
EXPECTED_BY_FORMAT: dict[str, tuple[type[BaseException], ...]] = {
    "dahua-dhzip": (zipfile.BadZipFile, zipfile.LargeZipFile),  # raised by the stdlib reader
}


@st.composite
def mutated(draw: st.DrawFn, fmt: str) -> bytes:
    seed = draw(st.sampled_from(SEEDS[fmt]))
    data = bytearray(seed()[0])
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["set", "u32", "cut", "splice"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "u32":
            value = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0xFFFF,
                                          len(data), len(data) + 1]))
            data[pos : pos + 4] = value.to_bytes(4, draw(st.sampled_from(["little", "big"])))
        elif op == "cut":
            del data[pos:]
        else:
            data[pos:pos] = draw(st.binary(max_size=64))
    if draw(st.booleans()) and len(data) > 8:  # sometimes keep only the magic
        data = data[:8] + bytearray(draw(st.binary(max_size=512)))
    return bytes(data)


def check(fmt: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = base / "input.bin"
        src.write_bytes(data)
        root = SafeRoot(base / "out", Budget(LIMITS), "input.bin", len(data))
        try:
            BY_NAME[fmt].extract(src, root)
        except EXPECTED + EXPECTED_BY_FORMAT.get(fmt, ()):
            pass
        assert root.written <= LIMITS.max_total_bytes
        outside = {p for p in base.rglob("*") if p != src and base / "out" not in (p, *p.parents)}
        assert not outside, outside
        # the whole walker: never raises, whatever nests inside
        artifact, _ = extract(src, base / "work", LIMITS)
        assert artifact.chain == ("input.bin",)
        outside = {p for p in base.rglob("*")
                   if p != src and not any(d in (p, *p.parents) for d in (base / "out",
                                                                           base / "work"))}
        assert not outside, outside


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_fuzz(fmt: str, data: st.DataObject) -> None:
    check(fmt, data.draw(mutated(fmt)))


def test_every_parser_is_fuzzed() -> None:
    assert set(SEEDS) == set(BY_NAME)
