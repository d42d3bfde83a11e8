"""How many exits per second the exit listener takes without losing one.

Run as root: ``python bench/taskstats_listener.py [--seconds S] [--rates R,R,...]``.

For each offered rate, one forking process per CPU (pinned; Perl when it is
installed, as it forks several times faster than Python) creates
short-lived children at its share of the rate for ``--seconds``; the
listener (``ExitListener``, one socket per CPU, in this process) reads all
the while. The table shows the exit rate actually reached, how many of the
children's exit records arrived, and what the listener counted as lost.
Rows with "max" offer as many exits as the makers can produce. Thread exits
(a thread started and joined in a loop) are much cheaper to make than
process exits, so they reach higher rates; each is one exit record all the
same. The last row uses the kernel's default receive buffer instead of
nlwire's 8 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

from nlwire.taskstats import ExitListener, ExitRecord
from nlwire.taskstats.procfs import online_cpus, parse_cpulist

# Perl forks a small process much faster than Python does; both are paced
# the same way and print "<children made> <seconds>".
PERL_FORKER = """
use Time::HiRes qw(time sleep);
$SIG{CHLD} = "IGNORE";
my ($rate, $seconds) = @ARGV;
my $start = time();
my $done = 0;
while (1) {
    my $now = time() - $start;
    last if $now >= $seconds;
    if ($rate > 0 && $done > $now * $rate) { sleep(0.0005); next; }
    my $pid = fork();
    if ($pid == 0) { exit 0; }
    $done++;
}
printf("%d %f\\n", $done, time() - $start);
"""

FORKER = """
import os, signal, sys, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
done = 0
while True:
    now = time.monotonic() - start
    if now >= seconds:
        break
    if rate > 0 and done > now * rate:
        time.sleep(0.0005)
        continue
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    done += 1
print(done, time.monotonic() - start, flush=True)
"""


THREADER = """
import sys, threading, time
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
done = 0
while True:
    now = time.monotonic() - start
    if now >= seconds:
        break
    if rate > 0 and done > now * rate:
        time.sleep(0.0005)
        continue
    thread = threading.Thread(target=int)
    thread.start()
    thread.join()
    done += 1
print(done, time.monotonic() - start, flush=True)
"""


def generator(kind: str) -> list[str]:
    """The command that makes exits of ``kind``: "process" or "thread"."""
    if kind == "thread":
        return [sys.executable, "-c", THREADER]
    if shutil.which("perl"):
        return ["perl", "-e", PERL_FORKER]
    return [sys.executable, "-c", FORKER]


def run(
    kind: str, rate: float, seconds: float, cpus: list[int], rcvbuf: int
) -> tuple[float, int, int, int, float]:
    """Offer ``rate`` exits/s of ``kind`` (0: as fast as possible).

    Returns the rate reached, records received, exits made, records the
    listener counted lost, and the listener's CPU use in % of one CPU.
    """
    with ExitListener(rcvbuf=rcvbuf) as listener:
        share = str(rate / len(cpus))
        makers = [
            subprocess.Popen(
                ["taskset", "-c", str(cpu), *generator(kind), share, str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for cpu in cpus
        ]
        # A child process has the maker as parent; a thread has it as group.
        makers_pids = {maker.pid for maker in makers}

        def ours(records: list[ExitRecord]) -> int:
            return sum(
                1
                for r in records
                if r.pid not in makers_pids
                and (r.stats.ac_ppid in makers_pids or r.stats.ac_tgid in makers_pids)
            )

        seen, cpu_start, wall_start = 0, time.process_time(), time.monotonic()
        while any(maker.poll() is None for maker in makers):
            seen += ours(listener.poll(0.2))
        reports = [maker.communicate()[0].split() for maker in makers]
        made = sum(int(report[0]) for report in reports)
        elapsed = max(float(report[1]) for report in reports)
        deadline = time.monotonic() + 2
        while seen < made and time.monotonic() < deadline:
            seen += ours(listener.poll(0.2))
        cpu = (time.process_time() - cpu_start) / (time.monotonic() - wall_start) * 100
        return made / elapsed, seen, made, listener.lost, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each run")
    parser.add_argument("--rates", default="1000,2500,5000", help="offered process exits/s")
    parser.add_argument("--thread-rates", default="5000,10000", help="offered thread exits/s")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("taskstats_listener: needs root (CAP_NET_ADMIN)", file=sys.stderr)
        return 1

    cpus = parse_cpulist(online_cpus())
    big = 8 << 20
    rows = [("process", float(rate), big) for rate in map(int, args.rates.split(","))]
    rows.append(("process", 0.0, big))
    rows += [("thread", float(rate), big) for rate in map(int, args.thread_rates.split(","))]
    rows += [("thread", 0.0, big), ("thread", 0.0, 212_992)]
    print(f"{len(cpus)} CPUs, one exit maker per CPU, {args.seconds:.0f} s per run\n")
    print(
        f"{'exits of':<10}{'offered':>10}{'buffer':>9}{'exits/s':>10}{'made':>9}"
        f"{'received':>10}{'lost':>7}{'zero loss':>11}{'listener CPU':>14}"
    )
    for kind, rate, rcvbuf in rows:
        achieved, seen, made, lost, cpu = run(kind, rate, args.seconds, cpus, rcvbuf)
        verdict = "yes" if seen == made and lost == 0 else "no"
        offered = f"{rate:,.0f}" if rate else "max"
        print(
            f"{kind:<10}{offered:>10}{rcvbuf >> 10:>6} KiB{achieved:>10,.0f}{made:>9}"
            f"{seen:>10}{lost:>7}{verdict:>11}{cpu:>13.0f}%"
        )
    print("\nlistener CPU: the reading process's CPU time in % of one CPU during the run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
