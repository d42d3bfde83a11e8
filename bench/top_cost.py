"""What ``nlwire top --batch`` costs at a 1 s interval with many threads present.

For each thread count (default ~1 000 and ~10 000 threads on the system), a
helper process starts the missing threads, then ``nlwire top --batch --json
--delay 1`` runs as a child. Its CPU time (user + system, the rusage figures
the kernel keeps in ``/proc/PID/stat``) is read after the first reports and
again after the last one: the CPU used between them over the wall time
between them is the steady cost, shown as percent of one core next to the
target. The start-up cost (imports, first sweeps) is shown apart, and so
is the CPU time of the whole run from the child's rusage (``wait4``).

The targets are for the usual case, threads that sleep. A second run has
every helper thread wake once a second: then no thread can be skipped and
every one is read at every interval; that row has no target and shows the
worst case.

Needs root (taskstats needs CAP_NET_ADMIN). Usage::

    python bench/top_cost.py [--threads 1000 10000] [--modes sleeping waking]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {1000: 2.0, 10000: 10.0}

HELPER = """
import sys, threading
threading.stack_size(64 * 1024)
stop = threading.Event()
count, waking = int(sys.argv[1]), sys.argv[2] == "waking"


def tick():
    while not stop.wait(1.0):
        pass


threads = [threading.Thread(target=tick if waking else stop.wait, daemon=True)
           for _ in range(count)]
for thread in threads:
    thread.start()
print("ready", flush=True)
sys.stdin.read()
"""


def count_threads() -> int:
    """Return the number of threads on the system now."""
    total = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                total += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                continue
    return total


def start_helper(extra: int, mode: str = "sleeping") -> subprocess.Popen[str] | None:
    """Start a process holding ``extra`` threads; wait until they run.

    ``mode`` "sleeping": the threads never wake; "waking": each wakes once a
    second, so every one of them must be read at every interval.
    """
    if extra <= 0:
        return None
    helper = subprocess.Popen(
        [sys.executable, "-c", HELPER, str(extra), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert helper.stdout is not None
    if helper.stdout.readline().strip() != "ready":
        raise SystemExit("the helper process could not start its threads")
    return helper


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time of process ``pid`` so far, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(target_threads: int, mode: str, skip: int, reports: int) -> dict[str, float]:
    """Measure the cost of top with about ``target_threads`` threads present.

    One run of ``skip + reports`` reports: the CPU time between the end of
    report ``skip`` and the last report, over the wall time between them, is
    the steady cost; what was used before report ``skip`` is the start-up.
    """
    helper = start_helper(target_threads - count_threads(), mode)
    try:
        present = count_threads()
        nlwire = Path(sys.executable).with_name("nlwire")
        command = [str(nlwire), "top", "--batch", "--json", "--delay", "1"]
        command += ["-n", str(skip + reports)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        for _ in range(skip):
            child.stdout.readline()
        start_cpu, start_wall = cpu_seconds(child.pid), time.monotonic()
        for _ in range(reports - 1):
            child.stdout.readline()
        end_cpu, end_wall = cpu_seconds(child.pid), time.monotonic()
        child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"nlwire top failed with wait status {status}")
    finally:
        if helper is not None:
            helper.kill()
            helper.wait()
    percent = 100.0 * (end_cpu - start_cpu) / (end_wall - start_wall)
    whole = usage.ru_utime + usage.ru_stime  # the whole run, start-up included
    return {"threads": present, "percent": percent, "startup": start_cpu, "whole": whole}


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--skip", type=int, default=2, help="reports before measuring")
    parser.add_argument("--reports", type=int, default=21, help="reports measured")
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["sleeping", "waking"],
        choices=["sleeping", "waking"],
        help="sleeping: helper threads never wake (the target case); waking: each wakes "
        "every second (the worst case: every thread is read every interval)",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("top_cost: needs root (taskstats needs CAP_NET_ADMIN)", file=sys.stderr)
        return 1

    print(
        f"{'threads':>8} {'helper threads':>15} {'top CPU, % of one core':>24} {'target':>8}"
        f" {'start-up s':>11} {'whole run s':>12}"
    )
    failed = False
    for wanted, mode in [(n, m) for m in args.modes for n in args.threads]:
        result = measure(wanted, mode, args.skip, args.reports)
        target = TARGETS.get(wanted) if mode == "sleeping" else None
        verdict = "" if target is None else f"<= {target:.0f} %"
        ok = target is None or result["percent"] <= target
        failed |= not ok
        print(
            f"{result['threads']:>8.0f} {mode:>15} {result['percent']:>22.2f} % {verdict:>8}"
            f" {result['startup']:>10.2f} {result['whole']:>12.2f}"
            f"  {'ok' if ok else 'OVER TARGET'}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
