"""How fast a taskstats sweep over every thread runs, against its references.

Run as root: ``python bench/taskstats_sweep.py [--rounds N]``. All numbers
come from one run on one machine and are printed as a table of tasks/s and
ratios to the bare Python loop:

- bare loop: a raw socket, one hand-packed GET per task, one ``recv_into``,
  no decoding at all (the floor any Python client stands on);
- bare pipelined: the same, but many GETs per datagram, still no decoding;
- nlwire sweep: ``TaskstatsClient.stats_for_pids`` with full decoding;
- nlwire one by one: ``stats_for_pid`` per task (ACKed single queries);
- pyroute2: ``TaskStats.get_pid_stat`` per task (on a subset: it is slow).

Then the decode cost of one v16 record, from a captured reply.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

from nlwire.taskstats import TaskstatsClient, decode_taskstats
from nlwire.taskstats.messages import CommandAttr, pack_get_batch, parse_stats
from nlwire.taskstats.procfs import list_all_tids

GET = struct.Struct("=IHHIIBBHHHI")
GOLDEN = Path(__file__).parents[1] / "tests/data/taskstats/golden.json"


def raw_socket() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
    sock.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE
    sock.bind((0, 0))
    return sock


def bare_loop(family: int, tids: list[int]) -> int:
    """One request, one reply, no decoding: the bare Python loop."""
    buffer = bytearray(65536)
    with raw_socket() as sock:
        for seq, tid in enumerate(tids, start=1):
            sock.send(GET.pack(28, family, 1, seq, 0, 1, 1, 0, 8, 1, tid))
            sock.recv_into(buffer)
    return len(tids)


def bare_pipelined(family: int, tids: list[int], batch: int = 128) -> int:
    """Many requests per datagram, replies read back, no decoding."""
    buffer = bytearray(65536)
    with raw_socket() as sock:
        for start in range(0, len(tids), batch):
            chunk = tids[start : start + batch]
            sock.send(pack_get_batch(family, start + 1, CommandAttr.PID, chunk))
            for _ in chunk:
                sock.recv_into(buffer)
    return len(tids)


def nlwire_sweep(client: TaskstatsClient, threads: list[int], repeat: int) -> int:
    """``repeat`` full sweeps; counts the records returned."""
    done = 0
    for _ in range(repeat):
        found = client.stats_for_pids(threads)
        # Read a few fields of every record, as a monitor would.
        total = sum(s.cpu_run_virtual_total + (s.read_bytes or 0) for s in found.values())
        done += len(found) if total >= 0 else 0
    return done


def nlwire_one_by_one(client: TaskstatsClient, tids: list[int]) -> int:
    done = 0
    for tid in tids:
        try:
            client.stats_for_pid(tid)
            done += 1
        except ProcessLookupError:
            pass
    return done


def pyroute2_loop(tids: list[int]) -> int:
    from pyroute2 import TaskStats

    done = 0
    with TaskStats() as ts:
        ts.bind()
        for tid in tids:
            try:
                ts.get_pid_stat(tid)
                done += 1
            except Exception:  # noqa: BLE001 - a vanished task; pyroute2 raises its own types
                pass
    return done


def best_rate(run: Callable[[], int], rounds: int) -> float:
    """Tasks per second of the best of ``rounds`` runs."""
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        count = run()
        best = max(best, count / (time.perf_counter() - start))
    return best


def decode_cost() -> tuple[float, float]:
    """Microseconds to decode one v16 struct, and one whole reply message."""
    data = bytes.fromhex(json.loads(GOLDEN.read_text())["pid_reply"]["hex"])
    number = 200_000
    struct_only = min(
        timeit.repeat(lambda: decode_taskstats(data, 36, 560), number=number, repeat=5)
    )
    message = min(
        timeit.repeat(lambda: parse_stats(data, 0, len(data), False), number=number, repeat=5)
    )
    return struct_only / number * 1e6, message / number * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="best of N runs (default 5)")
    parser.add_argument("--min-tasks", type=int, default=20_000, help="tasks per run")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("taskstats_sweep: needs root (CAP_NET_ADMIN)", file=sys.stderr)
        return 1

    threads = list_all_tids()
    repeat = max(1, args.min_tasks // len(threads))
    tids = threads * repeat
    subset = tids[: min(len(tids), 3000)]
    print(
        f"{len(threads)} threads on this machine, swept {repeat} times per run "
        f"({len(tids)} queries); best of {args.rounds} runs"
    )

    with TaskstatsClient() as client:
        family = client.family
        rows = [
            ("bare loop (no decode)", best_rate(lambda: bare_loop(family, tids), args.rounds)),
            ("bare pipelined (no decode)",
             best_rate(lambda: bare_pipelined(family, tids), args.rounds)),
            ("nlwire sweep (full decode)",
             best_rate(lambda: nlwire_sweep(client, threads, repeat), args.rounds)),
            ("nlwire stats_for_pid loop",
             best_rate(lambda: nlwire_one_by_one(client, subset), args.rounds)),
        ]  # fmt: skip
    rows.append(("pyroute2 get_pid_stat loop", best_rate(lambda: pyroute2_loop(subset), 2)))

    reference = rows[0][1]
    print(f"\n{'':<30}{'tasks/s':>12}{'vs bare loop':>14}")
    for name, rate in rows:
        print(f"{name:<30}{rate:>12,.0f}{rate / reference:>13.2f}x")
    struct_us, message_us = decode_cost()
    print(
        f"\ndecode one v16 struct taskstats: {struct_us:.2f} us; "
        f"one whole reply message: {message_us:.2f} us"
    )
    sweep = rows[2][1]
    print(
        f"target >= 150,000 tasks/s with full decode: {'met' if sweep >= 150_000 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
