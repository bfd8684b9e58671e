"""The built-in signature set: schema, rules, samples, lint, commands and the README table."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from provenance.commands.signatures import app
from provenance.model import Relationship
from provenance.signatureset import SignatureError, load, load_rule, load_vendor
from provenance.signatureset import docs as sigdocs
from provenance.signatureset import lint as siglint
from provenance.signatureset import samples as sigsamples

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
RULE_IDS = [r.id for r in load().rules]


def _lint(dirs: list[Path] | None = None) -> list[str]:
    return [v.message for v in siglint.lint(dirs or [])]


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
            assert rule.confidence <= siglint.WEAK_MAX_CONFIDENCE
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
    assert any("country_source" in p for p in _lint([top.parent]))
    (top / "acme.yml").write_text("id: acme\nname: Acme\nnotes: see [nowhere]\nsources: {s: cite}\n"
                                  "namespaces: {cargo: [{value: acme, source: s}]}\n")
    problems = _lint([top.parent])
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


def test_sample_files_are_the_specs_built(tmp_path: Path, sigset) -> None:
    """samples/signatures/ holds the files built from the specs beside the rules, no other."""
    sigsamples.write(sigset, tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*.bin")}
    committed = {p.relative_to(SAMPLES): p.read_bytes() for p in SAMPLES.rglob("*.bin")}
    assert fresh.keys() == committed.keys()
    assert [k for k in fresh if fresh[k] != committed[k]] == []


def test_every_rule_has_its_spec_beside_it_with_a_positive_and_a_negative(sigset) -> None:
    for rule in sigset.rules:
        assert sigsamples.spec_path(rule).is_file(), rule.id
        found = sigsamples.samples_of(sigset, rule)
        assert [s for s in found if s.positive], f"{rule.id} has no positive sample"
        assert [s for s in found if not s.positive], f"{rule.id} has no near-miss negative"


@pytest.fixture(scope="module")
def compiled(sigset):
    return sigsamples.compiled_rules(sigset)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_sample_behaves(sigset, compiled, rule_id: str) -> None:
    rule = next(r for r in sigset.rules if r.id == rule_id)
    results = sigsamples.run(compiled, sigsamples.samples_of(sigset, rule))
    assert len(results) >= 2
    assert [(r.sample.name, r.fired) for r in results if not r.ok] == []


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
        assert path.stat().st_size <= sigsamples.MAX_SAMPLE_BYTES
        assert not path.stat().st_mode & 0o111, path


# -- lint --------------------------------------------------------------------------------------


def test_builtin_set_lints_clean() -> None:
    assert _lint() == []


GOOD_SPEC = 'positive-banner: "Acme Banner v1\\n"\nnegative-name-only: "Acme Ltd.\\n"\n'
GOOD_VENDOR = {"id": "acme", "name": "Acme Ltd.", "country": "US", "country_source": "own",
               "aliases": [{"value": "Acme Ltd.", "source": "own"}], "sources": {"own": "test"}}


def _user_dir(tmp_path: Path, rule_text: str, rule_id: str = "acme_banner",
              spec: str | None = GOOD_SPEC, vendor: dict | None = None,
              folder: str = "acme") -> Path:
    """A user signature directory: one vendor, one rule and, by default, its sample spec."""
    top = tmp_path / "sigs"
    (top / "vendors").mkdir(parents=True)
    (top / "yara" / folder).mkdir(parents=True)
    (top / "vendors" / "acme.yml").write_text(yaml.safe_dump(vendor or GOOD_VENDOR))
    (top / "yara" / folder / f"{rule_id}.yar").write_text(rule_text)
    if spec is not None:
        (top / "yara" / folder / f"{rule_id}.samples.yml").write_text(spec)
    return top


def _rule(strings: str = '$a = "Acme Banner v"', cond: str = "any of them",
          rid: str = "acme_banner", extra: str = "", relationship: str = "made-by",
          confidence: str = "0.80") -> str:
    return (f'rule {rid}\n{{\n    meta:\n        id = "{rid}"\n        vendor = "acme"\n'
            f'        relationship = "{relationship}"\n        confidence = "{confidence}"\n'
            '        component = "Acme"\n        description = "Acme banner"\n'
            f'        reference = "test"\n{extra}'
            f"    strings:\n        {strings}\n    condition:\n        {cond}\n}}\n")


def _vendor(**changes) -> dict:
    return {**GOOD_VENDOR, **changes}


def _bin_samples(top: Path, files: dict[str, bytes], mode: int = 0o644) -> None:
    folder = top / "samples" / "acme_banner"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
        (folder / name).chmod(mode)


def _spec(top: Path, text: str) -> None:
    (top / "yara" / "acme" / "acme_banner.samples.yml").write_text(text)


# lint class name -> a change that makes the good user directory break exactly that lint
BREAK = {
    "MalformedIdentifier": lambda t: _user_dir(t, _rule(), vendor=_vendor(
        usb_ids=[{"value": "12D1", "source": "own"}])),
    "UnknownCitation": lambda t: _user_dir(t, _rule(), vendor=_vendor(notes="see [nowhere]")),
    "UnknownEcosystem": lambda t: _user_dir(t, _rule(), vendor=_vendor(
        namespaces={"cargo": [{"value": "acme", "source": "own"}]})),
    "UnsourcedCountry": lambda t: _user_dir(t, _rule(), vendor=_vendor(country_source=None)),
    "UnsourcedParent": lambda t: _user_dir(t, _rule(), vendor=_vendor(parent="huawei")),
    "DuplicateOui": lambda t: _user_dir(t, _rule(), vendor=_vendor(
        ouis=[{"value": "AA:BB:CC", "source": "own"}] * 2)),
    "YaraProblem": lambda t: _user_dir(t, _rule("$a = { 00 00 00 00 }")),
    "ShortString": lambda t: _user_dir(t, _rule('$a = "Acm"')),
    "LeadingWildcard": lambda t: _user_dir(t, _rule("$a = /[A-Za-z]+ Banner v/")),
    "RuleOutsideVendorFolder": lambda t: _user_dir(t, _rule(), folder="other"),
    "WeakRuleTooConfident": lambda t: _user_dir(t, _rule(extra='        weak = "true"\n')),
    "WeakRuleStrongRelationship": lambda t: _user_dir(t, _rule(
        extra='        weak = "true"\n', relationship="lineage", confidence="0.30")),
    "BadVersionRegex": lambda t: _user_dir(t, _rule(
        extra='        version_regex = "v(\\\\d+"\n')),
    "BadSampleSpec": lambda t: _user_dir(t, _rule(), spec=GOOD_SPEC + "negative-x: {zeros: -1}\n"),
    "MissingSamples": lambda t: _user_dir(t, _rule(), spec=None),
    "MissingPositive": lambda t: _user_dir(t, _rule(), spec='negative-a: "Acme\\n"\n'),
    "MissingNegative": lambda t: _user_dir(t, _rule(), spec='positive-a: "Acme Banner v1"\n'),
    "ExecutableSample": lambda t: _bin_samples(_user_dir(t, _rule()), {
        "positive-b.bin": b"Acme Banner v2"}, mode=0o755),
    "OversizedSample": lambda t: _bin_samples(_user_dir(t, _rule()), {
        "negative-big.bin": bytes(sigsamples.MAX_SAMPLE_BYTES + 1)}),
    "MissesPositive": lambda t: _user_dir(t, _rule(), spec=GOOD_SPEC + 'positive-x: "Acme"\n'),
    "FiresOnNegative": lambda t: _user_dir(t, _rule(),
                                           spec=GOOD_SPEC + 'negative-x: "Acme Banner v2"\n'),
    # a built-in rule (zte_name) fires on this rule's false friend
    "FalseFriendFires": lambda t: _user_dir(t, _rule(), spec=GOOD_SPEC
                                            + 'negative-falsefriend-x: "ZTE Corporation"\n'),
    "OrphanSamples": lambda t: (t / "sigs" / "yara" / "acme" / "acme_gone.samples.yml")
    .write_text(GOOD_SPEC) if _user_dir(t, _rule()) else None,
    "MisnamedSample": lambda t: _user_dir(t, _rule(), spec=GOOD_SPEC + 'sample-x: "Acme"\n'),
}


def _violations(top: Path, lint: siglint.Lint) -> list[str]:
    """What one lint says about the user directory's own vendor, rule, samples or folder."""
    sigset = load((top,))
    ctx = siglint.Context(sigset)
    mine = [r for r in sigset.rules if r.path.is_relative_to(top)]
    if isinstance(lint, siglint.VendorLint):
        return [m for m in lint.check(ctx, sigset.vendors["acme"])]
    if isinstance(lint, siglint.RuleLint):
        return [m for rule in mine for m in lint.check(ctx, rule)]
    if isinstance(lint, siglint.DirectoryLint):
        return list(lint.check(ctx, top))
    assert isinstance(lint, siglint.SampleLint)
    compiled = sigsamples.compiled_rules(sigset)
    return [m for rule in mine
            for m in lint.check(ctx, rule, sigsamples.run(compiled, ctx.samples(rule)))]


def test_every_lint_is_registered_once_and_has_a_breaking_case() -> None:
    names = [type(lint).__name__ for lint in siglint.LINTS]
    assert len(names) == len(set(names))
    assert set(names) == set(BREAK)
    for lint in siglint.LINTS:
        assert lint.name != "lint" and lint.recommendation and lint.level in siglint.Level


@pytest.mark.parametrize("lint", siglint.LINTS, ids=lambda lint: type(lint).__name__)
def test_each_lint_fires_on_its_bad_case_and_not_on_the_good_one(tmp_path: Path, lint) -> None:
    good = _user_dir(tmp_path / "good", _rule())
    assert _violations(good, lint) == []
    BREAK[type(lint).__name__](tmp_path / "bad")
    found = _violations(tmp_path / "bad" / "sigs", lint)
    assert found, type(lint).__name__
    # the whole run reports it under the same lint
    reported = {type(v.lint).__name__ for v in siglint.lint([tmp_path / "bad" / "sigs"])}
    assert type(lint).__name__ in reported


def test_good_user_directory_lints_clean(tmp_path: Path) -> None:
    assert _lint([_user_dir(tmp_path, _rule())]) == []


def test_lint_messages_name_the_problem(tmp_path: Path) -> None:
    top = _user_dir(tmp_path / "a", _rule("$a = { 00 00 00 00 }"))
    assert _lint([top]) == [f"{top}/yara/acme/acme_banner.yar: YARA: "
                            "['line 12: string \"$a\" may slow down scanning']"]
    top = _user_dir(tmp_path / "b", _rule(), spec=GOOD_SPEC + 'negative-x: "Acme Banner v2"\n')
    assert _lint([top]) == ["acme_banner: fires on its negative negative-x.bin"]
    top = _user_dir(tmp_path / "c", _rule(), spec=GOOD_SPEC + 'negative-x: {zeros: -1}\n')
    assert _lint([top]) == [f"{top}/yara/acme/acme_banner.samples.yml: negative-x: expected a "
                            f"count up to {sigsamples.MAX_SAMPLE_BYTES}, not -1"]


def test_lint_user_directory_with_sample_files(tmp_path: Path) -> None:
    """A user directory may keep ready files in DIR/samples/<rule>/ instead of a spec."""
    top = _user_dir(tmp_path, _rule(), spec=None)
    assert any("no samples" in p for p in _lint([top]))
    _bin_samples(top, {"positive-a.bin": b"Acme Banner v1\n"})
    assert _lint([top]) == ["acme_banner: no near-miss negative sample (negative-*)"]
    _bin_samples(top, {"negative-a.bin": b"Acme Banner v1\n"})
    assert _lint([top]) == ["acme_banner: fires on its negative negative-a.bin"]
    _bin_samples(top, {"negative-a.bin": b"Acme\n", "sample.txt": b"x"})
    assert _lint([top]) == [f"{top}/samples/acme_banner/sample.txt: samples are named "
                            "positive-*.bin or negative-*.bin"]
    (top / "samples" / "acme_banner" / "sample.txt").unlink()
    assert _lint([top]) == []


def test_lint_reports_unknown_vendor(tmp_path: Path) -> None:
    top = _user_dir(tmp_path, _rule())
    text = (top / "yara" / "acme" / "acme_banner.yar").read_text().replace('"acme"', '"nobody"')
    (top / "yara" / "acme" / "acme_banner.yar").write_text(text)
    (violation,) = siglint.lint([top])
    assert isinstance(violation.lint, siglint.SchemaError)
    assert violation.message.endswith("vendor 'nobody' is not a known vendor")


# -- sample specs ------------------------------------------------------------------------------


def _build(tmp_path: Path, text: str) -> list[sigsamples.Sample]:
    path = tmp_path / "x.samples.yml"
    path.write_text(text)
    return sigsamples.build_spec(path, "x")


def test_spec_parts_build_the_bytes_they_say(tmp_path: Path) -> None:
    (sample,) = _build(tmp_path, '''positive-a:
  - "AB"
  - hex: "00 ff"
  - wide: "C"
  - zeros: 2
  - pack: [">H", 0x1234]
  - pad: [4, "Z"]
  - repeat: [3, {hex: "aa"}]
  - cstrings: ["x", "y"]
  - xor16: ["000102030405060708090a0b0c0d0e0f", {hex: "00000000000000000000000000000000ff"}]
''')
    assert sample.name == "positive-a.bin" and sample.positive
    assert sample.data == (b"AB" + b"\0\xff" + b"C\0" + b"\0\0" + b"\x12\x34" + b"Z\0\0\0"
                           + b"\xaa" * 3 + b"x\0y\0" + bytes(range(16)) + b"\xfe")
    (elf,) = _build(tmp_path, 'negative-b: {elf: ["libfoo.so"]}\n')
    assert elf.data.startswith(b"\x7fELF\x01\x01\x01") and elf.data.endswith(b"\0libfoo.so\0")
    assert len(elf.data) == 52 + len(b"libfoo.so\0")
    (pe,) = _build(tmp_path, 'negative-c: [{pe: ["x"]}, {cert: ["Acme Ltd."]}]\n')
    assert pe.data.startswith(b"MZ") and pe.data[0x40:0x44] == b"PE\0\0"
    assert b"\x06\x03\x55\x04\x0a\x0c\x09Acme Ltd." in pe.data  # O=Acme Ltd. as DER


@pytest.mark.parametrize("text, error", [
    ("positive-a: {zeros: 65537}\n", "count up to"),
    ("positive-a: {repeat: [65536, {hex: abab}]}\n", "under 65536 bytes"),
    ("positive-a: [{zeros: 40000}, {zeros: 40000}]\n", "under 65536 bytes"),
    ("positive-a: {pack: [\"<100000s\"]}\n", "too large"),
    ("positive-a: {pack: [\"<I\", -1]}\n", "pack"),
    ("positive-a: {gzip: x}\n", "unknown part 'gzip'"),
    ("positive-a: {hex: zz}\n", "not hex"),
    ("positive-a: 12\n", "a part is a string"),
    ("positive-a: {wide: 12}\n", "quote it"),
    ("positive-a: {cert: [" + "a" * 101 + "]}\n", "at most 100 bytes"),
    ("- not a mapping\n", "expected a mapping"),
    ("positive-a: [\n", "x.samples.yml"),
    # billion laughs: each level doubles; the part budget stops it long before memory does
    ("a: &a [\"\", \"\"]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
     "positive-e: [*d, *d, *d, *d, *d, *d, *d, *d]\n", "more than 10000 parts"),
])
def test_hostile_or_broken_specs_are_refused(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(sigsamples.SpecError, match=re.escape(error)):
        _build(tmp_path, text)


def test_sample_specs_are_not_part_of_the_signature_digest(tmp_path: Path) -> None:
    top = _user_dir(tmp_path, _rule())
    before = load((top,)).digest
    _spec(top, GOOD_SPEC + 'negative-more: "Acme\\n"\n')
    assert load((top,)).digest == before
    (top / "yara" / "acme" / "acme_banner.yar").write_text(_rule('$a = "Acme Banner v2"'))
    assert load((top,)).digest != before


# -- commands ----------------------------------------------------------------------------------


def test_cli_list() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert "huawei_update_app" in result.output and "hisilicon" in result.output
    assert re.search(r"\d+ vendors, \d+ rules", result.output)


def test_cli_lint_ok_and_invalid(tmp_path: Path) -> None:
    assert runner.invoke(app, ["lint"]).exit_code == 0
    top = _user_dir(tmp_path, _rule(), spec=None)
    result = runner.invoke(app, ["lint", "--signatures", str(top)])
    assert result.exit_code == 3
    assert "acme_banner.yar: no samples: add acme_banner.samples.yml beside it" in result.output


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
    assert sigdocs.calibration_markdown().rstrip() in readme


@pytest.mark.readme
def test_readme_has_the_signature_table(sigset) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sigdocs.signatures_markdown(sigset) in readme


def test_yara_rules_are_compiled_in_one_place() -> None:
    """Scanning, lint and the sample tests share `signatureset.compile.compile_yara`."""
    calls = [p.relative_to(ROOT).as_posix() for p in (ROOT / "provenance").rglob("*.py")
             if "yara.compile(" in p.read_text(encoding="utf-8")]
    assert calls == ["provenance/signatureset/compile.py"]


def test_cli_test_reports_a_broken_spec(tmp_path: Path) -> None:
    top = _user_dir(tmp_path, _rule(), spec=GOOD_SPEC + "negative-x: {gzip: x}\n")
    result = runner.invoke(app, ["test", "--signatures", str(top)])
    assert result.exit_code == 3
    assert "negative-x: unknown part 'gzip'" in result.output


def test_write_keeps_samples_in_their_rule_folder(tmp_path: Path, monkeypatch) -> None:
    top = _user_dir(tmp_path, _rule(), spec='positive-a: "Acme Banner v1"\n"../../escape": "x"\n')
    monkeypatch.setattr(sigsamples, "builtin_dir", lambda: top)  # write() takes built-in rules
    with pytest.raises(sigsamples.SpecError, match="not positive-"):
        sigsamples.write(load((top,)), tmp_path / "out")
    assert not (tmp_path / "escape.bin").exists()
