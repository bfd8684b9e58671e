"""`provenance enrich` over the SBOMs of the producers teams already run: losslessly.

cyclonedx-py (PyPI cyclonedx-bom), @cyclonedx/cyclonedx-npm and cdxgen, installed beforehand by
`python tests/install_producers.py` (.ci/run does it) into `~/.cache/provenance-producers` (or
$PROVENANCE_PRODUCERS_CACHE), run here on a Python environment and an npm project; the tests
install nothing, and a producer not installed skips its tests with the reason. Syft and Trivy
do not install from PyPI or npm: their SBOMs are fixtures written to
their documented shape (tests/fixtures/sbom/README.md).

Lossless means both directions of one deep comparison: every value the producer wrote is still at
its place, and everything else in the output is something enrich adds (a provenance:* property,
a manufacturer or supplier where there was none, evidence and a tool entry appended to lists).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from install_producers import cache_dir
from install_producers import step as run_once
from sbom_helpers import components, props

from provenance.enrich import enrich
from provenance.signatureset import SignatureSet

FIX = Path(__file__).parent / "fixtures" / "sbom"
ROOT = Path(__file__).resolve().parent.parent
POLICIES = ("us-ndaa-889",)
AS_OF = date(2026, 1, 1)

def _installed(cache: Path, *markers: str) -> str | None:
    """None when tests/install_producers.py installed these; else why the tests skip."""
    if all((cache / m).exists() for m in markers):
        return None
    return f"not installed in {cache}: run python tests/install_producers.py"


@pytest.fixture(scope="session")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """Producer name -> the SBOM it wrote, or why it could not run."""
    cache = cache_dir()
    out = tmp_path_factory.mktemp("produced")
    result: dict[str, Path | str] = {}

    py, pyenv = cache / "cyclonedx-py", cache / "pyenv"
    why = _installed(cache, "cyclonedx-py.ok", "pyenv.ok")
    if why is None:
        target = out / "cyclonedx-py.json"
        why = run_once(out / "cyclonedx-py.ok", [str(py / "bin" / "cyclonedx-py"), "environment",
                                             "--sv", "1.6", "--of", "JSON",
                                             "--output-reproducible", "-o", str(target),
                                             str(pyenv)])
    result["cyclonedx-py"] = why or out / "cyclonedx-py.json"

    tools, project = cache / "npm", cache / "nodeproj"
    why = _installed(cache, "npm-tools.ok", "nodeproj.ok")
    bin_ = tools / "node_modules" / ".bin"
    for name, command in (
        ("cyclonedx-npm", [str(bin_ / "cyclonedx-npm"), "--spec-version", "1.6",
                           "--output-format", "JSON", "--output-reproducible",
                           "--output-file", str(out / "cyclonedx-npm.json"),
                           str(project / "package.json")]),
        ("cdxgen", [str(bin_ / "cdxgen"), "-t", "js", "--spec-version", "1.6", "-o",
                    str(out / "cdxgen.json"), str(project)]),
    ):
        failed = why or run_once(out / f"{name}.ok", command)
        result[name] = failed or out / f"{name}.json"
    result["syft"] = FIX / "syft-image-cdx-1.6.json"
    result["trivy"] = FIX / "trivy-image-cdx-1.6.json"
    return result


def sbom_of(produced: dict[str, Path | str], producer: str) -> Path:
    found = produced[producer]
    if isinstance(found, str):
        pytest.skip(f"{producer} did not run here: {found}")
    return found


PRODUCERS = ["cyclonedx-py", "cyclonedx-npm", "cdxgen", "syft", "trivy"]
# what each SBOM holds that is Huawei's, by name (the scope, for npm, is the group)
HUAWEI = {"cyclonedx-py": {"huaweicloudsdkcore"},
          "cyclonedx-npm": {"huaweicloud-sdk-core"}, "cdxgen": {"huaweicloud-sdk-core"},
          "syft": {"huaweicloudsdkcore", "huaweicloud-sdk-core"},
          "trivy": {"huaweicloudsdkcore", "huaweicloud-sdk-core"}}
# the producers whose SBOM carries more than a namespace: the supplier can be filled
FILLED = {"syft": {"huaweicloudsdkcore"}}


# -- the deep comparison --------------------------------------------------------------------

Path_ = tuple[Any, ...]


def leaves(value: Any, path: Path_ = ()) -> list[tuple[Path_, Any]]:
    """(path, value) of every scalar, empty dict and empty list in a JSON document."""
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in leaves(v, (*path, k))] or [(path, {})]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in leaves(v, (*path, i))] or [(path, [])]
    return [(path, value)]


def at(doc: Any, path: Path_) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def present(doc: Any, path: Path_) -> bool:
    try:
        at(doc, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


UPGRADED = {("specVersion",), ("$schema",)}  # enrich writes CycloneDX 1.6 on purpose
APPENDED = ("properties", "identity", "occurrences", "components")  # lists enrich adds to
ADDED_FIELDS = ("manufacturer", "supplier", "evidence")


def lost(original: dict[str, Any], enriched: dict[str, Any]) -> list[Path_]:
    """Paths of values the producer wrote that the output no longer has as written."""
    out = []
    for path, value in leaves(original):
        if path in UPGRADED:
            continue
        if not present(enriched, path):
            out.append(path)
            continue
        got = at(enriched, path)
        if got != value and not (value in ({}, []) and isinstance(got, type(value))):
            out.append(path)
    return out


def _ours(original: dict[str, Any], enriched: dict[str, Any], path: Path_) -> bool:
    """Whether the output leaf at `path`, absent from the input, is one enrich adds."""
    for i, step in enumerate(path):
        here = path[:i + 1]
        if present(original, here):
            continue
        parent = path[:i]
        if isinstance(step, str):  # a new field: one of enrich's, on a component or metadata
            return step in ADDED_FIELDS or (step == "component" and parent == ("metadata",)) \
                or (step == "tools" and parent == ("metadata",)) \
                or (step in APPENDED and step != "components")
        # a new list item: only appended to the lists enrich extends, after the producer's
        if parent and parent[-1] in APPENDED:
            item = at(enriched, here)
            if parent[-1] == "properties":
                return isinstance(item, dict) and str(item.get("name", "")).startswith(
                    "provenance:")
            if parent[-1] == "components":  # only metadata.tools.components
                return parent[:-1] == ("metadata", "tools") and item.get("name") == "provenance"
            return True
        if parent == ("metadata", "tools"):  # the legacy tools array
            return at(enriched, here).get("name") == "provenance"
        return False
    return False


def added(original: dict[str, Any], enriched: dict[str, Any]) -> list[Path_]:
    """Paths in the output that are neither the producer's nor enrich's additions."""
    return [path for path, _ in leaves(enriched)
            if path not in UPGRADED and not present(original, path)
            and not _ours(original, enriched, path)]


_runs: dict[tuple[str, bool], tuple[dict[str, Any], Any, Any]] = {}


def enriched(path: Path, sigset: SignatureSet, fill: bool = True
             ) -> tuple[dict[str, Any], Any, Any]:
    key = (str(path), fill)
    if key not in _runs:
        _runs[key] = enrich(path, sigset, POLICIES, AS_OF, fill_supplier=fill)
    return _runs[key]


# -- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("producer", PRODUCERS)
def test_enrich_keeps_everything_the_producer_wrote(
    producer: str, produced: dict[str, Path | str], sigset: SignatureSet
) -> None:
    path = sbom_of(produced, producer)
    original = json.loads(path.read_text())
    doc, _, problems = enriched(path, sigset)
    assert not lost(original, doc)
    assert not added(original, doc)
    assert not problems
    # the comparison covered the whole document: components, properties and dependencies
    assert len(components(doc)) == len(components(original)) >= 6
    assert len(leaves(original)) > 100
    assert doc.get("dependencies") == original.get("dependencies")
    assert at(doc, ("metadata", "tools"))


@pytest.mark.parametrize("producer", PRODUCERS)
def test_output_validates_strictly_against_cyclonedx_1_6(
    producer: str, produced: dict[str, Path | str], sigset: SignatureSet
) -> None:
    doc, _, _ = enriched(sbom_of(produced, producer), sigset)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc)) is None


@pytest.mark.parametrize("producer", PRODUCERS)
def test_each_producers_vendor_components_are_attributed(
    producer: str, produced: dict[str, Path | str], sigset: SignatureSet
) -> None:
    doc, findings, _ = enriched(sbom_of(produced, producer), sigset)
    names = {c["name"] for c in components(doc)}
    assert HUAWEI[producer] <= names
    flagged = {c["name"] for c in components(doc) if props(c, "vendor") == ["huawei"]}
    assert flagged == HUAWEI[producer]
    assert {f.vendor for f in findings} == {"huawei"}
    # false friends named after vendors stay clear wherever the producer listed them
    for comp in components(doc):
        if comp["name"] in ("huawei-solar", "dahua"):
            assert not props(comp, "vendor"), comp["name"]
    filled = {c["name"] for c in components(doc) if props(c, "supplier-source")}
    assert filled == FILLED.get(producer, set())
    for comp in components(doc):
        if comp["name"] in filled:
            assert comp["supplier"]["name"] == "Huawei Technologies Co., Ltd."
            assert props(comp, "cpe-vendor") == ["huawei"]


def test_comparison_notices_a_loss_and_a_stray_addition() -> None:
    original = json.loads((FIX / "syft-image-cdx-1.6.json").read_text())
    damaged = json.loads(json.dumps(original))
    damaged["components"][0]["properties"][2]["value"] = "changed"
    del damaged["components"][3]["cpe"]
    assert lost(original, damaged) == [("components", 0, "properties", 2, "value"),
                                       ("components", 3, "cpe")]
    stray = json.loads(json.dumps(original))
    stray["components"][0]["properties"].append({"name": "syft:other", "value": "x"})
    stray["components"][1]["description"] = "invented"
    stray["components"].append({"type": "library", "name": "invented"})
    assert added(original, stray) == [("components", 0, "properties", 14, "name"),
                                      ("components", 0, "properties", 14, "value"),
                                      ("components", 1, "description"),
                                      ("components", 9, "type"), ("components", 9, "name")]
    ours = json.loads(json.dumps(original))
    ours["components"][0]["properties"].append({"name": "provenance:vendor", "value": "x"})
    ours["components"][1]["supplier"] = {"name": "x"}
    assert not added(original, ours)


def _cli(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", "from provenance.cli import app; app()",
                           "enrich", *args], input=stdin, capture_output=True, env=env,
                          timeout=300, check=False)


def test_syft_pipeline_on_standard_input(sigset: SignatureSet) -> None:
    # `syft IMAGE -o cyclonedx-json@1.6 | provenance enrich - --fill-supplier`
    data = (FIX / "syft-image-cdx-1.6.json").read_bytes()
    done = _cli("-", "--fill-supplier", "-p", "us-ndaa-889", "--as-of", "2026-01-01",
                stdin=data)
    assert done.returncode == 1, done.stderr  # Huawei components under us-ndaa-889
    assert b"verdict: restricted" in done.stderr
    doc = json.loads(done.stdout)
    from_file, _, _ = enriched(FIX / "syft-image-cdx-1.6.json", sigset)
    assert not lost(json.loads(data), doc) and not added(json.loads(data), doc)
    # the same document as from the file, named "stdin" where the file's name was
    assert json.dumps(doc).replace("stdin#", "X#") == json.dumps(from_file).replace(
        "syft-image-cdx-1.6.json#", "X#").replace('"syft-image-cdx-1.6.json"', '"stdin"')


@pytest.mark.parametrize("stdin, message", [
    (b"", b"not an SBOM"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.7", "components": []}',
     b"specVersion 1.7 is not supported (1.2 to 1.6); ask the producer for 1.6 (syft -o "
     b"cyclonedx-json@1.6"),
])
def test_standard_input_that_is_no_sbom(stdin: bytes, message: bytes) -> None:
    done = _cli("-", stdin=stdin)
    assert done.returncode == 3
    assert message in done.stderr and b"stdin" in done.stderr
    assert not done.stdout


@pytest.mark.parametrize("producer", ["syft", "trivy"])
def test_scan_of_a_producers_sbom_enriches_it(producer: str, tmp_path: Path,
                                              produced: dict[str, Path | str]) -> None:
    from typer.testing import CliRunner

    from provenance.cli import app

    path = sbom_of(produced, producer)
    out = tmp_path / "report.cdx.json"
    result = CliRunner().invoke(app, ["scan", str(path), "-o", str(out), "-p", "us-ndaa-889",
                                      "--as-of", "2026-01-01", "-q"])
    assert result.exit_code == 1, result.output
    original, doc = json.loads(path.read_text()), json.loads(out.read_text())
    assert not lost(original, doc) and not added(original, doc)
    assert {c["name"] for c in components(doc) if props(c, "vendor")} == HUAWEI[producer]
