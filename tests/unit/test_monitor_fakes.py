"""A fake task source and fake taskstats records for the sampler and the TUI tests.

The fake plays the kernel: a table of threads with counters the test moves
forward, exit records the test queues, and a clock the test advances.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from nlwire.taskstats.listener import ExitRecord
from nlwire.taskstats.monitor import Sampler
from nlwire.taskstats.stats import FIELDS, TaskStats, decode_taskstats

SECOND_NS = 1_000_000_000


@dataclass
class FakeStats:
    """The fields of a struct taskstats the sampler reads, to move forward.

    :meth:`encode` turns it into the real thing: a version-16 struct, packed
    and decoded like the kernel's.
    """

    cpu_run_virtual_total: int = 0
    cpu_delay_total: int = 0
    blkio_delay_total: int = 0
    swapin_delay_total: int = 0
    freepages_delay_total: int | None = 0
    thrashing_delay_total: int | None = 0
    compact_delay_total: int | None = 0
    wpcopy_delay_total: int | None = 0
    irq_delay_total: int | None = 0
    read_bytes: int | None = 0
    write_bytes: int | None = 0
    nvcsw: int | None = 0
    nivcsw: int | None = 0
    hiwater_rss: int | None = 0
    ac_comm: str | None = "task"
    ac_uid: int | None = 0
    ac_btime: int | None = 1000
    ac_btime64: int | None = 1000
    ac_etime: int | None = 3_600_000_000
    ac_tgid: int | None = 0
    ac_tgetime: int | None = 0
    ac_exitcode: int | None = 0
    ac_flag: int | None = 0

    def encode(self) -> TaskStats:
        """Return these values as a decoded version-16 ``struct taskstats``."""
        values = dataclasses.asdict(self)
        data = bytearray(560)
        for info in FIELDS:
            value = values.get(info.name)
            if info.since > 16 or value is None:
                continue
            if isinstance(value, str):
                value = value.encode()
            struct.pack_into("=" + info.code, data, info.offset, value)
        struct.pack_into("=H", data, 0, 16)
        return decode_taskstats(bytes(data))


@dataclass
class FakeSource:
    """A kernel and /proc in a dictionary."""

    threads: dict[int, tuple[int, FakeStats]] = field(default_factory=dict)
    cmdlines: dict[int, str] = field(default_factory=dict)
    exits: list[ExitRecord] = field(default_factory=list)
    lost: int = 0
    cmdline_reads: int = 0
    hidden: set[int] = field(default_factory=set)
    exited_cpu: dict[int, int] = field(default_factory=dict)
    listed: list[int] = field(default_factory=list)
    read: list[list[int]] = field(default_factory=list)

    def add(self, tid: int, tgid: int | None = None, cmdline: str = "", **fields: object) -> None:
        """Add a thread; its process's command line if given."""
        tgid = tid if tgid is None else tgid
        stats = FakeStats(ac_tgid=tgid, **fields)  # type: ignore[arg-type]
        self.threads[tid] = (tgid, stats)
        if cmdline:
            self.cmdlines[tgid] = cmdline

    def advance(self, tid: int, **deltas: int) -> None:
        """Move counters of thread ``tid`` forward by ``deltas``."""
        stats = self.threads[tid][1]
        for name, amount in deltas.items():
            setattr(stats, name, (getattr(stats, name) or 0) + amount)

    def exit(self, tid: int, status: int = 0, *, last: bool = True) -> None:
        """End thread ``tid`` and queue its exit record (AGROUP when ``last``)."""
        tgid, stats = self.threads.pop(tid)
        self.exited_cpu[tgid] = self.exited_cpu.get(tgid, 0) + stats.cpu_run_virtual_total
        final = dataclasses.replace(stats, ac_exitcode=status, ac_flag=0x20 if last else 0)
        self.exits.append(ExitRecord(pid=tid, stats=final.encode()))
        if last:
            self.cmdlines.pop(tgid, None)

    def list_processes(self) -> list[int]:
        """Every process id."""
        return sorted({tgid for tgid, _ in self.threads.values()})

    def list_threads(self, tgid: int) -> list[int]:
        """The thread ids of ``tgid``."""
        self.listed.append(tgid)
        return sorted(tid for tid, (owner, _) in self.threads.items() if owner == tgid)

    def read_process_cpu(self, tgids: Iterable[int]) -> dict[int, int]:
        """Summed CPU time per process, including threads that exited."""
        sums = dict(self.exited_cpu)
        for tgid, stats in self.threads.values():
            sums[tgid] = sums.get(tgid, 0) + stats.cpu_run_virtual_total
        return {tgid: sums[tgid] for tgid in tgids if tgid in sums}

    def read_threads(self, tids: Iterable[int]) -> dict[int, TaskStats]:
        """The records of ``tids``; hidden ones vanish like ESRCH."""
        tids = list(tids)
        self.read.append(tids)
        return {
            tid: self.threads[tid][1].encode()
            for tid in tids
            if tid in self.threads and tid not in self.hidden
        }

    def read_exits(self) -> list[ExitRecord]:
        """Exit records queued since the last call."""
        queued, self.exits = self.exits, []
        return queued

    def exits_lost(self) -> int:
        """Exit records lost."""
        return self.lost

    def read_cmdline(self, tgid: int) -> str | None:
        """The command line of ``tgid``."""
        self.cmdline_reads += 1
        return self.cmdlines.get(tgid)


@dataclass
class FakeClock:
    """Monotonic and wall clocks the test moves."""

    now: float = 100.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now


def make_sampler(source: FakeSource, clock: FakeClock, max_exits: int = 200) -> Sampler:
    """A sampler on the fakes, with uids named ``user<uid>``."""
    return Sampler(
        source,
        clock=clock,
        wall_clock=clock.wall,
        max_exits=max_exits,
        user_name=lambda uid: "root" if uid == 0 else f"user{uid}",
    )
