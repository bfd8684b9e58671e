"""Progress while an input unpacks: shown on a terminal's stderr, never in a pipe or a log.

Driven through a real pseudo-terminal (the `pty` module) against a generated tar that takes
seconds to unpack; the input's name carries an escape sequence, which must reach the terminal
escaped.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from extract_fixtures import many_files_tar

from provenance.commands.scan import _DelayedProgress

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "fw\x1b[2J.tar"  # a clear-screen sequence in the input's own name


def _command(archive: Path) -> list[str]:
    return [sys.executable, "-c", "from provenance.cli import main; main()", "scan",
            "--no-cache", "--jobs", "1", str(archive)]


def _env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp / "cache"),
           "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    return env


def _on_a_terminal(archive: Path, env: dict[str, str]) -> tuple[int, bytes]:
    """Run the scan with stderr on a pty; everything the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 140, 0, 0))
    proc = subprocess.Popen(_command(archive), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the last holder of the terminal has gone
                    break
                if not chunk:
                    break
                received += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return proc.returncode, bytes(received)


def test_progress_on_a_terminal_and_none_in_a_pipe(tmp_path: Path) -> None:
    # enough files that unpacking outlasts the display's 0.7 s delay on a fast machine too
    archive = many_files_tar(tmp_path / HOSTILE, 8000)
    env = _env(tmp_path)
    code, seen = _on_a_terminal(archive, env)
    assert code == 0, seen[-2000:]
    assert b"unpacking " in seen, seen[-2000:]
    assert b" files, " in seen and b" MB" in seen
    assert b"fw\\x1b[2J.tar" in seen  # shown escaped...
    assert b"\x1b[2J" not in seen  # ...never as the clear-screen it spells
    # the same scan into a pipe (a CI log): not a byte of progress
    piped = subprocess.run(_command(archive), stdin=subprocess.DEVNULL, capture_output=True,
                           env=env, timeout=240, check=False)
    assert piped.returncode == 0
    assert piped.stderr == b""
    assert b"verdict" in piped.stdout  # the summary still goes to stdout


def test_unpacking_updates_are_rate_limited() -> None:
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    progress = _DelayedProgress(console)
    progress.DELAY = 0.0
    shown: list[str] = []
    progress._show = lambda text, done, total: shown.append(text)  # type: ignore[method-assign]
    started = time.monotonic()
    for i in range(20_000):
        progress.unpacking("fw.bin!/rootfs.squashfs", i, i * 4096)
    elapsed = time.monotonic() - started
    assert 1 <= len(shown) <= elapsed / _DelayedProgress.EVERY + 2
    assert shown[0].startswith("unpacking fw.bin!/rootfs.squashfs: 0 files, 0.0 MB")


def test_a_long_or_hostile_location_is_cut_and_escaped() -> None:
    from rich.console import Console

    progress = _DelayedProgress(Console(file=io.StringIO(), force_terminal=True))
    progress.DELAY = 0.0
    shown: list[str] = []
    progress._show = lambda text, done, total: shown.append(text)  # type: ignore[method-assign]
    progress.unpacking("a/" * 100 + "evil\x1b]0;title\x07.img", 3, 2_500_000)
    [line] = shown
    assert "\x1b" not in line and "\x07" not in line
    assert line.endswith("evil\\x1b]0;title\\x07.img: 3 files, 2.5 MB")
    assert "…" in line and len(line) < 100
