"""Archive member names: normalised, or refused with the reason, before any reaches the OS."""

from __future__ import annotations

import pytest

from provenance.extract.saferoot import (
    MAX_COMPONENT_BYTES,
    MAX_NAME_BYTES,
    MAX_NAME_DEPTH,
    NameTooLong,
    UnsafePath,
    clean_member_name,
)


@pytest.mark.parametrize(("name", "clean"), [
    ("a/b/c", "a/b/c"),
    ("./a//b/", "a/b"),
    ("a\\b", "a/b"),
    ("x" * MAX_COMPONENT_BYTES, "x" * MAX_COMPONENT_BYTES),
    ("d/" + "\u00e9" * (MAX_COMPONENT_BYTES // 2), "d/" + "\u00e9" * (MAX_COMPONENT_BYTES // 2)),
    ("a\udcff", "a\udcff"),  # an undecodable byte of the archive: one byte long
    ("/".join(["d"] * MAX_NAME_DEPTH), "/".join(["d"] * MAX_NAME_DEPTH)),
])
def test_a_name_within_the_limits_is_normalised(name: str, clean: str) -> None:
    assert clean_member_name(name) == clean


@pytest.mark.parametrize(("name", "reason"), [
    ("a\x00b", "member name contains a NUL byte"),
    ("/etc/passwd", "absolute member path '/etc/passwd'"),
    ("C:/windows", "absolute member path 'C:/windows'"),
    ("../x", "path traversal in member '../x'"),
    ("a/../../x", "path traversal in member 'a/../../x'"),
    ("", "empty member name ''"),
    ("./", "empty member name './'"),
])
def test_a_name_that_leaves_the_root_is_refused_and_quoted(name: str, reason: str) -> None:
    with pytest.raises(UnsafePath, match="^" + reason.replace("(", r"\(")) as refused:
        clean_member_name(name)
    assert not isinstance(refused.value, NameTooLong)


OVER = MAX_COMPONENT_BYTES + 1  # one byte past a component's limit


@pytest.mark.parametrize(("name", "reason"), [
    ("x" * OVER, f"component of {OVER} bytes"),
    ("a/" + "x" * OVER + "/b", f"component of {OVER} bytes"),
    ("\u00e9" * (OVER // 2), f"component of {OVER} bytes"),
    ("/".join(["d"] * (MAX_NAME_DEPTH + 1)), f"{MAX_NAME_DEPTH + 1} directories deep"),
    ("/".join(["x" * 200] * 16), f"name of {16 * 201 - 1} bytes"),
])
def test_a_name_past_a_limit_is_too_long(name: str, reason: str) -> None:
    assert len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES or "bytes" in reason
    with pytest.raises(NameTooLong, match=reason):
        clean_member_name(name)
