"""``nlwire top`` in a real terminal: tmux at 80x24, keys sent, the screen read back.

This is what a person over ssh sees: the test starts the screen in a
detached tmux session on a private tmux server, types keys into it and
reads the pane as text.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

NLWIRE = str(Path(sys.executable).with_name("nlwire"))
SPIN = "while :; do :; done"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux session on a private server."""

    def __init__(self, command: list[str], width: int, height: int) -> None:
        self.server = f"nlwire-test-{os.getpid()}"
        self.run(
            "new-session", "-d", "-s", "top", "-x", str(width), "-y", str(height),
            " ".join(command),
        )  # fmt: skip

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.server, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "top")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "top", *keys)

    def alive(self) -> bool:
        done = subprocess.run(
            ["tmux", "-L", self.server, "has-session", "-t", "top"],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def wait_for(self, check: Callable[[str], bool], timeout: float = 10.0) -> str:
        """Return the screen once ``check`` accepts it; fail after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"the screen never showed what was expected:\n{screen}")

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.server, "kill-server"], capture_output=True, check=False
        )


@pytest.fixture
def spinner() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sh", "-c", SPIN])
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal([NLWIRE, "top"], 80, 24)
    yield term
    term.close()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def table_lines(screen: str) -> list[str]:
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("PID"))
    return lines[start:]


def test_top_in_80x24_filters_sorts_helps_resizes_and_quits(
    terminal: Terminal, spinner: subprocess.Popen[bytes]
) -> None:
    # 1. The screen comes up within 80x24 with the header, table and exits pane.
    screen = terminal.wait_for(lambda s: "COMMAND" in s and "Recent exits" in s)
    lines = screen.splitlines()
    assert len(lines) <= 24
    assert all(len(line) <= 80 for line in lines)
    assert lines[0].startswith("nlwire top ")
    titles = table_lines(screen)[0].split()
    assert titles[:8] == ["PID", "USER", "CPU%", "READ/s", "WRITE/s", "CPUW%", "IOW%", "SWAP%"]
    assert "CMPCT%" not in screen  # low-priority columns hidden at 80 columns

    # 2. Filter to the spinner's pid: its row alone, busy on the CPU.
    terminal.keys("/")
    terminal.wait_for(lambda s: "filter by command line or pid" in s)
    terminal.keys(str(spinner.pid), "Enter")

    def spinner_busy(s: str) -> bool:
        rows = [line.split() for line in table_lines(s)[1:] if line.strip()]
        # A row caught half drawn (tmux reads the pane mid-update) is not there yet.
        mine = [row for row in rows if len(row) > 2 and row[0] == str(spinner.pid)]
        return bool(mine) and _number(mine[0][2]) > 30.0  # busy (the machine may be shared)

    screen = terminal.wait_for(spinner_busy)
    assert f"filter '{spinner.pid}'" in screen
    assert f"sh -c {SPIN}"[:15] in screen  # the command, cut to fit 80 columns

    # 3. Thread view and the help screen.
    terminal.keys("t")
    terminal.wait_for(lambda s: "  threads  " in s)
    terminal.keys("?")
    terminal.wait_for(lambda s: "Keys" in s and "only active tasks" in s)
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "Keys" not in s and "COMMAND" in s)

    # 4. A wider terminal shows the columns that were hidden.
    terminal.run("resize-window", "-t", "top", "-x", "132", "-y", "30")
    screen = terminal.wait_for(lambda s: "CMPCT%" in s)
    assert all(len(line) <= 132 for line in screen.splitlines())

    # 5. q quits and gives the terminal back.
    terminal.keys("q")
    deadline = time.monotonic() + 10
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not terminal.alive()
