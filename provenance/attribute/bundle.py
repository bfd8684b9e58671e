"""Bundles: a file with no mark of its own, shipped beside files its vendor made.

An SDK folder holds runtimes and renderers (Hikvision's `libhpr.so`, `libAudioRender.so`) that
carry no vendor string at all. Beside two or more siblings that the vendor made, in a folder that
is at least half the vendor's files or loaded by one of them (DT_NEEDED), such a file gets a
bounded attribution from them: `made-by` at BUNDLE_CONFIDENCE, which the default policies send
to `review`, never to `restricted`. The evidence names the siblings. A file that declares a maker
of its own (a copyright holder, a CompanyName, a signer, a module author: OpenSSL's libcrypto in
the same folder) is left alone, and so is a folder where two vendor families made files.
Scanned alone, such a file stays as its own evidence says. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from provenance.attribute import marks
from provenance.model import Attribution, Component, Evidence, Relationship
from provenance.signatureset import SignatureSet

BUNDLE_CONFIDENCE = 0.5
MIN_SIBLINGS = 2  # vendor-made files beside it
SIBLING_CONFIDENCE = 0.7  # how sure each sibling's made-by must be
# formats of code and code containers: documents and data beside an SDK are not attributed
CODE_FORMATS = frozenset(("elf", "pe", "macho", "java-class", "jar", "aar", "apk"))
# who the file says made it: the declarations name density defers to, and rights statements
DECLARED_MAKER = (*marks.DECLARED_MAKER, "copyright.holder", "manifest.author",
                  "jar.manifest.Implementation-Vendor")


def _unmarked(c: Component) -> bool:
    facts = c.facts
    if facts is None or facts.format not in CODE_FORMATS or c.opaque or c.children:
        return False
    if any(a.relationship not in (Relationship.MENTIONS, Relationship.SUPPORTS)
           for a in c.attributions):
        return False
    return not any(facts.first(key) for key in DECLARED_MAKER)


def bundled(children: tuple[Component, ...], sigset: SignatureSet) -> tuple[Component, ...]:
    """The children, with unmarked code files attributed from vendor-made siblings."""
    makers: dict[str, list[Component]] = {}
    for c in children:
        for a in c.attributions:
            if a.relationship == Relationship.MADE_BY and a.confidence >= SIBLING_CONFIDENCE:
                makers.setdefault(sigset.family(a.vendor)[-1], []).append(c)
                break
    if len(makers) != 1:
        return children  # nobody, or two vendor families: no single maker to lend
    ((_, siblings),) = makers.items()
    if len(siblings) < MIN_SIBLINGS:
        return children
    vendor = next(a.vendor for a in siblings[0].attributions
                  if a.relationship == Relationship.MADE_BY)
    names = ", ".join(s.name for s in siblings[:3]) + (" …" if len(siblings) > 3 else "")
    unmarked = {id(c) for c in children if _unmarked(c)}
    # an SDK folder is mostly the vendor's; a rootfs lib folder holding two vendor libraries
    # among hundreds is not, and there only what a vendor library loads (DT_NEEDED) is lent
    needed = {n for s in siblings if s.facts for n in s.facts.values("elf.needed")}
    sdk_folder = len(siblings) >= len(unmarked)
    out = []
    for c in children:
        if id(c) in unmarked and (sdk_folder or c.name in needed or (
                c.facts is not None and c.facts.first("elf.soname") in needed)):
            ev = Evidence("context", "bundle", f"no mark of its own; ships beside "
                          f"{len(siblings)} files made by {vendor}: {names}", c.path,
                          "bundle:siblings", BUNDLE_CONFIDENCE)
            c = replace(c, attributions=(*c.attributions, Attribution(
                vendor, Relationship.MADE_BY, BUNDLE_CONFIDENCE, (ev,))))
        out.append(c)
    return tuple(out)
