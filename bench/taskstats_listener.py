"""How many exits per second the exit listener takes without losing one.

Run as root: ``python bench/taskstats_listener.py [--seconds S] [--rates R,R,...]``.

For each offered rate, one forking process per CPU (pinned; Perl when it is
installed, as it forks several times faster than Python) creates
short-lived children at its share of the rate for ``--seconds``; the
listener (``ExitListener``, one socket per CPU, in this process) reads all
the while. The table shows the exit rate actually reached, how many of the
children's exit records arrived, and what the listener counted as lost.
A last row offers as many exits as the machine can fork, and one row uses
the kernel's default receive buffer instead of nlwire's 8 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

from nlwire.taskstats import ExitListener
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


def run(
    rate: float, seconds: float, cpus: list[int], rcvbuf: int
) -> tuple[float, int, int, int, float]:
    """Offer ``rate`` exits/s (0: as fast as possible).

    Returns the rate reached, records received, exits made, records the
    listener counted lost, and the listener's CPU use in % of one CPU.
    """
    with ExitListener(rcvbuf=rcvbuf) as listener:
        share = rate / len(cpus)
        forkers = [
            subprocess.Popen(
                [
                    "taskset",
                    "-c",
                    str(cpu),
                    sys.executable,
                    "-c",
                    FORKER,
                    str(share),
                    str(seconds),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for cpu in cpus
        ]
        parents = {forker.pid for forker in forkers}
        seen, cpu_start, wall_start = 0, time.process_time(), time.monotonic()
        while any(forker.poll() is None for forker in forkers):
            seen += sum(1 for r in listener.poll(0.2) if r.stats.ac_ppid in parents)
        reports = [forker.communicate()[0].split() for forker in forkers]
        made = sum(int(report[0]) for report in reports)
        elapsed = max(float(report[1]) for report in reports)
        deadline = time.monotonic() + 2
        while seen < made and time.monotonic() < deadline:
            seen += sum(1 for r in listener.poll(0.2) if r.stats.ac_ppid in parents)
        cpu = (time.process_time() - cpu_start) / (time.monotonic() - wall_start) * 100
        return made / elapsed, seen, made, listener.lost, cpu


def _forker() -> list[str]:
    if shutil.which("perl"):
        return ["perl", "-e", PERL_FORKER]
    return [sys.executable, "-c", FORKER]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each run")
    parser.add_argument("--rates", default="1000,2500,5000", help="offered exits/s")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("taskstats_listener: needs root (CAP_NET_ADMIN)", file=sys.stderr)
        return 1

    cpus = parse_cpulist(online_cpus())
    rows = [(f"{rate} /s", float(rate), 8 << 20) for rate in map(int, args.rates.split(","))]
    rows.append(("as fast as it forks", 0.0, 8 << 20))
    rows.append(("as fast, 208 KiB buffer", 0.0, 212_992))
    print(f"{len(cpus)} CPUs, one forker per CPU, {args.seconds:.0f} s per run\n")
    print(
        f"{'offered':<26}{'exits/s':>10}{'made':>9}{'received':>10}{'lost':>8}"
        f"{'zero loss':>11}{'listener CPU':>14}"
    )
    for name, rate, rcvbuf in rows:
        achieved, seen, made, lost, cost = run(rate, args.seconds, cpus, rcvbuf)
        verdict = "yes" if seen == made and lost == 0 else "no"
        print(
            f"{name:<26}{achieved:>10,.0f}{made:>9}{seen:>10}{lost:>8}{verdict:>11}{cost:>13.0f}%"
        )
    print("\nlistener CPU: the reading process's CPU time in % of one CPU during the run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
