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

import importlib
import pkgutil
from collections.abc import Sequence
from types import ModuleType

from provenance.extract.base import Format
from provenance.extract.firmware._container import Container


def registered(path: Sequence[str], package: str) -> list[ModuleType]:
    """Every public module of a package that declares formats, by its ORDER."""
    found: dict[int, ModuleType] = {}
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if not hasattr(module, "FORMATS"):
            continue
        order = getattr(module, "ORDER", None)
        if not isinstance(order, int):
            raise TypeError(f"{module.__name__} declares FORMATS but no integer ORDER")
        if order in found:  # the order must never fall back to file names
            raise ValueError(f"{module.__name__} and {found[order].__name__} share ORDER {order}")
        found[order] = module
    return [found[k] for k in sorted(found)]


FORMATS: tuple[Format, ...] = tuple(f for m in registered(__path__, __name__)
                                    for f in m.FORMATS)

# formats whose header identification reads (identify/fwheaders.py), in detection order
CONTAINERS: tuple[Container, ...] = tuple(f for f in FORMATS if isinstance(f, Container))
