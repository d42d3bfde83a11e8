"""``nlwire taskstats`` against the real kernel, run as a user would run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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
    assert nlwire("taskstats", "delayacct").stdout.startswith("delay accounting is on\n")
    result = nlwire("taskstats", "delayacct", "off")
    assert result.stdout.startswith("delay accounting is off\n")
    assert Path("/proc/sys/kernel/task_delayacct").read_text().strip() == "0"


def test_listen_json_and_clean_ctrl_c() -> None:
    listener = subprocess.Popen(
        [NLWIRE, "taskstats", "listen", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)  # let it register
    child = subprocess.Popen(["sh", "-c", "exit 9"])
    child.wait()
    time.sleep(0.5)
    listener.send_signal(signal.SIGINT)
    out, err = listener.communicate(timeout=30)
    assert listener.returncode == 0
    records = [json.loads(line) for line in out.splitlines()]
    mine = [r for r in records if r["pid"] == child.pid]
    assert len(mine) == 1
    assert mine[0]["stats"]["ac_exitcode"] == 9 << 8
    assert mine[0]["stats"]["ac_comm"] == "sh"
    assert "exit records received, 0 lost" in err
    assert "Traceback" not in err


def test_listen_yaml_documents() -> None:
    listener = subprocess.Popen(
        [NLWIRE, "taskstats", "listen", "--cpus", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    child = subprocess.Popen(["taskset", "-c", "0", "sh", "-c", "exit 4"])
    child.wait()
    time.sleep(0.5)
    listener.send_signal(signal.SIGINT)
    out, _err = listener.communicate(timeout=30)
    documents = out.split("---\n")
    mine = [d for d in documents if f"pid: {child.pid}\n" in d]
    assert len(mine) == 1
    assert "status: exited 4\n" in mine[0]
    assert "cpu: 0\n" in mine[0]
