"""``nlwire taskstats`` against the real kernel, run as a user would run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

NLWIRE = str(Path(sys.executable).with_name("nlwire"))


def nlwire(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NLWIRE, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def sleeper() -> Iterator[int]:
    child = subprocess.Popen(["sleep", "60"])
    time.sleep(0.05)
    yield child.pid
    child.kill()
    child.wait()


def test_pid_json_has_every_field_and_version(sleeper: int) -> None:
    result = nlwire("taskstats", "pid", str(sleeper), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["version"] == 16
    assert record["ac_pid"] == sleeper and record["ac_comm"] == "sleep"
    assert "irq_delay_min" in record and "cpu_delay_max_ts" not in record
    assert record["implausible_delays"] == []


def test_pid_text(sleeper: int) -> None:
    result = nlwire("taskstats", "pid", str(sleeper))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"pid {sleeper} (sleep)  taskstats version 16\n")


def test_tgid_text_fills_from_proc() -> None:
    result = nlwire("taskstats", "tgid", str(os.getpid()))
    assert result.returncode == 0, result.stderr
    assert "from /proc" in result.stdout


def test_no_such_task_is_one_line() -> None:
    result = nlwire("taskstats", "pid", str(0x7FFFFFF0))
    assert result.returncode == 1
    assert result.stderr == f"nlwire: no such task: {0x7FFFFFF0}\n"


def test_cgroup_json() -> None:
    if not Path("/sys/fs/cgroup/cpu").is_dir():
        pytest.skip("no cgroup v1 cpu hierarchy")
    result = nlwire("taskstats", "cgroup", "/sys/fs/cgroup/cpu", "--json")
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {
        "nr_sleeping", "nr_running", "nr_stopped", "nr_uninterruptible", "nr_io_wait",
    }  # fmt: skip


def test_cgroup_v2_is_refused_clearly() -> None:
    if not Path("/sys/fs/cgroup/unified").is_dir():
        pytest.skip("no cgroup v2 mount at /sys/fs/cgroup/unified")
    result = nlwire("taskstats", "cgroup", "/sys/fs/cgroup/unified")
    assert result.returncode == 1
    assert "cgroup v1 hierarchies only" in result.stderr
    assert result.stderr.count("\n") == 1


def test_delayacct_on_and_off(delayacct_on: None) -> None:
    # Each command reads the switch back right after setting it.
    assert nlwire("taskstats", "delayacct", "off").stdout.startswith("delay accounting is off\n")
    assert nlwire("taskstats", "delayacct", "on").stdout.startswith("delay accounting is on\n")


class Listening:
    """``nlwire taskstats listen ARGS`` in the background, its output collected."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [NLWIRE, "taskstats", "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for_exit_of(self, command: list[str], marker: str) -> int:
        """Run ``command`` until its exit shows in the output (the listener may
        still be registering); return the pid that showed."""
        deadline = time.monotonic() + 30
        pids: list[int] = []
        while time.monotonic() < deadline:
            child = subprocess.Popen(command)
            child.wait()
            pids.append(child.pid)
            time.sleep(0.3)
            for pid in pids:
                if any(marker.format(pid=pid) in line for line in list(self.lines)):
                    return pid
        raise AssertionError(f"no exit record of {command} in the output")

    def stop(self, signum: int = signal.SIGINT) -> str:
        self.process.send_signal(signum)
        _out, err = self.process.communicate(timeout=30)
        self._reader.join(timeout=10)
        assert self.process.returncode == 0
        return err


def test_listen_json_and_clean_ctrl_c() -> None:
    listening = Listening("--json")
    pid = listening.wait_for_exit_of(["sh", "-c", "exit 9"], '"pid":{pid},')
    err = listening.stop()
    records = [json.loads(line) for line in listening.lines]
    (mine,) = [r for r in records if r["pid"] == pid]
    assert mine["stats"]["ac_exitcode"] == 9 << 8
    assert mine["stats"]["ac_comm"] == "sh"
    assert "exit records received, 0 lost" in err
    assert "Traceback" not in err


def test_listen_yaml_documents() -> None:
    listening = Listening("--cpus", "0")
    command = ["taskset", "-c", "0", "sh", "-c", "exit 4"]
    pid = listening.wait_for_exit_of(command, "pid: {pid}\n")
    err = listening.stop(signal.SIGTERM)  # ends as cleanly as Ctrl-C
    assert "exit records received" in err
    documents = "".join(listening.lines).split("---\n")
    (mine,) = [d for d in documents if f"pid: {pid}\n" in d]
    assert "status: exited 4\n" in mine
    assert "cpu: 0\n" in mine
