"""Boot, firmware and vendor containers, and carving of raw flash dumps (hand-written parsers).

Each module registers itself: it declares `FORMATS` (its formats, in its own order) and `ORDER`
(its place in detection, lower first), and the package finds it (as unblob finds its handlers).
A new container is its module and its test; nothing else lists it.

Order matters (first detector wins), so it is explicit and every `ORDER` is distinct: structured
headers with strong checks first (below 100), the vendor containers next (100-199), the text
formats after them (200-299), and `flash` last of all (1000) since it accepts any binary head
that nothing else claimed.

The formats that are `Container`s (see `_container.py`) also read their own header for the
identify stage, with the same validator that decides whether they are unpacked; a vendor's
container declares its vendor there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from provenance.extract.base import Format, by_order
from provenance.extract.firmware._container import Container


def registered(path: Sequence[str], package: str) -> list[ModuleType]:
    """Every public module of a package that declares formats, by its ORDER."""
    return by_order(path, package, "FORMATS")


FORMATS: tuple[Format, ...] = tuple(f for m in registered(__path__, __name__)
                                    for f in m.FORMATS)

# formats whose header identification reads (identify/fwheaders.py), in detection order
CONTAINERS: tuple[Container, ...] = tuple(f for f in FORMATS if isinstance(f, Container))
