"""Compact, lossless JSON for what the result cache keeps: one blob's analysis, one whole scan.

Both are zlib-compressed JSON holding dataclasses as lists in field order, not objects (written
by ISA-L's deflate, `isal_zlib`: 4 times zlib's speed at level 1, and smaller; a standard zlib
stream, read back by `zlib`). The codec
knows only `model` and the YARA hit types, never the report stage: a cached scan is the native
`ScanResult`, facts included, so whatever a report or `--facts` needs comes back from the cache.

- A blob (`dump_blob`/`load_blob`): facts, hits and problems, with every location that starts
  with the blob's path chain stored relative to it (a one-element list holding the rest,
  "#field", "@0x10") and rebased on load, so one entry serves the same blob wherever it sits.
- A scan (`dump_scan`/`load_scan`): the whole `ScanResult`, by its dataclass fields' types, so a
  field added to the model is carried without editing this module.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import types
import typing
import zlib
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

import orjson
from isal import isal_zlib

from provenance.attribute.yara_scan import Hit, StringMatch
from provenance.model import Component, Fact, Facts, Problem, ProblemKind, ScanResult, Stage

# -- one blob -------------------------------------------------------------------------------------

# A path chain can hold an undecodable byte of a member name (a lone surrogate, PEP 383): it
# goes through as such, so the cached value equals the original.
TEXT_ERRORS = "surrogatepass"


def _loc_out(location: str, base: str) -> str | list[str]:
    if base and location.startswith(base):
        return [location[len(base):]]
    return location


def _loc_in(value: str | list[str], base: str) -> str:
    return value if isinstance(value, str) else base + value[0]


def dump_blob(facts: Facts, hits: tuple[Hit, ...], problems: tuple[Problem, ...],
              base: str) -> bytes:
    """One blob's facts, hits and problems -> compressed JSON, locations relative to `base`."""
    f = facts
    data = {
        "f": [f.format, f.arch, f.name, f.version, f.purl, f.supplier,
              [[x.key, x.value, _loc_out(x.location, base)] for x in f.items]],
        "h": [[h.rule, [[m.identifier, m.offset, base64.b64encode(m.data).decode()]
                        for m in h.matches]] for h in hits],
        "p": [[_loc_out(p.location, base), p.stage, p.message, p.kind] for p in problems],
    }
    return isal_zlib.compress(_dumps(data).encode("utf-8", TEXT_ERRORS), 1)


def load_blob(blob: bytes, base: str
              ) -> tuple[Facts, tuple[Hit, ...], tuple[Problem, ...]]:
    """The inverse of `dump_blob`, rebased on the path chain `base`: equal frozen values."""
    data: dict[str, Any] = json.loads(zlib.decompress(blob).decode("utf-8", TEXT_ERRORS))
    fmt, arch, name, version, purl, supplier, items = data["f"]
    facts = Facts(fmt, arch, tuple(Fact(k, v, _loc_in(loc, base)) for k, v, loc in items),
                  name, version, purl, supplier)
    hits = tuple(Hit(rule, tuple(StringMatch(i, o, base64.b64decode(d)) for i, o, d in ms))
                 for rule, ms in data["h"])
    problems = tuple(Problem(_loc_in(loc, base), Stage(stage), message, ProblemKind(kind))
                     for loc, stage, message, kind in data["p"])
    return facts, hits, problems


# -- one whole scan -------------------------------------------------------------------------------


def dump_scan(result: ScanResult) -> bytes:
    """A ScanResult -> compressed JSON (compact: the C encoder; an indented dump is ~5x slower).

    The text is `json.dumps(_plain(result))`, made and compressed one component at a time: the
    plain lists of a 100,000-file tree, its text and their UTF-8 bytes never all exist at once
    (together they were twice the tree itself)."""
    packer = isal_zlib.compressobj(1)
    out: list[bytes] = []
    held: list[str] = []
    size = 0
    for piece in _pieces(result):
        held.append(piece)
        size += len(piece)
        if size >= _PIECE:
            out.append(packer.compress("".join(held).encode("utf-8", TEXT_ERRORS)))
            held, size = [], 0
    out.append(packer.compress("".join(held).encode("utf-8", TEXT_ERRORS)))
    out.append(packer.flush())
    return b"".join(out)


_PIECE = 1 << 16  # characters compressed at a time


def _dumps(value: Any) -> str:
    """Compact JSON: orjson's (5x the standard encoder here), or the standard one where orjson
    refuses the value (TypeError): a lone surrogate from an undecodable member name, which only
    the standard encoder passes through (written with `surrogatepass`), or an integer past 64
    bits."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _pieces(value: Any) -> Iterator[str]:
    """The compact JSON of `_plain(value)` for a dataclass, in pieces: a field holding a
    Component, or a tuple of them, is written one component at a time; the runs of other
    fields are dumped together by the C encoder."""
    run: list[Any] = []
    first = True
    yield "["
    for name, plain in _field_encoders(type(value)):
        field = getattr(value, name)
        tree = isinstance(field, Component)
        trees = isinstance(field, tuple) and bool(field) and isinstance(field[0], Component)
        if not (tree or trees):
            run.append(field if plain is None else plain(field))
            continue
        if run:
            yield ("" if first else ",") + _dumps(run)[1:-1]
            run, first = [], False
        if not first:
            yield ","
        first = False
        if tree:
            yield from _pieces(field)
            continue
        yield "["
        for i, child in enumerate(field):
            if i:
                yield ","
            yield from _pieces(child)
        yield "]"
    if run:
        yield ("" if first else ",") + _dumps(run)[1:-1]
    yield "]"


def load_scan(blob: bytes) -> ScanResult:
    """The inverse of `dump_scan`: a ScanResult equal to the one dumped. A value that does not
    fit the model (another version's entry, a damaged one) raises ValueError or TypeError."""
    try:
        text = zlib.decompress(blob).decode("utf-8", TEXT_ERRORS)
    except zlib.error as exc:
        raise ValueError(f"not a compressed entry: {exc}") from None
    plain = json.loads(text)
    del text
    # decoded into the model as the lists are consumed (`_items`): both never exist whole
    try:
        result = _decoder(ScanResult)(plain)
    finally:
        _words.clear()
    assert isinstance(result, ScanResult)
    return result


def _plain(value: Any) -> Any:
    """Dataclasses as lists in field order, tuples as lists; enums stay (they are strings)."""
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    names = _field_names(type(value))
    return [_plain(getattr(value, name)) for name in names]


# `_plain` written once per type from its annotations, for the whole-scan entry of 100,000
# files (a million values): None where a value is its own plain form (strings, numbers, enums,
# optional ones). What the annotations do not say (Any, a union of classes) takes `_plain`.
Encoder = Callable[[Any], Any] | None
_encoders: dict[Any, Encoder] = {}
_fields: dict[type, tuple[tuple[str, Encoder], ...]] = {}


def _field_encoders(cls: type) -> tuple[tuple[str, Encoder], ...]:
    found = _fields.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _fields[cls] = tuple((name, _encoder(hints[name])) for name in _field_names(cls))
    return found


def _as_is(tp: Any) -> bool:
    """Whether a value of type `tp` is its own plain form: a string, number, enum, or None."""
    if tp in (str, int, float, bool) or (isinstance(tp, type) and issubclass(tp, Enum)):
        return True
    if typing.get_origin(tp) in (types.UnionType, typing.Union):
        return all(a is type(None) or _as_is(a) for a in typing.get_args(tp))
    return False


def _encoder(tp: Any) -> Encoder:
    if tp in _encoders:
        return _encoders[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    made: Encoder
    if _as_is(tp):
        made = None
    elif origin is types.UnionType or origin is typing.Union:
        # one class or None (not `_as_is`: it has an encoder); several classes: `_plain`
        others = [a for a in args if a is not type(None)]
        inner = (_encoder(others[0]) if len(others) == 1 else None) or _plain
        made = lambda v: None if v is None else inner(v)  # noqa: E731
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _encoder(args[0])
        made = list if item is None else (lambda v: [item(x) for x in v])
    elif origin is dict and len(args) == 2:
        val = _encoder(args[1])
        made = dict if val is None else (lambda v: {k: val(x) for k, x in v.items()})
    elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
        made = _dataclass_encoder(tp)
    else:
        made = _plain
    _encoders[tp] = made
    return made


def _dataclass_encoder(cls: type) -> Callable[[Any], Any]:
    """A function written for `cls`, as its decoder is: its fields in a list, each plain."""
    names = _field_names(cls)
    hints = typing.get_type_hints(cls)
    values = [f"v.{name}" if _as_is(hints[name]) else f"e{i}(v.{name})"
              for i, name in enumerate(names)]
    scope: dict[str, Any] = {}
    exec(f"def plain(v):\n    return [{', '.join(values)}]\n", scope)  # our own source
    plain: Callable[[Any], Any] = scope["plain"]
    _encoders[cls] = plain  # before the fields' encoders: a tree type refers to itself
    for i, (_, encoder) in enumerate(_field_encoders(cls)):
        scope[f"e{i}"] = encoder
    return plain


_names: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _names.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"cannot encode {cls.__name__}")
        names = _names[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _same(value: Any) -> Any:
    return value


def _number(value: Any) -> Any:
    """A float field's value, never None: orjson writes a NaN as null, and an entry holding
    one must be read as damaged (scanned again), not give a confidence of None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise TypeError(f"not a number: {value!r}")


# The short strings of a scan being loaded, each kept once: a file's kind, type and format
# ("file"), its fact keys and values ("content.type", "text") repeat in every component, and
# JSON gives each occurrence its own string (a quarter of a loaded 100,000-file scan).
WORD = 20  # characters; a bom-ref (24) or a digest is unique, not worth a look-up
_words: dict[str, str] = {}


def _word(value: Any) -> Any:
    if isinstance(value, str) and len(value) <= WORD:
        return _words.setdefault(value, value)
    return value


_decoders: dict[Any, Callable[[Any], Any]] = {}


def _decoder(tp: Any) -> Callable[[Any], Any]:
    """A function turning the JSON of a value of type `tp` back into the value."""
    found = _decoders.get(tp)
    if found is None:
        found = _decoders[tp] = _make_decoder(tp)
    return found


def _make_decoder(tp: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is types.UnionType or origin is typing.Union:
        others = [a for a in args if a is not type(None)]
        if len(others) != 1:
            raise TypeError(f"cannot decode {tp}")
        inner = _decoder(others[0])
        return lambda v: None if v is None else inner(v)
    if origin is tuple:
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"cannot decode {tp}")
        item = _decoder(args[0])
        return lambda v: tuple(_items(item, _list(v)))
    if origin is dict:
        key, val = _decoder(args[0]), _decoder(args[1])
        return lambda v: {key(k): val(x) for k, x in _dict(v).items()}
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp
    if tp is str:
        return _word
    if tp is float:
        return _number
    if tp in (int, bool):
        return _same
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    raise TypeError(f"cannot decode {tp}")


def _dataclass_decoder(cls: type) -> Callable[[Any], Any]:
    """A function written for `cls`: its fields unpacked by name and each decoded by its own
    decoder, an integer passed as it is (a loop over `zip(fields, values)` made a warm scan of
    7,140 files spend 0.68 s here, for 180,000 objects; this takes 0.45 s). A float is checked
    (`_number`)."""
    names = _field_names(cls)
    hints = typing.get_type_hints(cls)
    args = [f"v{i}" for i in range(len(names))]
    calls = [f"v{i}" if hints[name] in (int, bool) else f"f{i}(v{i})"
             for i, name in enumerate(names)]
    source = (f"def build(v):\n"
              f"    if type(v) is not list or len(v) != {len(names)}:\n"
              f"        raise ValueError(_bad(cls, v))\n"
              + (f"    {', '.join(args)}, = v\n" if args else "")
              + f"    return cls({', '.join(calls)})\n")
    scope: dict[str, Any] = {"cls": cls, "_bad": _bad}
    exec(source, scope)  # our own source, from the model's field names
    build: Callable[[Any], Any] = scope["build"]
    _decoders[cls] = build  # before the fields' decoders: a tree type refers to itself
    for i, name in enumerate(names):
        scope[f"f{i}"] = _decoder(hints[name])
    return build


def _bad(cls: type, v: Any) -> str:
    if not isinstance(v, list):
        return f"expected a list, not {type(v).__name__}"
    return f"{cls.__name__}: {len(v)} fields, not {len(_field_names(cls))}"


def _items(decode: Callable[[Any], Any], values: list[Any]) -> Iterator[Any]:
    """Each value decoded, its JSON list dropped as soon as it is (the parsed document is
    `load_scan`'s own): a component's subtree of plain lists goes as its objects are made."""
    for i, value in enumerate(values):
        values[i] = None
        yield decode(value)
        del value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, not {type(value).__name__}")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, not {type(value).__name__}")
    return value
