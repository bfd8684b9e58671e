"""Build extraction fixtures at test time, with the real tools of each format.

Every builder takes a scratch directory and returns a Built: the image, and what extraction must
yield, as {member path after the image: sha256} (the path chain below the image, joined by "!/")
plus the symlinks expected. A builder whose tool is missing falls back to the committed golden
fixture of that case (tests/golden/, built by the same builder over a smaller tree), and calls
pytest.skip with the reason only when there is none.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import random
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import golden
import inno_fixture
import pytest

from provenance.model import Artifact

TREE: dict[str, bytes] = {
    "hello.txt": b"hello provenance\n",
    "bin/blob.bin": random.Random(7).randbytes(70_000),
    "etc/config/settings.conf": b"key=value\n" * 300,
}
LINKS = {"bin/link": "blob.bin"}


def many_files_tar(path: Path, files: int) -> Path:
    """A tar of many distinct small files in 40 folders: seconds of unpacking and analysis
    (what progress display and Ctrl-C are tested on)."""
    with tarfile.open(path, "w") as tar:
        for i in range(files):
            data = i.to_bytes(4, "big") * 16 + bytes(range(256)) * 12
            info = tarfile.TarInfo(f"d{i % 40}/f{i}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected(prefix: str = "", tree: dict[str, bytes] | None = None) -> dict[str, str]:
    return {prefix + name: sha(data) for name, data in (tree or TREE).items()}


@dataclass
class Built:
    path: Path
    files: dict[str, str]  # member chain below the image -> sha256
    links: dict[str, str] = field(default_factory=dict)  # member chain -> symlink target
    exact: bool = True  # False: `files` must be present, other members may be too
    by_hash: bool = False  # only the hashes must appear (names are the format's own keys)


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (see tests/apt-packages.txt)")


def run(*argv: str | Path, cwd: Path | None = None, input: bytes | None = None) -> bytes:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, input=input, capture_output=True,
                          timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {proc.stderr.decode(errors='replace')[-800:]}")
    return proc.stdout


def populate(top: Path, links: bool = True, tree: dict[str, bytes] | None = None) -> Path:
    top.mkdir(parents=True, exist_ok=True)
    for name, data in (tree or TREE).items():
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_bytes(data)
    if links:
        for name, target in LINKS.items():
            os.symlink(target, top / name)
    return top


# -- compression ----------------------------------------------------------------------------------

def _single(name: str, compress: Callable[[bytes], bytes]) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        data = TREE["bin/blob.bin"]
        path = tmp / f"blob.bin{name}"
        path.write_bytes(compress(data))
        return Built(path, {"blob.bin": sha(data)})

    return build


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(data)


def _lz4(data: bytes) -> bytes:
    import lz4.frame

    return lz4.frame.compress(data)


def _zstd_cli(tmp: Path) -> Built:
    need("zstd")
    data = TREE["bin/blob.bin"]
    src = tmp / "blob.bin"
    src.write_bytes(data)
    run("zstd", "-q", "-19", src, "-o", tmp / "blob.bin.zst")
    return Built(tmp / "blob.bin.zst", {"blob.bin": sha(data)})


def _lz4_cli(tmp: Path) -> Built:
    need("lz4")
    data = TREE["bin/blob.bin"]
    src = tmp / "blob.bin"
    src.write_bytes(data)
    run("lz4", "-q", src, tmp / "blob.bin.lz4")
    return Built(tmp / "blob.bin.lz4", {"blob.bin": sha(data)})


# -- archives -------------------------------------------------------------------------------------

def _zip(suffix: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        path = tmp / f"app{suffix}"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in TREE.items():
                zf.writestr(name, data)
        return Built(path, expected())

    return build


def _tar(mode: str, suffix: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        src = populate(tmp / "src")
        path = tmp / f"tree{suffix}"
        with tarfile.open(path, mode) as tf:
            for name in [*TREE, *LINKS]:
                tf.add(src / name, arcname=name, recursive=False)
        return Built(path, expected(), dict(LINKS))

    return build


def _npm_tarball(tmp: Path) -> Built:
    tree = {"package/package.json": b'{"name": "left-pad", "version": "1.3.0"}\n',
            "package/index.js": b"module.exports = function leftPad() {};\n"}
    src = populate(tmp / "src", links=False, tree=tree)
    path = tmp / "left-pad-1.3.0.tgz"
    with tarfile.open(path, "w:gz") as tf:
        tf.add(src / "package", arcname="package")
    return Built(path, expected(tree=tree))


def _sdist(tmp: Path) -> Built:
    tree = {"demo-1.0/PKG-INFO": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
            "demo-1.0/pyproject.toml": b"[project]\nname = 'demo'\nversion = '1.0'\n",
            "demo-1.0/src/demo/__init__.py": b"__version__ = '1.0'\n"}
    src = populate(tmp / "src", links=False, tree=tree)
    path = tmp / "demo-1.0.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        tf.add(src / "demo-1.0", arcname="demo-1.0")
    return Built(path, expected(tree=tree))


def _tar_zst(tmp: Path) -> Built:
    """zstd holding a tar (Arch packages, Ubuntu debs' data.tar.zst): two levels."""
    built = _tar("w", ".tar")(tmp)
    path = tmp / "tree.tar.zst"
    path.write_bytes(_zstd(built.path.read_bytes()))
    files = expected("tree.tar!/")
    links = {f"tree.tar!/{k}": v for k, v in LINKS.items()}
    return Built(path, files, links)


def _ipk_targz(tmp: Path) -> Built:
    """Older opkg packages: a gzipped tar of debian-binary, control.tar.gz, data.tar.gz."""
    src = populate(tmp / "src", links=False)
    with tarfile.open(tmp / "data.tar.gz", "w:gz") as tf:
        for name in TREE:
            tf.add(src / name, arcname=f"./usr/lib/demo/{name}")
    (tmp / "debian-binary").write_bytes(b"2.0\n")
    path = tmp / "demo_1.0_arm.ipk"
    with tarfile.open(path, "w:gz") as tf:
        tf.add(tmp / "debian-binary", arcname="./debian-binary")
        tf.add(tmp / "data.tar.gz", arcname="./data.tar.gz")
    files = expected("data.tar.gz!/usr/lib/demo/")
    files["debian-binary"] = sha(b"2.0\n")
    return Built(path, files)


def _7z(tmp: Path) -> Built:
    import py7zr

    src = populate(tmp / "src")
    path = tmp / "tree.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        for name in [*TREE, *LINKS]:
            archive.write(src / name, arcname=name)
    return Built(path, expected(), dict(LINKS))


def _7z_cli(tmp: Path) -> Built:
    need("7z")
    src = populate(tmp / "src")
    path = tmp / "cli.7z"
    run("7z", "a", "-snl", "-bd", path, "hello.txt", "bin", "etc", cwd=src)
    return Built(path, expected(), dict(LINKS))


def _cpio(fmt: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("cpio")
        src = populate(tmp / "src")
        names = sorted(p.relative_to(src).as_posix() for p in src.rglob("*"))
        path = tmp / f"tree-{fmt}.cpio"
        data = run("cpio", "-o", "--quiet", "-H", fmt, cwd=src, input="\n".join(names).encode())
        path.write_bytes(data)
        return Built(path, expected(), dict(LINKS))

    return build


def _deb(tmp: Path) -> Built:
    need("dpkg-deb")
    root = tmp / "pkg"
    populate(root / "usr/share/demo")
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text(
        "Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\n"
        "Description: demo\n")
    path = tmp / "demo_1.0_all.deb"
    run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, path)
    files = expected("data.tar.xz!/usr/share/demo/")
    links = {f"data.tar.xz!/usr/share/demo/{k}": v for k, v in LINKS.items()}
    files["debian-binary"] = sha(b"2.0\n")
    return Built(path, files, links, exact=False)


def _ipk(tmp: Path) -> Built:
    """opkg's ar flavour: debian-binary, control.tar.gz, data.tar.gz."""
    need("ar")
    src = populate(tmp / "src", links=False)
    with tarfile.open(tmp / "data.tar.gz", "w:gz") as tf:
        for name in TREE:
            tf.add(src / name, arcname=f"./usr/lib/demo/{name}")
    ctl = b"Package: demo\nVersion: 1.0\nArchitecture: mips_24kc\n"
    with tarfile.open(tmp / "control.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("./control")
        info.size = len(ctl)
        tf.addfile(info, io.BytesIO(ctl))
    (tmp / "debian-binary").write_bytes(b"2.0\n")
    path = tmp / "demo_1.0_mips_24kc.ipk"
    run("ar", "rc", path, "debian-binary", "control.tar.gz", "data.tar.gz", cwd=tmp)
    files = expected("data.tar.gz!/usr/lib/demo/")
    files["debian-binary"] = sha(b"2.0\n")
    files["control.tar.gz!/control"] = sha(ctl)
    return Built(path, files)


def _rpm(payload: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("rpmbuild")
        src = populate(tmp / "src")
        top = tmp / "rpmbuild"
        spec = tmp / "demo.spec"
        spec.write_text(f"""Name: demo
Version: 1.0
Release: 1
Summary: demo
License: MIT
BuildArch: noarch
%description
demo
%install
mkdir -p %{{buildroot}}/usr/share/demo
cp -a {src}/. %{{buildroot}}/usr/share/demo/
%files
/usr/share/demo
""")
        run("rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}",
            "--define", f"_binary_payload {payload}", "--define", "__spec_install_post %{nil}",
            "--define", "_build_id_links none", spec)
        path = next((top / "RPMS").rglob("*.rpm"))
        links = {f"usr/share/demo/{k}": v for k, v in LINKS.items()}
        return Built(path, expected("usr/share/demo/"), links)

    return build


def _cab(tmp: Path) -> Built:
    need("gcab")
    populate(tmp / "src", links=False)
    path = tmp / "tree.cab"
    run("gcab", "-c", "-z", path, *TREE, cwd=tmp / "src")
    return Built(path, expected())


def _msi(tmp: Path) -> Built:
    need("wixl")
    populate(tmp / "src", links=False)
    wxs = tmp / "demo.wxs"
    wxs.write_text("""<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="Demo" Language="1033" Version="1.0.0" Manufacturer="Demo Corp"
           UpgradeCode="12345678-1234-1234-1234-123456789012">
    <Package InstallerVersion="200" Compressed="yes" Comments="demo"/>
    <Media Id="1" Cabinet="demo.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFilesFolder">
        <Directory Id="INSTALLDIR" Name="Demo">
          <Component Id="Main" Guid="11111111-2222-3333-4444-555555555555">
            <File Id="hello" Source="src/hello.txt"/>
            <File Id="blob" Source="src/bin/blob.bin"/>
            <File Id="settings" Source="src/etc/config/settings.conf"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Complete" Level="1"><ComponentRef Id="Main"/></Feature>
  </Product>
</Wix>
""")
    path = tmp / "demo.msi"
    run("wixl", "-o", path, wxs, cwd=tmp)
    # members are named from the File table, under the cabinet stream's name
    files = {f"demo.cab/{name.rsplit('/', 1)[-1]}": sha(data) for name, data in TREE.items()}
    return Built(path, files, exact=False)


def _iso(*flags: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("genisoimage")
        src = populate(tmp / "src", links="-R" in flags)
        path = tmp / "tree.iso"
        run("genisoimage", "-quiet", *flags, "-o", path, src)
        return Built(path, expected(), dict(LINKS) if "-R" in flags else {})

    return build


# -- filesystems ----------------------------------------------------------------------------------

def _squashfs(comp: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("mksquashfs")
        src = populate(tmp / "src")
        path = tmp / f"root-{comp}.squashfs"
        try:
            run("mksquashfs", src, path, "-comp", comp, "-noappend", "-no-progress", "-quiet")
        except RuntimeError as exc:
            pytest.skip(f"mksquashfs cannot write {comp}: {exc}")
        return Built(path, expected(), dict(LINKS))

    return build


def _cramfs(*flags: str) -> Callable[[Path], Built]:
    """mkfs.cramfs: little-endian (host), big-endian (-N big), padded for boot code (-p)."""

    def build(tmp: Path) -> Built:
        need("mkfs.cramfs")
        src = populate(tmp / "src")
        path = tmp / "root.cramfs"
        run("mkfs.cramfs", *flags, src, path)
        return Built(path, expected(), dict(LINKS))

    return build


def _jffs2(*flags: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("mkfs.jffs2")
        src = populate(tmp / "src")
        path = tmp / "config.jffs2"
        run("mkfs.jffs2", "-r", src, "-o", path, "-e", "128KiB", "--pad=0x100000", *flags)
        return Built(path, expected(), dict(LINKS))

    return build


def _ubifs_image(tmp: Path, src: Path, compressor: str = "lzo") -> Path:
    path = tmp / "root.ubifs"
    run("mkfs.ubifs", "-r", src, "-m", "2048", "-e", "126976", "-c", "64", "-x", compressor,
        "-o", path)
    return path


def _ubifs(compressor: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("mkfs.ubifs")
        src = populate(tmp / "src")
        try:
            image = _ubifs_image(tmp, src, compressor)
        except RuntimeError as exc:
            pytest.skip(f"mkfs.ubifs cannot write {compressor}: {exc}")
        return Built(image, expected(), dict(LINKS))

    return build


def _ubi(tmp: Path) -> Built:
    need("mkfs.ubifs", "ubinize")
    src = populate(tmp / "src")
    ubifs = _ubifs_image(tmp, src)
    cfg = tmp / "ubinize.cfg"
    cfg.write_text(f"[rootfs]\nmode=ubi\nimage={ubifs}\nvol_id=0\nvol_type=dynamic\n"
                   "vol_name=rootfs\nvol_flags=autoresize\n")
    path = tmp / "flash.ubi"
    run("ubinize", "-o", path, "-m", "2048", "-p", "128KiB", "-s", "2048", cfg)
    links = {f"rootfs!/{k}": v for k, v in LINKS.items()}
    return Built(path, expected("rootfs!/"), links)


def _ext(kind: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("mke2fs")
        src = populate(tmp / "src")
        path = tmp / f"root.{kind}"
        run("mke2fs", "-q", "-F", "-t", kind, "-d", src, path, "8M")
        return Built(path, expected(), dict(LINKS))

    return build


def _genext2fs(tmp: Path) -> Built:
    need("genext2fs")
    src = populate(tmp / "src")
    path = tmp / "root.ext2"
    run("genext2fs", "-q", "-b", "4096", "-d", src, path)
    return Built(path, expected(), dict(LINKS))


def _fat(size_kib: str, *flags: str) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        need("mkfs.vfat", "mcopy")
        src = populate(tmp / "src", links=False)
        path = tmp / "boot.vfat"
        run("mkfs.vfat", "-C", *flags, path, size_kib)
        run("mcopy", "-s", "-i", path, src / "hello.txt", src / "bin", src / "etc", "::/")
        return Built(path, expected())

    return build


def _romfs(tmp: Path) -> Built:
    need("genromfs")
    src = populate(tmp / "src")
    path = tmp / "root.romfs"
    run("genromfs", "-f", path, "-d", src, "-V", "demo")
    return Built(path, expected(), dict(LINKS))


# -- installers -----------------------------------------------------------------------------------

def _nsis(tmp: Path) -> Built:
    need("makensis", "7z")
    populate(tmp / "src", links=False)
    script = tmp / "demo.nsi"
    script.write_text("""OutFile "demo-setup.exe"
InstallDir "$PROGRAMFILES\\Demo"
RequestExecutionLevel user
Section
  SetOutPath "$INSTDIR"
  File "src\\hello.txt"
  SetOutPath "$INSTDIR\\bin"
  File "src\\bin\\blob.bin"
  SetOutPath "$INSTDIR\\etc\\config"
  File "src\\etc\\config\\settings.conf"
SectionEnd
""")
    run("makensis", "-V1", script, cwd=tmp)
    return Built(tmp / "demo-setup.exe", expected(), by_hash=True)


def _inno(compressed: bool) -> Callable[[Path], Built]:
    def build(tmp: Path) -> Built:
        """No free tool builds Inno Setup installers on Linux: tests/inno_fixture.py writes a
        real one (data version 5.5.6); innoextract puts the {app} files under app/."""
        need("innoextract")
        path = tmp / "demo-setup.exe"
        path.write_bytes(inno_fixture.build(TREE, compressed))
        return Built(path, expected("app/"))

    return build


def fake_inno(tmp: Path) -> Path:
    """A PE stub that only carries the marker innoextract looks for, which innoextract rejects:
    for detection and the tool-missing / tool-failed paths."""
    path = tmp / "setup.exe"
    path.write_bytes(b"MZ" + b"\0" * 1022 + b"Inno Setup Setup Data (5.5.7)" + b"\0" * 4096)
    return path


TOOL_BUILDERS: dict[str, dict[str, Callable[[Path], Built]]] = {
    "gzip": {"gzip": _single(".gz", lambda d: gzip.compress(d, mtime=0))},
    "bzip2": {"bzip2": _single(".bz2", bz2.compress)},
    "xz": {"xz": _single(".xz", lzma.compress)},
    "lzma": {"lzma-alone": _single(".lzma", lambda d: lzma.compress(d, lzma.FORMAT_ALONE))},
    "zstd": {"zstandard": _single(".zst", _zstd), "zstd-cli": _zstd_cli, "tar.zst": _tar_zst},
    "lz4": {"lz4-frame": _single(".lz4", _lz4), "lz4-cli": _lz4_cli},
    "zip": {"zip": _zip(".zip"), "jar": _zip(".jar"), "whl": _zip(".whl"), "apk": _zip(".apk")},
    "tar": {
        "tar": _tar("w", ".tar"), "tar.gz": _tar("w:gz", ".tar.gz"),
        "tar.bz2": _tar("w:bz2", ".tar.bz2"), "tar.xz": _tar("w:xz", ".tar.xz"),
        "npm": _npm_tarball, "sdist": _sdist, "ipk-targz": _ipk_targz,
    },
    "7z": {"py7zr": _7z, "7z-cli": _7z_cli},
    "cpio": {f: _cpio(f) for f in ("newc", "crc", "odc", "bin")},
    "ar": {"deb": _deb, "ipk": _ipk},
    "rpm": {"rpm-zstd": _rpm("w19.zstdio"), "rpm-xz": _rpm("w6.xzdio"),
            "rpm-gzip": _rpm("w9.gzdio")},
    "cab": {"gcab-mszip": _cab},
    "msi": {"wixl": _msi},
    "iso9660": {"rock-ridge": _iso("-R"), "joliet": _iso("-J")},
    "squashfs": {c: _squashfs(c) for c in ("gzip", "xz", "lzma", "lzo", "lz4", "zstd")},
    "cramfs": {"cramfs": _cramfs(), "cramfs-big-endian": _cramfs("-N", "big"),
               "cramfs-padded": _cramfs("-p"),
               "cramfs-big-endian-padded": _cramfs("-N", "big", "-p")},
    "jffs2": {"jffs2-le": _jffs2("-l"),
              "jffs2-lzo": _jffs2("-l", "-X", "lzo", "-x", "zlib"),
              "jffs2-be": _jffs2("-b"),
              "jffs2-be-lzo": _jffs2("-b", "-X", "lzo", "-x", "zlib")},
    "ubi": {"ubinize": _ubi},
    "ubifs": {c: _ubifs(c) for c in ("lzo", "zlib", "zstd", "none")},
    "ext": {"ext2": _ext("ext2"), "ext3": _ext("ext3"), "ext4": _ext("ext4"),
            "genext2fs": _genext2fs},
    "fat": {"fat12": _fat("1440"), "fat16": _fat("16384", "-F", "16"),
            "fat32": _fat("40960", "-F", "32")},
    "romfs": {"genromfs": _romfs},
    "nsis": {"makensis": _nsis},
    "innosetup": {"inno-5.5.6-zlib": _inno(True), "inno-5.5.6-stored": _inno(False)},
}

# Programs that extraction itself runs: without them a golden installer is of no use.
EXTRACT_TOOLS = {"nsis": ("7z",), "innosetup": ("innoextract",)}


def golden_built(fmt: str, case: str, tmp: Path) -> Built | None:
    """The committed golden fixture of this case, as a Built (None when there is none)."""
    key = f"extract/{fmt}/{case}"
    found = golden.entry(key)
    if found is None:
        return None
    return Built(golden.materialize(key, tmp / "golden"), dict(found["files"]),
                 dict(found["links"]), found["exact"], found["by_hash"])


def _or_golden(fmt: str, case: str, build: Callable[[Path], Built]) -> Callable[[Path], Built]:
    def built(tmp: Path) -> Built:
        try:
            return build(tmp)
        except pytest.skip.Exception:
            if any(shutil.which(tool) is None for tool in EXTRACT_TOOLS.get(fmt, ())):
                raise
            found = golden_built(fmt, case, tmp)
            if found is None:
                raise
            return found

    return built


# What the tests use: the tool when it is installed, else the golden fixture.
BUILDERS: dict[str, dict[str, Callable[[Path], Built]]] = {
    fmt: {case: _or_golden(fmt, case, build) for case, build in cases.items()}
    for fmt, cases in TOOL_BUILDERS.items()
}


def members(root: Artifact) -> tuple[dict[str, str], dict[str, str]]:
    """Leaf files and symlinks under `root`, keyed by their chain below it joined with "!/"."""
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for node in root.walk():
        if node is root or node.children or node.kind == "directory":
            continue
        key = "!/".join(node.chain[1:])
        if node.kind == "symlink":
            links[key] = node.symlink_target or ""
        else:
            files[key] = node.sha256
    return files, links


def check(built: Built, tree: Artifact) -> None:
    """The members an extraction gave are what the fixture was built from."""
    files, links = members(tree)
    if built.by_hash:
        missing = set(built.files.values()) - set(files.values())
        assert not missing, f"contents not found among {sorted(files)}"
    elif built.exact:
        assert files == built.files
        assert links == built.links
    else:
        assert {k: files.get(k) for k in built.files} == built.files, sorted(files)
        assert {k: links.get(k) for k in built.links} == built.links, sorted(links)
