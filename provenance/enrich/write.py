"""Writing provenance's fields into the SBOM a team gave us (DESIGN §7).

The properties and evidence of a component are the ones `provenance scan` writes
(`report.cyclonedx.component_properties` / `component_evidence`), so `provenance render` and
`report.load` read an enriched SBOM as they read a scan report. Nothing the SBOM said is removed
or rewritten: a declared `manufacturer` stays (ours is in `provenance:manufacturer`), and our
evidence is added to the component's own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from provenance import __version__
from provenance.enrich.supplier import SupplierCheck
from provenance.identify.sbom_read import MAX_CHECKED, SbomInput, checked_part, schema_validator
from provenance.model import Component, Finding, Problem, ProblemKind, Stage, Verdict
from provenance.report.cyclonedx import (
    component_evidence,
    component_properties,
    json_value,
    problem_dict,
    prop,
)
from provenance.signatureset import SignatureSet

__all__ = ["add_tool", "summarise", "write_component"]

MAX_OUTPUT_ERRORS = 20


def _add_evidence(comp: dict[str, Any], ours: dict[str, Any]) -> None:
    """Add our identity/occurrences to a component's evidence without dropping its own."""
    evidence = comp.setdefault("evidence", {})
    if not isinstance(evidence, dict):
        return
    identity = evidence.get("identity")
    if identity is None:
        evidence["identity"] = ours["identity"]
    elif isinstance(identity, list):
        identity.extend(ours["identity"])
    elif isinstance(identity, dict):  # 1.5's single object: 1.6 wants a list to add to
        evidence["identity"] = [identity, *ours["identity"]]
    occurrences = evidence.setdefault("occurrences", [])
    if isinstance(occurrences, list):
        occurrences.extend(ours["occurrences"])


def write_component(comp: dict[str, Any], component: Component, verdict: Verdict,
                    findings: tuple[Finding, ...], relabel: str | None, is_root: bool,
                    supplier: SupplierCheck | None = None) -> None:
    """Add a component's manufacturer, properties and evidence (and with `--fill-supplier`
    its supplier and hints) to its SBOM dict."""
    props = comp.setdefault("properties", [])
    if not isinstance(props, list):
        return
    ours = component_properties(component, verdict, findings)
    if is_root:  # the document's summary states the root's verdict
        ours = [p for p in ours if p["name"] != "provenance:verdict"]
    props += ours
    if relabel:
        props.append(prop("relabelled", relabel))
    if supplier is not None:
        props += supplier.properties
        if supplier.supplier is not None and "supplier" not in comp:
            comp["supplier"] = supplier.supplier
    m = component.manufacturer
    if m is not None and "manufacturer" not in comp:
        comp["manufacturer"] = {"name": m.name,
                                **({"address": {"country": m.country}} if m.country else {})}
    evidence = component_evidence(component)
    if evidence is not None:
        _add_evidence(comp, evidence)


def add_tool(doc: dict[str, Any], sigset: SignatureSet) -> None:
    meta = doc.setdefault("metadata", {})
    tools = meta.get("tools")
    entry = {"type": "application", "name": "provenance", "version": __version__,
             "properties": [prop("signature-digest", sigset.digest)]}
    if tools is None:
        meta["tools"] = {"components": [entry]}
    elif isinstance(tools, dict):
        tools.setdefault("components", []).append(entry)
    elif isinstance(tools, list):  # the legacy (1.2-1.4) array form, still valid in 1.6
        tools.append({"vendor": "provenance", "name": "provenance", "version": __version__})


def _output_problems(doc: dict[str, Any], source: str, strict: bool) -> list[Problem]:
    """What the output breaks of CycloneDX 1.6: the structure, or with `strict` also every
    `format` (an Earley-parsed IRI grammar per URL: seconds on a few hundred components). Past
    `MAX_CHECKED` components the first ones are checked (those enrich changed come first)."""
    part, cut = checked_part(doc, MAX_CHECKED)
    out = [Problem(source, Stage.REPORT, f"more than {MAX_CHECKED} components: the output's "
                   f"CycloneDX 1.6 schema check covered the first {MAX_CHECKED}",
                   ProblemKind.LIMIT)] if cut else []
    try:
        errors = list(itertools.islice(schema_validator("1.6", strict).iter_errors(part),
                                       MAX_OUTPUT_ERRORS))
    except RecursionError:  # a document nested deeper than the validator recurses
        return [*out, Problem(source, Stage.REPORT,
                              "output not schema-checked: nested too deeply", ProblemKind.LIMIT)]
    return out + [Problem(source, Stage.REPORT,
                          f"output is not valid CycloneDX 1.6: {getattr(e, 'message', e)}"[:300],
                          ProblemKind.CORRUPT) for e in errors]


def summarise(doc: dict[str, Any], sbom: SbomInput, source: str, overall: Verdict,
              findings: Sequence[Finding], problems: list[Problem], policy_ids: Sequence[str],
              counts: dict[str, str], strict: bool, as_of: str | None = None) -> None:
    """Write the document's summary on metadata.component, then check the output: what the
    input carried that 1.6 refuses is kept, and said (`problems` grows)."""
    meta_component = doc["metadata"]["component"]
    props = meta_component.setdefault("properties", [])

    def summary() -> list[dict[str, str]]:
        return [prop("verdict", overall.value),
                prop("coverage", "partial" if problems else "complete"),
                prop("policies", ",".join(policy_ids)),
                *([prop("as-of", as_of)] if as_of else []),
                prop("sbom-format", sbom.format),
                prop("findings", str(len(findings))),
                prop("waived", str(sum(1 for f in findings if f.waiver is not None))),
                *[prop(k, v) for k, v in counts.items()],
                *[prop("problem", json_value(problem_dict(p))) for p in problems]]

    base = len(props)
    props.extend(summary())
    # Our additions have fixed, tested shapes: a clean 1.6 input stays valid, so only other
    # inputs, or a strict check, pay for a second schema pass.
    clean = sbom.format == "CycloneDX JSON 1.6" and not sbom.problems
    if strict or not clean:
        extra = _output_problems(doc, source, strict)
        if extra:
            problems.extend(extra)
            del props[base:]
            props.extend(summary())
