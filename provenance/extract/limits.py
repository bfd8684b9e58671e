"""Central extraction limits: every hostile-input bound in one place, with sane defaults."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 12  # containers nested inside containers
    max_files: int = 200_000  # files written in the whole scan
    max_total_bytes: int = 16 * GiB  # bytes written in the whole scan
    max_member_bytes: int = 4 * GiB  # one extracted file
    max_ratio: float = 250.0  # bytes out of one member / its container's size (zip bombs)
    ratio_floor: int = 64 * MiB  # the ratio is only enforced past this many bytes
    seconds_per_format: float = 600.0  # one container's extraction


class LimitExceeded(Exception):
    """A limit was hit: the branch stops, a Problem is recorded, the scan goes on."""


@dataclass(slots=True)
class Budget:
    """What the whole scan has used so far; shared by every SafeRoot of one scan."""

    limits: Limits
    files: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.monotonic)

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise LimitExceeded(f"file count limit ({self.limits.max_files}) reached")
