"""Build the golden fixtures: tool-built test inputs, committed so a bare machine tests them too.

    python tests/golden/make.py           # rebuild every fixture whose tool is installed
    python tests/golden/make.py rpm cab   # only these extract formats (or identify fixtures)

Extraction fixtures come from the same builders the tests run when the tools are installed
(tests/extract_fixtures.py), over a smaller tree (GOLDEN_TREE) so each image stays small; their
expected members go to manifest.json beside them (the unblob `__input__/__output__` pair). The
identify fixtures come from tests/identify_fixtures.py (PE, Authenticode with a throw-away key
made on the spot, ELF, device tree) and clang/lld (Mach-O). Every command run is recorded with
the Debian package and version of its program, and tests/golden/README.md is regenerated.

Deterministic where the tool allows: one fixed build directory, file times pinned to EPOCH,
SOURCE_DATE_EPOCH, rpm's build time and host from macros. Not byte-reproducible (the builders'
command lines are the tests', so these stay as the tools make them): cpio (inode numbers), ipk
(gzip and ar clocks), ext, fat, ubi and ubifs (random UUIDs or volume ids), iso9660 (clock), msi
(package code) and the signed PE (a new throw-away key each run, never kept).
Files whose image is mostly padding (filesystems) are stored xz-compressed.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import extract_fixtures as ef  # noqa: E402
import identify_fixtures as idf  # noqa: E402
import pytest  # noqa: E402

from golden import GOLDEN_TREE, MANIFEST, STORE_RAW_MAX  # noqa: E402

EPOCH = 1_600_000_000  # 2020-09-13: every file time in a built image
BUILD = Path("/tmp/provenance-golden-build")  # fixed, so paths a tool embeds do not vary
# Pure-Python builders get no golden file (the tests run them anywhere), except the Inno Setup
# installer (tests/inno_fixture.py): committed so that a drift of its generator shows.
ALWAYS = {("innosetup", "inno-5.5.6-zlib")}
# No golden file: test_extract_hostile's "corrupt" damage (every 97th byte from 512 on) misses the
# few allocation-table bytes of a small FAT12 and leaves nothing detectable; fat16 and fat32
# stand for FAT on a machine without mtools.
NEVER = {("fat", "fat12")}

_commands: list[list[str]] = []


def _record(argv: tuple[object, ...]) -> None:
    _commands.append([str(a).replace(str(BUILD), "$TMP") for a in argv])


def _recording(real: Callable[..., object]) -> Callable[..., object]:
    def run(*argv: object, **kwargs: object) -> object:
        _record(argv)
        return real(*argv, **kwargs)

    return run


def _pinned_populate(top: Path, links: bool = True, tree: dict[str, bytes] | None = None) -> Path:
    _real_populate(top, links, tree)
    for path in [*sorted(top.rglob("*"), reverse=True), top]:
        os.utime(path, (EPOCH, EPOCH), follow_symlinks=False)
    return top


_real_populate = ef.populate


def _package_of(program: str) -> str:
    """The Debian package and version that ships `program` (or "?" off Debian)."""
    if program == "python3":  # the interpreter running this script wrote it
        return f"Python {sys.version.split()[0]}"
    where = shutil.which(program)
    if where is None:
        return "?"
    real = os.path.realpath(where)
    # usr-merged systems: dpkg knows a program by the path its package installed (/sbin/x)
    for candidate in dict.fromkeys((where, real, real.removeprefix("/usr"),
                                    where.removeprefix("/usr"))):
        found = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True,
                               check=False)
        if found.returncode == 0:
            package = found.stdout.split(":", 1)[0]
            version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                                     capture_output=True, text=True, check=False).stdout
            return f"{package} {version}"
    return "?"


def _environment() -> None:
    os.environ["SOURCE_DATE_EPOCH"] = str(EPOCH)
    os.environ["TZ"] = "UTC"
    home = BUILD / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".rpmmacros").write_text(
        "%use_source_date_epoch_as_buildtime 1\n%clamp_mtime_to_source_date_epoch 1\n"
        "%_buildhost golden.invalid\n")
    os.environ["HOME"] = str(home)
    ef.TREE.clear()
    ef.TREE.update(GOLDEN_TREE)  # the builders read the module's TREE when they run
    ef.run = _recording(ef.run)  # type: ignore[assignment]
    ef.populate = _pinned_populate
    idf._run = _recording(idf._run)  # type: ignore[assignment]


def _store(data: bytes, rel: str) -> str:
    """Write `data` under tests/golden as `rel` (or `rel.xz` when large), mode 644."""
    if len(data) > STORE_RAW_MAX:
        data, rel = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME), rel + ".xz"
    path = HERE / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o644)
    return rel


def _entry(rel: str, data: bytes, **extra: object) -> dict[str, object]:
    tools = sorted({argv[0] for argv in _commands})
    return {"file": _store(data, rel), "name": Path(rel).name, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "commands": [" ".join(argv) for argv in _commands],
            "tools": {t: _package_of(t) for t in tools}, **extra}


def build_extract(only: set[str]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for fmt, cases in ef.TOOL_BUILDERS.items():
        for case, builder in cases.items():
            if (only and fmt not in only) or (fmt, case) in NEVER:
                continue
            scratch = BUILD / "x" / fmt / case
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            _commands.clear()
            try:
                built = builder(scratch)
            except pytest.skip.Exception as exc:
                print(f"  skip {fmt}/{case}: {exc}")
                continue
            if not _commands and (fmt, case) not in ALWAYS:
                continue  # pure Python: built at test time on any machine
            if not _commands:
                _commands.append(["python3", "-c", "'inno_fixture.build(GOLDEN_TREE)'"])
            key = f"extract/{fmt}/{case}"
            out[key] = _entry(f"{key}/{built.path.name}", built.path.read_bytes(),
                              format=fmt, case=case, files=built.files, links=built.links,
                              exact=built.exact, by_hash=built.by_hash)
            print(f"  {key}: {built.path.stat().st_size} bytes")
    return out


MACHO_C = "int HwSdk_Init(void) { return 0; }\n"


def _macho(scratch: Path) -> Path:
    (scratch / "sdk.c").write_text(MACHO_C)
    lib = scratch / "libHwSdk.dylib"
    idf._run("clang", "-target", "arm64-apple-macos11", "-nostdlib", "-fuse-ld=lld", "-shared",
             "-Wl,-install_name,@rpath/libHwSdk.dylib", "-Wl,-adhoc_codesign", "-o", str(lib),
             "sdk.c", cwd=scratch)
    return lib


def build_identify(only: set[str]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}

    def one(key: str, make: Callable[[Path], dict[str, Path]]) -> None:
        if only and key not in only:
            return
        scratch = BUILD / "i" / key
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        _commands.clear()
        try:
            paths = make(scratch)
        except idf.Missing as exc:
            print(f"  skip {key}: {exc}")
            return
        for role, path in paths.items():
            out[f"identify/{key}/{role}"] = _entry(f"identify/{key}/{path.name}",
                                                   path.read_bytes(), role=role)
            print(f"  identify/{key}/{role}: {path.stat().st_size} bytes")

    def pe(scratch: Path) -> dict[str, Path]:
        exe = idf.build_pe.tool(scratch)
        return {"exe": exe, "signed": idf.sign_pe.tool(exe, scratch)}

    one("pe", pe)
    one("elf", idf.build_elf.tool)
    one("dtb", lambda scratch: {"dtb": idf.build_dtb.tool(scratch)})
    one("macho", lambda scratch: {"dylib": _macho(scratch)})
    return out


def write_readme(manifest: dict[str, dict[str, object]]) -> None:
    rows = []
    for _key, entry in sorted(manifest.items()):
        tools = entry["tools"]
        assert isinstance(tools, dict) and isinstance(entry["commands"], list)
        built_by = "; ".join(f"{t} ({v})" for t, v in tools.items()) or "Python"
        command = " && ".join(entry["commands"]).replace("|", "\\|")
        rows.append(f"| `{entry['file']}` | {entry['size']} | {built_by} | `{command}` |")
    total = sum((HERE / str(e["file"])).stat().st_size for e in manifest.values())
    (HERE / "README.md").write_text(f"""# Golden fixtures

Test inputs that only external tools can build (`rpmbuild`, `gcab`, `wixl`, `genromfs`,
`makensis`, `mksquashfs`, mingw-w64 and `osslsigncode`, ...), built once by `make.py` and
committed, so that the README's test command covers every format on a machine without them.
When a tool is installed the tests also build the fixture fresh (tests/extract_fixtures.py);
when it is missing they fall back to the file here. `manifest.json` holds what each extraction
must yield (member path -> SHA-256). Everything here is generated from the tests' own sources
(`GOLDEN_TREE` in `__init__.py`, the builders in `tests/*_fixtures.py`): no third-party file is
copied. The PE signing key and certificates are throw-away, made by `openssl` during the build
and not kept. Files over {STORE_RAW_MAX // 1024} KiB (mostly padding) are stored `.xz`; the
size column is the uncompressed size.

Rebuild: `python tests/golden/make.py [format ...]` (then review `git diff --stat`). Rebuilt
files change only where a tool writes a clock, a random UUID or inode numbers (cpio, ipk, ext,
fat, ubi, ubifs, iso9660, msi) or a new key (the signed PE); the members stay the same.
Total stored: {total} bytes in {len(manifest)} files. `$TMP` is the build directory.

| file | bytes | built by (Debian package version) | command |
|---|---|---|---|
""" + "\n".join(rows) + "\n")


def main(argv: list[str]) -> None:
    only = set(argv)
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    _environment()
    random.seed(EPOCH)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() and only else {}
    if not only:  # a full rebuild: nothing stale is left behind
        for old in ("extract", "identify"):
            shutil.rmtree(HERE / old, ignore_errors=True)
    manifest.update(build_extract(only))
    manifest.update(build_identify(only))
    for key in [k for k in manifest if not (HERE / str(manifest[k]["file"])).exists()]:
        del manifest[key]
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    MANIFEST.chmod(0o644)
    write_readme(manifest)
    shutil.rmtree(BUILD, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
