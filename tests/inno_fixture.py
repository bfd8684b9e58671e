"""A real, minimal Inno Setup installer, written field by field (no free tool builds one on Linux).

The layout is that of an installer made by Inno Setup 5.5.6 (ANSI build), single-file, its data
compressed by zlib (Compression=zlib) or stored (Compression=none). Every field `innoextract`
reads is written, in its order, with the value a plain [Files] section would give; the rest of a
real installer (the Delphi setup program, wizard images, messages, languages) is left out: the
file is a PE stub that cannot run.

    0x00  "MZ" stub; at 0x30 "Inno" and the offset of the loader table (and its complement)
    0x40  loader table: where the setup headers (setup-0) and the file data (setup-1) start
    ...   setup-0: the data version string, then two CRC-checked blocks:
            1. the setup header and its entry lists (here: only [Files] entries)
            2. the data entries: where each file's bytes sit, their size, SHA-1 and time
    ...   setup-1: one chunk ("zlb\\x1a" + zlib stream or raw bytes): the files back to back

All numbers are little-endian; every string is a 32-bit byte count then the bytes (Windows-1252:
the installer has no language entry to name another code page).
"""

from __future__ import annotations

import hashlib
import struct
import zlib

DATA_VERSION = b"Inno Setup Setup Data (5.5.6)"  # padded with NULs to 64 bytes
LOADER_MAGIC = b"rDlPtS\xcd\xe6\xd7{\x0b*"  # loader table ID used since Inno Setup 5.1.5
CHUNK_MAGIC = b"zlb\x1a"
FILETIME = 132223104000000000  # 2020-01-01 00:00:00 UTC in 100 ns steps since 1601


def u8(v: int) -> bytes:
    return struct.pack("<B", v)


def u16(v: int) -> bytes:
    return struct.pack("<H", v)


def u32(v: int) -> bytes:
    return struct.pack("<I", v)


def u64(v: int) -> bytes:
    return struct.pack("<Q", v)


def string(v: str | bytes = b"") -> bytes:
    raw = v.encode("cp1252") if isinstance(v, str) else v
    return u32(len(raw)) + raw


def flags(count: int, *set_bits: int) -> bytes:
    """A Delphi set: one bit per possible flag, packed LSB first into ceil(count / 8) bytes;
    a 3-byte set is padded to 4 (Delphi's set alignment)."""
    value = sum(1 << bit for bit in set_bits)
    size = (count + 7) // 8
    return value.to_bytes(size, "little") + (b"\0" if size == 3 else b"")


def block(payload: bytes) -> bytes:
    """A setup-0 block, stored uncompressed: CRC32 of (size, compressed=0), then the payload in
    4096-byte pieces, each preceded by its own CRC32."""
    body = b"".join(u32(zlib.crc32(payload[i:i + 4096])) + payload[i:i + 4096]
                    for i in range(0, len(payload), 4096))
    head = u32(len(body)) + u8(0)
    return u32(zlib.crc32(head)) + head + body


NO_WINDOWS_LIMIT = (u16(0) + u8(0) + u8(0)) * 2 + u8(0) + u8(0)  # win 0.0, NT 0.0, NT SP 0.0


def setup_header(file_count: int, compressed: bool) -> bytes:
    strings = [
        "Demo", "Demo 1.0", "Demo", "",  # AppName, AppVerName, AppId, AppCopyright
        "", "", "", "", "", "1.0",  # publisher, its URL, support phone/URL, updates URL, version
        "{pf}\\Demo", "Demo",  # DefaultDirName, DefaultGroupName
        "setup",  # OutputBaseFilename
        "{app}", "", "",  # UninstallFilesDir, UninstallDisplayName, UninstallDisplayIcon
        "", "", "", "",  # AppMutex, DefaultUserInfoName/Org/Serial
        "", "", "", "",  # AppReadmeFile, AppContact, AppComments, AppModifyPath
        "yes", "yes",  # CreateUninstallRegKey, Uninstallable
        "", "",  # CloseApplicationsFilter, SetupMutex
        "", "", "",  # LicenseFile, InfoBeforeFile, InfoAfterFile (text)
        "",  # compiled [Code]
    ]
    out = b"".join(string(s) for s in strings)
    out += bytes(32)  # lead bytes of the code page (a set of 256 chars): none
    # counts: languages, messages, permissions, types, components, tasks, directories,
    # files, data entries, icons, ini, registry, deletes, uninstall deletes, runs, uninstall runs
    counts = [0, 0, 0, 0, 0, 0, 0, file_count, file_count, 0, 0, 0, 0, 0, 0, 0]
    out += b"".join(u32(c) for c in counts)
    out += NO_WINDOWS_LIMIT  # MinVersion
    out += NO_WINDOWS_LIMIT  # OnlyBelowVersion
    out += u32(0) + u32(0) + u32(0)  # BackColor, BackColor2, WizardImageBackColor
    out += bytes(20) + bytes(8)  # SHA-1 of the password, its salt: no password
    out += u64(0) + u32(1)  # ExtraDiskSpaceRequired, SlicesPerDisk
    out += u8(0)  # UninstallLogMode: append
    out += u8(0)  # DirExistsWarning: auto
    out += u8(0)  # PrivilegesRequired: none
    out += u8(0) + u8(0)  # ShowLanguageDialog: yes; LanguageDetectionMethod: UI language
    out += u8(1 if compressed else 0)  # Compression: 0 stored, 1 zlib, 2 bzip2, 3 lzma, 4 lzma2
    out += flags(4) + flags(4)  # ArchitecturesAllowed, ArchitecturesInstallIn64BitMode: any
    out += u8(0) + u8(0)  # DisableDirPage, DisableProgramGroupPage: auto
    out += u64(0)  # UninstallDisplaySize
    # 47 option flags in 5.5.6; set: CreateAppDir (bit 1), AllowCancelDuringInstall (33)
    out += flags(47, 1, 33)
    return out


def file_entry(destination: str, location: int) -> bytes:
    out = string("") + string(destination)  # Source (empty: embedded), DestName
    out += string("") + string("")  # FontInstall, StrongAssemblyName
    out += string("") * 6  # Components, Tasks, Languages, Check, AfterInstall, BeforeInstall
    out += NO_WINDOWS_LIMIT * 2  # MinVersion, OnlyBelowVersion
    out += u32(location)  # index of the data entry holding the bytes
    out += u32(0)  # Attribs: none given
    out += u64(0)  # ExternalSize (only for external files)
    out += struct.pack("<h", -1)  # Permissions index: none
    out += flags(32)  # 32 [Files] Flags in 5.5.6: none set
    out += u8(0)  # FileType: user file
    return out


def data_entry(chunk_size: int, offset: int, data: bytes, compressed: bool) -> bytes:
    out = u32(0) + u32(0)  # FirstSlice, LastSlice: the one embedded slice
    out += u32(0)  # StartOffset of the chunk, from the start of setup-1
    out += u64(offset)  # offset of this file inside the decompressed chunk
    out += u64(len(data)) + u64(chunk_size)  # OriginalSize, ChunkCompressedSize
    out += hashlib.sha1(data).digest()  # checked by innoextract after extraction
    out += struct.pack("<q", FILETIME)  # TimeStamp
    out += u32(0) + u32(0)  # FileVersionMS/LS
    # 9 flags in 5.5.6: VersionInfoValid, VersionInfoNotValid (1), TimeStampInUTC (2),
    # IsUninstallerExe, CallInstructionOptimized, Touch, ChunkEncrypted, ChunkCompressed (7),
    # SolidBreak (8: this file starts the chunk)
    bits = [1, 2] + ([7] if compressed else []) + ([] if offset else [8])
    out += flags(9, *bits)
    return out


def build(files: dict[str, bytes] | list[tuple[str, bytes]], compressed: bool = True) -> bytes:
    """The installer for `files` ({path under {app}: contents}, or (path, contents) pairs, which
    may repeat a path as a per-language or per-architecture [Files] line does); innoextract
    writes each one to app/<path>. Deterministic: the same files give the same bytes."""
    pairs = list(files.items()) if isinstance(files, dict) else list(files)
    names = [name for name, _ in pairs]
    datas = [data for _, data in pairs]
    solid = b"".join(datas)
    chunk = zlib.compress(solid, 9) if compressed else solid
    offsets = [sum(len(d) for d in datas[:i]) for i in range(len(datas))]

    primary = setup_header(len(names), compressed)
    primary += b"".join(file_entry("{app}\\" + n.replace("/", "\\"), i)
                        for i, n in enumerate(names))
    primary += string("") + string("")  # WizardImage, WizardSmallImage (bitmaps): none
    if compressed:
        primary += string("")  # the zlib decompressor DLL (only the real setup program runs it)
    secondary = b"".join(data_entry(len(chunk), offsets[i], data, compressed)
                         for i, data in enumerate(datas))
    setup0 = DATA_VERSION.ljust(64, b"\0") + block(primary) + block(secondary)
    setup1 = CHUNK_MAGIC + chunk

    table_at = 0x40
    header_at = table_at + 12 + 4 * 8
    data_at = header_at + len(setup0)
    total = data_at + len(setup1)
    # Loader table: ID, revision 1, total size, then the setup program (none: offset 0, size 0,
    # CRC 0), the offsets of setup-0 and setup-1; then a CRC32 of the table up to here.
    # Installers since 5.1.5 keep it in PE resource 11111; innoextract first follows the pointer
    # at 0x30 that older loaders used, which needs no PE structure at all.
    table = LOADER_MAGIC + u32(1) + u32(total) + u32(0) + u32(0) + u32(0)
    table += u32(header_at) + u32(data_at)
    table += u32(zlib.crc32(table))
    stub = b"MZ".ljust(0x30, b"\0") + b"Inno" + u32(table_at) + u32(table_at ^ 0xFFFFFFFF)
    image = stub.ljust(table_at, b"\0") + table + setup0 + setup1
    assert len(image) == total
    return image
