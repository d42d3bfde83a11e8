"""The taskstats client against the real kernel (root, TASKSTATS v16 here)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from nlwire.taskstats import (
    NoSuchTask,
    TaskstatsClient,
    TaskstatsPermissionError,
    delayacct_enabled,
    set_delayacct,
)
from nlwire.taskstats.messages import parse_taskstats
from nlwire.taskstats.procfs import list_tids

ROOT = Path(__file__).parents[2]
THREADS = (
    "import threading, time\n"
    "def work():\n"
    "    sum(range(300000))\n"
    "    time.sleep(60)\n"
    "ts = [threading.Thread(target=work) for _ in range(3)]\n"
    "[t.start() for t in ts]\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def offsets_module() -> ModuleType:
    """The capture script: its offset table is independent of nlwire's decoder."""
    path = ROOT / "tests/data/taskstats/capture.py"
    spec = importlib.util.spec_from_file_location("taskstats_capture", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_stopped(pid: int) -> None:
    """Wait until ``pid`` (every thread) is really stopped, not just signalled."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states = [
            Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            for tid in list_tids(pid)
        ]
        if states and all(state == "T" for state in states):
            time.sleep(0.02)
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop")


@pytest.fixture
def stopped() -> Iterator[int]:
    """A stopped ``sleep``: its numbers cannot move while the test reads them."""
    child = subprocess.Popen(["sleep", "60"])
    time.sleep(0.05)
    os.kill(child.pid, signal.SIGSTOP)
    wait_stopped(child.pid)
    yield child.pid
    child.kill()
    child.wait()


@pytest.fixture
def threaded() -> Iterator[int]:
    """A stopped process with four threads."""
    child = subprocess.Popen([sys.executable, "-c", THREADS], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    os.kill(child.pid, signal.SIGSTOP)
    wait_stopped(child.pid)
    yield child.pid
    child.kill()
    child.wait()


def raw_reply(attr_type: int, ident: int) -> bytes:
    """Ask with a bare socket and hand-packed messages; return the reply."""
    capture = offsets_module()
    with capture.open_socket() as sock:
        family = capture.family_id(sock)
        return bytes(capture.query(sock, family, attr_type, ident, 7))


def test_pid_reply_matches_bare_socket_decode(stopped: int) -> None:
    capture = offsets_module()
    data = raw_reply(1, stopped)
    expected = capture.expected(data)
    reply = parse_taskstats(data, 0, len(data))
    assert reply.pid == expected["pid"] == stopped
    assert reply.stats is not None
    for name, value in expected["stats"].items():
        assert reply.stats.get(name) == value, name


def test_client_pid_reply_field_by_field(stopped: int) -> None:
    capture = offsets_module()
    with TaskstatsClient() as client:
        stats = client.stats_for_pid(stopped)
    expected = capture.expected(raw_reply(1, stopped))["stats"]
    # Elapsed and start times are computed at query time; all else is frozen.
    moving = {"ac_etime", "ac_tgetime", "ac_btime", "ac_btime64"}
    for name, value in expected.items():
        if name not in moving:
            assert stats.get(name) == value, name
    assert stats.ac_comm == "sleep" and stats.ac_pid == stopped
    assert abs((stats.ac_btime64 or 0) - expected["ac_btime64"]) <= 1


def test_tgid_sums_the_threads(threaded: int) -> None:
    tids = list_tids(threaded)
    assert len(tids) == 4
    with TaskstatsClient() as client:
        group = client.stats_for_tgid(threaded)
        threads = client.stats_for_pids(tids)
        swept = client.stats_for_tgids([threaded])
    assert sorted(threads) == tids
    assert group.nvcsw == sum(t.nvcsw or 0 for t in threads.values())
    assert group.cpu_run_virtual_total == sum(t.cpu_run_virtual_total for t in threads.values())
    assert group.cpu_count == sum(t.cpu_count for t in threads.values())
    # What the kernel leaves zero in a TGID reply.
    assert (group.ac_comm, group.ac_pid, group.hiwater_rss, group.read_char) == ("", 0, 0, 0)
    assert swept[threaded].nvcsw == group.nvcsw


def test_sweep_leaves_out_vanished_tasks(stopped: int) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    with TaskstatsClient(batch=3) as client:
        found = client.stats_for_pids([stopped, 0xFFFFFF00, os.getpid(), 1, 2])
    assert stopped in found and os.getpid() in found and 1 in found
    assert 0xFFFFFF00 not in found
    assert found[stopped].ac_comm == "sleep"


def test_full_sweep_of_every_thread() -> None:
    from nlwire.taskstats.procfs import list_all_tids

    tids = list_all_tids()
    with TaskstatsClient() as client:
        found = client.stats_for_pids(tids)
    assert len(found) >= len(tids) - 20  # tasks may exit meanwhile
    for tid, stats in found.items():
        assert stats.ac_pid == tid


def test_no_such_task() -> None:
    with TaskstatsClient() as client, pytest.raises(NoSuchTask) as info:
        client.stats_for_pid(0xFFFFFF00)
    assert str(info.value) == f"no such task: {0xFFFFFF00}"
    assert isinstance(info.value, ProcessLookupError)


def test_cgroupstats_v1_and_v2() -> None:
    v1, v2 = Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup/unified")
    if not v1.is_dir():
        pytest.skip("no cgroup v1 cpu hierarchy on this machine")
    with TaskstatsClient() as client:
        stats = client.cgroupstats(v1)
        assert stats.nr_sleeping + stats.nr_running > 0
        if v2.is_dir():
            with pytest.raises(ValueError, match="cgroup v1"):
                client.cgroupstats(v2)


def test_queries_work_in_a_network_namespace(netns: str) -> None:
    with TaskstatsClient(netns=netns) as client:
        assert client.stats_for_pid(os.getpid()).ac_pid == os.getpid()


def test_family_is_the_one_the_bare_socket_finds() -> None:
    capture = offsets_module()
    with capture.open_socket() as sock:
        family = capture.family_id(sock)
    with TaskstatsClient() as client:
        assert client.family == family


EPERM_SNIPPET = (
    "from nlwire.taskstats import TaskstatsClient, TaskstatsPermissionError\n"
    "try:\n"
    "    TaskstatsClient().stats_for_pid(1)\n"
    "except TaskstatsPermissionError as exc:\n"
    "    print('EPERM', isinstance(exc, PermissionError), exc)\n"
)


def without_net_admin(*command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as root minus CAP_NET_ADMIN (bounding set and all)."""
    if not Path("/usr/sbin/capsh").exists() and not _which("capsh"):
        pytest.skip("capsh (libcap2-bin) is not installed")
    shell = " ".join(_quote(part) for part in command)
    return subprocess.run(
        ["capsh", "--drop=cap_net_admin", "--", "-c", shell],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_eperm_without_cap_net_admin() -> None:
    result = without_net_admin(sys.executable, "-c", EPERM_SNIPPET)
    assert result.stdout.strip() == (
        "EPERM True taskstats needs CAP_NET_ADMIN in the initial user namespace"
    ), result.stderr


def test_cli_eperm_is_one_line() -> None:
    nlwire = str(Path(sys.executable).with_name("nlwire"))
    result = without_net_admin(nlwire, "taskstats", "pid", "1")
    assert result.returncode == 1
    assert result.stderr == "nlwire: taskstats needs CAP_NET_ADMIN in the initial user namespace\n"


def test_permission_error_type() -> None:
    assert issubclass(TaskstatsPermissionError, PermissionError)


def test_delayacct_switch(delayacct_on: None) -> None:
    assert delayacct_enabled()
    set_delayacct(False)
    assert not delayacct_enabled()
    set_delayacct(True)
    assert delayacct_enabled()


def _which(name: str) -> str | None:
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    return None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
