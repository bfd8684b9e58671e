"""The committed golden extraction fixtures (tests/golden/): each unpacks to its manifest, on any
machine, and the fallback from a missing tool to them works."""

from __future__ import annotations

import shutil
from pathlib import Path

import extract_fixtures
import golden
import inno_fixture
import pytest
from extract_fixtures import (
    BUILDERS,
    EXTRACT_TOOLS,
    TOOL_BUILDERS,
    check,
    golden_built,
    sha,
)

from provenance.extract import extract
from provenance.model import ProblemKind

EXTRACT_KEYS = sorted(k for k in golden.manifest() if k.startswith("extract/"))
MAX_FILE = 64 << 10
MAX_TOTAL = 1 << 20




@pytest.mark.parametrize("key", EXTRACT_KEYS,
                         ids=[k.removeprefix("extract/") for k in EXTRACT_KEYS])
def test_golden_fixture_unpacks_to_its_manifest(key: str, tmp_path: Path) -> None:
    _, fmt, case = key.split("/")
    built = golden_built(fmt, case, tmp_path)
    assert built is not None
    tree, problems = extract(built.path, tmp_path / "work")
    assert tree.kind == fmt, f"detected as {tree.kind}"
    missing = [t for t in EXTRACT_TOOLS.get(fmt, ()) if shutil.which(t) is None]
    if missing:  # recognised, and opaque for the one reason that it cannot be run here
        assert tree.opaque and missing[0] in tree.opaque
        assert [p.kind for p in problems] == [ProblemKind.TOOL_MISSING]
        return
    assert tree.opaque is None and not problems, (tree.opaque, problems)
    check(built, tree)


def test_every_tool_built_format_has_a_golden_fixture() -> None:
    """The formats the review found untested without apt tools, and every other format whose
    fixtures only a tool builds: at least one golden case each."""
    have = {k.split("/")[1] for k in EXTRACT_KEYS}
    wanted = {"rpm", "cab", "msi", "romfs", "nsis", "innosetup", "cpio", "ar", "iso9660",
              "squashfs", "cramfs", "jffs2", "ubi", "ubifs", "ext", "fat"}
    assert wanted <= have, sorted(wanted - have)
    for key in EXTRACT_KEYS:  # and each one is a case the tests build fresh when they can
        _, fmt, case = key.split("/")
        assert case in TOOL_BUILDERS.get(fmt, {}), key


def test_manifest_holds_the_golden_tree() -> None:
    """What each fixture must yield is the golden tree (or the builder's own extras), so the
    manifest cannot drift to expect nothing."""
    blob = sha(golden.GOLDEN_TREE["bin/blob.bin"])
    for key in EXTRACT_KEYS:
        assert blob in golden.manifest()[key]["files"].values(), key


def test_golden_files_are_small_hashed_and_not_executable() -> None:
    stored = [p for p in golden.HERE.rglob("*") if p.is_file()
              and p.parent != golden.HERE and "__pycache__" not in p.parts]
    listed = {golden.HERE / e["file"] for e in golden.manifest().values()}
    assert set(stored) == listed, "files under tests/golden/ that the manifest does not list"
    for path in stored:
        assert path.stat().st_size <= MAX_FILE, path
        assert not path.stat().st_mode & 0o111, f"{path} is executable"
    assert sum(p.stat().st_size for p in stored) <= MAX_TOTAL
    for key in golden.manifest():
        golden.data(key)  # raises when the bytes do not match the recorded SHA-256


def test_inno_golden_is_what_inno_fixture_writes() -> None:
    """The committed installer is tests/inno_fixture.py's output: the generator has not drifted."""
    data = golden.data("extract/innosetup/inno-5.5.6-zlib")
    assert data == inno_fixture.build(golden.GOLDEN_TREE, compressed=True)


def test_a_missing_tool_falls_back_to_the_golden_fixture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_fixtures.shutil, "which", lambda _name: None)
    built = BUILDERS["rpm"]["rpm-xz"](tmp_path)
    assert built.path.parent == tmp_path / "golden"
    assert built.files == golden.manifest()["extract/rpm/rpm-xz"]["files"]
    # a case without a golden fixture still skips, with the tool's reason
    orphan = extract_fixtures._or_golden("cpio", "no-such-case", TOOL_BUILDERS["cpio"]["newc"])
    with pytest.raises(pytest.skip.Exception, match="cpio is not installed"):
        orphan(tmp_path / "x")
    # an installer whose extracting program is missing is of no use: the skip stands
    with pytest.raises(pytest.skip.Exception):
        BUILDERS["nsis"]["makensis"](tmp_path / "n")
