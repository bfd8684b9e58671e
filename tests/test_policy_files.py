"""The built-in policy files: schema, sources and dates, thresholds, --as-of, affiliates.

Evaluated against a hand-made vendor catalog (stub vendors with the real ids and parents), so
these tests check the policy data and evaluation, not the vendor files.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from provenance.model import Attribution, Component, Evidence, Relationship, Verdict
from provenance.policy import DEFAULT_POLICIES, evaluate
from provenance.signatureset import SignatureSet, Vendor, builtin_dir, load_policy

POLICY_DIR = Path(__file__).resolve().parent.parent / "signatures" / "policies"
IDS = {"us-ndaa-889", "us-fcc-covered-list", "us-kaspersky-icts-2024", "uk-huawei-designation",
       "eu-5g-2023", "se-pts-2020", "jp-2018-procurement"}
PARENTS = {"hisilicon": "huawei", "ezviz": "hikvision", "sanechips": "zte", "imou": "dahua"}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _policies():
    return {p.stem: load_policy(p) for p in sorted(POLICY_DIR.glob("*.yml"))}


def _sigset() -> SignatureSet:
    policies = _policies()
    ids = {v for p in policies.values() for e in p.entities for v in e.vendors} | set(PARENTS)
    vendors = {v: Vendor(v, v.title(), "CN", PARENTS.get(v)) for v in ids}
    return SignatureSet(vendors, (), policies, "sha256:" + "0" * 64, ())


def _component(vendor: str, rel: Relationship, conf: float = 0.9) -> Component:
    ev = Evidence("binary-analysis", "string", "x", "fw!/lib.so", "rule", conf)
    return Component("ref-1", ("fw", "lib.so"), "lib.so", "elf", "0" * 64, 1,
                     attributions=(Attribution(vendor, rel, conf, (ev,)),))


def _eval(policy: str, vendor: str, rel: Relationship, as_of: date, conf: float = 0.9):
    return evaluate([_component(vendor, rel, conf)], _sigset(), [policy], as_of)


def test_all_policies_present_and_well_formed():
    policies = _policies()
    present = set(policies)
    missing = IDS - present
    # a policy is held back only while a vendor it names is missing from the catalog
    vendors_dir = builtin_dir() / "vendors"
    assert not missing, f"policy files missing: {sorted(missing)} (vendors dir {vendors_dir})"
    for pid, policy in policies.items():
        assert policy.id == pid and policy.jurisdiction and policy.source
        assert "[" in policy.source, f"{pid}: source without a catalog key"
        for entity in policy.entities:
            assert ISO.match(entity.in_force), (pid, entity.entity)
            assert re.search(r"\[[a-z0-9_]+\]", entity.source), (pid, entity.entity)
        for level in (policy.restricted, policy.review):
            assert Relationship.SUPPORTS not in level.relationships
            assert Relationship.MENTIONS not in level.relationships


def test_policy_vendors_exist_in_the_catalog():
    vendors_dir = builtin_dir() / "vendors"
    for policy in _policies().values():
        for entity in policy.entities:
            for vid in entity.vendors:
                assert (vendors_dir / f"{vid}.yml").exists(), (policy.id, vid)


def test_default_policies_exist():
    assert set(DEFAULT_POLICIES) <= set(_policies())


@pytest.mark.parametrize("rel", [Relationship.SUPPORTS, Relationship.MENTIONS])
def test_supports_and_mentions_never_flag(rel):
    for pid in _policies():
        assert _eval(pid, "huawei", rel, date(2026, 1, 1), 1.0) == ()


def test_ndaa_889_entities_dates_and_scope():
    policy = _policies()["us-ndaa-889"]
    assert {v for e in policy.entities for v in e.vendors if e.at_most is Verdict.RESTRICTED} == {
        "huawei", "zte", "hytera", "hikvision", "dahua"}
    (f,) = _eval("us-ndaa-889", "hikvision", Relationship.MADE_BY, date(2020, 1, 1))
    assert f.level is Verdict.RESTRICTED and "purpose-limited" in f.entries[0].scope
    assert _eval("us-ndaa-889", "zte", Relationship.MADE_BY, date(2019, 8, 12)) == ()
    (f,) = _eval("us-ndaa-889", "hisilicon", Relationship.MADE_BY, date(2024, 1, 1))
    assert "affiliate of huawei" in f.rationale
    (f,) = _eval("us-ndaa-889", "ezviz", Relationship.LINEAGE, date(2024, 1, 1), 0.5)
    assert f.level is Verdict.REVIEW
    (f,) = _eval("us-ndaa-889", "huawei", Relationship.MADE_BY, date(2024, 1, 1), 0.5)
    assert f.level is Verdict.REVIEW  # below the restricted confidence


def test_fcc_inclusion_dates():
    policy = _policies()["us-fcc-covered-list"]
    dates = {v: e.in_force for e in policy.entities for v in e.vendors}
    assert dates == {"huawei": "2021-03-12", "zte": "2021-03-12", "sanechips": "2021-03-12",
                     "hytera": "2021-03-12", "hikvision": "2021-03-12", "dahua": "2021-03-12",
                     "kaspersky": "2022-03-25", "china-mobile": "2022-03-25",
                     "china-telecom": "2022-03-25", "pacnet-comnet": "2022-09-20",
                     "china-unicom": "2022-09-20", "dji": "2025-12-22", "autel": "2025-12-22"}
    assert _eval("us-fcc-covered-list", "dji", Relationship.MADE_BY, date(2025, 12, 21)) == ()
    (f,) = _eval("us-fcc-covered-list", "dji", Relationship.MADE_BY, date(2025, 12, 22))
    assert f.level is Verdict.RESTRICTED and f.entries[0].in_force == "2025-12-22"
    (f,) = _eval("us-fcc-covered-list", "china-unicom", Relationship.SERVICE, date(2023, 1, 1))
    assert f.level is Verdict.REVIEW and "services only" in f.entries[0].scope


def test_kaspersky_integration_is_restricted():
    (f,) = _eval("us-kaspersky-icts-2024", "kaspersky", Relationship.CONTAINS, date(2024, 8, 1),
                 0.8)
    assert f.level is Verdict.RESTRICTED and "third-party" in f.entries[0].scope
    assert _eval("us-kaspersky-icts-2024", "kaspersky", Relationship.CONTAINS,
                 date(2024, 7, 19)) == ()


def test_japan_restricts_products_and_parts_as_reported_and_says_it_names_no_vendor():
    policy = _policies()["jp-2018-procurement"]
    assert set(policy.restricted.relationships) == {
        Relationship.MADE_BY, Relationship.CONTAINS, Relationship.PART}
    assert "names no company" in policy.notes and "press" in policy.notes
    assert all("criteria-based" in e.scope for e in policy.entities)
    for rel in (Relationship.MADE_BY, Relationship.PART):
        (f,) = _eval("jp-2018-procurement", "huawei", rel, date(2020, 1, 1), 0.9)
        assert f.level is Verdict.RESTRICTED
    (f,) = _eval("jp-2018-procurement", "zte", Relationship.LINEAGE, date(2020, 1, 1), 0.9)
    assert f.level is Verdict.REVIEW
    assert _eval("jp-2018-procurement", "huawei", Relationship.PART, date(2018, 1, 1), 0.9) == ()


@pytest.mark.parametrize("pid", ["us-ndaa-889", "us-fcc-covered-list", "uk-huawei-designation",
                                 "eu-5g-2023", "se-pts-2020"])
def test_equipment_lists_restrict_parts_of_covered_makers(pid):
    assert Relationship.PART in _policies()[pid].restricted.relationships
    assert Relationship.PART not in _policies()["us-kaspersky-icts-2024"].review.relationships


@pytest.mark.parametrize("pid, vendor, day", [
    ("uk-huawei-designation", "huawei", date(2022, 10, 13)),
    ("eu-5g-2023", "zte", date(2023, 6, 15)),
    ("se-pts-2020", "huawei", date(2020, 10, 20)),
])
def test_non_us_lists_in_force_from_their_date(pid, vendor, day):
    (f,) = _eval(pid, vendor, Relationship.MADE_BY, day)
    assert f.level is Verdict.RESTRICTED
    assert _eval(pid, vendor, Relationship.MADE_BY, date.fromordinal(day.toordinal() - 1)) == ()


def test_legal_sources_resolve_to_their_citations(sigset):
    for policy in sigset.policies.values():
        for entity in policy.entities:
            keys = re.findall(r"\[([A-Za-z0-9_]+)\]", entity.source)
            assert [c.partition(": ")[0] for c in entity.citations] == keys, policy.id
            assert all(c.partition(": ")[2] for c in entity.citations)
    s889 = sigset.policies["us-ndaa-889"].entities[0]
    assert any("acq.osd.mil" in c for c in s889.citations)


def test_every_source_key_of_a_builtin_policy_resolves(sigset):
    for policy in sigset.policies.values():
        keys = re.findall(r"\[([A-Za-z0-9_]+)\]", policy.source)
        text = Path(policy.path).read_text(encoding="utf-8")
        assert all(f"\n  {k}: " in text for k in keys), policy.id


def test_reports_carry_the_citations(sigset):
    from datetime import date

    from conftest import SAMPLES

    from provenance import pipeline
    from provenance.report import FORMATS

    result = pipeline.scan(SAMPLES / "ipcam-hi3516ev200.tar.gz", sigset,
                           pipeline.ScanOptions(as_of=date(2026, 1, 1), reproducible=True))
    for name in ("cyclonedx-json", "sarif", "markdown", "html"):
        assert "acq.osd.mil/dpap/dars/section889" in FORMATS[name](result), name


@pytest.mark.parametrize("pid", ["us-ndaa-889", "us-fcc-covered-list", "eu-5g-2023", "se-pts-2020",
                                 "jp-2018-procurement"])
def test_a_reported_but_unconfirmed_affiliate_is_review_at_most(sigset, pid):
    # the built-in catalog gives Sanechips no parent (its being ZTE Microelectronics is reported,
    # not confirmed); each list naming ZTE names Sanechips with `at_most: review`
    assert sigset.vendors["sanechips"].parent is None
    (entry,) = [e for e in sigset.policies[pid].entities if "sanechips" in e.vendors]
    assert entry.at_most is Verdict.REVIEW and "not confirmed" in entry.scope
    for rel in (Relationship.MADE_BY, Relationship.PART):
        (f,) = evaluate([_component("sanechips", rel, 0.95)], sigset, [pid], date(2026, 1, 1))
        assert f.level is Verdict.REVIEW
    # the cap is the entry's own: ZTE's findings under the same list are still restricted
    (f,) = evaluate([_component("zte", Relationship.MADE_BY, 0.95)], sigset, [pid],
                    date(2026, 1, 1))
    assert f.level is Verdict.RESTRICTED


def test_an_entry_cap_other_than_restricted_or_review_is_refused(tmp_path):
    from provenance.signatureset import SignatureError
    text = (POLICY_DIR / "us-ndaa-889.yml").read_text().replace(
        "at_most: review", "at_most: clear")
    path = tmp_path / "us-ndaa-889.yml"
    path.write_text(text)
    with pytest.raises(SignatureError, match="at_most must be restricted or review"):
        load_policy(path)
