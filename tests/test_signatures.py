"""The built-in signature set: schema, rules, samples, lint, commands and the README table."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from typer.testing import CliRunner

from provenance import signature_tools as tools
from provenance.commands.signatures import app
from provenance.model import Relationship
from provenance.signatureset import SignatureError, load_rule, load_vendor

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "signatures"
CATALOG = ROOT.parent / "shared" / "reference" / "catalog.json"
CATALOG_VENDORS = (
    "huawei", "hisilicon", "honor", "zte", "sanechips", "nubia", "hikvision", "ezviz",
    "hilook-hiwatch", "hikrobot", "dahua", "imou", "lorex", "hytera", "kaspersky", "dji", "autel",
    "quectel", "fibocom", "china-mobile", "china-telecom", "china-unicom", "pacnet-comnet",
)
CORPUS_VENDORS = ("goke", "ingenic", "sigmastar", "mediatek", "realtek", "broadcom", "qualcomm")
runner = CliRunner()


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sig_generate", SAMPLES / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- data --------------------------------------------------------------------------------------


def test_every_catalog_and_corpus_vendor_has_a_file(sigset) -> None:
    assert set(CATALOG_VENDORS + CORPUS_VENDORS) <= set(sigset.vendors)


@pytest.mark.skipif(not CATALOG.exists(), reason="shared catalog not present")
def test_catalog_oui_lists_are_complete(sigset) -> None:
    import json

    summary = json.loads(CATALOG.read_text())["raw_id_tables"]["oui_summary"]
    mapping = {"imou_huacheng": "imou"}
    for key, data in summary.items():
        vid = mapping.get(key, key.replace("_", "-"))
        if vid not in sigset.vendors:  # JV names (huawei_symantec_jv, prama_...) are notes only
            assert key.endswith("_jv") or key.startswith("_"), key
            continue
        ours = {f.value for f in sigset.vendors[vid].ouis}
        assert set(data["wireshark_manuf_2026_10"]["prefixes"]) == ours, vid


def test_family_and_dated_ownership(sigset) -> None:
    assert sigset.family("hisilicon") == ("hisilicon", "huawei")
    assert sigset.family("ezviz") == ("ezviz", "hikvision")
    assert sigset.family("honor") == ("honor",)  # sold 2020-11-17: not a Huawei affiliate here
    assert sigset.family("lorex") == ("lorex",)  # Dahua only 2018-02-06..2022-11-24
    assert "2018-02-06" in sigset.vendors["lorex"].ownership
    assert "2022-11-24" in sigset.vendors["lorex"].ownership


def test_every_fact_has_a_source_and_countries_are_sourced(sigset) -> None:
    for vendor in sigset.vendors.values():
        assert vendor.sources, vendor.id
        if vendor.country:
            assert vendor.country_source in vendor.sources, vendor.id
        if vendor.parent:
            assert vendor.parent_source in vendor.sources, vendor.id


def test_false_friend_identifiers_are_not_attributed(sigset) -> None:
    huawei = sigset.vendors["huawei"]
    assert "1472" not in {f.value for f in huawei.usb_ids}  # Huawei-3Com
    assert "00:22:A1" not in {f.value for f in huawei.ouis}  # Huawei Symantec
    assert "1ba8" not in {f.value for f in sigset.vendors["china-telecom"].usb_ids}
    names = " ".join(f.value for v in sigset.vendors.values() for f in v.aliases + v.legal_names)
    for friend in ("Shanghai Dahua Scale", "Jorex", "Autelan", "Autelis", "Tianyi Comheart"):
        assert friend not in names


def test_rules_have_closed_meta_and_weak_rules_are_capped(sigset) -> None:
    ids = [r.id for r in sigset.rules]
    assert len(ids) == len(set(ids)) >= 40
    for rule in sigset.rules:
        assert rule.vendor in sigset.vendors
        if rule.weak:
            assert rule.confidence <= tools.WEAK_MAX_CONFIDENCE
    weak = {r.id for r in sigset.rules if r.weak}
    assert {"huawei_secure_c", "huawei_name", "zte_name", "dahua_name"} <= weak
    lineage = next(r for r in sigset.rules if r.id == "hisilicon_goke_lineage")
    assert lineage.relationship is Relationship.LINEAGE


def test_lint_rejects_unsourced_vendor_facts(tmp_path: Path) -> None:
    path = tmp_path / "acme.yml"
    path.write_text("id: acme\nname: Acme\ncountry: US\nsources: {s: cite}\n")
    assert load_vendor(path).country_source is None  # loads; lint reports it
    top = tmp_path / "sigs" / "vendors"
    top.mkdir(parents=True)
    shutil.copy(path, top / "acme.yml")
    assert any("country_source" in p for p in tools.lint([top.parent]))
    (top / "acme.yml").write_text("id: acme\nname: Acme\nnotes: see [nowhere]\nsources: {s: cite}\n"
                                  "namespaces: {cargo: [{value: acme, source: s}]}\n")
    problems = tools.lint([top.parent])
    assert any("[nowhere]" in p for p in problems)
    assert any("cargo" in p for p in problems)


def test_rule_meta_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "x_rule.yar"
    path.write_text('rule x_rule { meta: id = "x_rule" vendor = "huawei" relationship = "made-by"\n'
                    'confidence = "0.5" component = "c" description = "d" reference = "r"\n'
                    'author = "me"\n strings: $a = "abcd" condition: $a }')
    with pytest.raises(SignatureError, match="unknown"):
        load_rule(path)


# -- samples -----------------------------------------------------------------------------------


def test_samples_regenerate_byte_identical(tmp_path: Path) -> None:
    _generator().write(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.bin")}
    committed = {p.relative_to(SAMPLES): p.read_bytes() for p in SAMPLES.rglob("*.bin")}
    assert fresh.keys() == committed.keys()
    assert all(fresh[k] == committed[k] for k in fresh)


def test_every_rule_has_a_positive_and_a_negative(sigset) -> None:
    for rule in sigset.rules:
        positives, negatives = tools.samples_of(sigset, rule)
        assert positives, f"{rule.id} has no positive sample"
        assert negatives, f"{rule.id} has no near-miss negative sample"


def test_every_sample_behaves(sigset) -> None:
    results = tools.test_rules(sigset)
    assert len(results) >= 2 * len(sigset.rules)
    bad = [(r.rule, r.sample.name, r.fired) for r in results if not r.ok]
    assert not bad


@pytest.mark.parametrize("sample", [
    "huawei_update_app/negative-falsefriend-lone-magic.bin",
    "dahua_name/negative-falsefriend-scale-factory.bin",
    "zte_name/negative-falsefriend-ztest.bin",
    "hikvision_name/negative-falsefriend-hikari.bin",
    "dji_name/negative-falsefriend-djinn.bin",
    "huawei_name/negative-falsefriend-option-ko.bin",
])
def test_false_friends_fire_no_rule(sigset, sample: str) -> None:
    from provenance.attribute.resolve import resolve
    from provenance.attribute.yara_scan import scan_bytes
    from provenance.model import Relationship

    hits = scan_bytes(sigset, (SAMPLES / sample).read_bytes())
    assert [h.rule for h in hits if not h.rule.startswith("marks__")] == []
    # identity marks may note that a name is mentioned, never more
    assert {a.relationship for a in resolve(None, hits, sigset, sample)} <= {
        Relationship.MENTIONS, Relationship.SUPPORTS}


def test_samples_are_small_and_not_executable() -> None:
    for path in SAMPLES.rglob("*.bin"):
        assert path.stat().st_size <= tools.MAX_SAMPLE_BYTES
        assert not path.stat().st_mode & 0o111, path


# -- lint --------------------------------------------------------------------------------------


def test_builtin_set_lints_clean() -> None:
    assert tools.lint() == []


def _user_dir(tmp_path: Path, rule_text: str, rule_id: str = "acme_banner") -> Path:
    top = tmp_path / "sigs"
    (top / "vendors").mkdir(parents=True)
    (top / "yara" / "acme").mkdir(parents=True)
    (top / "vendors" / "acme.yml").write_text(yaml.safe_dump(
        {"id": "acme", "name": "Acme Ltd.", "country": None, "parent": None,
         "aliases": [{"value": "Acme Ltd.", "source": "own"}], "sources": {"own": "test"}}))
    (top / "yara" / "acme" / f"{rule_id}.yar").write_text(rule_text)
    return top


def _rule(strings: str, cond: str = "any of them", rid: str = "acme_banner") -> str:
    return (f'rule {rid}\n{{\n    meta:\n        id = "{rid}"\n        vendor = "acme"\n'
            '        relationship = "made-by"\n        confidence = "0.80"\n'
            '        component = "Acme"\n        description = "Acme banner"\n'
            '        reference = "test"\n'
            f"    strings:\n        {strings}\n    condition:\n        {cond}\n}}\n")


def test_lint_user_directory_needs_samples(tmp_path: Path) -> None:
    top = _user_dir(tmp_path, _rule('$a = "Acme Banner v"'))
    problems = tools.lint([top])
    assert any("no samples directory" in p for p in problems)
    (top / "samples" / "acme_banner").mkdir(parents=True)
    (top / "samples" / "acme_banner" / "positive-a.bin").write_bytes(b"Acme Banner v1\n")
    assert any("no near-miss negative" in p for p in tools.lint([top]))
    (top / "samples" / "acme_banner" / "negative-a.bin").write_bytes(b"Acme Banner v1\n")
    assert any("fires on its negative" in p for p in tools.lint([top]))
    (top / "samples" / "acme_banner" / "negative-a.bin").write_bytes(b"Acme\n")
    assert tools.lint([top]) == []


def test_lint_reports_orphan_and_misnamed_samples(tmp_path: Path) -> None:
    top = _user_dir(tmp_path, _rule('$a = "Acme Banner v"'))
    (top / "samples" / "acme_banner").mkdir(parents=True)
    (top / "samples" / "acme_banner" / "positive-a.bin").write_bytes(b"Acme Banner v1\n")
    (top / "samples" / "acme_banner" / "negative-a.bin").write_bytes(b"Acme\n")
    (top / "samples" / "acme_banner" / "sample.txt").write_bytes(b"x")
    (top / "samples" / "acme_gone").mkdir()
    problems = tools.lint([top])
    assert any("unknown rule acme_gone" in p for p in problems)
    assert any("sample.txt" in p for p in problems)


def test_lint_rejects_short_strings_and_leading_wildcards(tmp_path: Path) -> None:
    problems = tools.lint([_user_dir(tmp_path, _rule('$a = "Acm"'))])
    assert any("shorter than 4" in p for p in problems)
    shutil.rmtree(tmp_path / "sigs")
    problems = tools.lint([_user_dir(tmp_path, _rule("$a = /.*Acme Banner/"))])
    assert any("wildcard" in p or "YARA" in p for p in problems)


def test_lint_fails_on_yara_warnings(tmp_path: Path) -> None:
    problems = tools.lint([_user_dir(tmp_path, _rule("$a = { 00 00 00 00 }"))])
    assert any("YARA" in p for p in problems)


def test_lint_reports_unknown_vendor(tmp_path: Path) -> None:
    top = _user_dir(tmp_path, _rule('$a = "Acme Banner v"'))
    text = (top / "yara" / "acme" / "acme_banner.yar").read_text().replace('"acme"', '"nobody"')
    (top / "yara" / "acme" / "acme_banner.yar").write_text(text)
    assert any("not a known vendor" in p for p in tools.lint([top]))


# -- commands ----------------------------------------------------------------------------------


def test_cli_list() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert "huawei_update_app" in result.output and "hisilicon" in result.output
    assert re.search(r"\d+ vendors, \d+ rules", result.output)


def test_cli_lint_ok_and_invalid(tmp_path: Path) -> None:
    assert runner.invoke(app, ["lint"]).exit_code == 0
    top = _user_dir(tmp_path, _rule('$a = "Acme Banner v"'))
    result = runner.invoke(app, ["lint", "--signatures", str(top)])
    assert result.exit_code == 3
    assert "no samples directory" in result.output


def test_cli_test() -> None:
    result = runner.invoke(app, ["test"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output


def test_cli_invalid_set_exits_3(tmp_path: Path) -> None:
    top = tmp_path / "bad"
    (top / "vendors").mkdir(parents=True)
    (top / "vendors" / "Bad.yml").write_text("id: Bad\nname: x\nsources: {a: b}\n")
    assert runner.invoke(app, ["list", "--signatures", str(top)]).exit_code == 3
    assert runner.invoke(app, ["test", "--signatures", str(top)]).exit_code == 3


# -- docs --------------------------------------------------------------------------------------


@pytest.mark.readme
def test_readme_has_the_evidence_kind_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert tools.calibration_markdown().rstrip() in readme


@pytest.mark.readme
def test_readme_has_the_signature_table(sigset) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert tools.signatures_markdown(sigset) in readme
