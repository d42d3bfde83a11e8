"""The exit listener against the real kernel.

Other processes on the machine exit too; every test picks out its own
children by pid, and the loss test uses a second, lossless listener as the
truth for the same CPUs and sequence numbers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable

import pytest

from nlwire.taskstats import ExitListener, ExitRecord, ListenerError
from nlwire.taskstats.listener import NETNS_WARNING
from nlwire.taskstats.procfs import online_cpus, parse_cpulist
from nlwire.taskstats.stats import AFORK, AGROUP

THREADS = (
    "import threading, time, sys\n"
    "ts = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(3)]\n"
    "[t.start() for t in ts]\n"
    "[t.join() for t in ts]\n"
    "sys.exit(5)\n"
)


def fork_exits(count: int) -> dict[int, int]:
    """Fork ``count`` children that exit at once with code ``i % 256``; reap them."""
    codes: dict[int, int] = {}
    for i in range(count):
        pid = os.fork()
        if pid == 0:
            os._exit(i % 256)
        codes[pid] = i % 256
    for pid in codes:
        os.waitpid(pid, 0)
    return codes


def collect(
    listener: ExitListener, wanted: Iterable[int], timeout: float = 10.0
) -> dict[int, ExitRecord]:
    """Poll until a record for every pid in ``wanted`` arrived, or the timeout."""
    wanted, seen = set(wanted), {}
    deadline = time.monotonic() + timeout
    while wanted - seen.keys() and time.monotonic() < deadline:
        for record in listener.poll(0.2):
            seen[record.pid] = record
    return seen


def run_on_each_cpu(cpus: list[int]) -> list[int]:
    """Run one short process pinned to each CPU; return their pids."""
    pids = []
    for cpu in cpus:
        child = subprocess.Popen(["taskset", "-c", str(cpu), "true"])
        child.wait()
        pids.append(child.pid)
    return pids


def test_every_one_of_1000_short_processes() -> None:
    with ExitListener() as listener:
        codes = fork_exits(1000)
        seen = collect(listener, codes)
        assert listener.lost == 0
    assert set(codes) <= set(seen)
    for pid, code in codes.items():
        stats = seen[pid].stats
        assert stats.ac_exitcode == code << 8
        assert stats.ac_pid == pid
        assert stats.ac_flag is not None and stats.ac_flag & (AFORK | AGROUP) == AFORK | AGROUP


def test_last_thread_carries_the_process_record() -> None:
    with ExitListener() as listener:
        child = subprocess.Popen([sys.executable, "-c", THREADS])
        child.wait()
        deadline, records = time.monotonic() + 10, []
        while time.monotonic() < deadline:
            records += [r for r in listener.poll(0.2) if r.stats.ac_tgid == child.pid]
            if any(r.group_stats is not None for r in records):
                break
    last = [r for r in records if r.group_stats is not None]
    assert len(last) == 1
    record = last[0]
    assert record.pid == record.tgid == child.pid
    assert record.stats.ac_exitcode == 5 << 8
    assert record.group_stats is not None
    # The process-wide record sums what its four threads were scheduled.
    threads = [r for r in records if r.group_stats is None]
    assert len(threads) == 3
    total = sum(r.stats.cpu_count for r in records)
    assert record.group_stats.cpu_count == total


def test_forced_loss_is_counted_exactly() -> None:
    cpus = parse_cpulist(online_cpus())
    with ExitListener(rcvbuf=16 << 20) as truth, ExitListener(rcvbuf=1) as tiny:
        # 1. A burst while the tiny listener does not read: most records drop.
        codes = fork_exits(400)
        seen_tiny = list(tiny.poll(0.0))

        # 2. One more exit per CPU, so each CPU's gap shows in a later record.
        sentinels = run_on_each_cpu(cpus)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            seen_tiny += tiny.poll(0.2)
            if set(sentinels) <= {r.pid for r in seen_tiny}:
                break
        everything = list(collect(truth, [*codes, *sentinels]).values())
        everything += truth.poll(0.5)
        assert truth.lost == 0

    # 3. The truth: every record the lossless listener saw inside the tiny
    #    listener's window of sequence numbers, CPU by CPU.
    expected_lost = 0
    for cpu in cpus:
        mine = [r.seq for r in seen_tiny if r.cpu == cpu and r.seq is not None]
        if not mine:
            continue
        window = {
            r.seq for r in everything if r.cpu == cpu and r.seq is not None
            and min(mine) <= r.seq <= max(mine)
        }  # fmt: skip
        expected_lost += len(window) - len(set(mine))
    assert tiny.lost == expected_lost
    assert tiny.lost > 100
    assert tiny.overruns > 0


def test_registration_error_names_the_cause() -> None:
    with pytest.raises(ListenerError, match="names CPUs not present"):
        ExitListener("0-1000")


def test_warns_in_a_network_namespace(netns: str) -> None:
    with ExitListener("0", netns=netns) as listener:
        assert listener.warnings == [NETNS_WARNING]
    with ExitListener("0") as listener:
        assert listener.warnings == []


def test_non_initial_pid_namespace_is_explained() -> None:
    snippet = (
        "from nlwire.taskstats import ExitListener, ListenerError\n"
        "try:\n"
        "    ExitListener('0')\n"
        "except ListenerError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", snippet],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "non-initial PID namespace" in result.stdout, result.stderr


def test_fileno_is_readable_when_records_wait() -> None:
    import select

    with ExitListener() as listener:
        fork_exits(1)
        ready, _, _ = select.select([listener.fileno()], [], [], 5.0)
        assert ready == [listener.fileno()]
        assert listener.poll(0.0)
