"""Identity marks: a vendor's names, code namespaces, API families and build traces, read in
context. Pure functions over YARA hits and identification facts; the marks themselves are data
(`marks:` in `signatures/vendors/*.yml`).

A bare grep for a vendor name flags wrappers, clients and tools built *for* a vendor's chips.
Here every occurrence is weighed by where it sits and how much of it there is:

- `names`: the brand in the binary's own text (ASCII, UTF-16, UTF-8, GBK/GB18030). Dozens of
  distinct strings naming the vendor are the vendor's code; one or two are a mention. Strings
  that are paths, device-tree `vendor,chip` ids or toolchain tags are counted elsewhere or not
  at all, and source code that names a vendor is a client until something else says more.
  In a compiled binary two placements say more than their number: a boxed banner title the
  program prints about itself (`*   HIKVISION DVS   *`), and symbols of its own whose first
  word is the vendor (`g_zte_current_version`; `vms_open_hikvision` handles the vendor's
  devices, and dynamic symbols are weighed by `api` and exports).
- `cxx`: C++ namespaces (Itanium `N5Dahua…`, MSVC `@Dahua@@`, demangled `Dahua::`). A module
  whose own symbols and type names live in the namespace defines it; one that only imports
  symbols of the namespace is a client.
- `java`: Java/Kotlin packages. A class whose own name is in the package (`java.class`) is the
  vendor's; one that only refers to the package is a client. A library that names itself in
  the package (`com.nubia.node.beauty.so`, by its soname or install name) is the vendor's too.
- `module`: .NET namespaces, Swift modules and Objective-C class families (`LCOpenSDK_…`,
  `HuaweiCloud.SDK`). A managed assembly's TypeDef table, a Mach-O's defined `_OBJC_CLASS_$_`
  and `$s<module>` symbols, a `.swiftinterface`'s `-module-name`, and in headers and sources a
  class declaration or `namespace` define them (made-by); TypeRefs, undefined symbols, imports
  and calls only use them (a client).
- `domains` (the vendor's `domains:`): an e-mail address at the vendor's domain compiled into a
  binary is its support or author contact (made-by, moderate); service hosts are what a client
  of the vendor's cloud calls (`service`, weak), and in source or documents both are mentions.
- `api`: exported function families (`NET_DVR_*`; a generic prefix needs its anchor function,
  `CLIENT_|CLIENT_Init`). Exporting the family is the SDK; importing or calling ten or more of
  its functions is a binding that `requires` the SDK; fewer is a client.
- `config`: vendor parameter prefixes in configuration (TR-069 `X_HW_…`), by distinct names.
- `build`: toolchain tags and build-tree fragments. Third parties build for a vendor's chips with
  the vendor's toolchain, so these are weak on their own.
- `firmware`: boot-loader prompts and board banners of a vendor's own SDK.

The confidence of each kind comes from its measured precision on the labelled corpora (README,
"Calibrated confidence"): resolve() applies `signatures/calibration.yml` to every evidence kind
alike; DEFAULTS here are what a kind gets before it is measured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from provenance.attribute.vendor_index import index_for
from provenance.attribute.yara_scan import Hit
from provenance.model import Evidence, Fact, Facts, Relationship
from provenance.signatureset import SignatureSet
from provenance.signatureset.marks import Mark, marks_of

__all__ = ["mark_evidence"]
SHORT_NAME = 5  # shorter names ("ZTE", "DJI", "Imou") count only as a word of an identifier

# Extensions of source code and scripts: naming a vendor there is what a client does.
SOURCE_SUFFIXES = (".py", ".java", ".kt", ".cs", ".go", ".js", ".mjs", ".ts", ".rb", ".php",
                   ".rs", ".swift", ".m", ".sh", ".pl", ".lua", ".md", ".txt", ".rst", ".html")
# Path components that hold someone else's code or a person's home, not the vendor's tree.
FOREIGN_DIRS = frozenset(("pods", "node_modules", "third_party", "thirdparty", "3rdparty",
                          "external", "site-packages", "vendor_deps", "deps"))
HOME_DIRS = frozenset(("users", "home"))

# Fallback confidences per evidence kind and bucket (calibration.yml overrides them).
DEFAULTS: dict[str, float] = {
    "marks:names:dense": 0.8, "marks:names:some": 0.55, "marks:names:mention": 0.2,
    "marks:names:other-maker": 0.2,
    "marks:names:exports": 0.8, "marks:names:exports:few": 0.5, "marks:names:copyright": 0.7,
    "marks:names:banner": 0.7, "marks:names:symbols": 0.4, "marks:java:module": 0.7,
    "marks:build-path": 0.5, "marks:build-path:dense": 0.7,
    "marks:cxx:defined": 0.9, "marks:cxx:some": 0.6, "marks:cxx:client": 0.2,
    "marks:java:defined": 0.9, "marks:java:client": 0.2, "marks:java:native": 0.7,
    "marks:api:exported": 0.85, "marks:api:client": 0.2, "marks:api:binding": 0.5,
    "marks:config:dense": 0.8, "marks:config:some": 0.5,
    "marks:build": 0.4, "marks:build:several": 0.6,
    "marks:firmware": 0.6, "marks:firmware:several": 0.8,
    "marks:module:defined": 0.8, "marks:module:some": 0.5, "marks:module:client": 0.2,
    "marks:contact:email": 0.6, "marks:contact:mention": 0.2,
    "marks:contact:endpoints": 0.3, "marks:contact:endpoint": 0.2,
}
NAMES_DENSE, NAMES_SOME = 20, 6
# a rights statement: the holder it names declares who made the file
# (a PDF's /Author is the document's declared author)
DECLARATION = re.compile(r"copyright|\(c\)|©|all rights? reserved|版权所有|/Author\s*\(", re.I)
# declarations of who made a file: naming another company there outweighs name density
DECLARED_MAKER = ("pe.version.CompanyName", "pe.signer.O", "macho.signer.O", "jar.signer.O",
                  "apk.signer.O", "modinfo.author")
CXX_DEFINED, CXX_SOME = 10, 3
API_MIN = 5
# functions of one vendor API family a client uses before it is a binding of the vendor's SDK:
# `requires` (it needs the vendor's SDK to run; review, never restricted)
BINDING_MIN = 10
CONFIG_DENSE, CONFIG_SOME = 20, 5
PATHS_DENSE = 5
MODULE_DEFINED = 3  # distinct namespaces, modules or classes of the vendor's the file defines
ENDPOINTS_SOME = 3  # distinct service hosts of one vendor: a client of its cloud, not a link

Found = tuple[str, Relationship, Evidence, str | None, str | None]


def _found(value: str, context: str) -> bool:
    """Whether one mark value (literal, or /regex/) occurs in a context string."""
    if len(value) > 2 and value.startswith("/") and value.endswith("/"):
        return re.search(value[1:-1], context) is not None
    return value.lower() in context.lower()



# -- reading the hits in context ----------------------------------------------------------------


def _is_source(location: str) -> bool:
    name = location.rsplit("!/", 1)[-1].lower()
    return name.endswith(SOURCE_SUFFIXES)


# manifests and documents read by a structured reader: prose about a package, not its code
PROSE_FORMATS = frozenset(("python-metadata", "npm", "debian", "sbom"))


def _is_text(facts: Facts | None) -> bool:
    """A document, list, manifest or config: its names and paths are prose, not code."""
    return facts is not None and (facts.first("content.type") == "text"
                                  or facts.format in PROSE_FORMATS)


def _declares(context: str, vendor: str, sigset: SignatureSet) -> bool:
    """Whether a rights statement or document author line names the vendor (or its family)
    as the holder, as a whole company name: not "zte-cfgs contributors"."""
    index, family = index_for(sigset), set(sigset.family(vendor))
    found = DECLARATION.search(context)
    if found is None:
        return False
    after = re.sub(r"(?i)^\s*[:,]?\s*(?:\(c\)|©)?\s*(?:(?:19|20)\d\d\s*[-–,]?\s*)*[,\s]*",
                   "", context[found.end():])
    after = re.split(r"(?i)\ball rights?\b|[)<>*]|\s-\s", after)[0]
    before = context[: found.start()] if found.group(0).lower().startswith("all") else ""
    for text in (after, before):
        words = text.replace("@", " ").split()
        for skip in range(min(3, len(words))):  # "@note HangZhou Hikvision ... Co., Ltd."
            if index.company(" ".join(words[skip:])) in family:
                return True
    return False


COMPILED = frozenset(("elf", "pe", "macho", "java-class"))


def _is_path(context: str) -> bool:
    """A file system path (absolute, or naming a file with an extension), not a Java internal
    name such as `com/hikvision/netsdk/HCNetSDK` nor a URL."""
    if "://" in context:
        return False
    return bool(re.match(r"^\s*(?:[A-Za-z]:)?[/\\]", context)
                or re.search(r"[/\\][^/\\\s]+\.[A-Za-z0-9]{1,4}\b", context))


def _own_path(context: str, brand: str) -> bool:
    """Whether a path has a directory or file named exactly after the vendor, outside a
    person's home and outside a folder of someone else's code (`hisilicon-stb/` and
    `/Users/dahua/` do not count)."""
    parts = [p.lower() for p in re.split(r"[/\\]+", context) if p]
    if FOREIGN_DIRS & set(parts):
        return False
    return any(part == brand.lower() and not (i and parts[i - 1] in HOME_DIRS)
               for i, part in enumerate(parts))


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ev(kind: str, signal: str, detail: str, location: str, conf: float) -> Evidence:
    return Evidence("binary-analysis", signal, detail[:160], location, kind, conf)


def _other_maker(facts: Facts | None, vendor: str, sigset: SignatureSet) -> str | None:
    """A company other than `vendor` (and its family) that the blob declares as its maker."""
    family = set(sigset.family(vendor))
    for key in DECLARED_MAKER:
        for value in facts.values(key) if facts else ():
            if index_for(sigset).company(value) not in family:
                return value
    return None


def _holder_read(facts: Facts | None, vendor: str, sigset: SignatureSet) -> bool:
    """Whether the copyright reader already found a statement naming this vendor's family."""
    family = set(sigset.family(vendor))
    return any(index_for(sigset).company(v) in family
               for v in (facts.values("copyright.holder") if facts else ()))


# a boxed title line a program prints about itself: `*     HIKVISION DVS     *`, `=== X ===`
BANNER = re.compile(r"^\s*([*#=|~+])\1*\s{2,}(?P<title>[^*#=|~+]{2,60}?)\s*[*#=|~+]*\s*$")
BANNER_WORDS = 6  # a title, not a sentence
# a symbol name of the binary's own (`g_zte_current_version`)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,80}")
SCOPE = re.compile(r"^_*(?:[gsm]_|k(?=[A-Z]))?")  # g_ global, s_ static, m_ member, kConstant

_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _tokens(text: str) -> set[str]:
    """Words of a string, identifiers split at `_` and case changes: `IsChildZTEProduct` ->
    is, child, zte, product; `g_zte_version` -> g, zte, version; `ztest` -> ztest."""
    return {t.lower() for t in _TOKEN.findall(text)}


def _banner(ctx: str, mark: Mark) -> bool:
    found = BANNER.match(ctx)
    if found is None or len(found["title"].split()) > BANNER_WORDS:
        return False
    title = found["title"].lower()
    return any(v.lower() in title for v in mark.values)


def _own_symbol(ctx: str, mark: Mark, syms: _Symbols) -> bool:
    """A compound identifier in the vendor's own namespace that is not a dynamic symbol (an
    import is a client's; an export counts as the API it names): the vendor's name is its first
    word after a scope prefix (`g_zte_current_version`). A name further in
    (`vms_open_hikvision`, `hmac_find_huawei_ie`) is code that handles the vendor's devices or
    data, and a bare `DAHUA` is a table entry."""
    if not IDENTIFIER.fullmatch(ctx) or _bare(ctx) in syms.linked:
        return False
    words = [w.lower() for w in _TOKEN.findall(SCOPE.sub("", ctx))]
    return len(words) > 1 and any(words[0] == v.lower() for v in mark.values)


def _names(mark: Mark, contexts: list[tuple[int, str]], build_marks: tuple[str, ...],
           location: str, sigset: SignatureSet, facts: Facts | None = None,
           syms: _Symbols | None = None) -> list[tuple[Relationship, Evidence]]:
    text: list[tuple[int, str]] = []
    paths: list[tuple[int, str]] = []
    declared: list[tuple[int, str]] = []
    banners: list[tuple[int, str]] = []
    compiled = facts is not None and facts.format in COMPILED
    short = {v.lower() for v in mark.values if v.isascii() and len(v) < SHORT_NAME}
    for offset, ctx in contexts:
        if short and not any(v.lower() in ctx.lower() for v in mark.values if v.lower()
                             not in short):
            words = _tokens(ctx)
            if not short & words:
                continue  # "ZTE" inside "ztest" or "Aztech": another word
            if not any(len(w) > 1 and w.isalpha() for w in words - short):
                continue  # "+Zte", "ZTE" alone: three letters that random bytes hold too
        if DECLARATION.search(ctx):
            declared.append((offset, ctx))  # a copyright line in any encoding, e.g. GBK
            continue
        if compiled and _banner(ctx, mark):
            banners.append((offset, ctx))  # compiled code greets with its own product's name
            continue
        low = ctx.lower()
        if any(_found(b, ctx) for b in build_marks):
            continue  # a toolchain tag: the `build` kind weighs it
        if any(re.search(re.escape(v.lower()) + r",[a-z0-9]", low) for v in mark.values):
            continue  # a device-tree id names hardware: dt facts weigh it
        if "/" in ctx or "\\" in ctx:
            if _is_path(ctx) and any(_own_path(ctx, v) for v in mark.values if v.isascii()):
                paths.append((offset, ctx))
            continue  # a Java name, a URL: other kinds read those
        text.append((offset, ctx))
    out: list[tuple[Relationship, Evidence]] = []
    if text:
        n = len(text)
        sample = " · ".join(_clip(c, 40) for _, c in text[:3])
        where = f"{location}@0x{text[0][0]:x}"
        source = _is_source(location) or _is_text(facts)
        if n >= NAMES_DENSE and not source:
            kind, rel = "marks:names:dense", Relationship.MADE_BY
        elif n >= NAMES_SOME and not source:
            kind, rel = "marks:names:some", Relationship.MADE_BY
        else:
            kind, rel = "marks:names:mention", Relationship.MENTIONS
        other = _other_maker(facts, mark.vendor, sigset) if rel == Relationship.MADE_BY else None
        if other:  # a library *for* the vendor's products, by the company it names
            kind, rel = "marks:names:other-maker", Relationship.SUPPORTS
            sample = f"{sample}; the file declares its maker as {_clip(other, 40)}"
        signal = "string" if rel == Relationship.MENTIONS else "vendor-text"
        out.append((rel, _ev(kind, signal, f"{n} distinct strings name the vendor: {sample}",
                             where, DEFAULTS[kind])))
        own = [(o, c) for o, c in text if _own_symbol(c, mark, syms)] \
            if compiled and rel == Relationship.MENTIONS and syms is not None else []
        if own:  # few names, but symbols of its own
            kind = "marks:names:symbols"
            out.append((Relationship.MADE_BY, _ev(
                kind, "symbol", f"{len(own)} symbols of its own named after the vendor: "
                + " · ".join(_clip(c, 40) for _, c in own[:3]), f"{location}@0x{own[0][0]:x}",
                DEFAULTS[kind])))
    if banners and not _other_maker(facts, mark.vendor, sigset):
        kind = "marks:names:banner"
        out.append((Relationship.MADE_BY, _ev(
            kind, "vendor-text", f"its banner names the vendor: {_clip(banners[0][1], 80)}",
            f"{location}@0x{banners[0][0]:x}", DEFAULTS[kind])))
    declared = [(o, c) for o, c in declared if _declares(c, mark.vendor, sigset)]
    if declared and _holder_read(facts, mark.vendor, sigset):
        pass  # the copyright reader already weighs that statement: one source, counted once
    elif declared:  # the holder is the vendor by name, in code or a document alike
        other = _other_maker(facts, mark.vendor, sigset)
        kind = "marks:names:copyright"
        rel = Relationship.SUPPORTS if other else Relationship.MADE_BY
        out.append((rel, _ev(kind, "copyright", f"rights statement names the vendor: "
                             f"{_clip(declared[0][1], 100)}", f"{location}@0x{declared[0][0]:x}",
                             DEFAULTS[kind])))
    if paths and not _is_text(facts):  # a list of paths (md5sums) is not a build trace
        kind = "marks:build-path:dense" if len(paths) >= PATHS_DENSE else "marks:build-path"
        out.append((Relationship.MADE_BY, _ev(
            kind, "build-path", f"{len(paths)} build paths in the vendor's tree: "
            + _clip(paths[0][1], 100), f"{location}@0x{paths[0][0]:x}",
            DEFAULTS[kind])))
    return out


@dataclass(frozen=True, slots=True)
class _Symbols:
    """A blob's symbol facts, gathered once per blob (every vendor's marks ask for them)."""

    exports: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    classes: tuple[Fact, ...] = ()  # java.class
    heads: dict[str, list[str]] = field(default_factory=dict)  # first word -> exports
    # the symbols of any vendor API family, and JNI exports: few, so each mark scans only them
    api_exports: tuple[str, ...] = ()
    api_imports: tuple[str, ...] = ()
    jni: tuple[str, ...] = ()
    # bare names of the imports and exports (the dynamic symbols the other kinds weigh)
    linked: frozenset[str] = frozenset()
    modules: tuple[str, ...] = ()  # the module's own names: ELF soname, Mach-O install name

    @classmethod
    def of(cls, facts: Facts | None, api_prefixes: tuple[str, ...]) -> _Symbols:
        if facts is None:
            return cls()
        exports: list[str] = []
        imports: list[str] = []
        classes: list[Fact] = []
        modules: list[str] = []
        for f in facts.items:  # one pass: a library has thousands of symbol facts
            if f.key in EXPORT_KEYS:
                exports.append(f.value)
            elif f.key in IMPORT_KEYS:
                imports.append(f.value)
            elif f.key == "java.class":
                classes.append(f)
            elif f.key in MODULE_KEYS:
                modules.append(re.split(r"[/\\]", f.value)[-1])
        if not (exports or imports or classes or modules):
            return cls()  # most blobs
        bare_exports = list(map(_bare, exports))  # each name once: a library has thousands
        bare_imports = list(map(_bare, imports))
        heads: dict[str, list[str]] = {}
        for name, bare in zip(exports, bare_exports, strict=True):
            if "_" in bare:
                heads.setdefault(bare.split("_", 1)[0].lower(), []).append(name)
        return cls(tuple(exports), tuple(imports), tuple(classes), heads,
                   tuple(n for n, b in zip(exports, bare_exports, strict=True)
                         if b.startswith(api_prefixes)),
                   tuple(n for n, b in zip(imports, bare_imports, strict=True)
                         if b.startswith(api_prefixes)),
                   tuple(n for n in exports if n.startswith("Java_")),
                   frozenset(bare_exports + bare_imports), tuple(modules))


STDCALL = re.compile(r"@\d{1,3}$")  # 32-bit Windows `_name@16`: the bytes of arguments


def _bare(symbol: str) -> str:
    """The C name in `dll!name`, `__imp_name`, Mach-O's `_name` or stdcall's `_name@16`."""
    name = symbol.split("!", 1)[-1].lstrip("_")
    return STDCALL.sub("", name) if "@" in name else name


EXPORT_KEYS = frozenset(("elf.export", "pe.export", "macho.export"))
IMPORT_KEYS = frozenset(("elf.import", "pe.import", "macho.import"))
MODULE_KEYS = frozenset(("elf.soname", "macho.install_name"))


def _cxx(mark: Mark, contexts: list[tuple[int, str]], syms: _Symbols,
         location: str) -> list[tuple[Relationship, Evidence]]:
    n = len(contexts)
    mangled = tuple(f"N{len(v)}{v}" for v in mark.values)
    exported = [s for s in syms.exports if any(m in s for m in mangled)]
    imported = [s for s in syms.imports if any(m in s for m in mangled)]
    sample = " · ".join(_clip(c, 50) for _, c in contexts[:3])
    where = f"{location}@0x{contexts[0][0]:x}"
    if imported and not exported and n <= len(imported) + 2:
        return [(Relationship.SUPPORTS, _ev(
            "marks:cxx:client", "symbol", f"imports {len(imported)} symbols of namespace "
            f"{mark.values[0]}: {_clip(imported[0], 60)}", where,
            DEFAULTS["marks:cxx:client"]))]
    if n >= CXX_DEFINED:
        kind, rel = "marks:cxx:defined", Relationship.MADE_BY
    elif n >= CXX_SOME:
        kind, rel = "marks:cxx:some", Relationship.MADE_BY
    else:
        kind, rel = "marks:cxx:client", Relationship.SUPPORTS
    return [(rel, _ev(kind, "namespace", f"{n} distinct names in C++ namespace "
                      f"{'/'.join(mark.values)}: {sample}", where, DEFAULTS[kind]))]


def _java(mark: Mark, contexts: list[tuple[int, str]], syms: _Symbols,
          location: str) -> list[tuple[Relationship, Evidence]]:
    prefixes = tuple(v.replace(".", "/") + "/" for v in mark.values)
    own = [f for f in syms.classes if f.value.startswith(prefixes)]
    if own:
        return [(Relationship.MADE_BY, _ev(
            "marks:java:defined", "namespace", f"class {own[0].value} is in package "
            f"{mark.values[0]}", own[0].location, DEFAULTS["marks:java:defined"]))]
    # native methods of the package's classes: JNI exports Java_<package>_<Class>_<method>
    jni = tuple("Java_" + v.replace("_", "_1").replace(".", "_") + "_" for v in mark.values)
    native = [n for n in syms.jni if n.startswith(jni)]
    if native:
        return [(Relationship.MADE_BY, _ev(
            "marks:java:native", "symbol", f"implements native methods of package "
            f"{mark.values[0]}: " + ", ".join(_clip(n, 60) for n in native[:2]),
            location + "#symbols", DEFAULTS["marks:java:native"]))]
    # a library named in the vendor's reverse-DNS namespace (`com.nubia.node.beauty.so`): the
    # namespace belongs to the vendor, and the module names itself with it
    named = [m for m in syms.modules if m.startswith(tuple(v + "." for v in mark.values))]
    if named:
        return [(Relationship.MADE_BY, _ev(
            "marks:java:module", "namespace", f"the module names itself in package "
            f"{mark.values[0]}: {_clip(named[0], 60)}", location + "#module",
            DEFAULTS["marks:java:module"]))]
    if not contexts:
        return []
    sample = _clip(contexts[0][1], 60)
    return [(Relationship.SUPPORTS, _ev(
        "marks:java:client", "namespace", f"refers to package {mark.values[0]}: {sample}",
        f"{location}@0x{contexts[0][0]:x}", DEFAULTS["marks:java:client"]))]


def _api(mark: Mark, contexts: list[tuple[int, str]], syms: _Symbols, compiled: bool,
         location: str) -> list[tuple[Relationship, Evidence]]:
    out: list[tuple[Relationship, Evidence]] = []
    exports, imports = syms.api_exports, syms.api_imports
    for value in mark.values:
        # "PREFIX|ANCHOR": a generic prefix counts as the vendor's only with its anchor function
        prefix, _, anchor = value.partition("|")
        def family(names: Iterable[str], p: str = prefix) -> list[str]:
            return [n for n in names if _bare(n).startswith(p)]
        own, used = family(exports), family(imports)
        if not compiled:  # a binding in source: the functions it calls, by name, each a
            # word of its own (`SPLAY_ENTRY`, a BSD tree macro, is not Dahua's `PLAY_`)
            used = sorted({m.group(0) for _, c in contexts
                           for m in re.finditer(r"(?<!\w)" + re.escape(prefix) + r"\w+", c)})
        anchored = not anchor or any(_bare(n) == anchor for n in own)
        if len(own) >= API_MIN and anchored:
            kind, rel, names, verb = "marks:api:exported", Relationship.MADE_BY, own, "exports"
        elif len(used) >= BINDING_MIN:
            kind, rel, names, verb = ("marks:api:binding", Relationship.REQUIRES, used,
                                      "binds the vendor SDK: uses")
        elif used and compiled:
            kind, rel, names, verb = "marks:api:client", Relationship.SUPPORTS, used, "imports"
        else:
            continue
        out.append((rel, _ev(kind, "symbol", f"{verb} {len(names)} {prefix}* functions: "
                             + ", ".join(_clip(n, 40) for n in names[:3]), location + "#symbols",
                             DEFAULTS[kind])))
    return out


def _named_exports(mark: Mark, syms: _Symbols,
                   location: str) -> list[tuple[Relationship, Evidence]]:
    """Exported functions whose name starts with the vendor's name as a word (`DaHua_aacEnc`,
    `zte_rohm_camera_open`): the vendor's own API namespace, defined here."""
    own = [n for v in mark.values if v.isascii() for n in syms.heads.get(v.lower(), ())]
    if not own:
        return []
    kind = "marks:names:exports" if len(own) >= API_MIN else "marks:names:exports:few"
    return [(Relationship.MADE_BY, _ev(kind, "symbol", f"exports {len(own)} functions named "
                                       "after the vendor: " + ", ".join(_clip(n, 40)
                                                                        for n in own[:3]),
                                       location + "#symbols", DEFAULTS[kind]))]


# -- module identity: .NET namespaces, Swift modules, Objective-C classes -----------------------

DEFINED_KEYS = frozenset(("dotnet.namespace", "macho.swift_module", "macho.objc_class"))
REFERENCED_KEYS = frozenset(("dotnet.namespace_ref", "macho.swift_module_ref",
                             "macho.objc_class_ref"))
# text that defines a module or class rather than using it: a Swift module interface's
# `-module-name X`, an Objective-C class or protocol declaration (`@interface X : NSObject`,
# `@protocol X <NSObject>`; not a category `@interface X (Mine)` nor a forward `@protocol X;`)
# and a C# `namespace X`
MODULE_NAME = re.compile(r"-module-name\s+([A-Za-z_]\w*)|@interface\s+([A-Za-z_]\w*)\s*:"
                         r"|@protocol\s+([A-Za-z_]\w*)\s*<|^\s*namespace\s+([A-Za-z_][\w.]*)")


def _in_module(name: str, value: str) -> bool:
    """`HuaweiCloud.SDK.Core` is in `HuaweiCloud.SDK`; `LCOpenSDK_Api` and `LCOpenSDKKit` in
    `LCOpenSDK` (an Objective-C family prefix ends at `_` or a new word); `LCOpenSDKs` is not."""
    if name == value or name.startswith(value + "."):
        return True
    rest = name[len(value):] if name.startswith(value) else ""
    return bool(rest) and (rest[0] == "_" or rest[0].isupper())


def _module(mark: Mark, contexts: list[tuple[int, str]], facts: Facts | None,
            location: str, sigset: SignatureSet) -> list[tuple[Relationship, Evidence]]:
    defined: dict[str, str] = {}  # name -> where
    used: dict[str, str] = {}
    for f in facts.items if facts else ():
        if (f.key in DEFINED_KEYS or f.key in REFERENCED_KEYS) and any(
                _in_module(f.value, v) for v in mark.values):
            (defined if f.key in DEFINED_KEYS else used).setdefault(f.value, f.location)
    compiled = facts is not None and facts.format in COMPILED
    for offset, ctx in contexts if not compiled else ():
        named = MODULE_NAME.search(ctx)
        name = next((g for g in named.groups() if g), "") if named else ""
        if name and any(_in_module(name, v) for v in mark.values):
            defined.setdefault(name, f"{location}@0x{offset:x}")
        else:
            used.setdefault(_clip(ctx, 60), f"{location}@0x{offset:x}")
    if defined:
        n = len(defined)
        kind = "marks:module:defined" if n >= MODULE_DEFINED else "marks:module:some"
        other = _other_maker(facts, mark.vendor, sigset)
        rel = Relationship.SUPPORTS if other else Relationship.MADE_BY
        names = sorted(defined)
        detail = (f"defines {n} names in {mark.values[0]}'s modules: "
                  + ", ".join(_clip(x, 40) for x in names[:3])
                  + (f"; the file declares its maker as {_clip(other, 40)}" if other else ""))
        return [(rel, _ev(kind, "namespace", detail, defined[names[0]], DEFAULTS[kind]))]
    if used:
        names = sorted(used)
        return [(Relationship.SUPPORTS, _ev(
            "marks:module:client", "namespace", f"uses {len(names)} names of {mark.values[0]}: "
            + ", ".join(_clip(x, 40) for x in names[:3]), used[names[0]],
            DEFAULTS["marks:module:client"]))]
    return []


# -- contact: e-mail addresses and service hosts at the vendor's domains -------------------------


def _addresses(mark: Mark, contexts: list[tuple[int, str]],
               ) -> tuple[dict[str, int], dict[str, int]]:
    """(e-mail address -> offset, host -> offset) at the mark's domains, each domain ending at a
    label boundary (`huawei.com`, `dl.huawei.com`; not `nothuawei.com`, `huawei.com.evil.net`)."""
    alt = "|".join(re.escape(d) for d in sorted(mark.values, key=len, reverse=True))
    found = re.compile(r"(?<![\w.-])(?:([\w.+-]{1,64})@)?((?:[a-z0-9-]{1,63}\.)*(?:" + alt
                       + r"))(?![\w-]|\.[a-z0-9])", re.I)
    emails: dict[str, int] = {}
    hosts: dict[str, int] = {}
    for offset, ctx in contexts:
        for m in found.finditer(ctx):
            if m.group(1):
                emails.setdefault(f"{m.group(1)}@{m.group(2)}".lower(), offset)
            else:
                hosts.setdefault(m.group(2).lower(), offset)
    return emails, hosts


def _contact(mark: Mark, contexts: list[tuple[int, str]], facts: Facts | None, location: str,
             sigset: SignatureSet) -> list[tuple[Relationship, Evidence]]:
    emails, hosts = _addresses(mark, contexts)
    prose = _is_source(location) or _is_text(facts)
    out: list[tuple[Relationship, Evidence]] = []
    if emails:
        first = min(emails, key=lambda e: emails[e])
        where = f"{location}@0x{emails[first]:x}"
        other = _other_maker(facts, mark.vendor, sigset)
        if prose or other:  # an author's address in source, or a contact in another's product
            kind, rel = "marks:contact:mention", Relationship.MENTIONS
        else:  # a binary's own support or author contact
            kind, rel = "marks:contact:email", Relationship.MADE_BY
        out.append((rel, _ev(kind, "vendor-text" if rel == Relationship.MADE_BY else "string",
                             f"{len(emails)} e-mail addresses at the vendor's domains: "
                             + ", ".join(_clip(e, 50) for e in sorted(emails)[:3]), where,
                             DEFAULTS[kind])))
    if hosts:
        first = min(hosts, key=lambda h: hosts[h])
        kind = ("marks:contact:endpoints" if len(hosts) >= ENDPOINTS_SOME and not prose
                else "marks:contact:endpoint")
        out.append((Relationship.SERVICE, _ev(
            kind, "string", f"{len(hosts)} hosts of the vendor's services: "
            + ", ".join(_clip(h, 40) for h in sorted(hosts)[:4]), f"{location}@0x{hosts[first]:x}",
            DEFAULTS[kind])))
    return out


def _counted(kind: str, mark: Mark, contexts: list[tuple[int, str]], location: str,
             sigset: SignatureSet, facts: Facts | None) -> list[tuple[Relationship, Evidence]]:
    if kind == "config":
        if facts is not None and facts.format in COMPILED:
            return []  # register or macro names in code, not a device's configuration
        names = {re.split(r"[^A-Za-z0-9_\-]", c[c.find(v):] if v in c else c)[0]
                 for _, c in contexts for v in mark.values if v in c}
        n = len(names)
        bucket = ("marks:config:dense" if n >= CONFIG_DENSE
                  else "marks:config:some" if n >= CONFIG_SOME else None)
        if bucket is None:
            return []
        detail = f"{n} distinct vendor parameters: " + ", ".join(sorted(names)[:3])
        signal = "config"
    else:
        found = sorted({v for _, c in contexts for v in mark.values if _found(v, c)})
        n = max(1, len(found))
        bucket = f"marks:{kind}:several" if n >= 2 else f"marks:{kind}"
        detail = f"{kind} markers: " + " · ".join(_clip(c, 50) for _, c in contexts[:3])
        signal = kind
    return [(Relationship.MADE_BY, _ev(bucket, signal, detail,
                                       f"{location}@0x{contexts[0][0]:x}",
                                       DEFAULTS[bucket]))]


class _Tables(NamedTuple):
    """What every blob's weighing reads of the marks themselves, made once per signature set."""

    api_prefixes: tuple[str, ...]
    build_marks: dict[str, tuple[str, ...]]  # vendor -> its build marks
    ordered: list[tuple[str, Mark]]  # by rule name


_tables: dict[str, _Tables] = {}


def _tables_of(sigset: SignatureSet) -> _Tables:
    tables = _tables.get(sigset.digest)
    if tables is None:
        marks = marks_of(sigset)
        tables = _tables[sigset.digest] = _Tables(
            tuple(v.partition("|")[0] for m in marks.values() if m.kind == "api"
                  for v in m.values),
            {m.vendor: m.values for m in marks.values() if m.kind == "build"},
            sorted(marks.items()))
    return tables


def mark_evidence(hits: tuple[Hit, ...], facts: Facts | None, sigset: SignatureSet,
                  location: str) -> list[Found]:
    """(vendor, relationship, evidence, component, version) from every vendor's marks."""
    marks = marks_of(sigset)
    contexts: dict[str, list[tuple[int, str]]] = {}
    for hit in hits:
        if hit.rule in marks:
            seen: dict[str, int] = {}
            for m in hit.matches:
                seen.setdefault(m.data.decode("utf-8", "replace"), m.offset)
            contexts[hit.rule] = sorted(((o, c) for c, o in seen.items()))
    tables = _tables_of(sigset)
    syms = _Symbols.of(facts, tables.api_prefixes)
    declared = facts is not None and any(f.key in DEFINED_KEYS or f.key in REFERENCED_KEYS
                                         for f in facts.items)
    if not contexts and not (syms.exports or syms.imports or syms.classes or syms.modules
                             or declared):
        return []  # most blobs: no mark and no symbol to weigh
    compiled = facts is not None and facts.format in COMPILED
    out: list[Found] = []
    for name, mark in tables.ordered:
        found = contexts.get(name)
        if mark.kind == "api":
            if not (found or syms.api_exports or syms.api_imports):
                continue
            pairs = _api(mark, found or [], syms, compiled, location)
        elif mark.kind == "java":
            if not (found or syms.classes or syms.jni or syms.modules):
                continue
            pairs = _java(mark, found or [], syms, location)
        elif mark.kind == "names":
            pairs = _named_exports(mark, syms, location) if syms.heads else []
            if found:
                pairs += _names(mark, found, tables.build_marks.get(mark.vendor, ()), location,
                                sigset, facts, syms)
        elif mark.kind == "module":
            if not (found or declared):
                continue
            pairs = _module(mark, found or [], facts, location, sigset)
        elif not found:
            continue
        elif mark.kind == "domains":
            pairs = _contact(mark, found, facts, location, sigset)
        elif mark.kind == "cxx":
            pairs = _cxx(mark, found, syms, location)
        else:
            pairs = _counted(mark.kind, mark, found, location, sigset, facts)
        out.extend((mark.vendor, rel, ev, None, None) for rel, ev in pairs)
    return out
